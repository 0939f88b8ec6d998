// The per-io-thread part of the gateway: that thread's pooled upstream client, its random
// source (jitter, weighted routing, request ids), its chain of request stages (request_stage.h:
// idempotency now) and the entry point that runs one request through them to its attempt loop
// (request_run.h) with the client's cancellation attached.
//
// Time and the network come in through two seams (ExecutorSeams): a WaitTimer for every wait
// and an upstream::Transport for every attempt. Production uses its own (asio timers, the
// pooled client); request-path tests pass a scripted upstream and a timer fired by their
// manual clock, and run whole requests on one thread without sockets or sleeps.
//
// Not thread-safe: one Executor per io thread (or strand), used only from there; Gateway
// (gateway.h) finds the calling thread's. REQUIRES: destroyed before its io_context, and after
// every request it runs has finished.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/random.h"
#include "gateway/client_sink.h"
#include "gateway/observer.h"
#include "gateway/request_stage.h"
#include "gateway/runtime.h"
#include "gateway/wait_timer.h"
#include "upstream/upstream_client.h"

namespace sheepdog::gateway {

// Replacements for the executor's own timer and transport; null members keep its own. Each
// must outlive the executor.
struct ExecutorSeams {
  upstream::Transport* transport = nullptr;
  WaitTimer* timer = nullptr;
};

class Executor {
 public:
  // `runtime` must outlive the executor. `seed` seeds this thread's random source.
  Executor(Runtime& runtime, boost::asio::any_io_executor io, uint64_t seed,
           ExecutorSeams seams = {});
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Handles one request end to end and answers `sink`: an unknown model is a 404, anything
  // else goes through the attempt loop. A request without an id gets one. When the sink's
  // cancellation slot fires, upstream I/O and backoff waits end at once and nothing more is
  // sent. Never throws for expected failures.
  boost::asio::awaitable<void> execute(GatewayRequest request, ClientSink& sink);

  // "req_" and 24 hex digits from this thread's random source.
  std::string make_request_id();

  upstream::UpstreamClient& client() { return client_; }
  // Requests inside execute() now.
  size_t in_flight() const { return in_flight_; }

 private:
  boost::asio::awaitable<void> run(GatewayRequest& request, ClientSink& sink);

  Runtime& runtime_;
  boost::asio::any_io_executor io_;
  SeededRandom random_;
  upstream::UpstreamClient client_;
  AsioWaitTimer asio_timer_;
  upstream::Transport& transport_;  // client_ unless a seam replaced it
  WaitTimer& timer_;                // asio_timer_ unless a seam replaced it
  Observer observer_;
  std::vector<std::unique_ptr<RequestStage>> stages_;  // in order; request_stage.h
  size_t in_flight_ = 0;
};

}  // namespace sheepdog::gateway
