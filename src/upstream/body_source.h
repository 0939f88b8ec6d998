// Where a ResponseStream's body comes from: the pooled connection the head was read on
// (response_stream_state.h), or, for another Transport (transport.h) such as a test's scripted
// upstream, anything that yields chunks. ResponseStream owns the common rules (cancellation,
// the ending repeated once the body is over, read_all); a source only reads.
//
// Used from the stream's thread only. The fields say how the body ended; a source sets them
// through finish() and fail() and never clears them.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <string>

#include "upstream/http_message.h"

namespace sheepdog::upstream {

struct BodyChunk;

class BodySource {
 public:
  virtual ~BodySource() = default;

  // Reads the next piece of the body. REQUIRES: !ended() and no cancellation requested (the
  // stream checks both first). `cancel_state` is the calling coroutine's, for telling a
  // cancellation from another failure. On failure the source calls fail() and returns a chunk
  // whose transport is not kOk; a chunk with `end` follows a call to finish().
  virtual boost::asio::awaitable<BodyChunk> read(
      const boost::asio::cancellation_state& cancel_state) = 0;

  // Aborts the exchange: a pending read() completes with kCancelled, and nothing is reused.
  // Called at most once, while !ended().
  virtual void abort() = 0;

  // The body is complete.
  virtual void finish() { finished = true; }
  // The body failed for good.
  virtual void fail(TransportResult transport, std::string message) {
    failure = transport;
    error = std::move(message);
  }

  bool ended() const { return finished || failure != TransportResult::kOk; }

  bool finished = false;                           // body read to its end
  TransportResult failure = TransportResult::kOk;  // not kOk: failed
  std::string error;
  bool cancel_requested = false;
};

}  // namespace sheepdog::upstream
