// ResponseStream: incremental body reads (the server sends a piece only after the test has seen
// the previous one), cancellation, stream timeouts, and when the connection may be reused.
#include "upstream/response_stream.h"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "test_server.h"
#include "upstream/sse_parser.h"

namespace sheepdog::upstream::test {
namespace {

using std::chrono::milliseconds;

class ResponseStreamTest : public UpstreamFixture {
 protected:
  // The first connection streams a chunked body in steps: head and `first`, then after
  // `release` the `second` piece and the end. Later connections answer plainly.
  void start_stepped_server(std::string first, std::string second) {
    release_ = &make_gate();
    start_server([this, first, second](ServerConnection& c) -> asio::awaitable<void> {
      connections_.push_back(&c);
      http::request<http::string_body> r;
      while (co_await c.read(r)) {
        if (r.target() != "/stream") {
          co_await c.write(response(200, "plain"));
          continue;
        }
        co_await c.write(std::string(kChunkedHead) + chunk(first));
        co_await release_->wait();
        if (!co_await c.write(chunk(second) + std::string(kLastChunk))) {
          co_return;
        }
      }
    });
  }

  Gate* release_ = nullptr;
  std::vector<ServerConnection*> connections_;
};

TEST_F(ResponseStreamTest, ChunksArriveIncrementallyAndConnectionIsReused) {
  start_stepped_server("data: one\n\n", "data: two\n\ndata: [DONE]\n\n");
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    ResponseStream stream = co_await client.open_stream(request("POST", "/stream"), generous());
    CO_ASSERT_TRUE(stream.ok()) << stream.head().error;
    EXPECT_EQ(stream.head().status, 200);
    EXPECT_EQ(stream.head().headers.value("Content-Type"), "text/event-stream");

    SseParser parser;
    std::vector<SseEvent> events;
    BodyChunk piece = co_await stream.next();
    CO_ASSERT_TRUE(piece.ok()) << piece.error;
    // The server has not sent the second piece yet: this one came on its own.
    EXPECT_FALSE(release_->is_open());
    EXPECT_EQ(piece.data, "data: one\n\n");
    EXPECT_FALSE(piece.end);
    parser.feed(piece.data, events);
    EXPECT_EQ(events.size(), 1u);

    release_->open();
    for (;;) {
      piece = co_await stream.next();
      CO_ASSERT_TRUE(piece.ok()) << piece.error;
      parser.feed(piece.data, events);
      if (piece.end) {
        break;
      }
    }
    CO_ASSERT_TRUE(events.size() == 3u);
    EXPECT_EQ(events[1].data, "two");
    EXPECT_TRUE(events[2].is_done());
    EXPECT_TRUE(stream.finished());
    EXPECT_TRUE((co_await stream.next()).end);  // stays ended, without I/O

    // The clean keep-alive stream gave its connection back.
    EXPECT_EQ(client.pool().idle_count(server_->origin()), 1u);
    UpstreamResponse after = co_await client.send(request(), generous());
    EXPECT_TRUE(after.reused_connection);
    EXPECT_EQ(server_->accepted(), 1);
  });
}

TEST_F(ResponseStreamTest, ContentLengthBodyIsStreamed) {
  Gate& release = make_gate();
  start_server([&](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    if (co_await c.read(r)) {
      co_await c.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd");
      co_await release.wait();
      co_await c.write("efghij");
      co_await c.wait_for_close();
    }
  });
  ClientOptions options;
  options.stream_chunk_bytes = 4;
  UpstreamClient& client = make_client(options);
  run([&]() -> asio::awaitable<void> {
    ResponseStream stream = co_await client.open_stream(request(), generous());
    CO_ASSERT_TRUE(stream.ok()) << stream.head().error;
    BodyChunk piece = co_await stream.next();
    EXPECT_EQ(piece.data, "abcd");
    release.open();
    std::string rest;
    do {
      piece = co_await stream.next();
      CO_ASSERT_TRUE(piece.ok()) << piece.error;
      EXPECT_LE(piece.data.size(), 4u);  // never more than stream_chunk_bytes at once
      rest += piece.data;
    } while (!piece.end);
    EXPECT_EQ(rest, "efghij");
  });
}

