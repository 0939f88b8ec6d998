// The gateway's HTTP/1.1 client for upstream deployments: pooled keep-alive connections per
// origin, TLS with verification, per-request timeouts, and errors as values. The attempt loop
// (gateway/executor) makes one call per attempt and classifies the UpstreamResponse.
//
//   UpstreamClient client(io.get_executor(), ClientOptions{}, tls_context, clock);
//   UpstreamResponse r = co_await client.send(request, timeouts);       // whole body
//   ResponseStream s = co_await client.open_stream(request, timeouts);  // head, then next()
//
// Threading: one client per io_context thread, used only from that thread (a single-threaded
// io_context, or a strand as the executor); there is no locking inside. The TLS context may be
// shared by every thread's client.
//
// Never throws on network failures: every failure is a TransportResult in the result. Calls
// honour (terminal) cancellation through the calling coroutine's cancellation slot and report
// it as kCancelled. They turn asio's throw-if-cancelled off while they run and restore the
// caller's setting before returning, so a cancelled call returns instead of throwing.
//
// REQUIRES: the client outlives every call in flight and every ResponseStream it made, and is
// destroyed before its io_context.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstddef>
#include <optional>
#include <string>

#include "core/clock.h"
#include "upstream/connection_pool.h"
#include "upstream/http_message.h"
#include "upstream/response_stream.h"
#include "upstream/transport.h"

namespace sheepdog::upstream {

struct ClientOptions {
  PoolOptions pool;
  // send() fails with kResponseTooLarge past this, unless the request sets its own limit (a
  // misbehaving upstream must not exhaust memory; large embedding batches are the biggest
  // legitimate answers).
  size_t max_response_body_bytes = size_t{64} << 20;
  // Bytes of buffered answers (send(), not streams) held at once by every client sharing it;
  // null: no shared bound. Must outlive the client.
  MemoryBudget* memory_budget = nullptr;
  size_t max_response_header_bytes = size_t{64} << 10;
  // The largest piece ResponseStream::next() returns at once.
  size_t stream_chunk_bytes = size_t{16} << 10;
  // Sent unless the request sets its own User-Agent.
  std::string user_agent = "sheepdog/0.1";
};

// The production Transport (transport.h).
class UpstreamClient final : public Transport {
 public:
  // `tls` (made with tls_client and configure_tls_context()) and `clock` (idle bookkeeping)
  // must outlive the client.
  UpstreamClient(boost::asio::any_io_executor executor, ClientOptions options,
                 boost::asio::ssl::context& tls, const Clock& clock);
  UpstreamClient(const UpstreamClient&) = delete;
  UpstreamClient& operator=(const UpstreamClient&) = delete;
  ~UpstreamClient() override;

  // Sends `request` and reads the whole response. REQUIRES: `request` stays alive until the
  // call completes (co_await it directly).
  boost::asio::awaitable<UpstreamResponse> send(const UpstreamRequest& request,
                                                RequestTimeouts timeouts) override;

  // Sends `request` and reads the response head; the body is then read with next(). The head
  // must arrive before the first-byte deadline. Same REQUIRES as send().
  boost::asio::awaitable<ResponseStream> open_stream(const UpstreamRequest& request,
                                                     RequestTimeouts timeouts) override;

  ConnectionPool& pool() { return pool_; }
  const ClientOptions& options() const { return options_; }

 private:
  boost::asio::awaitable<UpstreamResponse> send_impl(const UpstreamRequest& request,
                                                     RequestTimeouts timeouts);
  boost::asio::awaitable<ResponseStream> open_stream_impl(const UpstreamRequest& request,
                                                          RequestTimeouts timeouts);

  boost::asio::any_io_executor executor_;
  ClientOptions options_;
  boost::asio::ssl::context& tls_;
  ConnectionPool pool_;
};

}  // namespace sheepdog::upstream
