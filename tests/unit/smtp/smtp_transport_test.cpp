// The SMTP transport against a real SMTP server: nodemailer's smtp-server,
// run by tests/peers/smtp-peer.mjs on a loopback port, one per test.
#include "smtp/smtp_transport.hpp"

#include "base/request_deadline.hpp"

#include "../aws/support_tls_files.hpp"
#include "support_smtp_peer.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <thread>

namespace gatehouse::smtp {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::read_file;
using testing::smtp_peer;

const std::string sender = "noreply@gatehouse.test";
const std::string recipient = "alice@example.test";

std::string sample_message(const std::string& body = "Hello Alice,\r\n\r\nyour code is 123456.\r\n") {
  return "From: Gatehouse <" + sender + ">\r\n"
         "To: Alice <" + recipient + ">\r\n"
         "Subject: Your code\r\n"
         "Date: Tue, 11 Jun 2024 10:00:00 +0000\r\n"
         "Message-ID: <m1@gatehouse.test>\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: 8bit\r\n"
         "\r\n" + body;
}

mail::outgoing outgoing_of(std::string data) {
  return {sender, recipient, std::move(data), "m1@gatehouse.test"};
}

smtp_settings loopback(unsigned short port) {
  smtp_settings s;
  s.host = "127.0.0.1";
  s.port = port;
  s.connect_timeout = std::chrono::milliseconds(3000);
  s.command_timeout = std::chrono::milliseconds(5000);
  s.total_timeout = std::chrono::milliseconds(15000);
  return s;
}

// The delivery_error `deliver` threw, or nullopt if it returned.
std::optional<mail::delivery_error> failure_of(const smtp_settings& s, const mail::outgoing& m) {
  try {
    smtp_transport(s).deliver(m);
  } catch (const mail::delivery_error& e) {
    return e;
  }
  return std::nullopt;
}

json::object envelope_of(const smtp_peer& peer, int n) {
  return json::parse(read_file(peer.out_dir() / (std::to_string(n) + ".json"))).as_object();
}

std::string eml_of(const smtp_peer& peer, int n) { return read_file(peer.out_dir() / (std::to_string(n) + ".eml")); }

class SmtpTransport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(std::system("node --version > /dev/null 2>&1"), 0) << "the SMTP tests need node on PATH";
    ASSERT_TRUE(fs::exists(testing::peers_dir() / "node_modules" / "smtp-server" / "package.json"))
        << "run `npm ci` in tests/peers";
  }
  static void TearDownTestSuite() {
    delete tls_;
    tls_ = nullptr;
  }

  // Made at the first test that needs them: ctest runs each test in a
  // process of its own, and most need no certificates.
  static const aws::testing::tls_files& tls() {
    if (!tls_) tls_ = aws::testing::make_tls_files().release();
    return *tls_;
  }

  static std::vector<std::string> tls_args(bool trusted = true) {
    const auto& cert = trusted ? tls().server_cert : tls().self_cert;
    const auto& key = trusted ? tls().server_key : tls().self_key;
    return {"--tls-key", key.string(), "--tls-cert", cert.string()};
  }
  static std::vector<std::string> join(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  static smtp_settings trusting(smtp_settings s) {
    s.ca_file = tls().ca_cert.string();
    return s;
  }

  static inline aws::testing::tls_files* tls_ = nullptr;
};

TEST_F(SmtpTransport, DeliversInPlaintextToALoopbackServerWithoutStartTls) {
  smtp_peer peer({});
  const std::string data = sample_message();
  smtp_transport(loopback(peer.port())).deliver(outgoing_of(data));

  ASSERT_EQ(peer.delivered(), 1u) << peer.log();
  const auto env = envelope_of(peer, 1);
  EXPECT_EQ(env.at("mailFrom").as_string(), sender);
  ASSERT_EQ(env.at("rcptTo").as_array().size(), 1u);
  EXPECT_EQ(env.at("rcptTo").as_array()[0].as_string(), recipient);
  EXPECT_TRUE(env.at("user").is_null());
  EXPECT_FALSE(env.at("secure").as_bool());
  EXPECT_EQ(eml_of(peer, 1), data);
}

