// Internal to HttpServer: reads one HTTP/1.1 request off a connection within the server's limits,
// or says which protocol error to answer instead. Only http_connection.cc uses it.
//
// What is refused, and why (RFC 9112 unless noted):
//   400  malformed start line or header (Beast's parser), a NUL or bare CR in the header,
//        obsolete line folding (5.2: a server must reject it or replace it; we reject), HTTP/1.1
//        without exactly one Host (3.2), more than one Host in any version, Transfer-Encoding
//        whose final coding is not chunked or that names chunked twice (6.3: the body length
//        cannot be known, and reading on would parse the body as the next request: smuggling)
//   501  a transfer coding other than chunked (gzip, deflate, ...), which we do not decode (6.1)
//   408  the header did not arrive within header_timeout, or the body within body_timeout, after
//        the client had started a request (a silent connection is closed without an answer)
//   413  a body over max_body_bytes: refused on Content-Length before any body byte is read, and
//        while reading a chunked body
//   431  a header over max_header_bytes, or a trailer section that does not fit the read buffer
// Trailer fields (after a chunked body) are read within that bound and discarded: RFC 9110 6.5.1
// lets a recipient drop them, nothing here uses them, and keeping them would let a client store
// values Beast's field table cannot hold (a value of 64 KiB or more throws from inside the
// parser, which once ended the process).
#pragma once

#include <boost/beast/http/status.hpp>
#include <cstddef>
#include <string>

#include "server/http_connection.h"
#include "server/http_error.h"

namespace sheepdog::server {

struct ReadResult {
  enum class Kind : unsigned char {
    kRequest,  // `request` holds a complete request
    kError,    // answer `status` / `error`, then close the connection
    kGone,     // the client left or never started a request: close without an answer
  };
  Kind kind = Kind::kGone;
  HttpRequest request;
  http::status status = http::status::bad_request;
  ApiError error;
  // kError: the request target when the request line was read, else "" (to shape the error
  // for the API the client speaks), and the request's HTTP version (10 or 11).
  std::string target;
  unsigned version = 11;
};

// Reads the next request on `connection`. The first request of a connection waits for its first
// byte at most header_timeout, later ones (keep-alive) at most idle_timeout; from the first byte
// the header must arrive within header_timeout and then the body within body_timeout. Sets
// connection.phase to kReading once a byte has arrived. Writes nothing except, for a request
// with `Expect: 100-continue` whose body is within the limit, the interim 100 Continue.
asio::awaitable<ReadResult> read_request(HttpConnection& connection, bool first_request);

}  // namespace sheepdog::server
