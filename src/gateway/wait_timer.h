// How the request path waits (backoff, a key's rest, an idempotent duplicate's poll): through
// this interface, so that the same code runs on real time in production (AsioWaitTimer) and on
// virtual time in request-path tests, where the test's clock fires the waits in deadline order
// and nothing sleeps.
//
// Contract: wait() completes after `delay` has passed on the runtime's clock, or early when the
// calling coroutine's cancellation slot fires (terminal); it returns false then. Never throws.
// Used from one io thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/clock.h"

namespace sheepdog::gateway {

class WaitTimer {
 public:
  virtual ~WaitTimer() = default;
  virtual boost::asio::awaitable<bool> wait(Duration delay) = 0;
};

// Real time: an asio::steady_timer per wait.
class AsioWaitTimer final : public WaitTimer {
 public:
  explicit AsioWaitTimer(boost::asio::any_io_executor io) : io_(std::move(io)) {}
  boost::asio::awaitable<bool> wait(Duration delay) override;

 private:
  boost::asio::any_io_executor io_;
};

}  // namespace sheepdog::gateway
