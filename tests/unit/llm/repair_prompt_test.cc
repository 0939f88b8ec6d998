#include "llm/repair_prompt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "llm/tool_validation.h"

namespace sheepdog::llm {
namespace {

namespace json = boost::json;

json::object parse_object(std::string_view text) { return json::parse(text).as_object(); }

constexpr std::string_view kRequest = R"({
  "model": "gpt-4o",
  "stream": true,
  "temperature": 0.2,
  "messages": [{"role": "user", "content": "Weather in Paris?"}],
  "tools": [
    {"type": "function", "function": {"name": "get_weather", "parameters": {
      "type": "object",
      "properties": {"location": {"type": "string"},
                     "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
      "required": ["location"]}}},
    {"type": "function", "function": {"name": "get_time"}}
  ],
  "tool_choice": "auto"
})";

// Validates `completion` for `request` and builds the repair request from its failing choice.
json::object repair(const json::object& request, const json::object& completion) {
  const AnswerValidator validator = *AnswerValidator::for_request(request);
  const ValidationReport report = validator.validate(completion);
  EXPECT_FALSE(report.ok);
  const json::object* message = choice_message(completion, report.first_failing_choice());
  EXPECT_NE(message, nullptr);
  return repair_request(request, *message, report);
}

json::object completion_of(std::string_view message) {
  return parse_object(R"({"id":"c","object":"chat.completion","choices":[{"index":0,"message":)" +
                      std::string(message) + R"(,"finish_reason":"tool_calls"}]})");
}

const json::array& messages(const json::object& request) {
  return request.at("messages").as_array();
}

TEST(RepairPromptTest, ToolCallsGetOneToolMessageEach) {
  const json::object request = parse_object(kRequest);
  const json::object completion = completion_of(R"({"role":"assistant","content":"Checking.",
    "annotations":[],"refusal":null,"tool_calls":[
      {"id":"call_a","type":"function","function":{"name":"get_weather",
       "arguments":"{\"location\":\"Paris\",\"unit\":\"kelvin\"}"}},
      {"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]})");
  const json::object out = repair(request, completion);

  // Everything but the messages is kept.
  json::object rest = out;
  rest.erase("messages");
  json::object original_rest = request;
  original_rest.erase("messages");
  EXPECT_EQ(rest, original_rest);

  const json::array& list = messages(out);
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0], request.at("messages").as_array()[0]);
  // The faulty message as sent, without the fields a request message may not carry.
  EXPECT_EQ(list[1], parse_object(R"({"role":"assistant","content":"Checking.","tool_calls":[
      {"id":"call_a","type":"function","function":{"name":"get_weather",
       "arguments":"{\"location\":\"Paris\",\"unit\":\"kelvin\"}"}},
      {"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]})"));
  EXPECT_EQ(list[2], (json::object{{"role", "tool"},
                                   {"tool_call_id", "call_a"},
                                   {"content",
                                    "Error: this tool call was not executed because it is "
                                    "invalid.\n"
                                    "- /unit: 'kelvin' is not one of [\"celsius\",\"fahrenheit\"]\n"
                                    "Call get_weather again with arguments that satisfy its "
                                    "schema."}}));
  EXPECT_EQ(list[3], (json::object{{"role", "tool"},
                                   {"tool_call_id", "call_b"},
                                   {"content",
                                    "This tool call was not executed because another tool call "
                                    "in the same answer was invalid. Call it again, together "
                                    "with the corrected call, if it is still needed."}}));
}

TEST(RepairPromptTest, BrokenArgumentsAreKeptVerbatimAndCallIdsFilledIn) {
  const json::object out = repair(parse_object(kRequest), completion_of(R"({"role":"assistant",
    "content":null,"tool_calls":[{"type":"function","function":{"name":"get_weather",
    "arguments":"{\"location\":\"Par"}}]})"));
  const json::array& list = messages(out);
  ASSERT_EQ(list.size(), 3u);
  const json::object& call = list[1].at("tool_calls").as_array()[0].as_object();
  EXPECT_EQ(call.at("id"), "call_0");
  EXPECT_EQ(call.at("function").at("arguments"), "{\"location\":\"Par");
  EXPECT_EQ(list[1].at("content"), nullptr);
  EXPECT_EQ(list[2].at("tool_call_id"), "call_0");
  EXPECT_EQ(list[2].at("content"),
            "Error: this tool call was not executed because it is invalid.\n"
            "- arguments end before the JSON value is complete (16 bytes)\n"
            "Call get_weather again with arguments that satisfy its schema.");
}

TEST(RepairPromptTest, AdvicePerReason) {
  struct Case {
    std::string tool_choice;
    std::string parallel;
    std::string calls;
    std::string last_line;
  };
  const std::string weather =
      R"({"id":"w","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"P\"}"}})";
  const std::string time =
      R"({"id":"t","type":"function","function":{"name":"get_time","arguments":"{}"}})";
  const std::vector<Case> cases = {
      {R"("auto")", "true",
       R"({"id":"u","type":"function","function":{"name":"nope","arguments":"{}"}})",
       "Call one of the offered tools instead."},
      {R"("none")", "true", weather, "Do not call any tool; answer directly."},
      {R"({"type":"function","function":{"name":"get_time"}})", "true", weather,
       "Call get_time instead."},
      {R"({"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[)"
       R"({"type":"function","function":{"name":"get_time"}}]}})",
       "true", weather, "Call one of the allowed tools instead."},
      {R"("auto")", "false", time + "," + weather, "Make only one tool call per answer."},
  };
  for (const Case& c : cases) {
    json::object request = parse_object(kRequest);
    request["tool_choice"] = json::parse(c.tool_choice);
    request["parallel_tool_calls"] = c.parallel == "true";
    const json::object out = repair(
        request,
        completion_of(R"({"role":"assistant","content":null,"tool_calls":[)" + c.calls + "]}"));
    const std::string content(messages(out).back().at("content").as_string());
    EXPECT_TRUE(content.ends_with("\n" + c.last_line)) << content;
  }
}

