// The mock upstream's request handling, shared by all io threads of its HttpServer: routing,
// per-key rate limits, fault injection and pacing for OpenAI chat completions
// (POST /v1/chat/completions), Anthropic messages (POST /v1/messages) and embeddings, GET
// /v1/models, and the control endpoints:
//   POST /_mock/faults   replace the fault config (see decode_fault_update())
//   POST /_mock/script   queue the next outcomes, globally or for one model (decode_script())
//   POST /_mock/reset    clear stats, scripts and key usage; restart the random sequences
//   GET  /_mock/stats    request counts (MockStats::to_json)
//   GET  /_mock/health   {"status":"ok"}
//
// Randomness: one SeededRandom per io thread, seeded with seed + thread index, so no lock is
// taken for it; with one thread, the same requests in the same order get the same outcomes,
// latencies, ids and content. Timing uses asio timers only; a wait ends early when the client
// goes away. Key limits are checked first, on the injected clock: a request over its key's
// limit is answered 429 at once (counted as rate_limited), without drawing an outcome.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "mock/mock_config.h"
#include "mock/mock_fault_planner.h"
#include "mock/mock_key_limits.h"
#include "mock/mock_stats.h"
#include "server/http_responder.h"

namespace sheepdog::mock {

namespace asio = server::asio;
namespace http = server::http;

struct ChatCall;      // mock_content.h
struct ErrorContext;  // mock_openai.h
struct ApiWire;       // how one API names request ids and words errors (mock_service.cc)

class MockService {
 public:
  // `threads`: the io thread count of the server this serves. `clock` (for `created` stamps,
  // reset times and key limits) must outlive the service.
  MockService(MockConfig config, uint64_t seed, size_t threads, const Clock& clock);

  // The HttpHandler.
  asio::awaitable<void> handle(const server::HttpRequest& request, server::Responder& responder);

  FaultPlanner& planner() { return planner_; }
  MockStats& stats() { return stats_; }
  // Clears stats, scripts and key usage, and restarts every thread's random sequence from the
  // seed (each thread reseeds before its next draw). Keeps the fault config.
  void reset();

 private:
  struct ThreadRandom {
    SeededRandom random;
    uint64_t generation;
  };
  struct CallInfo;  // what admit() needs to know of a decoded request
  struct Admitted;  // what admit() settled for a request that gets an answer
  struct Answer;    // an encoded answer for deliver()

  asio::awaitable<void> chat(const server::HttpRequest& request, server::Responder& responder);
  asio::awaitable<void> messages(const server::HttpRequest& request, server::Responder& responder);
  asio::awaitable<void> embeddings(const server::HttpRequest& request,
                                   server::Responder& responder);
  asio::awaitable<void> control(const server::HttpRequest& request, server::Responder& responder,
                                std::string_view path);
  // The common preamble of the API handlers, after decoding: the key's limit, the outcome, and
  // a failure played out (error status, hang, reset). Nullopt when the request is done; else
  // what to answer with, and the latency still to wait.
  asio::awaitable<std::optional<Admitted>> admit(const server::HttpRequest& request,
                                                 server::Responder& responder, const ApiWire& wire,
                                                 const CallInfo& call);
  // Sends an answer after the latency: whole (after the time its tokens take) or as events
  // paced one token delay per piece; truncated_stream cuts it half-way.
  asio::awaitable<void> deliver(server::Responder& responder, const Admitted& admitted,
                                const ApiWire& wire, const Answer& answer);
  // The next outcome for a call to `model` on `endpoint`, counted in the stats. A tool fault
  // with nothing to break (fault_applies() false: no tools and no JSON response_format, or
  // embeddings, where `chat` is null) becomes an ordinary answer, counted as ok.
  FaultPlanner::Decision decide(const server::HttpRequest& request, const std::string& model,
                                const ChatCall* chat, std::string_view endpoint,
                                RandomSource& random);
  // Plays an outcome that is not an answer (error status, hang, reset). False if `outcome`
  // produces an answer, which is then the caller's job; true when the request is done.
  asio::awaitable<bool> play_failure(const ApiWire& wire, Outcome outcome,
                                     const FaultProfile& profile, const ErrorContext& context,
                                     Duration latency, server::Responder& responder);
  RandomSource& random_for(size_t thread);

  const uint64_t seed_;
  const Clock& clock_;
  FaultPlanner planner_;
  KeyLimiter key_limits_;
  MockStats stats_;
  std::atomic<uint64_t> generation_{0};
  std::vector<ThreadRandom> randoms_;  // [i] touched only by io thread i
};

}  // namespace sheepdog::mock
