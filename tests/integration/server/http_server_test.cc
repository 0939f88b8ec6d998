// HttpServer over a real loopback socket (127.0.0.1, port 0) with a Beast client. Waits are on
// sockets and server timers, bounded by the client's timeout; there are no sleeps.
#include "server/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "../../support/loopback_http_client.h"
#include "../../support/running_server.h"

namespace sheepdog::server {
namespace {

using testing::LoopbackClient;
using testing::RunningServer;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

HttpServerOptions test_options() {
  HttpServerOptions options;
  options.threads = 1;
  return options;
}

// A handler pauses at a Gate until the test opens it from its own thread.
class Gate {
 public:
  // Called by the handler: signals "reached" and waits until open() (or cancellation).
  asio::awaitable<void> pass(Responder* responder = nullptr) {
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, asio::steady_timer::time_point::max());
    {
      std::lock_guard lock(mutex_);
      timer_ = &timer;
    }
    reached_.set_value();
    if (!opened_) {
      if (responder != nullptr) {
        co_await timer.async_wait(
            asio::bind_cancellation_slot(responder->cancellation_slot(), kUseTuple));
      } else {
        co_await timer.async_wait(kUseTuple);
      }
    }
    std::lock_guard lock(mutex_);
    timer_ = nullptr;
  }
  // Blocks the test until the handler reached the gate (bounded).
  bool wait_reached() {
    return reached_future_.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  }
  void open() {
    std::lock_guard lock(mutex_);
    ASSERT_NE(timer_, nullptr);
    asio::post(timer_->get_executor(), [this] {
      opened_ = true;
      std::lock_guard inner(mutex_);
      if (timer_ != nullptr) {
        timer_->cancel();
      }
    });
  }

 private:
  std::mutex mutex_;
  asio::steady_timer* timer_ = nullptr;
  bool opened_ = false;  // touched on the io thread only
  std::promise<void> reached_;
  std::future<void> reached_future_ = reached_.get_future();
};

asio::awaitable<void> hello_handler(const HttpRequest& request, Responder& responder) {
  HttpResponse response{http::status::ok, 11};
  response.set(http::field::content_type, "text/plain");
  response.body() = "hello " + std::string(request.target());
  co_await responder.send(std::move(response));
}

TEST(HttpServerTest, AnswersSimpleGet) {
  RunningServer running(test_options(), hello_handler);
  LoopbackClient client(running.port());
  ASSERT_FALSE(client.connect_error()) << client.connect_error().message();
  LoopbackClient::Reply reply = client.get("/ping");
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.status(), 200);
  EXPECT_EQ(reply.body(), "hello /ping");
  EXPECT_EQ(reply.response[http::field::content_length], "11");
}

TEST(HttpServerTest, ListensOnIpv6Loopback) {
  HttpServerOptions options = test_options();
  options.host = "::1";
  HttpServer server(options, hello_handler);
  if (!server.listen().is_ok()) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  std::thread thread([&] { server.run(); });
  LoopbackClient client(server.port(), std::chrono::seconds(5), "::1");
  EXPECT_EQ(client.get("/six").body(), "hello /six");
  server.stop();
  thread.join();
}

TEST(HttpServerTest, ThreadsShareOnePortWithReusePort) {
  HttpServerOptions options = test_options();
  options.threads = 3;
  RunningServer running(options, hello_handler);
  for (int i = 0; i < 6; ++i) {
    LoopbackClient client(running.port());
    EXPECT_EQ(client.get("/n").status(), 200);
  }
  EXPECT_EQ(running.server().accepted_connections(), 6u);
}

TEST(HttpServerTest, KeepAliveReusesOneConnection) {
  RunningServer running(test_options(), hello_handler);
  LoopbackClient client(running.port());
  for (int i = 0; i < 3; ++i) {
    LoopbackClient::Reply reply = client.get("/r" + std::to_string(i));
    ASSERT_TRUE(reply.ok()) << reply.ec.message();
    EXPECT_EQ(reply.body(), "hello /r" + std::to_string(i));
    EXPECT_TRUE(reply.response.keep_alive());
  }
  EXPECT_EQ(running.server().accepted_connections(), 1u);
}

