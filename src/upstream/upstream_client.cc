#include "upstream/upstream_client.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <type_traits>
#include <utility>

#include "upstream/bounded_http_parser.h"
#include "upstream/budgeted_body.h"
#include "upstream/response_stream_state.h"

namespace sheepdog::upstream {
namespace {

namespace http = beast::http;
using boost::system::error_code;
using WireRequest = http::request<http::span_body<const char>>;
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
// Room in a connection's read buffer beyond the header limit, for one read to land.
constexpr size_t kReadSlackBytes = 16 * 1024;

WireRequest make_wire_request(const UpstreamRequest& request, const std::string& user_agent) {
  WireRequest wire;
  wire.method_string(request.method);
  wire.target(request.target);
  wire.version(11);
  wire.set(http::field::host, request.origin.host_header());
  for (const auto& [name, value] : request.headers.fields()) {
    // Framing is the client's: a caller's value could contradict the body actually sent.
    if (iequals(name, "host") || iequals(name, "content-length") ||
        iequals(name, "transfer-encoding")) {
      continue;
    }
    wire.insert(name, value);
  }
  if (!user_agent.empty() && !request.headers.contains("user-agent")) {
    wire.set(http::field::user_agent, user_agent);
  }
  wire.body() = boost::span<const char>(request.body.data(), request.body.size());
  wire.prepare_payload();
  return wire;
}

UpstreamResponse failure(TransportResult transport, std::string error) {
  UpstreamResponse response;
  response.transport = transport;
  response.error = std::move(error);
  return response;
}

template <typename Fields>
void copy_head(const http::response_header<Fields>& head, UpstreamResponse& out) {
  out.status = static_cast<int>(head.result_int());
  for (const auto& field : head) {
    out.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
}

// What exchange() needs from the client, and how to run this attempt.
struct Plan {
  asio::any_io_executor executor;
  ConnectionPool& pool;
  asio::ssl::context& tls;
  const ClientOptions& options;
  IoDeadline attempt_deadline;
  IoDeadline connect_deadline;
  Duration connect_timeout;
  bool head_only;                      // stop after the head (streams)
  std::optional<Duration> first_byte;  // head deadline, counted from the request being written
};

// The plan of one exchange started now: the attempt deadline counts from now, the connect
// deadline lies within it; a stream stops after the head, which has its own first-byte limit.
Plan make_plan(asio::any_io_executor executor, ConnectionPool& pool, asio::ssl::context& tls,
               const ClientOptions& options, const RequestTimeouts& timeouts, bool stream) {
  const IoDeadline start = IoClock::now();
  const IoDeadline attempt_deadline = start + timeouts.attempt;
  return Plan{executor,
              pool,
              tls,
              options,
              attempt_deadline,
              std::min(attempt_deadline, start + timeouts.connect),
              timeouts.connect,
              /*head_only=*/stream,
              stream ? std::optional<Duration>(timeouts.first_byte) : std::nullopt};
}

template <typename Body>
struct Exchange {
  PoolLease lease;
  std::unique_ptr<BoundedHttpParser<false, Body>> parser;
  UpstreamResponse result;  // transport, error and reused_connection; ok() iff it worked
  IoDeadline first_byte_deadline;
};

std::string describe(const error_code& ec, TransportResult transport, bool reading,
                     const Origin& origin) {
  switch (transport) {
    case TransportResult::kCancelled:
      return "cancelled";
    case TransportResult::kTimeout:
      return std::string("timed out ") +
             (reading ? "waiting for the response from " : "sending to ") + origin.key();
    case TransportResult::kResponseTooLarge:
      return "the response from " + origin.key() +
             (ec == boost::system::errc::not_enough_memory
                  ? " does not fit in what is left of the memory budget for buffered answers"
                  : " is over the size limit (" + ec.message() + ")");
    default:
      return std::string(reading ? "reading the response from " : "sending the request to ") +
             origin.key() + ": " + ec.message();
  }
}

// Gets a connection, writes the request and reads the response head (plan.head_only) or the
// whole response. On success the lease still holds the connection.
template <typename Body>
asio::awaitable<Exchange<Body>> exchange(const Plan& plan, const UpstreamRequest& request,
                                         const WireRequest& wire) {
  asio::cancellation_state cancel_state = co_await asio::this_coro::cancellation_state;
  auto cancelled = [&] { return cancel_state.cancelled() != asio::cancellation_type::none; };

  Exchange<Body> ex;
  ex.lease = co_await plan.pool.acquire(request.origin, plan.connect_deadline);
  // A cancellation that lands while an operation is completing is not seen by the next one
  // (the slot fires once), so the state is checked after every step, not only on errors.
  if (ex.lease.valid() && cancelled()) {
    ex.lease = PoolLease();
  }
  if (!ex.lease.valid()) {
    ex.result =
        cancelled()
            ? failure(TransportResult::kCancelled, "cancelled")
            : failure(TransportResult::kConnectFailed,
                      "no free connection to " + request.origin.key() +
                          " within the connect timeout (max_connections_per_origin=" +
                          std::to_string(plan.options.pool.max_connections_per_origin) + ")");
    co_return ex;
  }
  IoDeadline connect_deadline = plan.connect_deadline;
  for (bool retried = false;; retried = true) {
    if (ex.lease.connection() == nullptr) {
      ConnectResult connected =
          co_await connect(plan.executor, &plan.tls, request.origin, connect_deadline);
      if (connected.transport != TransportResult::kOk) {
        ex.result = failure(connected.transport, std::move(connected.error));
        ex.lease = PoolLease();
        co_return ex;
      }
      ex.lease.attach(std::move(connected.connection));
      if (cancelled()) {
        ex.result = failure(TransportResult::kCancelled, "cancelled");
        ex.lease = PoolLease();
        co_return ex;
      }
    }
    Connection& connection = *ex.lease.connection();
    ex.result.reused_connection = ex.lease.reused();
    ex.parser = std::make_unique<BoundedHttpParser<false, Body>>();
    // The buffer holds only what the parser has not consumed: a head, a chunk header or a
    // trailer section. Capping it bounds the trailer, which Beast's header limit does not.
    connection.buffer().max_size(plan.options.max_response_header_bytes + kReadSlackBytes);
    ex.parser->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(plan.options.max_response_header_bytes, UINT32_MAX)));
    ex.parser->body_limit(request.max_response_body_bytes != 0
                              ? request.max_response_body_bytes
                              : plan.options.max_response_body_bytes);
    if constexpr (std::is_same_v<Body, BudgetedBody>) {
      ex.result.charge = BudgetCharge(plan.options.memory_budget);
      ex.parser->get().body().charge = &ex.result.charge;
    }
    if (wire.method() == http::verb::head) {
      ex.parser->skip(true);
    }

    connection.tcp().expires_at(plan.attempt_deadline);
    auto [write_ec, written] = co_await connection.visit(
        [&](auto& stream) { return http::async_write(stream, wire, kAsTuple); });
    error_code ec = write_ec;
    if (!ec && cancelled()) {
      ec = asio::error::operation_aborted;
    }
    bool reading = false;
    if (!ec) {
      reading = true;
      ex.first_byte_deadline =
          plan.first_byte ? std::min(plan.attempt_deadline, IoClock::now() + *plan.first_byte)
                          : plan.attempt_deadline;
      connection.tcp().expires_at(ex.first_byte_deadline);
      auto [read_ec, read] = co_await connection.visit([&](auto& stream) {
        return plan.head_only
                   ? http::async_read_header(stream, connection.buffer(), *ex.parser, kAsTuple)
                   : http::async_read(stream, connection.buffer(), *ex.parser, kAsTuple);
      });
      ec = read_ec;
    }
    if (!ec && cancelled()) {
      ec = asio::error::operation_aborted;
    }
    if (!ec) {
      co_return ex;
    }

    // A pooled connection can have been closed by the server while idle, and the close can
    // cross our request on the wire (idle_and_open() only catches closes that already arrived).
    // The request then fails on write, or the read sees EOF/reset before any response byte.
    // Sending it once more on a fresh connection is safe: a server that closes an idle
    // keep-alive connection has not processed a request on it, and no response byte means
    // nothing of the answer was consumed. The residual case, a server that read the request
    // and then died without sending a byte, looks the same; for an LLM call it costs at most a
    // duplicate generation, which is accepted here (Go's net/http retries it only for idempotent
    // requests). Only once, and never after a timeout or cancellation.
    const bool nothing_received = !ex.parser->got_some() && connection.buffer().size() == 0;
    if (ex.lease.reused() && !retried && nothing_received && !cancelled() &&
        ec != beast::error::timeout) {
      ex.lease.drop_connection();
      connect_deadline = std::min(plan.attempt_deadline, IoClock::now() + plan.connect_timeout);
      continue;
    }
    const TransportResult transport = exchange_failure(ec, cancelled());
    const bool reused = ex.result.reused_connection;
    ex.result = failure(transport, describe(ec, transport, reading, request.origin));
    ex.result.reused_connection = reused;
    ex.lease = PoolLease();
    co_return ex;
  }
}

}  // namespace

