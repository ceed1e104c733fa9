// ses_transport against tests/peers/ses-stub.mjs, a SendEmail stand-in
// that answers only requests whose SigV4 signature @smithy/signature-v4
// reproduces, and writes each accepted raw message to a file: the bytes
// that arrive must be the bytes composed, and mailparser must read them.
#include "ses/ses_transport.hpp"

#include "aws/credential_providers.hpp"
#include "mail/mail_reader.hpp"
#include "mail/message.hpp"
#include "support_ses_stub.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace gatehouse::ses {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using mail::testing::peers_dir;
using mail::testing::read_bytes;
using mail::testing::str;
using mail::testing::temp_dir;
using testing::access_key;
using testing::region;
using testing::secret_key;
using testing::ses_stub;

aws::retry_policy quick_retries() {
  aws::retry_policy p;
  p.max_attempts = 3;
  p.base_delay = 1ms;
  p.max_delay = 2ms;
  return p;
}

// A transport to the stub, signing with `signing_secret`.
struct client {
  client(const ses_stub& stub, std::optional<std::string> configuration_set = std::nullopt,
         const std::string& signing_secret = secret_key)
      : creds(aws::credentials{access_key, signing_secret, "", std::nullopt}),
        aws(http, creds, quick_retries()),
        ses(aws, stub.endpoint(), region, std::move(configuration_set)) {}
  aws::http_client http;
  aws::static_credentials creds;
  aws::aws_client aws;
  ses_transport ses;
};

mail::outgoing composed_letter() {
  mail::message m;
  m.from = {"Gatehouse", "no-reply@mail.gatehouse.example"};
  m.to = {"Zo\xC3\xAB \xE6\x97\xA5\xE6\x9C\xAC\r\nBcc: x@evil.example", "zoe@example.com"};
  m.subject = "V\xC3\xA9rifiez votre adresse";
  m.text = "Bonjour Zo\xC3\xAB,\n\nhttps://gatehouse.example/verify?token=abc\n";
  m.html = "<p>Bonjour Zo\xC3\xAB,</p>\n<p><a href=\"https://gatehouse.example/verify?token=abc\">v\xC3\xA9rifier</a></p>\n";
  const auto c = mail::compose(m, 1796407200);
  return mail::outgoing{m.from.address, m.to.address, c.data, c.message_id};
}

mail::delivery_error delivery_failure(ses_transport& ses, const mail::outgoing& o) {
  try {
    ses.deliver(o);
  } catch (const mail::delivery_error& e) {
    return e;
  }
  throw std::runtime_error("delivered, but a delivery_error was expected");
}

TEST(ses_transport, delivers_exactly_the_composed_bytes_and_mailparser_reads_them) {
  ses_stub stub;
  client c(stub);
  const auto o = composed_letter();
  ASSERT_NO_THROW(c.ses.deliver(o)) << stub.log_text();

  const auto st = stub.stats();
  EXPECT_EQ(st.at("verified"), 1);
  EXPECT_EQ(st.at("rejected"), 0);
  const auto& calls = st.at("calls").as_array();
  ASSERT_EQ(calls.size(), 1u);
  const auto& call = calls[0].as_object();
  EXPECT_EQ(str(call.at("FromEmailAddress")), "no-reply@mail.gatehouse.example");
  EXPECT_EQ(json::serialize(call.at("ToAddresses")), R"(["zoe@example.com"])");
  EXPECT_TRUE(call.at("ConfigurationSetName").is_null());
  const fs::path file = str(call.at("file"));
  EXPECT_EQ(read_bytes(file), o.data) << "SES must be given the composed bytes, unchanged";

  const auto parsed = mail::testing::read_mail({file});
  ASSERT_EQ(parsed.size(), 1u);
  const auto& p = parsed[0].as_object();
  EXPECT_EQ(str(p.at("to").at("name")), "Zo\xC3\xAB \xE6\x97\xA5\xE6\x9C\xAC  Bcc: x@evil.example");
  EXPECT_EQ(str(p.at("to").at("address")), "zoe@example.com");
  EXPECT_EQ(p.at("toCount"), 1);
  EXPECT_EQ(str(p.at("subject")), "V\xC3\xA9rifiez votre adresse");
  EXPECT_EQ(str(p.at("text")), "Bonjour Zo\xC3\xAB,\n\nhttps://gatehouse.example/verify?token=abc\n");
  EXPECT_EQ(str(p.at("messageId")), "<" + o.message_id + ">");
  EXPECT_FALSE(p.at("bareLf").as_bool());
}

TEST(ses_transport, sends_the_configuration_set_when_there_is_one) {
  ses_stub stub;
  client c(stub, "gatehouse-production");
  ASSERT_NO_THROW(c.ses.deliver(composed_letter())) << stub.log_text();
  const auto call = stub.stats().at("calls").as_array().at(0).as_object();
  EXPECT_EQ(str(call.at("ConfigurationSetName")), "gatehouse-production");
}