TEST_F(ResponseStreamTest, CancelHandleAbortsAPendingReadAndClosesTheConnection) {
  start_stepped_server("data: one\n\n", "data: two\n\n");
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    ResponseStream stream = co_await client.open_stream(request("POST", "/stream"), generous());
    CO_ASSERT_TRUE((co_await stream.next()).ok());
    Gate& reading = make_gate();
    Gate& reader_done = make_gate();
    asio::co_spawn(
        executor(),
        [&]() -> asio::awaitable<void> {
          reading.open();  // we resume only once the reader is suspended in next()
          BodyChunk piece = co_await stream.next();  // the server waits for release
          EXPECT_EQ(piece.transport, TransportResult::kCancelled);
          reader_done.open();
        },
        report_exception);
    co_await reading.wait();
    stream.cancel();
    co_await reader_done.wait();
    EXPECT_EQ((co_await stream.next()).transport, TransportResult::kCancelled);
    EXPECT_EQ(client.pool().in_use_count(server_->origin()), 0u);
    EXPECT_EQ(client.pool().idle_count(server_->origin()), 0u);
    UpstreamResponse after = co_await client.send(request(), generous());
    EXPECT_FALSE(after.reused_connection);
    EXPECT_EQ(server_->accepted(), 2);
  });
}

TEST_F(ResponseStreamTest, CancellationSlotAbortsNext) {
  start_stepped_server("data: one\n\n", "data: two\n\n");
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    ResponseStream stream = co_await client.open_stream(request("POST", "/stream"), generous());
    CO_ASSERT_TRUE((co_await stream.next()).ok());
    asio::cancellation_signal signal;
    Gate& reading = make_gate();
    Gate& reader_done = make_gate();
    asio::co_spawn(
        executor(),
        [&]() -> asio::awaitable<void> {
          reading.open();
          BodyChunk piece = co_await stream.next();
          EXPECT_EQ(piece.transport, TransportResult::kCancelled);
          reader_done.open();
        },
        asio::bind_cancellation_slot(signal.slot(), report_exception));
    co_await reading.wait();
    signal.emit(asio::cancellation_type::terminal);
    co_await reader_done.wait();
    EXPECT_EQ(client.pool().in_use_count(server_->origin()), 0u);
    EXPECT_EQ(client.pool().idle_count(server_->origin()), 0u);
  });
}

TEST_F(ResponseStreamTest, DroppingAnUnfinishedStreamClosesTheConnection) {
  start_stepped_server("data: one\n\n", "data: two\n\n");
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    {
      ResponseStream stream = co_await client.open_stream(request("POST", "/stream"), generous());
      CO_ASSERT_TRUE((co_await stream.next()).ok());
    }
    EXPECT_EQ(client.pool().in_use_count(server_->origin()), 0u);
    UpstreamResponse after = co_await client.send(request(), generous());
    CO_ASSERT_TRUE(after.ok()) << after.error;
    EXPECT_FALSE(after.reused_connection);
    EXPECT_EQ(server_->accepted(), 2);
  });
}

TEST_F(ResponseStreamTest, NoHeadWithinFirstByteTimeout) {
  start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    if (co_await c.read(r)) {
      co_await c.wait_for_close();
    }
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    RequestTimeouts t = generous();
    t.first_byte = milliseconds(100);
    ResponseStream stream = co_await client.open_stream(request(), t);
    EXPECT_EQ(stream.head().transport, TransportResult::kTimeout);
    BodyChunk piece = co_await stream.next();
    EXPECT_EQ(piece.transport, TransportResult::kTimeout);
  });
}

