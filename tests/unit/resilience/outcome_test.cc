#include "resilience/outcome.h"

#include <gtest/gtest.h>

#include <string>

namespace sheepdog {
namespace {

AttemptResponse http(int status, std::string_view body = "") {
  AttemptResponse response;
  response.http_status = status;
  response.body = body;
  return response;
}

std::optional<ErrorKind> kind_of(int status, std::string_view body = "") {
  return classify(http(status, body)).error;
}

TEST(ClassifyTest, TransportResults) {
  const struct {
    TransportResult transport;
    ErrorKind kind;
  } cases[] = {
      {TransportResult::kConnectFailed, ErrorKind::kConnectFailed},
      {TransportResult::kConnectionReset, ErrorKind::kConnectionReset},
      {TransportResult::kTimeout, ErrorKind::kTimeout},
      {TransportResult::kCancelled, ErrorKind::kCancelled},
  };
  for (const auto& c : cases) {
    AttemptResponse response;
    response.transport = c.transport;
    response.http_status = 200;  // ignored: the exchange did not complete
    EXPECT_EQ(classify(response).error, c.kind) << to_string(c.kind);
  }
}

TEST(ClassifyTest, SuccessStatuses) {
  for (int status : {200, 201, 204, 299}) {
    const AttemptOutcome outcome = classify(http(status));
    EXPECT_TRUE(outcome.succeeded()) << status;
  }
  // A 2xx body that happens to mention an error code is still a success.
  EXPECT_TRUE(classify(http(200, R"({"text":"insufficient_quota"})")).succeeded());
}

TEST(ClassifyTest, StatusOnlyMappings) {
  const struct {
    int status;
    ErrorKind kind;
  } cases[] = {
      {429, ErrorKind::kRateLimited}, {402, ErrorKind::kQuotaExhausted},
      {503, ErrorKind::kOverloaded},  {529, ErrorKind::kOverloaded},
      {408, ErrorKind::kTimeout},     {500, ErrorKind::kServerError},
      {502, ErrorKind::kServerError}, {504, ErrorKind::kServerError},
      {520, ErrorKind::kServerError}, {599, ErrorKind::kServerError},
      {401, ErrorKind::kAuth},        {403, ErrorKind::kAuth},
      {400, ErrorKind::kBadRequest},  {404, ErrorKind::kBadRequest},
      {409, ErrorKind::kBadRequest},  {413, ErrorKind::kBadRequest},
      {422, ErrorKind::kBadRequest},  {499, ErrorKind::kBadRequest},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(kind_of(c.status), c.kind) << c.status;
  }
}

TEST(ClassifyTest, UnknownStatusesFallIntoTheNearestClass) {
  EXPECT_EQ(kind_of(0), ErrorKind::kMalformedResponse);
  EXPECT_EQ(kind_of(100), ErrorKind::kMalformedResponse);
  EXPECT_EQ(kind_of(101), ErrorKind::kMalformedResponse);
  EXPECT_EQ(kind_of(302), ErrorKind::kMalformedResponse);
  EXPECT_EQ(kind_of(304), ErrorKind::kMalformedResponse);
  EXPECT_EQ(kind_of(-1), ErrorKind::kMalformedResponse);
  EXPECT_EQ(kind_of(600), ErrorKind::kServerError);
  EXPECT_EQ(kind_of(999), ErrorKind::kServerError);
}

TEST(ClassifyTest, QuotaHintsOn429) {
  EXPECT_EQ(kind_of(429, R"({"error":{"message":"You exceeded your current quota, please check )"
                         R"(your plan and billing details.","type":"insufficient_quota",)"
                         R"("code":"insufficient_quota"}})"),
            ErrorKind::kQuotaExhausted);
  EXPECT_EQ(kind_of(429, R"({"error":{"code":"billing_hard_limit_reached"}})"),
            ErrorKind::kQuotaExhausted);
  EXPECT_EQ(kind_of(429, R"({"error":{"code":"billing_not_active"}})"), ErrorKind::kQuotaExhausted);
  EXPECT_EQ(kind_of(429, "You Exceeded Your Current Quota"), ErrorKind::kQuotaExhausted);
  EXPECT_EQ(kind_of(429, R"({"error":{"code":"rate_limit_exceeded","type":"requests"}})"),
            ErrorKind::kRateLimited);
  EXPECT_EQ(kind_of(429, R"({"type":"error","error":{"type":"rate_limit_error"}})"),
            ErrorKind::kRateLimited);
  // Quota hints mean nothing on other statuses.
  EXPECT_EQ(kind_of(500, "insufficient_quota"), ErrorKind::kServerError);
}

TEST(ClassifyTest, AnthropicsOutOfCreditIsQuotaNotTheClientsMistake) {
  EXPECT_EQ(kind_of(400, R"({"type":"error","error":{"type":"invalid_request_error","message":)"
                         R"("Your credit balance is too low to access the Anthropic API. Please )"
                         R"(go to Plans & Billing to upgrade or purchase credits."}})"),
            ErrorKind::kQuotaExhausted);
  EXPECT_EQ(kind_of(400, R"({"type":"error","error":{"type":"invalid_request_error",)"
                         R"("message":"max_tokens: Field required"}})"),
            ErrorKind::kBadRequest);
}

TEST(ClassifyTest, OverloadHintOnServerErrors) {
  EXPECT_EQ(kind_of(529, R"({"type":"error","error":{"type":"overloaded_error"}})"),
            ErrorKind::kOverloaded);
  EXPECT_EQ(kind_of(500, R"({"type":"error","error":{"type":"overloaded_error"}})"),
            ErrorKind::kOverloaded);
  EXPECT_EQ(kind_of(502, R"({"type":"error","error":{"type":"api_error"}})"),
            ErrorKind::kServerError);
}

