// Removes known secrets (the configured provider keys) from text the gateway relays from an
// upstream: a misbehaving upstream may echo the credential it was sent ("you sent
// Authorization: Bearer sk-..."), and its error body goes to the client. Each occurrence
// becomes "[redacted key <fingerprint>]" (core/key_fingerprint.h), so the client and the
// operator can still tell which key it was.
//
// Cost: one pass over the text, whatever the number of keys (a gateway may hold thousands in
// its key pools). A rolling hash over the first W bytes of every key (W = the shortest key's
// length, at most 32) is checked at each position against a 64 Kibit filter; only a filter hit
// looks up the keys with that prefix hash and compares them. So a request pays O(text) plus
// O(length of a key) per candidate, never O(keys x text).
//
// Hand-written (about 100 lines) because neither Boost nor PCRE2 offers a multi-pattern search
// that stays linear in the text with thousands of patterns (a PCRE2 alternation backtracks per
// key; Boost's searchers take one pattern).
//
// Immutable after construction; thread-safe to use from every io thread.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sheepdog {

class KeyRedactor {
 public:
  KeyRedactor() = default;
  // Empty strings are ignored, duplicates kept once.
  explicit KeyRedactor(std::vector<std::string> keys);

  // Replaces every configured key in `text`, and `extra` (a per-request secret such as the
  // client's own forwarded key; ignored if empty). Where keys overlap, the longest one that
  // starts first wins. Returns true iff anything was replaced.
  bool redact(std::string& text, std::string_view extra = {}) const;

  size_t size() const { return keys_.size(); }

  // What a key is replaced with.
  static std::string replacement(std::string_view key);

 private:
  static constexpr size_t kMaxWindow = 32;
  static constexpr size_t kFilterBits = size_t{1} << 16;

  uint64_t window_hash(std::string_view bytes) const;

  std::vector<std::string> keys_;
  size_t window_ = 0;   // W
  uint64_t power_ = 1;  // kBase^(W-1), to roll the first byte out
  std::bitset<kFilterBits> filter_;
  // Prefix hash -> indexes into keys_, longest key first.
  std::unordered_map<uint64_t, std::vector<uint32_t>> by_prefix_;
};

}  // namespace sheepdog
