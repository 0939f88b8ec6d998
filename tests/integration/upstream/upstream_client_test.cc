// UpstreamClient over plain TCP on loopback: round trips, keep-alive pooling, failures as
// values, the stale-connection retry and pool limits. Timeouts are short real timers (the
// asserts are on the kind of result, never on elapsed time).
#include "upstream/upstream_client.h"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "test_server.h"

namespace sheepdog::upstream::test {
namespace {

using std::chrono::milliseconds;

class UpstreamClientTest : public UpstreamFixture {};

// Echoes what the server saw, one request per line of the body.
TestServer::Handler echo() {
  return [](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    while (co_await c.read(r)) {
      const std::string seen = std::string(r.method_string()) + " " + std::string(r.target()) +
                               " host=" + std::string(r[http::field::host]) +
                               " ua=" + std::string(r[http::field::user_agent]) +
                               " x-test=" + std::string(r["X-Test"]) + " body=" + r.body();
      co_await c.write(response(200, seen, "X-RateLimit-Reset-Requests: 1s\r\nRetry-After: 3\r\n"));
    }
  };
}

TEST_F(UpstreamClientTest, GetRoundTrip) {
  TestServer& server = start_server(echo());
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    UpstreamRequest r = request("GET", "/v1/models");
    r.headers.add("X-Test", "yes");
    UpstreamResponse response = co_await client.send(r, generous());
    CO_ASSERT_TRUE(response.ok()) << response.error;
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "GET /v1/models host=127.0.0.1:" + std::to_string(server.port()) +
                                 " ua=sheepdog/0.1 x-test=yes body=");
    EXPECT_EQ(response.headers.value("content-type"), "application/json");
    EXPECT_EQ(response.headers.value("x-ratelimit-reset-requests"), "1s");
    EXPECT_EQ(pushback_headers(response.headers).retry_after, "3");
    EXPECT_FALSE(response.reused_connection);
  });
}

TEST_F(UpstreamClientTest, PostRoundTripWithBody) {
  start_server(echo());
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    UpstreamRequest r = request("POST", "/v1/chat/completions", "{\"model\":\"m\"}");
    r.headers.add("User-Agent", "custom");
    r.headers.add("Content-Length", "999");  // framing is the client's: ignored
    UpstreamResponse response = co_await client.send(r, generous());
    CO_ASSERT_TRUE(response.ok()) << response.error;
    EXPECT_EQ(response.body.substr(response.body.find(" ua=")),
              " ua=custom x-test= body={\"model\":\"m\"}");
  });
}

TEST_F(UpstreamClientTest, SequentialRequestsReuseOneConnection) {
  TestServer& server = start_server(always("{}"));
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 5; ++i) {
      UpstreamResponse response = co_await client.send(request(), generous());
      CO_ASSERT_TRUE(response.ok()) << response.error;
      EXPECT_EQ(response.reused_connection, i > 0);
    }
    EXPECT_EQ(server.accepted(), 1);
    EXPECT_EQ(client.pool().idle_count(server.origin()), 1u);
    EXPECT_EQ(client.pool().in_use_count(server.origin()), 0u);
  });
}

TEST_F(UpstreamClientTest, ConnectionCloseResponseIsNotPooled) {
  TestServer& server = start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    if (co_await c.read(r)) {
      co_await c.write(response(200, "bye", "Connection: close\r\n"));
    }
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 2; ++i) {
      UpstreamResponse response = co_await client.send(request(), generous());
      CO_ASSERT_TRUE(response.ok()) << response.error;
      EXPECT_EQ(response.body, "bye");
      EXPECT_FALSE(response.reused_connection);
    }
    EXPECT_EQ(server.accepted(), 2);
    EXPECT_EQ(client.pool().idle_count(server.origin()), 0u);
  });
}

