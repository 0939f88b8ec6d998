// Randomness for the engine, injected like time. Decisions that need a random value (jitter,
// weighted routing, the simulator's faults) draw it from a RandomSource they are handed, so a
// test can fix the value and expect an exact delay, and a seed reproduces a whole simulation.
#pragma once

#include <cstdint>
#include <random>

namespace sheepdog {

// Not thread-safe: give each thread (or each simulation) its own source.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Uniform over all 64-bit values.
  virtual uint64_t next_u64() = 0;

  // Uniform in [0, 1), from the top 53 bits, so results are identical on every platform
  // (std::uniform_real_distribution is not specified bit-for-bit across standard libraries).
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi). REQUIRES: lo <= hi.
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }
  // Bernoulli trial. p <= 0 is never, p >= 1 always.
  bool chance(double p) { return uniform01() < p; }
};

// A seeded Mersenne Twister (std::mt19937_64: a library generator whose output sequence the
// standard fixes, unlike its distributions).
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  uint64_t next_u64() override { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

// Test double: always returns the same fraction of the range, e.g. FixedRandom(0.5) makes
// uniform01() return 0.5 and uniform(lo, hi) the midpoint.
class FixedRandom final : public RandomSource {
 public:
  // REQUIRES: 0 <= fraction < 1.
  explicit FixedRandom(double fraction)
      : value_(static_cast<uint64_t>(fraction * 0x1.0p53) << 11) {}
  uint64_t next_u64() override { return value_; }

 private:
  uint64_t value_;
};

}  // namespace sheepdog