TEST(HttpServerTest, OversizeBodyGets413WithOpenAiError) {
  HttpServerOptions options = test_options();
  options.max_body_bytes = 64;
  int handled = 0;
  RunningServer running(options, [&](const HttpRequest& r, Responder& out) {
    ++handled;
    return hello_handler(r, out);
  });
  LoopbackClient client(running.port());
  LoopbackClient::Reply reply = client.post("/v1/chat/completions", std::string(200, 'x'));
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.status(), 413);
  EXPECT_FALSE(reply.response.keep_alive());
  const auto body = boost::json::parse(reply.body()).as_object();
  const auto& error = body.at("error").as_object();
  EXPECT_EQ(error.at("type").as_string(), "invalid_request_error");
  EXPECT_EQ(error.at("code").as_string(), "request_too_large");
  EXPECT_TRUE(error.at("param").is_null());
  EXPECT_NE(error.at("message").as_string().find("64 bytes"), std::string::npos);
  EXPECT_EQ(handled, 0);
  EXPECT_TRUE(client.wait_for_close());
}

TEST(HttpServerTest, MalformedRequestGets400) {
  RunningServer running(test_options(), hello_handler);
  LoopbackClient client(running.port());
  ASSERT_FALSE(client.write_raw("THIS IS NOT HTTP\r\n\r\n"));
  LoopbackClient::Reply reply = client.read();
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.status(), 400);
  const auto body = boost::json::parse(reply.body()).as_object();
  EXPECT_EQ(body.at("error").at("code").as_string(), "invalid_http");
}

TEST(HttpServerTest, HandlerWithoutResponseGets500) {
  RunningServer running(test_options(),
                        [](const HttpRequest&, Responder&) -> asio::awaitable<void> { co_return; });
  LoopbackClient client(running.port());
  LoopbackClient::Reply reply = client.get("/");
  EXPECT_EQ(reply.status(), 500);
  EXPECT_EQ(boost::json::parse(reply.body()).at("error").at("type").as_string(), "server_error");
}

TEST(HttpServerTest, StreamDeliversEachChunkAsItIsWritten) {
  Gate gate;
  RunningServer running(test_options(),
                        [&](const HttpRequest& request, Responder& r) -> asio::awaitable<void> {
                          if (request.target() != "/stream") {
                            co_await hello_handler(request, r);
                            co_return;
                          }
                          http::fields headers;
                          headers.set(http::field::content_type, "text/event-stream");
                          co_await r.start_stream(http::status::ok, headers);
                          co_await r.write("data: A\n\n");
                          co_await gate.pass();
                          co_await r.write("data: B\n\n");
                          co_await r.finish();
                        });
  LoopbackClient client(running.port());
  ASSERT_FALSE(client.write(client.make_request(http::verb::get, "/stream")));
  ASSERT_FALSE(client.begin_stream());
  EXPECT_EQ(client.stream_parser().get()[http::field::content_type], "text/event-stream");
  EXPECT_TRUE(client.stream_parser().chunked());
  // "A" arrives while the handler is still parked before writing "B".
  ASSERT_TRUE(client.read_until("data: A\n\n"));
  EXPECT_EQ(client.streamed_body(), "data: A\n\n");
  ASSERT_TRUE(gate.wait_reached());
  gate.open();
  EXPECT_FALSE(client.read_to_end());
  EXPECT_EQ(client.streamed_body(), "data: A\n\ndata: B\n\n");
  // The connection stays usable after a finished stream.
  EXPECT_EQ(client.get("/again").body(), "hello /again");
}

TEST(HttpServerTest, HeaderTimeoutClosesSilentNewConnection) {
  // A new connection that never sends a byte is held for header_timeout, not idle_timeout.
  HttpServerOptions options = test_options();
  options.header_timeout = milliseconds(200);
  options.idle_timeout = seconds(60);
  RunningServer running(options, hello_handler);
  LoopbackClient client(running.port());
  ASSERT_FALSE(client.connect_error());
  bool closed = false;
  EXPECT_EQ(client.read_raw_to_close(&closed), "");  // closed without an answer
  EXPECT_TRUE(closed);
}

