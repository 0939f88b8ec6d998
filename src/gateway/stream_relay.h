// Relays a streamed answer to the client once its first event has arrived (see attempt.h):
// each upstream read is decoded and written to the client as soon as it completes an event, so
// nothing is buffered beyond one partial event. There is no retry from here on: the client has
// the response head and part of the body.
//
// The stream ends one of three ways:
//   - the end-of-stream event (OpenAI's [DONE]) arrived: relayed, body finished;
//   - the upstream broke off (reset, stall, or a clean close without [DONE], which some peers
//     send when they fail): an OpenAI-shaped error event `data: {"error": {...}}` is written and
//     the body finished without [DONE], so the SDKs raise instead of returning a silently
//     truncated answer. An error event the upstream sent itself is relayed instead of ours;
//   - the client left: the upstream connection is closed (the stream is dropped), nothing more
//     is written.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/error_kind.h"
#include "gateway/attempt.h"
#include "gateway/client_sink.h"

namespace sheepdog::gateway {

struct RelayResult {
  bool client_gone = false;
  std::optional<ErrorKind> failure;  // the upstream failed mid-stream
  std::string detail;
  Duration upstream{};      // time spent waiting for upstream reads
  Duration client_write{};  // time spent writing to the client
  providers::TokenUsage usage;
};

// REQUIRES: attempt succeeded as a stream (decoder and stream set, first_bytes non-empty) and
// sink.start_stream() succeeded. Honours terminal cancellation of the calling coroutine.
boost::asio::awaitable<RelayResult> relay_stream(AttemptResult& attempt, ClientSink& sink,
                                                 const Clock& clock);

}  // namespace sheepdog::gateway
