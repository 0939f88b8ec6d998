// The `model` label of the gateway's metrics, bounded. Configured aliases are a fixed set, but in
// passthrough mode (`serve --upstream`) every model string a client sends would become a new
// series of every family: 20,000 names once took /metrics from 5 KB to 19.6 MB. So passthrough
// names become labels only up to a cap, first come first served, and the rest (and any name
// over kMaxLabelBytes, or with characters a label should not hold) count as "other". Logs keep
// the real name.
//
// Thread-safe: one mutex, taken once per request in passthrough mode only.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace sheepdog::gateway {

class ModelLabels {
 public:
  static constexpr std::string_view kOther = "other";
  static constexpr size_t kMaxLabelBytes = 128;

  explicit ModelLabels(size_t capacity = 100) : capacity_(capacity) {}

  // `model` itself if it already is, or still can become, one of the capped labels; else
  // "other".
  std::string label(std::string_view model);

  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> labels_;
};

}  // namespace sheepdog::gateway
