#include "config/policy_overlay.h"

#include <array>
#include <utility>

#include "config/units.h"
#include "core/error_kind.h"

namespace sheepdog::config {
namespace {

constexpr std::array<std::string_view, 10> kPolicyKeys = {"max_attempts",
                                                          "timeouts",
                                                          "backoff",
                                                          "pushback",
                                                          "honor_should_retry_header",
                                                          "prefer_other_deployment",
                                                          "on",
                                                          "circuit_breaker",
                                                          "retry_budget",
                                                          "tool_validation"};
constexpr std::array<std::string_view, 3> kTimeoutKeys = {"attempt", "total", "first_token"};
constexpr std::array<std::string_view, 6> kBackoffKeys = {
    "kind", "base_delay", "max_delay", "multiplier", "jitter", "jitter_fraction"};
constexpr std::array<std::string_view, 2> kPushbackKeys = {"honor", "max"};
constexpr std::array<std::string_view, 13> kBreakerKeys = {"enabled",
                                                           "consecutive_failures",
                                                           "failure_rate",
                                                           "window",
                                                           "window_size",
                                                           "window_duration",
                                                           "minimum_calls",
                                                           "open_duration",
                                                           "open_duration_multiplier",
                                                           "max_open_duration",
                                                           "half_open_probes",
                                                           "half_open_successes",
                                                           "failure_kinds"};
constexpr std::array<std::string_view, 4> kToolValidationKeys = {"enabled", "mode", "max_retries",
                                                                 "streams"};
constexpr std::array<std::string_view, 3> kToolRepairModes = {"resample", "repair", "pass"};
constexpr std::array<std::string_view, 6> kBudgetKeys = {"enabled",        "max_tokens",
                                                         "token_ratio",    "concurrency_cap",
                                                         "budget_percent", "min_retry_concurrency"};
constexpr std::array<std::string_view, 5> kBackoffKinds = {"constant", "linear", "exponential",
                                                           "fibonacci", "decorrelated_jitter"};
constexpr std::array<std::string_view, 4> kJitterModes = {"none", "full", "equal", "proportional"};
constexpr std::array<std::string_view, 2> kWindows = {"count", "time"};
constexpr std::array<std::string_view, 3> kDispositions = {"retry", "fallback", "fail"};

std::vector<std::string_view> error_kind_names() {
  std::vector<std::string_view> names;
  for (ErrorKind kind : all_error_kinds()) {
    names.push_back(to_string(kind));
  }
  return names;
}

// Decodes the fields of one mapping of a policy (the policy itself or a section such as
// `backoff`) into setters on the overlay.
class SectionDecoder {
 public:
  SectionDecoder(Decoder& decoder, PolicyOverlay& overlay, YAML::Node map, std::string prefix)
      : d_(decoder), overlay_(overlay), map_(std::move(map)), prefix_(std::move(prefix)) {}

  std::string key_path(std::string_view key) const { return join_path(prefix_, key); }
  std::string full_path(std::string_view key) const {
    return join_path(overlay_.path, key_path(key));
  }

  // `read(node, path)` returns an optional value, `set(policy, value)` stores it.
  template <typename Read, typename Set>
  void field(std::string_view key, Read read, Set set) {
    YAML::Node node = Decoder::get(map_, key);
    auto value = read(node, full_path(key));
    if (value) {
      add(std::string(key), position_of(node),
          [v = *value, set](ResiliencePolicy& p) { set(p, v); });
    }
  }

  void add(const std::string& key, Position at, std::function<void(ResiliencePolicy&)> f) {
    overlay_.fields.push_back({key_path(key), at, std::move(f)});
  }

