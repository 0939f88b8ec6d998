#include "gateway/stream_relay.h"

#include "gateway/error_mapping.h"

namespace sheepdog::gateway {
namespace {

ErrorKind transport_kind(TransportResult transport) {
  switch (transport) {
    case TransportResult::kTimeout:
      return ErrorKind::kTimeout;
    case TransportResult::kCancelled:
      return ErrorKind::kCancelled;
    case TransportResult::kConnectFailed:
      return ErrorKind::kConnectFailed;
    case TransportResult::kResponseTooLarge:
      return ErrorKind::kResponseTooLarge;
    case TransportResult::kMalformed:
      return ErrorKind::kMalformedResponse;
    case TransportResult::kConnectionReset:
    case TransportResult::kOk:
      break;
  }
  return ErrorKind::kConnectionReset;
}

std::string interruption_message(ErrorKind kind) {
  return std::string("The upstream stream was interrupted (") + std::string(to_string(kind)) +
         ") before it completed; the answer above is incomplete.";
}

// Writes to the client, adding the time it took to `spent`. The caller keeps `bytes` alive.
boost::asio::awaitable<bool> timed_write(ClientSink& sink, std::string_view bytes,
                                         const Clock& clock, Duration& spent) {
  const TimePoint start = clock.now();
  const bool ok = co_await sink.write(bytes);
  spent += clock.now() - start;
  co_return ok;
}

// Ends the client's stream, adding the time it took to `result.client_write`.
boost::asio::awaitable<void> timed_finish(ClientSink& sink, const Clock& clock,
                                          RelayResult& result) {
  const TimePoint start = clock.now();
  if (!co_await sink.finish()) {
    result.client_gone = true;
  }
  result.client_write += clock.now() - start;
}

// Sends `bytes` to the client, the head first if it has not gone out yet.
boost::asio::awaitable<bool> deliver(std::string_view bytes, ClientSink& sink, const Clock& clock,
                                     ResponseHead* head, GatedRelay& r) {
  if (!r.started) {
    r.head_sent = clock.now();
    const bool started = co_await sink.start_stream(std::move(*head));
    r.relay.client_write += clock.now() - r.head_sent;
    if (!started) {
      co_return false;
    }
    r.started = true;
  }
  co_return co_await timed_write(sink, bytes, clock, r.relay.client_write);
}

// The relay proper. Without a gate every decoded event goes out at once (the head is already
// out); with one, only what the gate lets through, and the head with the first of it.
boost::asio::awaitable<void> pump(AttemptResult& attempt, StreamGate* gate, size_t max_held,
                                  ResponseHead* head, ClientSink& sink, const Clock& clock,
                                  GatedRelay& r) {
  RelayResult& result = r.relay;
  bool done = attempt.stream_done;
  std::string forward;
  std::string out = std::move(attempt.first_bytes);
  bool stop = false;  // the stream failed after `out`: send what it holds, then stop
  for (;;) {
    const std::string* bytes = &out;
    if (gate != nullptr) {
      forward.clear();
      gate->feed(out, forward);
      bytes = &forward;
      if (max_held != 0 && gate->held().size() > max_held && !done && !stop) {
        // A held answer is in memory whole until it is validated: past the cap it fails like
        // a buffered answer that is too large (fallback, not retried on this deployment).
        result.failure = ErrorKind::kResponseTooLarge;
        result.detail = "the answer held for validation passed " + std::to_string(max_held) +
                        " bytes (server.upstream_max_response_bytes)";
        stop = true;
        attempt.stream.cancel();
      }
    }
    if (!bytes->empty() && !co_await deliver(*bytes, sink, clock, head, r)) {
      result.client_gone = true;
      break;
    }
    if (done || stop) {
      break;
    }
    const TimePoint read_start = clock.now();
    upstream::BodyChunk chunk = co_await attempt.stream.next();
    result.upstream += clock.now() - read_start;
    if (!chunk.ok()) {
      const ErrorKind kind = transport_kind(chunk.transport);
      if (kind == ErrorKind::kCancelled || sink.client_gone()) {
        result.client_gone = true;
        break;
      }
      result.failure = kind;
      result.detail = "mid-stream: " + chunk.error;
      break;
    }
    out.clear();
    const providers::StreamDecoder::Step step = attempt.decoder->feed(chunk.data, out);
    if (step.upstream_error) {
      // Its own error event (in `out`) ends the stream; no second one of ours. It is relayed,
      // so it loses any key it echoes first.
      attempt.redaction.apply(out);
      result.failure = ErrorKind::kServerError;
      result.upstream_event = true;
      result.detail = "the upstream sent an error event mid-stream";
      stop = true;
    } else if (step.failed) {
      result.failure = ErrorKind::kMalformedResponse;
      result.detail = "the stream is not valid server-sent events (or a chunk is not JSON)";
      stop = true;
    } else {
      done = step.done;
      if (chunk.end && !done) {
        result.failure = ErrorKind::kMalformedResponse;
        result.detail = "the stream ended without its end-of-stream event";
        stop = true;
      }
    }
  }
  result.usage = attempt.decoder->usage();
  if (result.client_gone) {
    attempt.stream.cancel();
  }
}

// Ends a broken stream for the client: our error event unless the upstream sent its own.
boost::asio::awaitable<void> end_broken(ClientSink& sink, const Clock& clock, RelayResult& result) {
  if (!result.upstream_event) {
    const std::string event =
        stream_error_event(interruption_message(*result.failure), "upstream_stream_interrupted");
    if (!co_await timed_write(sink, event, clock, result.client_write)) {
      result.client_gone = true;
      co_return;
    }
  }
  co_await timed_finish(sink, clock, result);
}

}  // namespace

boost::asio::awaitable<RelayResult> relay_stream(AttemptResult& attempt, ClientSink& sink,
                                                 const Clock& clock) {
  GatedRelay r;
  r.started = true;
  co_await pump(attempt, nullptr, 0, nullptr, sink, clock, r);
  RelayResult& result = r.relay;
  if (result.client_gone) {
    co_return result;
  }
  if (result.failure) {
    co_await end_broken(sink, clock, result);
  } else {
    co_await timed_finish(sink, clock, result);
  }
  co_return result;
}

boost::asio::awaitable<GatedRelay> relay_gated(AttemptResult& attempt, StreamGate& gate,
                                               size_t max_held, ResponseHead head,
                                               ClientSink& sink, const Clock& clock) {
  GatedRelay r;
  co_await pump(attempt, &gate, max_held, &head, sink, clock, r);
  if (r.relay.client_gone || !r.relay.failure || !r.started) {
    co_return r;  // complete (the caller validates and ends it), gone, or retryable unseen
  }
  if (!gate.held().empty() && r.relay.upstream_event) {
    // The upstream's own error event is in the gate: it goes out with what precedes it.
    if (!co_await timed_write(sink, gate.held(), clock, r.relay.client_write)) {
      r.relay.client_gone = true;
      co_return r;
    }
  }
  co_await end_broken(sink, clock, r.relay);
  co_return r;
}

}  // namespace sheepdog::gateway
