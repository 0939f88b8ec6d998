#include "gateway/model_labels.h"

namespace sheepdog::gateway {
namespace {

// Printable ASCII without quotes or backslashes: a model name, not an escape exercise.
bool labelable(std::string_view model) {
  if (model.empty() || model.size() > ModelLabels::kMaxLabelBytes) {
    return false;
  }
  for (char c : model) {
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string ModelLabels::label(std::string_view model) {
  if (!labelable(model)) {
    return std::string(kOther);
  }
  std::string name(model);
  std::lock_guard lock(mu_);
  if (labels_.count(name) > 0) {
    return name;
  }
  if (labels_.size() >= capacity_) {
    return std::string(kOther);
  }
  labels_.insert(name);
  return name;
}

size_t ModelLabels::size() const {
  std::lock_guard lock(mu_);
  return labels_.size();
}

}  // namespace sheepdog::gateway