// mailparser (an implementation sharing nothing with ours) reads what
// arrived as the message that was sent.
TEST_F(SmtpTransport, TheDeliveredMailParses) {
  smtp_peer peer({});
  smtp_transport(loopback(peer.port())).deliver(outgoing_of(sample_message()));
  ASSERT_EQ(peer.delivered(), 1u) << peer.log();

  const std::string command = "node '" + (testing::peers_dir() / "read-mail.mjs").string() + "' '" +
                              (peer.out_dir() / "1.eml").string() + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ASSERT_EQ(::pclose(pipe), 0) << out;
  const auto mail = json::parse(out).as_array().at(0).as_object();
  EXPECT_EQ(mail.at("from").at("address").as_string(), sender);
  EXPECT_EQ(mail.at("to").at("address").as_string(), recipient);
  EXPECT_EQ(mail.at("subject").as_string(), "Your code");
  EXPECT_EQ(mail.at("messageId").as_string(), "<m1@gatehouse.test>");
  EXPECT_EQ(mail.at("text").as_string(), "Hello Alice,\n\nyour code is 123456.\n");
  EXPECT_FALSE(mail.at("bareLf").as_bool());
}

TEST_F(SmtpTransport, UpgradesWithStartTlsVerifiedAgainstTheTestCa) {
  smtp_peer peer(tls_args());
  const std::string data = sample_message();
  smtp_transport(trusting(loopback(peer.port()))).deliver(outgoing_of(data));
  ASSERT_EQ(peer.delivered(), 1u) << peer.log();
  EXPECT_TRUE(envelope_of(peer, 1).at("secure").as_bool());
  EXPECT_EQ(eml_of(peer, 1), data);
}

TEST_F(SmtpTransport, StartTlsByNameVerifiesTheHostName) {
  smtp_peer peer(tls_args());
  auto s = trusting(loopback(peer.port()));
  s.host = "localhost";  // the certificate names localhost and 127.0.0.1
  smtp_transport(s).deliver(outgoing_of(sample_message()));
  ASSERT_EQ(peer.delivered(), 1u) << peer.log();
  EXPECT_TRUE(envelope_of(peer, 1).at("secure").as_bool());
}

TEST_F(SmtpTransport, AnUntrustedCertificateIsAPermanentFailure) {
  smtp_peer peer(tls_args(false));  // self-signed
  const auto e = failure_of(trusting(loopback(peer.port())), outgoing_of(sample_message()));
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->retryable());
  EXPECT_NE(std::string(e->what()).find("certificate verification failed"), std::string::npos) << e->what();
  EXPECT_EQ(peer.delivered(), 0u);
}

TEST_F(SmtpTransport, ACertificateForAnotherNameIsAPermanentFailure) {
  smtp_peer peer({"--tls-key", tls().wrong_key.string(), "--tls-cert", tls().wrong_cert.string()});
  const auto e = failure_of(trusting(loopback(peer.port())), outgoing_of(sample_message()));
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->retryable());
  EXPECT_NE(std::string(e->what()).find("certificate verification failed"), std::string::npos) << e->what();
  EXPECT_EQ(peer.delivered(), 0u);
}

TEST_F(SmtpTransport, DeliversOverImplicitTls) {
  smtp_peer peer(join({"--secure"}, tls_args()));
  auto s = trusting(loopback(peer.port()));
  s.implicit_tls = true;
  const std::string data = sample_message();
  smtp_transport(s).deliver(outgoing_of(data));
  ASSERT_EQ(peer.delivered(), 1u) << peer.log();
  EXPECT_TRUE(envelope_of(peer, 1).at("secure").as_bool());
  EXPECT_EQ(eml_of(peer, 1), data);
}

TEST_F(SmtpTransport, ImplicitTlsToAPlaintextServerFails) {
  smtp_peer peer({});
  auto s = trusting(loopback(peer.port()));
  s.implicit_tls = true;
  const auto e = failure_of(s, outgoing_of(sample_message()));
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("TLS handshake"), std::string::npos) << e->what();
  EXPECT_EQ(peer.delivered(), 0u);
}

