#include "llm/compiled_schema.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "llm/schema_messages.h"

namespace sheepdog::llm::detail {
namespace {

namespace json = boost::json;

std::vector<std::string> messages(const std::vector<SchemaViolation>& violations) {
  std::vector<std::string> out;
  for (const SchemaViolation& violation : violations) {
    out.push_back(violation.path + " | " + violation.message);
  }
  return out;
}

TEST(CompiledSchemaTest, CompileSaysWhyNot) {
  std::string problem = "stale";
  EXPECT_NE(compile_schema(json::value(true), problem), nullptr);
  EXPECT_EQ(problem, "");
  EXPECT_EQ(compile_schema(json::value("hello"), problem), nullptr);
  EXPECT_EQ(problem, "not a JSON Schema object");
  EXPECT_EQ(compile_schema(json::parse(R"({"not":[]})"), problem), nullptr);
  EXPECT_EQ(problem, "subschema at /not is not an object");
  EXPECT_EQ(compile_schema(json::parse(R"({"type":"strin"})"), problem), nullptr);
  // llm/schema_lint.h words it before valijson sees it (valijson: "Unrecognised JSON type name").
  EXPECT_EQ(problem,
            "/type: type must be one of null, boolean, object, array, number, integer or string, "
            "got \"strin\"");
  // Keywords valijson would divide by, or convert out of range, never reach it.
  EXPECT_EQ(compile_schema(json::parse(R"({"properties":{"a":{"multipleOf":0}}})"), problem),
            nullptr);
  EXPECT_EQ(problem, "/properties/a/multipleOf: multipleOf must be a number greater than 0, got 0");
  EXPECT_EQ(compile_schema(json::parse(R"({"maxItems":1e30})"), problem), nullptr);
  EXPECT_EQ(problem, "/maxItems: maxItems must be a whole number from 0 to 2^53, got 1e+30");
}

TEST(CompiledSchemaTest, CheckIsCappedAndDeduplicated) {
  std::string problem;
  const std::unique_ptr<CompiledSchema> compiled =
      compile_schema(json::parse(R"({"type":"object","required":["a","b","c"]})"), problem);
  ASSERT_NE(compiled, nullptr) << problem;
  EXPECT_TRUE(check_schema(*compiled, json::parse(R"({"a":1,"b":2,"c":3})"), 10).empty());
  const json::value empty = json::object{};
  EXPECT_EQ(messages(check_schema(*compiled, empty, 10)),
            (std::vector<std::string>{"/a | /a: missing required property",
                                      "/b | /b: missing required property",
                                      "/c | /c: missing required property"}));
  EXPECT_EQ(check_schema(*compiled, empty, 2).size(), 2u);
  // valijson fails the type in both branches; the model hears it once.
  const std::unique_ptr<CompiledSchema> twice = compile_schema(
      json::parse(R"({"anyOf":[{"type":"string"},{"type":"string","minLength":1}]})"), problem);
  ASSERT_NE(twice, nullptr) << problem;
  EXPECT_EQ(messages(check_schema(*twice, json::value(5), 10)),
            (std::vector<std::string>{" | (root): expected string, got integer 5",
                                      " | (root): 5 matches none of the anyOf alternatives"}));
}

TEST(CompiledSchemaTest, OwnFormatAndPatternConstraints) {
  std::string problem;
  const std::unique_ptr<CompiledSchema> compiled = compile_schema(json::parse(R"({
    "type":"object","properties":{"d":{"type":"string","format":"date"},
    "k":{"type":"string","pattern":"^[a-z]+$"}}})"),
                                                                  problem);
  ASSERT_NE(compiled, nullptr) << problem;
  EXPECT_EQ(messages(check_schema(*compiled, json::parse(R"({"d":"2023-02-29","k":"A"})"), 10)),
            (std::vector<std::string>{
                "/d | /d: '2023-02-29' is not a valid date (YYYY-MM-DD, e.g. 2024-01-15)",
                "/k | /k: 'A' does not match the pattern '^[a-z]+$'"}));
}

// Patterns std::regex refused (\p, \u{...}, lookbehind) are ECMA-262 and now checked.
TEST(CompiledSchemaTest, PatternsInTheEcmaScriptDialect) {
  std::string problem;
  const std::unique_ptr<CompiledSchema> compiled = compile_schema(json::parse(R"({
    "type":"object","properties":{"name":{"type":"string","pattern":"^\\p{Lu}\\p{Ll}+$"},
    "price":{"type":"string","pattern":"(?<=\\u{20AC})\\d"}}})"),
                                                                  problem);
  ASSERT_NE(compiled, nullptr) << problem;
  EXPECT_EQ(messages(check_schema(*compiled, json::parse(R"({"name":"Émile","price":"€5"})"), 10)),
            std::vector<std::string>{});
  EXPECT_EQ(messages(check_schema(*compiled, json::parse(R"({"name":"émile","price":"$5"})"), 10)),
            (std::vector<std::string>{
                "/name | /name: 'émile' does not match the pattern '^\\p{Lu}\\p{Ll}+$'",
                "/price | /price: '$5' does not match the pattern '(?<=\\u{20AC})\\d'"}));
}

