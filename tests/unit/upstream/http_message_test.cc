#include "upstream/http_message.h"

#include <gtest/gtest.h>

namespace sheepdog::upstream {
namespace {

TEST(HttpMessageTest, HeadersAreCaseInsensitiveAndOrdered) {
  Headers h;
  h.add("Retry-After", "3");
  h.add("X-RateLimit-Reset-Tokens", "20ms");
  h.add("Set-Cookie", "a=1");
  h.add("set-cookie", "b=2");
  EXPECT_EQ(h.get("retry-after"), "3");
  EXPECT_EQ(h.get("RETRY-AFTER"), "3");
  EXPECT_EQ(h.value("x-ratelimit-reset-tokens"), "20ms");
  EXPECT_EQ(h.get("missing"), std::nullopt);
  EXPECT_EQ(h.value("missing"), "");
  EXPECT_EQ(h.get("SET-COOKIE"), "a=1");  // the first of repeated fields
  EXPECT_EQ(h.size(), 4u);
  h.set("set-cookie", "c=3");
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.fields().back(), (Headers::Field{"set-cookie", "c=3"}));
  h.remove("Retry-after");
  EXPECT_FALSE(h.contains("retry-after"));
}

TEST(HttpMessageTest, PushbackHeaders) {
  Headers h;
  h.add("retry-after-ms", "1500");
  h.add("X-Ratelimit-Reset-Requests", "1m6.5s");
  PushbackHeaders p = pushback_headers(h);
  EXPECT_EQ(p.retry_after, "");
  EXPECT_EQ(p.retry_after_ms, "1500");
  EXPECT_EQ(p.ratelimit_reset_requests, "1m6.5s");
  EXPECT_EQ(p.ratelimit_reset_tokens, "");
}

TEST(HttpMessageTest, AttemptResponseForClassification) {
  UpstreamResponse r;
  r.status = 429;
  r.headers.add("X-Should-Retry", "false");
  r.body = std::string(kBodyScanLimit + 10, 'x');
  AttemptResponse a = attempt_response(r);
  EXPECT_EQ(a.transport, TransportResult::kOk);
  EXPECT_EQ(a.http_status, 429);
  EXPECT_EQ(a.body.size(), kBodyScanLimit);
  EXPECT_EQ(a.should_retry, false);

  UpstreamResponse failed;
  failed.transport = TransportResult::kTimeout;
  EXPECT_EQ(attempt_response(failed).transport, TransportResult::kTimeout);
  EXPECT_EQ(attempt_response(failed).should_retry, std::nullopt);
}

TEST(HttpMessageTest, ParseEndpoint) {
  auto e = parse_endpoint("https://api.openai.com/v1/chat/completions");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->origin, (Origin{true, "api.openai.com", 443}));
  EXPECT_EQ(e->target, "/v1/chat/completions");
  EXPECT_EQ(e->origin.key(), "https://api.openai.com:443");
  EXPECT_EQ(e->origin.host_header(), "api.openai.com");

  e = parse_endpoint("HTTP://127.0.0.1:8080");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->origin, (Origin{false, "127.0.0.1", 8080}));
  EXPECT_EQ(e->target, "/");
  EXPECT_EQ(e->origin.host_header(), "127.0.0.1:8080");

  e = parse_endpoint("http://[::1]:9000/v1/models?limit=2");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->origin.host, "::1");
  EXPECT_EQ(e->origin.key(), "http://[::1]:9000");
  EXPECT_EQ(e->origin.host_header(), "[::1]:9000");
  EXPECT_EQ(e->target, "/v1/models?limit=2");

  EXPECT_FALSE(parse_endpoint("ftp://example.com/"));
  EXPECT_FALSE(parse_endpoint("https://user:pw@example.com/"));
  EXPECT_FALSE(parse_endpoint("http://example.com:0/"));
  EXPECT_FALSE(parse_endpoint("http://example.com:70000/"));
  EXPECT_FALSE(parse_endpoint("/relative/path"));
  EXPECT_FALSE(parse_endpoint("http:///nohost"));
}

}  // namespace
}  // namespace sheepdog::upstream
