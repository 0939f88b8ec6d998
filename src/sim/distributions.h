// Random variates for the simulator, drawn from the engine's RandomSource so that one seed
// reproduces a whole run. Only uniform01() is used underneath: std:: distributions are not
// specified bit-for-bit across standard libraries, and identical seeds must give identical output.
#pragma once

#include <cmath>
#include <numbers>

#include "core/clock.h"
#include "core/random.h"

namespace sheepdog::sim {

// z such that P(Z <= z) = 0.99 for a standard normal Z.
inline constexpr double kNormalQuantile99 = 2.3263478740408408;

// Standard normal by Box-Muller (the cosine half; the sine half is discarded to keep the draw
// stateless). Uses two uniforms.
inline double standard_normal(RandomSource& random) {
  const double u1 = 1.0 - random.uniform01();  // in (0, 1], so log() is finite
  const double u2 = random.uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

// Exponential with the given mean (inter-arrival times of a Poisson process, think times).
inline Duration exponential(RandomSource& random, Duration mean) {
  if (mean <= Duration::zero()) {
    return Duration::zero();
  }
  const double u = random.uniform01();
  return from_seconds(-std::log1p(-u) * to_seconds(mean));
}

// A lognormal distribution given by its median and 99th percentile, the two figures latency
// reports usually state: mu = ln(median), sigma = ln(p99 / median) / z99.
class Lognormal {
 public:
  // REQUIRES: 0 < median <= p99.
  Lognormal(Duration median, Duration p99)
      : mu_(std::log(to_seconds(median))),
        sigma_(std::log(to_seconds(p99) / to_seconds(median)) / kNormalQuantile99) {}

  Duration sample(RandomSource& random) const {
    return from_seconds(std::exp(mu_ + sigma_ * standard_normal(random)));
  }
  // E[X] = exp(mu + sigma^2 / 2); used to estimate a scenario's load in --describe.
  Duration mean() const { return from_seconds(std::exp(mu_ + sigma_ * sigma_ / 2)); }

 private:
  double mu_;
  double sigma_;
};

}  // namespace sheepdog::sim
