// Decoding of `providers:`: upstream accounts, their URLs, keys, headers and TLS trust.
#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <set>
#include <system_error>

#include "config/sections.h"

namespace sheepdog::config::internal {
namespace {

constexpr std::array<std::string_view, 6> kProviderKeys = {
    "kind", "base_url", "api_keys", "connect_timeout", "headers", "ca_file"};
constexpr std::array<std::string_view, 2> kProviderKinds = {"openai", "anthropic"};
constexpr std::array<std::string_view, 3> kKeyObjectKeys = {"key", "rpm", "tpm"};

// RFC 9110 token characters: what a header field name may contain.
bool is_token(std::string_view name) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kSpecials.find(c) != kSpecials.npos;
  });
}

// Visible characters only: what an API key is made of, and all a header value can safely hold.
bool header_safe_key(std::string_view key) {
  return std::all_of(key.begin(), key.end(), [](char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7F;
  });
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "" iff `url` is a usable base URL; else what is wrong with it.
std::string url_problem(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return "not an absolute URL";
  }
  const boost::urls::url_view& u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::http && u.scheme_id() != boost::urls::scheme::https) {
    return "scheme '" + std::string(u.scheme()) + "' is not supported";
  }
  if (!u.has_authority() || u.host().empty()) {
    return "no host";
  }
  if (u.has_userinfo()) {
    return "credentials in the URL (put keys in api_keys or headers)";
  }
  if (u.has_port() && (u.port().empty() || u.port_number() == 0)) {
    return "invalid port '" + std::string(u.port()) + "'";
  }
  if (u.has_query()) {
    return "a query string ('?...')";
  }
  if (u.has_fragment()) {
    return "a fragment ('#...')";
  }
  return "";
}

void decode_api_keys(Decoder& d, const YAML::Node& list, const std::string& path,
                     ProviderConfig& provider) {
  if (!d.expect_sequence(list, path, "of keys: strings or {key, rpm, tpm} mappings")) {
    return;
  }
  size_t dropped = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string item_path = index_path(path, i);
    ApiKeyConfig key;
    // Never assign to a YAML::Node: that overwrites the node it refers to.
    const YAML::Node key_node = item.IsMap() ? Decoder::get(item, "key") : item;
    const std::string key_path = item.IsMap() ? join_path(item_path, "key") : item_path;
    if (item.IsMap()) {
      d.check_keys(item, item_path, kKeyObjectKeys);
      if (!d.require(item, "key", item_path)) {
        continue;
      }
      if (auto v = d.integer(Decoder::get(item, "rpm"), join_path(item_path, "rpm"), 1)) {
        key.rpm = *v;
      }
      if (auto v = d.integer(Decoder::get(item, "tpm"), join_path(item_path, "tpm"), 1)) {
        key.tpm = *v;
      }
    } else if (!item.IsScalar()) {
      d.error(item, item_path,
              "expected a key string or a {key, rpm, tpm} mapping, got " +
                  std::string(node_type_name(item)));
      continue;
    }
    // An unset variable drops just this key: a config may list several providers and the
    // deployment sets only the keys it has.
    std::vector<std::string> unset;
    const std::optional<std::string> text = d.string(key_node, key_path, &unset);
    if (!unset.empty()) {
      d.warning(key_node, key_path,
                "environment variable '" + unset.front() + "' is not set; key dropped");
      for (const std::string& name : unset) {
        if (std::find(provider.unset_key_variables.begin(), provider.unset_key_variables.end(),
                      name) == provider.unset_key_variables.end()) {
          provider.unset_key_variables.push_back(name);
        }
      }
      ++dropped;
    } else if (text && text->empty()) {
      d.warning(key_node, key_path, "empty key; key dropped");
      ++dropped;
    } else if (text && !header_safe_key(*text)) {
      // It goes into an Authorization (or x-api-key) header; a line break there would split the
      // request. Usually a trailing newline from `$(cat key.txt)`.
      d.error(key_node, key_path,
              "the key contains a space, line break or control character; expected the key "
              "alone (a trailing newline from a file or variable?)");
    } else if (text) {
      key.key = *text;
      provider.api_keys.push_back(std::move(key));
    }
  }
  if (dropped > 0 && dropped == list.size()) {
    provider.keys_unavailable = true;
    d.warning(
        list, path,
        "every key was dropped; provider '" + provider.name + "' is unavailable until one is set");
  }
}

