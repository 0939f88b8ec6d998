#include "resilience/rate_limiter.h"

#include <algorithm>

namespace sheepdog {
namespace {

// The smallest offset in (lo, hi] at which `holds` is true. REQUIRES: `holds` is monotone
// (false then true), holds(lo) is false and holds(hi) is true. Lets time_until answer with
// exactly the arithmetic the limiter itself uses, so rounding can never make the answer early.
template <typename Predicate>
Duration::rep first_true(Duration::rep lo, Duration::rep hi, Predicate holds) {
  while (hi - lo > 1) {
    const Duration::rep mid = lo + (hi - lo) / 2;
    if (holds(mid)) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

// Beyond about 290 years Duration overflows; report such waits as "never" rather than wrap.
constexpr double kMaxWaitNs = 9.0e18;

}  // namespace

TokenBucket::TokenBucket(double capacity, double refill_per_second, TimePoint now)
    : capacity_(capacity), refill_per_second_(refill_per_second), tokens_(capacity), last_(now) {}

double TokenBucket::refilled(TimePoint now) const {
  if (now <= last_) {
    return tokens_;
  }
  return std::min(capacity_, tokens_ + to_seconds(now - last_) * refill_per_second_);
}

bool TokenBucket::try_take(double n, TimePoint now) {
  if (n <= 0) {
    return true;
  }
  const double available = refilled(now);
  if (n > available) {
    // State is left alone on refusal so that time_until() stays exact for the next attempt.
    return false;
  }
  tokens_ = available - n;  // >= 0: the rounded difference of x >= y is never negative
  last_ = std::max(last_, now);
  return true;
}

Duration TokenBucket::time_until(double n, TimePoint now) const {
  if (n > capacity_) {
    return Duration::max();
  }
  if (refilled(now) >= n) {
    return Duration::zero();
  }
  // Search offsets from last_, where the refill formula starts. Time before last_ (a caller
  // whose clock lags) adds nothing, so the search starts at whichever of the two is later.
  const Duration::rep lo = std::max<Duration::rep>(0, (now - last_).count());
  const double estimate_ns = (n - tokens_) / refill_per_second_ * 1e9;
  if (!(estimate_ns < kMaxWaitNs)) {
    return Duration::max();
  }
  auto holds = [&](Duration::rep offset) { return refilled(last_ + Duration(offset)) >= n; };
  Duration::rep hi = std::max(lo + 1, static_cast<Duration::rep>(estimate_ns) + 1);
  for (Duration::rep step = 1; !holds(hi); step *= 2) {
    hi += step;
  }
  return last_ + Duration(first_true(lo, hi, holds)) - now;
}

double TokenBucket::available(TimePoint now) const { return refilled(now); }

SlidingWindowLimiter::SlidingWindowLimiter(int64_t limit, Duration window)
    : limit_(limit), window_(window) {}

SlidingWindowLimiter::View SlidingWindowLimiter::view_at(View view, TimePoint now) const {
  if (now < view.start + window_) {
    return view;
  }
  if (now < view.start + 2 * window_) {
    return View{view.start + window_, view.current, 0};
  }
  // Two or more windows ahead: both counts have aged out. Windows stay on the same grid
  // (multiples of window_ from TimePoint{}), whoever calls when.
  const auto skipped = (now - view.start) / window_;
  return View{view.start + skipped * window_, 0, 0};
}

double SlidingWindowLimiter::estimate(const View& view, TimePoint now) const {
  const double elapsed = std::clamp(
      static_cast<double>((now - view.start).count()) / static_cast<double>(window_.count()), 0.0,
      1.0);
  return static_cast<double>(view.previous) * (1.0 - elapsed) + static_cast<double>(view.current);
}

void SlidingWindowLimiter::roll(TimePoint now) {
  const View view = view_at(View{window_start_, previous_count_, current_count_}, now);
  window_start_ = view.start;
  previous_count_ = view.previous;
  current_count_ = view.current;
}

bool SlidingWindowLimiter::try_add(int64_t n, TimePoint now) {
  roll(now);
  if (estimate(View{window_start_, previous_count_, current_count_}, now) + static_cast<double>(n) >
      static_cast<double>(limit_)) {
    return false;
  }
  add_to_current(n);
  return true;
}

void SlidingWindowLimiter::adjust(int64_t delta, TimePoint now) {
  roll(now);
  add_to_current(delta);
}

void SlidingWindowLimiter::add_to_current(int64_t delta) {
  current_count_ += delta;
  if (current_count_ < 0) {
    // A refund larger than this window's count corrects a reservation made in the previous
    // window. Counts never go negative, so the estimate never falls with time running backwards.
    previous_count_ = std::max<int64_t>(0, previous_count_ + current_count_);
    current_count_ = 0;
  }
}

double SlidingWindowLimiter::current(TimePoint now) const {
  return estimate(view_at(View{window_start_, previous_count_, current_count_}, now), now);
}

Duration SlidingWindowLimiter::time_until(int64_t n, TimePoint now) const {
  if (n > limit_) {
    return Duration::max();
  }
  const View view = view_at(View{window_start_, previous_count_, current_count_}, now);
  // The estimate only falls as time passes (it is continuous across a window boundary, where
  // previous * 0 + current becomes current * 1 + 0), and two windows on both counts have aged
  // out, leaving n <= limit. So the answer is the first offset in (0, hi] where n fits.
  auto holds = [&](Duration::rep offset) {
    const TimePoint at = now + Duration(offset);
    return estimate(view_at(view, at), at) + static_cast<double>(n) <= static_cast<double>(limit_);
  };
  if (holds(0)) {
    return Duration::zero();
  }
  const Duration::rep hi = (view.start + 2 * window_ - now).count();
  return Duration(first_true(0, hi, holds));
}

}  // namespace sheepdog
