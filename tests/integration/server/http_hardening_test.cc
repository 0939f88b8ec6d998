// HttpServer against the requests an attacker sends (issue 10): chunked trailers that once
// aborted the process, framing that smuggles a second request, missing Host, obsolete line
// folding, bodies over the limit, slow clients, a second process on the same port, and
// exceptions escaping a handler. Real loopback sockets on port 0; every wait is bounded by the
// client's timeout or a server timeout of a few tens of milliseconds; no sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>
#include <cctype>
#include <string>

#include "server/http_server.h"
#include "support/loopback_http_client.h"
#include "support/running_server.h"

namespace sheepdog::server {
namespace {

using testing::LoopbackClient;
using testing::RunningServer;

HttpServerOptions test_options(unsigned threads = 1) {
  HttpServerOptions options;
  options.threads = threads;
  return options;
}

// Answers 200 with the request's target and body, and counts the requests it saw.
struct EchoHandler {
  std::atomic<int>* calls;
  asio::awaitable<void> operator()(const HttpRequest& request, Responder& responder) const {
    calls->fetch_add(1);
    HttpResponse response{http::status::ok, 11};
    response.set(http::field::content_type, "text/plain");
    response.body() = std::string(request.target()) + "|" + request.body();
    co_await responder.send(std::move(response));
  }
};

// How many HTTP/1.1 status lines ("HTTP/1.1 " and three digits) `wire` holds.
int status_lines(const std::string& wire) {
  int count = 0;
  for (size_t at = wire.find("HTTP/1.1 "); at != std::string::npos;
       at = wire.find("HTTP/1.1 ", at + 1)) {
    count += at + 12 <= wire.size() && std::isdigit(static_cast<unsigned char>(wire[at + 9])) &&
             std::isdigit(static_cast<unsigned char>(wire[at + 10])) &&
             std::isdigit(static_cast<unsigned char>(wire[at + 11]));
  }
  return count;
}

std::string error_code_of(const LoopbackClient::Reply& reply) {
  return std::string(boost::json::parse(reply.body()).at("error").at("code").as_string());
}

// Sends `raw` and reads one reply.
LoopbackClient::Reply send_raw(uint16_t port, const std::string& raw) {
  LoopbackClient client(port);
  EXPECT_FALSE(client.write_raw(raw));
  return client.read();
}

class HardeningTest : public ::testing::Test {
 protected:
  std::atomic<int> calls_{0};
  EchoHandler handler() { return EchoHandler{&calls_}; }
};

TEST_F(HardeningTest, TrailerFieldOf64KiBIsRefusedAndTheServerKeepsServing) {
  RunningServer running(test_options(), handler());
  for (size_t size : {65530u, 65534u, 70000u, 1u << 20}) {
    const std::string raw =
        "POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " +
        std::string(size, 'a') + "\r\n\r\n";
    LoopbackClient client(running.port());
    ASSERT_FALSE(client.write_raw(raw));
    LoopbackClient::Reply reply = client.read();
    ASSERT_TRUE(reply.ok()) << size << ": " << reply.ec.message();
    EXPECT_EQ(reply.status(), 431) << size;
    EXPECT_EQ(error_code_of(reply), "request_header_too_large");
  }
  LoopbackClient after(running.port());
  EXPECT_EQ(after.get("/still-here").status(), 200);
  EXPECT_EQ(calls_.load(), 1);
}

TEST_F(HardeningTest, SmallTrailerIsDiscardedAndTheRequestServed) {
  RunningServer running(test_options(), handler());
  LoopbackClient::Reply reply =
      send_raw(running.port(),
               "POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n0\r\nX-Trailer: yes\r\n\r\n");
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.status(), 200);
  EXPECT_EQ(reply.body(), "/t|hello");
}

TEST_F(HardeningTest, TransferEncodingThatDoesNotEndInChunkedIs400AndNothingIsSmuggled) {
  RunningServer running(test_options(), handler());
  for (std::string coding : {"xchunked", "gzip", "chunked, gzip", "identity"}) {
    LoopbackClient client(running.port());
    ASSERT_FALSE(
        client.write_raw("POST /first HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                         "\r\n\r\nGET /smuggled-request HTTP/1.1\r\nHost: x\r\n\r\n"));
    bool closed = false;
    const std::string wire = client.read_raw_to_close(&closed);
    EXPECT_TRUE(closed) << coding;
    EXPECT_EQ(wire.rfind("HTTP/1.1 400 ", 0), 0u) << coding << ": " << wire;
    EXPECT_EQ(status_lines(wire), 1) << coding << ": " << wire;
    EXPECT_NE(wire.find("Connection: close"), std::string::npos) << coding;
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HardeningTest, UnsupportedTransferCodingIs501) {
  RunningServer running(test_options(), handler());
  for (std::string coding : {"gzip, chunked", "deflate, chunked"}) {
    LoopbackClient::Reply reply =
        send_raw(running.port(), "POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                                     "\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    ASSERT_TRUE(reply.ok()) << reply.ec.message();
    EXPECT_EQ(reply.status(), 501) << coding;
    EXPECT_EQ(error_code_of(reply), "unsupported_transfer_encoding");
  }
  LoopbackClient::Reply twice = send_raw(
      running.port(), "POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n");
  EXPECT_EQ(twice.status(), 400);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HardeningTest, HostIsRequiredOnHttp11AndMustBeUnique) {
  RunningServer running(test_options(), handler());
  EXPECT_EQ(send_raw(running.port(), "GET /a HTTP/1.1\r\n\r\n").status(), 400);
  EXPECT_EQ(send_raw(running.port(), "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status(),
            400);
  EXPECT_EQ(calls_.load(), 0);
  EXPECT_EQ(send_raw(running.port(), "GET /a HTTP/1.0\r\n\r\n").status(), 200);  // optional
  EXPECT_EQ(calls_.load(), 1);
}

TEST_F(HardeningTest, ObsoleteLineFoldingNulAndBareCrAre400) {
  RunningServer running(test_options(), handler());
  for (std::string header :
       std::initializer_list<std::string>{"X-A: a\r\n  b\r\n", "X-A: a\r\n\tb\r\n",
                                          std::string("X-A: a\0b\r\n", 10), "X-A: a\rb\r\n"}) {
    LoopbackClient::Reply reply =
        send_raw(running.port(), "GET /a HTTP/1.1\r\nHost: x\r\n" + header + "\r\n");
    ASSERT_TRUE(reply.ok()) << reply.ec.message();
    EXPECT_EQ(reply.status(), 400);
    EXPECT_EQ(error_code_of(reply), "invalid_http");
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HardeningTest, ContentLengthOverTheLimitIs413BeforeAnyBodyByte) {
  HttpServerOptions options = test_options();
  options.max_body_bytes = 1000;
  RunningServer running(options, handler());
  // Only the header is sent: the answer cannot depend on reading the body.
  LoopbackClient::Reply reply =
      send_raw(running.port(), "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n");
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.status(), 413);
  EXPECT_EQ(error_code_of(reply), "request_too_large");
  EXPECT_FALSE(reply.response.keep_alive());
}

TEST_F(HardeningTest, ClientThatSendsTheWholeOversizedBodyStillReadsThe413) {
  // The server answers early, then drains what the client still sends, so the client's write
  // completes and it reads the 413 instead of a connection reset.
  RunningServer running(test_options(), handler());  // limit 4 MiB
  const std::string body(5 * 1000 * 1000, 'x');
  for (int i = 0; i < 5; ++i) {
    LoopbackClient client(running.port());
    ASSERT_FALSE(
        client.write_raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body));
    LoopbackClient::Reply reply = client.read();
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.ec.message();
    EXPECT_EQ(reply.status(), 413);
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HardeningTest, ChunkedBodyOverTheLimitIs413) {
  HttpServerOptions options = test_options();
  options.max_body_bytes = 1000;
  RunningServer running(options, handler());
  LoopbackClient::Reply reply =
      send_raw(running.port(),
               "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "800\r\n" +
                   std::string(0x800, 'y') + "\r\n0\r\n\r\n");
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.status(), 413);
}

TEST_F(HardeningTest, ExpectContinueOverTheLimitGets413Without100Continue) {
  HttpServerOptions options = test_options();
  options.max_body_bytes = 1000;
  RunningServer running(options, handler());
  LoopbackClient client(running.port());
  ASSERT_FALSE(client.write_raw(
      "POST /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n"));
  const std::string wire = client.read_raw_to_close();
  EXPECT_EQ(wire.rfind("HTTP/1.1 413 ", 0), 0u) << wire;
  EXPECT_EQ(wire.find("100 Continue"), std::string::npos);
}

TEST_F(HardeningTest, SlowHeaderOrBodyGets408) {
  HttpServerOptions options = test_options();
  options.header_timeout = milliseconds(50);
  options.body_timeout = milliseconds(50);
  RunningServer running(options, handler());
  {
    LoopbackClient client(running.port());
    ASSERT_FALSE(client.write_raw("GET /a HTTP/1.1\r\nHost: x\r\n"));
    LoopbackClient::Reply reply = client.read();
    ASSERT_TRUE(reply.ok()) << reply.ec.message();
    EXPECT_EQ(reply.status(), 408);
    EXPECT_EQ(error_code_of(reply), "request_timeout");
  }
  {
    LoopbackClient client(running.port());
    ASSERT_FALSE(client.write_raw("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
    LoopbackClient::Reply reply = client.read();
    ASSERT_TRUE(reply.ok()) << reply.ec.message();
    EXPECT_EQ(reply.status(), 408);
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HardeningTest, NothingAfterAProtocolErrorIsParsed) {
  RunningServer running(test_options(), handler());
  LoopbackClient client(running.port());
  ASSERT_FALSE(client.write_raw("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string wire = client.read_raw_to_close();
  EXPECT_EQ(wire.rfind("HTTP/1.1 400 ", 0), 0u) << wire;
  EXPECT_EQ(status_lines(wire), 1) << wire;
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HardeningTest, SecondServerOnABusyPortFailsToListen) {
  for (unsigned threads : {1u, 2u}) {
    RunningServer first(test_options(threads), handler());
    HttpServerOptions options = test_options(threads);
    options.port = first.port();
    HttpServer second(options, handler());
    const Status status = second.listen();
    ASSERT_FALSE(status.is_ok());
    EXPECT_NE(status.message().find("Address already in use"), std::string::npos)
        << status.message();
    LoopbackClient client(first.port());
    EXPECT_EQ(client.get("/a").status(), 200);
  }
}

TEST_F(HardeningTest, EveryThreadServesOnTheSharedListeningSocket) {
  RunningServer running(test_options(2), handler());
  for (int i = 0; i < 50; ++i) {
    LoopbackClient client(running.port());
    ASSERT_EQ(client.get("/n" + std::to_string(i)).status(), 200);
  }
  EXPECT_EQ(calls_.load(), 50);
}

TEST_F(HardeningTest, AnExceptionFromACompletionHandlerDoesNotStopTheServer) {
  std::atomic<int> calls{0};
  HttpHandler throwing = [&calls](const HttpRequest& request,
                                  Responder& responder) -> asio::awaitable<void> {
    calls.fetch_add(1);
    if (request.target() == "/throw") {
      // Thrown from a plain completion handler, outside any coroutine: it leaves
      // io_context::run(), where the server must catch it.
      asio::post(co_await asio::this_coro::executor,
                 [] { throw std::runtime_error("handler bug"); });
    }
    HttpResponse response{http::status::ok, 11};
    response.body() = "ok";
    co_await responder.send(std::move(response));
  };
  RunningServer running(test_options(), throwing);
  LoopbackClient first(running.port());
  EXPECT_EQ(first.get("/throw").status(), 200);
  for (int i = 0; i < 3; ++i) {
    LoopbackClient client(running.port());
    EXPECT_EQ(client.get("/after").status(), 200);
  }
  EXPECT_EQ(calls.load(), 4);
}

TEST_F(HardeningTest, ProtocolErrorsAreShapedForTheRequestTarget) {
  HttpServerOptions options = test_options();
  options.max_body_bytes = 10;
  options.protocol_error = [](http::status status, const ApiError& error, std::string_view target) {
    HttpResponse response{status, 11};
    response.body() = std::string(target) + ":" + error.code.value_or("");
    return response;
  };
  RunningServer running(options, handler());
  LoopbackClient::Reply reply = send_raw(
      running.port(), "POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n");
  EXPECT_EQ(reply.status(), 413);
  EXPECT_EQ(reply.body(), "/v1/messages:request_too_large");
  LoopbackClient::Reply garbage = send_raw(running.port(), "\x01\x02 nonsense\r\n\r\n");
  EXPECT_EQ(garbage.status(), 400);
  EXPECT_EQ(garbage.body(), ":invalid_http");  // no request line: no target
}

}  // namespace
}  // namespace sheepdog::server
