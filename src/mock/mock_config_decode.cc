#include "mock/mock_config_decode.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <limits>

#include "config/diagnostic.h"
#include "config/env.h"
#include "config/yaml_decoder.h"
#include "config/yaml_text.h"
#include "core/key_fingerprint.h"

namespace sheepdog::mock {
namespace {

using config::Decoder;
using config::join_path;

constexpr std::array<std::string_view, 6> kProfileKeys = {
    "latency",           "retry_after",        "x_should_retry",
    "tokens_per_second", "slow_stream_factor", "faults"};
constexpr std::array<std::string_view, 7> kModelUpdateKeys = {
    "model", "latency", "retry_after", "x_should_retry", "tokens_per_second", "slow_stream_factor",
    "faults"};
constexpr std::array<std::string_view, 8> kDocumentKeys = {"default",
                                                           "models",
                                                           "keys",
                                                           "embedding_dimensions",
                                                           "completion_tokens",
                                                           "max_completion_tokens",
                                                           "context_window",
                                                           "model_list"};
constexpr std::array<std::string_view, 3> kFaultDocumentKeys = {"default", "models", "keys"};
constexpr std::array<std::string_view, 2> kKeyLimitKeys = {"rpm", "tpm"};
constexpr std::array<std::string_view, 2> kLatencyKeys = {"median", "p99"};
constexpr std::array<std::string_view, 2> kScriptKeys = {"outcomes", "model"};

config::EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

void decode_latency(const YAML::Node& node, const std::string& path, Decoder& d,
                    LatencySpec& latency) {
  if (!Decoder::present(node)) {
    return;
  }
  if (!node.IsMap()) {
    if (auto fixed = d.duration(node, path, /*allow_zero=*/true)) {
      latency.median = latency.p99 = *fixed;
    }
    return;
  }
  d.check_keys(node, path, kLatencyKeys);
  if (!d.require(node, "median", path)) {
    return;
  }
  const auto median = d.duration(Decoder::get(node, "median"), join_path(path, "median"), false);
  const YAML::Node p99_node = Decoder::get(node, "p99");
  const auto p99 =
      Decoder::present(p99_node) ? d.duration(p99_node, join_path(path, "p99"), false) : median;
  if (!median || !p99) {
    return;
  }
  if (*p99 < *median) {
    d.error(p99_node, join_path(path, "p99"), "must be >= median");
    return;
  }
  latency.median = *median;
  latency.p99 = *p99;
}

void decode_rates(const YAML::Node& node, const std::string& path, Decoder& d,
                  FaultProfile& profile) {
  if (!d.expect_map(node, path, "fault name to probability")) {
    return;
  }
  profile.rates.fill(0.0);
  double sum = 0;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = it->first.Scalar();
    const std::string entry_path = join_path(path, name);
    const std::optional<Outcome> outcome = parse_outcome(name);
    if (!outcome || *outcome == Outcome::kOk) {
      const std::span<const std::string_view> names = outcome_names().subspan(1);
      d.error(it->first, entry_path,
              (outcome ? std::string("'ok' is whatever the faults leave; list faults only")
                       : "unknown fault" + config::did_you_mean(name, names)) +
                  "; expected one of " + config::quoted_list(names) +
                  " (or 429, 500, 502, 503, 504)");
      continue;
    }
    if (auto rate = d.number(it->second, entry_path, {0.0, 1.0})) {
      profile.rates[static_cast<size_t>(*outcome)] = *rate;
      sum += *rate;
    }
  }
  if (sum > 1.0 + 1e-9) {
    d.error(node, path, "the rates add up to " + std::to_string(sum) + "; expected at most 1");
  }
}

void decode_profile(const YAML::Node& node, const std::string& path, Decoder& d,
                    std::span<const std::string_view> allowed_keys, FaultProfile& profile) {
  if (!d.expect_map(node, path, "a fault profile")) {
    return;
  }
  d.check_keys(node, path, allowed_keys);
  decode_latency(Decoder::get(node, "latency"), join_path(path, "latency"), d, profile.latency);
  if (auto v = d.number(Decoder::get(node, "tokens_per_second"),
                        join_path(path, "tokens_per_second"), {0.0, 1e6})) {
    profile.tokens_per_second = *v;
  }
  if (auto v = d.number(Decoder::get(node, "slow_stream_factor"),
                        join_path(path, "slow_stream_factor"), {1.0, 1e4})) {
    profile.slow_stream_factor = *v;
  }
  if (auto v = d.duration(Decoder::get(node, "retry_after"), join_path(path, "retry_after"),
                          /*allow_zero=*/true)) {
    profile.retry_after = *v;
  }
  if (auto v = d.boolean(Decoder::get(node, "x_should_retry"), join_path(path, "x_should_retry"))) {
    profile.should_retry = *v;
  }
  const YAML::Node faults = Decoder::get(node, "faults");
  if (Decoder::present(faults)) {
    decode_rates(faults, join_path(path, "faults"), d, profile);
  }
}

void decode_models(const YAML::Node& node, Decoder& d, const FaultProfile& inherited,
                   MockConfig& config) {
  if (!d.expect_map(node, "models", "model name to fault profile")) {
    return;
  }
  d.check_unique_keys(node, "models", "model");
  for (auto it = node.begin(); it != node.end(); ++it) {
    FaultProfile profile = inherited;
    decode_profile(it->second, join_path("models", it->first.Scalar()), d, kProfileKeys, profile);
    config.models[it->first.Scalar()] = profile;
  }
}

// `keys`, when present, replaces config.keys as a whole. Paths name keys by fingerprint, so
// that error messages never repeat a whole key.
void decode_keys(const YAML::Node& node, Decoder& d, MockConfig& config) {
  if (!d.expect_map(node, "keys", "API key to {rpm, tpm}")) {
    return;
  }
  d.check_unique_keys(node, "keys", "API key");
  config.keys.clear();
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::optional<std::string> key = d.name(it->first, "keys");
    if (!key) {
      continue;
    }
    const std::string path = join_path("keys", key_fingerprint(*key));
    const YAML::Node limits = it->second;  // a copy: `*it` is a temporary
    if (!d.expect_map(limits, path, "{rpm: N, tpm: N}")) {
      if (!Decoder::present(limits)) {
        d.error(it->first, path, "no limits; expected {rpm: N, tpm: N} (either may be left out)");
      }
      continue;
    }
    d.check_keys(limits, path, kKeyLimitKeys);
    KeyLimit limit;
    constexpr int64_t kMax = int64_t{1} << 40;
    if (auto v = d.integer(Decoder::get(limits, "rpm"), join_path(path, "rpm"), 1, kMax)) {
      limit.rpm = *v;
    }
    if (auto v = d.integer(Decoder::get(limits, "tpm"), join_path(path, "tpm"), 1, kMax)) {
      limit.tpm = *v;
    }
    if (!Decoder::present(Decoder::get(limits, "rpm")) &&
        !Decoder::present(Decoder::get(limits, "tpm"))) {
      d.error(limits, path, "no limits; expected rpm, tpm or both");
    }
    config.keys[*key] = limit;
  }
}

