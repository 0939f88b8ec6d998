// The steps between a YAML file on disk and a yaml-cpp node tree, shared by the gateway's
// loader and the mock's faults file: a bounded read, a check of the raw text, and the parse
// with yaml-cpp's exceptions turned into diagnostics. Each step reports one clear error and
// never throws, so a hostile file (a 100 MB blob, /dev/zero, binary bytes, 100,000 nested
// brackets) costs a bounded amount of memory and time and says what is wrong.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config/diagnostic.h"

namespace sheepdog::config {

// The largest configuration file read. Real ones are a few KB (examples/sheepdog.yaml is under
// 10 KB; a thousand models fit in about 200 KB). yaml-cpp needs about 100 times a file's size in
// memory and about 1.5 s per MB of mappings (measured: 4.3 MB, 60,000 models: 6 s, 470 MB), so
// this bound keeps a mistake or a hostile file to a few seconds and a few hundred MB.
inline constexpr uint64_t kMaxConfigFileBytes = 4 * 1024 * 1024;

struct FileText {
  std::optional<std::string> text;  // set iff error is empty
  std::string error;                // "cannot open the file: ...", "the file is over ..."
};

// Reads at most `max_bytes` of `path`; a longer file (or an endless one such as /dev/zero) is
// an error, found after reading max_bytes + 1 bytes, never by reading to the end.
FileText read_config_text(const std::filesystem::path& path,
                          uint64_t max_bytes = kMaxConfigFileBytes);

// Checks text before it is parsed: well-formed UTF-8 (the encoding YAML files are read in
// here; a UTF-16 or UTF-32 file is reported as such) and no control characters other than tab,
// line feed and carriage return (YAML's printable set). Reports the first problem at its line
// and column into `diags`; true iff there is none. A leading UTF-8 byte order mark is fine.
bool check_config_text(std::string_view text, Diagnostics& diags);

// Parses YAML text into `root`. A syntax error, or nesting deeper than yaml-cpp's limit, is
// reported into `diags` at its position, prefixed with `syntax_prefix` (e.g. "YAML syntax
// error: "); false iff something was reported.
bool parse_yaml_text(std::string_view text, Diagnostics& diags, YAML::Node& root,
                     std::string_view syntax_prefix = "YAML syntax error: ");

}  // namespace sheepdog::config
