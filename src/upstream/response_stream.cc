#include "upstream/response_stream.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include "upstream/response_stream_state.h"

namespace sheepdog::upstream {
namespace {

namespace http = beast::http;

}  // namespace

BodyChunk ResponseStream::ending() const {
  BodyChunk chunk;
  if (state_ == nullptr) {
    chunk.transport = head_.transport;
    chunk.error = head_.error;
    chunk.end = head_.ok();
  } else if (state_->failure != TransportResult::kOk) {
    chunk.transport = state_->failure;
    chunk.error = state_->error;
  } else {
    chunk.end = true;
  }
  return chunk;
}

ResponseStream::ResponseStream() {
  head_.transport = TransportResult::kCancelled;
  head_.error = "empty stream";
}

ResponseStream::ResponseStream(UpstreamResponse head, std::unique_ptr<BodySource> state)
    : head_(std::move(head)), state_(std::move(state)) {}

ResponseStream::ResponseStream(ResponseStream&& other) noexcept = default;
ResponseStream& ResponseStream::operator=(ResponseStream&& other) noexcept = default;
ResponseStream::~ResponseStream() = default;

bool ResponseStream::finished() const { return state_ != nullptr && state_->finished; }

void ResponseStream::cancel() {
  if (state_ == nullptr || state_->ended()) {
    return;
  }
  state_->cancel_requested = true;
  state_->abort();
}

asio::awaitable<BodyChunk> ResponseStream::next() {
  return without_cancellation_throw(next_impl());
}

asio::awaitable<BodyChunk> ResponseStream::next_impl() {
  if (state_ == nullptr || state_->ended()) {
    co_return ending();
  }
  asio::cancellation_state cancel_state = co_await asio::this_coro::cancellation_state;
  // Also catches a caller cancellation that came while the previous read was completing.
  if (state_->cancel_requested || cancel_state.cancelled() != asio::cancellation_type::none) {
    state_->fail(TransportResult::kCancelled, "cancelled");
    co_return ending();
  }
  co_return co_await state_->read(cancel_state);
}

asio::awaitable<BodyChunk> PooledBody::read(const asio::cancellation_state& cancel_state) {
  PooledBody& state = *this;
  Connection& connection = *state.lease.connection();
  Parser& parser = *state.parser;
  for (;;) {
    IoDeadline deadline = state.attempt_deadline;
    if (!state.got_body_bytes) {
      deadline = state.first_byte_deadline;
    } else if (state.between_chunks) {
      deadline = std::min(deadline, IoClock::now() + *state.between_chunks);
    }
    connection.tcp().expires_at(deadline);
    parser.get().body().data = state.chunk.get();
    parser.get().body().size = state.chunk_size;
    // read_some parses what is buffered, or reads the socket once: it returns as soon as the
    // upstream has sent anything, which is what relaying needs (read() would wait for a full
    // buffer).
    auto [ec, consumed] = co_await connection.visit([&](auto& stream) {
      return http::async_read_some(stream, connection.buffer(), parser,
                                   asio::as_tuple(asio::use_awaitable));
    });
    if (ec == http::error::need_buffer) {
      ec = {};  // the chunk buffer is full: return it, the rest comes on the next call
    }
    if (ec) {
      const bool cancelled =
          state.cancel_requested || cancel_state.cancelled() != asio::cancellation_type::none;
      const TransportResult transport = exchange_failure(ec, cancelled);
      std::string message =
          transport == TransportResult::kCancelled ? "cancelled"
          : transport == TransportResult::kTimeout
              ? std::string(state.got_body_bytes ? "timed out reading the body"
                                                 : "no body bytes within the "
                                                   "first-byte timeout")
              : "reading the body from " + connection.origin().key() + ": " + ec.message();
      state.fail(transport, message);
      BodyChunk failed;
      failed.transport = transport;
      failed.error = std::move(message);
      co_return failed;
    }
    const size_t got = state.chunk_size - parser.get().body().size;
    if (got == 0 && !parser.is_done()) {
      continue;  // parsed only framing (a chunk header): read on
    }
    state.got_body_bytes = state.got_body_bytes || got > 0;
    BodyChunk chunk;
    chunk.data = std::string_view(state.chunk.get(), got);
    if (parser.is_done()) {
      chunk.end = true;
      state.finish();
    }
    co_return chunk;
  }
}

asio::awaitable<UpstreamResponse> ResponseStream::read_all(size_t max_bytes) {
  UpstreamResponse response = head_;
  for (;;) {
    BodyChunk chunk = co_await next();
    if (!chunk.ok()) {
      response.transport = chunk.transport;
      response.error = std::move(chunk.error);
      co_return response;
    }
    const size_t room = max_bytes - std::min(max_bytes, response.body.size());
    response.body.append(chunk.data.substr(0, room));
    if (chunk.end) {
      co_return response;
    }
    if (response.body.size() >= max_bytes) {
      cancel();  // enough to classify; the connection is not worth draining
      state_->fail(TransportResult::kCancelled, "body truncated at read_all's limit");
      co_return response;
    }
  }
}

}  // namespace sheepdog::upstream