  void duration(std::string_view key, bool allow_zero, void (*set)(ResiliencePolicy&, Duration)) {
    field(
        key,
        [&](const YAML::Node& n, const std::string& p) { return d_.duration(n, p, allow_zero); },
        set);
  }
  void boolean(std::string_view key, void (*set)(ResiliencePolicy&, bool)) {
    field(
        key, [&](const YAML::Node& n, const std::string& p) { return d_.boolean(n, p); }, set);
  }
  void integer(std::string_view key, int64_t min, int64_t max,
               void (*set)(ResiliencePolicy&, int64_t)) {
    field(
        key, [&](const YAML::Node& n, const std::string& p) { return d_.integer(n, p, min, max); },
        set);
  }
  void number(std::string_view key, NumberRange range, void (*set)(ResiliencePolicy&, double)) {
    field(
        key, [&](const YAML::Node& n, const std::string& p) { return d_.number(n, p, range); },
        set);
  }
  void choice(std::string_view key, std::span<const std::string_view> choices,
              void (*set)(ResiliencePolicy&, size_t)) {
    field(
        key, [&](const YAML::Node& n, const std::string& p) { return d_.choice(n, p, choices); },
        set);
  }

  // A nested section: a mapping with its own keys. Null iff absent or invalid.
  std::optional<SectionDecoder> section(std::string_view key,
                                        std::span<const std::string_view> keys) {
    YAML::Node node = Decoder::get(map_, key);
    if (!d_.expect_map(node, full_path(key))) {
      return std::nullopt;
    }
    d_.check_keys(node, full_path(key), keys);
    return SectionDecoder(d_, overlay_, node, key_path(key));
  }

  Decoder& decoder() { return d_; }
  const YAML::Node& map() const { return map_; }

 private:
  Decoder& d_;
  PolicyOverlay& overlay_;
  YAML::Node map_;
  std::string prefix_;
};

constexpr int kMaxAttemptsLimit = 100;  // beyond this a typo is likelier than a wish
constexpr int64_t kIntLimit = 1'000'000'000;

void decode_dispositions(SectionDecoder& policy) {
  Decoder& d = policy.decoder();
  const YAML::Node map = Decoder::get(policy.map(), "on");
  const std::string path = policy.full_path("on");
  if (!d.expect_map(map, path, "error kind: retry, fallback or fail")) {
    return;
  }
  const std::vector<std::string_view> kinds = error_kind_names();
  d.check_unique_keys(map, path, "error kind");
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) {
      continue;
    }
    const std::string name = it->first.Scalar();
    const std::optional<ErrorKind> kind = parse_error_kind(name);
    if (!kind) {
      d.error(it->first, join_path(path, name),
              "unknown error kind" + did_you_mean(name, kinds) + "; expected one of " +
                  quoted_list(kinds));
      continue;
    }
    const std::optional<size_t> index = d.choice(it->second, join_path(path, name), kDispositions);
    if (index) {
      const Disposition disposition = *parse_disposition(kDispositions[*index]);
      policy.add("on." + name, position_of(it->second),
                 [k = *kind, disposition](ResiliencePolicy& p) {
                   p.retry.dispositions[static_cast<size_t>(k)] = disposition;
                 });
    }
  }
}

void decode_failure_kinds(SectionDecoder& breaker) {
  Decoder& d = breaker.decoder();
  const YAML::Node list = Decoder::get(breaker.map(), "failure_kinds");
  const std::string path = breaker.full_path("failure_kinds");
  if (!d.expect_sequence(list, path, "of error kinds")) {
    return;
  }
  if (list.size() == 0) {
    d.error(list, path,
            "empty list: the breaker could never trip; expected at least one error kind (or "
            "circuit_breaker.enabled: false)");
    return;
  }
  const std::vector<std::string_view> kinds = error_kind_names();
  std::array<bool, kErrorKindCount> set{};
  bool ok = true;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::optional<size_t> index = d.choice(list[i], index_path(path, i), kinds);
    if (index && all_error_kinds()[*index] == ErrorKind::kCancelled) {
      // Not an upstream failure: the client went away, or the call was never made. Counting it
      // would let disconnecting clients (or key rotation) open a healthy deployment's breaker.
      d.error(list[i], index_path(path, i),
              "'cancelled' cannot trip a breaker: it is the client going away or a call never "
              "made, not an upstream failure; remove it");
      ok = false;
    } else if (index) {
      set[*index] = true;
    } else {
      ok = false;
    }
  }
  if (ok) {
    breaker.add("failure_kinds", position_of(list),
                [set](ResiliencePolicy& p) { p.circuit_breaker.failure_kinds = set; });
  }
}

}  // namespace

