// The tool-call and structured-output faults of the mock (mock_tool_faults.h): exact broken
// arguments for each fault on a realistic schema, the fallbacks, structured output under
// response_format, the Anthropic mapping (streamed and whole), config names, and the service's
// decision and stats over loopback.
#include "mock/mock_tool_faults.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../../support/loopback_http_client.h"
#include "mock/mock_anthropic.h"
#include "mock/mock_config_decode.h"
#include "mock/mock_openai.h"
#include "mock/mock_schema_args.h"
#include "mock/mock_server.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;
using testing::LoopbackClient;

// Required properties, a string enum, a bounded integer, a nested closed object, an optional
// boolean, and additionalProperties: false.
constexpr std::string_view kWeatherSchema = R"({"type": "object",
  "properties": {
    "city": {"type": "string"},
    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    "days": {"type": "integer", "minimum": 1, "maximum": 10},
    "place": {"type": "object", "properties": {"country": {"type": "string", "maxLength": 2}},
              "required": ["country"], "additionalProperties": false},
    "hourly": {"type": "boolean"}},
  "required": ["city", "unit", "days", "place"],
  "additionalProperties": false})";
constexpr std::string_view kWeatherArgs =
    R"({"city":"example city","unit":"celsius","days":1,"place":{"country":"ex"}})";

std::string openai_tool_body(std::string_view schema) {
  return R"({"model": "m", "messages": [{"role": "user", "content": "weather?"}],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": )" +
         std::string(schema) + "}}]}";
}

ChatCall openai_call(const std::string& body) {
  ChatCall call;
  const std::optional<server::ApiError> error = decode_openai_chat(body, &call);
  EXPECT_FALSE(error.has_value()) << error->message;
  return call;
}

ChatReply openai_reply(const std::string& body, Outcome outcome) {
  MockConfig config;
  SeededRandom random(1);
  return make_chat_reply(openai_call(body), outcome, config, random, 0);
}

std::string concat(const std::vector<std::string>& events) {
  std::string all;
  for (const std::string& event : events) {
    all += event;
  }
  return all;
}

std::string broken(std::string_view schema, Outcome fault) {
  return openai_reply(openai_tool_body(schema), fault).tool_call->arguments;
}

TEST(MockToolFaultsTest, EachFaultBreaksTheArgumentsExactly) {
  EXPECT_EQ(broken(kWeatherSchema, Outcome::kOk), kWeatherArgs);
  // 74 characters; the first 44 stay.
  EXPECT_EQ(broken(kWeatherSchema, Outcome::kToolTruncatedJson),
            R"({"city":"example city","unit":"celsius","day)");
  EXPECT_EQ(broken(kWeatherSchema, Outcome::kToolTrailingText),
            std::string(kWeatherArgs) + " Let me know if you need more.");
  // The integer is quoted, ahead of the strings, the object and the boolean.
  EXPECT_EQ(broken(kWeatherSchema, Outcome::kToolWrongType),
            R"({"city":"example city","unit":"celsius","days":"1","place":{"country":"ex"}})");
  EXPECT_EQ(broken(kWeatherSchema, Outcome::kToolMissingRequired),
            R"({"unit":"celsius","days":1,"place":{"country":"ex"}})");
  EXPECT_EQ(broken(kWeatherSchema, Outcome::kToolExtraProperty),
            R"({"city":"example city","unit":"celsius","days":1,"place":{"country":"ex"},)"
            R"("unexpected_argument":"not in the schema"})");
  const ChatReply unknown =
      openai_reply(openai_tool_body(kWeatherSchema), Outcome::kToolUnknownTool);
  EXPECT_EQ(unknown.tool_call->name, "get_weather_v2");
  EXPECT_EQ(unknown.tool_call->arguments, kWeatherArgs);
  EXPECT_EQ(unknown.completion_tokens, 4u + 19u);  // ceil(14 / 4) + ceil(74 / 4)
}

TEST(MockToolFaultsTest, OlderNamesKeepTheirOwnBreakage) {
  EXPECT_EQ(broken(kWeatherSchema, Outcome::kMalformedToolCall),
            std::string(kWeatherArgs.substr(0, 37)));
  const json::value invalid = json::parse(broken(kWeatherSchema, Outcome::kInvalidToolArgs));
  const json::object& args = invalid.as_object();
  EXPECT_TRUE(!args.contains("city") || !args.at("city").is_string()) << invalid;
}

