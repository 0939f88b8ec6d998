// Whether a text is exactly one well-formed JSON value, without building it: a null-handler run
// of Boost.JSON's parser (no allocation), for hot paths that relay JSON they do not read, such
// as the content chunks of an upstream stream (providers/openai_provider.cc).
#pragma once

#include <string_view>

namespace sheepdog {

// True iff `text` is one JSON value (surrounding whitespace allowed), nested at most 64 deep.
// `object`: it must also be an object.
bool is_json_text(std::string_view text, bool object = false);

}  // namespace sheepdog
