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

}  // namespace

boost::asio::awaitable<RelayResult> relay_stream(AttemptResult& attempt, ClientSink& sink,
                                                 const Clock& clock) {
  RelayResult result;
  bool done = attempt.stream_done;
  if (!co_await timed_write(sink, attempt.first_bytes, clock, result.client_write)) {
    result.client_gone = true;
  }
  std::string out;
  while (!done && !result.client_gone) {
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
    if (!out.empty() && !co_await timed_write(sink, out, clock, result.client_write)) {
      result.client_gone = true;
      break;
    }
    if (step.upstream_error) {
      result.failure = ErrorKind::kServerError;
      result.detail = "the upstream sent an error event mid-stream";
      done = true;  // its own error event went out; no second one
      break;
    }
    if (step.failed) {
      result.failure = ErrorKind::kMalformedResponse;
      result.detail = "the stream is not valid server-sent events";
      break;
    }
    done = step.done;
    if (chunk.end && !done) {
      result.failure = ErrorKind::kMalformedResponse;
      result.detail = "the stream ended without its end-of-stream event";
      break;
    }
  }
  result.usage = attempt.decoder->usage();
  if (result.client_gone) {
    attempt.stream.cancel();
    co_return result;
  }
  if (result.failure && !done) {
    const std::string event =
        stream_error_event(interruption_message(*result.failure), "upstream_stream_interrupted");
    if (!co_await timed_write(sink, event, clock, result.client_write)) {
      result.client_gone = true;
      co_return result;
    }
  }
  const TimePoint finish_start = clock.now();
  if (!co_await sink.finish()) {
    result.client_gone = true;
  }
  result.client_write += clock.now() - finish_start;
  co_return result;
}

}  // namespace sheepdog::gateway
