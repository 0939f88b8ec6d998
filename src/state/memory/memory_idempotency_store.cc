#include "state/memory/memory_idempotency_store.h"

namespace sheepdog {

boost::asio::awaitable<IdempotencyStore::Begin> MemoryIdempotencyStore::begin(std::string key,
                                                                            uint64_t body_hash,
                                                                            TimePoint now) {
  co_return begin_now(key, body_hash, now);
}

boost::asio::awaitable<Status> MemoryIdempotencyStore::complete(std::string key,
                                                                StoredResponse response,
                                                                TimePoint now) {
  complete_now(key, std::move(response), now);
  co_return Status::ok();
}

boost::asio::awaitable<Status> MemoryIdempotencyStore::abandon(std::string key) {
  abandon_now(key);
  co_return Status::ok();
}

MemoryIdempotencyStore::MemoryIdempotencyStore(Duration ttl, Duration in_progress_ttl)
    : ttl_(ttl), in_progress_ttl_(in_progress_ttl) {}

IdempotencyStore::Begin MemoryIdempotencyStore::begin_now(const std::string& key, uint64_t body_hash,
                                                      TimePoint now) {
  std::lock_guard lock(mutex_);
  sweep(now);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.expires <= now) {
    entries_.erase(it);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    entries_.emplace(key, Entry{body_hash, now + in_progress_ttl_, std::nullopt});
    return Begin{Verdict::kExecute, std::nullopt};
  }
  const Entry& entry = it->second;
  if (entry.body_hash != body_hash) {
    return Begin{Verdict::kConflict, std::nullopt};
  }
  if (!entry.response) {
    return Begin{Verdict::kInProgress, std::nullopt};
  }
  return Begin{Verdict::kReplay, entry.response};
}

void MemoryIdempotencyStore::complete_now(const std::string& key, StoredResponse response,
                                      TimePoint now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    return;  // expired (in_progress_ttl passed) and swept meanwhile: nothing to complete
  }
  it->second.response = std::move(response);
  it->second.expires = now + ttl_;
}

void MemoryIdempotencyStore::abandon_now(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it != entries_.end() && !it->second.response) {
    entries_.erase(it);
  }
}

size_t MemoryIdempotencyStore::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void MemoryIdempotencyStore::sweep(TimePoint now) {
  if (now < next_sweep_) {
    return;
  }
  next_sweep_ = now + ttl_ / 10;
  std::erase_if(entries_, [now](const auto& item) { return item.second.expires <= now; });
}

}  // namespace sheepdog
