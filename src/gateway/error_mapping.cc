#include "gateway/error_mapping.h"

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace sheepdog::gateway {
namespace {

namespace json = boost::json;

constexpr Duration kDefaultRetryAfter = seconds(1);

std::string describe_failure(const AttemptFailure& last) {
  std::string text = std::string(to_string(last.kind));
  if (last.response.ok() && last.response.status != 0) {
    text += " (HTTP " + std::to_string(last.response.status) + ")";
  } else if (!last.detail.empty()) {
    text += " (" + hide_origin(last.detail, last.origin) + ")";
  }
  return text;
}

// Characters that continue a host name or a port: a match next to one is part of something
// longer ("a" in "a.b", "h:80" in "h:8080").
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

// Replaces `needle` in `text` where it is not part of a longer host name or address.
void replace_bounded(std::string& text, std::string_view needle, std::string_view with) {
  if (needle.empty()) {
    return;
  }
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at)) {
    const size_t end = at + needle.size();
    const bool bounded =
        (at == 0 || !is_name_char(text[at - 1])) && (end == text.size() || !is_name_char(text[end]));
    if (bounded) {
      text.replace(at, needle.size(), with);
      at += with.size();
    } else {
      at = end;
    }
  }
}

std::string attempts_text(int attempts) {
  return std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts");
}

ErrorAnswer relay(const AttemptFailure& last) {
  ErrorAnswer answer;
  answer.status = last.response.status;
  answer.body = last.provider != nullptr ? last.provider->relay_error_body(last.response)
                                         : openai_error_body("The upstream rejected the request.",
                                                             "invalid_request_error");
  return answer;
}

ErrorAnswer answer(int status, std::string message, std::string_view type, std::string_view code) {
  return ErrorAnswer{status, openai_error_body(message, type, code), std::nullopt};
}

}  // namespace

std::string hide_origin(std::string_view detail, const upstream::Origin& origin) {
  std::string text(detail);
  if (origin.host.empty()) {
    return text;
  }
  const std::string port = ":" + std::to_string(origin.port);
  const std::string bracketed = "[" + origin.host + "]";
  // Longest forms first, so that a shorter one never leaves part of a longer one behind.
  replace_bounded(text, origin.key(), "upstream");
  replace_bounded(text, bracketed + port, "upstream");
  replace_bounded(text, origin.host + port, "upstream");
  replace_bounded(text, bracketed, "upstream");
  replace_bounded(text, origin.host, "upstream");
  return text;
}

std::string openai_error_body(std::string_view message, std::string_view type,
                              std::string_view code, std::string_view param) {
  json::object error;
  error["message"] = message;
  error["type"] = type;
  if (param.empty()) {
    error["param"] = nullptr;
  } else {
    error["param"] = param;
  }
  if (code.empty()) {
    error["code"] = nullptr;
  } else {
    error["code"] = code;
  }
  json::object wrapper;
  wrapper["error"] = std::move(error);
  return json::serialize(wrapper);
}

std::string stream_error_event(std::string_view message, std::string_view code,
                               std::string_view type) {
  return "data: " + openai_error_body(message, type, code) + "\n\n";
}

std::string retry_after_seconds(Duration wait) {
  const auto whole = std::chrono::ceil<seconds>(wait).count();
  return std::to_string(whole < 1 ? 1 : whole);
}

ErrorAnswer map_give_up(const AttemptFailure* last, const GiveUpContext& context) {
  const std::string model(context.model);
  ErrorAnswer result;
  if (last == nullptr || context.reason == GiveUpReason::kAllCircuitsOpen) {
    result = answer(503,
                    "Every deployment of model '" + model +
                        "' is temporarily unavailable (circuit breakers open); retry later.",
                    "server_error", "circuit_open");
  } else if (context.reason == GiveUpReason::kKeysExhausted) {
    const std::string when = context.retry_after
                                 ? "; the first frees up in " +
                                       fmt::format("{:.1f}", to_seconds(*context.retry_after)) +
                                       " s, after the request's deadline"
                                 : "";
    result = answer(
        429, "Model '" + model + "' is rate limited by the gateway: " + last->detail + when + ".",
        "rate_limit_error", "rate_limit_exceeded");
  } else if (context.reason == GiveUpReason::kDeadline && last->kind != ErrorKind::kBadRequest) {
    result =
        answer(504,
               "The request to model '" + model +
                   "' did not complete within its total "
                   "timeout of " +
                   fmt::format("{:g}", to_seconds(context.total_timeout)) + " s (" +
                   attempts_text(context.attempts) + "; last: " + describe_failure(*last) + ").",
               "server_error", "deadline_exceeded");
  } else {
    const std::string suffix =
        " after " + attempts_text(context.attempts) + " (last deployment '" + last->deployment +
        "': " + describe_failure(*last) + ")" +
        (context.reason == GiveUpReason::kBudgetExhausted ? "; the retry budget is exhausted"
                                                          : "") +
        ".";
    switch (last->kind) {
      case ErrorKind::kRateLimited:
        result = answer(429, "Model '" + model + "' is rate limited upstream" + suffix,
                        "rate_limit_error", "rate_limit_exceeded");
        break;
      case ErrorKind::kQuotaExhausted:
        result = answer(503, "The upstream quota for model '" + model + "' is exhausted" + suffix,
                        "server_error", "upstream_quota_exhausted");
        break;
      case ErrorKind::kOverloaded:
      case ErrorKind::kCircuitOpen:
        result = answer(503, "Model '" + model + "' is overloaded upstream" + suffix,
                        "server_error", "upstream_overloaded");
        break;
      case ErrorKind::kTimeout:
      case ErrorKind::kDeadlineExceeded:
        result = answer(504, "Model '" + model + "' timed out upstream" + suffix, "server_error",
                        "upstream_timeout");
        break;
      case ErrorKind::kAuth:
        if (last->client_key && last->response.ok() && last->response.status != 0) {
          result = relay(*last);
        } else {
          result = answer(502,
                          "The upstream rejected the gateway's credentials for model '" + model +
                              "'" + suffix +
                              " Check the provider's api_keys in the gateway "
                              "configuration.",
                          "server_error", "upstream_auth_failed");
        }
        break;
      case ErrorKind::kBadRequest:
      case ErrorKind::kContextLengthExceeded:
      case ErrorKind::kContentFiltered:
        if (last->response.ok() && last->response.status >= 400) {
          result = relay(*last);
        } else {
          result = answer(400, "The upstream rejected the request" + suffix,
                          "invalid_request_error", std::string(to_string(last->kind)));
        }
        break;
      case ErrorKind::kResponseTooLarge:
        result = answer(502,
                        "The upstream's answer for model '" + model +
                            "' is larger than the gateway accepts" + suffix +
                            " Ask for a shorter answer, or raise the limit "
                            "(server.upstream_max_response_bytes / "
                            "upstream_max_embeddings_bytes).",
                        "server_error", "upstream_response_too_large");
        break;
      default:
        result = answer(502, "Model '" + model + "' failed upstream" + suffix, "server_error",
                        "upstream_error");
        break;
    }
  }
  if (result.status == 429 || result.status == 503) {
    result.retry_after = context.retry_after.value_or(kDefaultRetryAfter);
  }
  return result;
}

}  // namespace sheepdog::gateway
