// The event loop behind simulate(): requests, attempts, upstream queues and the policy objects,
// all on virtual time. See simulator.h for the attempt loop and scenario.h for the upstream model.
#include "sim/simulator.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <queue>
#include <utility>

#include "resilience/outcome.h"
#include "routing/attempt_loop.h"
#include "sim/distributions.h"

namespace sheepdog::sim {
namespace {

enum class EventType : uint8_t {
  kRequestStart,    // request `request` arrives
  kWaitDone,        // a backoff the attempt loop asked for is over
  kReply,           // a fast reply (`arg` is a Reply) for attempt `attempt`
  kAttemptTimeout,  // the client's attempt timer
  kServiceDone,     // upstream `arg` finished serving `attempt` of `request`
};

enum class Reply : uint8_t { kOk, kServerError, kOverloaded, kRateLimited, kConnectFailed, kHang };

// Small and trivially copyable, so the heap moves 32-byte PODs and never allocates per event.
struct Event {
  int64_t at_ns;
  uint64_t seq;  // ties at the same instant run in the order they were scheduled
  uint32_t request;
  uint32_t attempt;
  EventType type;
  uint8_t arg;
};

struct EventLater {
  bool operator()(const Event& a, const Event& b) const {
    return a.at_ns != b.at_ns ? a.at_ns > b.at_ns : a.seq > b.seq;
  }
};

struct RequestState {
  std::unique_ptr<AttemptLoop> loop;  // while the request runs
  std::optional<ToolCallState> tool;  // iff the strategy validates tool calls
  // Attempts from this one on are repair requests (longer prompt, repair success rate).
  uint32_t first_repair_attempt = UINT32_MAX;
  TimePoint start{};
  TimePoint end{};
  int client = -1;       // closed loop only
  uint32_t attempt = 0;  // attempts started
  uint8_t upstream = 0;  // of the current (or last) attempt; valid iff attempt > 0
  bool in_attempt = false;
  bool done = false;
  bool success = false;
};

struct UpstreamState {
  explicit UpstreamState(const UpstreamModel& model)
      : latency(model.latency_median, model.latency_p99) {}
  Lognormal latency;
  int busy = 0;
  std::deque<std::pair<uint32_t, uint32_t>> queue;  // (request, attempt), FIFO
  std::unique_ptr<CircuitBreaker> breaker;
};

AttemptResponse to_response(Reply reply) {
  AttemptResponse r;
  switch (reply) {
    case Reply::kOk:
      r.http_status = 200;
      break;
    case Reply::kServerError:
      r.http_status = 500;
      break;
    case Reply::kOverloaded:
      r.http_status = 503;
      break;
    case Reply::kRateLimited:
      r.http_status = 429;
      break;
    case Reply::kConnectFailed:
      r.transport = TransportResult::kConnectFailed;
      break;
    case Reply::kHang:
      r.transport = TransportResult::kTimeout;
      break;
  }
  return r;
}

class Engine {
 public:
  Engine(const Scenario& scenario, const Strategy& strategy, uint64_t seed)
      : scenario_(scenario), strategy_(strategy), policy_(strategy.retry), random_(seed) {
    // The client's deadline is the request's total timeout; a scenario may also fix the
    // attempt timeout. Both are the same knobs the gateway takes per request.
    policy_.total_timeout = scenario.client.deadline;
    if (scenario.client.attempt_timeout) {
      policy_.attempt_timeout = *scenario.client.attempt_timeout;
    }
    policy_.attempt_timeout = std::min(policy_.attempt_timeout, policy_.total_timeout);
    const size_t candidates = strategy.fallback ? scenario.upstreams.size() : 1;
    upstreams_.reserve(scenario.upstreams.size());
    CircuitBreakerPolicy disabled;
    disabled.enabled = false;
    for (const UpstreamModel& model : scenario.upstreams) {
      upstreams_.emplace_back(model);
      upstreams_.back().breaker = std::make_unique<CircuitBreaker>(
          strategy.breaker && strategy.breaker->enabled ? *strategy.breaker : disabled);
    }
    if (strategy.budget) {
      budget_.emplace(*strategy.budget);
    }
    // One alias over the candidate upstreams, in scenario order, as the gateway's quick start
    // (`--upstream A --upstream B`) orders its deployments.
    RoutePolicy route;
    route.strategy = RoutingStrategy::kOrdered;
    for (size_t u = 0; u < candidates; ++u) {
      route.targets.push_back(RouteTarget{u, 1.0, false});
      alias_.targets.push_back(LoopTarget{upstreams_[u].breaker.get(), nullptr, nullptr});
    }
    router_ = std::make_unique<Router>(std::move(route));
    alias_.name = strategy.name;
    alias_.retry = policy_;
    alias_.budget = budget_ ? &*budget_ : nullptr;
    alias_.router = router_.get();
    if (scenario.tool_calls) {
      tool_model_ = &*scenario.tool_calls;
    }
    if (strategy.tool_calls && strategy.tool_calls->enabled) {
      tool_policy_ = &*strategy.tool_calls;
    }
    requests_.resize(size_t(scenario.requests));
  }

