// The transport against replies no real server gives, from a scripted
// loopback server: malformed and oversized replies, bytes injected
// after STARTTLS, a refused greeting, and the HELO fallback.
#include "smtp/smtp_transport.hpp"

#include "support_scripted_server.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gatehouse::smtp {
namespace {

using testing::scripted_server;

mail::outgoing sample() {
  return {"noreply@gatehouse.test", "alice@example.test", "Subject: hi\r\n\r\nbody\r\n", "m1@gatehouse.test"};
}

smtp_settings loopback(unsigned short port) {
  smtp_settings s;
  s.host = "127.0.0.1";
  s.port = port;
  s.connect_timeout = std::chrono::milliseconds(2000);
  s.command_timeout = std::chrono::milliseconds(2000);
  s.total_timeout = std::chrono::milliseconds(5000);
  return s;
}

std::optional<mail::delivery_error> failure_of(const smtp_settings& s) {
  try {
    smtp_transport(s).deliver(sample());
  } catch (const mail::delivery_error& e) {
    return e;
  }
  return std::nullopt;
}

TEST(SmtpReplies, AMalformedGreetingIsRetryable) {
  scripted_server server({"hello there\r\n"});
  const auto e = failure_of(loopback(server.port()));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->retryable());
  EXPECT_NE(std::string(e->what()).find("malformed reply"), std::string::npos) << e->what();
}

TEST(SmtpReplies, AReplyWithTooManyLinesIsMalformed) {
  std::string ehlo;
  for (int i = 0; i < 150; ++i) ehlo += "250-X-EXTENSION-" + std::to_string(i) + "\r\n";
  scripted_server server({"220 hi\r\n", ehlo + "250 END\r\n"});
  const auto e = failure_of(loopback(server.port()));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->retryable());
  EXPECT_NE(std::string(e->what()).find("malformed reply to EHLO"), std::string::npos) << e->what();
}

TEST(SmtpReplies, AnEndlessReplyLineIsMalformed) {
  scripted_server server({"220 " + std::string(5000, 'x')});
  const auto e = failure_of(loopback(server.port()));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->retryable());
  EXPECT_NE(std::string(e->what()).find("malformed reply"), std::string::npos) << e->what();
}

TEST(SmtpReplies, ARefusedGreetingIsPermanentAndA421Retryable) {
  {
    scripted_server server({"554 no service here\r\n"});
    const auto e = failure_of(loopback(server.port()));
    ASSERT_TRUE(e);
    EXPECT_FALSE(e->retryable());
    EXPECT_NE(std::string(e->what()).find("(554)"), std::string::npos) << e->what();
  }
  {
    scripted_server server({"421 busy, try later\r\n"});
    const auto e = failure_of(loopback(server.port()));
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->retryable());
    EXPECT_NE(std::string(e->what()).find("(421)"), std::string::npos) << e->what();
  }
}

// CVE-2011-0411-style injection: a reply smuggled in after STARTTLS's 220
// would be read as if it came over TLS.
TEST(SmtpReplies, BytesAfterTheStartTlsReplyAreRefused) {
  scripted_server server({"220 hi\r\n", "250-hi\r\n250 STARTTLS\r\n", "220 go ahead\r\n250 injected\r\n"});
  const auto e = failure_of(loopback(server.port()));
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("before the TLS handshake"), std::string::npos) << e->what();
  const auto commands = server.commands();
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[1], "STARTTLS");
}

TEST(SmtpReplies, HeloWhenEhloIsRefusedWith5xx) {
  scripted_server server({"220 hi\r\n", "502 EHLO not implemented\r\n", "250 hello\r\n", "250 ok\r\n", "250 ok\r\n",
                          "354 go\r\n", "250 queued\r\n", "221 bye\r\n"});
  smtp_transport(loopback(server.port())).deliver(sample());
  const std::vector<std::string> expected{"EHLO localhost",
                                          "HELO localhost",
                                          "MAIL FROM:<noreply@gatehouse.test>",
                                          "RCPT TO:<alice@example.test>",
                                          "DATA",
                                          "Subject: hi\r\n\r\nbody\r\n",
                                          "QUIT"};
  EXPECT_EQ(server.commands(), expected);
}

TEST(SmtpReplies, A4xxToEhloIsRetryableWithoutTryingHelo) {
  scripted_server server({"220 hi\r\n", "421 closing\r\n", "250 hello\r\n"});
  const auto e = failure_of(loopback(server.port()));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->retryable());
  EXPECT_EQ(std::string(e->what()), "EHLO refused (421)");
  EXPECT_EQ(server.commands().size(), 1u);
}

TEST(SmtpReplies, AnUnexpectedSuccessCodeIsRetryable) {
  scripted_server server({"220 hi\r\n", "250 hello\r\n", "354 what?\r\n"});
  const auto e = failure_of(loopback(server.port()));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->retryable());
  EXPECT_EQ(std::string(e->what()), "unexpected reply to MAIL FROM (354)");
}

TEST(SmtpReplies, AQuitThatIsNeverAnsweredStillDelivers) {
  // The script ends after 250 for the message: QUIT gets no answer, and
  // the server closes the connection.
  scripted_server server({"220 hi\r\n", "250 hello\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 queued\r\n"});
  EXPECT_NO_THROW(smtp_transport(loopback(server.port())).deliver(sample()));
}

}  // namespace
}  // namespace gatehouse::smtp
