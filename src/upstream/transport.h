// What the attempt loop needs from the network: send a request and read the whole answer, or
// open a stream and read its body as it comes. UpstreamClient (upstream_client.h) is the one
// production implementation (pooled keep-alive connections, TLS, timeouts); request-path tests
// script one on virtual time, so the gateway's decisions can be checked on one thread without
// sockets.
//
// Contract for every implementation: failures are values (a TransportResult in the result),
// never exceptions; calls honour terminal cancellation through the calling coroutine's
// cancellation slot and report it as kCancelled; `request` stays alive until the call
// completes (the caller co_awaits it directly).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>

#include "core/clock.h"
#include "upstream/http_message.h"
#include "upstream/response_stream.h"

namespace sheepdog::upstream {

// Per-request time limits, chosen by the caller for each attempt.
struct RequestTimeouts {
  // Until a connection is ready: waiting for a pool slot, DNS, TCP connect, TLS handshake.
  Duration connect = std::chrono::seconds(10);
  // The whole attempt, from the call until the last body byte (for streams too: choose it with
  // the longest generation in mind).
  Duration attempt = std::chrono::minutes(10);
  // Streams only: from the request having been written until the first body bytes.
  Duration first_byte = std::chrono::seconds(60);
  // Streams only: the longest silence between body reads after the first; nullopt = no limit
  // beyond the attempt deadline.
  std::optional<Duration> between_chunks;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Sends `request` and reads the whole response.
  virtual boost::asio::awaitable<UpstreamResponse> send(const UpstreamRequest& request,
                                                        RequestTimeouts timeouts) = 0;

  // Sends `request` and reads the response head; the body is then read with next().
  virtual boost::asio::awaitable<ResponseStream> open_stream(const UpstreamRequest& request,
                                                             RequestTimeouts timeouts) = 0;
};

}  // namespace sheepdog::upstream
