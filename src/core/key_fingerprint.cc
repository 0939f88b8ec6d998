#include "core/key_fingerprint.h"

#include <cstdint>
#include <cstdio>

namespace sheepdog {

std::string key_fingerprint(std::string_view key_or_header) {
  std::string_view key = key_or_header;
  if (key.size() >= 7 && (key.substr(0, 7) == "Bearer " || key.substr(0, 7) == "bearer ")) {
    key.remove_prefix(7);
  }
  while (!key.empty() && key.front() == ' ') {
    key.remove_prefix(1);
  }
  if (key.empty()) {
    return "none";
  }
  if (key.size() >= 12) {
    return std::string(key.substr(0, 4)) + "..." + std::string(key.substr(key.size() - 4));
  }
  uint32_t hash = 2166136261u;  // 32-bit FNV-1a: stable across runs and machines
  for (unsigned char c : key) {
    hash = (hash ^ c) * 16777619u;
  }
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08x", hash);
  return std::string("key#") + hex;
}

}  // namespace sheepdog