  ~Engine() {
    for (RequestState& r : requests_) {
      r.loop.reset();  // before the budget and breakers it points into
    }
  }

  RunResult run(const SimOptions& options) {
    schedule_arrivals();
    while (!events_.empty()) {
      const Event e = events_.top();
      events_.pop();
      const TimePoint now = TimePoint{} + nanoseconds(e.at_ns);
      switch (e.type) {
        case EventType::kRequestStart:
          start_request(e.request, now);
          break;
        case EventType::kWaitDone:
          execute(e.request, requests_[e.request].loop->on_wait_finished(now), now);
          break;
        case EventType::kReply:
          on_reply(e.request, e.attempt, Reply(e.arg), now);
          break;
        case EventType::kAttemptTimeout:
          on_reply(e.request, e.attempt, Reply::kHang, now);
          break;
        case EventType::kServiceDone:
          service_done(e.arg, e.request, e.attempt, now);
          break;
      }
    }
    return collect(options);
  }

 private:
  void push(TimePoint at, EventType type, uint32_t request, uint32_t attempt, uint8_t arg) {
    events_.push(Event{(at - TimePoint{}).count(), seq_++, request, attempt, type, arg});
  }

  void schedule_arrivals() {
    const ClientModel& c = scenario_.client;
    const uint32_t n = uint32_t(scenario_.requests);
    if (c.mode == ClientMode::kOpenLoop) {
      // All arrival times first, from the same generator, so they do not depend on the strategy.
      const Duration mean_gap = from_seconds(1.0 / c.rate_per_second);
      TimePoint t{};
      for (uint32_t id = 0; id < n; ++id) {
        t += exponential(random_, mean_gap);
        push(t, EventType::kRequestStart, id, 0, 0);
      }
      next_request_ = n;
      return;
    }
    const uint32_t clients = std::min(n, uint32_t(c.concurrency));
    for (uint32_t id = 0; id < clients; ++id) {
      requests_[id].client = int(id);
      push(TimePoint{} + from_seconds(random_.uniform01()), EventType::kRequestStart, id, 0, 0);
    }
    next_request_ = clients;
  }

  void start_request(uint32_t id, TimePoint now) {
    RequestState& r = requests_[id];
    r.start = now;
    r.loop = std::make_unique<AttemptLoop>(alias_, LoopRequest{}, random_, now);
    if (tool_policy_ != nullptr) {
      r.tool.emplace(*tool_policy_);
    }
    execute(id, r.loop->start(now), now);
  }

  // Carries out the attempt loop's command. kDone ends the request as `success` / `reason`
  // say (the caller knows what the answer was).
  void execute(uint32_t id, const LoopCommand& command, TimePoint now, bool success = true,
               size_t reason = size_t(GiveUpReason::kNone)) {
    RequestState& r = requests_[id];
    switch (command.kind) {
      case LoopCommand::Kind::kDone:
        finish(id, now, success, reason);
        return;
      case LoopCommand::Kind::kGiveUp:
        finish(id, now, false, size_t(command.reason));
        return;
      case LoopCommand::Kind::kWait:
        backoff_waited_ += command.delay;
        push(now + command.delay, EventType::kWaitDone, id, r.attempt, 0);
        return;
      case LoopCommand::Kind::kAttempt:
        ++r.attempt;
        r.upstream = uint8_t(command.target);
        r.in_attempt = true;
        ++attempts_;
        push(now + command.attempt_timeout, EventType::kAttemptTimeout, id, r.attempt, 0);
        arrive(r.upstream, id, r.attempt, now);
        return;
    }
  }

