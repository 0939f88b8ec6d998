// The fault-injecting OpenAI- and Anthropic-compatible upstream as one object: an HttpServer
// serving a MockService. Tests start it in-process on port 0 (start() runs it on a background
// thread); `sheepdog mock` runs it in the foreground until SIGINT/SIGTERM.
//
//   MockServer mock({.seed = 7});
//   ASSERT_TRUE(mock.start().is_ok());
//   mock.planner().set_script(std::nullopt, {Outcome::kRateLimited, Outcome::kOk});
//   ... point a client at mock.url() + "/v1" ...
//   EXPECT_EQ(mock.stats().snapshot().total, 2u);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/status.h"
#include "mock/mock_config.h"
#include "mock/mock_service.h"
#include "server/http_server.h"

namespace sheepdog::mock {

struct MockOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;     // 0 = any free port
  unsigned threads = 1;  // 1 = fully deterministic for a seed
  uint64_t seed = 1;
  MockConfig config;
  // Time for `created` stamps, reset times and key limits; null = the real clock. Tests pass a
  // ManualClock to make key limits exact. Must outlive the server.
  const Clock* clock = nullptr;
  // Limits and timeouts of the HTTP server; host, port and threads above take precedence. The
  // drain timeout bounds how long stop() waits for hung requests.
  server::HttpServerOptions http = default_http_options();

  static server::HttpServerOptions default_http_options() {
    server::HttpServerOptions http;
    http.max_body_bytes = 32 * 1024 * 1024;
    http.drain_timeout = seconds(1);
    return http;
  }
};

class MockServer {
 public:
  explicit MockServer(MockOptions options);
  // Stops the server if it is running and joins its thread.
  ~MockServer();
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  // Binds and serves on a background thread; returns once the port is bound (requests are
  // accepted from then on). REQUIRES: neither start() nor run() was called before.
  Status start();
  // Binds, calls `on_ready(url())`, and serves on the calling thread (plus threads - 1 more)
  // until stop() or, if `handle_signals`, SIGINT/SIGTERM (SIGHUP is then logged and ignored:
  // POST /_mock/faults changes the faults of a running mock). REQUIRES: as start().
  Status run(const std::function<void(const std::string& url)>& on_ready, bool handle_signals);
  // Graceful stop (see HttpServer::stop()); joins the background thread if start() made one.
  // Idempotent. Not callable from a request handler.
  void stop();

  // REQUIRES: start() or run() bound the port.
  uint16_t port() const { return server_->port(); }
  // "http://127.0.0.1:PORT" ("http://[::1]:PORT" for IPv6); clients append "/v1/...".
  std::string url() const;

  // In-process control, equivalent to the /_mock endpoints.
  FaultPlanner& planner() { return service_.planner(); }
  MockStats& stats() { return service_.stats(); }
  void reset() { service_.reset(); }

 private:
  Status listen();

  const MockOptions options_;
  SteadyClock clock_;
  MockService service_;
  std::unique_ptr<server::HttpServer> server_;
  std::thread thread_;
};

}  // namespace sheepdog::mock
