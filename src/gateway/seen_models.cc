#include "gateway/seen_models.h"

#include <algorithm>

namespace sheepdog::gateway {

void SeenModels::record(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes ||
      std::any_of(name.begin(), name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; })) {
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (names_.size() < capacity_ && names_.find(name) == names_.end()) {
    names_.emplace(name);
  }
}

std::vector<std::string> SeenModels::names() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {names_.begin(), names_.end()};
}

bool SeenModels::contains(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return names_.find(name) != names_.end();
}

}  // namespace sheepdog::gateway