TEST(ClassifyTest, ContextLengthHints) {
  EXPECT_EQ(kind_of(400, R"({"error":{"message":"This model's maximum context length is 8192 )"
                         R"(tokens.","type":"invalid_request_error","code":)"
                         R"("context_length_exceeded"}})"),
            ErrorKind::kContextLengthExceeded);
  EXPECT_EQ(kind_of(400, "This model's Maximum Context Length is 4097 tokens"),
            ErrorKind::kContextLengthExceeded);
  EXPECT_EQ(kind_of(400, R"({"type":"error","error":{"type":"invalid_request_error",)"
                         R"("message":"prompt is too long: 210000 tokens > 200000 maximum"}})"),
            ErrorKind::kContextLengthExceeded);
  EXPECT_EQ(kind_of(413, "context_length_exceeded"), ErrorKind::kContextLengthExceeded);
  EXPECT_EQ(kind_of(422, "maximum context length"), ErrorKind::kContextLengthExceeded);
}

TEST(ClassifyTest, ContentFilterHints) {
  EXPECT_EQ(kind_of(400, R"({"error":{"code":"content_filter","message":"The response was )"
                         R"(filtered due to the prompt triggering Azure OpenAI's content )"
                         R"(management policy."}})"),
            ErrorKind::kContentFiltered);
  EXPECT_EQ(kind_of(400, R"({"error":{"code":"content_policy_violation"}})"),
            ErrorKind::kContentFiltered);
  EXPECT_EQ(kind_of(400, "CONTENT_FILTER"), ErrorKind::kContentFiltered);
}

TEST(ClassifyTest, ContextLengthBeatsContentFilter) {
  EXPECT_EQ(kind_of(400, "content_filter ... context_length_exceeded"),
            ErrorKind::kContextLengthExceeded);
}

TEST(ClassifyTest, PlainInvalidRequestIsBadRequest) {
  EXPECT_EQ(kind_of(400, R"({"type":"error","error":{"type":"invalid_request_error",)"
                         R"("message":"messages: field required"}})"),
            ErrorKind::kBadRequest);
  EXPECT_EQ(kind_of(404, R"({"error":{"code":"model_not_found"}})"), ErrorKind::kBadRequest);
}

TEST(ClassifyTest, StatusBeatsBodyHintsForAuthAndTimeout) {
  EXPECT_EQ(kind_of(401, "context_length_exceeded"), ErrorKind::kAuth);
  EXPECT_EQ(kind_of(403, "content_filter"), ErrorKind::kAuth);
  EXPECT_EQ(kind_of(408, "content_filter"), ErrorKind::kTimeout);
}

TEST(ClassifyTest, HintsBeyondTheScanLimitAreIgnored) {
  std::string body(kBodyScanLimit, ' ');
  body += "context_length_exceeded";
  EXPECT_EQ(kind_of(400, body), ErrorKind::kBadRequest);
  // A hint that straddles the limit is cut and not seen either.
  std::string straddling(kBodyScanLimit - 5, ' ');
  straddling += "insufficient_quota";
  EXPECT_EQ(kind_of(429, straddling), ErrorKind::kRateLimited);
  // One that ends exactly at the limit is seen.
  std::string inside(kBodyScanLimit - 18, ' ');
  inside += "insufficient_quota";
  ASSERT_EQ(inside.size(), kBodyScanLimit);
  EXPECT_EQ(kind_of(429, inside), ErrorKind::kQuotaExhausted);
}

TEST(ClassifyTest, ShouldRetryIsCopied) {
  AttemptResponse response = http(400);
  response.should_retry = true;
  AttemptOutcome outcome = classify(response);
  EXPECT_EQ(outcome.error, ErrorKind::kBadRequest);
  EXPECT_EQ(outcome.should_retry, true);

  response = http(503);
  response.should_retry = false;
  EXPECT_EQ(classify(response).should_retry, false);

  response.transport = TransportResult::kConnectionReset;
  EXPECT_EQ(classify(response).should_retry, false);

  EXPECT_EQ(classify(http(500)).should_retry, std::nullopt);
}

TEST(AttemptOutcomeTest, Factories) {
  EXPECT_TRUE(AttemptOutcome::success().succeeded());
  const AttemptOutcome failure = AttemptOutcome::failure(ErrorKind::kTimeout);
  EXPECT_FALSE(failure.succeeded());
  EXPECT_EQ(failure.error, ErrorKind::kTimeout);
  EXPECT_EQ(failure.should_retry, std::nullopt);
}

TEST(ParseShouldRetryTest, BothWaysAndGarbage) {
  EXPECT_EQ(parse_should_retry("true"), true);
  EXPECT_EQ(parse_should_retry("false"), false);
  EXPECT_EQ(parse_should_retry("TRUE"), true);
  EXPECT_EQ(parse_should_retry("False"), false);
  EXPECT_EQ(parse_should_retry(" true\t"), true);
  EXPECT_EQ(parse_should_retry(""), std::nullopt);
  EXPECT_EQ(parse_should_retry("1"), std::nullopt);
  EXPECT_EQ(parse_should_retry("yes"), std::nullopt);
  EXPECT_EQ(parse_should_retry("truex"), std::nullopt);
  EXPECT_EQ(parse_should_retry("tru"), std::nullopt);
  EXPECT_EQ(parse_should_retry("true false"), std::nullopt);
}

}  // namespace
}  // namespace sheepdog
