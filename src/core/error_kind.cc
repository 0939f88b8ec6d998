#include "core/error_kind.h"

namespace sheepdog {
namespace {

struct KindInfo {
  std::string_view name;
  Disposition disposition;
};

// Indexed by ErrorKind. Defaults follow the official SDKs (retry 408, 429, 5xx and transport
// errors) and add the gateway's extra option, falling back to another deployment, for the
// kinds where the same call elsewhere can succeed but the same call here cannot. The SDKs also
// retry 409 (a lock timeout inside the provider); we classify it as bad_request because a
// conflict on a chat completion is not a transient fault we can see, and a policy can
// override it with `x-should-retry` or `on:`.
constexpr std::array<KindInfo, kErrorKindCount> kKinds = {{
    {"rate_limited", Disposition::kRetry},
    {"quota_exhausted", Disposition::kFallBack},
    {"overloaded", Disposition::kRetry},
    {"server_error", Disposition::kRetry},
    {"timeout", Disposition::kRetry},
    {"connect_failed", Disposition::kRetry},
    {"connection_reset", Disposition::kRetry},
    // Fall back: another deployment (other credentials, another upstream) may well answer; with
    // none left the request fails as before (issue 11: `--upstream A --upstream B` with A
    // refusing the key never tried B).
    {"auth", Disposition::kFallBack},
    {"bad_request", Disposition::kFail},
    {"context_length_exceeded", Disposition::kFallBack},
    {"content_filtered", Disposition::kFallBack},
    {"malformed_response", Disposition::kRetry},
    {"response_too_large", Disposition::kFallBack},
    {"invalid_tool_call", Disposition::kRetry},
    {"budget_exceeded", Disposition::kFail},
    {"circuit_open", Disposition::kFallBack},
    {"deadline_exceeded", Disposition::kFail},
    {"cancelled", Disposition::kFail},
}};

constexpr std::array<ErrorKind, kErrorKindCount> make_all_kinds() {
  std::array<ErrorKind, kErrorKindCount> kinds{};
  for (size_t i = 0; i < kErrorKindCount; ++i) {
    kinds[i] = static_cast<ErrorKind>(i);
  }
  return kinds;
}
constexpr std::array<ErrorKind, kErrorKindCount> kAllKinds = make_all_kinds();

}  // namespace

std::string_view to_string(ErrorKind kind) { return kKinds[static_cast<size_t>(kind)].name; }

std::string_view to_string(Disposition disposition) {
  switch (disposition) {
    case Disposition::kRetry:
      return "retry";
    case Disposition::kFallBack:
      return "fallback";
    case Disposition::kFail:
      return "fail";
  }
  return "fail";
}

std::optional<ErrorKind> parse_error_kind(std::string_view name) {
  for (size_t i = 0; i < kErrorKindCount; ++i) {
    if (kKinds[i].name == name) {
      return static_cast<ErrorKind>(i);
    }
  }
  return std::nullopt;
}

std::optional<Disposition> parse_disposition(std::string_view name) {
  for (Disposition d : {Disposition::kRetry, Disposition::kFallBack, Disposition::kFail}) {
    if (to_string(d) == name) {
      return d;
    }
  }
  return std::nullopt;
}

Disposition default_disposition(ErrorKind kind) {
  return kKinds[static_cast<size_t>(kind)].disposition;
}

const std::array<ErrorKind, kErrorKindCount>& all_error_kinds() { return kAllKinds; }

}  // namespace sheepdog
