// One upstream attempt: encode for the deployment, call it through the thread's pooled client,
// classify the outcome, read the pushback. The retry decision is not made here (see executor.h).
//
// A streamed attempt counts as succeeded once the first event has arrived and been decoded,
// before anything went to the client: until then every failure (a refused head, an error
// status, a first-token timeout, a stream that ends or breaks before its first event) is an
// ordinary failed attempt that may be retried elsewhere. The open stream and the decoder are
// then handed to the relay (stream_relay.h).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/key_redactor.h"
#include "gateway/runtime.h"
#include "providers/provider.h"
#include "resilience/outcome.h"
#include "upstream/response_stream.h"
#include "upstream/transport.h"

namespace sheepdog::gateway {

// Time limits for one attempt, derived from the policy and the time left (see executor.cc).
struct AttemptLimits {
  Duration attempt{};       // non-streamed: the whole exchange; streamed: the head and first event
  Duration first_token{};   // streamed: until the first body bytes (<= attempt)
  Duration stream_total{};  // streamed: the whole stream, relay included (the time left)
  size_t max_response_bytes = 0;  // non-streamed: the largest body accepted (0: the client's)
};

// What a relayed upstream error must not show: every configured provider key and, when the
// deployment forwards it, the client's own key (docs/security.md: a misbehaving upstream may
// echo the credential it was sent). Applied to error bodies and to the upstream's own error
// events in streams; successful answers are the model's content and are not touched.
struct Redaction {
  const KeyRedactor* keys = nullptr;
  std::string client_key;  // empty unless forwarded upstream on this attempt
  void apply(std::string& text) const;
};

struct AttemptResult {
  AttemptOutcome outcome;
  // Non-streamed: the complete response. Streamed failure: the head and (error) body read.
  upstream::UpstreamResponse response;
  // Streamed success: the open stream, its decoder, and the client-ready bytes of the events
  // decoded so far (at least one event).
  upstream::ResponseStream stream;
  std::unique_ptr<providers::StreamDecoder> decoder;
  std::string first_bytes;
  bool stream_done = false;  // the end-of-stream event was among them
  providers::TokenUsage usage;
  std::optional<Duration> pushback;  // the upstream's requested wait, if it gave one
  std::string detail;                // why it failed, for logs and messages (no content)
  Redaction redaction;               // for the relay's error events
  Duration latency{};                // upstream time of this attempt (to the first event)
};

// Runs one attempt on `deployment`. `input.upstream_model` is filled from the deployment (or
// left as the client's model for a passthrough deployment). Honours terminal cancellation of
// the calling coroutine (the outcome is then kCancelled).
boost::asio::awaitable<AttemptResult> run_attempt(upstream::Transport& client,
                                                  const Deployment& deployment,
                                                  providers::EncodeInput input,
                                                  AttemptLimits limits, const Clock& clock);

// The upstream's requested wait: every pushback header on a 429, Retry-After and
// retry-after-ms only on other statuses (OpenAI sends its rate-limit reset headers on every
// response, where they mean nothing about retrying).
std::optional<Duration> response_pushback(const upstream::UpstreamResponse& response, WallTime now);

}  // namespace sheepdog::gateway
