// Request counters of the mock upstream, served at GET /_mock/stats so tests can check what a
// gateway sent: totals per API key (a fingerprint, never the key), per model, per endpoint and
// per outcome. Thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/key_fingerprint.h"
#include "mock/mock_config.h"

namespace sheepdog::mock {

// The stats label keys by core/key_fingerprint.h, as the gateway does.
using sheepdog::key_fingerprint;

class MockStats {
 public:
  struct Snapshot {
    uint64_t total = 0;
    std::map<std::string, uint64_t> by_key;
    std::map<std::string, uint64_t> by_model;
    std::map<std::string, uint64_t> by_endpoint;  // "chat.completions", "embeddings"
    std::map<std::string, uint64_t> by_outcome;   // to_string(Outcome)
  };

  void record(std::string_view key, std::string_view model, std::string_view endpoint,
              Outcome outcome);
  void reset();
  Snapshot snapshot() const;

  // {"total": N, "by_key": {...}, "by_model": {...}, "by_endpoint": {...}, "by_outcome": {...}}
  static boost::json::object to_json(const Snapshot& snapshot);

 private:
  mutable std::mutex mutex_;
  Snapshot counts_;  // guarded by mutex_
};

}  // namespace sheepdog::mock
