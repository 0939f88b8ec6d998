// Checks that span sections: every name a model uses must be defined, and following fallbacks
// (and context-window fallbacks) from any alias must never lead back to it.
#include <algorithm>
#include <map>
#include <set>

#include "config/sections.h"

namespace sheepdog::config::internal {
namespace {

// An edge of the fallback graph, with where it was written.
struct Edge {
  size_t to;
  Position position;
  std::string path;
};

class CycleFinder {
 public:
  CycleFinder(Decoder& decoder, const std::vector<DecodedModel>& models,
              std::vector<std::vector<Edge>> edges)
      : d_(decoder), models_(models), edges_(std::move(edges)), state_(models.size(), kNew) {}

  void run() {
    for (size_t i = 0; i < models_.size(); ++i) {
      if (state_[i] == kNew) {
        visit(i);
      }
    }
  }

 private:
  enum State { kNew, kOnStack, kDone };

  // Depth-first; an edge to a model still on the stack closes a cycle. Iterative, with an
  // explicit stack: a file may chain tens of thousands of fallbacks (m0 -> m1 -> ...), and a
  // recursive walk that deep overflowed the thread's stack.
  void visit(size_t root) {
    std::vector<size_t> next_edge;  // per entry of stack_: the next edge to follow
    state_[root] = kOnStack;
    stack_.push_back(root);
    next_edge.push_back(0);
    while (!stack_.empty()) {
      const size_t node = stack_.back();
      if (next_edge.back() == edges_[node].size()) {
        state_[node] = kDone;
        stack_.pop_back();
        next_edge.pop_back();
        continue;
      }
      const Edge& edge = edges_[node][next_edge.back()++];
      if (state_[edge.to] == kOnStack) {
        report(edge);
      } else if (state_[edge.to] == kNew) {
        state_[edge.to] = kOnStack;
        stack_.push_back(edge.to);
        next_edge.push_back(0);
      }
    }
  }

  void report(const Edge& closing) {
    const auto start = std::find(stack_.begin(), stack_.end(), closing.to);
    std::vector<size_t> cycle(start, stack_.end());
    // The same loop can be entered from different aliases: report it once, in the rotation
    // that starts at its smallest index.
    std::vector<size_t> canonical = cycle;
    std::rotate(canonical.begin(), std::min_element(canonical.begin(), canonical.end()),
                canonical.end());
    if (!reported_.insert(canonical).second) {
      return;
    }
    // A long loop is shown by its start: its whole text could be megabytes.
    constexpr size_t kShown = 10;
    std::string text;
    for (size_t i = 0; i < cycle.size() && i < kShown; ++i) {
      text += models_[cycle[i]].model.alias + " -> ";
    }
    if (cycle.size() > kShown) {
      text += "... (" + std::to_string(cycle.size() - kShown) + " more) -> ";
    }
    text += models_[closing.to].model.alias;
    d_.error(closing.position, closing.path,
             "fallback cycle: " + text +
                 "; expected fallbacks and context_window_fallback never to lead back to a "
                 "model already tried");
  }

