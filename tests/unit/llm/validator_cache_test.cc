// ValidatorCache: one compilation per distinct tool set, shared validators, bounded size.
#include "llm/validator_cache.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace sheepdog::llm {
namespace {

namespace json = boost::json;

json::object request_with_tool(std::string_view name, std::string_view content = "Hi") {
  return json::parse(R"({"model":"m","messages":[{"role":"user","content":")" +
                     std::string(content) +
                     R"("}],"tools":[{"type":"function","function":{"name":")" + std::string(name) +
                     R"(","parameters":{"type":"object","properties":{"x":{"type":"integer"}},)"
                     R"("required":["x"]}}}]})")
      .as_object();
}

json::object answer_calling(std::string_view name, std::string_view arguments) {
  json::object function{{"name", name}, {"arguments", arguments}};
  json::object call{{"id", "call_1"}, {"type", "function"}, {"function", std::move(function)}};
  json::object message{
      {"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array{std::move(call)}}};
  return json::object{
      {"choices", json::array{json::object{{"index", 0}, {"message", std::move(message)}}}}};
}

TEST(ValidatorCacheTest, TheSameToolsAreCompiledOnceWhateverTheMessages) {
  ValidatorCache cache;
  const auto first = cache.get(request_with_tool("f", "first question"));
  const auto second = cache.get(request_with_tool("f", "a different question"));
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first, second);  // the same compiled validator
  EXPECT_EQ(cache.compilations(), 1u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(first->validate(answer_calling("f", R"({"x":1})")).ok);
  EXPECT_FALSE(first->validate(answer_calling("f", R"({"x":"1"})")).ok);
}

TEST(ValidatorCacheTest, DifferentToolsOrToolChoiceGetTheirOwnValidator) {
  ValidatorCache cache;
  const auto f = cache.get(request_with_tool("f"));
  const auto g = cache.get(request_with_tool("g"));
  json::object forced = request_with_tool("f");
  forced["tool_choice"] = "required";
  const auto f_required = cache.get(forced);
  EXPECT_NE(f, g);
  EXPECT_NE(f, f_required);
  EXPECT_EQ(cache.compilations(), 3u);
  EXPECT_FALSE(g->validate(answer_calling("f", R"({"x":1})")).ok);  // f is not offered to g
  const json::object no_call =
      json::parse(R"({"choices":[{"index":0,"message":{"role":"assistant","content":"Hi"}}]})")
          .as_object();
  EXPECT_TRUE(f->validate(no_call).ok);
  EXPECT_FALSE(f_required->validate(no_call).ok);
}

TEST(ValidatorCacheTest, NothingToCheckIsNullAndNotCached) {
  ValidatorCache cache;
  EXPECT_EQ(cache.get(json::parse(R"({"model":"m","messages":[]})").as_object()), nullptr);
  // response_format text asks nothing of the answer: compiled once, remembered as nothing.
  const json::object text =
      json::parse(R"({"model":"m","messages":[],"response_format":{"type":"text"}})").as_object();
  EXPECT_EQ(cache.get(text), nullptr);
  EXPECT_EQ(cache.get(text), nullptr);
  EXPECT_EQ(cache.compilations(), 1u);
}

TEST(ValidatorCacheTest, TheLeastRecentlyUsedSetLeavesFirst) {
  ValidatorCache cache(2);
  const auto a = cache.get(request_with_tool("a"));
  cache.get(request_with_tool("b"));
  cache.get(request_with_tool("a"));  // a is now the most recent
  cache.get(request_with_tool("c"));  // evicts b
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.compilations(), 3u);
  EXPECT_EQ(cache.get(request_with_tool("a")), a);
  EXPECT_EQ(cache.compilations(), 3u);
  cache.get(request_with_tool("b"));
  EXPECT_EQ(cache.compilations(), 4u);
  // An evicted validator still held by a request stays valid.
  EXPECT_TRUE(a->validate(answer_calling("a", R"({"x":2})")).ok);
}

}  // namespace
}  // namespace sheepdog::llm