UpstreamClient::UpstreamClient(asio::any_io_executor executor, ClientOptions options,
                               asio::ssl::context& tls, const Clock& clock)
    : executor_(executor),
      options_(std::move(options)),
      tls_(tls),
      pool_(executor, options_.pool, clock) {}

UpstreamClient::~UpstreamClient() = default;

asio::awaitable<UpstreamResponse> UpstreamClient::send(const UpstreamRequest& request,
                                                       RequestTimeouts timeouts) {
  return without_cancellation_throw(send_impl(request, timeouts));
}

asio::awaitable<ResponseStream> UpstreamClient::open_stream(const UpstreamRequest& request,
                                                            RequestTimeouts timeouts) {
  return without_cancellation_throw(open_stream_impl(request, timeouts));
}

asio::awaitable<UpstreamResponse> UpstreamClient::send_impl(const UpstreamRequest& request,
                                                            RequestTimeouts timeouts) {
  const Plan plan = make_plan(executor_, pool_, tls_, options_, timeouts, /*stream=*/false);
  const WireRequest wire = make_wire_request(request, options_.user_agent);
  Exchange<BudgetedBody> ex = co_await exchange<BudgetedBody>(plan, request, wire);
  if (!ex.result.ok()) {
    co_return std::move(ex.result);
  }
  UpstreamResponse response = std::move(ex.result);
  copy_head(ex.parser->get().base(), response);
  response.body = std::move(ex.parser->get().body().data);
  Connection& connection = *ex.lease.connection();
  if (ex.parser->keep_alive() && connection.buffer().size() == 0) {
    ++connection.exchanges;
    ex.lease.give_back();
  }
  co_return response;
}