TEST(HttpServerTest, IdleTimeoutClosesSilentKeptAliveConnection) {
  HttpServerOptions options = test_options();
  options.idle_timeout = milliseconds(200);
  options.header_timeout = seconds(60);
  RunningServer running(options, hello_handler);
  LoopbackClient client(running.port());
  ASSERT_EQ(client.get("/first").status(), 200);
  bool closed = false;
  EXPECT_EQ(client.read_raw_to_close(&closed), "");
  EXPECT_TRUE(closed);
}

TEST(HttpServerTest, HeaderTimeoutClosesTrickleClient) {
  HttpServerOptions options = test_options();
  options.header_timeout = milliseconds(200);
  RunningServer running(options, hello_handler);
  LoopbackClient client(running.port());
  ASSERT_FALSE(client.write_raw("GET / HTTP/1.1\r\nHost: x\r\n"));  // never ends the header
  LoopbackClient::Reply reply = client.read();
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.status(), 408);  // a request had started: it gets an answer, then the close
  EXPECT_FALSE(reply.response.keep_alive());
  EXPECT_TRUE(client.wait_for_close());
}

TEST(HttpServerTest, ConnectionsBeyondLimitGet503) {
  HttpServerOptions options = test_options();
  options.max_connections = 1;
  RunningServer running(options, hello_handler);
  LoopbackClient first(running.port());
  ASSERT_EQ(first.get("/first").status(), 200);  // now registered and kept alive
  LoopbackClient second(running.port());
  LoopbackClient::Reply reply = second.get("/second");
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.status(), 503);
  EXPECT_EQ(boost::json::parse(reply.body()).at("error").at("code").as_string(),
            "too_many_connections");
  EXPECT_TRUE(second.wait_for_close());
  EXPECT_EQ(first.get("/still").status(), 200);
}

TEST(HttpServerTest, HandlerSeesClientGone) {
  Gate gate;
  std::promise<bool> saw_gone;
  RunningServer running(test_options(),
                        [&](const HttpRequest&, Responder& r) -> asio::awaitable<void> {
                          co_await gate.pass(&r);
                          saw_gone.set_value(r.client_gone());
                        });
  {
    LoopbackClient client(running.port());
    ASSERT_FALSE(client.write(client.make_request(http::verb::get, "/wait")));
    ASSERT_TRUE(gate.wait_reached());
  }  // the client closes here
  auto gone = saw_gone.get_future();
  ASSERT_EQ(gone.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(gone.get());
}

TEST(HttpServerTest, GracefulStopLetsInFlightRequestFinish) {
  Gate gate;
  auto running = std::make_unique<RunningServer>(
      test_options(), [&](const HttpRequest& request, Responder& r) -> asio::awaitable<void> {
        co_await gate.pass();
        co_await hello_handler(request, r);
      });
  const uint16_t port = running->port();
  LoopbackClient client(port);
  ASSERT_FALSE(client.write(client.make_request(http::verb::get, "/slow")));
  ASSERT_TRUE(gate.wait_reached());
  running->server().stop();
  gate.open();  // posted after stop's work on the same thread, so stop is seen first
  LoopbackClient::Reply reply = client.read();
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.body(), "hello /slow");
  EXPECT_FALSE(reply.response.keep_alive());
  running->stop_and_join();  // run() returns: nothing left in flight
  LoopbackClient late(port);
  EXPECT_TRUE(late.connect_error());
}

TEST(HttpServerTest, DrainTimeoutCancelsStuckHandler) {
  HttpServerOptions options = test_options();
  options.drain_timeout = milliseconds(100);
  Gate gate;
  std::atomic<bool> cancelled{false};
  RunningServer running(options, [&](const HttpRequest&, Responder& r) -> asio::awaitable<void> {
    co_await gate.pass(&r);  // only cancellation releases it
    cancelled = r.client_gone();
  });
  LoopbackClient client(running.port());
  ASSERT_FALSE(client.write(client.make_request(http::verb::get, "/stuck")));
  ASSERT_TRUE(gate.wait_reached());
  running.stop_and_join();
  EXPECT_TRUE(cancelled);
  EXPECT_TRUE(client.wait_for_close());
}

}  // namespace
}  // namespace sheepdog::server
