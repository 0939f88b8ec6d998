#include "upstream/connection.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <cerrno>
#include <vector>

namespace sheepdog::upstream {
namespace {

using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

// "host:port" for messages, IPv6 in brackets.
std::string where(const Origin& origin) {
  const bool ipv6 = origin.host.find(':') != std::string::npos;
  return (ipv6 ? '[' + origin.host + ']' : origin.host) + ':' + std::to_string(origin.port);
}

ConnectResult connect_failure(TransportResult transport, std::string error) {
  ConnectResult result;
  result.transport = transport;
  result.error = std::move(error);
  return result;
}

struct ResolveResult {
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  bool finished = false;  // false: the deadline or a cancellation came first
};

// getaddrinfo cannot be interrupted and asio's resolver ignores cancellation slots, so the
// resolve runs detached with shared state while this coroutine waits on a timer that the
// completion (or the deadline, or a cancellation) ends. A late completion only touches `state`.
asio::awaitable<ResolveResult> resolve(asio::any_io_executor executor, const Origin& origin,
                                       IoDeadline deadline) {
  struct State {
    explicit State(asio::any_io_executor ex) : resolver(ex), wake(ex) {}
    tcp::resolver resolver;
    asio::steady_timer wake;
    ResolveResult result;
  };
  auto state = std::make_shared<State>(executor);
  state->wake.expires_at(deadline);
  state->resolver.async_resolve(
      origin.host, std::to_string(origin.port),
      [state](const error_code& ec, const tcp::resolver::results_type& results) {
        state->result.ec = ec;
        for (const auto& entry : results) {
          state->result.endpoints.push_back(entry.endpoint());
        }
        state->result.finished = true;
        state->wake.cancel();
      });
  co_await state->wake.async_wait(kAsTuple);
  if (!state->result.finished) {
    state->resolver.cancel();
  }
  co_return state->result;
}

std::string tls_failure_message(const Origin& origin, const error_code& ec, SSL* ssl) {
  std::string message = "TLS handshake with " + where(origin) + " failed: " + ec.message();
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    message += " (";
    message += X509_verify_cert_error_string(verify);
    message += ')';
  }
  return message;
}

}  // namespace

Connection::Connection(Origin origin, PlainStream stream)
    : origin_(std::move(origin)), stream_(std::move(stream)) {}

Connection::Connection(Origin origin, TlsStream stream)
    : origin_(std::move(origin)), stream_(std::move(stream)) {}

beast::tcp_stream& Connection::tcp() {
  return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                    stream_);
}

bool Connection::is_open() { return tcp().socket().is_open(); }

void Connection::close() {
  error_code ignored;
  tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
  tcp().socket().close(ignored);
}

bool Connection::idle_and_open() {
  if (!is_open() || buffer_.size() != 0) {
    return false;
  }
  // An idle HTTP/1.1 connection has nothing to read. A readable socket means the server closed
  // it (EOF, or a TLS close_notify) or broke protocol; either way it must not carry a request.
  char byte;
  const ssize_t n = ::recv(tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

asio::awaitable<ConnectResult> connect(asio::any_io_executor executor, asio::ssl::context* tls,
                                       const Origin& origin, IoDeadline deadline) {
  asio::cancellation_state cancel_state = co_await asio::this_coro::cancellation_state;
  auto cancelled = [&] { return cancel_state.cancelled() != asio::cancellation_type::none; };

  error_code ec;
  const asio::ip::address literal = asio::ip::make_address(origin.host, ec);
  const bool is_ip_literal = !ec;
  std::vector<tcp::endpoint> endpoints;
  if (is_ip_literal) {
    endpoints.emplace_back(literal, origin.port);
  } else {
    ResolveResult resolved = co_await resolve(executor, origin, deadline);
    if (cancelled()) {
      co_return connect_failure(TransportResult::kCancelled, "cancelled");
    }
    if (!resolved.finished) {
      co_return connect_failure(TransportResult::kConnectFailed,
                                "resolve " + origin.host + ": timed out");
    }
    if (resolved.ec || resolved.endpoints.empty()) {
      co_return connect_failure(
          TransportResult::kConnectFailed,
          "resolve " + origin.host + ": " +
              (resolved.ec ? resolved.ec.message() : std::string("no addresses")));
    }
    endpoints = std::move(resolved.endpoints);
  }

  beast::tcp_stream stream(executor);
  stream.expires_at(deadline);
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kAsTuple);
  if (connect_ec) {
    if (cancelled()) {
      co_return connect_failure(TransportResult::kCancelled, "cancelled");
    }
    co_return connect_failure(TransportResult::kConnectFailed,
                              "connect " + where(origin) + ": " +
                                  (connect_ec == beast::error::timeout ? std::string("timed out")
                                                                       : connect_ec.message()));
  }
  // Requests are written in one go and answers awaited: Nagle would only add latency.
  stream.socket().set_option(tcp::no_delay(true), ec);

  ConnectResult result;
  if (!origin.tls) {
    stream.expires_never();
    result.connection = std::make_unique<Connection>(origin, std::move(stream));
    co_return result;
  }

  Connection::TlsStream tls_stream(std::move(stream), *tls);
  SSL* ssl = tls_stream.native_handle();
  // SNI must not carry IP literals (RFC 6066 section 3). OpenSSL's own host/IP check gives
  // precise verify errors ("hostname mismatch") for the failure message.
  if (is_ip_literal) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), origin.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, origin.host.c_str());
    SSL_set1_host(ssl, origin.host.c_str());
  }
  auto [handshake_ec] =
      co_await tls_stream.async_handshake(asio::ssl::stream_base::client, kAsTuple);
  if (handshake_ec) {
    if (cancelled()) {
      co_return connect_failure(TransportResult::kCancelled, "cancelled");
    }
    co_return connect_failure(TransportResult::kConnectFailed,
                              handshake_ec == beast::error::timeout
                                  ? "TLS handshake with " + where(origin) + ": timed out"
                                  : tls_failure_message(origin, handshake_ec, ssl));
  }
  beast::get_lowest_layer(tls_stream).expires_never();
  result.connection = std::make_unique<Connection>(origin, std::move(tls_stream));
  co_return result;
}

TransportResult exchange_failure(const boost::system::error_code& ec, bool cancelled) {
  namespace http = beast::http;
  if (cancelled) {
    return TransportResult::kCancelled;
  }
  if (ec == beast::error::timeout) {
    return TransportResult::kTimeout;
  }
  // Over a limit: deterministic, so not a reset (which would be retried and pull it again).
  if (ec == http::error::body_limit || ec == http::error::header_limit ||
      ec == http::error::buffer_overflow || ec == boost::system::errc::not_enough_memory) {
    return TransportResult::kResponseTooLarge;
  }
  // The peer sent bytes that are not HTTP/1.1. Beast's parse errors share its category;
  // end_of_stream and partial_message (the connection ended) are resets.
  if (ec.category() == http::make_error_code(http::error::bad_version).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return TransportResult::kMalformed;
  }
  return TransportResult::kConnectionReset;
}

}  // namespace sheepdog::upstream
