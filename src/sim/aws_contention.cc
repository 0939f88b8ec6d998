// The optimistic-concurrency contention model (see aws_contention.h), on virtual time.
#include "sim/aws_contention.h"

#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <queue>

#include "core/random.h"
#include "sim/distributions.h"

namespace sheepdog::sim {
namespace {

enum class Step : uint8_t {
  kReadAtServer,   // the read reaches the server, which answers with the current version
  kWriteAtServer,  // the conditional write reaches the server
  kReplyToClient,  // the write's answer reaches the client
};

struct Message {
  int64_t at_ns;
  uint64_t seq;
  int client;
  Step step;
  bool accepted;  // kReplyToClient only
};

struct MessageLater {
  bool operator()(const Message& a, const Message& b) const {
    return a.at_ns != b.at_ns ? a.at_ns > b.at_ns : a.seq > b.seq;
  }
};

BackoffPolicy exponential(Duration base, Duration cap, JitterMode jitter) {
  BackoffPolicy p;
  p.kind = BackoffKind::kExponential;
  p.base_delay = base;
  p.max_delay = cap;
  p.multiplier = 2.0;
  p.jitter = jitter;
  return p;
}

class Contention {
 public:
  Contention(const ContentionConfig& config, const ContentionVariant& variant, uint64_t seed)
      : config_(config),
        random_(seed),
        read_version_(size_t(config.clients), 0),
        calls_(size_t(config.clients), 0) {
    for (int c = 0; c < config.clients; ++c) {
      backoffs_.push_back(std::make_unique<Backoff>(variant.policy, random_));
    }
    result_.variant = variant.name;
  }

  ContentionResult run() {
    for (int c = 0; c < config_.clients; ++c) {
      send(0, c, Step::kReadAtServer);
    }
    while (!queue_.empty()) {
      const Message m = queue_.top();
      queue_.pop();
      handle(m);
    }
    for (long c : calls_) {
      result_.calls += c;
    }
    return result_;
  }

 private:
  // A network delay: |N(mean, sd)|, as in the published simulator.
  int64_t delay_ns() {
    const double ns = double(config_.net_delay_mean.count()) +
                      double(config_.net_delay_sd.count()) * standard_normal(random_);
    return int64_t(std::fabs(ns));
  }

  void send(int64_t now_ns, int client, Step step, bool accepted = false) {
    queue_.push(Message{now_ns + delay_ns(), seq_++, client, step, accepted});
  }

  void handle(const Message& m) {
    const size_t c = size_t(m.client);
    switch (m.step) {
      case Step::kReadAtServer:
        read_version_[c] = version_;
        // The answer travels back, then the write travels out: two delays.
        queue_.push(Message{m.at_ns + delay_ns() + delay_ns(), seq_++, m.client,
                            Step::kWriteAtServer, false});
        return;
      case Step::kWriteAtServer: {
        ++calls_[c];
        const bool accepted = read_version_[c] == version_;
        version_ += accepted ? 1 : 0;
        send(m.at_ns, m.client, Step::kReplyToClient, accepted);
        return;
      }
      case Step::kReplyToClient:
        if (m.accepted) {
          result_.completion = std::max(result_.completion, nanoseconds(m.at_ns));
          return;
        }
        if (calls_[c] >= config_.max_calls_per_client) {
          result_.all_succeeded = false;
          return;
        }
        send(m.at_ns + backoffs_[c]->next_delay().count(), m.client, Step::kReadAtServer);
        return;
    }
  }

  const ContentionConfig& config_;
  SeededRandom random_;
  std::vector<std::unique_ptr<Backoff>> backoffs_;
  std::priority_queue<Message, std::vector<Message>, MessageLater> queue_;
  uint64_t seq_ = 0;
  long version_ = 0;
  std::vector<long> read_version_;
  std::vector<long> calls_;
  ContentionResult result_;
};

}  // namespace

std::vector<ContentionVariant> aws_variants(const ContentionConfig& config) {
  // The published exponential sleeps base * 2^n from n = 1, i.e. 2 * base first.
  const Duration first = 2 * config.base_delay;
  BackoffPolicy decorrelated = exponential(config.base_delay, config.max_delay, JitterMode::kNone);
  decorrelated.kind = BackoffKind::kDecorrelatedJitter;
  return {
      {"no-jitter", exponential(first, config.max_delay, JitterMode::kNone)},
      {"full-jitter", exponential(first, config.max_delay, JitterMode::kFull)},
      {"equal-jitter", exponential(first, config.max_delay, JitterMode::kEqual)},
      {"decorrelated-jitter", decorrelated},
  };
}

ContentionResult run_contention(const ContentionConfig& config, const ContentionVariant& variant,
                                uint64_t seed) {
  return Contention(config, variant, seed).run();
}

std::string describe_contention(const ContentionConfig& config) {
  return fmt::format(
      "Scenario: aws-contention\n"
      "  The contention model of AWS's \"Exponential Backoff and Jitter\" (2015), on the engine's "
      "Backoff objects.\n\n"
      "Clients: {}, all starting at 0 s, each needing one successful write to one row.\n"
      "Protocol: optimistic concurrency; read the version, then write conditionally on it; the "
      "write is rejected iff another write was accepted in between.\n"
      "Network: every message takes |N({:g} ms, {:g} ms)|.\n"
      "Retries: unlimited; after a rejected write a client waits one network delay plus "
      "Backoff::next_delay(), then reads again.\n"
      "Backoff: exponential x2 from {:g} ms (no jitter, full jitter, equal jitter) and "
      "decorrelated jitter from {:g} ms; cap {:g} s.\n"
      "Measured: calls (writes sent: the work) and completion time (when the last client learned "
      "of its success).\n\n"
      "Assumptions:\n"
      "  - Network delay, base and cap as in the simulator AWS published with the post (mean "
      "10 ms, sd 2 ms, base 5 ms, cap 2 s); its exponential's first sleep is 2 x base.\n"
      "  - All clients start together (the worst case the post illustrates).\n",
      config.clients, to_ms(config.net_delay_mean), to_ms(config.net_delay_sd),
      to_ms(2 * config.base_delay), to_ms(config.base_delay), to_seconds(config.max_delay));
}

}  // namespace sheepdog::sim
