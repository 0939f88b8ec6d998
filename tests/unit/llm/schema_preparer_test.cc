#include "llm/schema_preparer.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>
#include <string>

namespace sheepdog::llm::detail {
namespace {

namespace json = boost::json;

TEST(SchemaPreparerTest, LocalRefPointers) {
  EXPECT_EQ(local_ref_pointer("#"), std::optional<std::string>(""));
  EXPECT_EQ(local_ref_pointer("#/definitions/a%20b"),
            std::optional<std::string>("/definitions/a b"));
  EXPECT_EQ(local_ref_pointer("#/$defs/x~1y"), std::optional<std::string>("/$defs/x~1y"));
  EXPECT_EQ(local_ref_pointer("#foo"), std::nullopt);
  EXPECT_EQ(local_ref_pointer("other.json#/a"), std::nullopt);
  EXPECT_EQ(local_ref_pointer("#/a%zz"), std::nullopt);
  EXPECT_EQ(local_ref_pointer(""), std::nullopt);
}

TEST(SchemaPreparerTest, RenamesOurKeywordsAndDropsIds) {
  json::value schema = json::parse(R"({"$id":"https://x/s","id":"s","type":"object",
    "properties":{"id":{"type":"string","format":"date","pattern":"^2"},"n":{"format":5}}})");
  EXPECT_EQ(prepare_schema(schema), "");
  EXPECT_EQ(schema, json::parse(R"({"type":"object","properties":{
    "id":{"type":"string","x-sheepdog-format":"date","x-sheepdog-pattern":"^2"},
    "n":{"format":5}}})"));
  json::value accept_all = true;
  EXPECT_EQ(prepare_schema(accept_all), "");
  EXPECT_EQ(accept_all, json::value(true));
}

TEST(SchemaPreparerTest, RefusesWhatValijsonCannotTake) {
  auto problem = [](std::string_view text) {
    json::value schema = json::parse(text);
    return prepare_schema(schema);
  };
  EXPECT_EQ(problem(R"({"not":5})"), "subschema at /not is not an object");
  EXPECT_EQ(problem(R"({"$ref":5})"), "$ref at (root) is not a string");
  EXPECT_EQ(problem(R"({"items":{"$ref":"#/nope"}})"), "$ref '#/nope' does not resolve");
  EXPECT_TRUE(problem(R"({"pattern":"(x"})").starts_with("invalid pattern '(x': "));
  EXPECT_TRUE(problem(R"({"patternProperties":{"[":{}}})").starts_with("invalid pattern '[': "));
  EXPECT_EQ(problem(R"({"anyOf":[{"$ref":"#/anyOf/1"},{"not":{"$ref":"#/anyOf/0"}}]})"),
            "$ref cycle through /anyOf/0 never descends into the value");
  // Through `properties` the value is one level deeper each time: not a cycle.
  EXPECT_EQ(problem(R"({"properties":{"next":{"$ref":"#"}}})"), "");
}

json::value nested_nots(int levels) {
  json::value schema = json::object{};
  for (int i = 0; i < levels; ++i) {
    schema = json::object{{"not", std::move(schema)}};
  }
  return schema;
}

json::value properties(int count, const json::value& each) {
  json::object props;
  for (int i = 0; i < count; ++i) {
    props["p" + std::to_string(i)] = each;
  }
  return json::object{{"properties", std::move(props)},
                      {"definitions", json::object{{"d", json::object{}}}}};
}

TEST(SchemaPreparerTest, BoundsDepthSizeAndRefs) {
  json::value schema = nested_nots(64);
  EXPECT_EQ(prepare_schema(schema), "");
  schema = nested_nots(65);
  EXPECT_EQ(prepare_schema(schema), "schema nested deeper than 64 levels");

  // The root and definitions/d count too.
  schema = properties(1998, json::object{});
  EXPECT_EQ(prepare_schema(schema), "");
  schema = properties(1999, json::object{});
  EXPECT_EQ(prepare_schema(schema), "schema has more than 2000 subschemas");

  const json::value ref = json::object{{"$ref", "#/definitions/d"}};
  schema = properties(64, ref);
  EXPECT_EQ(prepare_schema(schema), "");
  schema = properties(65, ref);
  EXPECT_EQ(prepare_schema(schema), "schema has more than 64 $ref");
}

}  // namespace
}  // namespace sheepdog::llm::detail
