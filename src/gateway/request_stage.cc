#include "gateway/request_stage.h"

namespace sheepdog::gateway {

boost::asio::awaitable<void> run_stages(const std::vector<std::unique_ptr<RequestStage>>& stages,
                                        size_t first, GatewayRequest& request, ClientSink& sink,
                                        const RequestStage::Next& last) {
  size_t i = first;
  while (i < stages.size() && !stages[i]->applies(request)) {
    ++i;  // the common case (no key, no conversation) costs a check, not a std::function
  }
  if (i == stages.size()) {
    co_await last(request, sink);
    co_return;
  }
  const RequestStage::Next next = [&stages, i, &last](GatewayRequest& r,
                                                      ClientSink& s) -> boost::asio::awaitable<void> {
    co_await run_stages(stages, i + 1, r, s, last);
  };
  co_await stages[i]->run(request, sink, next);
}

}  // namespace sheepdog::gateway
