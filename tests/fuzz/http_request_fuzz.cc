// Fuzz target: the gateway's HTTP request path, from raw bytes on a client connection through
// the server's parser and limits (server/http_connection.h), the routes, authentication,
// validation and both client APIs (/v1/chat/completions, /v1/embeddings, /v1/messages,
// /v1/models, health, metrics), the attempt loop and tool-call validation, to a fake upstream:
// the mock's MockService (mock/mock_service.h), answering as OpenAI on one deployment and as
// Anthropic on another, so answers are decoded, translated, validated and streamed back.
//
// One input = the bytes one client sends on one connection (pipelined requests included).
// No TCP for the client: one end of a socketpair(AF_UNIX) is the connection's socket, handed to
// serve_connection(); the other end writes the input and reads the answers. The gateway reaches
// the mock over loopback TCP, but through its keep-alive pool, so connections are reused across
// inputs rather than opened per input (10 million inputs would exhaust loopback ports in
// TIME_WAIT). Everything runs on one io_context on this thread.
//
// Determinism: the io_context is driven until the connection is done. Once the whole input is
// written and nothing is ready to run, a connection that is not inside a handler can never get
// another byte, so the client side shuts down its sending half then (never while a handler
// runs, which would count as the client going away). The mock is reset and its random sequence
// restarted per input; breakers and retry budgets are off; the gateway and mock clocks are
// manual (an input with an Idempotency-Key moves them past the key's ttl, so no answer is
// replayed into a later input).
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>

#include "config/loader.h"
#include "core/clock.h"
#include "fuzz/fuzz_support.h"
#include "gateway/gateway.h"
#include "gateway/runtime.h"
#include "mock/mock_service.h"
#include "server/gateway_routes.h"
#include "server/http_connection.h"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using sheepdog::server::HttpConnection;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Two providers on the one mock: `openai` speaks chat completions, `anthropic` the Messages
// API. gpt-fuzz falls back to claude-fuzz, so failures reach the Anthropic translation too.
// Short retries without jitter; breakers and budgets off, so no input changes what a later one
// sees; tool validation on, repairing once, streams held until valid.
constexpr std::string_view kConfig = R"(
server:
  idempotency: {ttl: 1s, in_progress_timeout: 1s}
providers:
  openai: {kind: openai, base_url: "${MOCK_URL}/v1", api_keys: [sk-fuzz-openai]}
  anthropic: {kind: anthropic, base_url: "${MOCK_URL}/v1", api_keys: [sk-fuzz-anthropic]}
policies:
  default:
    max_attempts: 2
    timeouts: {attempt: 10s, total: 20s, first_token: 10s}
    backoff: {kind: constant, base_delay: 1ms, jitter: none}
    pushback: {honor: false}
    circuit_breaker: {enabled: false}
    retry_budget: {enabled: false}
    tool_validation: {enabled: true, mode: repair, max_retries: 1, streams: true}
models:
  gpt-fuzz:
    deployments: [{provider: openai, model: gpt-4o-mini}]
    fallbacks: [claude-fuzz]
  claude-fuzz:
    deployments: [{provider: anthropic, model: claude-3-5-haiku}]
  text-embedding-3-small:
    deployments: [{provider: openai, model: text-embedding-3-small}]
)";

// The in-process mock upstream: an acceptor on loopback whose connections are served by
// serve_connection() with the MockService as handler, on the shared io_context.
class Mock {
 public:
  Mock(asio::io_context& io, const sheepdog::Clock& clock)
      : io_(io), service_(sheepdog::mock::MockConfig{}, 1, 1, clock), acceptor_(io) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    handler_ = [this](const sheepdog::server::HttpRequest& request,
                      sheepdog::server::Responder& responder) {
      return service_.handle(request, responder);
    };
    asio::co_spawn(io_, accept_loop(), asio::detached);
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  void reset() { service_.reset(); }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kUseTuple);
      if (ec) {
        continue;
      }
      auto connection = std::make_unique<HttpConnection>(std::move(socket), options_, 0);
      HttpConnection* raw = connection.get();
      connections_.insert(connection.release());
      asio::co_spawn(io_, sheepdog::server::serve_connection(*raw, handler_),
                     [this, raw](std::exception_ptr error) {
                       connections_.erase(raw);
                       delete raw;
                       if (error) {
                         std::rethrow_exception(error);  // a bug in the server: a crash here
                       }
                     });
    }
  }

  asio::io_context& io_;
  sheepdog::mock::MockService service_;
  sheepdog::server::HttpServerOptions options_;
  sheepdog::server::HttpHandler handler_;
  tcp::acceptor acceptor_;
  std::unordered_set<HttpConnection*> connections_;
};