smtp_settings with_login(smtp_settings s, const std::string& password = "s3cret pass") {
  s.username = "alice";
  s.password = password;
  return s;
}

TEST_F(SmtpTransport, AuthPlainOverStartTls) {
  smtp_peer peer(join({"--auth", "alice:s3cret pass", "--auth-methods", "PLAIN"}, tls_args()));
  smtp_transport(with_login(trusting(loopback(peer.port())))).deliver(outgoing_of(sample_message()));
  ASSERT_EQ(peer.delivered(), 1u) << peer.log();
  const auto env = envelope_of(peer, 1);
  EXPECT_EQ(env.at("user").as_string(), "alice");
  EXPECT_EQ(env.at("authMethod").as_string(), "PLAIN");
  EXPECT_TRUE(env.at("secure").as_bool());
}

TEST_F(SmtpTransport, AuthLoginWhenThatIsAllTheServerOffers) {
  smtp_peer peer({"--auth", "alice:s3cret pass", "--auth-methods", "LOGIN"});
  smtp_transport(with_login(loopback(peer.port()))).deliver(outgoing_of(sample_message()));
  ASSERT_EQ(peer.delivered(), 1u) << peer.log();
  const auto env = envelope_of(peer, 1);
  EXPECT_EQ(env.at("user").as_string(), "alice");
  EXPECT_EQ(env.at("authMethod").as_string(), "LOGIN");
}

TEST_F(SmtpTransport, AuthPlainIsPreferredWhenBothAreOffered) {
  smtp_peer peer({"--auth", "alice:s3cret pass"});  // PLAIN and LOGIN
  smtp_transport(with_login(loopback(peer.port()))).deliver(outgoing_of(sample_message()));
  ASSERT_EQ(peer.delivered(), 1u) << peer.log();
  EXPECT_EQ(envelope_of(peer, 1).at("authMethod").as_string(), "PLAIN");
}

TEST_F(SmtpTransport, AWrongPasswordIsAPermanentFailureThatNamesNoSecret) {
  for (const char* method : {"PLAIN", "LOGIN"}) {
    smtp_peer peer({"--auth", "alice:right-one", "--auth-methods", method});
    const auto e = failure_of(with_login(loopback(peer.port()), "wrong-one"), outgoing_of(sample_message()));
    ASSERT_TRUE(e) << method;
    EXPECT_FALSE(e->retryable()) << method;
    EXPECT_EQ(std::string(e->what()), "SMTP authentication failed (535)") << method;
    EXPECT_EQ(peer.delivered(), 0u);
  }
}

TEST_F(SmtpTransport, CredentialsForAServerWithoutAuthArePermanentFailures) {
  smtp_peer peer({});  // no AUTH advertised
  const auto e = failure_of(with_login(loopback(peer.port())), outgoing_of(sample_message()));
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->retryable());
  EXPECT_NE(std::string(e->what()).find("neither AUTH PLAIN nor AUTH LOGIN"), std::string::npos) << e->what();
  EXPECT_EQ(peer.delivered(), 0u);
}

TEST_F(SmtpTransport, ARecipientRefusedWith550IsPermanent) {
  smtp_peer peer({"--refuse-rcpt", "550"});
  const auto e = failure_of(loopback(peer.port()), outgoing_of(sample_message()));
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->retryable());
  EXPECT_EQ(std::string(e->what()), "RCPT TO refused (550)");
  EXPECT_EQ(peer.delivered(), 0u);
}

TEST_F(SmtpTransport, ARecipientRefusedWith450IsRetryable) {
  smtp_peer peer({"--refuse-rcpt", "450"});
  const auto e = failure_of(loopback(peer.port()), outgoing_of(sample_message()));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->retryable());
  EXPECT_EQ(std::string(e->what()), "RCPT TO refused (450)");
}

