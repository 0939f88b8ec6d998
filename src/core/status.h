// A success-or-error value for validation and parsing, in the spirit of leveldb::Status: cheap
// when ok, carrying one human-readable message when not. Expected failures are returned, never
// thrown.
#pragma once

#include <string>
#include <utility>

namespace sheepdog {

class Status {
 public:
  Status() = default;  // ok
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }

  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return is_ok(); }
  // Empty iff is_ok().
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

}  // namespace sheepdog