TEST(MockToolFaultsTest, WrongTypePicksByDeclaredType) {
  // A string gets a number; an object its own JSON text; untyped properties are skipped.
  EXPECT_EQ(
      broken(R"({"properties": {"any": {}, "s": {"type": "string"}}})", Outcome::kToolWrongType),
      R"({"any":"example any","s":42})");
  EXPECT_EQ(broken(R"({"properties": {"o": {"type": "object", "properties": {"k": {"type":
                     "integer"}}}}, "required": ["o"]})",
                   Outcome::kToolWrongType),
            R"({"o":"{\"k\":1}"})");
  // A boolean enum is a boolean; a one-type list with null counts; a two-type list does not.
  EXPECT_EQ(broken(R"({"properties": {"b": {"enum": [true, false]}}})", Outcome::kToolWrongType),
            R"({"b":"true"})");
  EXPECT_EQ(broken(R"({"properties": {"u": {"type": ["string", "integer"]},
                     "n": {"type": ["null", "integer"]}}})",
                   Outcome::kToolWrongType),
            R"({"u":"example u","n":"1"})");
  // A declared property the arguments leave out is added with the wrong type.
  EXPECT_EQ(broken(R"({"properties": {"n": {"type": "integer"}}, "required": []})",
                   Outcome::kToolWrongType),
            R"({"n":"1"})");
}

TEST(MockToolFaultsTest, FaultsWithNothingToBreakFallBack) {
  const auto resolve = [](std::string_view schema, Outcome fault) {
    const json::value parsed = schema.empty() ? json::value() : json::parse(schema);
    return resolve_fault(fault, parsed, arguments_from_schema(parsed));
  };
  constexpr std::string_view kNoRequired = R"({"properties": {"n": {"type": "integer"}}})";
  constexpr std::string_view kUntypedClosed =
      R"({"properties": {"q": {}}, "additionalProperties": false})";
  constexpr std::string_view kRequiredUntyped =
      R"({"properties": {"q": {"description": "x"}}, "required": ["q"]})";
  EXPECT_EQ(resolve(kNoRequired, Outcome::kToolMissingRequired), Outcome::kToolWrongType);
  EXPECT_EQ(broken(kNoRequired, Outcome::kToolMissingRequired), R"({"n":"1"})");
  EXPECT_EQ(resolve(kRequiredUntyped, Outcome::kToolWrongType), Outcome::kToolMissingRequired);
  EXPECT_EQ(broken(kRequiredUntyped, Outcome::kToolWrongType), "{}");
  EXPECT_EQ(resolve(kUntypedClosed, Outcome::kToolWrongType), Outcome::kToolExtraProperty);
  EXPECT_EQ(broken(kUntypedClosed, Outcome::kToolMissingRequired),
            R"({"q":"example q","unexpected_argument":"not in the schema"})");
  // No parameters at all: every schema fault becomes truncated JSON.
  EXPECT_EQ(resolve("", Outcome::kToolWrongType), Outcome::kToolTruncatedJson);
  EXPECT_EQ(broken("null", Outcome::kToolMissingRequired), "{");
  // A scalar cut short can still parse; it gets trailing text instead.
  EXPECT_EQ(resolve(R"({"type": "integer"})", Outcome::kToolTruncatedJson),
            Outcome::kToolTrailingText);
  EXPECT_EQ(resolve(R"({"type": "integer"})", Outcome::kToolExtraProperty),
            Outcome::kToolTrailingText);
  EXPECT_EQ(resolve(kWeatherSchema, Outcome::kToolExtraProperty), Outcome::kToolExtraProperty);
  EXPECT_EQ(resolve(kWeatherSchema, Outcome::kServerError), Outcome::kServerError);
}

TEST(MockToolFaultsTest, NewNamesNeverCollideWithOfferedOnes) {
  EXPECT_EQ(broken(R"({"properties": {"unexpected_argument": {"type": "string"}}})",
                   Outcome::kToolExtraProperty),
            R"({"unexpected_argument":"example unexpected_argument",)"
            R"("unexpected_argument_2":"not in the schema"})");
  const std::vector<ToolSpec> tools = {{"a", {}}, {"a_v2", {}}, {"b", {}}};
  EXPECT_EQ(unknown_tool_name(tools, "a"), "a_v2_v2");
  EXPECT_EQ(unknown_tool_name(tools, "b"), "b_v2");
}

