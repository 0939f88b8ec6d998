// Test helper: an HttpServer (server/http_server.h) listening on 127.0.0.1 port 0 and running on
// a background thread for the life of the object; stop_and_join() (or the destructor) stops it
// gracefully and waits for run() to return. Header-only, for tests/unit and tests/integration.
#pragma once

#include <gtest/gtest.h>

#include <thread>
#include <utility>

#include "server/http_server.h"

namespace sheepdog::testing {

class RunningServer {
 public:
  RunningServer(server::HttpServerOptions options, server::HttpHandler handler)
      : server_(std::move(options), std::move(handler)) {
    Status status = server_.listen();
    EXPECT_TRUE(status.is_ok()) << status.message();
    if (status.is_ok()) {
      thread_ = std::thread([this] { server_.run(); });
    }
  }
  ~RunningServer() { stop_and_join(); }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  void stop_and_join() {
    server_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  server::HttpServer& server() { return server_; }
  uint16_t port() const { return server_.port(); }

 private:
  server::HttpServer server_;
  std::thread thread_;
};

}  // namespace sheepdog::testing
