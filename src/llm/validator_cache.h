// Compiled answer validators, shared between requests that ask the same of their answers.
// Clients send the same tool list (and response_format) with every request of a conversation,
// and compiling JSON Schemas costs far more than validating against them (bench/micro/
// validation_bench.cc), so each distinct set is compiled once. Thread-safe; bounded (least
// recently used out first).
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "llm/tool_validation.h"

namespace sheepdog::llm {

class ValidatorCache {
 public:
  explicit ValidatorCache(size_t capacity = 512) : capacity_(capacity) {}

  // The validator for `request` (AnswerValidator::for_request), null when there is nothing to
  // check. The key is what the validator reads: tools, tool_choice, parallel_tool_calls and
  // response_format, as JSON text.
  std::shared_ptr<const AnswerValidator> get(const boost::json::object& request);

  size_t size() const;
  uint64_t compilations() const;  // cache misses that compiled a validator

 private:
  using Lru = std::list<std::string>;
  struct Entry {
    std::shared_ptr<const AnswerValidator> validator;
    Lru::iterator position;
  };

  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  Lru order_;  // most recently used first
  uint64_t compilations_ = 0;
};

}  // namespace sheepdog::llm
