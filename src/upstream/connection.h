// One HTTP/1.1 connection to an upstream origin, plain TCP or TLS, and the coroutine that opens
// it (DNS, TCP connect, TLS handshake with certificate and host name verification). Also the
// mapping from I/O error codes to TransportResult, shared by the buffered and streaming paths.
//
// Not thread-safe: a Connection belongs to one coroutine at a time (the pool hands it over).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <variant>

#include "core/clock.h"
#include "upstream/http_message.h"

namespace sheepdog::upstream {

namespace asio = boost::asio;
namespace beast = boost::beast;

// Deadlines for socket operations. Asio timers run on the real steady clock; the injectable
// Clock is only for pool bookkeeping (idle expiry), which tests drive by hand.
using IoClock = std::chrono::steady_clock;
using IoDeadline = IoClock::time_point;

class Connection {
 public:
  using PlainStream = beast::tcp_stream;
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;

  Connection(Origin origin, PlainStream stream);
  Connection(Origin origin, TlsStream stream);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const Origin& origin() const { return origin_; }
  // The TCP layer under either stream: deadlines are set and the socket closed here.
  beast::tcp_stream& tcp();
  // Calls f(PlainStream&) or f(TlsStream&).
  template <typename F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), stream_);
  }
  // Bytes read past the end of the previous message. Belongs to the connection, not the request.
  beast::flat_buffer& buffer() { return buffer_; }

  // Cheap check before reusing an idle connection: false if the peer has closed it (or sent
  // bytes nobody asked for). Does not block.
  bool idle_and_open();
  // Closes the socket; pending operations complete with operation_aborted. Idempotent.
  void close();
  bool is_open();

  // Pool bookkeeping.
  TimePoint idle_since{};
  int exchanges = 0;  // completed request/response pairs

 private:
  Origin origin_;
  std::variant<PlainStream, TlsStream> stream_;
  beast::flat_buffer buffer_;
};

// The outcome of connect().
struct ConnectResult {
  std::unique_ptr<Connection> connection;  // non-null iff transport == kOk
  TransportResult transport = TransportResult::kOk;
  std::string error;
};

// Resolves, connects and (for https) handshakes, all before `deadline`. Every failure, including
// a timeout, is kConnectFailed (nothing was sent, so the caller may always retry) except
// cancellation through the coroutine's cancellation slot, which is kCancelled. `tls` is used
// iff origin.tls and must then be non-null; it must outlive the connection.
asio::awaitable<ConnectResult> connect(asio::any_io_executor executor, asio::ssl::context* tls,
                                       const Origin& origin, IoDeadline deadline);

// How an I/O error after the connection was established ends an exchange: the stream timeout
// is kTimeout, caller cancellation kCancelled, a message over a limit (body, header, trailer)
// kResponseTooLarge, bytes that are not HTTP kMalformed, anything else (EOF, reset)
// kConnectionReset. `cancelled` is the caller's cancellation state.
TransportResult exchange_failure(const boost::system::error_code& ec, bool cancelled);

// Runs `inner` with asio's throw-if-cancelled turned off, then restores the caller's setting.
// Asio coroutines by default throw operation_aborted at the next co_await once cancelled; the
// client's calls report cancellation as kCancelled instead.
template <typename T>
asio::awaitable<T> without_cancellation_throw(asio::awaitable<T> inner) {
  const bool previous = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  T result = co_await std::move(inner);
  co_await asio::this_coro::throw_if_cancelled(previous);
  co_return result;
}

}  // namespace sheepdog::upstream
