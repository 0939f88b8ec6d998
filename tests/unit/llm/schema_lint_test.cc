// llm/schema_lint.h: the keywords valijson cannot run, or that no value satisfies, each found
// with its JSON Pointer; usable schemas pass.
#include "llm/schema_lint.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

namespace sheepdog::llm {
namespace {

namespace json = boost::json;

std::string flaw(std::string_view schema) {
  const std::optional<SchemaFlaw> f = lint_schema(json::parse(schema));
  return f ? f->pointer + " | " + f->keyword + " | " + f->message : "ok";
}

TEST(SchemaLintTest, UsableSchemasPass) {
  for (std::string_view schema : {
           R"({})",
           R"(true)",
           R"({"type":"object","properties":{"a":{"type":"number","multipleOf":0.5}},)"
           R"("required":["a"],"additionalProperties":false})",
           R"({"type":["string","null"],"minLength":0,"maxLength":10,"enum":["a",null]})",
           R"({"type":"integer","minimum":1,"maximum":1})",
           R"({"type":"number","exclusiveMinimum":0,"maximum":1})",
           R"({"type":"number","minimum":0,"exclusiveMaximum":true,"maximum":2})",
           R"({"items":[{"type":"string"},true],"additionalItems":false,"minItems":1.0})",
           R"({"dependencies":{"a":["b"],"c":{"required":["d"]}},"x-custom":[1,2]})",
           R"({"$defs":{"s":{"type":"string"}},"anyOf":[{"$ref":"#/$defs/s"},{"type":"null"}]})",
       }) {
    EXPECT_EQ(flaw(schema), "ok") << schema;
  }
}

TEST(SchemaLintTest, EachFlawIsNamedWithItsPointer) {
  struct Case {
    std::string schema;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {R"({"type":"object","properties":{"a":{"type":"number","multipleOf":0}}})",
       "/properties/a/multipleOf | multipleOf | multipleOf must be a number greater than 0, got 0"},
      {R"({"multipleOf":-2})",
       "/multipleOf | multipleOf | multipleOf must be a number greater "
       "than 0, got -2"},
      {R"({"multipleOf":"3"})",
       "/multipleOf | multipleOf | multipleOf must be a number greater "
       "than 0, got \"3\""},
      {R"({"minLength":-1})",
       "/minLength | minLength | minLength must be a whole number from 0 to 2^53, got -1"},
      {R"({"maxItems":1e30})",
       "/maxItems | maxItems | maxItems must be a whole number from 0 to 2^53, got 1e+30"},
      {R"({"maxProperties":2.5})",
       "/maxProperties | maxProperties | maxProperties must be a whole "
       "number from 0 to 2^53, got 2.5"},
      {R"({"enum":[]})",
       "/enum | enum | enum must be a non-empty array (nothing can match an empty "
       "one), got []"},
      {R"({"minimum":5,"maximum":1})",
       "/minimum | minimum | no number can satisfy the lower bound 5 and the upper bound 1"},
      {R"({"exclusiveMinimum":1,"maximum":1})",
       "/exclusiveMinimum | exclusiveMinimum | no number can satisfy the lower bound 1 (exclusive) "
       "and the upper bound 1"},
      {R"({"minLength":3,"maxLength":2})",
       "/minLength | minLength | minLength 3 is more than maxLength 2: no value can have that many "
       "characters"},
      {R"({"minItems":3,"maxItems":2})",
       "/minItems | minItems | minItems 3 is more than maxItems "
       "2: no value can have that many items"},
      {R"({"type":"strin"})",
       "/type | type | type must be one of null, boolean, object, array, "
       "number, integer or string, got \"strin\""},
      {R"({"type":[]})",
       "/type | type | type must be a non-empty array of distinct type names "
       "(null, boolean, object, array, number, integer, string), got []"},
      {R"({"type":["string","string"]})",
       "/type | type | type must be a non-empty array of distinct type names (null, boolean, "
       "object, array, number, integer, string), got [\"string\",\"string\"]"},
      {R"({"required":"a"})",
       "/required | required | required must be an array of distinct strings, got \"a\""},
      {R"({"required":["a","a"]})",
       "/required | required | required must be an array of distinct strings, got [\"a\",\"a\"]"},
      {R"({"uniqueItems":"yes"})",
       "/uniqueItems | uniqueItems | uniqueItems must be a boolean, got \"yes\""},
      {R"({"pattern":5})", "/pattern | pattern | pattern must be a string, got 5"},
      {R"({"$ref":5})", "/$ref | $ref | $ref must be a string, got 5"},
      {R"({"anyOf":[]})", "/anyOf | anyOf | anyOf must be a non-empty array of schemas, got []"},
      {R"({"not":[1]})", "/not |  | a schema must be an object or a boolean, got array"},
      {R"({"properties":{"a":5}})",
       "/properties/a |  | a schema must be an object or a boolean, got integer"},
      {R"({"properties":[]})", "/properties | properties | properties must be an object, got []"},
      {R"({"items":[{"maxLength":-1}]})",
       "/items/0/maxLength | maxLength | maxLength must be a whole number from 0 to 2^53, got -1"},
      {R"({"dependencies":{"a":[1]}})",
       "/dependencies/a | a | a property dependency must list property names, got [1]"},
      {R"({"definitions":{"x/y":{"multipleOf":0}}})",
       "/definitions/x~1y/multipleOf | multipleOf | multipleOf must be a number greater than 0, "
       "got 0"},
      {"5", " |  | a schema must be an object or a boolean, got integer"},
      {R"({"properties":{"a":{"pattern":"(["}}})",
       "/properties/a/pattern | pattern | invalid pattern '([': missing terminating ] for "
       "character class at offset 2"},
      {R"j({"patternProperties":{"a)":{}}})j",
       "/patternProperties | patternProperties | invalid pattern 'a)': unmatched closing "
       "parenthesis at offset 1"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(flaw(c.schema), c.expected) << c.schema;
  }
}

TEST(SchemaLintTest, BoundsDepthAndSize) {
  std::string deep;
  for (int i = 0; i < 70; ++i) {
    deep += R"({"not":)";
  }
  deep += "{}" + std::string(70, '}');
  boost::json::parse_options options;
  options.max_depth = 200;
  const std::optional<SchemaFlaw> f = lint_schema(json::parse(deep, {}, options));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->message, "the schema is nested deeper than 64 levels");

  json::object props;
  for (int i = 0; i < 2100; ++i) {
    props["p" + std::to_string(i)] = json::object{};
  }
  const std::optional<SchemaFlaw> big = lint_schema(json::object{{"properties", props}});
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->message, "the schema has more than 2000 subschemas");
}

TEST(SchemaLintTest, SaysWhenThePreparerIsNeeded) {
  bool needs = true;
  EXPECT_FALSE(lint_schema(json::parse(R"({"type":"object"})"), &needs));
  EXPECT_FALSE(needs);
  EXPECT_FALSE(lint_schema(json::parse(R"({"properties":{"a":{"pattern":"^x"}}})"), &needs));
  EXPECT_FALSE(needs);  // patterns are checked here
  EXPECT_FALSE(lint_schema(json::parse(R"({"items":{"$ref":"#"}})"), &needs));
  EXPECT_TRUE(needs);
}

}  // namespace
}  // namespace sheepdog::llm
