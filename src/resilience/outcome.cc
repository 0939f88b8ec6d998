#include "resilience/outcome.h"

#include <algorithm>
#include <array>
#include <cstddef>

namespace sheepdog {
namespace {

// Why a substring scan and not a JSON parse: the body may be cut at kBodyScanLimit (so not valid
// JSON), may be an HTML page from a proxy in front of the provider, and error codes sit in
// different fields per provider (OpenAI `error.code`/`error.type`, Anthropic `error.type`,
// Azure `error.code` plus `innererror`). The needles are specific codes and phrases that do not
// occur by accident in an error body, and this runs only on the failure path. The body is
// lower-cased once into a stack buffer, only for statuses that need a hint, so that each needle
// is a plain memchr-driven find: a few hundred ns for a typical 250-byte error, no allocation.

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// The first kBodyScanLimit bytes of a body, lower-cased.
class LoweredBody {
 public:
  explicit LoweredBody(std::string_view body) : size_(std::min(body.size(), kBodyScanLimit)) {
    std::transform(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(size_), buffer_.begin(),
                   lower);
  }
  // REQUIRES: `needle` is lower case.
  bool contains(std::string_view needle) const {
    return std::string_view(buffer_.data(), size_).find(needle) != std::string_view::npos;
  }
  template <size_t N>
  bool contains_any(const std::array<std::string_view, N>& needles) const {
    return std::any_of(needles.begin(), needles.end(),
                       [this](std::string_view needle) { return contains(needle); });
  }

 private:
  std::array<char, kBodyScanLimit> buffer_;
  size_t size_;
};

// OpenAI puts `insufficient_quota` (code and type) on the 429 for an exhausted plan, with the
// message "You exceeded your current quota"; older accounts see the billing codes.
constexpr std::array<std::string_view, 4> kQuotaHints = {
    "insufficient_quota", "billing_hard_limit_reached", "billing_not_active",
    "exceeded your current quota"};
// OpenAI: code `context_length_exceeded`, message "This model's maximum context length is ...".
// Anthropic: invalid_request_error with "prompt is too long: N tokens > M maximum".
constexpr std::array<std::string_view, 3> kContextHints = {
    "context_length_exceeded", "maximum context length", "prompt is too long"};
// Azure OpenAI: code `content_filter`; OpenAI images/moderation: `content_policy_violation`.
constexpr std::array<std::string_view, 2> kContentHints = {"content_filter",
                                                           "content_policy_violation"};
// Anthropic answers an account out of credit with a 400 invalid_request_error: "Your credit
// balance is too low to access the Anthropic API...". Not the client's mistake: another
// provider can serve the request.
constexpr std::array<std::string_view, 1> kCreditHints = {"credit balance is too low"};
// Anthropic can report overload on a plain 500 as well as on its own 529.
constexpr std::array<std::string_view, 1> kOverloadHints = {"overloaded_error"};

ErrorKind classify_server_error(int status, std::string_view raw_body) {
  if (status == 503 || status == 529) {
    return ErrorKind::kOverloaded;
  }
  if (LoweredBody(raw_body).contains_any(kOverloadHints)) {
    return ErrorKind::kOverloaded;
  }
  return ErrorKind::kServerError;
}

ErrorKind classify_client_error(int status, std::string_view raw_body) {
  switch (status) {
    case 401:
    case 403:
      return ErrorKind::kAuth;
    case 402:
      return ErrorKind::kQuotaExhausted;
    case 408:
      return ErrorKind::kTimeout;
    case 429:
      // Anthropic's `rate_limit_error` and OpenAI's `rate_limit_exceeded` are plain rate limits.
      return LoweredBody(raw_body).contains_any(kQuotaHints) ? ErrorKind::kQuotaExhausted
                                                             : ErrorKind::kRateLimited;
    default:
      break;
  }
  // Context length first: an over-long prompt can also trip a filter's size check, and a larger
  // model is the more useful fallback. Anthropic's `invalid_request_error` without either hint
  // is the client's own mistake.
  const LoweredBody body(raw_body);
  if (body.contains_any(kCreditHints)) {
    return ErrorKind::kQuotaExhausted;
  }
  if (body.contains_any(kContextHints)) {
    return ErrorKind::kContextLengthExceeded;
  }
  if (body.contains_any(kContentHints)) {
    return ErrorKind::kContentFiltered;
  }
  return ErrorKind::kBadRequest;
}

}  // namespace

AttemptOutcome classify(const AttemptResponse& response) {
  AttemptOutcome outcome;
  outcome.should_retry = response.should_retry;
  switch (response.transport) {
    case TransportResult::kOk:
      break;
    case TransportResult::kConnectFailed:
      outcome.error = ErrorKind::kConnectFailed;
      return outcome;
    case TransportResult::kConnectionReset:
      outcome.error = ErrorKind::kConnectionReset;
      return outcome;
    case TransportResult::kTimeout:
      outcome.error = ErrorKind::kTimeout;
      return outcome;
    case TransportResult::kCancelled:
      outcome.error = ErrorKind::kCancelled;
      return outcome;
    case TransportResult::kResponseTooLarge:
      outcome.error = ErrorKind::kResponseTooLarge;
      return outcome;
    case TransportResult::kMalformed:
      outcome.error = ErrorKind::kMalformedResponse;
      return outcome;
  }

  const int status = response.http_status;
  if (status >= 200 && status < 300) {
    return outcome;
  }
  if (status >= 400 && status < 500) {
    outcome.error = classify_client_error(status, response.body);
  } else if (status >= 500) {
    outcome.error = classify_server_error(status, response.body);
  } else {
    // 1xx or 3xx as a final answer (we never follow redirects), or no status at all.
    outcome.error = ErrorKind::kMalformedResponse;
  }
  return outcome;
}

std::optional<bool> parse_should_retry(std::string_view header_value) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (!header_value.empty() && is_space(header_value.front())) {
    header_value.remove_prefix(1);
  }
  while (!header_value.empty() && is_space(header_value.back())) {
    header_value.remove_suffix(1);
  }
  const auto equals_ci = [header_value](std::string_view word) {
    return header_value.size() == word.size() &&
           std::equal(word.begin(), word.end(), header_value.begin(),
                      [](char w, char h) { return w == lower(h); });
  };
  if (equals_ci("true")) {
    return true;
  }
  if (equals_ci("false")) {
    return false;
  }
  return std::nullopt;
}

}  // namespace sheepdog
