#include "server/http_connection.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <exception>
#include <string>

#include "server/request_reader.h"

namespace sheepdog::server {
namespace {

using asio::ip::tcp;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Bounds on the polite close (see close_gracefully()). Generous enough that a client still
// uploading a body we refused (413 on Content-Length) finishes sending it and reads the answer,
// as with nginx's lingering_close; bounded so a client cannot hold the connection open.
constexpr Duration kLingerTimeout = seconds(3);
constexpr size_t kLingerMaxBytes = size_t{64} << 20;

HttpResponse protocol_error_response(const HttpServerOptions& options, const ReadResult& read) {
  HttpResponse response = options.protocol_error
                              ? options.protocol_error(read.status, read.error, read.target)
                              : error_response(read.status, read.error);
  response.version(read.version);
  response.prepare_payload();
  return response;
}

// Waits while the handler runs for the client to close its side: the socket turns readable
// and a peek finds end-of-stream or an error. Bytes instead mean a pipelined request, which
// says the client is still there; the watch ends then (a later close goes unnoticed until a
// write fails). A client that half-closes after sending its request is taken as gone, the
// usual trade-off (nginx makes the same call unless told to ignore client aborts).
asio::awaitable<void> watch_client(HttpConnection& connection, Responder& responder,
                                   const bool& handler_done) {
  auto& socket = connection.stream.socket();
  for (;;) {
    auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, kUseTuple);
    if (handler_done) {
      co_return;
    }
    if (ec) {
      responder.mark_client_gone();
      co_return;
    }
    char byte = 0;
    const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) {
      co_return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      continue;
    }
    responder.mark_client_gone();
    co_return;
  }
}

// Runs the handler with the client watch beside it. True iff the connection may serve another
// request.
asio::awaitable<bool> run_handler(HttpConnection& connection, const HttpHandler& handler,
                                  const HttpRequest& request) {
  Responder responder(connection, request);
  connection.phase = HttpConnection::Phase::kHandling;
  connection.responder = &responder;

  bool handler_done = false;
  bool watch_done = false;
  asio::steady_timer watch_exit(connection.stream.get_executor(),
                                asio::steady_timer::time_point::max());
  asio::co_spawn(connection.stream.get_executor(),
                 watch_client(connection, responder, handler_done),
                 [&watch_done, &watch_exit](std::exception_ptr error) {
                   if (error) {
                     spdlog::error("http: client watch failed unexpectedly");
                   }
                   watch_done = true;
                   watch_exit.cancel();
                 });

  try {
    co_await handler(request, responder);
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} threw: {}", std::string(request.method_string()),
                  std::string(request.target()), e.what());
  }

  handler_done = true;
  if (!watch_done) {
    boost::system::error_code ignored;
    connection.stream.socket().cancel(ignored);
    co_await watch_exit.async_wait(kUseTuple);
  }
  connection.responder = nullptr;

  if (!responder.started() && !responder.client_gone()) {
    spdlog::error("http: handler for {} {} returned without a response",
                  std::string(request.method_string()), std::string(request.target()));
    const ApiError error{"The server had an error while processing your request.", "server_error",
                         std::nullopt, std::nullopt};
    co_await responder.send_error(http::status::internal_server_error, error);
  }
  co_return responder.complete() && responder.keep_alive();
}

}  // namespace

void HttpConnection::close_now() {
  if (responder != nullptr) {
    responder->mark_client_gone();
  }
  stream.close();
}

asio::awaitable<void> close_gracefully(beast::tcp_stream& stream) {
  auto& socket = stream.socket();
  if (!socket.is_open()) {
    co_return;
  }
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  if (!ec) {
    stream.expires_after(kLingerTimeout);
    std::array<char, 4096> sink;
    size_t drained = 0;
    while (drained < kLingerMaxBytes) {
      auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(sink), kUseTuple);
      if (read_ec) {
        break;
      }
      drained += n;
    }
  }
  stream.close();
}

asio::awaitable<void> serve_connection(HttpConnection& connection, const HttpHandler& handler) {
  const HttpServerOptions& options = connection.options;
  auto& stream = connection.stream;
  for (bool first = true;; first = false) {
    connection.phase = HttpConnection::Phase::kIdle;
    if (connection.close_requested) {
      break;
    }
    ReadResult read = co_await read_request(connection, first);
    if (read.kind == ReadResult::Kind::kGone) {
      break;  // the client left, sent nothing in time, or stop() closed us
    }
    if (read.kind == ReadResult::Kind::kError) {
      HttpResponse response = protocol_error_response(options, read);
      response.keep_alive(false);
      stream.expires_after(options.write_timeout);
      co_await http::async_write(stream, response, kUseTuple);
      break;  // never read on after a protocol error: the rest could be a smuggled request
    }
    const bool keep_alive = co_await run_handler(connection, handler, read.request);
    if (!keep_alive) {
      break;
    }
  }
  connection.phase = HttpConnection::Phase::kClosing;
  if (connection.close_requested) {
    stream.close();  // the server is stopping: no lingering (see close_gracefully())
  } else {
    co_await close_gracefully(stream);
  }
}

asio::awaitable<void> refuse_connection(tcp::socket socket, const HttpServerOptions& options) {
  beast::tcp_stream stream(std::move(socket));
  HttpResponse response =
      error_response(http::status::service_unavailable,
                     {"The server is at its connection limit (" +
                          std::to_string(options.max_connections) + "); retry shortly.",
                      "server_error", std::nullopt, "too_many_connections"});
  response.keep_alive(false);
  response.set(http::field::retry_after, "1");
  stream.expires_after(options.write_timeout);
  co_await http::async_write(stream, response, kUseTuple);
  co_await close_gracefully(stream);
}

}  // namespace sheepdog::server
