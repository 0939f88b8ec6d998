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
#include "sim/distributions.h"

namespace sheepdog::sim {
namespace {

enum class EventType : uint8_t {
  kRequestStart,    // request `request` arrives
  kAttemptStart,    // after a backoff: attempt again; `arg` is a Want
  kReply,           // a fast reply (`arg` is a Reply) for attempt `attempt`
  kAttemptTimeout,  // the client's attempt timer
  kServiceDone,     // upstream `arg` finished serving `attempt` of `request`
};

enum class Reply : uint8_t { kOk, kServerError, kOverloaded, kRateLimited, kConnectFailed, kHang };

// Which upstream the next attempt wants, as in gateway::CandidatePicker.
enum class Want : uint8_t { kFirst, kSame, kNext };

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
  std::optional<RetryState> retry;
  std::optional<ToolCallState> tool;  // iff the strategy validates tool calls
  // Attempts from this one on are repair requests (longer prompt, repair success rate).
  uint32_t first_repair_attempt = UINT32_MAX;
  TimePoint start{};
  TimePoint end{};
  int client = -1;        // closed loop only
  uint32_t attempt = 0;   // attempts started
  uint64_t tried = 0;     // bit per upstream: picked before for this request
  uint64_t excluded = 0;  // bit per upstream: never again (a "fall back" kind failed there)
  uint8_t upstream = 0;   // of the current (or last) attempt; valid iff attempt > 0
  bool in_attempt = false;
  bool holds_retry_slot = false;
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
    candidates_ = strategy.fallback ? int(scenario.upstreams.size()) : 1;
    upstreams_.reserve(scenario.upstreams.size());
    for (const UpstreamModel& model : scenario.upstreams) {
      upstreams_.emplace_back(model);
      if (strategy.breaker && strategy.breaker->enabled) {
        upstreams_.back().breaker = std::make_unique<CircuitBreaker>(*strategy.breaker);
      }
    }
    if (strategy.budget) {
      budget_.emplace(*strategy.budget);
    }
    if (scenario.tool_calls) {
      tool_model_ = &*scenario.tool_calls;
    }
    if (strategy.tool_calls && strategy.tool_calls->enabled) {
      tool_policy_ = &*strategy.tool_calls;
    }
    requests_.resize(size_t(scenario.requests));
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
        case EventType::kAttemptStart:
          start_attempt(e.request, now, Want(e.arg));
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
    r.retry.emplace(policy_, random_, now);
    if (tool_policy_ != nullptr) {
      r.tool.emplace(*tool_policy_);
    }
    if (budget_) {
      budget_->request_started();
    }
    start_attempt(id, now, Want::kFirst);
  }

  void start_attempt(uint32_t id, TimePoint now, Want want) {
    RequestState& r = requests_[id];
    const Duration timeout = r.retry->attempt_timeout(now);
    if (timeout <= Duration::zero()) {
      finish(id, now, false, GiveUpReason::kDeadline);
      return;
    }
    const std::optional<uint8_t> chosen = pick(r, want, now);
    if (!chosen) {
      finish(id, now, false, GiveUpReason::kAllCircuitsOpen);
      return;
    }
    ++r.attempt;
    r.in_attempt = true;
    ++attempts_;
    push(now + timeout, EventType::kAttemptTimeout, id, r.attempt, 0);
    arrive(*chosen, id, r.attempt, now);
  }

  // The gateway's candidate rule (gateway/candidate_picker.h), over upstreams in scenario order:
  // "same" keeps the current upstream if its breaker admits; otherwise, and for "first" and
  // "next", an untried upstream in order, then one tried before, cyclically after the current
  // one (which comes last). Excluded upstreams and refusing breakers are skipped.
  std::optional<uint8_t> pick(RequestState& r, Want want, TimePoint now) {
    const bool has_current = r.attempt > 0;
    if (want == Want::kSame && has_current && admit(r, r.upstream, now)) {
      return r.upstream;
    }
    for (int u = 0; u < candidates_; ++u) {
      if (!(r.tried >> u & 1) && admit(r, uint8_t(u), now)) {
        return uint8_t(u);
      }
    }
    const int start = has_current ? r.upstream + 1 : 0;
    for (int k = 0; k < candidates_; ++k) {
      const int u = (start + k) % candidates_;
      if ((r.tried >> u & 1) && admit(r, uint8_t(u), now)) {
        return uint8_t(u);
      }
    }
    return std::nullopt;
  }

