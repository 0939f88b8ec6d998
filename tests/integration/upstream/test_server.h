// Test support for the upstream client: a tiny scriptable HTTP/1.1 server on 127.0.0.1 (port 0,
// plain or TLS) whose per-connection behaviour is a coroutine written by each test, a Gate to
// order client and server steps without sleeping, and a fixture that runs a test coroutine on
// one io_context thread with a watchdog.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "upstream/tls_context.h"
#include "upstream/upstream_client.h"

// ASSERT_TRUE for coroutine bodies (gtest's fatal assertions `return`, which a coroutine cannot):
// records a fatal failure and co_returns. Messages stream as usual: CO_ASSERT_TRUE(x) << why.
#define CO_ASSERT_TRUE(condition)                                            \
  switch (0)                                                                 \
  case 0:                                                                    \
  default:                                                                   \
    if (static_cast<bool>(condition)) {                                      \
    } else                                                                   \
      co_return GTEST_MESSAGE_AT_(__FILE__, __LINE__, "Failed: " #condition, \
                                  ::testing::TestPartResult::kFatalFailure)

namespace sheepdog::upstream::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
inline constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

// A one-shot event: wait() suspends until open() (returns at once if already open).
class Gate {
 public:
  explicit Gate(asio::any_io_executor executor)
      : timer_(executor, asio::steady_timer::time_point::max()) {}
  asio::awaitable<void> wait() {
    while (!open_) {
      co_await timer_.async_wait(kAsTuple);
    }
  }
  void open() {
    open_ = true;
    timer_.cancel();
  }
  bool is_open() const { return open_; }

 private:
  asio::steady_timer timer_;
  bool open_ = false;
};

// The server side of one accepted connection, driven by the test's handler.
class ServerConnection {
 public:
  using Tls = beast::ssl_stream<beast::tcp_stream>;
  using Stream = std::variant<beast::tcp_stream, Tls>;
  ServerConnection(int index, tcp::socket socket, asio::ssl::context* tls)
      : index(index), stream_(make_stream(std::move(socket), tls)) {}

  const int index;  // 1-based, in accept order

  asio::awaitable<bool> handshake() {
    if (auto* tls = std::get_if<Tls>(&stream_)) {
      auto [ec] = co_await tls->async_handshake(asio::ssl::stream_base::server, kAsTuple);
      co_return !ec;
    }
    co_return true;
  }
  // Reads one request; false on EOF or error (the client went away).
  asio::awaitable<bool> read(http::request<http::string_body>& request) {
    request = {};
    auto [ec, n] = co_await std::visit(
        [&](auto& s) { return http::async_read(s, buffer_, request, kAsTuple); }, stream_);
    co_return !ec;
  }
  asio::awaitable<bool> write(std::string raw) {
    auto [ec, n] = co_await std::visit(
        [&](auto& s) { return asio::async_write(s, asio::buffer(raw), kAsTuple); }, stream_);
    co_return !ec;
  }
  // Waits until the client closes the connection (anything it sends is discarded).
  asio::awaitable<void> wait_for_close() {
    for (;;) {
      auto [ec, n] = co_await std::visit(
          [&](auto& s) { return s.async_read_some(buffer_.prepare(4096), kAsTuple); }, stream_);
      if (ec) {
        closed_by_client = true;
        co_return;
      }
      buffer_.consume(buffer_.size());
    }
  }
  void close() {
    boost::system::error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_layer().socket().close(ignored);
  }
  bool closed_by_client = false;

 private:
  beast::tcp_stream& tcp_layer() {
    return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                      stream_);
  }
  static Stream make_stream(tcp::socket socket, asio::ssl::context* tls) {
    if (tls != nullptr) {
      return Stream(std::in_place_type<Tls>, beast::tcp_stream(std::move(socket)), *tls);
    }
    return Stream(std::in_place_type<beast::tcp_stream>, std::move(socket));
  }
  Stream stream_;
  beast::flat_buffer buffer_;
};

inline void report_exception(std::exception_ptr e) {
  if (e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      ADD_FAILURE() << "coroutine threw: " << ex.what();
    }
  }
}

class TestServer {
 public:
  using Handler = std::function<asio::awaitable<void>(ServerConnection&)>;

