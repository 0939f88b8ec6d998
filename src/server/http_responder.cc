#include "server/http_responder.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include "server/http_connection.h"

namespace sheepdog::server {
namespace {
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
}  // namespace

Responder::Responder(HttpConnection& connection, const HttpRequest& request)
    : connection_(connection),
      version_(request.version()),
      request_keep_alive_(request.keep_alive()) {}

size_t Responder::worker_index() const { return connection_.worker_index; }

bool Responder::may_keep_alive() const {
  return request_keep_alive_ && !connection_.close_requested;
}

void Responder::mark_client_gone() {
  if (gone_) {
    return;
  }
  gone_ = true;
  cancel_.emit(asio::cancellation_type::terminal);
}

template <class ConstBufferSequence>
asio::awaitable<bool> Responder::write_buffers(const ConstBufferSequence& buffers) {
  auto& stream = connection_.stream;
  stream.expires_after(connection_.options.write_timeout);
  auto [ec, n] = co_await asio::async_write(stream, buffers, kUseTuple);
  stream.expires_never();
  if (ec) {
    state_ = State::kFailed;
    mark_client_gone();
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Responder::send(HttpResponse response) {
  if (gone_ || state_ != State::kNone) {
    co_return false;
  }
  response.version(version_);
  keep_alive_ = may_keep_alive() && response.keep_alive();
  response.keep_alive(keep_alive_);
  response.prepare_payload();
  auto& stream = connection_.stream;
  stream.expires_after(connection_.options.write_timeout);
  auto [ec, n] = co_await http::async_write(stream, response, kUseTuple);
  stream.expires_never();
  if (ec) {
    state_ = State::kFailed;
    mark_client_gone();
    co_return false;
  }
  state_ = State::kComplete;
  co_return true;
}

// Not a coroutine: GCC 12 mishandles temporaries bound to coroutine parameters inside a
// co_await full-expression, so the response is built here and handed over as a value.
asio::awaitable<bool> Responder::send_error(http::status status, const ApiError& error) {
  return send(error_response(status, error, version_));
}

asio::awaitable<bool> Responder::start_stream(http::status status, const http::fields& headers) {
  if (gone_ || state_ != State::kNone) {
    co_return false;
  }
  http::response<http::empty_body> head{status, version_};
  for (const auto& field : headers) {
    head.insert(field.name_string(), field.value());
  }
  // HTTP/1.0 has no chunked encoding: the body runs until the connection closes.
  const bool chunked = version_ >= 11;
  keep_alive_ = chunked && may_keep_alive() && head.keep_alive();
  head.keep_alive(keep_alive_);
  head.chunked(chunked);
  http::response_serializer<http::empty_body> serializer{head};
  auto& stream = connection_.stream;
  stream.expires_after(connection_.options.write_timeout);
  auto [ec, n] = co_await http::async_write_header(stream, serializer, kUseTuple);
  stream.expires_never();
  if (ec) {
    state_ = State::kFailed;
    mark_client_gone();
    co_return false;
  }
  state_ = State::kStreaming;
  co_return true;
}

asio::awaitable<bool> Responder::write(std::string_view chunk) {
  if (gone_ || state_ != State::kStreaming) {
    co_return false;
  }
  if (chunk.empty()) {
    co_return true;
  }
  const asio::const_buffer data(chunk.data(), chunk.size());
  if (version_ < 11) {
    co_return co_await write_buffers(data);
  }
  // Named, not a temporary inside the co_await: GCC 12 can destroy such temporaries twice.
  const auto framed = http::make_chunk(data);
  co_return co_await write_buffers(framed);
}

asio::awaitable<bool> Responder::finish() {
  if (gone_ || state_ != State::kStreaming) {
    co_return false;
  }
  if (version_ >= 11) {
    const auto last = http::make_chunk_last();
    const bool written = co_await write_buffers(last);
    if (!written) {
      co_return false;
    }
  }
  state_ = State::kComplete;
  co_return true;
}

void Responder::abort(AbortMode mode) {
  state_ = State::kAborted;
  keep_alive_ = false;
  auto& socket = connection_.stream.socket();
  boost::system::error_code ignored;
  if (mode == AbortMode::kReset && socket.is_open()) {
    socket.set_option(asio::socket_base::linger(true, 0), ignored);
  } else {
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  }
  connection_.stream.close();
}

}  // namespace sheepdog::server
