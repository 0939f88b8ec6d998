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
#include "gateway/stream_gate.h"

namespace sheepdog::gateway {

struct RelayResult {
  bool client_gone = false;
  std::optional<ErrorKind> failure;  // the upstream failed mid-stream
  bool upstream_event = false;       // ...by sending an error event of its own (relayed as is)
  std::string detail;
  Duration upstream{};      // time spent waiting for upstream reads
  Duration client_write{};  // time spent writing to the client
  providers::TokenUsage usage;
};

// REQUIRES: attempt succeeded as a stream (decoder and stream set, first_bytes non-empty) and
// sink.start_stream() succeeded. Honours terminal cancellation of the calling coroutine.
boost::asio::awaitable<RelayResult> relay_stream(AttemptResult& attempt, ClientSink& sink,
                                                 const Clock& clock);

// The same relay through a StreamGate, for an answer that is to be validated (policy
// tool_validation.streams): what the gate lets through goes out as it arrives, the response
// head with it; the rest waits in the gate until the stream is over and the caller has
// validated the assembled answer (request_run.cc sends it, retries, or fails the request).
//
// Unlike relay_stream, the head may not have gone out when the upstream breaks off: then
// nothing is written, and the caller treats it as an ordinary failed attempt that may be
// retried. Once the head is out, a break ends the stream as relay_stream does: what the gate
// holds, then an error event (unless the upstream sent its own), no [DONE].
struct GatedRelay {
  RelayResult relay;
  bool started = false;   // the head went out (with what the gate let through)
  TimePoint head_sent{};  // when the head went out, if it did
};

// What the gate holds is in memory whole: past `max_held` bytes (0: no bound) the stream is
// abandoned as response_too_large, like a buffered answer over its cap.
//
// REQUIRES: attempt succeeded as a stream. `head` goes out with the first bytes the gate lets
// through. Honours terminal cancellation of the calling coroutine.
boost::asio::awaitable<GatedRelay> relay_gated(AttemptResult& attempt, StreamGate& gate,
                                               size_t max_held, ResponseHead head,
                                               ClientSink& sink, const Clock& clock);

}  // namespace sheepdog::gateway
