// map_give_up: which status, error body and retry-after a failed request gets.
#include "gateway/error_mapping.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "providers/openai_provider.h"

namespace sheepdog::gateway {
namespace {

namespace json = boost::json;

const providers::OpenAIProvider kProvider;

AttemptFailure failure(ErrorKind kind, int status = 0, std::string body = {}) {
  AttemptFailure f;
  f.kind = kind;
  f.deployment = "p/m";
  f.provider = &kProvider;
  f.response.status = status;
  f.response.body = std::move(body);
  if (status == 0) {
    f.response.transport = TransportResult::kConnectFailed;
    f.detail = "connect refused";
  }
  return f;
}

GiveUpContext context(GiveUpReason reason, std::optional<Duration> retry_after = std::nullopt) {
  GiveUpContext c;
  c.model = "gpt-4o";
  c.attempts = 3;
  c.reason = reason;
  c.retry_after = retry_after;
  c.total_timeout = seconds(60);
  return c;
}

json::object error_of(const ErrorAnswer& a) {
  return json::parse(a.body).as_object().at("error").as_object();
}

TEST(ErrorMappingTest, RateLimitedIs429WithThePushback) {
  const AttemptFailure f = failure(ErrorKind::kRateLimited, 429);
  const ErrorAnswer a = map_give_up(&f, context(GiveUpReason::kMaxAttempts, seconds(7)));
  EXPECT_EQ(a.status, 429);
  EXPECT_EQ(a.retry_after, seconds(7));
  EXPECT_EQ(error_of(a).at("code").as_string(), "rate_limit_exceeded");
  EXPECT_TRUE(error_of(a).at("param").is_null());
}

TEST(ErrorMappingTest, OverloadAndOpenBreakersAre503WithRetryAfter) {
  const AttemptFailure f = failure(ErrorKind::kOverloaded, 503);
  const ErrorAnswer a = map_give_up(&f, context(GiveUpReason::kMaxAttempts));
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.retry_after, seconds(1));  // the default when nobody said
  const ErrorAnswer open =
      map_give_up(nullptr, context(GiveUpReason::kAllCircuitsOpen, milliseconds(2500)));
  EXPECT_EQ(open.status, 503);
  EXPECT_EQ(open.retry_after, milliseconds(2500));
  EXPECT_EQ(error_of(open).at("code").as_string(), "circuit_open");
  EXPECT_EQ(retry_after_seconds(milliseconds(2500)), "3");
  EXPECT_EQ(retry_after_seconds(Duration::zero()), "1");
}

TEST(ErrorMappingTest, ServerSideFailuresAre502And504) {
  for (ErrorKind kind : {ErrorKind::kServerError, ErrorKind::kConnectFailed,
                         ErrorKind::kConnectionReset, ErrorKind::kMalformedResponse}) {
    const AttemptFailure f = failure(kind, kind == ErrorKind::kServerError ? 500 : 0);
    const ErrorAnswer a = map_give_up(&f, context(GiveUpReason::kMaxAttempts));
    EXPECT_EQ(a.status, 502) << to_string(kind);
    EXPECT_FALSE(a.retry_after);
  }
  const AttemptFailure timeout = failure(ErrorKind::kTimeout);
  EXPECT_EQ(map_give_up(&timeout, context(GiveUpReason::kMaxAttempts)).status, 504);
  const AttemptFailure f = failure(ErrorKind::kServerError, 500);
  const ErrorAnswer deadline = map_give_up(&f, context(GiveUpReason::kDeadline));
  EXPECT_EQ(deadline.status, 504);
  EXPECT_EQ(error_of(deadline).at("code").as_string(), "deadline_exceeded");
  EXPECT_NE(error_of(deadline).at("message").as_string().find("60 s"), json::string::npos);
}

TEST(ErrorMappingTest, ClientErrorsRelayTheUpstreamAnswer) {
  const std::string body = R"({"error":{"message":"bad","type":"invalid_request_error"}})";
  const AttemptFailure f = failure(ErrorKind::kBadRequest, 422, body);
  const ErrorAnswer a = map_give_up(&f, context(GiveUpReason::kNotRetryable));
  EXPECT_EQ(a.status, 422);
  EXPECT_EQ(a.body, body);
  const AttemptFailure ctx = failure(ErrorKind::kContextLengthExceeded, 400, body);
  EXPECT_EQ(map_give_up(&ctx, context(GiveUpReason::kNoAlternative)).status, 400);
}

TEST(ErrorMappingTest, UpstreamAuthIsTheGatewaysProblemUnlessTheKeyIsTheClients) {
  AttemptFailure f = failure(ErrorKind::kAuth, 401, R"({"error":{"message":"bad key"}})");
  const ErrorAnswer ours = map_give_up(&f, context(GiveUpReason::kNotRetryable));
  EXPECT_EQ(ours.status, 502);
  EXPECT_EQ(error_of(ours).at("code").as_string(), "upstream_auth_failed");
  f.client_key = true;
  const ErrorAnswer theirs = map_give_up(&f, context(GiveUpReason::kNotRetryable));
  EXPECT_EQ(theirs.status, 401);
  EXPECT_EQ(theirs.body, R"({"error":{"message":"bad key"}})");
}

TEST(ErrorMappingTest, StreamErrorEventIsOneSseEvent) {
  const std::string event = stream_error_event("broken", "upstream_stream_interrupted");
  ASSERT_TRUE(event.starts_with("data: {\"error\":"));
  ASSERT_TRUE(event.ends_with("\n\n"));
  const json::object error =
      json::parse(event.substr(6, event.size() - 8)).as_object().at("error").as_object();
  EXPECT_EQ(error.at("message").as_string(), "broken");
  EXPECT_EQ(error.at("code").as_string(), "upstream_stream_interrupted");
}

TEST(ErrorMappingTest, ResponseTooLargeIs502WithItsOwnCodeAndTheLimitToRaise) {
  AttemptFailure f = failure(ErrorKind::kResponseTooLarge);
  f.response.transport = TransportResult::kResponseTooLarge;
  f.detail = "the response from http://127.0.0.1:8000 is larger than the limit of 10 bytes";
  f.origin = upstream::Origin{false, "127.0.0.1", 8000};
  const ErrorAnswer a = map_give_up(&f, context(GiveUpReason::kNoAlternative));
  EXPECT_EQ(a.status, 502);
  EXPECT_FALSE(a.retry_after);
  EXPECT_EQ(error_of(a).at("code").as_string(), "upstream_response_too_large");
  const std::string message(error_of(a).at("message").as_string());
  EXPECT_NE(message.find("upstream_max_response_bytes"), std::string::npos) << message;
  EXPECT_EQ(message.find("127.0.0.1"), std::string::npos) << message;
}

// Issue 10's repro: "connect 127.0.0.1:8000: Connection refused" reached the client.
TEST(ErrorMappingTest, MessagesNameTheDeploymentNotItsAddress) {
  AttemptFailure f = failure(ErrorKind::kConnectFailed);
  f.deployment = "openai/gpt-4o";
  f.detail = "connect 127.0.0.1:8000: Connection refused";
  f.origin = upstream::Origin{false, "127.0.0.1", 8000};
  const ErrorAnswer a = map_give_up(&f, context(GiveUpReason::kMaxAttempts));
  const std::string message(error_of(a).at("message").as_string());
  EXPECT_EQ(message.find("127.0.0.1"), std::string::npos) << message;
  EXPECT_EQ(message.find("8000"), std::string::npos) << message;
  EXPECT_NE(message.find("'openai/gpt-4o'"), std::string::npos) << message;
  EXPECT_NE(message.find("connect upstream: Connection refused"), std::string::npos) << message;
}

TEST(ErrorMappingTest, HideOriginCoversEveryFormTheClientWrites) {
  const upstream::Origin v4{true, "10.1.2.3", 8443};
  EXPECT_EQ(hide_origin("reading the response from https://10.1.2.3:8443: end of stream", v4),
            "reading the response from upstream: end of stream");
  EXPECT_EQ(hide_origin("TLS handshake with 10.1.2.3:8443 failed: x", v4),
            "TLS handshake with upstream failed: x");
  const upstream::Origin v6{false, "::1", 9000};
  EXPECT_EQ(hide_origin("connect [::1]:9000: Connection refused", v6),
            "connect upstream: Connection refused");
  const upstream::Origin named{true, "llm.internal", 443};
  EXPECT_EQ(hide_origin("resolve llm.internal: Host not found", named),
            "resolve upstream: Host not found");
  // Only whole names: a host inside a longer name stays; another port still loses the host.
  const upstream::Origin short_host{false, "h", 80};
  EXPECT_EQ(hide_origin("from h.b and h:8080 and h:80", short_host),
            "from h.b and upstream:8080 and upstream");
  EXPECT_EQ(hide_origin("no address here", upstream::Origin{}), "no address here");
}

}  // namespace
}  // namespace sheepdog::gateway
