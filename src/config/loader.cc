#include "config/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <set>

#include "config/sections.h"
#include "config/yaml_decoder.h"
#include "config/yaml_text.h"

namespace sheepdog::config {
namespace {

constexpr std::array<std::string_view, 4> kTopKeys = {"server", "providers", "policies", "models"};

// Top-level keys of a LiteLLM config, the format many users come from, and where their content
// goes here.
struct ForeignKey {
  std::string_view key;
  std::string_view hint;
};
constexpr std::array<ForeignKey, 4> kLiteLlmKeys = {{
    {"model_list",
     "LiteLLM's model_list; sheepdog lists aliases under 'models' and upstream "
     "accounts under 'providers'"},
    {"litellm_settings", "a LiteLLM section; retries and timeouts go under 'policies'"},
    {"router_settings",
     "a LiteLLM section; routing goes under models.<alias>.routing and "
     "retries under 'policies'"},
    {"general_settings",
     "a LiteLLM section; listener settings and the master key go under "
     "'server'"},
}};

void check_top_keys(Decoder& d, const YAML::Node& root) {
  std::set<std::string> seen;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Node key = it->first;
    const std::string name = key.IsScalar() ? key.Scalar() : "";
    const auto foreign = std::find_if(kLiteLlmKeys.begin(), kLiteLlmKeys.end(),
                                      [&](const ForeignKey& f) { return f.key == name; });
    if (foreign != kLiteLlmKeys.end()) {
      d.error(key, name,
              "unknown key: this is " + std::string(foreign->hint) + "; expected one of " +
                  quoted_list(kTopKeys) + " (see docs/configuration.md)");
    } else if (std::find(kTopKeys.begin(), kTopKeys.end(), name) == kTopKeys.end()) {
      d.error(key, name,
              "unknown key" + did_you_mean(name, kTopKeys) + "; expected one of " +
                  quoted_list(kTopKeys));
    } else if (!seen.insert(name).second) {
      d.error(key, name, "duplicate key; each section may appear once");
    }
  }
}

// A top-level section that must be present and non-empty.
bool require_section(Decoder& d, const YAML::Node& root, std::string_view key,
                     std::string_view expected) {
  if (Decoder::present(Decoder::get(root, key))) {
    return true;
  }
  const YAML::Node at = Decoder::key_node(root, key);
  d.error(at.IsDefined() && !at.IsNull() ? at : root, std::string(key),
          "missing or empty; expected " + std::string(expected));
  return false;
}

LoadResult decode(const YAML::Node& root, Diagnostics& diags, const LoadOptions& options,
                  const std::filesystem::path& base_dir) {
  const EnvLookup env = options.env ? options.env : process_env();
  Decoder d(diags, env);
  Config config;
  config.source = diags.file();
  if (!Decoder::present(root)) {
    d.error(root, "",
            "the configuration is empty; expected a mapping with 'providers' and 'models' (and "
            "optionally 'server' and 'policies')");
  } else if (!root.IsMap()) {
    d.error(root, "",
            "expected a mapping with 'providers' and 'models' at the top level, got " +
                std::string(node_type_name(root)));
  } else {
    check_top_keys(d, root);
    require_section(d, root, "providers",
                    "at least one provider: providers: {<name>: {kind: openai, base_url: ...}}");
    require_section(d, root, "models",
                    "at least one model: models: {<alias>: {deployments: [{provider: <name>, "
                    "model: <upstream model>}]}}");
    const YAML::Node providers_node = Decoder::get(root, "providers");
    config.server = internal::decode_server(d, Decoder::get(root, "server"));
    config.providers = internal::decode_providers(d, providers_node, base_dir);
    std::vector<internal::DecodedPolicy> policies =
        internal::decode_policies(d, Decoder::get(root, "policies"));
    std::vector<internal::DecodedModel> models =
        internal::decode_models(d, Decoder::get(root, "models"));
    internal::check_references(d, providers_node, config.providers, models, policies);
    config.policies = internal::resolve_policies(d, policies, models);
    for (internal::DecodedModel& model : models) {
      config.models.push_back(std::move(model.model));
    }
  }
  LoadResult result;
  result.errors = diags.take_errors();
  result.warnings = diags.take_warnings();
  if (result.errors.empty()) {
    config.warnings = result.warnings;
    result.config = std::move(config);
  }
  return result;
}

LoadResult single_error(const std::string& file, int line, int column, std::string message) {
  Diagnostics diags(file);
  diags.error(line, column, "", std::move(message));
  LoadResult result;
  result.errors = diags.take_errors();
  return result;
}

LoadResult load(std::string_view text, const std::string& name, const LoadOptions& options,
                const std::filesystem::path& base_dir) {
  Diagnostics diags(name);
  YAML::Node root;
  if (text.size() > kMaxConfigFileBytes) {
    return single_error(name, -1, -1,
                        "the configuration is larger than " +
                            std::to_string(kMaxConfigFileBytes / (1024 * 1024)) + " MiB");
  }
  if (!check_config_text(text, diags) || !parse_yaml_text(text, diags, root)) {
    LoadResult result;
    result.errors = diags.take_errors();
    result.warnings = diags.take_warnings();
    return result;
  }
  try {
    return decode(root, diags, options, base_dir);
  } catch (const std::exception& e) {
    // Decoding only reads nodes it has checked, so this is a bug; still, never let it escape.
    return single_error(name, -1, -1, std::string("internal error while decoding: ") + e.what());
  }
}

}  // namespace

LoadResult load_config_file(const std::filesystem::path& path, const LoadOptions& options) {
  const std::string name = path.string();
  FileText file = read_config_text(path);
  if (!file.text) {
    return single_error(name, -1, -1, std::move(file.error));
  }
  std::filesystem::path base_dir = options.base_dir;
  if (base_dir.empty()) {
    base_dir = path.parent_path();
    if (base_dir.empty()) {
      base_dir = ".";
    }
  }
  return load(*file.text, name, options, base_dir);
}

LoadResult load_config_string(std::string_view text, std::string_view name,
                              const LoadOptions& options) {
  const std::filesystem::path base_dir = options.base_dir.empty() ? "." : options.base_dir;
  return load(text, std::string(name), options, base_dir);
}

}  // namespace sheepdog::config
