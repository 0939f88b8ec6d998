#include "mock/mock_stats.h"

#include <cstdio>

#include "mock/mock_content.h"

namespace sheepdog::mock {
namespace {

boost::json::object to_object(const std::map<std::string, uint64_t>& counts) {
  boost::json::object out;
  for (const auto& [name, count] : counts) {
    out[name] = count;
  }
  return out;
}

}  // namespace

void MockStats::record(std::string_view key, std::string_view model, std::string_view endpoint,
                       Outcome outcome) {
  std::lock_guard lock(mutex_);
  ++counts_.total;
  ++counts_.by_key[std::string(key)];
  ++counts_.by_model[std::string(model)];
  ++counts_.by_endpoint[std::string(endpoint)];
  ++counts_.by_outcome[std::string(to_string(outcome))];
}

void MockStats::reset() {
  std::lock_guard lock(mutex_);
  counts_ = Snapshot{};
}

MockStats::Snapshot MockStats::snapshot() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

boost::json::object MockStats::to_json(const Snapshot& snapshot) {
  boost::json::object out;
  out["total"] = snapshot.total;
  out["by_key"] = to_object(snapshot.by_key);
  out["by_model"] = to_object(snapshot.by_model);
  out["by_endpoint"] = to_object(snapshot.by_endpoint);
  out["by_outcome"] = to_object(snapshot.by_outcome);
  return out;
}

}  // namespace sheepdog::mock