TEST_F(SmtpTransport, AMessageRefusedAfterDataMapsItsCode) {
  {
    smtp_peer peer({"--refuse-data", "554"});
    const auto e = failure_of(loopback(peer.port()), outgoing_of(sample_message()));
    ASSERT_TRUE(e);
    EXPECT_FALSE(e->retryable());
    EXPECT_EQ(std::string(e->what()), "the message refused (554)");
    EXPECT_EQ(peer.delivered(), 0u);
  }
  {
    smtp_peer peer({"--refuse-data", "451"});
    const auto e = failure_of(loopback(peer.port()), outgoing_of(sample_message()));
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->retryable());
    EXPECT_EQ(std::string(e->what()), "the message refused (451)");
  }
}

TEST_F(SmtpTransport, AMessageOverTheServersSizeLimitIsRefusedBeforeMailFrom) {
  smtp_peer peer({"--max-size", "500"});
  const auto e = failure_of(loopback(peer.port()), outgoing_of(sample_message(std::string(600, 'x') + "\r\n")));
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->retryable());
  EXPECT_NE(std::string(e->what()).find("SIZE"), std::string::npos) << e->what();
  EXPECT_EQ(peer.delivered(), 0u);
}

TEST_F(SmtpTransport, AServerThatNeverGreetsTimesOutRetryably) {
  smtp_peer peer({"--hang-greeting"});
  auto s = loopback(peer.port());
  s.command_timeout = std::chrono::milliseconds(300);
  const auto e = failure_of(s, outgoing_of(sample_message()));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->retryable());
  EXPECT_NE(std::string(e->what()).find("timed out"), std::string::npos) << e->what();
}

TEST_F(SmtpTransport, TheTotalTimeoutBoundsTheWholeDelivery) {
  smtp_peer peer({"--hang-greeting"});
  auto s = loopback(peer.port());
  s.command_timeout = std::chrono::milliseconds(60000);
  s.total_timeout = std::chrono::milliseconds(300);
  const auto e = failure_of(s, outgoing_of(sample_message()));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->retryable());
  EXPECT_NE(std::string(e->what()).find("timed out"), std::string::npos) << e->what();
}

TEST_F(SmtpTransport, TheRequestsDeadlineBoundsTheWholeDelivery) {
  smtp_peer peer({"--hang-greeting"});
  auto s = loopback(peer.port());
  s.command_timeout = std::chrono::milliseconds(60000);
  s.total_timeout = std::chrono::milliseconds(60000);
  const auto start = std::chrono::steady_clock::now();
  const request_deadline::scope answer_by(start + std::chrono::milliseconds(300));
  const auto e = failure_of(s, outgoing_of(sample_message()));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->retryable());
  EXPECT_NE(std::string(e->what()).find("timed out"), std::string::npos) << e->what();
  // Generous: 300 ms is the deadline; the timeouts alone would wait a minute.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(SmtpTransport, AConnectionDroppedAfterDataIsRetryable) {
  smtp_peer peer({"--drop-after-data"});
  const auto e = failure_of(loopback(peer.port()), outgoing_of(sample_message()));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->retryable());
  EXPECT_NE(std::string(e->what()).find("connection lost"), std::string::npos) << e->what();
  EXPECT_EQ(peer.delivered(), 0u);
}

TEST_F(SmtpTransport, ARefusedConnectionIsRetryable) {
  unsigned short port = 0;
  {
    smtp_peer peer({});
    port = peer.port();
  }  // gone: nothing listens there now
  const auto e = failure_of(loopback(port), outgoing_of(sample_message()));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->retryable());
  EXPECT_NE(std::string(e->what()).find("cannot connect"), std::string::npos) << e->what();
}

TEST_F(SmtpTransport, LinesStartingWithADotArriveByteIdentical) {
  smtp_peer peer({});
  const std::string data = sample_message(".\r\n..\r\n.hidden line\r\nmiddle . dot\r\n. \r\n...three\r\nend\r\n");
  smtp_transport(loopback(peer.port())).deliver(outgoing_of(data));
  ASSERT_EQ(peer.delivered(), 1u) << peer.log();
  EXPECT_EQ(eml_of(peer, 1), data);
}

