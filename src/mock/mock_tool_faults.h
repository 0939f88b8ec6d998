// Tool-call and structured-output faults: how the tool_* outcomes (and the older
// malformed_tool_call and invalid_tool_args) break the JSON the mock would otherwise send, as a
// tool call's arguments or, under an OpenAI response_format, as the message content. They give
// a gateway's validation and repair something exact to catch.
//
// With V the valid JSON (arguments_from_schema(schema), or the json_object answer) and its text
// T, each fault makes:
//   tool_truncated_json    T without its last 40%: the first floor(0.6 * |T|) characters (at
//                          least one), so it stops mid-JSON
//   tool_trailing_text     T + kTrailingText, as a chatty model appends a remark
//   tool_wrong_type        one property of V with a value of another type: the first (V's own
//                          properties in order, then declared ones V lacks) whose schema
//                          declares integer, number or boolean, given as a string (3 -> "3",
//                          true -> "true"), as models quote numbers; failing that, the first
//                          with another declared type: a string gets 42, an object or array
//                          its own JSON text as a string
//   tool_missing_required  V without the first property in `required` that V holds (the
//                          others keep their order)
//   tool_extra_property    V plus "unexpected_argument": "not in the schema" (the name gets
//                          "_2", "_3"... if the schema declares it). It breaks the schema only
//                          where additionalProperties is false; elsewhere it is a valid answer
//                          with an extra property, which a validator must let through
//   tool_unknown_tool      V unchanged; the call names a tool that was not offered (see
//                          unknown_tool_name())
//   malformed_tool_call    T cut at half (malformed_json(), mock_schema_args.h)
//   invalid_tool_args      break_schema() of mock_schema_args.h, dropping a required property
//                          or not by one random draw (chance 0.5)
// A property's declared type is its `type` (a name, or a list with one non-null name), else
// the common JSON type of its `enum` or its `const`; properties with none accept any value and
// are never chosen. Only the root object's own properties are considered.
//
// Fallbacks, deterministic, where the schema gives a fault nothing to break:
//   tool_wrong_type        -> tool_missing_required -> (*)
//   tool_missing_required  -> tool_wrong_type -> (*)
//   (*) tool_extra_property if V is an object and the root has additionalProperties: false,
//       else tool_truncated_json
//   tool_extra_property    -> tool_truncated_json when V is not an object
//   tool_truncated_json    -> tool_trailing_text when the cut text still parses (only a
//                             scalar V can do that, e.g. 12 cut to 1)
// So a tool without parameters (V = {}) gets "{" for every schema fault.
#pragma once

#include <boost/json/value.hpp>
#include <span>
#include <string>
#include <string_view>

#include "core/random.h"
#include "mock/mock_config.h"
#include "mock/mock_content.h"

namespace sheepdog::mock {

inline constexpr std::string_view kTrailingText = " Let me know if you need more.";

// True for malformed_tool_call, invalid_tool_args and the six tool_* outcomes.
bool is_tool_fault(Outcome outcome);

// Whether the answer to `call` has anything `outcome` can break. Always true for other
// outcomes; a tool fault needs offered tools, or (all but tool_unknown_tool, which needs a
// tool to rename) a json_object or json_schema response_format.
bool fault_applies(const ChatCall& call, Outcome outcome);

// The tool_* fault that `fault` becomes for `schema` and `valid`, after the fallbacks above.
// Other outcomes, malformed_tool_call and invalid_tool_args are returned unchanged.
Outcome resolve_fault(Outcome fault, const boost::json::value& schema,
                      const boost::json::value& valid);

struct BrokenJson {
  std::string text;  // what to send in place of serialize(valid)
  Outcome applied;   // resolve_fault(fault, schema, valid)
};
// `valid` (made for `schema`) as text broken by `fault`, as described above. Draws one value
// from `random` iff fault is invalid_tool_args. An outcome that is not a tool fault, and
// tool_unknown_tool, give serialize(valid).
BrokenJson break_json(const boost::json::value& schema, const boost::json::value& valid,
                      Outcome fault, RandomSource& random);

// `name` + "_v2", with "_v2" appended again while that names one of `tools`.
std::string unknown_tool_name(std::span<const ToolSpec> tools, std::string_view name);

// The first floor(0.6 * size) characters of `json_text`, at least one.
std::string truncate_json(std::string_view json_text);

}  // namespace sheepdog::mock
