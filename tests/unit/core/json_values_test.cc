#include "core/json_values.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace sheepdog {
namespace {

namespace json = boost::json;

TEST(JsonValuesTest, NumbersOfEveryKindReadAsDoubles) {
  EXPECT_EQ(json_number(json::parse("-3")), -3.0);
  EXPECT_EQ(json_number(json::parse("18446744073709551615")), 18446744073709551615.0);
  EXPECT_EQ(json_number(json::parse("0.25")), 0.25);
  EXPECT_EQ(json_number(json::parse("\"1\"")), std::nullopt);
  EXPECT_EQ(json_number(json::parse("true")), std::nullopt);
  EXPECT_EQ(json_number(json::parse("null")), std::nullopt);
}

TEST(JsonValuesTest, KindPhrasesAsMessagesSayThem) {
  EXPECT_EQ(json_kind_phrase(json::parse("null")), "null");
  EXPECT_EQ(json_kind_phrase(json::parse("false")), "a boolean");
  EXPECT_EQ(json_kind_phrase(json::parse("1")), "a number");
  EXPECT_EQ(json_kind_phrase(json::parse("1.5")), "a number");
  EXPECT_EQ(json_kind_phrase(json::parse("1"), true), "an integer");
  EXPECT_EQ(json_kind_phrase(json::parse("1.5"), true), "a decimal");
  EXPECT_EQ(json_kind_phrase(json::parse("\"x\"")), "a string");
  EXPECT_EQ(json_kind_phrase(json::parse("[]")), "an array");
  EXPECT_EQ(json_kind_phrase(json::parse("{}")), "an object");
}

}  // namespace
}  // namespace sheepdog
