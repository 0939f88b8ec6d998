#include "server/sse_event.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "server/http_error.h"

namespace sheepdog::server {
namespace {

TEST(SseEventTest, FramesSingleLinePayload) {
  EXPECT_EQ(format_sse_event(R"({"a":1})"), "data: {\"a\":1}\n\n");
  EXPECT_EQ(kSseDone, "data: [DONE]\n\n");
}

TEST(SseEventTest, SplitsMultiLinePayloadIntoDataLines) {
  EXPECT_EQ(format_sse_event("one\ntwo\r\nthree"), "data: one\ndata: two\ndata: three\n\n");
}

TEST(SseEventTest, NamedEvent) {
  EXPECT_EQ(format_sse_event("ping", "{}"), "event: ping\ndata: {}\n\n");
}

TEST(HttpErrorTest, BodyHasOpenAiShapeWithNulls) {
  const std::string body = error_body({"too big", "invalid_request_error", std::nullopt, "x"});
  EXPECT_EQ(boost::json::parse(body),
            boost::json::parse(R"({"error":{"message":"too big","type":"invalid_request_error",
                                   "param":null,"code":"x"}})"));
}

TEST(HttpErrorTest, ResponseCarriesJsonAndLength) {
  HttpResponse response = error_response(http::status::too_many_requests,
                                         {"slow down", "requests", "model", std::nullopt});
  EXPECT_EQ(response.result_int(), 429u);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  EXPECT_EQ(response[http::field::content_length], std::to_string(response.body().size()));
  EXPECT_TRUE(boost::json::parse(response.body()).at("error").at("code").is_null());
}

}  // namespace
}  // namespace sheepdog::server
