// Token counts of one attempt or one request, as the upstream reported them. Shared by the
// providers (which read them), the attempt loop (which sums them and corrects key charges) and
// the observer (which counts them).
#pragma once

#include <cstdint>

namespace sheepdog {

// `reported` is false when the upstream did not say.
struct TokenUsage {
  bool reported = false;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;

  int64_t total() const { return prompt_tokens + completion_tokens; }

  // Sums another attempt's usage into this one (a request's usage is every attempt's: repaired
  // and resampled answers were paid for too). Reported iff either was.
  TokenUsage& operator+=(const TokenUsage& other) {
    reported = reported || other.reported;
    prompt_tokens += other.prompt_tokens;
    completion_tokens += other.completion_tokens;
    return *this;
  }
};

}  // namespace sheepdog
