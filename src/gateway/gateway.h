// The gateway facade, used by the HTTP routes and by library users: the shared Runtime plus one
// Executor per io thread, found from the calling coroutine's executor.
//
// Each io_context gets its Executor as an asio service, created the first time a request runs
// there. Asio destroys services when the io_context is destroyed, after it has destroyed any
// coroutine still pending (a forced shutdown) and before its socket services, which is exactly
// the order the upstream client's pooled sockets need; nothing has to be torn down by hand.
//
//   Gateway gateway(std::move(runtime));
//   co_await gateway.handle(std::move(request), sink);   // on any io thread
//
// The runtime can be replaced while requests run (`serve` does on SIGHUP): a request keeps the
// runtime it started with to its end; requests that start after replace() get the new one. An
// io thread's executor for a replaced runtime is destroyed by the first request on that thread
// that finds it idle, and the old runtime with the last executor or request holding it. What
// lives in a runtime (breaker states, key rests, metrics) starts afresh with the new one; the
// idempotency store is handed over when its settings are unchanged (see reload in serve).
//
// Thread-safe: handle() may run on many io threads at once, provided each io_context runs on
// one thread (or the calls are serialised by a strand); replace() from any thread. REQUIRES:
// the Gateway outlives every io_context it ran requests on.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "gateway/client_sink.h"
#include "gateway/executor.h"
#include "gateway/runtime.h"

namespace sheepdog::gateway {

class Gateway {
 public:
  // `seed` seeds the per-thread random sources (thread i gets seed + i), so a test fixes every
  // jitter draw and routing choice.
  explicit Gateway(std::shared_ptr<Runtime> runtime, uint64_t seed = 0x5eed);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Runs one request on the calling io thread's Executor (see Executor::execute).
  boost::asio::awaitable<void> handle(GatewayRequest request, ClientSink& sink);

  // The calling io thread's Executor for `runtime`, made on first use.
  boost::asio::awaitable<Executor*> this_thread_executor(const std::shared_ptr<Runtime>& runtime);
  boost::asio::awaitable<Executor*> this_thread_executor() {
    return this_thread_executor(current());
  }

  // The runtime new requests get. Hold the pointer across a co_await, not a reference.
  std::shared_ptr<Runtime> current() const { return runtime_.load(std::memory_order_acquire); }
  Runtime& runtime() { return *current(); }  // for tests and single-threaded callers
  // New requests use `runtime` from now on; running ones finish on theirs.
  void replace(std::shared_ptr<Runtime> runtime);
  // Prometheus text of every metric, with breaker gauges refreshed to the current time.
  std::string render_metrics();

 private:
  std::atomic<std::shared_ptr<Runtime>> runtime_;
  const uint64_t seed_;
  std::atomic<uint64_t> threads_{0};
};

}  // namespace sheepdog::gateway
