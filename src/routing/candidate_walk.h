// Which deployment of one alias takes the next attempt of a request. The router gives the
// preference order once per request; the picker walks it as attempts fail:
//   first attempt:   the first deployment in order whose breaker admits the call;
//   "next" retry:    an untried deployment first (in order), then one tried before whose
//                    failure was transient (cyclically after the current one), the current one
//                    last, each only if its breaker admits;
//   "same" retry:    the current deployment, or as "next" if its breaker now refuses.
// Deployments excluded for this request (a failure that says "futile here", such as an
// exhausted quota) are never picked again.
//
// Admission goes through the breaker (try_acquire), so a half-open breaker's probe slot is
// taken only by the deployment actually called: every successful acquire() must be followed by
// one breaker record() or release() for the returned deployment (the attempt ledger's job).
// Pure; per request; not thread-safe. Used by the attempt loop (attempt_loop.h) alone.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "routing/loop_alias.h"
#include "routing/strategies.h"

namespace sheepdog {

class CandidateWalk {
 public:
  enum class Want : unsigned char { kFirst, kSame, kNext };

  // `order`: positions in alias.targets, most preferred first (Router::plan()).
  // `alias` must outlive the walk.
  CandidateWalk(const LoopAlias& alias, std::vector<size_t> order);

  // Chooses and admits a deployment; nullopt iff no candidate's breaker admits a call now.
  std::optional<size_t> acquire(Want want, TimePoint now);

  // Never pick deployment `i` again for this request.
  void exclude(size_t i);

  // Whether a deployment other than the current one could take the next attempt: in the
  // order, not excluded, and its breaker not open at `now`.
  bool has_alternative(TimePoint now) const;

  // The earliest time an open breaker among the candidates half-opens; nullopt if none is
  // open. For the retry-after of a "every breaker is open" answer.
  std::optional<TimePoint> earliest_reopen(TimePoint now) const;

  std::optional<size_t> current() const { return current_; }
  const std::vector<size_t>& order() const { return order_; }

 private:
  bool try_admit(size_t i, TimePoint now);

  const LoopAlias& alias_;
  std::vector<size_t> order_;
  TargetMask tried_;
  TargetMask excluded_;
  std::optional<size_t> current_;
};

}  // namespace sheepdog
