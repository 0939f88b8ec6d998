#include "gateway/provider_keys.h"

#include <algorithm>

namespace sheepdog::gateway {
namespace {

std::vector<KeySpec> specs_of(const std::vector<config::ApiKeyConfig>& keys) {
  std::vector<KeySpec> specs;
  specs.reserve(keys.size());
  for (const config::ApiKeyConfig& k : keys) {
    specs.push_back(KeySpec{k.key, k.rpm, k.tpm});
  }
  return specs;
}

}  // namespace

ProviderKeys::ProviderKeys(std::string provider, const std::vector<config::ApiKeyConfig>& keys,
                           GatewayMetrics& metrics)
    : provider_(std::move(provider)),
      pool_(specs_of(keys)),
      waited_(&metrics.key_waits.with({provider_, "waited"})),
      refused_(&metrics.key_waits.with({provider_, "refused"})) {
  cells_.reserve(pool_.size());
  for (size_t i = 0; i < pool_.size(); ++i) {
    const std::string& fingerprint = pool_.fingerprint(i);
    Cells cells{&metrics.key_requests.with({provider_, fingerprint}),
                &metrics.key_cool_downs.with({provider_, fingerprint}),
                &metrics.key_cooling.with({provider_, fingerprint})};
    cells.cooling->set(0);
    cells_.push_back(cells);
  }
}

void ProviderKeys::count_use(size_t index) { cells_[index].requests->inc(); }

void ProviderKeys::count_rest(size_t index) {
  cells_[index].cool_downs->inc();
  cells_[index].cooling->set(1);
}

void ProviderKeys::count_wait(bool waited) { (waited ? waited_ : refused_)->inc(); }

void ProviderKeys::refresh_gauges(TimePoint now) {
  const std::vector<KeyPool::KeyState> states = pool_.snapshot(now);
  for (size_t i = 0; i < states.size(); ++i) {
    cells_[i].cooling->set(states[i].cooling_for > Duration::zero() ? 1 : 0);
  }
}

}  // namespace sheepdog::gateway
