// Up-front checks of what a chat.completions request asks of its answer: the `tools` array, each
// function's `parameters` schema, `tool_choice`, `parallel_tool_calls` and `response_format`.
// A client mistake here used to cost three upstream calls and end in a 502 (or, with a schema
// that valijson cannot run, crash the process); now it is a 400 naming the tool and the problem
// before anything is sent. The OpenAI API refuses the same requests, so nothing that works
// upstream is refused here. API-neutral: each client API words the error in its own terms (the
// Anthropic front reports `tools.N.input_schema`, the OpenAI one `tools[N].function.parameters`).
//
// What is refused:
//   tools not an array; an element that is not {type: "function", function: {...}} or
//   {type: "custom", custom: {...}} (type may be left out beside `function`); a name that is not
//   1-64 of [a-zA-Z0-9_-]; two tools with one name; a description that is not a string;
//   parameters that are not an object schema (an array, a string, `true`, or a `type` other than
//   "object"); a schema flaw (llm/schema_lint.h) or one llm/schema_preparer.h finds ($ref not
//   local or not resolving, a $ref cycle, a bad regex, too big);
//   tool_choice without tools, a mode other than none / auto / required, or naming a tool that
//   is not offered (also inside allowed_tools);
//   parallel_tool_calls not a boolean;
//   response_format not {type: text | json_object | json_schema}, json_schema without an object
//   `schema` or a valid `name`, or a schema flaw in it.
// Pure; safe to call concurrently.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

namespace sheepdog::llm {

struct ToolsCheckError {
  enum class Where : unsigned char {
    kTools,              // the tools array or tools[tool] itself
    kToolParameters,     // tools[tool]'s parameters schema
    kToolChoice,         // tool_choice
    kParallelToolCalls,  // parallel_tool_calls
    kResponseFormat,     // response_format (its schema included)
  };
  Where where = Where::kTools;
  int tool = -1;          // index into tools for kTools / kToolParameters, else -1
  std::string tool_name;  // as the client sent it, when known
  // Within the schema: the JSON Pointer and keyword of a schema flaw ("" otherwise).
  std::string pointer;
  std::string keyword;
  // One sentence about the problem, without naming the parameter (the API front does that),
  // e.g. "multipleOf must be a number greater than 0, got 0".
  std::string message;
};

// The first problem in `request`, in the order above, or nullopt.
std::optional<ToolsCheckError> check_request_tools(const boost::json::object& request);

}  // namespace sheepdog::llm