  bool admit(RequestState& r, uint8_t u, TimePoint now) {
    if (r.excluded >> u & 1) {
      return false;
    }
    CircuitBreaker* breaker = upstreams_[u].breaker.get();
    if (breaker != nullptr && !breaker->try_acquire(now)) {
      return false;
    }
    r.tried |= uint64_t{1} << u;
    r.upstream = u;
    return true;
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

  // Whether another candidate than the current one could take the next attempt: not excluded
  // and its breaker not open (half-open counts: it may admit a probe).
  bool has_alternative(const RequestState& r, TimePoint now) const {
    for (int u = 0; u < candidates_; ++u) {
      if (u == r.upstream || (r.excluded >> u & 1)) {
        continue;
      }
      const CircuitBreaker* breaker = upstreams_[size_t(u)].breaker.get();
      if (breaker == nullptr || breaker->state(now) != BreakerState::kOpen) {
        return true;
      }
    }
    return false;
  }

  // The end of an attempt: a reply, or (kHang) the attempt timer. Stale events are ignored.
  void on_reply(uint32_t id, uint32_t attempt, Reply reply, TimePoint now) {
    if (!is_waiting(id, attempt)) {
      return;
    }
    RequestState& r = requests_[id];
    r.in_attempt = false;
    const AttemptOutcome outcome = classify(to_response(reply));
    if (CircuitBreaker* breaker = upstreams_[r.upstream].breaker.get()) {
      breaker->record(outcome, now);
    }
    if (budget_) {
      outcome.succeeded() ? budget_->record_success() : budget_->record_failure();
      if (r.holds_retry_slot) {
        budget_->retry_finished();
        r.holds_retry_slot = false;
      }
    }
    if (tool_model_ != nullptr && outcome.succeeded()) {
      on_answer(id, now);
      return;
    }
    std::optional<Duration> pushback;
    const Duration retry_after = scenario_.upstreams[r.upstream].retry_after;
    if (reply == Reply::kRateLimited && retry_after > Duration::zero()) {
      pushback = retry_after;
    }
    const RetryDecision decision =
        r.retry->on_attempt(outcome, pushback, now, has_alternative(r, now));
    if (decision.action == RetryDecision::Action::kDone) {
      finish(id, now, true, GiveUpReason::kNone);
      return;
    }
    if (decision.action == RetryDecision::Action::kGiveUp) {
      finish(id, now, false, decision.reason);
      return;
    }
    if (policy_.disposition_for(*outcome.error) == Disposition::kFallBack) {
      r.excluded |= uint64_t{1} << r.upstream;
    }
    if (budget_) {
      if (!budget_->try_acquire_retry()) {
        finish(id, now, false, GiveUpReason::kBudgetExhausted);
        return;
      }
      r.holds_retry_slot = true;
    }
    backoff_waited_ += decision.delay;
    const Want want =
        decision.action == RetryDecision::Action::kRetrySame ? Want::kSame : Want::kNext;
    push(now + decision.delay, EventType::kAttemptStart, id, r.attempt, uint8_t(want));
  }

  // A transport success in a scenario with tool calls: the answer is validated, and an invalid
  // one handed to the strategy's ToolCallState. As in the gateway's attempt loop
  // (gateway/request_run.cc), a resample or repair goes at once to the same upstream, and the
  // invalid answer is not reported to the RetryState: it uses the validation allowance, not
  // max_attempts, while the request's deadline still bounds everything. REQUIRES: tool_model_.
  void on_answer(uint32_t id, TimePoint now) {
    RequestState& r = requests_[id];
    if (answer_valid(r.attempt >= r.first_repair_attempt)) {
      finish(id, now, true, GiveUpReason::kNone);
      return;
    }
    ++invalid_answers_;
    if (!r.tool) {  // not validated: the client gets it as it is
      finish(id, now, false, kInvalidPassed);
      return;
    }
    switch (r.tool->on_invalid()) {
      case ToolCallState::Action::kPass:
        finish(id, now, false, kInvalidPassed);
        return;
      case ToolCallState::Action::kFail:
        finish(id, now, false, kInvalidToolCall);
        return;
      case ToolCallState::Action::kRepair:
        r.first_repair_attempt = std::min(r.first_repair_attempt, r.attempt + 1);
        break;
      case ToolCallState::Action::kResample:
        break;
    }
    start_attempt(id, now, Want::kSame);
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
    if (budget_) {
      if (r.holds_retry_slot) {
        budget_->retry_finished();
        r.holds_retry_slot = false;
      }
      budget_->request_finished();
    }
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
  const ToolCallModel* tool_model_ = nullptr;    // non-null iff the scenario has tool calls
  const ToolCallPolicy* tool_policy_ = nullptr;  // non-null iff the strategy validates them
  long invalid_answers_ = 0;
  int candidates_ = 1;
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
