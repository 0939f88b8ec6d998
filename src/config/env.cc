#include "config/env.h"

#include <cstdlib>

namespace sheepdog::config {
namespace {

bool name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

bool valid_name(std::string_view name) {
  if (name.empty() || !name_start(name.front())) {
    return false;
  }
  for (char c : name) {
    if (!name_char(c)) {
      return false;
    }
  }
  return true;
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

InterpolationResult interpolate_env(std::string_view text, const EnvLookup& env) {
  InterpolationResult result;
  // LiteLLM reads a value that is exactly "os.environ/NAME" from the environment. Taken as a
  // literal it would become an API key that is the text "os.environ/OPENAI_API_KEY", sent
  // upstream and refused with a 401 far from its cause; read as the variable it means.
  constexpr std::string_view kLiteLlmPrefix = "os.environ/";
  if (text.starts_with(kLiteLlmPrefix)) {
    const std::string name(text.substr(kLiteLlmPrefix.size()));
    if (!valid_name(name)) {
      result.error = "invalid variable name '" + name +
                     "' in LiteLLM's 'os.environ/NAME'; expected letters, digits and '_', not "
                     "starting with a digit";
      return result;
    }
    result.litellm_name = name;
    if (std::optional<std::string> value = env(name)) {
      result.value = std::move(*value);
    } else {
      result.unset.push_back(name);
    }
    return result;
  }
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      result.value += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      result.value += text[i];
      ++i;
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      result.error = "unterminated '${' (write '$${' for a literal '${')";
      return result;
    }
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    const size_t colon = inner.find(":-");
    const std::string_view name = inner.substr(0, colon);
    if (!valid_name(name)) {
      result.error = "invalid variable name '" + std::string(name) +
                     "' in '${...}'; expected letters, digits and '_', not starting with a digit";
      return result;
    }
    const std::optional<std::string> value = env(std::string(name));
    if (colon != std::string_view::npos) {
      const bool use_default = !value.has_value() || value->empty();
      result.value += use_default ? std::string(inner.substr(colon + 2)) : *value;
    } else if (value.has_value()) {
      result.value += *value;
    } else {
      result.unset.emplace_back(name);
    }
    i = close + 1;
  }
  return result;
}

}  // namespace sheepdog::config