std::span<const std::string_view> policy_keys() { return kPolicyKeys; }

PolicyOverlay decode_policy_overlay(Decoder& d, const YAML::Node& node, std::string path) {
  PolicyOverlay overlay;
  overlay.path = std::move(path);
  overlay.position = position_of(node);
  if (!d.expect_map(node, overlay.path, "of policy fields")) {
    return overlay;
  }
  d.check_keys(node, overlay.path, kPolicyKeys);
  SectionDecoder policy(d, overlay, node, "");
  using P = ResiliencePolicy;

  policy.integer("max_attempts", 1, kMaxAttemptsLimit,
                 [](P& p, int64_t v) { p.retry.max_attempts = static_cast<int>(v); });
  policy.boolean("honor_should_retry_header",
                 [](P& p, bool v) { p.retry.honor_should_retry_header = v; });
  policy.boolean("prefer_other_deployment",
                 [](P& p, bool v) { p.retry.prefer_other_deployment = v; });

  if (auto s = policy.section("timeouts", kTimeoutKeys)) {
    s->duration("attempt", false, [](P& p, Duration v) { p.retry.attempt_timeout = v; });
    s->duration("total", false, [](P& p, Duration v) { p.retry.total_timeout = v; });
    s->duration("first_token", true, [](P& p, Duration v) { p.first_token_timeout = v; });
  }
  if (auto s = policy.section("backoff", kBackoffKeys)) {
    s->choice("kind", kBackoffKinds,
              [](P& p, size_t i) { p.retry.backoff.kind = *parse_backoff_kind(kBackoffKinds[i]); });
    s->duration("base_delay", false, [](P& p, Duration v) { p.retry.backoff.base_delay = v; });
    s->duration("max_delay", false, [](P& p, Duration v) { p.retry.backoff.max_delay = v; });
    s->number("multiplier", {.min = 1, .max = 100},
              [](P& p, double v) { p.retry.backoff.multiplier = v; });
    s->choice("jitter", kJitterModes,
              [](P& p, size_t i) { p.retry.backoff.jitter = *parse_jitter_mode(kJitterModes[i]); });
    s->number("jitter_fraction", {.min = 0, .max = 1},
              [](P& p, double v) { p.retry.backoff.jitter_fraction = v; });
  }
  if (auto s = policy.section("pushback", kPushbackKeys)) {
    s->boolean("honor", [](P& p, bool v) { p.retry.honor_pushback = v; });
    s->duration("max", true, [](P& p, Duration v) { p.retry.max_pushback = v; });
  }
  decode_dispositions(policy);
  if (auto s = policy.section("circuit_breaker", kBreakerKeys)) {
    s->boolean("enabled", [](P& p, bool v) { p.circuit_breaker.enabled = v; });
    s->integer("consecutive_failures", 0, kIntLimit, [](P& p, int64_t v) {
      p.circuit_breaker.consecutive_failures = static_cast<int>(v);
    });
    s->number("failure_rate", {.min = 0, .max = 1},
              [](P& p, double v) { p.circuit_breaker.failure_rate_threshold = v; });
    s->choice("window", kWindows, [](P& p, size_t i) {
      p.circuit_breaker.window = i == 0 ? BreakerWindow::kCount : BreakerWindow::kTime;
    });
    s->integer("window_size", 1, kIntLimit,
               [](P& p, int64_t v) { p.circuit_breaker.window_size = static_cast<int>(v); });
    s->duration("window_duration", false,
                [](P& p, Duration v) { p.circuit_breaker.window_duration = v; });
    s->integer("minimum_calls", 1, kIntLimit,
               [](P& p, int64_t v) { p.circuit_breaker.minimum_calls = static_cast<int>(v); });
    s->duration("open_duration", false,
                [](P& p, Duration v) { p.circuit_breaker.open_duration = v; });
    s->number("open_duration_multiplier", {.min = 1, .max = 100},
              [](P& p, double v) { p.circuit_breaker.open_duration_multiplier = v; });
    s->duration("max_open_duration", false,
                [](P& p, Duration v) { p.circuit_breaker.max_open_duration = v; });
    s->integer("half_open_probes", 1, kIntLimit, [](P& p, int64_t v) {
      p.circuit_breaker.half_open_max_probes = static_cast<int>(v);
    });
    s->integer("half_open_successes", 1, kIntLimit, [](P& p, int64_t v) {
      p.circuit_breaker.half_open_successes = static_cast<int>(v);
    });
    decode_failure_kinds(*s);
  }
  if (auto s = policy.section("retry_budget", kBudgetKeys)) {
    s->boolean("enabled", [](P& p, bool v) { p.retry_budget.token_bucket_enabled = v; });
    s->number("max_tokens", {.min = 0, .max = 1e9, .min_open = true},
              [](P& p, double v) { p.retry_budget.max_tokens = v; });
    s->number("token_ratio", {.min = 0, .max = 1e9, .min_open = true},
              [](P& p, double v) { p.retry_budget.token_ratio = v; });
    s->boolean("concurrency_cap", [](P& p, bool v) { p.retry_budget.concurrency_cap_enabled = v; });
    s->number("budget_percent", {.min = 0, .max = 100, .min_open = true},
              [](P& p, double v) { p.retry_budget.budget_percent = v; });
    s->integer("min_retry_concurrency", 0, kIntLimit,
               [](P& p, int64_t v) { p.retry_budget.min_retry_concurrency = static_cast<int>(v); });
  }
  if (auto s = policy.section("tool_validation", kToolValidationKeys)) {
    s->boolean("enabled", [](P& p, bool v) { p.tool_calls.enabled = v; });
    s->choice("mode", kToolRepairModes,
              [](P& p, size_t i) { p.tool_calls.mode = static_cast<ToolRepairMode>(i); });
    s->integer("max_retries", 0, 10,
               [](P& p, int64_t v) { p.tool_calls.max_retries = static_cast<int>(v); });
    s->boolean("streams", [](P& p, bool v) { p.tool_calls.validate_streams = v; });
  }
  return overlay;
}

