// Checks of the numbers given on the command line, with messages a user can
// act on. CLI11 alone reads "-1" into an unsigned option as its largest value,
// takes "nan" for a number of seconds, and words its range errors with every
// digit of the largest double.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

namespace cloudkit::cli {

// Digits only, from `min` to `max`.
inline CLI::Validator WholeNumber(uint64_t min, uint64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        const std::string wanted = "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
          return "'" + text + "' is not " + wanted;
        }
        errno = 0;
        const unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
        if (errno == ERANGE || value < min || value > max) return text + " is not " + wanted;
        return "";
      },
      "", "WholeNumber");
}

// A finite number of seconds (fractions allowed) from `min_seconds` to `max_seconds`.
inline CLI::Validator Seconds(double max_seconds, double min_seconds = 0) {
  return CLI::Validator(
      [max_seconds, min_seconds](std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || value < min_seconds ||
            value > max_seconds) {
          char low[32], high[32];
          std::snprintf(low, sizeof low, "%.10g", min_seconds);
          std::snprintf(high, sizeof high, "%.10g", max_seconds);
          return "'" + text + "' is not a number of seconds from " + low + " to " + high;
        }
        return "";
      },
      "", "Seconds");
}

// The least a timeout may be where the protocol reads 0 ms as "the default"
// (visibility timeouts, ack deadlines): 1 ms, so that 0 (or 0.0001) is
// refused, not silently taken as 30 s.
inline constexpr double kMinDefaultedSeconds = 0.001;

// What a uint32 of milliseconds holds, in seconds: the protocol's limit for
// timeouts and delays (the daemon refuses less with its own, named, limits).
inline constexpr double kMaxSecondsInMs32 = 4'294'967.0;

}  // namespace cloudkit::cli
