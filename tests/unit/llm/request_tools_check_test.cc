// llm/request_tools_check.h: client mistakes in tools, tool_choice, parallel_tool_calls and
// response_format found before anything goes upstream, each with the tool and the place.
#include "llm/request_tools_check.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

namespace sheepdog::llm {
namespace {

namespace json = boost::json;
using Where = ToolsCheckError::Where;

std::string tool(std::string_view name, std::string_view parameters) {
  return R"({"type":"function","function":{"name":")" + std::string(name) + R"(","parameters":)" +
         std::string(parameters) + "}}";
}

std::optional<ToolsCheckError> check(std::string_view extra) {
  return check_request_tools(
      json::parse(R"({"model":"m","messages":[{"role":"user","content":"x"}])" +
                  std::string(extra) + "}")
          .as_object());
}

TEST(RequestToolsCheckTest, WellFormedRequestsPass) {
  for (const std::string& extra : std::vector<std::string>{
           "",
           R"(,"tools":[])",
           R"(,"tools":[)" +
               tool("f", R"({"type":"object","properties":{"a":{"type":"number"}}})") +
               R"(],"tool_choice":{"type":"function","function":{"name":"f"}})",
           R"(,"tools":[)" + tool("get_weather", "{}") + "," + tool("b-2", R"({"type":"object"})") +
               R"(],"tool_choice":"required","parallel_tool_calls":false)",
           R"(,"tools":[{"function":{"name":"no_type"}}],"tool_choice":"auto")",
           R"(,"tools":[{"type":"custom","custom":{"name":"grep"}}],)"
           R"("tool_choice":{"type":"custom","custom":{"name":"grep"}})",
           R"(,"tools":[)" + tool("f", "{}") +
               R"(],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required",)"
               R"("tools":[{"type":"function","function":{"name":"f"}}]}})",
           R"(,"tool_choice":"none")",
           R"(,"response_format":{"type":"json_object"})",
           R"(,"response_format":{"type":"json_schema","json_schema":{"name":"out",)"
           R"("schema":{"type":"object","properties":{"x":{"pattern":"^a"}}},"strict":true}})",
       }) {
    const std::optional<ToolsCheckError> e = check(extra);
    EXPECT_FALSE(e.has_value()) << extra << ": " << (e ? e->message : "");
  }
}

TEST(RequestToolsCheckTest, TheIssueReproIsRefusedNamingToolAndKeyword) {
  const std::optional<ToolsCheckError> e =
      check(R"(,"tools":[)" +
            tool("f", R"({"type":"object","properties":{"a":{"type":"number","multipleOf":0}},)"
                      R"("required":["a"]})") +
            R"(],"tool_choice":{"type":"function","function":{"name":"f"}})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->where, Where::kToolParameters);
  EXPECT_EQ(e->tool, 0);
  EXPECT_EQ(e->tool_name, "f");
  EXPECT_EQ(e->pointer, "/properties/a/multipleOf");
  EXPECT_EQ(e->keyword, "multipleOf");
  EXPECT_EQ(e->message, "multipleOf must be a number greater than 0, got 0");
}

TEST(RequestToolsCheckTest, EachMistakeIsFound) {
  struct Case {
    std::string extra;
    Where where;
    int tool;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"(,"tools":{})", Where::kTools, -1, "expected an array, got object"},
      {R"(,"tools":[5])", Where::kTools, 0, "expected a tool object, got integer"},
      {R"(,"tools":[{"type":"retrieval"}])", Where::kTools, 0,
       "type must be 'function' or 'custom', got \"retrieval\""},
      {R"(,"tools":[{"type":"function"}])", Where::kTools, 0, "missing the 'function' object"},
      {R"(,"tools":[{"type":"function","function":{}}])", Where::kTools, 0,
       "missing the function name"},
      {R"(,"tools":[{"type":"function","function":{"name":"get weather"}}])", Where::kTools, 0,
       "the name \"get weather\" must be 1 to 64 letters, digits, '_' or '-'"},
      {R"(,"tools":[)" + tool("f", "{}") + "," + tool("f", "{}") + "]", Where::kTools, 1,
       "two tools are named 'f'"},
      {R"(,"tools":[)" + tool("f", "[1,2]") + "]", Where::kToolParameters, 0,
       "must be a JSON Schema object with type 'object', got [1,2]"},
      {R"(,"tools":[)" + tool("f", "\"object\"") + "]", Where::kToolParameters, 0,
       "must be a JSON Schema object with type 'object', got \"object\""},
      {R"(,"tools":[)" + tool("f", "true") + "]", Where::kToolParameters, 0,
       "must be a JSON Schema object with type 'object', got true"},
      {R"(,"tools":[)" + tool("f", R"({"type":"string"})") + "]", Where::kToolParameters, 0,
       "must be a JSON Schema of type 'object', got type \"string\""},
      {R"(,"tools":[)" + tool("f", R"({"type":"object","properties":{"u":{"enum":[]}}})") + "]",
       Where::kToolParameters, 0,
       "enum must be a non-empty array (nothing can match an empty one), got []"},
      {R"(,"tools":[)" + tool("f", R"({"type":"object","minimum":3,"maximum":1})") + "]",
       Where::kToolParameters, 0, "no number can satisfy the lower bound 3 and the upper bound 1"},
      {R"(,"tools":[)" + tool("f", R"({"$ref":"#"})") + "]", Where::kToolParameters, 0,
       "$ref cycle through (root) never descends into the value"},
      {R"(,"tools":[)" + tool("f", R"({"type":"object","$ref":"#/definitions/no"})") + "]",
       Where::kToolParameters, 0, "$ref '#/definitions/no' does not resolve"},
      {R"(,"tools":[)" + tool("f", R"({"properties":{"a":{"pattern":"(["}}})") + "]",
       Where::kToolParameters, 0,
       "invalid pattern '([': missing terminating ] for character class at offset 2"},
      {R"(,"tools":[)" + tool("f", "{}") +
           R"(],"tool_choice":{"type":"function",)"
           R"("function":{"name":"g"}})",
       Where::kToolChoice, -1, "names the tool 'g', which is not in tools (offered: 'f')"},
      {R"(,"tool_choice":"required")", Where::kToolChoice, -1,
       "is only allowed when tools are specified"},
      {R"(,"tools":[)" + tool("f", "{}") + R"(],"tool_choice":"always")", Where::kToolChoice, -1,
       "must be 'none', 'auto', 'required' or an object naming a tool, got \"always\""},
      {R"(,"tools":[)" + tool("f", "{}") +
           R"(],"tool_choice":{"type":"allowed_tools","allowed_tools":{"tools":[)"
           R"({"type":"function","function":{"name":"h"}}]}})",
       Where::kToolChoice, -1, "names the tool 'h', which is not in tools (offered: 'f')"},
      {R"(,"parallel_tool_calls":"no")", Where::kParallelToolCalls, -1,
       "expected a boolean, got string"},
      {R"(,"response_format":"json")", Where::kResponseFormat, -1,
       "expected an object, got string"},
      {R"(,"response_format":{"type":"xml"})", Where::kResponseFormat, -1,
       "type must be 'text', 'json_object' or 'json_schema', got \"xml\""},
      {R"(,"response_format":{"type":"json_schema","json_schema":{"name":"o"}})",
       Where::kResponseFormat, -1, "json_schema has no schema"},
      {R"(,"response_format":{"type":"json_schema","json_schema":{"name":"o",)"
       R"("schema":{"properties":{"n":{"multipleOf":0}}}}})",
       Where::kResponseFormat, -1, "multipleOf must be a number greater than 0, got 0"},
  };
  for (const Case& c : cases) {
    const std::optional<ToolsCheckError> e = check(c.extra);
    ASSERT_TRUE(e.has_value()) << c.extra;
    EXPECT_EQ(e->where, c.where) << c.extra;
    EXPECT_EQ(e->tool, c.tool) << c.extra;
    EXPECT_EQ(e->message, c.message) << c.extra;
  }
}

}  // namespace
}  // namespace sheepdog::llm