void PolicyMerge::apply(const PolicyOverlay& overlay) {
  ++order_;
  for (const PolicyField& field : overlay.fields) {
    field.apply(policy_);
    origins_.insert_or_assign(field.key,
                              Origin{join_path(overlay.path, field.key), field.position, order_});
  }
}

const PolicyMerge::Origin* PolicyMerge::origin(std::string_view key) const {
  const auto it = origins_.find(key);
  return it == origins_.end() ? nullptr : &it->second;
}

namespace {

// Reports a broken relation between two fields at the one set last, naming where the other
// value came from.
class RelationChecker {
 public:
  RelationChecker(Decoder& decoder, const PolicyMerge& merge) : d_(decoder), merge_(merge) {}

  // `ok` says whether the relation holds; `a` and `b` are the fields' keys, `a_value` and
  // `b_value` their current values as text, `relation` the rule ("timeouts.attempt <=
  // timeouts.total").
  bool check(bool ok, std::string_view a, const std::string& a_value, std::string_view b,
             const std::string& b_value, std::string_view relation) {
    if (ok) {
      return true;
    }
    const PolicyMerge::Origin* a_origin = merge_.origin(a);
    const PolicyMerge::Origin* b_origin = merge_.origin(b);
    const bool blame_a =
        b_origin == nullptr || (a_origin != nullptr && a_origin->order >= b_origin->order);
    const PolicyMerge::Origin* blamed = blame_a ? a_origin : b_origin;
    const PolicyMerge::Origin* other = blame_a ? b_origin : a_origin;
    const std::string_view other_key = blame_a ? b : a;
    const std::string& blamed_value = blame_a ? a_value : b_value;
    const std::string& other_value = blame_a ? b_value : a_value;
    const std::string source = other == nullptr ? "built-in default" : "from " + other->path;
    if (blamed == nullptr) {  // both built-in: cannot happen with valid built-in defaults
      return false;
    }
    d_.error(blamed->position, blamed->path,
             blamed_value + " conflicts with " + std::string(other_key) + " = " + other_value +
                 " (" + source + "); expected " + std::string(relation));
    return false;
  }