void decode_size(const YAML::Node& root, std::string_view key, Decoder& d, int64_t min, int64_t max,
                 size_t& field) {
  if (auto v = d.integer(Decoder::get(root, key), std::string(key), min, max)) {
    field = static_cast<size_t>(*v);
  }
}

void decode_document(const YAML::Node& root, Decoder& d, MockConfig& config) {
  if (!Decoder::present(root)) {
    return;  // an empty file: all defaults
  }
  if (!d.expect_map(root, "", "the mock configuration")) {
    return;
  }
  d.check_keys(root, "", kDocumentKeys);
  decode_profile(Decoder::get(root, "default"), "default", d, kProfileKeys, config.defaults);
  decode_models(Decoder::get(root, "models"), d, config.defaults, config);
  decode_keys(Decoder::get(root, "keys"), d, config);
  decode_size(root, "embedding_dimensions", d, 1, 65536, config.embedding_dimensions);
  decode_size(root, "completion_tokens", d, 1, 1 << 20, config.completion_tokens);
  decode_size(root, "max_completion_tokens", d, 1, 1 << 20, config.max_completion_tokens);
  decode_size(root, "context_window", d, 1, std::numeric_limits<int32_t>::max(),
              config.context_window);
  const YAML::Node list = Decoder::get(root, "model_list");
  if (d.expect_sequence(list, "model_list", "model names")) {
    config.model_list.clear();
    for (size_t i = 0; i < list.size(); ++i) {
      if (auto name = d.name(list[i], config::index_path("model_list", i))) {
        config.model_list.push_back(*name);
      }
    }
  }
}

