// Parsing of the human units config files use: durations ("250ms", "1m30s", plain numbers are
// seconds) and byte sizes ("4MiB", "512KiB", plain numbers are bytes). Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace sheepdog::config {

// One or more <number><unit> terms, units ms, s, m, h (e.g. "1h30m", "1.5s", "250ms"), or a
// bare non-negative number of seconds ("30", "0.25"). Nullopt for anything else, for negative
// values and for results beyond about 100 years.
std::optional<Duration> parse_duration(std::string_view text);

// A non-negative integer number of bytes, optionally with a unit: B, KiB, MiB, GiB (powers of
// 1024) or KB, MB, GB (powers of 1000); fractions are allowed with a unit ("1.5MiB") when the
// result is a whole number of bytes. Nullopt for anything else or beyond 2^62.
std::optional<uint64_t> parse_byte_size(std::string_view text);

// The shortest exact spelling for messages: "250ms", "30s", "2m", "1h", "1500us", "7ns".
std::string format_duration(Duration d);

// Whole numbers below 1e15 in full ("2", "1000000"), others in the shortest text that reads back
// as the same double ("0.1", "1e+20").
std::string format_number(double value);

}  // namespace sheepdog::config