 private:
  Decoder& d_;
  const PolicyMerge& merge_;
};

}  // namespace

bool validate_merged_policy(Decoder& d, const PolicyMerge& merge, const PolicyOverlay& last) {
  const ResiliencePolicy& p = merge.policy();
  RelationChecker rel(d, merge);
  bool ok = true;
  ok &= rel.check(p.retry.attempt_timeout <= p.retry.total_timeout, "timeouts.attempt",
                  format_duration(p.retry.attempt_timeout), "timeouts.total",
                  format_duration(p.retry.total_timeout), "timeouts.attempt <= timeouts.total");
  ok &= rel.check(p.retry.backoff.max_delay >= p.retry.backoff.base_delay, "backoff.max_delay",
                  format_duration(p.retry.backoff.max_delay), "backoff.base_delay",
                  format_duration(p.retry.backoff.base_delay),
                  "backoff.max_delay >= backoff.base_delay");
  // Breaker and budget settings are checked even when disabled, as the resilience layer does:
  // an error must not hide behind `enabled: false` and surface when someone flips it.
  const CircuitBreakerPolicy& cb = p.circuit_breaker;
  {
    ok &= rel.check(
        cb.consecutive_failures > 0 || cb.failure_rate_threshold > 0,
        "circuit_breaker.consecutive_failures", std::to_string(cb.consecutive_failures),
        "circuit_breaker.failure_rate", "0",
        "at least one trigger > 0 (to turn the breaker off, use circuit_breaker.enabled: false)");
    if (cb.failure_rate_threshold > 0 && cb.window == BreakerWindow::kCount) {
      ok &= rel.check(cb.minimum_calls <= cb.window_size, "circuit_breaker.minimum_calls",
                      std::to_string(cb.minimum_calls), "circuit_breaker.window_size",
                      std::to_string(cb.window_size),
                      "circuit_breaker.minimum_calls <= circuit_breaker.window_size, else the "
                      "failure rate never trips");
    }
    ok &= rel.check(cb.max_open_duration >= cb.open_duration, "circuit_breaker.max_open_duration",
                    format_duration(cb.max_open_duration), "circuit_breaker.open_duration",
                    format_duration(cb.open_duration),
                    "circuit_breaker.max_open_duration >= circuit_breaker.open_duration");
  }
  const RetryBudgetPolicy& budget = p.retry_budget;
  {
    ok &= rel.check(budget.token_ratio <= budget.max_tokens, "retry_budget.token_ratio",
                    format_number(budget.token_ratio), "retry_budget.max_tokens",
                    format_number(budget.max_tokens),
                    "retry_budget.token_ratio <= retry_budget.max_tokens");
  }
  if (!ok) {
    return false;
  }
  // The resilience layer's own rules are the final word; anything they reject that the checks
  // above did not foresee is reported at the overlay as a whole.
  const auto backstop = [&](const Status& status) {
    if (!status.is_ok()) {
      d.error(last.position, last.path,
              "the merged policy is invalid: " + status.message() +
                  "; expected values the resilience layer accepts (see docs/configuration.md)");
      ok = false;
    }
  };
  backstop(p.retry.validate());
  backstop(cb.validate());
  backstop(budget.validate());
  backstop(p.tool_calls.validate());
  return ok;
}

}  // namespace sheepdog::config