TEST(MockToolFaultsTest, FaultsApplyWhereThereIsJsonToBreak) {
  const ChatCall plain = openai_call(R"({"model": "m", "messages": []})");
  const ChatCall tools = openai_call(openai_tool_body(kWeatherSchema));
  const ChatCall json_object =
      openai_call(R"({"model": "m", "messages": [], "response_format": {"type": "json_object"}})");
  for (Outcome fault : {Outcome::kMalformedToolCall, Outcome::kToolTruncatedJson,
                        Outcome::kToolWrongType, Outcome::kToolExtraProperty}) {
    EXPECT_FALSE(fault_applies(plain, fault)) << to_string(fault);
    EXPECT_TRUE(fault_applies(tools, fault)) << to_string(fault);
    EXPECT_TRUE(fault_applies(json_object, fault)) << to_string(fault);
  }
  EXPECT_TRUE(fault_applies(tools, Outcome::kToolUnknownTool));
  EXPECT_FALSE(fault_applies(json_object, Outcome::kToolUnknownTool));
  EXPECT_TRUE(fault_applies(plain, Outcome::kSlowStream));
}

constexpr std::string_view kTicketFormat = R"(, "response_format": {"type": "json_schema",
  "json_schema": {"name": "ticket", "strict": true, "schema": {"type": "object",
    "properties": {"title": {"type": "string"}, "priority": {"enum": ["low", "high"]},
      "estimate_hours": {"type": "integer", "minimum": 2},
      "tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["title", "priority", "estimate_hours", "tags"],
    "additionalProperties": false}}})";

// The body of a chat request under kTicketFormat, without tools.
std::string ticket_body() {
  return R"({"model": "m", "messages": [{"role": "user", "content": "t"}])" +
         std::string(kTicketFormat) + "}";
}

std::string structured(Outcome fault) { return openai_reply(ticket_body(), fault).text; }

TEST(MockToolFaultsTest, StructuredOutputFollowsTheSchemaAndBreaksLikeArguments) {
  constexpr std::string_view kTicket =
      R"({"title":"example title","priority":"low","estimate_hours":2,"tags":["example tags"]})";
  EXPECT_EQ(structured(Outcome::kOk), kTicket);
  EXPECT_EQ(structured(Outcome::kToolTruncatedJson),
            R"({"title":"example title","priority":"low","estimate)");
  EXPECT_EQ(structured(Outcome::kToolTrailingText),
            std::string(kTicket) + " Let me know if you need more.");
  EXPECT_EQ(structured(Outcome::kToolWrongType),
            R"({"title":"example title","priority":"low","estimate_hours":"2",)"
            R"("tags":["example tags"]})");
  EXPECT_EQ(structured(Outcome::kToolMissingRequired),
            R"({"priority":"low","estimate_hours":2,"tags":["example tags"]})");
  EXPECT_EQ(structured(Outcome::kToolExtraProperty),
            std::string(kTicket.substr(0, kTicket.size() - 1)) +
                R"(,"unexpected_argument":"not in the schema"})");

  const ChatReply reply = openai_reply(ticket_body(), Outcome::kOk);
  EXPECT_EQ(reply.finish_reason, "stop");
  EXPECT_EQ(reply.completion_tokens, 22u);  // ceil(85 / 4)
  EXPECT_EQ(json::parse(openai_chat_completion(reply))
                .at("choices")
                .at(0)
                .at("message")
                .at("content")
                .as_string(),
            kTicket);
  // Streamed, the content deltas join to the broken text.
  const ChatReply cut = openai_reply(ticket_body(), Outcome::kToolTruncatedJson);
  std::string joined;
  for (const std::string& data : testing::sse_data(concat(openai_chat_stream(cut, false)))) {
    if (data != "[DONE]") {
      const json::value chunk = json::parse(data);
      const json::object& delta = chunk.at("choices").at(0).at("delta").as_object();
      if (const json::value* content = delta.if_contains("content")) {
        joined += content->as_string();
      }
    }
  }
  EXPECT_EQ(joined, R"({"title":"example title","priority":"low","estimate)");
}