TEST(RepairPromptTest, MissingToolCallAsksForOne) {
  json::object request = parse_object(kRequest);
  request["tool_choice"] = "required";
  json::object out = repair(request, completion_of(R"({"role":"assistant","content":"Hi."})"));
  ASSERT_EQ(messages(out).size(), 3u);
  EXPECT_EQ(messages(out)[1], parse_object(R"({"role":"assistant","content":"Hi."})"));
  EXPECT_EQ(messages(out)[2],
            (json::object{{"role", "user"},
                          {"content",
                           "Your previous answer is invalid:\n"
                           "- the answer calls no tool, but tool_choice requires a tool call\n"
                           "Answer again and call one of the offered tools."}}));

  request["tool_choice"] = json::parse(R"({"type":"function","function":{"name":"get_time"}})");
  out = repair(request, completion_of(R"({"role":"assistant","content":"Hi."})"));
  EXPECT_EQ(messages(out)[2].at("content"),
            "Your previous answer is invalid:\n"
            "- the answer calls no tool, but tool_choice requires calling 'get_time'\n"
            "Answer again and call get_time.");
}

TEST(RepairPromptTest, StructuredOutputJsonSchema) {
  const json::object request = parse_object(R"({"model":"m","messages":[
    {"role":"user","content":"Who?"}],
    "response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{
      "type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}})");
  const json::object out =
      repair(request, completion_of(R"({"role":"assistant","content":"{\"name\":5}"})"));
  ASSERT_EQ(messages(out).size(), 3u);
  EXPECT_EQ(messages(out)[1], parse_object(R"({"role":"assistant","content":"{\"name\":5}"})"));
  EXPECT_EQ(messages(out)[2],
            (json::object{{"role", "user"},
                          {"content",
                           "Your previous answer is not valid JSON output:\n"
                           "- /name: expected string, got integer 5\n"
                           "Answer again with only a JSON value that matches the required "
                           "schema: no other text, no Markdown code fence."}}));
  EXPECT_EQ(out.at("response_format"), request.at("response_format"));
}

TEST(RepairPromptTest, StructuredOutputJsonObject) {
  const json::object request = parse_object(
      R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}})");
  const json::object out =
      repair(request, completion_of(R"({"role":"assistant","content":"Here: {}"})"));
  EXPECT_EQ(messages(out).back().at("content"),
            "Your previous answer is not valid JSON output:\n"
            "- content is not valid JSON: syntax error at byte 0, near 'Here: {}'\n"
            "Answer again with only a JSON object: no other text, no Markdown code fence.");
}

TEST(RepairPromptTest, OnlyTheFailingChoiceAndAtMostTheLineLimit) {
  const json::object request = parse_object(R"({"messages":[],"response_format":{
    "type":"json_schema","json_schema":{"name":"p","schema":{"type":"object",
    "additionalProperties":false}}}})");
  json::object bad;
  for (int i = 0; i < 30; ++i) {
    bad["p" + std::to_string(i)] = i;
  }
  // Choice 0 is fine, choice 1 has ten issues (kMaxIssuesPerValue), choice 2 another one.
  json::object completion = parse_object(R"({"choices":[
    {"index":0,"message":{"role":"assistant","content":"{}"}},
    {"index":1,"message":{"role":"assistant","content":""}},
    {"index":2,"message":{"role":"assistant","content":"[]"}}]})");
  completion["choices"].as_array()[1].as_object()["message"].as_object()["content"] =
      json::serialize(bad);
  const json::object out = repair(request, completion);
  ASSERT_EQ(messages(out).size(), 2u);
  const std::string content(messages(out)[1].at("content").as_string());
  EXPECT_TRUE(content.starts_with("Your previous answer is not valid JSON output:\n- /p0: "))
      << content;
  EXPECT_EQ(std::count(content.begin(), content.end(), '\n'),
            static_cast<long>(AnswerValidator::kMaxIssuesPerValue) + 1);
  EXPECT_EQ(content.find("(root)"), std::string::npos);  // choice 2's issue is not included
}

TEST(RepairPromptTest, RequestWithoutMessagesGetsThem) {
  const json::object request = parse_object(R"({"response_format":{"type":"json_object"}})");
  const json::object out = repair(request, completion_of(R"({"role":"assistant","content":"x"})"));
  EXPECT_EQ(messages(out).size(), 2u);
}

}  // namespace
}  // namespace sheepdog::llm
