// A short, stable label for an API key, for logs, metrics, health pages and the mock's stats:
// enough to tell keys apart, never enough to use one.
#pragma once

#include <string>
#include <string_view>

namespace sheepdog {

// For a key, or an Authorization header carrying one ("Bearer sk-..."): keys of 12+ characters
// show their first 4 and last 4 ("sk-p...wxyz", as provider dashboards do); shorter keys show
// "key#" and 8 hex digits of a hash (their ends would be most of the key); no key is "none".
std::string key_fingerprint(std::string_view key_or_header);

}  // namespace sheepdog
