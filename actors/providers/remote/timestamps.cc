#include "providers/remote/timestamps.h"

#include <array>
#include <cstdio>

namespace cloudkit::remote {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kWeekdays = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

// Reads exactly `digits` decimal digits at text[*at].
bool Number(std::string_view text, size_t* at, size_t digits, int* out) {
  if (*at + digits > text.size()) return false;
  int value = 0;
  for (size_t i = 0; i < digits; ++i) {
    char c = text[*at + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *at += digits;
  *out = value;
  return true;
}

bool Expect(std::string_view text, size_t* at, char c) {
  if (*at >= text.size() || text[*at] != c) return false;
  ++*at;
  return true;
}

std::optional<int64_t> Compose(int year, int month, int day, int hour, int minute, int second, int millis) {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return ((days * 24 + hour) * 60 + minute) * 60'000 + int64_t{second} * 1000 + millis;
}

}  // namespace

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  // "Wed, 02 Dec 2026 02:53:21 GMT"
  if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT") return std::nullopt;
  size_t at = 5;
  int day, year, hour, minute, second;
  if (!Number(text, &at, 2, &day) || !Expect(text, &at, ' ')) return std::nullopt;
  int month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (text.substr(at, 3) == kMonths[i]) month = static_cast<int>(i) + 1;
  }
  at += 3;
  if (month == 0 || !Expect(text, &at, ' ') || !Number(text, &at, 4, &year) || !Expect(text, &at, ' ') ||
      !Number(text, &at, 2, &hour) || !Expect(text, &at, ':') || !Number(text, &at, 2, &minute) ||
      !Expect(text, &at, ':') || !Number(text, &at, 2, &second)) {
    return std::nullopt;
  }
  return Compose(year, month, day, hour, minute, second, 0);
}

std::optional<int64_t> ParseIso8601(std::string_view text) {
  // "2026-12-02T02:53:21Z", "2026-12-02T02:53:21.000Z"
  size_t at = 0;
  int year, month, day, hour, minute, second, millis = 0;
  if (!Number(text, &at, 4, &year) || !Expect(text, &at, '-') || !Number(text, &at, 2, &month) ||
      !Expect(text, &at, '-') || !Number(text, &at, 2, &day) || !Expect(text, &at, 'T') ||
      !Number(text, &at, 2, &hour) || !Expect(text, &at, ':') || !Number(text, &at, 2, &minute) ||
      !Expect(text, &at, ':') || !Number(text, &at, 2, &second)) {
    return std::nullopt;
  }
  if (at < text.size() && text[at] == '.') {
    ++at;
    int scale = 100;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      millis += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
  }
  if (at + 1 != text.size() || text[at] != 'Z') return std::nullopt;
  return Compose(year, month, day, hour, minute, second, millis);
}

namespace {

struct Civil {
  int64_t days;  // since 1970-01-01
  int64_t year;
  unsigned month, day;
  int64_t second_of_day;
};

Civil CivilFromMs(int64_t unix_ms) {
  Civil c;
  const int64_t seconds = unix_ms / 1000 - (unix_ms % 1000 < 0 ? 1 : 0);
  c.days = seconds / 86400 - (seconds % 86400 < 0 ? 1 : 0);
  c.second_of_day = seconds - c.days * 86400;
  CivilFromDays(c.days, &c.year, &c.month, &c.day);
  return c;
}

}  // namespace

std::string FormatIso8601(int64_t unix_ms) {
  const Civil c = CivilFromMs(unix_ms);
  char out[64];
  std::snprintf(out, sizeof out, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(c.year), c.month,
                c.day, static_cast<long long>(c.second_of_day / 3600), static_cast<long long>(c.second_of_day / 60 % 60),
                static_cast<long long>(c.second_of_day % 60));
  return out;
}

std::string FormatHttpDate(int64_t unix_ms) {
  const Civil c = CivilFromMs(unix_ms);
  const int64_t days = c.days, in_day = c.second_of_day, year = c.year;
  const unsigned month = c.month, day = c.day;
  const std::string_view weekday = kWeekdays[static_cast<size_t>(((days % 7) + 7) % 7)];
  char out[64];
  std::snprintf(out, sizeof out, "%.*s, %02u %.*s %04lld %02lld:%02lld:%02lld GMT", 3, weekday.data(), day, 3,
                kMonths[month - 1].data(), static_cast<long long>(year), static_cast<long long>(in_day / 3600),
                static_cast<long long>(in_day / 60 % 60), static_cast<long long>(in_day % 60));
  return out;
}

}  // namespace cloudkit::remote
