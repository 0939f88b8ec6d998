#include "gateway/attempt.h"

#include <algorithm>

namespace sheepdog::gateway {
namespace {

// How much of an error body is read from a stream that answered with an error status: enough
// for the classifier and for relaying a client error verbatim.
constexpr size_t kErrorBodyLimit = size_t{64} << 10;

AttemptOutcome transport_failure(TransportResult transport) {
  AttemptResponse r;
  r.transport = transport;
  return classify(r);
}

// Classifies an answered (or failed) exchange and reads its pushback. An error body loses any
// key it echoes once classified (the classifier's hints never contain one).
void classify_response(AttemptResult& result, const Clock& clock) {
  if (!result.response.ok()) {
    result.outcome = transport_failure(result.response.transport);
    result.detail = result.response.error;
    return;
  }
  result.outcome = classify(upstream::attempt_response(result.response));
  if (!result.outcome.succeeded()) {
    result.pushback = response_pushback(result.response, clock.wall_now());
    result.redaction.apply(result.response.body);
  }
}

// The key in the client's Authorization header ("Bearer <key>"), if the deployment forwards it.
std::string forwarded_client_key(const Deployment& deployment,
                                 const providers::EncodeInput& input) {
  const bool forwards = input.api_key.empty() && deployment.target.api_key.empty() &&
                        deployment.target.forward_client_key;
  std::string_view key = forwards ? input.client_authorization : std::string_view();
  if (key.size() > 7 && upstream::iequals(key.substr(0, 7), "bearer ")) {
    key.remove_prefix(7);
  }
  while (!key.empty() && key.front() == ' ') {
    key.remove_prefix(1);
  }
  return std::string(key);
}

}  // namespace

void Redaction::apply(std::string& text) const {
  if (keys != nullptr) {
    keys->redact(text, client_key);
  } else if (!client_key.empty()) {
    KeyRedactor().redact(text, client_key);
  }
}

std::optional<Duration> response_pushback(const upstream::UpstreamResponse& response,
                                          WallTime now) {
  PushbackHeaders headers = upstream::pushback_headers(response.headers);
  if (response.status != 429) {
    headers.ratelimit_reset_requests = {};
    headers.ratelimit_reset_tokens = {};
  }
  return parse_pushback(headers, now);
}

boost::asio::awaitable<AttemptResult> run_attempt(upstream::Transport& client,
                                                  const Deployment& deployment,
                                                  providers::EncodeInput input,
                                                  AttemptLimits limits, const Clock& clock) {
  if (!deployment.upstream_model.empty()) {
    input.upstream_model = deployment.upstream_model;
  }
  providers::EncodeResult encoded = deployment.provider->encode(input, deployment.target);
  AttemptResult result;
  result.redaction.keys = deployment.redactor;
  result.redaction.client_key = forwarded_client_key(deployment, input);
  if (encoded.error_body) {
    // Not sent: the answer is the 400 the provider made, classified like an upstream's.
    result.response.status = 400;
    result.response.headers.add("content-type", "application/json");
    result.response.body = std::move(*encoded.error_body);
    result.detail = std::move(encoded.detail);
    result.outcome = classify(upstream::attempt_response(result.response));
    co_return result;
  }
  upstream::UpstreamRequest& request = encoded.request;
  request.max_response_body_bytes = limits.max_response_bytes;
  upstream::RequestTimeouts timeouts;
  timeouts.connect = std::min(deployment.connect_timeout, limits.attempt);
  const TimePoint started = clock.now();

  if (!input.stream) {
    timeouts.attempt = limits.attempt;
    result.response = co_await client.send(request, timeouts);
    result.latency = clock.now() - started;
    classify_response(result, clock);
    if (result.outcome.succeeded()) {
      providers::DecodeResult decoded =
          deployment.provider->decode(input.operation, result.response);
      if (decoded.error) {
        result.outcome = AttemptOutcome::failure(*decoded.error);
        result.detail = std::move(decoded.detail);
      } else if (decoded.body) {
        result.response.body = std::move(*decoded.body);
        result.response.headers.set("content-type", "application/json");
      }
      result.usage = decoded.usage;
    }
    co_return result;
  }

  // Streamed: the head and the first event must come within the first-token limit; the stream
  // as a whole within the time left; a silence longer than the attempt timeout is a stall.
  timeouts.attempt = limits.stream_total;
  timeouts.first_byte = limits.first_token;
  timeouts.between_chunks = limits.attempt;
  upstream::ResponseStream stream = co_await client.open_stream(request, timeouts);
  result.response = stream.head();
  if (!stream.ok() || result.response.status < 200 || result.response.status > 299) {
    if (stream.ok()) {
      result.response = co_await stream.read_all(kErrorBodyLimit);
    }
    result.latency = clock.now() - started;
    classify_response(result, clock);
    if (result.outcome.succeeded()) {  // a 1xx/3xx final answer
      result.outcome = AttemptOutcome::failure(ErrorKind::kMalformedResponse);
    }
    co_return result;
  }
  result.decoder = deployment.provider->stream_decoder(input);
  for (;;) {
    upstream::BodyChunk chunk = co_await stream.next();
    if (!chunk.ok()) {
      result.outcome = transport_failure(chunk.transport);
      result.detail = "before the first event: " + chunk.error;
      break;
    }
    const providers::StreamDecoder::Step step =
        result.decoder->feed(chunk.data, result.first_bytes);
    if (step.upstream_error) {
      // An error event before anything reached the client: a failed attempt like any other.
      result.outcome = AttemptOutcome::failure(ErrorKind::kServerError);
      result.detail = "the stream began with an error event";
      break;
    }
    if (step.failed) {
      result.outcome = AttemptOutcome::failure(ErrorKind::kMalformedResponse);
      result.detail = "the stream is not valid server-sent events (or a chunk is not JSON)";
      break;
    }
    if (!result.first_bytes.empty()) {
      result.outcome = AttemptOutcome::success();
      result.stream_done = step.done;
      result.stream = std::move(stream);
      break;
    }
    if (chunk.end) {
      result.outcome = AttemptOutcome::failure(ErrorKind::kMalformedResponse);
      result.detail = "the stream ended before its first event";
      break;
    }
  }
  result.latency = clock.now() - started;
  if (!result.outcome.succeeded()) {
    result.first_bytes.clear();
    result.decoder.reset();
  }
  co_return result;
}

}  // namespace sheepdog::gateway
