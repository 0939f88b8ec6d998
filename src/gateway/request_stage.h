// The executor's chain of request stages: what runs around a request's attempt loop, in a fixed
// order (Executor builds it):
//
//   idempotency    replay or run once (gateway/idempotency_stage.h)
//   conversation   (issue 12) load the history or previous response; store after success
//   budget         (issue 13) reserve per attempt through the ledger; settle after
//   -> the attempt loop (gateway/request_run.h)
//
// A stage gets the request, the sink and `next`, the rest of the chain. It may answer itself
// without calling next (a replay, a 422), wrap the sink it passes on (to record the answer), or
// register an AttemptPrepare hook on the request, which the attempt loop calls before every
// attempt to shape the request for the deployment chosen (e.g. trim a conversation to that
// model's context window). A stage that does not apply to a request is skipped without cost.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "gateway/client_sink.h"

namespace sheepdog::gateway {

class RequestStage {
 public:
  virtual ~RequestStage() = default;

  using Next = std::function<boost::asio::awaitable<void>(GatewayRequest&, ClientSink&)>;

  virtual std::string_view name() const = 0;
  // Cheap: whether run() has anything to do for `request`.
  virtual bool applies(const GatewayRequest& request) const = 0;
  // Answers `sink`, itself or through next(request, sink-or-a-wrapper).
  virtual boost::asio::awaitable<void> run(GatewayRequest& request, ClientSink& sink,
                                           const Next& next) = 0;
};

// Runs `stages` from `first` on, in order, then `last` (the attempt loop).
boost::asio::awaitable<void> run_stages(const std::vector<std::unique_ptr<RequestStage>>& stages,
                                        size_t first, GatewayRequest& request, ClientSink& sink,
                                        const RequestStage::Next& last);

}  // namespace sheepdog::gateway
