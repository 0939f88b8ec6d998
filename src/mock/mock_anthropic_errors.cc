// The error responses of the mock's faults on /v1/messages, as api.anthropic.com (or the proxy
// in front of it) sends them (see mock_anthropic.h).
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <ctime>

#include "mock/mock_anthropic.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;

// Anthropic's 529 is not in the IANA registry; its reason phrase is Anthropic's own.
constexpr unsigned kOverloadedStatus = 529;
// A fault's 429 states a typical first-tier limit.
constexpr int64_t kFaultRequestsPerMinute = 50;

// "2024-04-22T18:12:35Z": RFC 3339, as the anthropic-ratelimit-*-reset headers give it; rounded
// up to the second, so it is never earlier than the actual reset.
std::string rfc3339(WallTime time) {
  const auto since_epoch = time.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  if (secs < since_epoch) {
    ++secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  const size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buffer, n);
}

// 1234567 -> "1,234,567", as Anthropic's messages print limits.
std::string grouped(int64_t n) {
  std::string digits = std::to_string(n);
  for (auto i = static_cast<std::ptrdiff_t>(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(static_cast<size_t>(i), ",");
  }
  return digits;
}

server::HttpResponse rate_limited(const FaultProfile& profile, const ErrorContext& context) {
  const KeyLimitRefusal limit =
      context.refusal ? *context.refusal
                      : KeyLimitRefusal{false, kFaultRequestsPerMinute, kFaultRequestsPerMinute, 1,
                                        profile.retry_after};
  server::HttpResponse response = anthropic_error(
      429, "rate_limit_error",
      "This request would exceed the rate limit for your organization "
      "(00000000-0000-4000-8000-5eed0000d06e) of " +
          grouped(limit.limit) + (limit.tokens ? " tokens" : " requests") +
          " per minute. For details, refer to: https://docs.anthropic.com/en/api/rate-limits. "
          "You can see the response headers for current usage. Please reduce the prompt length "
          "or the maximum tokens requested, or try again later. You may also contact sales at "
          "https://www.anthropic.com/contact-sales to discuss your options for a rate limit "
          "increase.",
      context.request_id);
  response.set(http::field::retry_after,
               std::to_string(static_cast<int64_t>(std::ceil(to_seconds(limit.retry_after)))));
  if (context.refusal) {
    response.set("retry-after-ms",
                 std::to_string(static_cast<int64_t>(std::ceil(to_ms(limit.retry_after)))));
  }
  const std::string prefix =
      std::string("anthropic-ratelimit-") + (limit.tokens ? "tokens" : "requests");
  response.set(prefix + "-limit", std::to_string(limit.limit));
  response.set(prefix + "-remaining",
               std::to_string(std::max<int64_t>(0, limit.limit - limit.used)));
  response.set(
      prefix + "-reset",
      rfc3339(context.now + std::chrono::duration_cast<WallTime::duration>(limit.retry_after)));
  return response;
}

}  // namespace

server::HttpResponse anthropic_error(unsigned status, std::string_view type,
                                     std::string_view message, std::string_view request_id) {
  json::object body;
  body["type"] = "error";
  body["error"] = json::object{{"type", type}, {"message", message}};
  if (!request_id.empty()) {
    body["request_id"] = request_id;
  }
  server::HttpResponse response;
  response.version(11);
  response.result(status);
  if (status == kOverloadedStatus) {
    response.reason("Overloaded");
  }
  response.set(http::field::content_type, "application/json");
  if (!request_id.empty()) {
    response.set("request-id", request_id);
  }
  response.body() = json::serialize(body);
  response.prepare_payload();
  return response;
}

server::HttpResponse anthropic_error_response(Outcome outcome, const FaultProfile& profile,
                                              const ErrorContext& context) {
  server::HttpResponse response;
  switch (outcome) {
    case Outcome::kRateLimited:
      response = rate_limited(profile, context);
      break;
    case Outcome::kInsufficientQuota:
      response = anthropic_error(400, "invalid_request_error",
                                 "Your credit balance is too low to access the Anthropic API. "
                                 "Please go to Plans & Billing to upgrade or purchase credits.",
                                 context.request_id);
      break;
    case Outcome::kServiceUnavailable:
      response =
          anthropic_error(kOverloadedStatus, "overloaded_error", "Overloaded", context.request_id);
      response.set(
          http::field::retry_after,
          std::to_string(static_cast<int64_t>(std::ceil(to_seconds(profile.retry_after)))));
      break;
    case Outcome::kBadGateway:
    case Outcome::kGatewayTimeout: {
      // The proxy's page: the same as in front of OpenAI, and no Anthropic request id.
      ErrorContext proxy = context;
      proxy.request_id.clear();
      response = openai_error_response(outcome, FaultProfile{}, proxy);
      break;
    }
    case Outcome::kContextLengthExceeded: {
      const size_t reported = std::max(context.prompt_tokens, context.context_window + 1);
      response = anthropic_error(400, "invalid_request_error",
                                 "prompt is too long: " + std::to_string(reported) + " tokens > " +
                                     std::to_string(context.context_window) + " maximum",
                                 context.request_id);
      break;
    }
    default:  // kServerError, and anything misrouted here
      response = anthropic_error(500, "api_error", "Internal server error", context.request_id);
      break;
  }
  if (profile.should_retry) {
    response.set("x-should-retry", *profile.should_retry ? "true" : "false");
  }
  return response;
}

}  // namespace sheepdog::mock