TEST(ses_transport, a_wrong_secret_key_is_refused_by_the_stub_and_is_final) {
  ses_stub stub;
  client c(stub, std::nullopt, secret_key + "-wrong");
  const auto e = delivery_failure(c.ses, composed_letter());
  EXPECT_FALSE(e.retryable()) << e.what();
  const std::string what = e.what();
  EXPECT_NE(what.find("status 403 InvalidSignatureException"), std::string::npos) << what;
  EXPECT_EQ(stub.count("rejected"), 1) << "the stub checked the signature and refused it";
  EXPECT_EQ(stub.count("verified"), 0);
  EXPECT_TRUE(fs::is_empty(stub.out_dir()));
}

TEST(ses_transport, message_rejected_is_final_and_names_code_and_status_not_the_address) {
  ses_stub stub({"--reject", "MessageRejected"});
  client c(stub);
  const auto e = delivery_failure(c.ses, composed_letter());
  EXPECT_FALSE(e.retryable());
  const std::string what = e.what();
  EXPECT_NE(what.find("status 400 MessageRejected"), std::string::npos) << what;
  EXPECT_EQ(what.find("zoe@"), std::string::npos) << what;
  EXPECT_EQ(what.find("no-reply@"), std::string::npos) << what;
  EXPECT_EQ(what.find("Rejected by ses-stub"), std::string::npos) << "the service's message is not repeated: " << what;
  EXPECT_EQ(stub.count("verified"), 1) << "a final answer is not retried";
}

TEST(ses_transport, every_final_refusal_is_not_retryable) {
  for (const char* code : {"MailFromDomainNotVerifiedException", "AccountSuspendedException", "SendingPausedException",
                           "BadRequestException", "NotFoundException"}) {
    SCOPED_TRACE(code);
    ses_stub stub({"--reject", code});
    client c(stub);
    const auto e = delivery_failure(c.ses, composed_letter());
    EXPECT_FALSE(e.retryable());
    EXPECT_NE(std::string(e.what()).find(code), std::string::npos) << e.what();
    EXPECT_EQ(stub.count("verified"), 1);
  }
}

TEST(ses_transport, throttling_beyond_the_retries_is_retryable) {
  ses_stub stub({"--throttle"});
  client c(stub);
  const auto e = delivery_failure(c.ses, composed_letter());
  EXPECT_TRUE(e.retryable()) << e.what();
  EXPECT_EQ(stub.count("verified"), 3) << "aws_client retried up to its max_attempts";
  EXPECT_EQ(std::string(e.what()).find("zoe@"), std::string::npos) << e.what();
}

TEST(ses_transport, an_unreachable_endpoint_is_retryable) {
  aws::http_client http;
  aws::static_credentials creds(aws::credentials{access_key, secret_key, "", std::nullopt});
  aws::aws_client aws(http, creds, quick_retries());
  // Port 9 (discard): nothing listens on it here, so every attempt fails to connect.
  ses_transport ses(aws, *aws::parse_endpoint("http://127.0.0.1:9"), region, std::nullopt);
  const auto e = delivery_failure(ses, composed_letter());
  EXPECT_TRUE(e.retryable()) << e.what();
}

TEST(ses_transport, a_message_over_ten_megabytes_is_refused_before_sending) {
  ses_stub stub;
  client c(stub);
  auto o = composed_letter();
  o.data.append(max_raw_message_bytes + 1 - o.data.size(), 'x');
  const auto e = delivery_failure(c.ses, o);
  EXPECT_FALSE(e.retryable());
  EXPECT_EQ(stub.count("requests"), 0);
  o.data.pop_back();  // exactly the limit passes
  EXPECT_NO_THROW(c.ses.deliver(o)) << stub.log_text();
  EXPECT_EQ(stub.count("verified"), 1);
}

// --- error codes ----------------------------------------------------------------

aws::http_response answer(std::vector<std::pair<std::string, std::string>> headers, std::string body) {
  aws::http_response r;
  r.status = 400;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

TEST(ses_error_code_of, reads_header_then_code_then_type_and_refuses_odd_text) {
  EXPECT_EQ(error_code_of(answer({{"x-amzn-errortype", "MessageRejected:http://internal.amazon.com/coral/x/"}},
                                 R"({"code":"Other"})")),
            "MessageRejected");
  EXPECT_EQ(error_code_of(answer({}, R"({"code":"AccountSuspendedException","message":"m"})")),
            "AccountSuspendedException");
  EXPECT_EQ(error_code_of(answer({}, R"({"__type":"com.amazonaws.ses#NotFoundException"})")), "NotFoundException");
  EXPECT_EQ(error_code_of(answer({{"x-amzn-errortype", "Bad Code\r\nX: y"}}, "")), "");
  EXPECT_EQ(error_code_of(answer({}, R"({"code":")" + std::string(129, 'A') + R"("})")), "");
  EXPECT_EQ(error_code_of(answer({}, "not json")), "");
  EXPECT_EQ(error_code_of(answer({}, R"({"code":7})")), "");
}

}  // namespace
}  // namespace gatehouse::ses