TEST(CompiledSchemaTest, PatternPropertiesAreCheckedUpToALongName) {
  std::string problem;
  const auto compiled = compile_schema(
      json::parse(R"({"type":"object","patternProperties":{"^x-[a-z]+$":{"type":"integer"}},)"
                  R"("additionalProperties":false})"),
      problem);
  ASSERT_NE(compiled, nullptr) << problem;
  EXPECT_TRUE(compiled->has_pattern_properties);
  EXPECT_TRUE(check_schema(*compiled, json::parse(R"({"x-a":1})"), 10).empty());
  EXPECT_FALSE(check_schema(*compiled, json::parse(R"({"x-a":"1"})"), 10).empty());
  EXPECT_FALSE(check_schema(*compiled, json::parse(R"({"y":1})"), 10).empty());
  // A name longer than the bound is not matched by valijson's recursive std::regex: the value
  // passes rather than risking the thread's stack (100 KB would overflow it).
  json::object huge;
  huge["x-" + std::string(100'000, 'a')] = "not an integer";
  EXPECT_TRUE(check_schema(*compiled, huge, 10).empty());
  json::object nested{{"x-a", 1}, {"inner", json::object{{std::string(2000, 'k'), 1}}}};
  EXPECT_TRUE(check_schema(*compiled, nested, 10).empty());
  // Schemas without patternProperties check long names as usual.
  const auto plain = compile_schema(
      json::parse(R"({"type":"object","additionalProperties":{"type":"integer"}})"), problem);
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(plain->has_pattern_properties);
  EXPECT_FALSE(check_schema(*plain, huge, 10).empty());
}

TEST(SchemaMessagesTest, TranslatesValijsonDescriptions) {
  const json::value schema = json::parse(R"({"$defs":{"s":{"type":"string"}},
    "properties":{"list":{"items":{"$ref":"#/$defs/s"}},"a":{"properties":{"x":{}},
    "patternProperties":{"^p":{}},"additionalProperties":false}}})");
  const json::value instance = json::parse(R"({"list":["a",5],"a":{"x":1,"y":2,"p1":3,"z":4}})");
  EXPECT_TRUE(translate_error("Failed to validate item #1", {"<root>", "[list]"}, instance, schema)
                  .empty());
  EXPECT_EQ(messages(translate_error("Value type not permitted by 'type' constraint.",
                                     {"<root>", "[list]", "[1]"}, instance, schema)),
            (std::vector<std::string>{"/list/1 | /list/1: expected string, got integer 5"}));
  EXPECT_EQ(messages(translate_error("Missing required property 'q'.", {"<root>", "[a]"}, instance,
                                     schema)),
            (std::vector<std::string>{"/a/q | /a/q: missing required property"}));
  // valijson names only the first extra property; every one is reported.
  EXPECT_EQ(messages(translate_error(
                "Object contains a property that could not be validated using 'properties' or "
                "'additionalProperties' constraints: 'y'.",
                {"<root>", "[a]"}, instance, schema)),
            (std::vector<std::string>{
                "/a/y | /a/y: property not allowed (additionalProperties is false)",
                "/a/z | /a/z: property not allowed (additionalProperties is false)"}));
  EXPECT_EQ(messages(translate_error(std::string(1, kOwnError) + "format:uuid", {"<root>", "[a]"},
                                     instance, schema)),
            (std::vector<std::string>{"/a | /a: {\"x\":1,\"y\":2,\"p1\":3,\"z\":4} is not a "
                                      "valid uuid (e.g. 123e4567-e89b-12d3-a456-426614174000)"}));
  EXPECT_EQ(messages(translate_error("Some new valijson message.", {"<root>"}, instance, schema)),
            (std::vector<std::string>{" | (root): some new valijson message"}));
}

}  // namespace
}  // namespace sheepdog::llm::detail
