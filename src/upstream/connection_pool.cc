#include "upstream/connection_pool.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

namespace sheepdog::upstream {

// A request waiting for a slot. The granting side fills it in and wakes the timer; the waiter
// unlinks itself if it gives up (deadline, cancellation, or its frame being destroyed).
struct ConnectionPool::Waiter {
  asio::steady_timer timer;
  bool granted = false;
  std::unique_ptr<Connection> connection;  // a handed-over connection, or null: open one
  std::list<Waiter*>* list = nullptr;
  std::list<Waiter*>::iterator position;

  explicit Waiter(asio::any_io_executor executor) : timer(executor) {}
  ~Waiter() {
    if (list != nullptr) {
      list->erase(position);
    }
  }
};

PoolLease::PoolLease(PoolLease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      key_(std::move(other.key_)),
      connection_(std::move(other.connection_)),
      reused_(other.reused_) {}

PoolLease& PoolLease::operator=(PoolLease&& other) noexcept {
  if (this != &other) {
    reset();
    pool_ = std::exchange(other.pool_, nullptr);
    key_ = std::move(other.key_);
    connection_ = std::move(other.connection_);
    reused_ = other.reused_;
  }
  return *this;
}

PoolLease::~PoolLease() { reset(); }

void PoolLease::reset() {
  if (pool_ != nullptr) {
    std::exchange(pool_, nullptr)->release_slot(key_, std::move(connection_));
  }
  connection_.reset();
}

void PoolLease::attach(std::unique_ptr<Connection> connection) {
  connection_ = std::move(connection);
  reused_ = false;
}

void PoolLease::drop_connection() {
  if (connection_) {
    connection_->close();
    connection_.reset();
  }
  reused_ = false;
}

void PoolLease::give_back() {
  std::exchange(pool_, nullptr)->give_back(key_, std::move(connection_));
}

ConnectionPool::ConnectionPool(asio::any_io_executor executor, PoolOptions options,
                               const Clock& clock)
    : executor_(std::move(executor)), options_(options), clock_(clock) {}

ConnectionPool::~ConnectionPool() { close_idle(); }

asio::awaitable<PoolLease> ConnectionPool::acquire(const Origin& origin, IoDeadline deadline) {
  PoolLease lease;
  lease.key_ = origin.key();
  OriginPool& pool = pools_[lease.key_];  // unordered_map references survive rehashing
  close_expired(pool, clock_.now());
  while (!pool.idle.empty()) {
    std::unique_ptr<Connection> connection = std::move(pool.idle.back());
    pool.idle.pop_back();
    if (connection->idle_and_open()) {
      ++pool.in_use;
      lease.pool_ = this;
      lease.connection_ = std::move(connection);
      lease.reused_ = true;
      co_return lease;
    }
    connection->close();
  }
  if (pool.in_use < options_.max_connections_per_origin) {
    ++pool.in_use;
    lease.pool_ = this;
    co_return lease;
  }

  Waiter waiter(executor_);
  waiter.timer.expires_at(deadline);
  waiter.list = &pool.waiters;
  waiter.position = pool.waiters.insert(pool.waiters.end(), &waiter);
  // Ends at the deadline, on cancellation, or when a slot is handed over (the granter cancels
  // the timer); `granted` tells which, whatever the error code says.
  co_await waiter.timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (waiter.granted) {
    lease.pool_ = this;  // the slot was transferred, in_use already counts it
    lease.reused_ = waiter.connection != nullptr;
    lease.connection_ = std::move(waiter.connection);
  }
  co_return lease;
}

void ConnectionPool::give_back(const std::string& key, std::unique_ptr<Connection> connection) {
  OriginPool& pool = pools_[key];
  connection->idle_since = clock_.now();
  if (!pool.waiters.empty()) {
    Waiter* waiter = pool.waiters.front();
    pool.waiters.pop_front();
    waiter->list = nullptr;
    waiter->granted = true;
    waiter->connection = std::move(connection);
    waiter->timer.cancel();
    return;
  }
  --pool.in_use;
  pool.idle.push_back(std::move(connection));
  while (pool.idle.size() > options_.max_idle_per_origin) {
    pool.idle.front()->close();
    pool.idle.pop_front();
  }
}

void ConnectionPool::release_slot(const std::string& key, std::unique_ptr<Connection> connection) {
  if (connection) {
    connection->close();
  }
  OriginPool& pool = pools_[key];
  if (!pool.waiters.empty()) {
    Waiter* waiter = pool.waiters.front();
    pool.waiters.pop_front();
    waiter->list = nullptr;
    waiter->granted = true;
    waiter->timer.cancel();
    return;
  }
  --pool.in_use;
}

void ConnectionPool::close_expired(OriginPool& pool, TimePoint now) {
  while (!pool.idle.empty() && now - pool.idle.front()->idle_since >= options_.idle_timeout) {
    pool.idle.front()->close();
    pool.idle.pop_front();
  }
}

void ConnectionPool::close_expired() {
  const TimePoint now = clock_.now();
  for (auto& [key, pool] : pools_) {
    close_expired(pool, now);
  }
}

void ConnectionPool::close_idle() {
  for (auto& [key, pool] : pools_) {
    for (auto& connection : pool.idle) {
      connection->close();
    }
    pool.idle.clear();
  }
}

size_t ConnectionPool::idle_count(const Origin& origin) const {
  auto it = pools_.find(origin.key());
  return it == pools_.end() ? 0 : it->second.idle.size();
}

size_t ConnectionPool::in_use_count(const Origin& origin) const {
  auto it = pools_.find(origin.key());
  return it == pools_.end() ? 0 : it->second.in_use;
}

}  // namespace sheepdog::upstream
