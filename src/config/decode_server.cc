// Decoding of `server:`: the client-facing listener.
#include <array>

#include "config/sections.h"

namespace sheepdog::config::internal {
namespace {

// clang-format off
constexpr std::array<std::string_view, 17> kServerKeys = {
    "host", "port", "threads", "max_body_bytes", "header_timeout", "idle_timeout",
    "max_connections", "upstream_max_connections", "drain_timeout", "api_keys", "idempotency",
    "body_timeout", "max_header_bytes", "upstream_max_response_bytes",
    "upstream_max_embeddings_bytes", "upstream_memory_budget", "admin_keys"};
// clang-format on
constexpr std::array<std::string_view, 3> kIdempotencyKeys = {"ttl", "in_progress_timeout",
                                                              "max_response_bytes"};

void decode_idempotency(Decoder& d, const YAML::Node& node, IdempotencyConfig& out) {
  const std::string path = "server.idempotency";
  if (!d.expect_map(node, path, "of idempotency settings")) {
    return;
  }
  d.check_keys(node, path, kIdempotencyKeys);
  if (auto v = d.duration(Decoder::get(node, "ttl"), join_path(path, "ttl"), false)) {
    out.ttl = *v;
  }
  if (auto v = d.duration(Decoder::get(node, "in_progress_timeout"),
                          join_path(path, "in_progress_timeout"), false)) {
    out.in_progress_timeout = *v;
  }
  if (auto v = d.byte_size(Decoder::get(node, "max_response_bytes"),
                           join_path(path, "max_response_bytes"), 1)) {
    out.max_response_bytes = *v;
  }
}

// A list of keys clients present (api_keys, admin_keys). Keys naming an unset variable are
// dropped with a warning, like provider keys. But a list that ends up empty would silently turn
// authentication off, so that fails closed.
void decode_client_keys(Decoder& d, const YAML::Node& keys, const std::string& keys_path,
                        std::string_view what, std::string_view instead,
                        std::vector<std::string>& out) {
  if (!d.expect_sequence(keys, keys_path, "of " + std::string(what))) {
    return;
  }
  size_t dropped = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string item_path = index_path(keys_path, i);
    std::vector<std::string> unset;
    const std::optional<std::string> key = d.string(keys[i], item_path, &unset);
    if (!unset.empty()) {
      d.warning(keys[i], item_path,
                "environment variable '" + unset.front() + "' is not set; key dropped");
      ++dropped;
    } else if (key && key->empty()) {
      d.warning(keys[i], item_path, "empty key; key dropped");
      ++dropped;
    } else if (key) {
      out.push_back(*key);
    }
  }
  if (dropped > 0 && dropped == keys.size()) {
    d.error(keys, keys_path,
            "every key was dropped, which would leave the gateway open to anyone; expected at "
            "least one key to be set (or " +
                std::string(instead) + ")");
  }
}

}  // namespace

ServerConfig decode_server(Decoder& d, const YAML::Node& node) {
  ServerConfig server;
  const std::string path = "server";
  if (!d.expect_map(node, path, "of server settings")) {
    return server;
  }
  d.check_keys(node, path, kServerKeys);
  const auto at = [&](std::string_view key) { return Decoder::get(node, key); };
  const auto field = [&](std::string_view key) { return join_path(path, key); };

  if (auto v = d.name(at("host"), field("host"))) {
    server.host = *v;
  }
  if (auto v = d.integer(at("port"), field("port"), 0, 65535)) {
    server.port = static_cast<uint16_t>(*v);
  }
  if (auto v = d.integer(at("threads"), field("threads"), 0, 1024)) {
    server.threads = static_cast<int>(*v);
  }
  if (auto v = d.byte_size(at("max_body_bytes"), field("max_body_bytes"), 1)) {
    // A request body is held in memory whole; past 1 GiB one client could take the process.
    if (*v > uint64_t{1} << 30) {
      d.error(at("max_body_bytes"), field("max_body_bytes"),
              "out of range; expected at most 1GiB (a request body is held in memory whole)");
    } else {
      server.max_body_bytes = *v;
    }
  }
  if (auto v = d.duration(at("header_timeout"), field("header_timeout"), false)) {
    server.header_timeout = *v;
  }
  if (auto v = d.duration(at("idle_timeout"), field("idle_timeout"), false)) {
    server.idle_timeout = *v;
  }
  if (auto v = d.duration(at("body_timeout"), field("body_timeout"), false)) {
    server.body_timeout = *v;
  }
  // A header holds a request line and a few fields: below 1 KiB real clients fail, above 1 MiB
  // it only serves an attacker (server/http_server.h enforces the same range).
  if (auto v = d.byte_size(at("max_header_bytes"), field("max_header_bytes"), 1024, 1 << 20)) {
    server.max_header_bytes = *v;
  }
  if (auto v = d.integer(at("max_connections"), field("max_connections"), 1, 10'000'000)) {
    server.max_connections = static_cast<int>(*v);
  }
  if (auto v = d.integer(at("upstream_max_connections"), field("upstream_max_connections"), 1,
                         1'000'000)) {
    server.upstream_max_connections = static_cast<int>(*v);
  }
  // At least 64 KiB: a chat answer or an error body smaller than that is a normal answer.
  if (auto v = d.byte_size(at("upstream_max_response_bytes"), field("upstream_max_response_bytes"),
                           64 * 1024)) {
    server.upstream_max_response_bytes = *v;
  }
  if (auto v = d.byte_size(at("upstream_max_embeddings_bytes"),
                           field("upstream_max_embeddings_bytes"), 64 * 1024)) {
    server.upstream_max_embeddings_bytes = *v;
  }
  if (auto v = d.byte_size(at("upstream_memory_budget"), field("upstream_memory_budget"), 0)) {
    server.upstream_memory_budget = *v;
  }
  if (auto v = d.duration(at("drain_timeout"), field("drain_timeout"), true)) {
    server.drain_timeout = *v;
  }

  decode_client_keys(d, at("api_keys"), field("api_keys"), "client API keys",
                     "remove server.api_keys to run without authentication", server.api_keys);
  decode_client_keys(d, at("admin_keys"), field("admin_keys"), "admin keys",
                     "remove server.admin_keys to let api_keys reach the admin endpoints",
                     server.admin_keys);
  decode_idempotency(d, at("idempotency"), server.idempotency);
  return server;
}

}  // namespace sheepdog::config::internal
