#include "config/diagnostic.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace sheepdog::config {
namespace {

std::string location(const Diagnostic& d) {
  std::string out = printable(d.file);
  if (d.line > 0) {
    out += ":" + std::to_string(d.line) + ":" + std::to_string(d.column);
  }
  return out;
}

std::string body(const Diagnostic& d) {
  return printable(d.path.empty() ? d.message : d.path + ": " + d.message);
}

// The length of the UTF-8 sequence starting at text[i] and its code point, or 0 if the bytes
// there are not well-formed UTF-8 (overlong forms, surrogates and values past U+10FFFF
// included).
size_t utf8_sequence(std::string_view text, size_t i, char32_t* code_point) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  // Lead byte ranges of RFC 3629: the sequence's length, its payload bits, the smallest code
  // point it may encode (anything less is an overlong form).
  size_t length = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    cp = lead & 0x1F;
    min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    cp = lead & 0x0F;
    min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    cp = lead & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) {
    return 0;
  }
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  *code_point = cp;
  return length;
}

// Code points that print as nothing yet change how the rest of a line reads.
bool invisible(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) ||  // C1 controls
         cp == 0x200B || cp == 0x200E || cp == 0x200F || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) ||  // bidirectional embeddings and overrides
         (cp >= 0x2066 && cp <= 0x2069) ||  // bidirectional isolates
         cp == 0xFEFF;
}

template <typename Strings>
std::string closest(std::string_view name, const Strings& candidates) {
  std::string best;
  size_t best_distance = 3;  // suggest only within distance 2
  for (const auto& candidate : candidates) {
    const size_t distance = edit_distance(name, candidate);
    if (distance < best_distance && distance < name.size()) {
      best_distance = distance;
      best = std::string(candidate);
    }
  }
  return best;
}

std::string suggestion(const std::string& match) {
  return match.empty() ? std::string() : "; did you mean '" + match + "'?";
}

}  // namespace

std::string Diagnostic::to_string() const { return location(*this) + ": " + body(*this); }

std::string Diagnostic::to_warning_string() const {
  return location(*this) + ": warning: " + body(*this);
}

Diagnostic Diagnostics::make(int line, int column, std::string path, std::string message) const {
  Diagnostic d;
  d.file = file_;
  if (line >= 0) {
    d.line = line + 1;
    d.column = std::max(column, 0) + 1;
  }
  d.path = std::move(path);
  d.message = std::move(message);
  return d;
}

void Diagnostics::error(int line, int column, std::string path, std::string message) {
  Diagnostic d = make(line, column, std::move(path), std::move(message));
  if (seen_.insert(d.to_string()).second) {
    errors_.push_back(std::move(d));
  }
}

void Diagnostics::warning(int line, int column, std::string path, std::string message) {
  Diagnostic d = make(line, column, std::move(path), std::move(message));
  if (seen_.insert(d.to_warning_string()).second) {
    warnings_.push_back(std::move(d));
  }
}

namespace {

std::vector<Diagnostic> in_file_order(std::vector<Diagnostic> diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
  return diagnostics;
}

}  // namespace

std::vector<Diagnostic> Diagnostics::take_errors() { return in_file_order(std::move(errors_)); }

std::vector<Diagnostic> Diagnostics::take_warnings() { return in_file_order(std::move(warnings_)); }

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
      out += c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t";
      ++i;
      continue;
    }
    char32_t cp = 0;
    const size_t length = c >= 0x80 ? utf8_sequence(text, i, &cp) : 0;
    if (length == 0) {  // a C0 control, DEL or a byte that is not UTF-8
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
      continue;
    }
    if (invisible(cp)) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) {
        out += kHex[(cp >> shift) & 0xF];
      }
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

size_t invalid_utf8_offset(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    char32_t cp = 0;
    const size_t length = utf8_sequence(text, i, &cp);
    if (length == 0) {
      return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  // One row of the classic dynamic programme; keys are short.
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest_match(std::string_view name, std::span<const std::string_view> candidates) {
  return closest(name, candidates);
}

std::string closest_match(std::string_view name, std::span<const std::string> candidates) {
  return closest(name, candidates);
}

std::string did_you_mean(std::string_view name, std::span<const std::string_view> candidates) {
  return suggestion(closest_match(name, candidates));
}

std::string did_you_mean(std::string_view name, std::span<const std::string> candidates) {
  return suggestion(closest_match(name, candidates));
}

std::string quoted_list(std::span<const std::string_view> items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out += (i + 1 == items.size()) ? " or " : ", ";
    }
    out += "'" + std::string(items[i]) + "'";
  }
  return out;
}

}  // namespace sheepdog::config
