#include "smtp/smtp_wire.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace gatehouse::smtp {
namespace {

TEST(SmtpReply, OneLine) {
  std::string in = "220 smtp.example ESMTP ready\r\n";
  reply r;
  ASSERT_EQ(take_reply(in, r), reply_status::complete);
  EXPECT_EQ(r.code, 220);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], "smtp.example ESMTP ready");
  EXPECT_TRUE(in.empty());
}

TEST(SmtpReply, MultiLineAndWhatFollowsStaysInTheBuffer) {
  std::string in = "250-smtp.example\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n354 next";
  reply r;
  ASSERT_EQ(take_reply(in, r), reply_status::complete);
  EXPECT_EQ(r.code, 250);
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[1], "STARTTLS");
  EXPECT_EQ(r.lines[2], "AUTH PLAIN LOGIN");
  EXPECT_EQ(in, "354 next");
}

TEST(SmtpReply, BareCodeIsAWholeLine) {
  std::string in = "250\r\n";
  reply r;
  ASSERT_EQ(take_reply(in, r), reply_status::complete);
  EXPECT_EQ(r.code, 250);
  EXPECT_EQ(r.lines.at(0), "");
}

TEST(SmtpReply, IncompleteLeavesTheBufferAlone) {
  for (std::string in : {"", "25", "250-first\r\n", "250-first\r\n250 sec", "250 no end\r"}) {
    const std::string before = in;
    reply r;
    EXPECT_EQ(take_reply(in, r), reply_status::incomplete) << before;
    EXPECT_EQ(in, before);
  }
}

TEST(SmtpReply, MalformedReplies) {
  for (std::string in : {"hello\r\n", "2x0 x\r\n", "650 x\r\n", "160 x\r\n", "260 x\r\n", "250_x\r\n",
                         "250 bare lf\n", "250-a\r\n251 b\r\n", "\r\n", "25\r\n"}) {
    const std::string shown = in;
    reply r;
    EXPECT_EQ(take_reply(in, r), reply_status::malformed) << shown;
  }
}

TEST(SmtpReply, LinesAndLineCountAreBounded) {
  reply r;
  std::string at_limit = "250 " + std::string(max_reply_line_bytes - 6, 'x') + "\r\n";
  EXPECT_EQ(take_reply(at_limit, r), reply_status::complete);
  std::string too_long = "250 " + std::string(max_reply_line_bytes - 5, 'x') + "\r\n";
  EXPECT_EQ(take_reply(too_long, r), reply_status::malformed);
  std::string endless = "250 " + std::string(max_reply_line_bytes, 'x');  // no CRLF yet, and never one in bounds
  EXPECT_EQ(take_reply(endless, r), reply_status::malformed);

  std::string many;
  for (std::size_t i = 0; i + 1 < max_reply_lines; ++i) many += "250-x\r\n";
  std::string ok = many + "250 last\r\n";
  EXPECT_EQ(take_reply(ok, r), reply_status::complete);
  EXPECT_EQ(r.lines.size(), max_reply_lines);
  std::string too_many = many + "250-x\r\n250 last\r\n";
  EXPECT_EQ(take_reply(too_many, r), reply_status::malformed);
}

TEST(SmtpPayload, DotStuffingAndTerminator) {
  EXPECT_EQ(data_payload("a\r\n"), "a\r\n.\r\n");
  EXPECT_EQ(data_payload(".\r\n"), "..\r\n.\r\n");
  EXPECT_EQ(data_payload("x\r\n.y\r\n..z\r\n a.\r\n"), "x\r\n..y\r\n...z\r\n a.\r\n.\r\n");
  EXPECT_EQ(data_payload("no end"), "no end\r\n.\r\n");
  EXPECT_EQ(data_payload(".no end"), "..no end\r\n.\r\n");
  EXPECT_EQ(data_payload("\r\n\r\n"), "\r\n\r\n.\r\n");
}

TEST(SmtpPayload, LineLengthBoundary) {
  EXPECT_NO_THROW(data_payload(std::string(998, 'a') + "\r\n"));
  EXPECT_NO_THROW(data_payload(std::string(998, 'a')));
  EXPECT_THROW(data_payload(std::string(999, 'a') + "\r\n"), std::invalid_argument);
  EXPECT_THROW(data_payload("x\r\n" + std::string(999, 'a')), std::invalid_argument);
}

TEST(SmtpPayload, BareLineEndsAndNulAreRefused) {
  EXPECT_THROW(data_payload("a\nb\r\n"), std::invalid_argument);
  EXPECT_THROW(data_payload("a\rb\r\n"), std::invalid_argument);
  EXPECT_THROW(data_payload("a\r"), std::invalid_argument);
  EXPECT_THROW(data_payload("a\n"), std::invalid_argument);
  EXPECT_THROW(data_payload("a\r\r\n"), std::invalid_argument);
  EXPECT_THROW(data_payload(std::string("a\0b\r\n", 5)), std::invalid_argument);
}

}  // namespace
}  // namespace gatehouse::smtp
