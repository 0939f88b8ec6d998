// Internal to src/upstream: what a ResponseStream holds while its body is being read. Shared by
// the client (which creates it after reading the head) and response_stream.cc.
#pragma once

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <memory>
#include <optional>
#include <string>

#include "upstream/bounded_http_parser.h"
#include "upstream/connection.h"
#include "upstream/connection_pool.h"
#include "upstream/response_stream.h"

namespace sheepdog::upstream {

struct ResponseStream::State {
  using Parser = BoundedHttpParser<false, beast::http::buffer_body>;

  PoolLease lease;                 // holds the connection until the body ends
  std::unique_ptr<Parser> parser;  // not movable, hence on the heap
  std::unique_ptr<char[]> chunk;   // what next() returns a view of
  size_t chunk_size = 0;

  IoDeadline attempt_deadline;
  IoDeadline first_byte_deadline;
  std::optional<Duration> between_chunks;
  bool got_body_bytes = false;

  // How the stream ended, once it has.
  bool finished = false;                           // body read to its end
  TransportResult failure = TransportResult::kOk;  // not kOk: failed
  std::string error;
  bool cancel_requested = false;

  bool ended() const { return finished || failure != TransportResult::kOk; }

  // The body is complete: the connection goes back to the pool iff the exchange allows reuse.
  void finish() {
    finished = true;
    Connection* connection = lease.connection();
    if (connection != nullptr && parser->keep_alive() && connection->buffer().size() == 0) {
      ++connection->exchanges;
      lease.give_back();
    } else {
      lease = PoolLease();
    }
  }

  // The stream failed: the connection is closed and its slot freed.
  void fail(TransportResult transport, std::string message) {
    failure = transport;
    error = std::move(message);
    lease = PoolLease();
  }
};

}  // namespace sheepdog::upstream
