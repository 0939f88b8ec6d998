#include "config/diagnostic.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace sheepdog::config {
namespace {

std::string location(const Diagnostic& d) {
  std::string out = d.file;
  if (d.line > 0) {
    out += ":" + std::to_string(d.line) + ":" + std::to_string(d.column);
  }
  return out;
}

std::string body(const Diagnostic& d) {
  return d.path.empty() ? d.message : d.path + ": " + d.message;
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
