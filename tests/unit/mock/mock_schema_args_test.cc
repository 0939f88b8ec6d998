#include "mock/mock_schema_args.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sheepdog::mock {
namespace {

namespace json = boost::json;

const char* kWeather = R"({
  "type": "object",
  "properties": {
    "location": {"type": "string", "description": "City"},
    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    "days": {"type": "integer", "minimum": 1, "maximum": 10}
  },
  "required": ["location", "unit"]
})";

TEST(MockSchemaArgsTest, RequiredPropertiesWithTypeCorrectValues) {
  const json::value args = arguments_from_schema(json::parse(kWeather));
  EXPECT_EQ(args, json::parse(R"({"location": "example location", "unit": "celsius"})"));
}

TEST(MockSchemaArgsTest, AllPropertiesWhenNoneAreRequired) {
  const json::value args = arguments_from_schema(json::parse(R"({
    "type": "object",
    "properties": {
      "n": {"type": "integer", "exclusiveMinimum": 5},
      "x": {"type": "number", "maximum": 0.25},
      "ok": {"type": "boolean"},
      "when": {"type": "string", "format": "date-time"},
      "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "minItems": 2},
      "opt": {"type": ["null", "string"], "minLength": 12},
      "mode": {"const": "fast"},
      "pick": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
      "inner": {"properties": {"k": {"type": "integer"}}, "required": ["k"]}
    }
  })"));
  EXPECT_EQ(args, json::parse(R"({
    "n": 6, "x": 0.25, "ok": true, "when": "2024-01-15T09:30:00Z", "tags": ["exa", "exa"],
    "opt": "example optx", "mode": "fast", "pick": 1, "inner": {"k": 1}
  })"))
      << json::serialize(args);
}

TEST(MockSchemaArgsTest, NoSchemaMeansEmptyObject) {
  EXPECT_EQ(arguments_from_schema(json::value()), json::object());
}

TEST(MockSchemaArgsTest, BreakingDropsARequiredPropertyOrChangesAType) {
  const json::value schema = json::parse(kWeather);
  const json::value valid = arguments_from_schema(schema);
  EXPECT_EQ(break_schema(schema, valid, /*drop_required=*/true),
            json::parse(R"({"unit": "celsius"})"));
  // Without dropping, the first declared property (location, a string) becomes a number.
  EXPECT_EQ(break_schema(schema, valid, /*drop_required=*/false),
            json::parse(R"({"location": 42, "unit": "celsius"})"));
  EXPECT_EQ(break_schema(json::parse(R"({"type": "object"})"), json::object(), true),
            json::value("not an object"));
}

TEST(MockSchemaArgsTest, MalformedJsonNeverParses) {
  for (const char* text : {"{}", R"({"location":"Paris"})", R"({"a":[1,2,3],"b":{"c":true}})"}) {
    boost::system::error_code ec;
    json::parse(malformed_json(text), ec);
    EXPECT_TRUE(ec) << malformed_json(text);
  }
  EXPECT_EQ(malformed_json(R"({"a":1})"), R"({"a)");
}

}  // namespace
}  // namespace sheepdog::mock
