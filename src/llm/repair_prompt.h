// The request that asks a model to correct an invalid answer (ToolRepairMode::kRepair in
// resilience/tool_call_policy.h): the original request, with the faulty assistant message and
// messages stating the exact validation errors (llm/tool_validation.h) appended. Pure.
//
// Everything else of the request is kept as it was: model, tools, tool_choice,
// parallel_tool_calls, response_format, stream, sampling parameters.
//
// Appended, in this order:
//
// 1. The faulty assistant message as the model sent it: role "assistant", its content (null
//    when absent), its refusal if set, and its tool_calls with id, type and function {name,
//    arguments} (arguments verbatim, even when broken). Other fields of the response message
//    (annotations, audio, reasoning, ...) are dropped: OpenAI refuses unknown message fields.
//    A tool call without an id gets "call_<index>" (a tool message must name it).
//
// 2. For each tool call, one message {"role":"tool","tool_call_id":<id>,"content":...}, as
//    OpenAI requires for every call. For a call with issues (one line per issue, at most
//    kMaxRepairLines):
//
//      Error: this tool call was not executed because it is invalid.
//      - /unit: 'kelvin' is not one of ["celsius","fahrenheit"]
//      Call get_weather again with arguments that satisfy its schema.
//
//    where the last line depends on the call's first issue:
//      unknown_tool         Call one of the offered tools instead.
//      forbidden_tool_call  Do not call any tool; answer directly.   (tool_choice "none")
//                           Call <required tool> instead.           (a named tool_choice)
//                           Call one of the allowed tools instead.   (allowed_tools)
//      too_many_tool_calls  Make only one tool call per answer.
//      anything else        Call <tool> again with arguments that satisfy its schema.
//
//    For a call without issues:
//
//      This tool call was not executed because another tool call in the same answer was
//      invalid. Call it again, together with the corrected call, if it is still needed.
//
// 3. If the answer has issues that are not about one tool call, one user message:
//
//      Your previous answer is invalid:
//      - the answer calls no tool, but tool_choice requires a tool call
//      Answer again and call one of the offered tools.
//
//    ("Answer again and call <tool>." when tool_choice names it; "Answer again." when the
//    first such issue is not a missing tool call), and/or, for structured output (json_schema /
//    json_object), in the same user message after a blank line:
//
//      Your previous answer is not valid JSON output:
//      - /name: expected string, got integer 5
//      Answer again with only a JSON value that matches the required schema: no other text,
//      no Markdown code fence.
//
//    ("only a JSON object" instead of "only a JSON value that matches the required schema" for
//    json_object).
//
// Only the issues of report.first_failing_choice() are used: `faulty_message` must be that
// choice's message (choice_message(completion, report.first_failing_choice())).
// To keep one repair round in the context, pass the original request each time; passing the
// previous repair request accumulates the rounds.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>

#include "llm/tool_validation.h"

namespace sheepdog::llm {

inline constexpr size_t kMaxRepairLines = 20;

// REQUIRES: !report.ok.
boost::json::object repair_request(const boost::json::object& request,
                                   const boost::json::object& faulty_message,
                                   const ValidationReport& report);

}  // namespace sheepdog::llm
