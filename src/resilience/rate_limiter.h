// Rate limiters for API keys and tenants: a token bucket (smooth, allows bursts up to capacity)
// and a sliding-window counter (requests or tokens per minute, the way providers state limits).
// Time is passed in. Not thread-safe: the owner (a key pool, a tenant table) locks.
#pragma once

#include <cstdint>

#include "core/clock.h"

namespace sheepdog {

class TokenBucket {
 public:
  // Starts full. REQUIRES: capacity > 0, refill_per_second > 0.
  TokenBucket(double capacity, double refill_per_second, TimePoint now);

  // Takes n tokens iff available; n > capacity never succeeds, n <= 0 always does (taking
  // nothing). A refusal changes nothing.
  bool try_take(double n, TimePoint now);
  // How long until n tokens will be available (0 if now); Duration::max() if n > capacity.
  // Exact: with no take in between, try_take(n, now + d) succeeds and try_take(n, now + d - 1ns)
  // does not.
  Duration time_until(double n, TimePoint now) const;
  double available(TimePoint now) const;

 private:
  double refilled(TimePoint now) const;
  double capacity_;
  double refill_per_second_;
  double tokens_;
  TimePoint last_;
};

// Sliding-window counter (the two-fixed-windows interpolation used by Cloudflare and nginx's
// limit_req cousins): the count in the window ending now is estimated as
//   previous_window_count * (1 - elapsed_fraction_of_current) + current_window_count.
// O(1) memory, never under-counts by more than one window's boundary effect. Windows are
// [TimePoint{} + k * window, TimePoint{} + (k + 1) * window).
class SlidingWindowLimiter {
 public:
  // REQUIRES: limit > 0, window > 0.
  SlidingWindowLimiter(int64_t limit, Duration window);

  // Adds n iff current(now) + n <= limit. REQUIRES: n >= 0.
  bool try_add(int64_t n, TimePoint now);
  // Unconditional correction (e.g. actual tokens used minus the estimate); may be negative.
  // A refund beyond the current window's count comes off the previous window's; neither count
  // goes below 0.
  void adjust(int64_t delta, TimePoint now);
  // The estimated count in the window ending at now.
  double current(TimePoint now) const;
  // How long until n more would fit; Duration::max() if n > limit. Exact, like
  // TokenBucket::time_until: the smallest d with current(now + d) + n <= limit, which may lie in
  // the next window (at most two windows ahead, when both counts have aged out).
  Duration time_until(int64_t n, TimePoint now) const;
  int64_t limit() const { return limit_; }

 private:
  // The window containing a time and the counts that apply to it.
  struct View {
    TimePoint start;
    int64_t previous;
    int64_t current;
  };
  View view_at(View view, TimePoint now) const;  // `view` moved forward to now's window
  double estimate(const View& view, TimePoint now) const;
  void roll(TimePoint now);
  void add_to_current(int64_t delta);
  int64_t limit_;
  Duration window_;
  TimePoint window_start_{};
  int64_t current_count_ = 0;
  int64_t previous_count_ = 0;
};

}  // namespace sheepdog
