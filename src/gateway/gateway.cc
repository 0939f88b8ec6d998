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

// The Executors living on one io_context, one per runtime that ran requests there (several
// Gateways, or one whose runtime was replaced). Used only from its io thread.
class ExecutorService final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;

  explicit ExecutorService(asio::execution_context& context) : service(context) {}

  // The executor of `runtime` here; a new one is seeded with `seed` + the count of executors
  // made before it (by `made`, shared by the Gateway's io threads). Executors of `previous`
  // runtimes (replaced ones of the same Gateway) that run nothing are dropped on the way.
  Executor& get(const std::shared_ptr<Runtime>& runtime, const Gateway* gateway,
                const asio::any_io_executor& io, uint64_t seed, std::atomic<uint64_t>& made) {
    Executor* found = nullptr;
    std::erase_if(executors_, [&](Entry& e) {
      if (e.runtime == runtime) {
        found = e.executor.get();
        return false;
      }
      return e.gateway == gateway && e.executor->in_flight() == 0;
    });
    if (found != nullptr) {
      return *found;
    }
    executors_.push_back(
        Entry{gateway, runtime,
              std::make_unique<Executor>(*runtime, io, seed + made.fetch_add(1))});
    return *executors_.back().executor;
  }

 private:
  void shutdown() override {}

  struct Entry {
    const Gateway* gateway;
    std::shared_ptr<Runtime> runtime;  // declared before the executor: outlives it
    std::unique_ptr<Executor> executor;
  };
  std::vector<Entry> executors_;
};

}  // namespace

Gateway::Gateway(std::shared_ptr<Runtime> runtime, uint64_t seed)
    : runtime_(std::move(runtime)), seed_(seed) {}

Gateway::~Gateway() = default;

void Gateway::replace(std::shared_ptr<Runtime> runtime) {
  runtime_.store(std::move(runtime), std::memory_order_release);
}

asio::awaitable<Executor*> Gateway::this_thread_executor(const std::shared_ptr<Runtime>& runtime) {
  const asio::any_io_executor io = co_await asio::this_coro::executor;
  asio::execution_context& context = asio::query(io, asio::execution::context);
  ExecutorService& service = asio::use_service<ExecutorService>(context);
  co_return &service.get(runtime, this, io, seed_, threads_);
}

asio::awaitable<void> Gateway::handle(GatewayRequest request, ClientSink& sink) {
  // Held to the end of the request: a replace() meanwhile must not free what it runs on.
  const std::shared_ptr<Runtime> runtime = current();
  Executor* executor = co_await this_thread_executor(runtime);
  co_await executor->execute(std::move(request), sink);
}

std::string Gateway::render_metrics() {
  const std::shared_ptr<Runtime> runtime = current();
  runtime->refresh_gauges();
  return render_prometheus(runtime->registry());
}

}  // namespace sheepdog::gateway