TEST_F(UpstreamClientTest, ChunkedResponseIsAssembled) {
  start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    while (co_await c.read(r)) {
      co_await c.write(std::string(kChunkedHead) + chunk("hel") + chunk("lo") +
                       std::string(kLastChunk));
    }
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    UpstreamResponse response = co_await client.send(request(), generous());
    CO_ASSERT_TRUE(response.ok()) << response.error;
    EXPECT_EQ(response.body, "hello");
    EXPECT_EQ(client.pool().idle_count(server_->origin()), 1u);
  });
}

TEST_F(UpstreamClientTest, ConnectionRefusedIsConnectFailed) {
  // A bound socket that does not listen: the kernel refuses connections to it at once, and the
  // port cannot be taken by anyone else meanwhile.
  tcp::socket reserved(io_);
  reserved.open(tcp::v4());
  reserved.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    UpstreamRequest r;
    r.origin = Origin{false, "127.0.0.1", reserved.local_endpoint().port()};
    UpstreamResponse response = co_await client.send(r, generous());
    EXPECT_EQ(response.transport, TransportResult::kConnectFailed);
    EXPECT_NE(response.error.find("refused"), std::string::npos) << response.error;
    EXPECT_EQ(client.pool().in_use_count(r.origin), 0u);
  });
}

TEST_F(UpstreamClientTest, ServerThatNeverAnswersTimesOut) {
  TestServer& server = start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    if (co_await c.read(r)) {
      co_await c.wait_for_close();
    }
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    RequestTimeouts t = generous();
    t.attempt = milliseconds(100);
    UpstreamResponse response = co_await client.send(request(), t);
    EXPECT_EQ(response.transport, TransportResult::kTimeout) << response.error;
    EXPECT_EQ(client.pool().idle_count(server.origin()), 0u);
    EXPECT_EQ(client.pool().in_use_count(server.origin()), 0u);
  });
}

TEST_F(UpstreamClientTest, CloseMidBodyIsConnectionReset) {
  start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    if (co_await c.read(r)) {
      co_await c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    }
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    UpstreamResponse response = co_await client.send(request(), generous());
    EXPECT_EQ(response.transport, TransportResult::kConnectionReset);
    EXPECT_NE(response.error.find("partial message"), std::string::npos) << response.error;
  });
}

TEST_F(UpstreamClientTest, CloseMidChunkIsConnectionReset) {
  start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    if (co_await c.read(r)) {
      co_await c.write(std::string(kChunkedHead) + chunk("complete") + "10\r\nshort");
    }
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    UpstreamResponse response = co_await client.send(request(), generous());
    EXPECT_EQ(response.transport, TransportResult::kConnectionReset);
  });
}

TEST_F(UpstreamClientTest, CloseBeforeAnyByteOnAFreshConnectionIsNotRetried) {
  TestServer& server = start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    co_await c.read(r);  // and close without answering
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    UpstreamResponse response = co_await client.send(request(), generous());
    EXPECT_EQ(response.transport, TransportResult::kConnectionReset);
    EXPECT_EQ(server.accepted(), 1);
  });
}

// Connection 1 answers one request, then closes when the second arrives on it, as a server
// whose idle timeout fired just as the request was sent. Later connections behave per `rest`.
TestServer::Handler close_on_second_request(TestServer::Handler rest) {
  return [rest](ServerConnection& c) -> asio::awaitable<void> {
    if (c.index > 1) {
      co_await rest(c);
      co_return;
    }
    http::request<http::string_body> r;
    if (co_await c.read(r)) {
      co_await c.write(response(200, "first"));
      co_await c.read(r);
    }
  };
}

