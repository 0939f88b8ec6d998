// A reusable HTTP/1.1 server over Beast and C++20 coroutines, used by the gateway and the mock.
//
// Threading: `threads` io threads, each running its OWN io_context with its own acceptor. The
// acceptors share ONE listening socket (bound once, without SO_REUSEPORT, then dup()ed into each
// thread's acceptor): each thread accepts on its own io_context and a connection lives on that
// thread for its whole life (no cross-thread handoff, no strands, no locks on the request path),
// while a port another process holds makes listen() fail with "Address already in use". With
// SO_REUSEPORT on every acceptor, as before, a second `sheepdog serve` of the same user bound the
// same port silently and the kernel split connections between the two processes. Whichever
// thread is free accepts first, so a busy thread does not take new connections from an idle one.
//
// Per connection: one coroutine reads a request (request_reader.h: header and body limits and
// timeouts, trailers bounded, smuggling-prone framing refused), runs the handler, writes the
// response, and loops while keep-alive holds; between requests it waits at most `idle_timeout`
// for the next one, and a new connection at most `header_timeout` for its first byte. Protocol
// errors get a JSON error and a close: 400 (malformed HTTP), 408 (header or body too slow), 413
// (body too large, refused on Content-Length before the body is read), 431 (header too large),
// 501 (a transfer coding other than chunked), 503 (beyond `max_connections`); a client that never
// sends a byte is simply disconnected. The error's shape is OpenAI's unless `protocol_error`
// builds another for the request's target (the gateway answers /v1/messages in Anthropic's).
//
// Failures: no exception leaves an io thread. One escaping a completion handler is caught around
// io_context::run(), logged, and the thread runs on; the connection whose handler threw is
// destroyed with it.
//
// Shutdown: stop() closes the acceptors and idle connections, lets in-flight requests finish for
// up to `drain_timeout` (their responses carry `Connection: close`), then cancels the rest
// (Responder::client_gone() turns true and its cancellation slot fires) and closes their sockets.
// run() returns once every thread has no more work, or shortly after that forced close.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "server/http_error.h"
#include "server/http_responder.h"
#include "server/http_types.h"

namespace sheepdog::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 address literal
  uint16_t port = 0;               // 0 = any free port; see HttpServer::port()
  unsigned threads = 0;            // 0 = std::thread::hardware_concurrency()
  size_t max_body_bytes = 4 * 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  Duration header_timeout = seconds(10);  // from the request's first byte to its last header
  Duration body_timeout = seconds(30);    // for the whole body, after the header
  Duration idle_timeout = seconds(60);    // waiting for the next request on a kept-alive link
  Duration write_timeout = seconds(30);   // for each write, so a reader that stalls is dropped
  size_t max_connections = 10000;         // across all threads
  Duration drain_timeout = seconds(10);
  // Shapes the server's protocol errors for a request `target` ("" when the request line could
  // not be read); null: OpenAI's envelope (http_error.h). Called on io threads concurrently.
  std::function<HttpResponse(http::status, const ApiError&, std::string_view target)>
      protocol_error;

  // Ok, or the first invalid field named with its fix.
  Status validate() const;
  // `threads`, with 0 resolved.
  unsigned resolved_threads() const;
};

// Called for every request, on the io thread that owns the connection; it must be safe to call
// concurrently from all threads. It answers through the Responder (see http_responder.h). If it
// returns without answering while the client is still there, the server sends a 500. An
// exception escaping it is logged and treated the same way.
using HttpHandler = std::function<asio::awaitable<void>(const HttpRequest&, Responder&)>;

class HttpServer {
 public:
  // REQUIRES: options.validate() is ok.
  HttpServer(HttpServerOptions options, HttpHandler handler);
  // REQUIRES: run() is not executing (call stop() and let run() return first). Coroutines still
  // pending (only after a forced stop) are destroyed here, so the handler's captures must
  // outlive the server.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds every acceptor and starts accepting (connections are served once run() runs). Returns
  // an error naming the address if any bind fails. REQUIRES: called once, before run().
  Status listen();
  // The bound port (the real one when options.port was 0). REQUIRES: listen() succeeded.
  uint16_t port() const { return port_; }
  const HttpServerOptions& options() const { return options_; }

  // Runs the io threads (the calling thread is one of them) and blocks until the server has
  // stopped. REQUIRES: listen() succeeded; called at most once.
  void run();

  // Starts the graceful shutdown described above. Thread-safe, idempotent, non-blocking; may be
  // called before run(), from a handler or from any other thread.
  void stop();

  // Makes SIGINT and SIGTERM call stop(), then `on_signal` if set (e.g. to print a line). The
  // handlers run on an io thread while run() is executing. REQUIRES: before run().
  void stop_on_signals(std::function<void(int signal_number)> on_signal = {});
  // Makes each SIGHUP call `handler` on io thread 0 (it blocks that thread while it runs; an
  // exception from it is logged) until the server stops. Without this, SIGHUP is left at its
  // default, which ends the process. REQUIRES: listen() succeeded; before run().
  void on_hangup(std::function<void()> handler);

  // Connections being served now (excluding those refused with 503), and since start.
  size_t active_connections() const { return active_.load(std::memory_order_relaxed); }
  uint64_t accepted_connections() const { return accepted_.load(std::memory_order_relaxed); }

 private:
  struct Worker;

  static void run_worker(Worker& worker);
  asio::awaitable<void> accept_loop(Worker& worker);
  asio::awaitable<void> session(Worker& worker, asio::ip::tcp::socket socket);
  void begin_stop(Worker& worker);
  void wait_for_hangup(Worker& worker);
  void force_close(Worker& worker);

  const HttpServerOptions options_;
  const HttpHandler handler_;
  std::atomic<size_t> active_{0};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<bool> stop_requested_{false};
  uint16_t port_ = 0;
  std::function<void(int)> on_signal_;
  std::function<void()> on_hangup_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace sheepdog::server
