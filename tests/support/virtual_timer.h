// Test helper: virtual time for code on one io_context. A gateway::WaitTimer whose waits are
// fired by the test's ManualClock in deadline order: run() runs every ready handler, then moves
// the clock to the earliest pending deadline and fires that wait, and so on until nothing is
// left. No thread, no sleep, and every wait lasts exactly what was asked, so timing is asserted
// to the nanosecond. Header-only (tests/unit globs only *_test.cc).
//
// A wait whose coroutine is cancelled (the client went away) completes at once with false, as
// AsioWaitTimer's does.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "gateway/wait_timer.h"

namespace sheepdog::testing {

class VirtualTimer final : public gateway::WaitTimer {
 public:
  VirtualTimer(boost::asio::io_context& io, ManualClock& clock) : io_(io), clock_(clock) {}

  boost::asio::awaitable<bool> wait(Duration delay) override {
    waits.push_back(delay);
    const Key key{clock_.now() + delay, next_seq_++};
    // An asio timer that never expires on its own stands for the wait: run() cancels it when
    // the virtual clock reaches the deadline (fired), the client's cancellation cancels it
    // through asio's own machinery (not fired).
    auto entry = std::make_shared<Entry>(io_);
    pending_.emplace(key, entry);
    // Either way the wait ends with operation_aborted; `fired` says which it was.
    (void)co_await entry->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    pending_.erase(key);
    co_return entry->fired;
  }

  // Runs the io_context to quiescence, firing waits in deadline order (advancing the clock to
  // each) until no handler and no wait is left.
  void run() {
    for (;;) {
      io_.restart();
      io_.poll();
      if (pending_.empty()) {
        return;
      }
      const Key first = pending_.begin()->first;
      if (first.first > clock_.now()) {
        clock_.set(first.first);
      }
      std::shared_ptr<Entry> entry = pending_.begin()->second;
      pending_.erase(pending_.begin());
      entry->fired = true;
      entry->timer.cancel();
    }
  }

  // Every delay asked for, in order.
  std::vector<Duration> waits;

 private:
  using Key = std::pair<TimePoint, uint64_t>;  // deadline, then order of asking
  struct Entry {
    explicit Entry(boost::asio::io_context& io)
        : timer(io, boost::asio::steady_timer::time_point::max()) {}
    boost::asio::steady_timer timer;
    bool fired = false;
  };

  boost::asio::io_context& io_;
  ManualClock& clock_;
  std::map<Key, std::shared_ptr<Entry>> pending_;
  uint64_t next_seq_ = 0;
};

}  // namespace sheepdog::testing