TEST_F(UpstreamClientTest, StalePooledConnectionIsRetriedOnAFreshOne) {
  TestServer& server = start_server(close_on_second_request(always("fresh")));
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    UpstreamResponse first = co_await client.send(request("POST", "/", "a"), generous());
    CO_ASSERT_TRUE(first.ok()) << first.error;
    EXPECT_EQ(first.body, "first");
    UpstreamResponse second = co_await client.send(request("POST", "/", "b"), generous());
    CO_ASSERT_TRUE(second.ok()) << second.error;
    EXPECT_EQ(second.body, "fresh");
    EXPECT_FALSE(second.reused_connection);
    EXPECT_EQ(server.accepted(), 2);
    EXPECT_EQ(client.pool().idle_count(server.origin()), 1u);
  });
}

TEST_F(UpstreamClientTest, StaleRetryHappensOnlyOnce) {
  TestServer& server =
      start_server(close_on_second_request([](ServerConnection& c) -> asio::awaitable<void> {
        http::request<http::string_body> r;
        co_await c.read(r);  // the fresh connection fails the same way
      }));
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    CO_ASSERT_TRUE((co_await client.send(request(), generous())).ok());
    UpstreamResponse second = co_await client.send(request(), generous());
    EXPECT_EQ(second.transport, TransportResult::kConnectionReset);
    EXPECT_EQ(server.accepted(), 2);
  });
}

TEST_F(UpstreamClientTest, IdleConnectionClosedByServerIsNotReused) {
  TestServer& server = start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    if (co_await c.read(r)) {
      co_await c.write(response(200, "once"));  // keep-alive advertised, but then closed
    }
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      UpstreamResponse response = co_await client.send(request(), generous());
      CO_ASSERT_TRUE(response.ok()) << response.error;
      EXPECT_EQ(response.body, "once");
    }
    EXPECT_EQ(server.accepted(), 3);
  });
}

TEST_F(UpstreamClientTest, CancellationSlotCancelsAndClosesTheConnection) {
  Gate& request_received = make_gate();
  bool closed_by_client = false;
  Gate& server_saw_close = make_gate();
  start_server([&](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    if (co_await c.read(r)) {
      request_received.open();
      co_await c.wait_for_close();
      closed_by_client = c.closed_by_client;
      server_saw_close.open();
    }
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    asio::cancellation_signal signal;
    Gate& done = make_gate();
    asio::co_spawn(
        executor(),
        [&]() -> asio::awaitable<void> {
          UpstreamResponse response = co_await client.send(request(), generous());
          EXPECT_EQ(response.transport, TransportResult::kCancelled);
          // The caller's throw-if-cancelled setting (asio's default, on) is restored.
          EXPECT_TRUE(co_await asio::this_coro::throw_if_cancelled());
          done.open();
        },
        asio::bind_cancellation_slot(signal.slot(), report_exception));
    co_await request_received.wait();
    signal.emit(asio::cancellation_type::terminal);
    co_await done.wait();
    co_await server_saw_close.wait();
    EXPECT_TRUE(closed_by_client);
    EXPECT_EQ(client.pool().in_use_count(server_->origin()), 0u);
    EXPECT_EQ(client.pool().idle_count(server_->origin()), 0u);
  });
}

TEST_F(UpstreamClientTest, OversizedBodyIsRejected) {
  start_server(always(std::string(100, 'x')));
  ClientOptions options;
  options.max_response_body_bytes = 10;
  UpstreamClient& client = make_client(options);
  run([&]() -> asio::awaitable<void> {
    UpstreamResponse response = co_await client.send(request(), generous());
    EXPECT_EQ(response.transport, TransportResult::kResponseTooLarge);
    EXPECT_NE(response.error.find("body limit"), std::string::npos) << response.error;
  });
}

TEST_F(UpstreamClientTest, HostNameIsResolved) {
  TestServer& server = start_server(always("{}"));
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    UpstreamRequest r = request();
    r.origin.host = "localhost";
    UpstreamResponse response = co_await client.send(r, generous());
    CO_ASSERT_TRUE(response.ok()) << response.error;
    EXPECT_EQ(server.accepted(), 1);
  });
}

}  // namespace
}  // namespace sheepdog::upstream::test
