// server/json_body.h: a body that is not one JSON value gets the cause and the byte offset.
#include "server/json_body.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sheepdog::server {
namespace {

std::string problem(std::string_view body) {
  boost::json::value out;
  return parse_json_body(body, out);
}

TEST(JsonBodyTest, ParsesOneValue) {
  boost::json::value out;
  EXPECT_EQ(parse_json_body(" {\"a\":[1,\"\\u00e9\\ud83d\\ude00\"]}\n", out), "");
  EXPECT_EQ(out.at("a").at(1).as_string(), "\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(JsonBodyTest, NamesTheCauseAndTheOffset) {
  struct Case {
    std::string body;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"{\"a\":\"\xff\"}", "invalid UTF-8 (byte 0xff) at byte 6; the body must be UTF-8"},
      {"{\"a\":\"\xc3\x28\"}", "invalid UTF-8 (byte 0x28) at byte 7; the body must be UTF-8"},
      {"{\"a\":\"x\xed\xa0\x80\"}", "invalid UTF-8 (byte 0xed) at byte 7; the body must be UTF-8"},
      {"{\"a\":\"\\ud800\"}",
       "lone surrogate \\ud800 at byte 6: UTF-16 surrogates must come in pairs"},
      {"{\"a\":\"\\ud800x\"}",
       "lone surrogate \\ud800 at byte 6: UTF-16 surrogates must come in pairs"},
      {"{\"a\":\"\\udc00\"}",
       "lone surrogate \\udc00 at byte 6: UTF-16 surrogates must come in pairs"},
      {"{\"a\":1", "the body ends before the JSON value is complete (byte 6)"},
      {"{\"a\":1}x", "unexpected data after the JSON value at byte 7 (near 'x')"},
      {"{\"a\":1}{}", "unexpected data after the JSON value at byte 7 (near '{}')"},
      {"{\"a\":\"\x01\"}", "control character 0x01 at byte 6; escape it inside strings"},
      {"{a:1}", "JSON syntax error at byte 1 (near 'a:1}')"},
      {"{\"a\":[1,]}", "JSON syntax error at byte 8 (near ']}')"},
      {std::string(200, '[') + std::string(200, ']'),
       "JSON nested deeper than 128 levels at byte 128"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(problem(c.body), c.expected) << c.body;
  }
}

}  // namespace
}  // namespace sheepdog::server
