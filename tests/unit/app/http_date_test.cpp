#include "app/doctor.hpp"

#include <gtest/gtest.h>

namespace gatehouse::app {
namespace {

TEST(parse_http_date, reads_the_imf_fixdate_form) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);  // RFC 9110's example
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parse_http_date("Sat, 28 Nov 2026 17:00:00 GMT"), 1795885200);
}

TEST(parse_http_date, refuses_other_forms) {
  for (const char* bad : {"", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                          "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 nov 1994 08:49:37 GMT",
                          "Sun, 6 Nov 1994 08:49:37 GMT ", "Sun, 06 Nov 1994 24:00:00 GMT",
                          "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1969 08:49:37 GMT",
                          "Sun, -6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:+7 GMT"})
    EXPECT_EQ(parse_http_date(bad), std::nullopt) << bad;
}

TEST(parse_http_date, a_day_past_the_month_runs_on_as_timegm_did) {
  EXPECT_EQ(parse_http_date("Sat, 31 Feb 2026 00:00:00 GMT"), parse_http_date("Tue, 03 Mar 2026 00:00:00 GMT"));
}

}  // namespace
}  // namespace gatehouse::app
