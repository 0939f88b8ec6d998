#include "gateway/gateway.h"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/this_coro.hpp>
#include <utility>
#include <vector>

#include "telemetry/prometheus.h"

namespace sheepdog::gateway {
namespace {

namespace asio = boost::asio;

// The Executors living on one io_context, one per Gateway (Runtime) that ran requests there.
class ExecutorService final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;

  explicit ExecutorService(asio::execution_context& context) : service(context) {}

  // The executor of `runtime` here; a new one is seeded with `seed` + the count of executors
  // made before it (by `made`, shared by the Gateway's io threads).
  Executor& get(Runtime& runtime, const asio::any_io_executor& io, uint64_t seed,
                std::atomic<uint64_t>& made) {
    for (auto& [owner, executor] : executors_) {
      if (owner == &runtime) {
        return *executor;
      }
    }
    executors_.emplace_back(&runtime,
                            std::make_unique<Executor>(runtime, io, seed + made.fetch_add(1)));
    return *executors_.back().second;
  }

 private:
  void shutdown() override {}

  std::vector<std::pair<const Runtime*, std::unique_ptr<Executor>>> executors_;
};

}  // namespace

Gateway::Gateway(std::unique_ptr<Runtime> runtime, uint64_t seed)
    : runtime_(std::move(runtime)), seed_(seed) {}

Gateway::~Gateway() = default;

asio::awaitable<Executor*> Gateway::this_thread_executor() {
  const asio::any_io_executor io = co_await asio::this_coro::executor;
  asio::execution_context& context = asio::query(io, asio::execution::context);
  ExecutorService& service = asio::use_service<ExecutorService>(context);
  co_return &service.get(*runtime_, io, seed_, threads_);
}

asio::awaitable<void> Gateway::handle(GatewayRequest request, ClientSink& sink) {
  Executor* executor = co_await this_thread_executor();
  co_await executor->execute(std::move(request), sink);
}

std::string Gateway::render_metrics() {
  runtime_->refresh_gauges();
  return render_prometheus(runtime_->registry());
}

}  // namespace sheepdog::gateway