TEST(MockToolFaultsTest, JsonObjectAnswersAndItsFaults) {
  const std::string body = R"({"model": "m", "max_tokens": 4, "messages": [{"role": "user",
    "content": "hi"}], "response_format": {"type": "json_object"}})";
  const std::string text = generate_text(4, fnv1a("m") ^ fnv1a("hi"));
  const std::string answer = R"({"answer":")" + text + R"("})";  // 29 characters
  EXPECT_EQ(openai_reply(body, Outcome::kOk).text, answer);
  EXPECT_EQ(openai_reply(body, Outcome::kToolTruncatedJson).text, answer.substr(0, 17));
  // No schema: nothing has a wrong type or is required, so the JSON is cut instead.
  EXPECT_EQ(openai_reply(body, Outcome::kToolWrongType).text, answer.substr(0, 17));
  EXPECT_EQ(openai_reply(body, Outcome::kToolExtraProperty).text,
            R"({"answer":")" + text + R"(","unexpected_argument":"not in the schema"})");
}

TEST(MockToolFaultsTest, ResponseFormatErrorsAreOpenAis) {
  ChatCall call;
  auto error = decode_openai_chat(
      R"({"model": "m", "messages": [], "response_format": {"type": "xml"}})", &call);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message,
            "Invalid value: 'xml'. Supported values are: 'text', 'json_object', and "
            "'json_schema'.");
  EXPECT_EQ(error->param, "response_format.type");
  error = decode_openai_chat(
      R"({"model": "m", "messages": [], "response_format": {"type": "json_schema"}})", &call);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "missing_required_parameter");
  EXPECT_EQ(openai_call(R"({"model": "m", "messages": [], "response_format": {"type": "text"}})")
                .response_format,
            ResponseFormat::kText);
}

