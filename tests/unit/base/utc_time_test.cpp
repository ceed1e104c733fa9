#include "base/utc_time.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <stdexcept>

namespace gatehouse {
namespace {

// What the C library says, for comparison.
utc_fields libc_fields(std::int64_t t) {
  const auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_wday};
}

TEST(utc_fields_of, agrees_with_gmtime_and_round_trips) {
  for (std::int64_t t : {std::int64_t{0}, std::int64_t{86399}, std::int64_t{951782400} /* 2000-02-29 */,
                         std::int64_t{1709164800} /* 2024-02-29 */, std::int64_t{1795885200},
                         std::int64_t{4107542400} /* 2100-03-01 */, last_four_digit_year_second}) {
    const auto f = utc_fields_of(t);
    const auto c = libc_fields(t);
    EXPECT_EQ(f.year, c.year) << t;
    EXPECT_EQ(f.month, c.month) << t;
    EXPECT_EQ(f.day, c.day) << t;
    EXPECT_EQ(f.hour, c.hour) << t;
    EXPECT_EQ(f.minute, c.minute) << t;
    EXPECT_EQ(f.second, c.second) << t;
    EXPECT_EQ(f.weekday, c.weekday) << t;
    EXPECT_EQ(unix_seconds_of(f), t);
  }
  for (std::int64_t t = 0; t < last_four_digit_year_second; t += 7776000 + 12345)  // about every 90 days
    EXPECT_EQ(unix_seconds_of(utc_fields_of(t)), t) << t;
}

TEST(unix_seconds_of, runs_on_past_the_end_of_a_month_as_timegm_does) {
  EXPECT_EQ(unix_seconds_of({2026, 2, 31, 0, 0, 0}), unix_seconds_of({2026, 3, 3, 0, 0, 0}));
  EXPECT_EQ(unix_seconds_of({2026, 12, 31, 23, 59, 60}), unix_seconds_of({2027, 1, 1, 0, 0, 0}));
}

TEST(iso8601_utc, formats_with_milliseconds_and_checks_the_range) {
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_utc(1795885200), "2026-11-28T17:00:00.000Z");
  EXPECT_EQ(iso8601_utc(last_four_digit_year_second), "9999-12-31T23:59:59.000Z");
  EXPECT_THROW(iso8601_utc(-1), std::invalid_argument);
  EXPECT_THROW(iso8601_utc(last_four_digit_year_second + 1), std::invalid_argument);
  EXPECT_EQ(iso8601_utc_ms(1795885200123), "2026-11-28T17:00:00.123Z");
  EXPECT_EQ(iso8601_utc_ms(7), "1970-01-01T00:00:00.007Z");
}

TEST(iso8601_basic_utc, is_the_x_amz_date_form) {
  EXPECT_EQ(iso8601_basic_utc(0), "19700101T000000Z");
  EXPECT_EQ(iso8601_basic_utc(1440938160), "20150830T123600Z");  // the SigV4 test suite's date
}

TEST(parse_rfc3339, round_trips_what_iso8601_utc_writes) {
  for (std::int64_t t : {std::int64_t{0}, std::int64_t{1709164800}, std::int64_t{1795885200},
                         last_four_digit_year_second})
    EXPECT_EQ(parse_rfc3339(iso8601_utc(t)), t);
}

TEST(parse_rfc3339, takes_offsets_and_refuses_days_that_do_not_exist) {
  EXPECT_EQ(parse_rfc3339("2026-11-28T18:30:00+01:30"), 1795885200);
  EXPECT_EQ(parse_rfc3339("2026-11-28t17:00:00z"), 1795885200);
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800);
  EXPECT_FALSE(parse_rfc3339("2026-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-04-31T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-11-28T17:00:00.Z"));
  EXPECT_FALSE(parse_rfc3339("2026-11-28T17:00:00"));
  EXPECT_FALSE(parse_rfc3339("2026-11-28 17:00:00Z"));
}

}  // namespace
}  // namespace gatehouse
