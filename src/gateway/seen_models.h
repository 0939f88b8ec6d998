// The model names the upstreams have answered for in passthrough mode (the quick start, where
// every name a client sends is passed through and none is configured): what GET /v1/models
// lists there. A name is recorded only once an upstream accepted it (a 2xx answer), so a
// client cannot fill the list with names it makes up, and the list is capped.
//
// Seen names were chosen over asking each upstream's GET /models: the quick start often has no
// key of its own to ask with (it forwards the client's), an upstream that is down at start
// would leave the list empty, and a name that worked is one a client can use.
//
// Thread-safe: io threads record and read concurrently.
#pragma once

#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sheepdog::gateway {

class SeenModels {
 public:
  // At most `capacity` names are kept; later new names are dropped (the first ones are the
  // ones clients use). Names longer than kMaxNameBytes, or with control characters, are never
  // kept.
  static constexpr size_t kDefaultCapacity = 256;
  static constexpr size_t kMaxNameBytes = 256;
  explicit SeenModels(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // Remembers `name` (if there is room and it is a plausible name). Cheap when already known.
  void record(std::string_view name);
  // Every kept name, sorted.
  std::vector<std::string> names() const;
  bool contains(std::string_view name) const;

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::set<std::string, std::less<>> names_;
};

}  // namespace sheepdog::gateway
