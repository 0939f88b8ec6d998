#include "config/yaml_text.h"

#include <yaml-cpp/depthguard.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace sheepdog::config {
namespace {

// 0-based line and column of byte `offset`, counted the way yaml-cpp counts them (columns in
// bytes from the last line feed).
void position_at(std::string_view text, size_t offset, int* line, int* column) {
  *line = 0;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++*line;
      line_start = i + 1;
    }
  }
  *column = static_cast<int>(offset - line_start);
}

std::string hex_byte(unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[c >> 4] + kHex[c & 0xF];
}

}  // namespace

FileText read_config_text(const std::filesystem::path& path, uint64_t max_bytes) {
  FileText result;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.error = std::string("cannot open the file: ") + std::strerror(errno);
    return result;
  }
  std::string text;
  // Chunked reads up to one byte past the limit: the only way to know a FIFO or a device is too
  // long without trusting a size it may not report.
  char buffer[64 * 1024];
  while (text.size() <= max_bytes) {
    const uint64_t room = max_bytes + 1 - text.size();
    in.read(buffer, static_cast<std::streamsize>(std::min<uint64_t>(sizeof(buffer), room)));
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (!in) {
      break;
    }
  }
  if (in.bad()) {
    result.error = "cannot read the file";
    return result;
  }
  if (text.size() > max_bytes) {
    result.error = "the file is larger than " + std::to_string(max_bytes / (1024 * 1024)) +
                   " MiB; expected a YAML configuration (a few KB), not " +
                   "a data file or a device";
    return result;
  }
  result.text = std::move(text);
  return result;
}

bool check_config_text(std::string_view text, Diagnostics& diags) {
  if (text.starts_with("\xEF\xBB\xBF")) {
    text.remove_prefix(3);  // a UTF-8 byte order mark, which yaml-cpp skips too
  }
  const auto starts = [&](std::string_view bom) { return text.starts_with(bom); };
  if (starts(std::string_view("\x00\x00\xFE\xFF", 4)) || starts("\xFF\xFE") || starts("\xFE\xFF")) {
    diags.error(0, 0, "",
                "the file is UTF-16 or UTF-32 encoded; expected UTF-8 (save it as UTF-8)");
    return false;
  }
  const size_t bad = invalid_utf8_offset(text);
  size_t control = std::string_view::npos;
  for (size_t i = 0; i < text.size() && i < bad; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      control = i;
      break;
    }
  }
  if (bad == std::string_view::npos && control == std::string_view::npos) {
    return true;
  }
  const size_t at = std::min(bad, control);
  int line = 0;
  int column = 0;
  position_at(text, at, &line, &column);
  const std::string byte = hex_byte(static_cast<unsigned char>(text[at]));
  diags.error(line, column, "",
              at == bad ? "invalid UTF-8 (byte " + byte +
                              "); expected a UTF-8 text file (YAML allows no other encoding "
                              "here; write binary values with escapes such as \"\\xff\")"
                        : "control character " + byte +
                              " in the file; expected text (write it as an escape such as "
                              "\"\\x07\" inside a double-quoted string)");
  return false;
}

bool parse_yaml_text(std::string_view text, Diagnostics& diags, YAML::Node& root,
                     std::string_view syntax_prefix) {
  try {
    root = YAML::Load(std::string(text));
    return true;
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own guard (its message is only "bad file"): without it the recursive parser
    // would overflow the stack.
    diags.error(e.mark.line, e.mark.column, "",
                "nested too deeply (the YAML parser stops at depth " + std::to_string(e.depth()) +
                    "); expected a configuration a few levels deep (an unclosed or repeated '[' "
                    "or '{'?)");
  } catch (const YAML::ParserException& e) {
    diags.error(e.mark.line, e.mark.column, "",
                std::string(syntax_prefix) + e.msg +
                    "; expected valid YAML (check indentation, brackets and quotes around this "
                    "point)");
  } catch (const YAML::Exception& e) {
    diags.error(e.mark.line, e.mark.column, "", "YAML error: " + e.msg);
  } catch (const std::exception& e) {
    diags.error(-1, -1, "", std::string("cannot parse the file: ") + e.what());
  }
  return false;
}

}  // namespace sheepdog::config
