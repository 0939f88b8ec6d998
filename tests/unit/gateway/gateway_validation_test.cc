// Request validation of the gateway's API routes (server/gateway_validation.h).
#include "server/gateway_validation.h"

#include <gtest/gtest.h>

namespace sheepdog::server {
namespace {

// The error, or a test failure if the body was accepted.
ApiError rejected(const ValidationResult& result) {
  const ApiError* error = std::get_if<ApiError>(&result);
  if (error == nullptr) {
    ADD_FAILURE() << "accepted";
    return {};
  }
  return *error;
}

TEST(GatewayValidationTest, AcceptsAChatRequest) {
  ValidationResult r = validate_chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"user":"u1",)"
      R"("tools":[],"stream_options":{"include_usage":true}})");
  ASSERT_TRUE(std::holds_alternative<gateway::GatewayRequest>(r));
  const auto& request = std::get<gateway::GatewayRequest>(r);
  EXPECT_EQ(request.model, "m");
  EXPECT_TRUE(request.stream);
  EXPECT_EQ(request.user, "u1");
  EXPECT_EQ(request.operation, providers::Operation::kChatCompletions);
  EXPECT_TRUE(request.body.contains("tools"));
}

TEST(GatewayValidationTest, NamesTheOffendingParam) {
  struct Case {
    std::string body;
    std::optional<std::string> param;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"", std::nullopt, "invalid_json"},
      {"{\"model\": ", std::nullopt, "invalid_json"},
      {"[1,2]", std::nullopt, "invalid_json"},
      {R"({"messages":[{"role":"user"}]})", "model", "missing_required_parameter"},
      {R"({"model":7,"messages":[{"role":"user"}]})", "model", "invalid_type"},
      {R"({"model":"","messages":[{"role":"user"}]})", "model", "invalid_value"},
      {R"({"model":"m"})", "messages", "missing_required_parameter"},
      {R"({"model":"m","messages":"hi"})", "messages", "invalid_type"},
      {R"({"model":"m","messages":[]})", "messages", "empty_array"},
      {R"({"model":"m","messages":["hi"]})", "messages[0]", "invalid_type"},
      {R"({"model":"m","messages":[{"content":"x"}]})", "messages[0].role",
       "missing_required_parameter"},
      {R"({"model":"m","messages":[{"role":"user"}],"stream":"yes"})", "stream", "invalid_type"},
      {R"({"model":"m","messages":[{"role":"user"}],"user":5})", "user", "invalid_type"},
      {R"({"model":"m","messages":[{"role":"user"}],"stream_options":1})", "stream_options",
       "invalid_type"},
  };
  for (const Case& c : cases) {
    const ApiError error = rejected(validate_chat_request(c.body));
    EXPECT_EQ(error.param, c.param) << c.body;
    EXPECT_EQ(error.code, c.code) << c.body;
    EXPECT_EQ(error.type, "invalid_request_error");
    EXPECT_FALSE(error.message.empty());
  }
}

TEST(GatewayValidationTest, TypeErrorsSayWhatWasSent) {
  const ApiError error =
      rejected(validate_chat_request(R"({"model":"m","messages":[{"role":"user"}],"stream":1})"));
  EXPECT_EQ(error.message, "Invalid type for 'stream': expected a boolean, but got a number.");
}

TEST(GatewayValidationTest, Embeddings) {
  EXPECT_TRUE(std::holds_alternative<gateway::GatewayRequest>(
      validate_embeddings_request(R"({"model":"e","input":["a","b"]})")));
  EXPECT_TRUE(std::holds_alternative<gateway::GatewayRequest>(
      validate_embeddings_request(R"({"model":"e","input":"a"})")));
  EXPECT_EQ(rejected(validate_embeddings_request(R"({"model":"e"})")).param, "input");
  EXPECT_EQ(rejected(validate_embeddings_request(R"({"model":"e","input":[]})")).code,
            "empty_array");
  EXPECT_EQ(rejected(validate_embeddings_request(R"({"model":"e","input":3})")).code,
            "invalid_type");
}

TEST(GatewayValidationTest, RequestIds) {
  EXPECT_EQ(usable_request_id("abc-123"), "abc-123");
  EXPECT_EQ(usable_request_id(""), std::nullopt);
  EXPECT_EQ(usable_request_id("has space"), std::nullopt);
  EXPECT_EQ(usable_request_id(std::string(129, 'a')), std::nullopt);
  EXPECT_EQ(usable_request_id(std::string(128, 'a')), std::string(128, 'a'));
}

}  // namespace
}  // namespace sheepdog::server
