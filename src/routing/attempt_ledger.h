// The one place where an attempt ends: its verdict settles everything the attempt touched, so
// no driver (the gateway's interpreter, the simulator) can forget a piece or count one twice.
//
//   verdict        breaker            stats        retry budget    key
//   kSuccess       record success     success      record success  usage corrects the charge
//   kInvalid       record success     success      record success  usage corrects the charge
//                  (an answer that failed validation: the deployment did its job)
//   kFailure       record the failure failure      record failure  rested if the kind rests
//                  ... unless the key was refused (key_rotation.h): then released, and the
//                  budget not charged: the key's limit is not the deployment's health
//   kNeutral       release            abandon      -               usage corrects the charge
//                  (the client left, or the call was never made)
// Every verdict ends the retry slot the attempt held (if any) and adds the attempt's usage to
// the request's. Budget reservations and spend rows (issue 13) settle here too.
//
// Pure: time is passed in; the shared objects it touches are thread-safe. One per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/clock.h"
#include "core/error_kind.h"
#include "core/token_usage.h"
#include "resilience/key_rotation.h"
#include "resilience/outcome.h"
#include "routing/loop_alias.h"

namespace sheepdog {

enum class Verdict : unsigned char { kSuccess, kInvalid, kFailure, kNeutral };

// What one attempt's end looks like to the loop.
struct AttemptEnd {
  Verdict verdict = Verdict::kSuccess;
  AttemptOutcome outcome;  // kFailure: the failure (kind, x-should-retry); else ignored
  std::optional<Duration> pushback;  // the upstream's requested wait, if it gave one
  TokenUsage usage;                  // what the answer reported
  Duration latency{};                // upstream time, for the deployment's stats
  // The client has (or is being sent) this attempt's answer, so nothing may follow it: a
  // stream whose head went out, an answer sent, a 502 for an invalid answer.
  bool final = false;
  // kInvalid: send the request again to the same deployment (resample or repair).
  bool resend = false;
};

// One attempt in flight: where it went and what it holds.
struct OpenAttempt {
  const LoopAlias* alias = nullptr;
  size_t target = 0;
  std::optional<size_t> key;       // the pool key it was made with
  int64_t charged_tokens = 0;      // what the key was charged up front
  RetryBudget* retry_slot = nullptr;  // the budget whose retry slot it holds, if any
};

// What settling did, for the attempt record and the loop's next step.
struct Settlement {
  std::optional<ErrorKind> error;  // kFailure: the kind; kInvalid: invalid_tool_call;
                                   // kNeutral: cancelled; kSuccess: none
  bool key_refused = false;        // the key was refused and now rests
  bool key_free_now = false;       // key_refused, and another key of the pool has room now
};

class AttemptLedger {
 public:
  explicit AttemptLedger(KeyRotationPolicy rotation = {}) : rotation_(rotation) {}

  // Settles `open` with `end` (see the table above). REQUIRES: called once per opened attempt.
  Settlement settle(const OpenAttempt& open, const AttemptEnd& end, TimePoint now);

  // The call was admitted by the breaker but never made (no key had room): frees the slot.
  static void release_unmade(const LoopTarget& target, TimePoint now);

  const TokenUsage& usage() const { return usage_; }  // summed over every settled attempt
  const KeyRotationPolicy& rotation() const { return rotation_; }

 private:
  const KeyRotationPolicy rotation_;
  TokenUsage usage_;
};

}  // namespace sheepdog
