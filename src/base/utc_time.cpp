#include "base/utc_time.hpp"

#include "base/text.hpp"

#include <cstdio>
#include <stdexcept>

namespace gatehouse {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

utc_fields utc_fields_of(std::int64_t unix_seconds) {
  std::int64_t days = unix_seconds / 86400;
  std::int64_t secs = unix_seconds % 86400;
  if (secs < 0) secs += 86400, --days;
  utc_fields f;
  f.hour = static_cast<int>(secs / 3600);
  f.minute = static_cast<int>(secs / 60 % 60);
  f.second = static_cast<int>(secs % 60);
  f.weekday = static_cast<int>(((days % 7) + 11) % 7);  // day 0 was a Thursday
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  f.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  f.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  f.year = static_cast<std::int64_t>(yoe) + era * 400 + (f.month <= 2 ? 1 : 0);
  return f;
}

std::int64_t unix_seconds_of(const utc_fields& f) {
  // The day runs on linearly from the month's first, as timegm's does.
  return (days_from_civil(f.year, static_cast<unsigned>(f.month), 1) + f.day - 1) * 86400 + f.hour * 3600 +
         f.minute * 60 + f.second;
}

std::string iso8601_utc(std::int64_t unix_seconds) {
  if (unix_seconds < 0 || unix_seconds > last_four_digit_year_second)
    throw std::invalid_argument("iso8601_utc: time outside 1970..9999");
  return iso8601_utc_ms(unix_seconds * 1000);
}

std::string iso8601_utc_ms(std::int64_t unix_milliseconds) {
  std::int64_t ms = unix_milliseconds % 1000;
  std::int64_t secs = unix_milliseconds / 1000;
  if (ms < 0) ms += 1000, --secs;
  const utc_fields f = utc_fields_of(secs);
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", static_cast<long long>(f.year),
                              f.month, f.day, f.hour, f.minute, f.second, static_cast<int>(ms));
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string iso8601_basic_utc(std::int64_t unix_seconds) {
  const utc_fields f = utc_fields_of(unix_seconds);
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%04lld%02d%02dT%02d%02d%02dZ", static_cast<long long>(f.year), f.month,
                              f.day, f.hour, f.minute, f.second);
  return std::string(buf, static_cast<std::size_t>(n));
}

std::optional<std::int64_t> parse_rfc3339(std::string_view s) {
  if (s.size() < 20 || s.size() > 64) return std::nullopt;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!text::parse_digits(s.substr(0, 4), year) || s[4] != '-' || !text::parse_digits(s.substr(5, 2), month) ||
      s[7] != '-' || !text::parse_digits(s.substr(8, 2), day) || (s[10] != 'T' && s[10] != 't') ||
      !text::parse_digits(s.substr(11, 2), hour) || s[13] != ':' || !text::parse_digits(s.substr(14, 2), minute) ||
      s[16] != ':' || !text::parse_digits(s.substr(17, 2), second))
    return std::nullopt;
  static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return std::nullopt;
  const int days_in_month = month_days[month - 1] + (month == 2 && leap(year) ? 1 : 0);
  if (day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  auto rest = s.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    std::size_t digits = 1;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 1) return std::nullopt;
    rest.remove_prefix(digits);
  }
  std::int64_t offset = 0;
  if (rest == "Z" || rest == "z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    if (!text::parse_digits(rest.substr(1, 2), oh) || !text::parse_digits(rest.substr(4, 2), om) || oh > 23 || om > 59)
      return std::nullopt;
    offset = (oh * 60 + om) * 60 * (rest[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  return unix_seconds_of({year, month, day, hour, minute, second}) - offset;
}

}  // namespace gatehouse
