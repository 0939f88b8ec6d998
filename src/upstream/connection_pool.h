// Keep-alive connection pool, one sub-pool per origin (scheme + host + port). It only does
// bookkeeping: who may open a connection (max_connections_per_origin), which idle connection to
// reuse (most recently used first, since it is the least likely to have been closed by the
// server), and when idle ones are closed (max_idle_per_origin, idle_timeout). Opening
// connections is the client's job.
//
// Not thread-safe: one pool per io_context thread (the UpstreamClient that owns it), used only
// from that thread. REQUIRES: the pool outlives every PoolLease and every acquire() in flight.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "upstream/connection.h"

namespace sheepdog::upstream {

struct PoolOptions {
  // Open connections (idle + in use) per origin; further requests wait for a free one.
  // REQUIRES: >= 1 (validated with the rest of the configuration).
  size_t max_connections_per_origin = 64;
  // Idle connections kept per origin; the oldest is closed beyond this.
  size_t max_idle_per_origin = 16;
  // Idle connections older than this are closed instead of reused. Kept below common server
  // keep-alive timeouts (nginx 75 s, many cloud load balancers 60 s) so that the server rarely
  // closes first; the client still recovers when it does (see UpstreamClient).
  Duration idle_timeout = std::chrono::seconds(30);
};

class ConnectionPool;

// A checked-out slot in an origin's pool: either a live connection (reused() is true) or the
// right to open a new one (connection() is null until attach()). Move-only. Ending it:
// give_back() after a complete, clean keep-alive exchange; otherwise destruction, which closes
// the connection and frees the slot.
class PoolLease {
 public:
  PoolLease() = default;
  PoolLease(PoolLease&& other) noexcept;
  PoolLease& operator=(PoolLease&& other) noexcept;
  ~PoolLease();

  // False for a default-constructed lease or one that acquire() could not grant in time.
  bool valid() const { return pool_ != nullptr; }
  Connection* connection() const { return connection_.get(); }
  bool reused() const { return reused_; }

  // REQUIRES: valid() and connection() == nullptr.
  void attach(std::unique_ptr<Connection> connection);
  // Closes the connection but keeps the slot, so that a fresh connection can be attached.
  void drop_connection();
  // Returns the connection to the idle list (or to a waiting request). REQUIRES: valid() and
  // connection() != nullptr. Invalidates the lease.
  void give_back();

 private:
  friend class ConnectionPool;
  void reset();

  ConnectionPool* pool_ = nullptr;
  std::string key_;
  std::unique_ptr<Connection> connection_;
  bool reused_ = false;
};

class ConnectionPool {
 public:
  // `clock` is read for idle bookkeeping only and must outlive the pool.
  ConnectionPool(asio::any_io_executor executor, PoolOptions options, const Clock& clock);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ~ConnectionPool();

  // A slot for `origin`: an idle connection that still looks open if there is one, else the right
  // to open one if the origin is below its limit, else waits for a slot until `deadline`.
  // Returns an invalid lease if the deadline passed or the caller cancelled the wait.
  asio::awaitable<PoolLease> acquire(const Origin& origin, IoDeadline deadline);

  // Closes idle connections past idle_timeout, in every origin. The pool also does this for an
  // origin whenever it is used; call this periodically to release sockets of quiet origins.
  void close_expired();
  // Closes every idle connection (before shutdown, or after a configuration change).
  void close_idle();

  size_t idle_count(const Origin& origin) const;
  size_t in_use_count(const Origin& origin) const;
  const PoolOptions& options() const { return options_; }

 private:
  friend class PoolLease;
  struct Waiter;
  struct OriginPool {
    std::deque<std::unique_ptr<Connection>> idle;  // oldest first
    size_t in_use = 0;                             // leased slots, with or without a connection
    std::list<Waiter*> waiters;                    // FIFO
  };

  void close_expired(OriginPool& pool, TimePoint now);
  // Called by PoolLease.
  void give_back(const std::string& key, std::unique_ptr<Connection> connection);
  void release_slot(const std::string& key, std::unique_ptr<Connection> connection);

  asio::any_io_executor executor_;
  PoolOptions options_;
  const Clock& clock_;
  // Never shrinks: the origins are the configured deployments, a small fixed set.
  std::unordered_map<std::string, OriginPool> pools_;
};

}  // namespace sheepdog::upstream
