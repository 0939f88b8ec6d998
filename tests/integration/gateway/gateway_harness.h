// Test harness for the gateway end to end on loopback: in-process mock upstreams
// (mock::MockServer on 127.0.0.1 port 0), the gateway's HttpServer on port 0 running on a
// background thread, and a blocking Beast client (LoopbackClient). Upstream calls are proved
// with the mocks' stats, never by timing. Header-only (tests/unit globs only *_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "../../support/loopback_http_client.h"
#include "config/loader.h"
#include "gateway/gateway.h"
#include "mock/mock_server.h"
#include "server/gateway_routes.h"
#include "server/http_server.h"
#include "telemetry/log.h"

namespace sheepdog::gateway::testing {

using sheepdog::testing::LoopbackClient;
using sheepdog::testing::sse_data;
namespace http = boost::beast::http;
namespace json = boost::json;

// A mock upstream with no latency and no faults unless `configure` sets them.
inline std::unique_ptr<mock::MockServer> start_mock(
    uint64_t seed = 1, const std::function<void(mock::MockConfig&)>& configure = {}) {
  mock::MockOptions options;
  options.seed = seed;
  if (configure) {
    configure(options.config);
  }
  auto server = std::make_unique<mock::MockServer>(options);
  const Status status = server->start();
  EXPECT_TRUE(status.is_ok()) << status.message();
  return server;
}

// Requests the mock has seen, as its stats endpoint (GET /_mock/stats) reports them.
inline uint64_t upstream_calls(mock::MockServer& mock) {
  LoopbackClient client(mock.port());
  const LoopbackClient::Reply reply = client.get("/_mock/stats");
  EXPECT_EQ(reply.status(), 200) << reply.body();
  if (reply.status() != 200) {
    return 0;
  }
  return json::parse(reply.body()).as_object().at("total").to_number<uint64_t>();
}

// Polls `condition` every millisecond for up to `limit`: for state that changes on another
// thread just after a response went out (a breaker record, a closed upstream connection).
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(3)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// `yaml` loaded with ${NAME} read from `env` only; each error is a test failure.
inline config::LoadResult load_test_config(std::string_view yaml,
                                           const std::map<std::string, std::string>& env) {
  config::LoadOptions load;
  load.env = [env](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional(it->second);
  };
  config::LoadResult loaded = config::load_config_string(yaml, "test.yaml", load);
  for (const auto& e : loaded.errors) {
    ADD_FAILURE() << e.to_string();
  }
  return loaded;
}

class GatewayHarness {
 public:
  // `yaml` may use ${NAME} for each entry of `env` (typically mock URLs).
  GatewayHarness(std::string_view yaml, std::map<std::string, std::string> env,
                 RuntimeOptions options = {},
                 const std::function<void(server::HttpServerOptions&)>& tweak = {}) {
    config::LoadResult loaded = load_test_config(yaml, env);
    if (loaded.ok()) {
      start(*loaded.config, std::move(options), tweak);
    }
  }
  GatewayHarness(const config::Config& config, RuntimeOptions options) {
    start(config, std::move(options), {});
  }
  ~GatewayHarness() { stop(); }

  bool ok() const { return server_ != nullptr; }
  uint16_t port() const { return server_->port(); }
  Gateway& gateway() { return *gateway_; }
  Runtime& runtime() { return gateway_->runtime(); }
  server::HttpServer& server() { return *server_; }
  std::vector<std::string> log_lines() const { return capture_.lines(); }

