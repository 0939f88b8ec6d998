// How a request handler answers: one complete response, or a stream (chunked transfer
// encoding, one flushed chunk per write(), as SSE needs). Also tells the handler when the client
// has gone away, so it can stop upstream work.
//
// A Responder belongs to one request and is used from that request's handler only (on the
// connection's io thread); it is not thread-safe. Every awaitable returns false once the client
// is gone (disconnected, a write failed or timed out, or the server's drain timeout cancelled the
// request); nothing throws for network failures.
#pragma once

#include <boost/asio/cancellation_signal.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>
#include <cstddef>
#include <string_view>

#include "server/http_error.h"
#include "server/http_types.h"

namespace sheepdog::server {

struct HttpConnection;  // internal to the server (http_connection.h)

class Responder {
 public:
  enum class AbortMode {
    kClose,  // FIN: the client sees the response end early (a truncated stream)
    kReset,  // RST (SO_LINGER 0): the client sees "connection reset by peer"
  };

  // Made by the server for each request. `connection` and `request` outlive the Responder.
  Responder(HttpConnection& connection, const HttpRequest& request);
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  // Sends a complete response: version, keep-alive and Content-Length are set here. True iff it
  // was written. REQUIRES: !started().
  asio::awaitable<bool> send(HttpResponse response);
  // send(error_response(status, error)).
  asio::awaitable<bool> send_error(http::status status, const ApiError& error);

  // Sends the head of a streamed response (`Transfer-Encoding: chunked` for HTTP/1.1; for an
  // HTTP/1.0 client the body is delimited by closing the connection). `headers` are copied.
  // REQUIRES: !started().
  asio::awaitable<bool> start_stream(http::status status, const http::fields& headers = {});
  // Sends `chunk` as one chunk and flushes it. An empty chunk sends nothing (a zero-length
  // chunk would end the body). REQUIRES: streaming (start_stream() succeeded, not finished).
  asio::awaitable<bool> write(std::string_view chunk);
  // Ends the stream (the terminating zero-length chunk). REQUIRES: streaming.
  asio::awaitable<bool> finish();

  // Ends the connection now without completing the response (fault injection, or a handler
  // that cannot go on mid-stream). The connection is not reused.
  void abort(AbortMode mode);

  // True once the client is known to be gone; see the class comment.
  bool client_gone() const { return gone_; }
  // Emits asio::cancellation_type::terminal when the client goes away. Bind it to the waits
  // that should end early, e.g.
  //   timer.async_wait(asio::bind_cancellation_slot(r.cancellation_slot(), token));
  // A slot holds one handler at a time: bind it to one pending operation at a time, and check
  // client_gone() before starting a wait (a signal emitted while nothing is bound is not kept).
  // Asio leaves the operation's handler installed after it completes, pointing into the
  // operation's I/O object: call cancellation_slot().clear() once the wait is over, before
  // that object is destroyed, or a later emit would touch freed memory.
  asio::cancellation_slot cancellation_slot() { return cancel_.slot(); }

  // A response head went out (send() or start_stream()), or abort() was called.
  bool started() const { return state_ != State::kNone; }
  // A complete response went out: send() or finish() succeeded.
  bool complete() const { return state_ == State::kComplete; }
  bool streaming() const { return state_ == State::kStreaming; }
  // True iff, after a complete response, the connection stays open for the next request.
  bool keep_alive() const { return keep_alive_; }
  // The io thread (in [0, threads)) serving this request: lets a handler keep per-thread state,
  // such as a random source, without locks.
  size_t worker_index() const;

  // For the server: the client went away; sets client_gone() and emits the cancellation.
  void mark_client_gone();

 private:
  enum class State { kNone, kStreaming, kComplete, kAborted, kFailed };

  // Whether the connection may stay open after this response.
  bool may_keep_alive() const;
  // Writes `buffers` under the write timeout; on failure marks the client gone.
  template <class ConstBufferSequence>
  asio::awaitable<bool> write_buffers(const ConstBufferSequence& buffers);

  HttpConnection& connection_;
  const unsigned version_;
  const bool request_keep_alive_;
  State state_ = State::kNone;
  bool keep_alive_ = false;
  bool gone_ = false;
  asio::cancellation_signal cancel_;
};

}  // namespace sheepdog::server
