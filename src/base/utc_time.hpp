#pragma once
// UTC calendar time, converted and written one way for everything that
// stamps or reads a time: the contract's createdAt, S3 POST policies, log
// lines, SigV4's x-amz-date, mail Date headers, credential expiries, S3
// LastModified and HTTP Date headers. Proleptic Gregorian arithmetic
// (H. Hinnant's algorithms): no time zone database, no locale, no
// gmtime/timegm, and the same answer on every platform.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse {

// English names whatever the locale, as RFC 5322 and RFC 9110 dates want.
inline constexpr std::array<std::string_view, 7> weekday_names = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
inline constexpr std::array<std::string_view, 12> month_names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// 9999-12-31T23:59:59Z: the formats below have four-digit years only.
inline constexpr std::int64_t last_four_digit_year_second = 253402300799;

struct utc_fields {
  std::int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0, minute = 0, second = 0;
  int weekday = 4;  // 0 = Sunday (1970-01-01 was a Thursday)
};

utc_fields utc_fields_of(std::int64_t unix_seconds);

// The inverse, unchecked like timegm: a day or second past the end of its
// month or minute runs on into the next (31 February is 3 March). Callers
// validate the fields they parse.
std::int64_t unix_seconds_of(const utc_fields& f);

// "2026-11-28T16:05:00.000Z" (ISO 8601 with milliseconds), the form of the
// contract's createdAt and of an S3 POST policy's expiration. Throws
// std::invalid_argument outside 1970..9999.
std::string iso8601_utc(std::int64_t unix_seconds);
// The same with the milliseconds filled in (log lines); never throws.
std::string iso8601_utc_ms(std::int64_t unix_milliseconds);
// "20261128T160500Z" (ISO 8601 basic format), SigV4's x-amz-date and the
// file mail transport's file names; no range check (callers check).
std::string iso8601_basic_utc(std::int64_t unix_seconds);

// RFC 3339 "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" to Unix
// seconds (the fraction dropped); nullopt unless well-formed, with a day
// that exists in its month.
std::optional<std::int64_t> parse_rfc3339(std::string_view s);

}  // namespace gatehouse
