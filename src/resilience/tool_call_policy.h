// What to do when a model's answer fails validation: a tool call that names a tool never
// offered, arguments that are not JSON or break the tool's JSON Schema, or structured output
// that breaks its response_format (validation itself is llm/tool_validation.h). Pure decisions,
// no I/O, shared by the gateway and the simulator like the retry policy:
//
//   resample  send the same request again (a fresh draw of the model's answer)
//   repair    send the request again with the faulty answer and a message stating the exact
//             validation errors, asking for a corrected answer
//   pass      return the answer as it is, flagged (a header and a metric) as failing validation
//
// Validation retries have their own allowance (max_retries), separate from the transport retry
// policy's max_attempts: a model that keeps producing broken arguments is not an outage, and an
// outage should not eat the repair allowance. When the allowance is used up the request fails
// with invalid_tool_call / invalid_structured_output, unless the mode is pass.
#pragma once

#include <string_view>

#include "core/status.h"

namespace sheepdog {

enum class ToolRepairMode : unsigned char { kResample, kRepair, kPass };
std::string_view to_string(ToolRepairMode mode);  // "resample", "repair", "pass"

struct ToolCallPolicy {
  // Validate answers to requests with `tools` or a json_schema / json_object response_format.
  bool enabled = true;
  ToolRepairMode mode = ToolRepairMode::kRepair;
  // Further requests allowed after an invalid answer (resample or repair). 0 = none: an
  // invalid answer fails at once (or passes, flagged, under kPass).
  int max_retries = 2;
  // Streams: assemble and validate tool calls before the stream's final chunk goes out; the
  // tool-call part is held back until valid. Off: streams are relayed unvalidated.
  bool validate_streams = true;

  // Ok iff 0 <= max_retries <= 10.
  Status validate() const;
};

// One request's validation retries. Not thread-safe; one per request.
class ToolCallState {
 public:
  explicit ToolCallState(const ToolCallPolicy& policy) : policy_(policy) {}

  enum class Action : unsigned char {
    kResample,  // send the same request again
    kRepair,    // send it again with the faulty answer and the errors appended
    kPass,      // return the invalid answer, flagged
    kFail,      // answer the client with invalid_tool_call / invalid_structured_output
  };
  // Call once per invalid answer.
  Action on_invalid();

  int retries_used() const { return retries_used_; }

 private:
  const ToolCallPolicy& policy_;
  int retries_used_ = 0;
};

}  // namespace sheepdog