// Parses `text` and runs `decode` on the root; YAML syntax errors and decode errors both end
// up in the returned status, one per line.
template <class Decode>
Status parse_and_decode(std::string_view text, std::string_view source_name,
                        const config::EnvLookup& env, Decode decode) {
  config::Diagnostics diagnostics{std::string(source_name)};
  YAML::Node root;
  // The same guards as sheepdog.yaml's (config/yaml_text.h): encoding, nesting depth.
  if (config::check_config_text(text, diagnostics)) {
    config::parse_yaml_text(text, diagnostics, root, "not valid YAML/JSON: ");
  }
  if (!diagnostics.has_errors()) {
    Decoder decoder(diagnostics, env);
    decode(root, decoder);
  }
  if (!diagnostics.has_errors()) {
    return Status::ok();
  }
  std::string message;
  for (const config::Diagnostic& diagnostic : diagnostics.take_errors()) {
    message += (message.empty() ? "" : "\n") + diagnostic.to_string();
  }
  return Status::error(std::move(message));
}

}  // namespace

Status decode_mock_config(std::string_view text, std::string_view source_name,
                          const MockConfig& base, MockConfig* out) {
  MockConfig config = base;
  Status status = parse_and_decode(
      text, source_name, config::process_env(),
      [&](const YAML::Node& root, Decoder& d) { decode_document(root, d, config); });
  if (status.is_ok()) {
    *out = std::move(config);
  }
  return status;
}

Status load_mock_config_file(const std::string& path, const MockConfig& base, MockConfig* out) {
  const config::FileText file = config::read_config_text(path);
  if (!file.text) {
    return Status::error(
        config::printable(path) + ": " + file.error +
        (file.error.starts_with("cannot") ? "; check the path and its permissions" : ""));
  }
  return decode_mock_config(*file.text, path, base, out);
}

Status decode_fault_update(std::string_view json, const MockConfig& current, MockConfig* out) {
  MockConfig config = current;
  Status status =
      parse_and_decode(json, "request body", no_env(), [&](const YAML::Node& root, Decoder& d) {
        if (!d.expect_map(root, "", "a fault profile with \"model\", or default/models")) {
          if (!Decoder::present(root)) {
            d.error(root, "", "empty body; expected a JSON object");
          }
          return;
        }
        const YAML::Node model = Decoder::get(root, "model");
        if (Decoder::present(model)) {
          const std::optional<std::string> name = d.name(model, "model");
          FaultProfile profile = current.defaults;
          decode_profile(root, "", d, kModelUpdateKeys, profile);
          if (name) {
            config.models[*name] = profile;
          }
          return;
        }
        d.check_keys(root, "", kFaultDocumentKeys);
        config.defaults = FaultProfile{};
        config.models.clear();
        decode_profile(Decoder::get(root, "default"), "default", d, kProfileKeys, config.defaults);
        decode_models(Decoder::get(root, "models"), d, config.defaults, config);
        decode_keys(Decoder::get(root, "keys"), d, config);
      });
  if (status.is_ok()) {
    *out = std::move(config);
  }
  return status;
}

Status decode_script(std::string_view json, ScriptUpdate* out) {
  ScriptUpdate update;
  Status status =
      parse_and_decode(json, "request body", no_env(), [&](const YAML::Node& root, Decoder& d) {
        YAML::Node list = root;
        std::string list_path;
        if (root.IsMap()) {
          d.check_keys(root, "", kScriptKeys);
          const YAML::Node model = Decoder::get(root, "model");
          if (Decoder::present(model)) {
            update.model = d.name(model, "model");
          }
          d.require(root, "outcomes", "");
          list = Decoder::get(root, "outcomes");
          list_path = "outcomes";
        }
        if (!Decoder::present(list) || !list.IsSequence()) {
          if (!root.IsMap() || Decoder::present(list)) {
            d.error(list, list_path,
                    "expected a list of outcomes such as [\"429\", \"ok\"], or "
                    "{\"outcomes\": [...], \"model\": NAME}");
          }
          return;
        }
        for (size_t i = 0; i < list.size(); ++i) {
          const std::string path = config::index_path(list_path, i);
          const std::optional<std::string> name = d.name(list[i], path);
          if (!name) {
            continue;
          }
          if (auto outcome = parse_outcome(*name)) {
            update.outcomes.push_back(*outcome);
          } else {
            d.error(list[i], path,
                    "unknown outcome '" + *name + "'" +
                        config::did_you_mean(*name, outcome_names()) + "; expected one of " +
                        config::quoted_list(outcome_names()) + " (or 429, 500, 502, 503, 504)");
          }
        }
      });
  if (status.is_ok()) {
    *out = std::move(update);
  }
  return status;
}

}  // namespace sheepdog::mock
