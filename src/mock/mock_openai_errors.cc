// The error responses of the mock's faults, as api.openai.com (or the proxy in front of it)
// sends them (see mock_openai.h).
#include <charconv>
#include <cmath>

#include "mock/mock_openai.h"

namespace sheepdog::mock {
namespace {

std::string html_page(std::string_view title) {
  return "<html>\r\n<head><title>" + std::string(title) +
         "</title></head>\r\n<body>\r\n<center><h1>" + std::string(title) +
         "</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n";
}

std::string seconds_text(Duration d) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), to_seconds(d));
  return std::string(buffer, result.ptr);
}

}  // namespace

server::HttpResponse openai_error_response(Outcome outcome, const FaultProfile& profile,
                                           const ErrorContext& context) {
  using server::error_response;
  const Duration retry_after = context.refusal ? context.refusal->retry_after : profile.retry_after;
  const auto retry_seconds = static_cast<int64_t>(std::ceil(to_seconds(retry_after)));
  const auto retry_ms = static_cast<int64_t>(std::ceil(to_ms(retry_after)));
  const auto add_retry_after = [&](server::HttpResponse& response) {
    response.set(http::field::retry_after, std::to_string(retry_seconds));
    response.set("retry-after-ms", std::to_string(retry_ms));
  };
  server::HttpResponse response;
  switch (outcome) {
    case Outcome::kRateLimited: {
      // A fault states a typical limit of 60 RPM; a key's own limit states itself.
      const KeyLimitRefusal limit = context.refusal
                                        ? *context.refusal
                                        : KeyLimitRefusal{false, 60, 60, 1, profile.retry_after};
      const std::string kind = limit.tokens ? "tokens" : "requests";
      response = error_response(
          http::status::too_many_requests,
          {"Rate limit reached for " + context.model + " in organization org-sheepdog-mock on " +
               (limit.tokens ? "tokens per min (TPM)" : "requests per min (RPM)") + ": Limit " +
               std::to_string(limit.limit) + ", Used " + std::to_string(limit.used) +
               ", Requested " + std::to_string(limit.requested) + ". Please try again in " +
               seconds_text(retry_after) +
               "s. Visit https://platform.openai.com/account/rate-limits to learn more.",
           kind, std::nullopt, "rate_limit_exceeded"});
      add_retry_after(response);
      response.set("x-ratelimit-limit-" + kind, std::to_string(limit.limit));
      response.set("x-ratelimit-remaining-" + kind,
                   std::to_string(std::max<int64_t>(0, limit.limit - limit.used)));
      response.set("x-ratelimit-reset-" + kind, seconds_text(retry_after) + "s");
      if (!context.refusal) {
        response.set("x-ratelimit-limit-tokens", "150000");
        response.set("x-ratelimit-remaining-tokens", "150000");
        response.set("x-ratelimit-reset-tokens", "0s");
      }
      break;
    }
    case Outcome::kInsufficientQuota:
      response = error_response(
          http::status::too_many_requests,
          {"You exceeded your current quota, please check your plan and billing details. For "
           "more information on this error, read the docs: "
           "https://platform.openai.com/docs/guides/error-codes/api-errors.",
           "insufficient_quota", std::nullopt, "insufficient_quota"});
      break;
    case Outcome::kServiceUnavailable:
      response = error_response(http::status::service_unavailable,
                                {"The engine is currently overloaded, please try again later.",
                                 "server_error", std::nullopt, std::nullopt});
      add_retry_after(response);
      break;
    case Outcome::kBadGateway:
    case Outcome::kGatewayTimeout: {
      const bool bad_gateway = outcome == Outcome::kBadGateway;
      response = server::HttpResponse(
          bad_gateway ? http::status::bad_gateway : http::status::gateway_timeout, 11);
      response.set(http::field::content_type, "text/html");
      response.body() = html_page(bad_gateway ? "502 Bad Gateway" : "504 Gateway Time-out");
      response.prepare_payload();
      break;
    }
    case Outcome::kContextLengthExceeded: {
      const size_t reported = std::max(context.prompt_tokens, context.context_window + 1);
      response = error_response(
          http::status::bad_request,
          {"This model's maximum context length is " + std::to_string(context.context_window) +
               " tokens. However, your messages resulted in " + std::to_string(reported) +
               " tokens. Please reduce the length of the messages.",
           "invalid_request_error", "messages", "context_length_exceeded"});
      break;
    }
    default:  // kServerError, and anything misrouted here
      response = error_response(
          http::status::internal_server_error,
          {"The server had an error while processing your request. Sorry about that!",
           "server_error", std::nullopt, std::nullopt});
      break;
  }
  if (!context.request_id.empty()) {
    response.set("x-request-id", context.request_id);
  }
  if (profile.should_retry) {
    response.set("x-should-retry", *profile.should_retry ? "true" : "false");
  }
  return response;
}

}  // namespace sheepdog::mock
