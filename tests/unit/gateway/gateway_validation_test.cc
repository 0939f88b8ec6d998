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

namespace sheepdog::server {
namespace {

TEST(GatewayValidationTest, SamplingParametersAreCheckedLikeOpenAI) {
  struct Case {
    std::string extra;
    std::string param;
    std::string code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"("temperature":"hot")", "temperature", "invalid_type",
       "Invalid type for 'temperature': expected a number, but got a string instead."},
      {R"("temperature":5)", "temperature", "decimal_above_max_value",
       "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 5 "
       "instead."},
      {R"("max_tokens":-5)", "max_tokens", "integer_below_min_value",
       "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got -5 "
       "instead."},
      {R"("n":1000)", "n", "integer_above_max_value",
       "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 1000 instead."},
      {R"("max_tokens":1e9)", "max_tokens", "integer_above_max_value",
       "Invalid 'max_tokens': integer above maximum value. Expected a value <= 1048576, but got "
       "1000000000 instead."},
      {R"("max_completion_tokens":2.5)", "max_completion_tokens", "invalid_type",
       "Invalid type for 'max_completion_tokens': expected an integer, but got a decimal instead."},
      {R"("top_p":-0.1)", "top_p", "decimal_below_min_value",
       "Invalid 'top_p': decimal below minimum value. Expected a value >= 0, but got -0.1 "
       "instead."},
      {R"("presence_penalty":3)", "presence_penalty", "decimal_above_max_value",
       "Invalid 'presence_penalty': decimal above maximum value. Expected a value <= 2, but got 3 "
       "instead."},
      {R"("logprobs":1)", "logprobs", "invalid_type",
       "Invalid type for 'logprobs': expected a boolean, but got an integer instead."},
      {R"("top_logprobs":3)", "top_logprobs", "invalid_value",
       "Invalid 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used."},
      {R"("stop":["a","b","c","d","e"])", "stop", "array_above_max_length",
       "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array "
       "with length 5 instead."},
      {R"("stop":[1])", "stop[0]", "invalid_type",
       "Invalid type for 'stop[0]': expected a string, but got an integer instead."},
      {R"("logit_bias":{"50256":-101})", "logit_bias.50256", "decimal_below_min_value",
       "Invalid 'logit_bias.50256': decimal below minimum value. Expected a value >= -100, but "
       "got -101 instead."},
      {R"("logit_bias":{"abc":1})", "logit_bias", "invalid_value",
       "Invalid 'logit_bias': keys must be token ids (digits), got 'abc'."},
      {R"("stream_options":{"include_usage":"yes"})", "stream_options.include_usage",
       "invalid_type",
       "Invalid type for 'stream_options.include_usage': expected a boolean, but got a string "
       "instead."},
  };
  for (const Case& c : cases) {
    const std::string body =
        R"({"model":"m","messages":[{"role":"user","content":"x"}],)" + c.extra + "}";
    const ApiError error = rejected(validate_chat_request(body));
    EXPECT_EQ(error.param, c.param) << body;
    EXPECT_EQ(error.code, c.code) << body;
    EXPECT_EQ(error.message, c.message) << body;
  }
  // Valid values, integers written as 5.0 included, pass.
  EXPECT_TRUE(std::holds_alternative<gateway::GatewayRequest>(validate_chat_request(
      R"({"model":"m","messages":[{"role":"user"}],"temperature":0,"top_p":1,"n":2.0,)"
      R"("max_tokens":1048576,"seed":-3,"stop":"x","logprobs":true,"top_logprobs":20,)"
      R"("frequency_penalty":-2,"logit_bias":{"1":100},"store":false,"unknown_new_field":{}})")));
}

TEST(GatewayValidationTest, EmbeddingsParametersAreChecked) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("input":"x","dimensions":0)", "dimensions"},
      {R"("input":"x","encoding_format":"hex")", "encoding_format"},
      {R"("input":["a",""])", "input[1]"},
      {R"("input":[[1,-2]])", "input[0]"},
      {R"("input":[{}])", "input[0]"},
  };
  for (const auto& [extra, param] : cases) {
    const ApiError error = rejected(validate_embeddings_request(R"({"model":"e",)" + extra + "}"));
    EXPECT_EQ(error.param, param) << extra;
  }
  std::string many = R"({"model":"e","input":[)";
  for (int i = 0; i < 2049; ++i) {
    many += i ? ",\"a\"" : "\"a\"";
  }
  EXPECT_EQ(rejected(validate_embeddings_request(many + "]}")).code, "array_above_max_length");
  EXPECT_TRUE(std::holds_alternative<gateway::GatewayRequest>(validate_embeddings_request(
      R"({"model":"e","input":[[1,2],"b",7],"dimensions":256,"encoding_format":"base64"})")));
}

TEST(GatewayValidationTest, ToolMistakesAre400sNamingTheTool) {
  const ApiError schema = rejected(validate_chat_request(
      R"({"model":"m","messages":[{"role":"user"}],"tools":[{"type":"function","function":)"
      R"({"name":"f","parameters":{"type":"object","properties":{"a":{"type":"number",)"
      R"("multipleOf":0}},"required":["a"]}}}],"tool_choice":{"type":"function",)"
      R"("function":{"name":"f"}}})"));
  EXPECT_EQ(schema.param, "tools[0].function.parameters");
  EXPECT_EQ(schema.code, "invalid_function_parameters");
  EXPECT_EQ(schema.message,
            "Invalid schema for function 'f' (tools[0].function.parameters): "
            "/properties/a/multipleOf: multipleOf must be a number greater than 0, got 0.");
  const ApiError choice = rejected(validate_chat_request(
      R"({"model":"m","messages":[{"role":"user"}],"tools":[{"type":"function","function":)"
      R"({"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"nope"}}})"));
  EXPECT_EQ(choice.param, "tool_choice");
  EXPECT_EQ(choice.message,
            "Invalid 'tool_choice': names the tool 'nope', which is not in tools (offered: 'f').");
}

TEST(GatewayValidationTest, BadEncodingIsNamedWithItsOffset) {
  const ApiError error = rejected(validate_chat_request("{\"model\":\"m\xff\"}"));
  EXPECT_EQ(error.code, "invalid_json");
  EXPECT_NE(error.message.find("invalid UTF-8 (byte 0xff) at byte 11"), std::string::npos)
      << error.message;
}

}  // namespace
}  // namespace sheepdog::server
