// One request's answer validation (policy tool_validation): checks each 2xx answer to a request
// with tools or a JSON response_format (llm/tool_validation.h), counts the result in the
// metrics, and says what the attempt loop does next (resilience/tool_call_policy.h): accept the
// answer, send the request again (the same, or the repair request of llm/repair_prompt.h), or
// fail the request with invalid_tool_call / invalid_structured_output. It holds the state that
// spans attempts: the compiled schemas, the retries used, the repair request being sent, and the
// value of the x-sheepdog-validation header. I/O-free; request_run.cc does the sending.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/gateway_metrics.h"
#include "llm/tool_validation.h"
#include "llm/validator_cache.h"
#include "providers/provider.h"
#include "resilience/tool_call_policy.h"

namespace sheepdog::gateway {

class AnswerCheck {
 public:
  // `request` (the client's body) must outlive the check; `validators` compiles and keeps the
  // schemas.
  AnswerCheck(const boost::json::object& request, std::string model, GatewayMetrics& metrics,
              llm::ValidatorCache& validators)
      : request_(request), model_(std::move(model)), metrics_(metrics), validators_(validators) {}

  // Whether answers under `policy` are validated at all: the policy is on and the request has
  // something to check (tools, a JSON response_format). The schemas are compiled on first use,
  // or found compiled in the cache.
  bool applies(const ToolCallPolicy& policy);
  // For a stream that applies: whether the gate holds back everything (the content is what is
  // validated) rather than the tool-call part (stream_gate.h). REQUIRES: applies(policy).
  bool holds_everything() const;

  enum class Verdict : unsigned char {
    kAccept,  // send the answer (valid, or invalid under pass: header() says "failed")
    kRetry,   // send `input` (now the same request, or the repair request) to the same deployment
    kFail,    // answer with error_message() / error_type()
  };
  // Checks one answer. REQUIRES: applies(policy). `can_retry` is false once part of the answer
  // has reached the client (a stream whose text went out): resample and repair then fail.
  Verdict check(const boost::json::object& completion, const ToolCallPolicy& policy, bool can_retry,
                providers::EncodeInput& input);

  // x-sheepdog-validation: "valid", "repaired", "failed"; "" before any check.
  const std::string& header() const { return header_; }
  // The last failed check: reasons for the attempt's log line (no model output), the client's
  // error type and message.
  std::string log_detail() const;
  std::string_view error_type() const { return llm::error_type(invalid_.kind); }
  std::string error_message(std::string_view deployment) const;

 private:
  const boost::json::object& request_;
  std::string model_;
  GatewayMetrics& metrics_;
  llm::ValidatorCache& validators_;
  bool looked_up_ = false;
  std::shared_ptr<const llm::AnswerValidator> validator_;  // null: nothing to check
  std::unique_ptr<ToolCallState> state_;
  boost::json::object repair_body_;  // the repair request, when one is sent
  llm::ValidationReport invalid_;    // the last failed validation
  std::string header_;
};

}  // namespace sheepdog::gateway
