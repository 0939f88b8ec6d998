#include "gateway/token_estimate.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace sheepdog::gateway {
namespace {

namespace json = boost::json;

int64_t estimate(providers::Operation op, std::string_view body) {
  return estimate_request_tokens(op, json::parse(body).as_object());
}

TEST(TokenEstimateTest, ChatCountsTextPerMessageOverheadAndMaxTokens) {
  // "Say hello." is 10 characters: 3 tokens; 1 message: +3; priming: +3.
  EXPECT_EQ(estimate(providers::Operation::kChatCompletions,
                     R"({"messages":[{"role":"user","content":"Say hello."}]})"),
            9);
  // Two messages, 8 + 4 characters (2 + 1 tokens), parts included; max_tokens 100.
  EXPECT_EQ(estimate(providers::Operation::kChatCompletions,
                     R"({"max_tokens":100,"messages":[{"role":"system","content":"Be brief"},)"
                     R"({"role":"user","content":[{"type":"text","text":"Hi!?"}]}]})"),
            2 + 1 + 6 + 3 + 100);
  // max_completion_tokens wins over max_tokens (the newer name).
  EXPECT_EQ(estimate(providers::Operation::kChatCompletions,
                     R"({"max_completion_tokens":7,"max_tokens":100,"messages":[]})"),
            3 + 7);
}

TEST(TokenEstimateTest, ToolsAndToolCallsCountAsText) {
  const std::string tools = R"([{"type":"function","function":{"name":"f"}}])";
  const int64_t expected = static_cast<int64_t>((tools.size() + 3) / 4) + 3;
  EXPECT_EQ(estimate(providers::Operation::kChatCompletions,
                     R"({"messages":[],"tools":)" + tools + "}"),
            expected);
}

TEST(TokenEstimateTest, EmbeddingsCountTheirInputs) {
  EXPECT_EQ(estimate(providers::Operation::kEmbeddings, R"({"input":"abcdefgh"})"), 2);
  EXPECT_EQ(estimate(providers::Operation::kEmbeddings, R"({"input":["abcd","efghi"]})"), 3);
  EXPECT_EQ(estimate(providers::Operation::kEmbeddings, R"({"input":[1,2,3]})"), 3);
}

}  // namespace
}  // namespace sheepdog::gateway