struct World {
  asio::io_context io{1};
  // A fixed wall time, so `created` stamps and Retry-After dates do not depend on the day.
  sheepdog::ManualClock clock{sheepdog::TimePoint{},
                              std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}};
  std::unique_ptr<Mock> mock;
  std::unique_ptr<sheepdog::gateway::Gateway> gateway;
  sheepdog::server::HttpHandler handler;
  sheepdog::server::HttpServerOptions options;

  World() {
    sheepdog::fuzz::quiet_logs();
    mock = std::make_unique<Mock>(io, clock);
    sheepdog::config::LoadOptions load;
    const std::string mock_url = mock->url();
    load.env = [mock_url](const std::string& name) -> std::optional<std::string> {
      return name == "MOCK_URL" ? std::optional(mock_url) : std::nullopt;
    };
    sheepdog::config::LoadResult loaded =
        sheepdog::config::load_config_string(kConfig, "fuzz.yaml", load);
    if (!loaded.ok()) {
      for (const auto& error : loaded.errors) {
        std::fprintf(stderr, "%s\n", error.to_string().c_str());
      }
      sheepdog::fuzz::invariant_failed("the harness configuration does not load");
    }
    sheepdog::gateway::RuntimeOptions runtime_options;  // no logger: no log lines
    sheepdog::gateway::BuildResult built =
        sheepdog::gateway::Runtime::build(*loaded.config, std::move(runtime_options), clock);
    if (!built.runtime) {
      sheepdog::fuzz::invariant_failed("the harness runtime does not build");
    }
    gateway = std::make_unique<sheepdog::gateway::Gateway>(std::move(built.runtime), 42);
    handler = sheepdog::server::make_gateway_handler(*gateway);
    // Small limits, so short inputs reach the 413 and 431 answers; the timeouts never fire
    // (the client side ends the connection as soon as it has nothing more to send).
    options.max_body_bytes = 8 * 1024;
    options.max_header_bytes = 4 * 1024;
  }
};

World& world() {
  static World* w = new World();  // never destroyed: libFuzzer exits without unwinding
  return *w;
}

// The client's side of the connection: what it has done so far.
struct Client {
  bool written = false;
  bool shut = false;
  bool read_done = false;
};

asio::awaitable<void> write_input(tcp::socket& socket, std::string_view input, Client& client) {
  co_await asio::async_write(socket, asio::buffer(input.data(), input.size()), kUseTuple);
  client.written = true;
}

asio::awaitable<void> read_answers(tcp::socket& socket, Client& client) {
  char sink[16 * 1024];
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), kUseTuple);
    if (ec) {
      break;
    }
  }
  client.read_done = true;
}

// KNOWN BUGS, skipped until their fixes are merged (remove each check with its fix):
//   - a chunked request whose trailer holds a field of 64 KiB or more throws std::length_error
//     out of Beast's parser (server engineer, issue 10: "one request aborts the gateway");
//   - a tool schema with an integer `multipleOf` of 0 (or negative) crashes validation with
//     SIGFPE (validation engineer, issue 10: "multipleOf 0 / degenerate schemas"). The key may
//     be written with \u escapes, hence the looser second test.
bool known_bug(std::string_view input) {
  if (input.size() >= 65000 && sheepdog::fuzz::contains_ci(input, "chunked")) {
    return true;
  }
  if (input.find("multipleOf") != std::string_view::npos) {
    return true;
  }
  return input.find("\\u") != std::string_view::npos &&
         (input.find("ultip") != std::string_view::npos ||
          input.find("pleOf") != std::string_view::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = sheepdog::fuzz::as_text(data, size);
  if (known_bug(input)) {
    return 0;
  }
  World& w = world();
  w.mock->reset();
  if (sheepdog::fuzz::contains_ci(input, "idempotency-key")) {
    w.clock.advance(std::chrono::seconds(2));
  }

  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    sheepdog::fuzz::invariant_failed("socketpair failed");
  }
  tcp::socket server_socket(w.io);
  tcp::socket client_socket(w.io);
  server_socket.assign(tcp::v4(), fds[0]);
  client_socket.assign(tcp::v4(), fds[1]);

  HttpConnection connection(std::move(server_socket), w.options, 0);
  bool served = false;
  asio::co_spawn(w.io, sheepdog::server::serve_connection(connection, w.handler),
                 [&served](std::exception_ptr error) {
                   served = true;
                   if (error) {
                     std::rethrow_exception(error);  // "throws only for bugs": a crash here
                   }
                 });
  Client client;
  asio::co_spawn(w.io, write_input(client_socket, input, client), asio::detached);
  asio::co_spawn(w.io, read_answers(client_socket, client), asio::detached);

  while (!served || !client.read_done) {
    w.io.restart();
    if (w.io.poll() > 0) {
      continue;
    }
    if (client.written && !client.shut && connection.phase != HttpConnection::Phase::kHandling) {
      boost::system::error_code ignored;
      client_socket.shutdown(tcp::socket::shutdown_send, ignored);
      client.shut = true;
      continue;
    }
    w.io.restart();
    w.io.run_one();  // a timer (a backoff, the linger after a close) or the mock's answer
  }
  return 0;
}