  void stop() {
    if (server_) {
      server_->stop();
    }
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  LoopbackClient client(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return LoopbackClient(port(), timeout);
  }
  LoopbackClient::Reply post(std::string_view target, std::string body) {
    LoopbackClient c = client();
    return c.post(target, std::move(body));
  }
  // A GET; on the admin endpoints with the configured admin (else client) key, as an operator's
  // scraper sends it.
  LoopbackClient::Reply get(std::string_view target) {
    LoopbackClient c = client();
    LoopbackClient::Request request = c.make_request(http::verb::get, target);
    const config::ServerConfig& server = runtime().server();
    const std::vector<std::string>& keys =
        server.admin_keys.empty() ? server.api_keys : server.admin_keys;
    if (!keys.empty() && (target == "/metrics" || target == "/health/deployments")) {
      request.set(http::field::authorization, "Bearer " + keys.front());
    }
    return c.request(std::move(request));
  }

  // The deployment's live stats, by name.
  DeploymentSnapshot stats(std::string_view deployment) {
    for (const auto& d : runtime().deployments()) {
      if (d->name == deployment) {
        return d->stats.snapshot();
      }
    }
    ADD_FAILURE() << "no deployment " << deployment;
    return {};
  }
  BreakerState breaker(std::string_view deployment) {
    for (const auto& d : runtime().deployments()) {
      if (d->name == deployment) {
        return d->breaker.state(clock_.now());
      }
    }
    ADD_FAILURE() << "no deployment " << deployment;
    return BreakerState::kClosed;
  }

 private:
  void start(const config::Config& config, RuntimeOptions options,
             const std::function<void(server::HttpServerOptions&)>& tweak) {
    logger_ = std::make_unique<StructuredLogger>(capture_.logger(), clock_);
    options.logger = logger_.get();
    BuildResult built = Runtime::build(config, std::move(options), clock_);
    for (const std::string& e : built.errors) {
      ADD_FAILURE() << e;
    }
    if (!built.runtime) {
      return;
    }
    gateway_ = std::make_unique<Gateway>(std::move(built.runtime), 42);
    server::HttpServerOptions http_options;
    http_options.threads = 1;
    http_options.max_body_bytes = config.server.max_body_bytes;
    http_options.drain_timeout = seconds(5);
    if (tweak) {
      tweak(http_options);
    }
    server_ =
        std::make_unique<server::HttpServer>(http_options, server::make_gateway_handler(*gateway_));
    const Status status = server_->listen();
    EXPECT_TRUE(status.is_ok()) << status.message();
    thread_ = std::thread([this] { server_->run(); });
  }

  SteadyClock clock_;
  LogCapture capture_;
  std::unique_ptr<StructuredLogger> logger_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<server::HttpServer> server_;
  std::thread thread_;
};

// An upstream that answers every request with one fixed response and records what it was sent:
// for statuses the mock does not produce (400, 401) and for APIs it does not speak (Anthropic).
class StubUpstream {
 public:
  StubUpstream(int status, std::string body, std::string content_type = "application/json") {
    server::HttpServerOptions options;
    options.threads = 1;
    server_ = std::make_unique<server::HttpServer>(
        options,
        [this, status, body, content_type](
            const server::HttpRequest& request,
            server::Responder& responder) -> boost::asio::awaitable<void> {
          {
            std::lock_guard lock(mu_);
            ++calls_;
            last_authorization_ = std::string(request[http::field::authorization]);
            last_api_key_ = std::string(request["x-api-key"]);
            last_target_ = std::string(request.target());
            last_body_ = request.body();
          }
          server::HttpResponse response{static_cast<http::status>(status), 11};
          response.set(http::field::content_type, content_type);
          response.body() = body;
          co_await responder.send(std::move(response));
        });
    EXPECT_TRUE(server_->listen().is_ok());
    thread_ = std::thread([this] { server_->run(); });
  }
  ~StubUpstream() {
    server_->stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  int calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::string last_authorization() const {
    std::lock_guard lock(mu_);
    return last_authorization_;
  }
  std::string last_api_key() const {
    std::lock_guard lock(mu_);
    return last_api_key_;
  }
  std::string last_target() const {
    std::lock_guard lock(mu_);
    return last_target_;
  }
  std::string last_body() const {
    std::lock_guard lock(mu_);
    return last_body_;
  }

 private:
  mutable std::mutex mu_;
  int calls_ = 0;
  std::string last_authorization_;
  std::string last_api_key_;
  std::string last_target_;
  std::string last_body_;
  std::unique_ptr<server::HttpServer> server_;
  std::thread thread_;
};

// A chat request body for `model`.
inline std::string chat(std::string_view model, bool stream = false) {
  return std::string(R"({"model":")") + std::string(model) +
         R"(","messages":[{"role":"user","content":"Say hello."}])" +
         (stream ? R"(,"stream":true)" : "") + "}";
}

inline std::string header(const LoopbackClient::Response& r, std::string_view name) {
  return std::string(r[name]);
}

// The "error" object of an OpenAI-shaped error body.
inline json::object error_of(const std::string& body) {
  return json::parse(body).as_object().at("error").as_object();
}

// The gateway's attempt log lines, parsed, in order, once at least `count` are written (they
// are written just before the answer goes out, by the io thread). What the attempt loop
// decided (the backoff before each attempt, each outcome) is asserted on these instead of on
// elapsed wall-clock time, which a loaded machine stretches.
inline std::vector<json::object> attempt_lines(const GatewayHarness& gw, size_t count) {
  std::vector<json::object> lines;
  eventually([&] {
    lines.clear();
    for (const std::string& line : gw.log_lines()) {
      if (line.find(R"("event":"attempt")") == std::string::npos) {
        continue;
      }
      boost::system::error_code ec;
      json::value parsed = json::parse(line, ec);
      if (!ec && parsed.is_object()) {
        lines.push_back(std::move(parsed.as_object()));
      }
    }
    return lines.size() >= count;
  });
  return lines;
}

}  // namespace sheepdog::gateway::testing
