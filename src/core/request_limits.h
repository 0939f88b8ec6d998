// Bounds on what a client may ask for, shared by every client API's request checks.
#pragma once

#include <cstdint>

namespace sheepdog {

// No model answers with more than this many tokens (the largest today allow 128k); beyond it a
// max_tokens value is a mistake, or an attempt to keep an upstream busy, not a limit.
inline constexpr int64_t kMaxOutputTokens = int64_t{1} << 20;

}  // namespace sheepdog
