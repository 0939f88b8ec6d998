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

#include "mock/mock_config.h"

namespace sheepdog::mock {

// A short, stable label for the key in an Authorization header ("Bearer sk-...") or x-api-key:
// keys of 12+ characters show their first 4 and last 4 ("sk-p...wxyz", as provider
// dashboards do); shorter keys show "key#" and 8 hex digits of a hash; no key is "none".
std::string key_fingerprint(std::string_view header_value);

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
