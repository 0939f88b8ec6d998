// `${VAR}` / `${VAR:-default}` interpolation of config strings. The environment is reached through
// an injected EnvLookup so tests (and library users) can supply their own.
//
// Syntax, applied to every scalar value (never to keys):
//   ${NAME}           the variable's value; an error if it is unset (set-but-empty is fine)
//   ${NAME:-default}  the value if set and non-empty, else `default` (taken literally)
//   $${               a literal "${"; any other '$' is literal too
//   os.environ/NAME   the whole value: LiteLLM's spelling of ${NAME}, read the same way so a
//                     migrated file keeps its keys out of the file (the decoder adds a note)
// NAME is [A-Za-z_][A-Za-z0-9_]*.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sheepdog::config {

// nullopt iff the variable is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (std::getenv).
EnvLookup process_env();

struct InterpolationResult {
  std::string value;  // meaningful iff error is empty and unset is empty
  // Variables referenced without a default that are unset, in order of appearance.
  std::vector<std::string> unset;
  // Syntax problem ("unterminated '${'", "invalid variable name ..."); empty if none.
  std::string error;
  // The variable's name iff the text was LiteLLM's whole-value form "os.environ/NAME".
  std::string litellm_name;
};

InterpolationResult interpolate_env(std::string_view text, const EnvLookup& env);

}  // namespace sheepdog::config
