#include "llm/json_text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "core/json_fields.h"
#include "llm/tool_validation.h"

namespace sheepdog::llm::detail {
namespace {

namespace json = boost::json;

TEST(JsonTextTest, ShortenCutsAtACharacterBoundary) {
  EXPECT_EQ(shorten("abc", 3), "abc");
  EXPECT_EQ(shorten("abcd", 3), "abc...");
  // "h\xC3\xA9llo": byte 2 is the second byte of 'é', so the cut moves back before it.
  EXPECT_EQ(shorten("h\xC3\xA9llo", 2), "h...");
  EXPECT_EQ(shorten("h\xC3\xA9llo", 3), "h\xC3\xA9...");
}

TEST(JsonTextTest, OneLineReplacesControlCharacters) {
  EXPECT_EQ(one_line("a\nb\tc\x7f", 10), "a?b?c?");
  EXPECT_EQ(one_line("get_weather", 3), "get...");
}

TEST(JsonTextTest, JsonTextIsBounded) {
  EXPECT_EQ(json_text(json::parse(R"({"a":[1,-2,2.5,true,null],"b":"x\"y"})"), 100),
            R"({"a":[1,-2,2.5,true,null],"b":"x\"y"})");
  EXPECT_EQ(json_text(json::value(18446744073709551615ull), 100), "18446744073709551615");
  json::array numbers;
  for (int i = 1; i <= 100; ++i) {
    numbers.push_back(i);
  }
  // Printing stops once past the budget, and the text is then cut to it.
  EXPECT_EQ(json_text(numbers, 10), "[1,2,3,4,5...");
}

TEST(JsonTextTest, QuoteStringsInSingleQuotesEscaped) {
  EXPECT_EQ(quote(json::value("kelvin")), "'kelvin'");
  EXPECT_EQ(quote(json::value("a\nb'c")), "'a\\nb'c'");
  EXPECT_EQ(quote(json::value(std::string(100, 'x'))), "'" + std::string(60, 'x') + "...'");
  EXPECT_EQ(quote(json::value(1.5)), "1.5");
  EXPECT_EQ(quote(json::value(nullptr)), "null");
  EXPECT_EQ(quote(json::parse(R"({"k":["v"]})")), R"({"k":["v"]})");
}

TEST(JsonTextTest, TypeNamesAreJsonSchemas) {
  EXPECT_EQ(json_type_name(json::value(5)), "integer");
  EXPECT_EQ(json_type_name(json::value(5u)), "integer");
  EXPECT_EQ(json_type_name(json::value(5.5)), "number");
  EXPECT_EQ(json_type_name(json::value("5")), "string");
  EXPECT_EQ(json_type_name(json::value(true)), "boolean");
  EXPECT_EQ(json_type_name(json::value(nullptr)), "null");
  EXPECT_EQ(json_type_name(json::array{}), "array");
  EXPECT_EQ(json_type_name(json::object{}), "object");
}

TEST(JsonTextTest, PointersEscapeAndDisplay) {
  EXPECT_EQ(child_pointer("", "a/b~c"), "/a~1b~0c");
  EXPECT_EQ(child_pointer("/items", "0"), "/items/0");
  EXPECT_EQ(display_path(""), "(root)");
  EXPECT_EQ(display_path("/a\nb"), "/a?b");
  EXPECT_EQ(display_path("/" + std::string(200, 'p')), "/" + std::string(119, 'p') + "...");
}

TEST(JsonTextTest, IntegralNumbersBecomeIntegers) {
  json::value value = json::parse(R"({"a":5.0,"b":[2.0,2.5,-3.0],"c":1e16})");
  normalize_numbers(value);
  EXPECT_TRUE(value.at("a").is_int64());
  EXPECT_EQ(value.at("a").get_int64(), 5);
  EXPECT_EQ(value.at("b"), json::parse("[2,2.5,-3]"));
  EXPECT_TRUE(value.at("b").at(0).is_int64());
  EXPECT_TRUE(value.at("b").at(1).is_double());
  EXPECT_TRUE(value.at("c").is_double());  // beyond 9e15: kept, a double cannot say
}

// Found by the tool_validator fuzz target: 1e308 was converted to int64 before its range was
// checked (undefined behaviour; UBSan aborts).
TEST(JsonTextTest, NumbersBeyondInt64AreKeptAsDoubles) {
  json::value value = json::parse(R"([1e308, -1e308, 1.7976931348623157e308, 9.3e18])");
  normalize_numbers(value);
  for (const json::value& item : value.as_array()) {
    EXPECT_TRUE(item.is_double()) << item;
  }
}

TEST(JsonTextTest, ParseTextNamesTheProblem) {
  json::value out = "untouched";
  std::optional<TextProblem> problem = parse_text(" \n", true, "arguments", out);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->reason, ValidationReason::kInvalidJson);
  EXPECT_EQ(problem->message, "arguments are empty, expected JSON");

  problem = parse_text("```json\n{}\n```", false, "content", out);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->reason, ValidationReason::kInvalidJson);
  EXPECT_EQ(problem->message, "content is wrapped in a Markdown code fence; send the bare JSON");

  problem = parse_text(R"({"a":1)", true, "arguments", out);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->reason, ValidationReason::kTruncatedJson);
  EXPECT_EQ(problem->message, "arguments end before the JSON value is complete (6 bytes)");

  problem = parse_text(R"({"a":1} x)", true, "arguments", out);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->reason, ValidationReason::kTrailingText);
  EXPECT_EQ(problem->message, "arguments continue after the JSON value, at byte 8: 'x'");

  problem = parse_text("[" + std::string(65, '[') + std::string(66, ']'), false, "content", out);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->reason, ValidationReason::kInvalidJson);  // deeper than 64
  EXPECT_EQ(out, json::value("untouched"));

  EXPECT_FALSE(parse_text(" [1, 2.0, {\"a\": null}] \n", false, "content", out).has_value());
  EXPECT_EQ(out, json::parse(R"([1,2,{"a":null}])"));
  EXPECT_TRUE(out.at(1).is_int64());
}

TEST(JsonTextTest, ParseTextPointsAtASyntaxError) {
  json::value out;
  const std::optional<TextProblem> problem = parse_text(R"({"a":tru})", true, "arguments", out);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->reason, ValidationReason::kInvalidJson);
  // The byte is where the bad token starts.
  EXPECT_EQ(problem->message, "arguments are not valid JSON: syntax error at byte 5, near 'tru}'");
}

}  // namespace
}  // namespace sheepdog::llm::detail
