#include "core/key_redactor.h"

#include <algorithm>

#include "core/key_fingerprint.h"

namespace sheepdog {
namespace {

// Polynomial rolling hash mod 2^64 (the FNV prime as the base: odd, with well-mixed bits).
constexpr uint64_t kBase = 1099511628211ull;

size_t filter_index(uint64_t hash) {
  // Fibonacci hashing: the top 16 bits of the product spread neighbouring hashes apart.
  return static_cast<size_t>((hash * 0x9E3779B97F4A7C15ull) >> 48);
}

// Replaces every occurrence of `key` in `text`; true iff there was one.
bool redact_plain(std::string& text, std::string_view key) {
  size_t at = text.find(key);
  if (at == std::string::npos) {
    return false;
  }
  const std::string replacement = KeyRedactor::replacement(key);
  std::string out;
  size_t from = 0;
  for (; at != std::string::npos; at = text.find(key, from)) {
    out.append(text, from, at - from);
    out += replacement;
    from = at + key.size();
  }
  out.append(text, from, std::string::npos);
  text = std::move(out);
  return true;
}

}  // namespace

KeyRedactor::KeyRedactor(std::vector<std::string> keys) {
  std::erase_if(keys, [](const std::string& k) { return k.empty(); });
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  // Longest first, so that a key that is a prefix of another does not win over it.
  std::stable_sort(keys.begin(), keys.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  keys_ = std::move(keys);
  if (keys_.empty()) {
    return;
  }
  window_ = std::min(keys_.back().size(), kMaxWindow);
  for (size_t i = 1; i < window_; ++i) {
    power_ *= kBase;
  }
  for (uint32_t i = 0; i < keys_.size(); ++i) {
    const uint64_t hash = window_hash(std::string_view(keys_[i]).substr(0, window_));
    filter_.set(filter_index(hash));
    by_prefix_[hash].push_back(i);
  }
}

uint64_t KeyRedactor::window_hash(std::string_view bytes) const {
  uint64_t hash = 0;
  for (const char c : bytes) {
    hash = hash * kBase + static_cast<unsigned char>(c);
  }
  return hash;
}

std::string KeyRedactor::replacement(std::string_view key) {
  return "[redacted key " + key_fingerprint(key) + "]";
}

bool KeyRedactor::redact(std::string& text, std::string_view extra) const {
  bool replaced = false;
  if (!keys_.empty() && text.size() >= window_) {
    const std::string_view in(text);
    std::string out;
    size_t copied = 0;  // in[copied, i) is still to be copied to `out`
    size_t i = 0;
    uint64_t hash = window_hash(in.substr(0, window_));
    while (i + window_ <= in.size()) {
      const std::string* matched = nullptr;
      if (filter_.test(filter_index(hash))) {
        if (auto it = by_prefix_.find(hash); it != by_prefix_.end()) {
          for (const uint32_t k : it->second) {
            if (in.substr(i, keys_[k].size()) == keys_[k]) {
              matched = &keys_[k];
              break;
            }
          }
        }
      }
      if (matched != nullptr) {
        out.append(in.substr(copied, i - copied));
        out += replacement(*matched);
        i += matched->size();
        copied = i;
        if (i + window_ <= in.size()) {
          hash = window_hash(in.substr(i, window_));
        }
        continue;
      }
      if (i + window_ < in.size()) {
        hash = (hash - static_cast<unsigned char>(in[i]) * power_) * kBase +
               static_cast<unsigned char>(in[i + window_]);
      }
      ++i;
    }
    if (copied > 0) {
      out.append(in.substr(copied));
      text = std::move(out);
      replaced = true;
    }
  }
  if (!extra.empty() && redact_plain(text, extra)) {
    replaced = true;
  }
  return replaced;
}

}  // namespace sheepdog
