// Time for the engine. The resilience core never reads the clock itself: every decision takes a
// TimePoint, and whoever drives it (the live gateway, the simulator, a test) owns the Clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace sheepdog {

// All engine time is monotonic. The simulator starts its virtual time at TimePoint{}.
using Duration = std::chrono::steady_clock::duration;  // nanoseconds
using TimePoint = std::chrono::steady_clock::time_point;
// Wall-clock time appears only where a protocol speaks it (Retry-After as an HTTP-date).
using WallTime = std::chrono::system_clock::time_point;

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Source of the current time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual WallTime wall_now() const = 0;
};

// The real clock: std::chrono::steady_clock and system_clock.
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
};

// A clock that moves only when told to. For tests and the simulator. Not thread-safe: the
// owner advances it between decisions.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}, WallTime wall_start = WallTime{})
      : start_(start), now_(start), wall_(wall_start) {}

  TimePoint now() const override { return now_; }
  WallTime wall_now() const override {
    return wall_ + std::chrono::duration_cast<WallTime::duration>(now_ - start_);
  }

  // REQUIRES: d >= 0 (time never runs backwards).
  void advance(Duration d) { now_ += d; }
  // REQUIRES: t >= now().
  void set(TimePoint t) { now_ = t; }

 private:
  // Initialised from the constructor's argument: `= now_` here would read now_ before its own
  // initialisation, since members initialise in declaration order.
  const TimePoint start_;
  TimePoint now_;
  WallTime wall_;
};

// Conversions used in reports and configuration.
inline double to_ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
inline double to_seconds(Duration d) { return std::chrono::duration<double>(d).count(); }
inline Duration from_ms(double ms) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(ms));
}
inline Duration from_seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

}  // namespace sheepdog
