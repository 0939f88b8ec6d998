// The contention model of AWS's "Exponential Backoff and Jitter" (Marc Brooker, AWS
// Architecture Blog, 2015), re-implemented on the engine's own Backoff objects to check that they
// reproduce its finding: without jitter, clients contending for one resource do far more work
// and take far longer; full jitter does the least work.
//
// Model (the structure of the simulator published with the post, aws-arch-backoff-simulator):
// `clients` clients all start at time 0; each must write a single row once under optimistic
// concurrency control. A client sends a read; the server answers with the row's version; the
// client sends a conditional write with that version; the server accepts it iff the version is
// unchanged (no other write was accepted in between) and answers. Every message takes a network
// delay |N(net_delay_mean, net_delay_sd)|. After a rejected write the client waits one network
// delay plus Backoff::next_delay() before its next read, without an attempt limit.
// Measured: calls = writes sent (the work), and completion = when the last client learned that
// its write succeeded.
// Backoff parameters as in the published simulator: base 5 ms and cap 2 s, where its exponential
// sleeps base * 2^n from n = 1; our Backoff's first retry is base_delay, so the exponential
// variants use base_delay = 10 ms (same sequence 10, 20, 40, ... ms) and decorrelated jitter
// base_delay = 5 ms.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "resilience/backoff.h"

namespace sheepdog::sim {

struct ContentionConfig {
  int clients = 100;
  Duration net_delay_mean = milliseconds(10);
  Duration net_delay_sd = milliseconds(2);
  Duration base_delay = milliseconds(5);  // AWS's `base`
  Duration max_delay = seconds(2);        // AWS's `cap`
  // Safety stop: a client that sent this many writes counts as never finishing.
  long max_calls_per_client = 100000;
};

// One backoff variant of the comparison.
struct ContentionVariant {
  std::string name;  // "no-jitter", "full-jitter", "equal-jitter", "decorrelated-jitter"
  BackoffPolicy policy;
};

// The four variants of the blog post, from `config`'s base and cap (see above).
std::vector<ContentionVariant> aws_variants(const ContentionConfig& config);

struct ContentionResult {
  std::string variant;
  long calls = 0;             // writes sent
  Duration completion{};      // when the last client learned of its success
  bool all_succeeded = true;  // false iff a client hit max_calls_per_client
};

// Deterministic for a given seed (one SeededRandom draws the network delays and the jitter).
ContentionResult run_contention(const ContentionConfig& config, const ContentionVariant& variant,
                                uint64_t seed);

// Multi-line text for --describe.
std::string describe_contention(const ContentionConfig& config);

}  // namespace sheepdog::sim