void decode_headers(Decoder& d, const YAML::Node& map, const std::string& path,
                    ProviderConfig& provider) {
  if (!d.expect_map(map, path, "of header names to values")) {
    return;
  }
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
    const std::string header_path = join_path(path, name);
    if (!is_token(name)) {
      d.error(it->first, header_path,
              "invalid header name; expected letters, digits and !#$%&'*+-.^_`|~");
      continue;
    }
    if (!seen.insert(lower(name)).second) {
      d.error(it->first, header_path,
              "duplicate header (names are case-insensitive); each header may appear once");
      continue;
    }
    const std::optional<std::string> value = d.string(it->second, header_path);
    if (!value) {
      if (!Decoder::present(it->second)) {
        d.error(it->first, header_path, "has no value; expected a string");
      }
      continue;
    }
    if (value->find_first_of("\r\n\0", 0, 3) != std::string::npos) {
      d.error(it->second, header_path,
              "value contains a line break or NUL; expected a single-line value");
      continue;
    }
    provider.headers.emplace_back(name, *value);
  }
}

ProviderConfig decode_provider(Decoder& d, const std::string& name, const YAML::Node& node,
                               const std::string& path, const std::filesystem::path& base_dir) {
  ProviderConfig provider;
  provider.name = name;
  if (!d.expect_map(node, path, "of provider settings")) {
    return provider;
  }
  d.check_keys(node, path, kProviderKeys);
  const auto at = [&](std::string_view key) { return Decoder::get(node, key); };
  const auto field = [&](std::string_view key) { return join_path(path, key); };

  if (d.require(node, "kind", path)) {
    if (auto v = d.choice(at("kind"), field("kind"), kProviderKinds)) {
      provider.kind = *v == 0 ? ProviderKind::kOpenAI : ProviderKind::kAnthropic;
    }
  }
  if (d.require(node, "base_url", path)) {
    if (auto v = d.string(at("base_url"), field("base_url"))) {
      if (const std::string problem = url_problem(*v); !problem.empty()) {
        d.error(at("base_url"), field("base_url"),
                "invalid URL '" + *v + "': " + problem +
                    "; expected an absolute http or https URL such as https://api.openai.com/v1");
      } else {
        std::string url = *v;
        while (url.size() > 1 && url.back() == '/') {
          url.pop_back();
        }
        provider.base_url = std::move(url);
      }
    }
  }
  decode_api_keys(d, at("api_keys"), field("api_keys"), provider);
  if (auto v = d.duration(at("connect_timeout"), field("connect_timeout"), false)) {
    provider.connect_timeout = *v;
  }
  decode_headers(d, at("headers"), field("headers"), provider);
  if (auto v = d.name(at("ca_file"), field("ca_file"))) {
    std::filesystem::path ca = *v;
    if (ca.is_relative()) {
      ca = base_dir / ca;
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(ca, ec)) {
      d.error(at("ca_file"), field("ca_file"),
              "no such file: " + ca.string() +
                  "; expected a PEM CA bundle (relative paths are "
                  "resolved against the config file's directory)");
    } else {
      provider.ca_file = ca.lexically_normal().string();
    }
  }
  return provider;
}

}  // namespace

std::vector<ProviderConfig> decode_providers(Decoder& d, const YAML::Node& node,
                                             const std::filesystem::path& base_dir) {
  std::vector<ProviderConfig> providers;
  const std::string path = "providers";
  if (!d.expect_map(node, path, "of provider names to settings")) {
    return providers;
  }
  d.check_unique_keys(node, path, "provider");
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar() || it->first.Scalar().empty() ||
        !seen.insert(it->first.Scalar()).second) {
      continue;  // reported by check_unique_keys
    }
    const std::string name = it->first.Scalar();
    const YAML::Node value = it->second;
    const std::string provider_path = join_path(path, name);
    if (!Decoder::present(value)) {
      d.error(it->first, provider_path,
              "empty provider; expected a mapping with at least 'kind' and 'base_url'");
      continue;
    }
    providers.push_back(decode_provider(d, name, value, provider_path, base_dir));
  }
  return providers;
}

}  // namespace sheepdog::config::internal
