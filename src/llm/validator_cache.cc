#include "llm/validator_cache.h"

#include <array>
#include <boost/json/serialize.hpp>
#include <string_view>

namespace sheepdog::llm {
namespace {

constexpr std::array<std::string_view, 4> kKeyFields = {"tools", "tool_choice",
                                                        "parallel_tool_calls", "response_format"};

}  // namespace

std::shared_ptr<const AnswerValidator> ValidatorCache::get(const boost::json::object& request) {
  if (!request.contains("tools") && !request.contains("response_format")) {
    return nullptr;  // the common case, decided without building a key
  }
  std::string key;
  for (const std::string_view field : kKeyFields) {
    key += field;
    key += '=';
    if (const boost::json::value* v = request.if_contains(field)) {
      key += boost::json::serialize(*v);
    }
    key += '\n';
  }
  {
    std::lock_guard lock(mu_);
    if (const auto it = entries_.find(key); it != entries_.end()) {
      order_.splice(order_.begin(), order_, it->second.position);
      return it->second.validator;
    }
  }
  // Compiled outside the lock: another thread may compile the same set meanwhile; the first
  // to finish is kept, and both results are equivalent.
  std::optional<AnswerValidator> compiled = AnswerValidator::for_request(request);
  std::shared_ptr<const AnswerValidator> validator =
      compiled ? std::make_shared<const AnswerValidator>(std::move(*compiled)) : nullptr;
  std::lock_guard lock(mu_);
  ++compilations_;
  if (const auto it = entries_.find(key); it != entries_.end()) {
    return it->second.validator;
  }
  order_.push_front(key);
  entries_.emplace(std::move(key), Entry{validator, order_.begin()});
  if (entries_.size() > capacity_) {
    entries_.erase(order_.back());
    order_.pop_back();
  }
  return validator;
}

size_t ValidatorCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

uint64_t ValidatorCache::compilations() const {
  std::lock_guard lock(mu_);
  return compilations_;
}

}  // namespace sheepdog::llm