TEST_F(ResponseStreamTest, HeadButNoBodyWithinFirstByteTimeout) {
  start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    if (co_await c.read(r)) {
      co_await c.write(std::string(kChunkedHead));
      co_await c.wait_for_close();
    }
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    RequestTimeouts t = generous();
    t.first_byte = milliseconds(100);
    ResponseStream stream = co_await client.open_stream(request(), t);
    CO_ASSERT_TRUE(stream.ok()) << stream.head().error;
    BodyChunk piece = co_await stream.next();
    EXPECT_EQ(piece.transport, TransportResult::kTimeout);
    EXPECT_NE(piece.error.find("first-byte"), std::string::npos) << piece.error;
  });
}

TEST_F(ResponseStreamTest, SilenceBetweenChunksTimesOut) {
  start_stepped_server("data: one\n\n", "data: two\n\n");
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    RequestTimeouts t = generous();
    t.between_chunks = milliseconds(100);
    ResponseStream stream = co_await client.open_stream(request("POST", "/stream"), t);
    CO_ASSERT_TRUE((co_await stream.next()).ok());
    BodyChunk piece = co_await stream.next();  // the server never releases the second piece
    EXPECT_EQ(piece.transport, TransportResult::kTimeout);
  });
}

TEST_F(ResponseStreamTest, CloseMidBodyIsConnectionReset) {
  start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    if (co_await c.read(r)) {
      co_await c.write(std::string(kChunkedHead) + chunk("data: one\n\n") + "20\r\ndata: tw");
    }
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    ResponseStream stream = co_await client.open_stream(request(), generous());
    CO_ASSERT_TRUE(stream.ok()) << stream.head().error;
    BodyChunk piece;
    std::string received;
    do {
      piece = co_await stream.next();
      received += piece.data;
    } while (piece.ok() && !piece.end);
    EXPECT_EQ(piece.transport, TransportResult::kConnectionReset);
    EXPECT_EQ(received.substr(0, 11), "data: one\n\n");
  });
}

TEST_F(ResponseStreamTest, ReadAllCollectsAnErrorBody) {
  start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    while (co_await c.read(r)) {
      co_await c.write(response(429, "{\"error\":{\"code\":\"insufficient_quota\"}}",
                                "Retry-After-Ms: 1500\r\n"));
    }
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    ResponseStream stream = co_await client.open_stream(request(), generous());
    CO_ASSERT_TRUE(stream.ok());
    EXPECT_EQ(stream.head().status, 429);
    UpstreamResponse full = co_await stream.read_all(1024);
    EXPECT_TRUE(full.ok());
    EXPECT_EQ(full.body, "{\"error\":{\"code\":\"insufficient_quota\"}}");
    EXPECT_EQ(pushback_headers(full.headers).retry_after_ms, "1500");
    EXPECT_EQ(client.pool().idle_count(server_->origin()), 1u);

    ResponseStream again = co_await client.open_stream(request(), generous());
    UpstreamResponse truncated = co_await again.read_all(5);
    EXPECT_TRUE(truncated.ok());
    EXPECT_EQ(truncated.body, "{\"err");
  });
}

TEST_F(ResponseStreamTest, EmptyBodyEndsAtOnce) {
  start_server([](ServerConnection& c) -> asio::awaitable<void> {
    http::request<http::string_body> r;
    while (co_await c.read(r)) {
      co_await c.write("HTTP/1.1 204 No Content\r\n\r\n");
    }
  });
  UpstreamClient& client = make_client();
  run([&]() -> asio::awaitable<void> {
    ResponseStream stream = co_await client.open_stream(request(), generous());
    CO_ASSERT_TRUE(stream.ok());
    EXPECT_TRUE(stream.finished());
    BodyChunk piece = co_await stream.next();
    EXPECT_TRUE(piece.end);
    EXPECT_TRUE(piece.data.empty());
    EXPECT_EQ(client.pool().idle_count(server_->origin()), 1u);
  });
}

}  // namespace
}  // namespace sheepdog::upstream::test