std::string anthropic_body(std::string_view schema, bool stream) {
  return R"({"model": "c", "max_tokens": 64, "stream": )" + std::string(stream ? "true" : "false") +
         R"(, "messages": [{"role": "user", "content": "weather?"}],
    "tools": [{"name": "get_weather", "input_schema": )" +
         std::string(schema) + "}]}";
}

ChatReply anthropic_for(std::string_view schema, bool stream, Outcome fault) {
  ChatCall call;
  EXPECT_EQ(decode_anthropic_messages(anthropic_body(schema, stream), &call), std::nullopt);
  MockConfig config;
  FixedRandom random(0.75);  // invalid_tool_args: chance(0.5) fails, so a type is broken
  return anthropic_reply(call, fault, config, random);
}

// The input_json_delta pieces of a streamed answer, joined.
std::string streamed_input(const ChatReply& reply) {
  std::string joined;
  for (const std::string& data : testing::sse_data(concat(anthropic_message_stream(reply)))) {
    const json::value event = json::parse(data);
    if (event.at("type") == "content_block_delta") {
      joined += event.at("delta").at("partial_json").as_string();
    }
  }
  return joined;
}

TEST(MockToolFaultsTest, AnthropicStreamsCarryTheSyntaxFaults) {
  const ChatReply cut = anthropic_for(kWeatherSchema, true, Outcome::kToolTruncatedJson);
  EXPECT_EQ(streamed_input(cut), R"({"city":"example city","unit":"celsius","day)");
  const ChatReply chatty = anthropic_for(kWeatherSchema, true, Outcome::kToolTrailingText);
  EXPECT_EQ(streamed_input(chatty), std::string(kWeatherArgs) + " Let me know if you need more.");
  // A fault that falls back to truncation keeps its cut text in a stream.
  EXPECT_EQ(streamed_input(anthropic_for(R"({"type": "object"})", true, Outcome::kToolWrongType)),
            "{");
  EXPECT_EQ(streamed_input(anthropic_for(kWeatherSchema, true, Outcome::kToolWrongType)),
            R"({"city":"example city","unit":"celsius","days":"1","place":{"country":"ex"}})");
}

TEST(MockToolFaultsTest, AnthropicWholeMessagesKeepAnObjectInput) {
  // Truncated and trailing text map to invalid_tool_args: here the first property's type.
  const json::value wrong =
      json::parse(R"({"city":42,"unit":"celsius","days":1,"place":{"country":"ex"}})");
  for (Outcome fault : {Outcome::kToolTruncatedJson, Outcome::kToolTrailingText}) {
    const ChatReply reply = anthropic_for(kWeatherSchema, false, fault);
    EXPECT_EQ(json::parse(reply.tool_call->arguments), wrong) << to_string(fault);
    EXPECT_EQ(json::parse(anthropic_message(reply)).at("content").at(0).at("input"), wrong);
  }
  EXPECT_EQ(
      anthropic_for(R"({"type": "object"})", false, Outcome::kToolWrongType).tool_call->arguments,
      R"({"unexpected_argument":"not in the schema"})");
  EXPECT_EQ(
      anthropic_for(kWeatherSchema, false, Outcome::kToolMissingRequired).tool_call->arguments,
      R"({"unit":"celsius","days":1,"place":{"country":"ex"}})");
  const ChatReply unknown = anthropic_for(kWeatherSchema, false, Outcome::kToolUnknownTool);
  const json::value block = json::parse(anthropic_message(unknown)).at("content").at(0);
  EXPECT_EQ(block.at("name"), "get_weather_v2");
  EXPECT_EQ(block.at("input"), json::parse(kWeatherArgs));
}

TEST(MockToolFaultsTest, ConfigNamesAndTheDefaultMix) {
  MockConfig config;
  const Status ok =
      decode_mock_config("default:\n  faults: {tool_wrong_type: 0.2, tool_unknown_tool: 0.1}\n",
                         "f.yaml", MockConfig{}, &config);
  ASSERT_TRUE(ok.is_ok()) << ok.message();
  EXPECT_EQ(config.defaults.rate(Outcome::kToolWrongType), 0.2);
  EXPECT_EQ(config.defaults.rate(Outcome::kToolUnknownTool), 0.1);
  const Status typo = decode_mock_config("default:\n  faults: {tool_wrong_typ: 0.2}\n", "f.yaml",
                                         MockConfig{}, &config);
  EXPECT_NE(typo.message().find("f.yaml:2:12: default.faults.tool_wrong_typ: unknown fault; did "
                                "you mean 'tool_wrong_type'?"),
            std::string::npos)
      << typo.message();
  ScriptUpdate script;
  ASSERT_TRUE(
      decode_script(R"(["tool_missing_required", "malformed_tool_call"])", &script).is_ok());
  EXPECT_EQ(script.outcomes,
            (std::vector<Outcome>{Outcome::kToolMissingRequired, Outcome::kMalformedToolCall}));

  FaultProfile profile;
  set_default_fault_mix(profile, 1.0);
  double total = 0;
  for (size_t i = 0; i < kOutcomeCount; ++i) {
    total += profile.rates[i];
    if (is_tool_fault(static_cast<Outcome>(i))) {
      EXPECT_EQ(profile.rates[i], 0.0) << to_string(static_cast<Outcome>(i));
    }
  }
  EXPECT_NEAR(total, 1.0, 1e-12);
}

TEST(MockToolFaultsTest, ServiceKeepsFaultsForJsonFormatsAndCountsThem) {
  MockServer mock{MockOptions{}};
  ASSERT_TRUE(mock.start().is_ok());
  mock.planner().set_script(std::nullopt, {Outcome::kToolWrongType, Outcome::kToolUnknownTool,
                                           Outcome::kToolTruncatedJson});
  LoopbackClient c(mock.port());
  const auto send = [&](std::string body) {
    return c.request(c.make_request(http::verb::post, "/v1/chat/completions", std::move(body)));
  };
  const std::string format_body = ticket_body();
  const LoopbackClient::Reply wrong = send(format_body);
  ASSERT_EQ(wrong.status(), 200);
  EXPECT_EQ(json::parse(wrong.body()).at("choices").at(0).at("message").at("content"),
            R"({"title":"example title","priority":"low","estimate_hours":"2",)"
            R"("tags":["example tags"]})");
  // Nothing to rename without tools, nothing to cut in plain text: both answer normally.
  const LoopbackClient::Reply renamed = send(format_body);
  EXPECT_EQ(json::parse(renamed.body()).at("choices").at(0).at("message").at("content"),
            R"({"title":"example title","priority":"low","estimate_hours":2,)"
            R"("tags":["example tags"]})");
  EXPECT_EQ(send(R"({"model": "m", "messages": []})").status(), 200);
  EXPECT_EQ(mock.stats().snapshot().by_outcome,
            (std::map<std::string, uint64_t>{{"ok", 2}, {"tool_wrong_type", 1}}));
  mock.stop();
}

}  // namespace
}  // namespace sheepdog::mock