  Decoder& d_;
  const std::vector<DecodedModel>& models_;
  std::vector<std::vector<Edge>> edges_;
  std::vector<State> state_;
  std::vector<size_t> stack_;
  std::set<std::vector<size_t>> reported_;
};

// Past this many names, a message neither lists them nor looks for a near miss among them: a
// file with 50,000 models would otherwise print megabyte lines, and each unknown name would cost
// 50,000 edit distances.
constexpr size_t kMaxNamesInMessage = 20;

std::string unknown_name(std::string_view what, const std::string& name,
                         const std::vector<std::string>& known, std::string_view section) {
  if (known.size() > kMaxNamesInMessage) {
    return "unknown " + std::string(what) + " '" + name + "'; expected a name defined under " +
           std::string(section) + " (there are " + std::to_string(known.size()) + ")";
  }
  std::string message = "unknown " + std::string(what) + " '" + name + "'" +
                        did_you_mean(name, known) + "; expected ";
  if (known.empty()) {
    return message + "a name defined under " + std::string(section) + " (there are none)";
  }
  std::vector<std::string_view> views(known.begin(), known.end());
  return message + "one of " + quoted_list(views);
}

}  // namespace

void check_references(Decoder& d, const YAML::Node& providers_node,
                      const std::vector<ProviderConfig>& providers,
                      const std::vector<DecodedModel>& models,
                      const std::vector<DecodedPolicy>& policies) {
  // Indexed lookups throughout: a hostile file may hold tens of thousands of each name, and
  // linear searches per reference made loading quadratic (20,000 models: 10 s).
  std::vector<std::string> provider_names;
  std::map<std::string, size_t, std::less<>> provider_index;
  for (size_t i = 0; i < providers.size(); ++i) {
    provider_names.push_back(providers[i].name);
    provider_index.emplace(providers[i].name, i);
  }
  std::map<std::string, size_t, std::less<>> model_index;
  std::vector<std::string> aliases;
  for (size_t i = 0; i < models.size(); ++i) {
    model_index.emplace(models[i].model.alias, i);
    aliases.push_back(models[i].model.alias);
  }
  std::vector<std::string> policy_names = {"default"};
  std::set<std::string, std::less<>> policy_set = {"default"};
  for (const DecodedPolicy& policy : policies) {
    if (policy.name != "default") {
      policy_names.push_back(policy.name);
      policy_set.insert(policy.name);
    }
  }

  std::set<std::string> used_providers;
  std::vector<std::vector<Edge>> edges(models.size());
  for (size_t m = 0; m < models.size(); ++m) {
    const DecodedModel& decoded = models[m];
    const ModelConfig& model = decoded.model;
    const std::string path = "models." + model.alias;
    bool any_usable = model.deployments.empty();
    for (size_t i = 0; i < model.deployments.size(); ++i) {
      const std::string& name = model.deployments[i].provider;
      const auto provider = provider_index.find(name);
      if (provider == provider_index.end()) {
        d.error(decoded.provider_positions[i],
                path + ".deployments[" + std::to_string(i) + "].provider",
                unknown_name("provider", name, provider_names, "providers"));
        any_usable = true;  // the error says enough
        continue;
      }
      used_providers.insert(name);
      any_usable |= !providers[provider->second].keys_unavailable;
    }
    if (!any_usable) {
      d.warning(decoded.alias_position, path,
                "every deployment's provider has no API key (their variables are unset); "
                "requests for this model will fail until a key is set");
    }
    for (size_t i = 0; i < model.fallbacks.size(); ++i) {
      const auto it = model_index.find(model.fallbacks[i]);
      if (it == model_index.end()) {
        d.error(decoded.fallback_positions[i], decoded.fallback_paths[i],
                unknown_name("model", model.fallbacks[i], aliases, "models"));
      } else {
        edges[m].push_back({it->second, decoded.fallback_positions[i], decoded.fallback_paths[i]});
      }
    }
    if (!model.context_window_fallback.empty()) {
      const std::string cwf_path = path + ".context_window_fallback";
      const auto it = model_index.find(model.context_window_fallback);
      if (it == model_index.end()) {
        d.error(decoded.context_window_fallback_position, cwf_path,
                unknown_name("model", model.context_window_fallback, aliases, "models"));
      } else {
        edges[m].push_back({it->second, decoded.context_window_fallback_position, cwf_path});
      }
    }
    if (policy_set.count(model.policy_name) == 0) {
      d.error(decoded.policy_position, path + ".policy",
              unknown_name("policy", model.policy_name, policy_names, "policies"));
    }
  }
  CycleFinder(d, models, std::move(edges)).run();

  for (const ProviderConfig& provider : providers) {
    if (used_providers.count(provider.name) == 0) {
      d.warning(Decoder::key_node(providers_node, provider.name), "providers." + provider.name,
                "not used by any model deployment");
    }
  }
}

}  // namespace sheepdog::config::internal
