#include "smtp/smtp_policy.hpp"
#include "smtp/smtp_settings.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::smtp {
namespace {

std::string error_of(const std::string& url) {
  try {
    parse_smtp_url(url);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(SmtpSettings, SmtpWithPortAndNoCredentials) {
  const auto s = parse_smtp_url("smtp://mail.example.com:2525");
  EXPECT_FALSE(s.implicit_tls);
  EXPECT_EQ(s.host, "mail.example.com");
  EXPECT_EQ(s.port, 2525);
  EXPECT_FALSE(s.username);
  EXPECT_FALSE(s.password);
}

TEST(SmtpSettings, Defaults) {
  const auto smtp = parse_smtp_url("smtp://mail.example.com");
  EXPECT_EQ(smtp.port, 587);
  const auto smtps = parse_smtp_url("smtps://mail.example.com/");
  EXPECT_TRUE(smtps.implicit_tls);
  EXPECT_EQ(smtps.port, 465);
  EXPECT_EQ(smtps.helo_name, "localhost");
  EXPECT_EQ(smtps.connect_timeout.count(), 5000);
  EXPECT_EQ(smtps.command_timeout.count(), 10000);
  EXPECT_EQ(smtps.total_timeout.count(), 30000);
  EXPECT_FALSE(smtps.ca_file);
  EXPECT_EQ(parse_smtp_url("smtps://h.example:2465").port, 2465);
}

TEST(SmtpSettings, SchemeAndHostAreCaseInsensitive) {
  const auto s = parse_smtp_url("SMTPS://Mail.Example.COM");
  EXPECT_TRUE(s.implicit_tls);
  EXPECT_EQ(s.host, "mail.example.com");
}

TEST(SmtpSettings, Ipv4AndIpv6Hosts) {
  EXPECT_EQ(parse_smtp_url("smtp://127.0.0.1:25").host, "127.0.0.1");
  const auto v6 = parse_smtp_url("smtp://[::1]:25");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 25);
  EXPECT_EQ(parse_smtp_url("smtps://[2001:DB8::1]").host, "2001:db8::1");
  EXPECT_EQ(parse_smtp_url("smtps://[2001:db8::1]").port, 465);
}

TEST(SmtpSettings, CredentialsArePercentDecoded) {
  const auto s = parse_smtp_url("smtp://us%40er:p%3Ass%2Fw%25rd%20x@mail.example.com:587");
  ASSERT_TRUE(s.username);
  ASSERT_TRUE(s.password);
  EXPECT_EQ(*s.username, "us@er");
  EXPECT_EQ(*s.password, "p:ss/w%rd x");
  // Bytes above ASCII pass through (a UTF-8 password).
  EXPECT_EQ(*parse_smtp_url("smtp://u:%C3%A9t%C3%A9@h.example").password, "\xC3\xA9t\xC3\xA9");
  // Sub-delimiters may stay unencoded.
  EXPECT_EQ(*parse_smtp_url("smtp://u:a!$&'()*+,;=b@h.example").password, "a!$&'()*+,;=b");
  // Only the first ':' separates; an encoded one is part of the user.
  EXPECT_EQ(*parse_smtp_url("smtp://a%3Ab:c:d@h.example").username, "a:b");
  EXPECT_EQ(*parse_smtp_url("smtp://a%3Ab:c:d@h.example").password, "c:d");
}

TEST(SmtpSettings, CredentialsAreBounded) {
  const std::string at_limit(max_credential_bytes, 'p');
  EXPECT_EQ(parse_smtp_url("smtp://u:" + at_limit + "@h.example").password->size(), max_credential_bytes);
  EXPECT_NE(error_of("smtp://u:" + at_limit + "p@h.example").find("longer than 256"), std::string::npos);
  EXPECT_NE(error_of("smtp://" + at_limit + "u:p@h.example").find("user name is longer"), std::string::npos);
}

TEST(SmtpSettings, BadUrlsAreRefusedWithAReason) {
  EXPECT_NE(error_of("http://h.example").find("smtp://"), std::string::npos);
  EXPECT_NE(error_of("h.example:25").find("smtp://"), std::string::npos);
  EXPECT_NE(error_of("smtp://").find("no host"), std::string::npos);
  EXPECT_NE(error_of("smtp://:25").find("no host"), std::string::npos);
  EXPECT_NE(error_of("smtp://h.example:").find("port"), std::string::npos);
  EXPECT_NE(error_of("smtp://h.example:0").find("port"), std::string::npos);
  EXPECT_NE(error_of("smtp://h.example:65536").find("port"), std::string::npos);
  EXPECT_NE(error_of("smtp://h.example:25x").find("port"), std::string::npos);
  EXPECT_NE(error_of("smtp://h.example:-1").find("port"), std::string::npos);
  EXPECT_NE(error_of("smtp://h.example/path").find("path"), std::string::npos);
  EXPECT_NE(error_of("smtp://h.example//").find("path"), std::string::npos);
  EXPECT_NE(error_of("smtp://h.example?x=1").find("query"), std::string::npos);
  EXPECT_NE(error_of("smtp://h.example#f").find("fragment"), std::string::npos);
  EXPECT_NE(error_of("smtp://bad_host.example").find("DNS name"), std::string::npos);
  EXPECT_NE(error_of("smtp://-h.example").find("DNS name"), std::string::npos);
  EXPECT_NE(error_of("smtp://h..example").find("DNS name"), std::string::npos);
  EXPECT_NE(error_of("smtp://h.example.").find("DNS name"), std::string::npos);
  EXPECT_NE(error_of("smtp://" + std::string(64, 'a') + ".example").find("DNS name"), std::string::npos);
  EXPECT_NE(error_of("smtp://300.1.1.1").find("IPv4"), std::string::npos);
  EXPECT_NE(error_of("smtp://1.2.3").find("IPv4"), std::string::npos);
  EXPECT_NE(error_of("smtp://::1:25").find("DNS name"), std::string::npos);
  EXPECT_NE(error_of("smtp://[::1").find("IPv6"), std::string::npos);
  EXPECT_NE(error_of("smtp://[nothex::1]").find("IPv6"), std::string::npos);
  EXPECT_NE(error_of("smtp://[::1]x").find("after the IPv6"), std::string::npos);
  EXPECT_NE(error_of("smtp://user@h.example").find("no password"), std::string::npos);
  EXPECT_NE(error_of("smtp://:pw@h.example").find("user name is empty"), std::string::npos);
  EXPECT_NE(error_of("smtp://u:@h.example").find("password is empty"), std::string::npos);
  EXPECT_NE(error_of("smtp://u:p%0Aq@h.example").find("control character"), std::string::npos);
  EXPECT_NE(error_of("smtp://u:p%7Fq@h.example").find("control character"), std::string::npos);
  EXPECT_NE(error_of("smtp://u%00:p@h.example").find("control character"), std::string::npos);
  EXPECT_NE(error_of("smtp://u:p%4@h.example").find("two hex digits"), std::string::npos);
  EXPECT_NE(error_of("smtp://u:p%zz@h.example").find("two hex digits"), std::string::npos);
  EXPECT_NE(error_of("smtp://u:p%@h.example").find("two hex digits"), std::string::npos);
  EXPECT_NE(error_of("smtp://u:p q@h.example").find("percent-encoded"), std::string::npos);
  EXPECT_NE(error_of("smtp://u:p@q@h.example").find("%40"), std::string::npos);
}

// Whatever is wrong, the error text carries no part of the password, in
// its raw or decoded form, nor the user name.
TEST(SmtpSettings, ThePasswordIsNeverInAnErrorMessage) {
  const std::string secret = "Sup3rS3cret";
  const std::string bad[] = {
      "smtp://alice:" + secret + "@bad_host",
      "smtp://alice:" + secret + "@h.example:99999",
      "smtp://alice:" + secret + "@h.example/path",
      "smtp://alice:" + secret + "%0A@h.example",
      "smtp://alice:" + secret + "%G1@h.example",
      "smtp://alice:" + secret + " @h.example",
      "smtp://alice:" + secret + "@" + secret + "@h.example",
      "smtp://alice:" + secret + std::string(300, 'x') + "@h.example",
      "smtp://alice:" + secret + "@[::1",
      "smtp://:" + secret + "@h.example",
      "ftp://alice:" + secret + "@h.example",
  };
  for (const auto& url : bad) {
    const std::string e = error_of(url);
    EXPECT_NE(e, "(accepted)") << url;
    EXPECT_EQ(e.find("Sup3r"), std::string::npos) << e;
    EXPECT_EQ(e.find("S3cret"), std::string::npos) << e;
    EXPECT_EQ(e.find("alice"), std::string::npos) << e;
  }
}

TEST(SmtpSettings, LoopbackHosts) {
  for (const char* h : {"localhost", "LocalHost", "127.0.0.1", "127.255.0.9", "::1", "[::1]", "0:0:0:0:0:0:0:1"})
    EXPECT_TRUE(is_loopback_host(h)) << h;
  for (const char* h : {"128.0.0.1", "10.0.0.1", "::2", "::", "localhost.example", "mail.example.com", "",
                        "126.255.255.255", "::ffff:127.0.0.1x", "[::1", "0.0.0.0"})
    EXPECT_FALSE(is_loopback_host(h)) << h;
}

TEST(SmtpPolicy, StartTlsIsRequiredUnlessLoopback) {
  EXPECT_EQ(decide_tls(true, false, "mail.example.com"), tls_step::already_secure);
  EXPECT_EQ(decide_tls(true, true, "mail.example.com"), tls_step::already_secure);
  EXPECT_EQ(decide_tls(false, true, "mail.example.com"), tls_step::start_tls);
  EXPECT_EQ(decide_tls(false, true, "127.0.0.1"), tls_step::start_tls);  // offered: taken, even locally
  EXPECT_EQ(decide_tls(false, false, "mail.example.com"), tls_step::refuse);
  EXPECT_EQ(decide_tls(false, false, "10.1.2.3"), tls_step::refuse);
  EXPECT_EQ(decide_tls(false, false, "2001:db8::1"), tls_step::refuse);
  EXPECT_EQ(decide_tls(false, false, "127.0.0.1"), tls_step::stay_plaintext);
  EXPECT_EQ(decide_tls(false, false, "localhost"), tls_step::stay_plaintext);
  EXPECT_EQ(decide_tls(false, false, "::1"), tls_step::stay_plaintext);
}

TEST(SmtpPolicy, CredentialsOnlyOverTlsOrLoopback) {
  EXPECT_TRUE(may_send_credentials(true, "mail.example.com"));
  EXPECT_FALSE(may_send_credentials(false, "mail.example.com"));
  EXPECT_TRUE(may_send_credentials(false, "127.0.0.1"));
  EXPECT_TRUE(may_send_credentials(false, "localhost"));
}

}  // namespace
}  // namespace gatehouse::smtp