asio::awaitable<ResponseStream> UpstreamClient::open_stream_impl(const UpstreamRequest& request,
                                                                 RequestTimeouts timeouts) {
  const Plan plan = make_plan(executor_, pool_, tls_, options_, timeouts, /*stream=*/true);
  const WireRequest wire = make_wire_request(request, options_.user_agent);
  Exchange<http::buffer_body> ex = co_await exchange<http::buffer_body>(plan, request, wire);
  if (!ex.result.ok()) {
    co_return ResponseStream(std::move(ex.result), nullptr);
  }
  UpstreamResponse head = std::move(ex.result);
  copy_head(ex.parser->get().base(), head);

  auto state = std::make_unique<PooledBody>();
  state->lease = std::move(ex.lease);
  state->parser = std::move(ex.parser);
  state->chunk_size = std::max<size_t>(options_.stream_chunk_bytes, 1);
  state->chunk = std::make_unique<char[]>(state->chunk_size);
  state->attempt_deadline = plan.attempt_deadline;
  state->first_byte_deadline = ex.first_byte_deadline;
  state->between_chunks = timeouts.between_chunks;
  if (state->parser->is_done()) {
    state->finish();  // no body (204, 304, HEAD, Content-Length: 0)
  }
  co_return ResponseStream(std::move(head), std::move(state));
}

}  // namespace sheepdog::upstream