  // The attempt reaches upstream `u`.
  void arrive(uint8_t u, uint32_t id, uint32_t attempt, TimePoint now) {
    const UpstreamModel& m = scenario_.upstreams[u];
    const Duration since_start = now - TimePoint{};
    for (const OutageWindow& o : m.outages) {
      if (since_start >= o.start && since_start < o.end) {
        const Reply reply =
            o.mode == HardDownMode::kConnectFailed ? Reply::kConnectFailed : Reply::kOverloaded;
        push(now + o.fail_after.value_or(m.error_latency), EventType::kReply, id, attempt,
             uint8_t(reply));
        return;
      }
    }
    double rate = m.fault_rate;
    for (const BrownoutWindow& b : m.brownouts) {
      if (since_start >= b.start && since_start < b.end) {
        rate = std::max(rate, b.fault_rate);
      }
    }
    if (rate > 0 && random_.chance(rate)) {
      const Reply reply = draw_fault(m.fault_mix);
      if (reply != Reply::kHang) {  // a hang never answers: the attempt timer ends it
        push(now + m.error_latency, EventType::kReply, id, attempt, uint8_t(reply));
      }
      return;
    }
    UpstreamState& s = upstreams_[u];
    if (s.busy < m.capacity) {
      start_service(u, id, attempt, now);
    } else if (s.queue.size() < size_t(m.queue_limit)) {
      s.queue.emplace_back(id, attempt);
    } else {
      push(now + m.error_latency, EventType::kReply, id, attempt, uint8_t(Reply::kRateLimited));
    }
  }

  Reply draw_fault(const FaultMix& mix) {
    double x = random_.uniform01() * mix.total();
    if ((x -= mix.server_error) < 0) {
      return Reply::kServerError;
    }
    if ((x -= mix.overloaded) < 0) {
      return Reply::kOverloaded;
    }
    if ((x -= mix.rate_limited) < 0) {
      return Reply::kRateLimited;
    }
    return Reply::kHang;
  }

  void start_service(uint8_t u, uint32_t id, uint32_t attempt, TimePoint now) {
    UpstreamState& s = upstreams_[u];
    ++s.busy;
    double cost = scenario_.upstreams[u].cost_per_attempt_usd;
    if (tool_model_ != nullptr && attempt >= requests_[id].first_repair_attempt) {
      cost *= tool_model_->repair_cost_factor();
    }
    cost_usd_ += cost;
    push(now + s.latency.sample(random_), EventType::kServiceDone, id, attempt, u);
  }

  void service_done(uint8_t u, uint32_t id, uint32_t attempt, TimePoint now) {
    UpstreamState& s = upstreams_[u];
    --s.busy;
    on_reply(id, attempt, Reply::kOk, now);
    const UpstreamModel& m = scenario_.upstreams[u];
    while (s.busy < m.capacity && !s.queue.empty()) {
      const auto [next_id, next_attempt] = s.queue.front();
      s.queue.pop_front();
      if (m.serve_abandoned || is_waiting(next_id, next_attempt)) {
        start_service(u, next_id, next_attempt, now);
      }
    }
  }

  bool is_waiting(uint32_t id, uint32_t attempt) const {
    const RequestState& r = requests_[id];
    return r.in_attempt && r.attempt == attempt;
  }

  // The end of an attempt: a reply, or (kHang) the attempt timer. Stale events are ignored.
  void on_reply(uint32_t id, uint32_t attempt, Reply reply, TimePoint now) {
    if (!is_waiting(id, attempt)) {
      return;
    }
    RequestState& r = requests_[id];
    r.in_attempt = false;
    const AttemptOutcome outcome = classify(to_response(reply));
    if (tool_model_ != nullptr && outcome.succeeded()) {
      on_answer(id, now);
      return;
    }
    AttemptEnd end;
    end.verdict = outcome.succeeded() ? Verdict::kSuccess : Verdict::kFailure;
    end.outcome = outcome;
    const Duration retry_after = scenario_.upstreams[r.upstream].retry_after;
    if (reply == Reply::kRateLimited && retry_after > Duration::zero()) {
      end.pushback = retry_after;
    }
    execute(id, r.loop->on_attempt_ended(end, now), now);
  }

  // A transport success in a scenario with tool calls: the answer is validated, and an invalid
  // one handed to the strategy's ToolCallState. As in the gateway, a resample or repair goes at
  // once to the same upstream (the loop's kInvalid with resend), outside max_attempts, while the
  // request's deadline still bounds everything; the deployment is credited with a success
  // either way. REQUIRES: tool_model_.
  void on_answer(uint32_t id, TimePoint now) {
    RequestState& r = requests_[id];
    AttemptEnd end;
    if (answer_valid(r.attempt >= r.first_repair_attempt)) {
      execute(id, r.loop->on_attempt_ended(end, now), now);
      return;
    }
    ++invalid_answers_;
    if (!r.tool) {  // not validated: the client gets it as it is
      execute(id, r.loop->on_attempt_ended(end, now), now, false, kInvalidPassed);
      return;
    }
    end.verdict = Verdict::kInvalid;
    switch (r.tool->on_invalid()) {
      case ToolCallState::Action::kPass:
        execute(id, r.loop->on_attempt_ended(end, now), now, false, kInvalidPassed);
        return;
      case ToolCallState::Action::kFail:
        execute(id, r.loop->on_attempt_ended(end, now), now, false, kInvalidToolCall);
        return;
      case ToolCallState::Action::kRepair:
        r.first_repair_attempt = std::min(r.first_repair_attempt, r.attempt + 1);
        break;
      case ToolCallState::Action::kResample:
        break;
    }
    end.resend = true;
    execute(id, r.loop->on_attempt_ended(end, now), now);
  }

