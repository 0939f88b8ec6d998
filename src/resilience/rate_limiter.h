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

  // Takes n tokens iff available; n > capacity never succeeds.
  bool try_take(double n, TimePoint now);
  // How long until n tokens will be available (0 if now); Duration::max() if n > capacity.
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
// O(1) memory, never under-counts by more than one window's boundary effect.
class SlidingWindowLimiter {
 public:
  // REQUIRES: limit > 0, window > 0.
  SlidingWindowLimiter(int64_t limit, Duration window);

  // Adds n iff the estimate stays within limit.
  bool try_add(int64_t n, TimePoint now);
  // Unconditional correction (e.g. actual tokens used minus the estimate); may be negative.
  void adjust(int64_t delta, TimePoint now);
  // The estimated count in the window ending at now.
  double current(TimePoint now) const;
  // How long until n more would fit; Duration::max() if n > limit.
  Duration time_until(int64_t n, TimePoint now) const;
  int64_t limit() const { return limit_; }

 private:
  void roll(TimePoint now);
  int64_t limit_;
  Duration window_;
  TimePoint window_start_{};
  int64_t current_count_ = 0;
  int64_t previous_count_ = 0;
};

}  // namespace sheepdog