TEST_F(SmtpTransport, ALineOf998BytesIsDelivered) {
  smtp_peer peer({});
  const std::string data = sample_message(std::string(998, 'a') + "\r\n");
  smtp_transport(loopback(peer.port())).deliver(outgoing_of(data));
  ASSERT_EQ(peer.delivered(), 1u) << peer.log();
  EXPECT_EQ(eml_of(peer, 1), data);
}

// Refused before connecting: the port has nothing listening, so had the
// transport connected, the error would be a retryable "cannot connect".
TEST_F(SmtpTransport, MessagesThatCannotBeSentAreRefusedBeforeConnecting) {
  unsigned short port = 0;
  {
    smtp_peer peer({});
    port = peer.port();
  }
  const std::pair<std::string, std::string> cases[] = {
      {sample_message("bare\nLF\r\n"), "bare LF"},
      {sample_message("bare\rCR\r\n"), "bare CR"},
      {sample_message(std::string(999, 'a') + "\r\n"), "longer than 998"},
      {sample_message("x\r\n" + std::string(999, 'a')), "longer than 998"},
      {sample_message(std::string("nul\0byte\r\n", 10)), "NUL"},
      {"", "empty"},
  };
  for (const auto& [data, why] : cases) {
    const auto e = failure_of(loopback(port), outgoing_of(data));
    ASSERT_TRUE(e) << why;
    EXPECT_FALSE(e->retryable()) << why;
    EXPECT_NE(std::string(e->what()).find(why), std::string::npos) << e->what();
  }
  auto bad_address = outgoing_of(sample_message());
  bad_address.recipient = "alice@example.test>\r\nRCPT TO:<mallory@example.test";
  const auto e = failure_of(loopback(port), bad_address);
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->retryable());
  EXPECT_EQ(std::string(e->what()).find("alice"), std::string::npos) << e->what();
}

TEST_F(SmtpTransport, ALastLineWithoutCrlfGetsOne) {
  smtp_peer peer({});
  const std::string data = sample_message("no line end");
  smtp_transport(loopback(peer.port())).deliver(outgoing_of(data));
  ASSERT_EQ(peer.delivered(), 1u) << peer.log();
  EXPECT_EQ(eml_of(peer, 1), data + "\r\n");
}

TEST_F(SmtpTransport, ErrorsNameNoAddressNoCredentialAndNoContent) {
  smtp_peer peer({"--refuse-rcpt", "550", "--auth", "alice:pw-123456"});
  auto m = outgoing_of(sample_message("secret-body-text\r\n"));
  const auto e = failure_of(with_login(loopback(peer.port()), "pw-123456"), m);
  ASSERT_TRUE(e);
  const std::string what = e->what();
  for (const std::string& leak : {sender, recipient, std::string("alice"), std::string("pw-123456"),
                                  std::string("secret-body-text"), std::string("gatehouse.test")})
    EXPECT_EQ(what.find(leak), std::string::npos) << what;
}

TEST_F(SmtpTransport, OneTransportDeliversFromSeveralThreadsAtOnce) {
  smtp_peer peer(tls_args());
  smtp_transport transport(trusting(loopback(peer.port())));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2; ++i) try {
          transport.deliver(outgoing_of(sample_message()));
        } catch (const mail::delivery_error&) {
          ++failures;
        }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(peer.delivered(), 8u) << peer.log();
}

TEST_F(SmtpTransport, SettingsNoDeliveryCouldUseAreRefused) {
  auto s = loopback(25);
  s.helo_name = "bad name\r\nMAIL FROM:<x>";
  EXPECT_THROW(smtp_transport{s}, std::invalid_argument);
  s = loopback(25);
  s.username = "alice";
  EXPECT_THROW(smtp_transport{s}, std::invalid_argument);
  s = loopback(25);
  s.command_timeout = std::chrono::milliseconds(0);
  EXPECT_THROW(smtp_transport{s}, std::invalid_argument);
  s = loopback(25);
  s.host.clear();
  EXPECT_THROW(smtp_transport{s}, std::invalid_argument);
}

}  // namespace
}  // namespace gatehouse::smtp
