// Internal to HttpServer: one accepted connection and the coroutine that serves it (read a
// request within the limits, run the handler while watching for the client to leave, loop on
// keep-alive, close politely). Only http_server.cc and http_responder.cc use this header.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstddef>

#include "server/http_server.h"

namespace sheepdog::server {

// Size of a connection's read buffer for `options`: the header limit plus room for one read
// beyond it. The body is consumed as it is parsed, so the buffer only ever holds a header, a
// chunk header or a trailer section; bounding it bounds all three (request_reader.cc).
size_t read_buffer_limit(const HttpServerOptions& options);

struct HttpConnection {
  enum class Phase {
    kIdle,      // waiting for the first byte of a request
    kReading,   // reading a request's header and body
    kHandling,  // the handler runs; `responder` is set
    kClosing,   // lingering before the close
  };

  HttpConnection(asio::ip::tcp::socket socket, const HttpServerOptions& server_options,
                 size_t worker)
      : stream(std::move(socket)),
        buffer(read_buffer_limit(server_options)),
        options(server_options),
        worker_index(worker) {}

  // Closes the socket now; a handler still running sees client_gone(). Used by stop().
  void close_now();

  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  const HttpServerOptions& options;
  const size_t worker_index;
  Phase phase = Phase::kIdle;
  // Set by stop(): answer the current request with `Connection: close`, then close at once
  // (without the lingering of close_gracefully(), so shutdown is not held up by clients).
  bool close_requested = false;
  Responder* responder = nullptr;  // non-null iff phase == kHandling
};

// Serves `connection` until it closes. Expected network errors end it quietly; it throws only
// for bugs (which the caller's co_spawn completion handler logs).
asio::awaitable<void> serve_connection(HttpConnection& connection, const HttpHandler& handler);

// Answers a connection refused for being over max_connections (503), then closes it.
asio::awaitable<void> refuse_connection(asio::ip::tcp::socket socket,
                                        const HttpServerOptions& options);

// Half-closes `stream`, reads and discards what the client still sends (bounded in time and
// bytes) and closes it. Closing with unread input makes the kernel answer with RST, which can
// destroy a response the client has not read yet (an error response sent before the request
// body was consumed, for instance).
asio::awaitable<void> close_gracefully(beast::tcp_stream& stream);

}  // namespace sheepdog::server
