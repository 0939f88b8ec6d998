// Internal to src/upstream: the BodySource of a stream UpstreamClient opened, i.e. the pooled
// connection the head was read on and the parser reading its body. Shared by the client (which
// creates it after reading the head) and response_stream.cc (which reads it).
#pragma once

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <memory>
#include <optional>
#include <string>

#include "upstream/body_source.h"
#include "upstream/bounded_http_parser.h"
#include "upstream/connection.h"
#include "upstream/connection_pool.h"
#include "upstream/response_stream.h"

namespace sheepdog::upstream {

class PooledBody final : public BodySource {
 public:
  using Parser = BoundedHttpParser<false, beast::http::buffer_body>;

  boost::asio::awaitable<BodyChunk> read(
      const boost::asio::cancellation_state& cancel_state) override;

  // Only closes: a read() may be suspended on this connection. Its read completes with
  // operation_aborted and read() then frees the lease.
  void abort() override {
    if (Connection* connection = lease.connection()) {
      connection->close();
    }
  }

  // The body is complete: the connection goes back to the pool iff the exchange allows reuse.
  void finish() override {
    BodySource::finish();
    Connection* connection = lease.connection();
    if (connection != nullptr && parser->keep_alive() && connection->buffer().size() == 0) {
      ++connection->exchanges;
      lease.give_back();
    } else {
      lease = PoolLease();
    }
  }

  // The stream failed: the connection is closed and its slot freed.
  void fail(TransportResult transport, std::string message) override {
    BodySource::fail(transport, std::move(message));
    lease = PoolLease();
  }

  PoolLease lease;                 // holds the connection until the body ends
  std::unique_ptr<Parser> parser;  // not movable, hence on the heap
  std::unique_ptr<char[]> chunk;   // what read() returns a view of
  size_t chunk_size = 0;

  IoDeadline attempt_deadline;
  IoDeadline first_byte_deadline;
  std::optional<Duration> between_chunks;
  bool got_body_bytes = false;
};

}  // namespace sheepdog::upstream