  TestServer(asio::any_io_executor executor, Handler handler, asio::ssl::context* tls = nullptr)
      : executor_(executor), handler_(std::move(handler)), tls_(tls), acceptor_(executor) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(executor_, accept_loop(), report_exception);
  }

  uint16_t port() const { return port_; }
  Origin origin(std::string host = "127.0.0.1") const {
    return Origin{tls_ != nullptr, std::move(host), port_};
  }
  int accepted() const { return accepted_; }

  // Stops accepting and closes every open connection, so all server coroutines finish.
  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& connection : connections_) {
      connection->close();
    }
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAsTuple);
      if (ec) {
        co_return;
      }
      ++accepted_;
      connections_.push_back(
          std::make_unique<ServerConnection>(accepted_, std::move(socket), tls_));
      asio::co_spawn(executor_, session(std::prev(connections_.end())), report_exception);
    }
  }
  asio::awaitable<void> session(std::list<std::unique_ptr<ServerConnection>>::iterator it) {
    ServerConnection& connection = **it;
    if (co_await connection.handshake()) {
      co_await handler_(connection);
    }
    connection.close();
    connections_.erase(it);
  }

  asio::any_io_executor executor_;
  Handler handler_;
  asio::ssl::context* tls_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  int accepted_ = 0;
  std::list<std::unique_ptr<ServerConnection>> connections_;
};

// "HTTP/1.1 <status>" with a Content-Length body.
inline std::string response(int status, std::string_view body,
                            std::string_view extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
         std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}
inline std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}
inline constexpr std::string_view kChunkedHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Serves every request on every connection with `body` (keep-alive).
inline TestServer::Handler always(std::string body) {
  return [body](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> request;
    while (co_await c.read(request)) {
      co_await c.write(response(200, body));
    }
  };
}

// Runs each test body as a coroutine on one io_context thread. Everything the test creates
// lives in the fixture and is destroyed after all coroutines have finished.
class UpstreamFixture : public ::testing::Test {
 protected:
  // tls_ is left unconfigured here: plain-HTTP tests never use it, and loading the system
  // trust store costs a noticeable part of a test under the sanitizers. TLS tests configure it.
  UpstreamFixture() : tls_(asio::ssl::context::tls_client) {}

  asio::any_io_executor executor() { return io_.get_executor(); }

  UpstreamClient& make_client(ClientOptions options = {}) {
    client_ = std::make_unique<UpstreamClient>(executor(), std::move(options), tls_, clock_);
    return *client_;
  }
  TestServer& start_server(TestServer::Handler handler, asio::ssl::context* tls = nullptr) {
    server_ = std::make_unique<TestServer>(executor(), std::move(handler), tls);
    return *server_;
  }
  Gate& make_gate() { return *gates_.emplace_back(std::make_unique<Gate>(executor())); }

  UpstreamRequest request(std::string method = "GET", std::string target = "/",
                          std::string body = "") const {
    UpstreamRequest r;
    r.method = std::move(method);
    r.origin = server_->origin();
    r.target = std::move(target);
    r.body = std::move(body);
    return r;
  }

  // Runs `body` to completion, then stops the server and lets every coroutine finish.
  void run(std::function<asio::awaitable<void>()> body) {
    bool finished = false;
    asio::co_spawn(io_, body(), [&](std::exception_ptr e) {
      finished = true;
      report_exception(e);
      for (auto& gate : gates_) {
        gate->open();
      }
      if (server_) {
        server_->stop();
      }
      if (client_) {
        client_->pool().close_idle();
      }
    });
    io_.run_for(std::chrono::seconds(20));
    ASSERT_TRUE(finished) << "the test coroutine did not finish within the watchdog";
    ASSERT_TRUE(io_.stopped()) << "coroutines were still running after the test";
  }

  asio::io_context io_;  // first: destroyed last
  ManualClock clock_{TimePoint{} + std::chrono::hours(1)};
  asio::ssl::context tls_;
  std::vector<std::unique_ptr<Gate>> gates_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<UpstreamClient> client_;
};

// The default per-request limits of the tests: generous, so that only tests about timeouts
// ever see one.
inline RequestTimeouts generous() {
  RequestTimeouts t;
  t.connect = std::chrono::seconds(5);
  t.attempt = std::chrono::seconds(10);
  t.first_byte = std::chrono::seconds(10);
  return t;
}

}  // namespace sheepdog::upstream::test