  // Certain outcomes draw nothing, so a scenario without invalid answers spends no randomness.
  bool answer_valid(bool repair) {
    const double p = repair ? tool_model_->repair_success_rate : 1 - tool_model_->fault_rate;
    return p >= 1 || (p > 0 && random_.chance(p));
  }

  void finish(uint32_t id, TimePoint now, bool success, GiveUpReason reason) {
    finish(id, now, success, size_t(reason));
  }

  // `reason` indexes RunMetrics::give_ups (metrics.h); ignored on success.
  void finish(uint32_t id, TimePoint now, bool success, size_t reason) {
    RequestState& r = requests_[id];
    assert(!r.done);
    r.done = true;
    r.end = now;
    r.success = success;
    ++finished_;
    if (success) {
      ++succeeded_;
    } else {
      ++give_ups_[reason];
    }
    r.loop.reset();  // returns what it holds: retry slot, the alias's request count
    if (r.client >= 0 && next_request_ < requests_.size()) {
      const uint32_t next = next_request_++;
      requests_[next].client = r.client;
      push(now + exponential(random_, scenario_.client.think_time), EventType::kRequestStart, next,
           0, 0);
    }
  }

  RunResult collect(const SimOptions& options) {
    RunResult result;
    result.strategy = strategy_.name;
    RunMetrics& m = result.metrics;
    m.requests = scenario_.requests;
    m.finished = finished_;
    m.succeeded = succeeded_;
    m.attempts = attempts_;
    m.cost_usd = cost_usd_;
    m.backoff_total_s = to_seconds(backoff_waited_);
    m.give_ups = give_ups_;
    m.has_tool_calls = tool_model_ != nullptr;
    m.invalid_answers = invalid_answers_;
    for (const UpstreamState& u : upstreams_) {
      m.breaker_trips += u.breaker ? u.breaker->trips() : 0;
    }
    m.retries_refused = budget_ ? budget_->retries_refused() : 0;

    std::vector<double> latencies_ms;
    latencies_ms.reserve(requests_.size());
    std::vector<RequestRecord> records;
    records.reserve(requests_.size());
    double sum_ms = 0;
    TimePoint last{};
    for (const RequestState& r : requests_) {
      const double ms = to_ms(r.end - r.start);
      latencies_ms.push_back(ms);
      sum_ms += ms;
      last = std::max(last, r.end);
      records.push_back({r.start, r.end, r.success});
    }
    m.makespan_s = to_seconds(last - TimePoint{});
    m.latency_mean_ms = latencies_ms.empty() ? 0 : sum_ms / double(latencies_ms.size());
    m.latency_p50_ms = percentile(latencies_ms, 0.50);
    m.latency_p99_ms = percentile(latencies_ms, 0.99);
    if (std::optional<OutageWindow> outage = scenario_.measured_outage()) {
      m.has_outage = true;
      if (std::optional<Duration> t = recovery_time(records, TimePoint{} + outage->end)) {
        m.recovery_s = to_seconds(*t);
      }
    }
    if (options.keep_records) {
      result.records = std::move(records);
    }
    return result;
  }

  const Scenario& scenario_;
  const Strategy& strategy_;
  RetryPolicy policy_;  // outlives every RetryState, which holds a reference to it
  SeededRandom random_;
  std::priority_queue<Event, std::vector<Event>, EventLater> events_;
  uint64_t seq_ = 0;
  std::vector<RequestState> requests_;
  std::vector<UpstreamState> upstreams_;
  std::optional<RetryBudget> budget_;
  std::unique_ptr<Router> router_;
  LoopAlias alias_;  // after the upstreams and the budget it points into
  const ToolCallModel* tool_model_ = nullptr;    // non-null iff the scenario has tool calls
  const ToolCallPolicy* tool_policy_ = nullptr;  // non-null iff the strategy validates them
  long invalid_answers_ = 0;
  uint32_t next_request_ = 0;
  int finished_ = 0;
  int succeeded_ = 0;
  long attempts_ = 0;
  double cost_usd_ = 0;
  Duration backoff_waited_{};
  std::array<long, kGiveUpReasonCount> give_ups_{};
};

}  // namespace

RunResult simulate(const Scenario& scenario, const Strategy& strategy, uint64_t seed,
                   const SimOptions& options) {
  Engine engine(scenario, strategy, seed);
  RunResult result = engine.run(options);
  result.seed = seed;
  return result;
}

}  // namespace sheepdog::sim
