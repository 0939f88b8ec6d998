// A response whose body is read incrementally: the head (status, headers) is available at once,
// the body arrives chunk by chunk as the upstream sends it, so SSE can be relayed without
// buffering. Made by a Transport's open_stream() (transport.h): UpstreamClient's reads the
// pooled connection; another transport hands in its own BodySource (body_source.h).
//
// Not thread-safe; used from the client's thread only. REQUIRES: the UpstreamClient that made it
// outlives it. The connection returns to the pool only if the body was read to its end and the
// exchange ended cleanly with keep-alive; destroying the stream earlier, cancel(), a timeout or
// an error close the connection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "upstream/body_source.h"
#include "upstream/http_message.h"

namespace sheepdog::upstream {

// One read from the body.
struct BodyChunk {
  TransportResult transport = TransportResult::kOk;  // not kOk: the stream failed for good
  std::string error;                                 // why, iff transport != kOk
  // Body bytes (after chunked decoding); valid until the next call on the stream. Empty only
  // when `end` is set or on failure.
  std::string_view data;
  // The body is complete; `data` may still hold its last bytes. No further reads.
  bool end = false;

  bool ok() const { return transport == TransportResult::kOk; }
};

class ResponseStream {
 public:
  ResponseStream();  // an empty stream, as if the request failed with kCancelled
  // A stream with this head whose body `body` yields; null: no body to read (a failed request,
  // whose head says why, or one without a body).
  ResponseStream(UpstreamResponse head, std::unique_ptr<BodySource> body);
  ResponseStream(ResponseStream&& other) noexcept;
  ResponseStream& operator=(ResponseStream&& other) noexcept;
  ~ResponseStream();

  // The outcome of the request and the response head; head().body is always empty. If
  // !head().ok() there is no body to read.
  const UpstreamResponse& head() const { return head_; }
  bool ok() const { return head_.ok(); }

  // Reads the next piece of the body: whatever the upstream has sent since the last call (up to
  // the client's stream_chunk_bytes), waiting for at least one byte. The first body bytes must
  // arrive before the first-byte deadline, later ones before the between-chunks deadline, all
  // before the attempt deadline; a miss is kTimeout. Cancellation through the coroutine's
  // cancellation slot (terminal) or cancel() is kCancelled. Once a chunk is not ok() or has
  // `end`, further calls return the same ending without I/O.
  boost::asio::awaitable<BodyChunk> next();

  // Reads the rest of the body into one string, for error responses whose body is needed to
  // classify them. Stops at max_bytes: the body is then truncated (transport still kOk) and the
  // connection closed rather than drained. Returns the head with the body filled in; transport
  // reports a failure while reading.
  boost::asio::awaitable<UpstreamResponse> read_all(size_t max_bytes);

  // Aborts the exchange: closes the connection (a pending next() completes with kCancelled) and
  // keeps it out of the pool. Safe to call at any time, also from another coroutine on the same
  // thread while next() is pending. Idempotent.
  void cancel();

  // The body has been read to its end.
  bool finished() const;

 private:
  boost::asio::awaitable<BodyChunk> next_impl();
  // What next() returns once the stream has ended (or never started).
  BodyChunk ending() const;

  UpstreamResponse head_;
  std::unique_ptr<BodySource> state_;  // null iff there is no body to read
};

}  // namespace sheepdog::upstream
