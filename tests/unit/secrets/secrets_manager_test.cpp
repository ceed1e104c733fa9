// GetSecretValue over the signed, retrying AWS client, against an
// in-process server that scripts Secrets Manager's answers on real
// loopback sockets; and the JWT keys read from what it returns. (The
// signature itself is checked by @smithy/signature-v4 in
// tests/http/secrets_test.cpp.)
#include "secrets/secret_keys.hpp"
#include "secrets/secrets_manager_client.hpp"

#include "aws/credential_providers.hpp"
#include "base/error.hpp"
#include "../aws/support_test_server.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gatehouse::secrets {
namespace {

using aws::testing::received_request;
using aws::testing::scripted_reply;
using aws::testing::test_server;

const std::string region = "eu-west-2";
const std::string secret_id = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:gatehouse/dev/jwt-AbCdEf";
const std::string current_key = "the-current-jwt-secret-0123456789abcdef";
const std::string previous_key = "the-previous-jwt-secret-0123456789abcdef";

scripted_reply json_reply(int status, const std::string& body) {
  scripted_reply r;
  r.status = status;
  r.body = body;
  r.headers = {{"Content-Type", "application/x-amz-json-1.1"}};
  return r;
}

scripted_reply secret_reply(const std::string& secret_string, const std::string& stage) {
  boost::json::object o{{"ARN", secret_id},
                        {"Name", "gatehouse/dev/jwt"},
                        {"VersionId", "0b1e7a4c-0000-4000-8000-000000000001"},
                        {"SecretString", secret_string},
                        {"VersionStages", boost::json::array{stage}},
                        {"CreatedDate", 1.7e9}};
  return json_reply(200, boost::json::serialize(o));
}

scripted_reply error_reply(int status, const std::string& type, const std::string& message = "m") {
  return json_reply(status, boost::json::serialize(boost::json::object{{"__type", type}, {"message", message}}));
}

// A client of the scripted server, with quick retries.
struct fixture {
  explicit fixture(test_server::script script)
      : server(std::move(script)),
        creds(aws::credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt}),
        aws(http, creds, quick_retries()),
        client(aws, *aws::parse_endpoint("http://127.0.0.1:" + std::to_string(server.port())), region) {}

  static aws::retry_policy quick_retries() {
    aws::retry_policy p;
    p.max_attempts = 3;
    p.base_delay = std::chrono::milliseconds(1);
    p.max_delay = std::chrono::milliseconds(2);
    return p;
  }

  test_server server;
  aws::http_client http;
  aws::static_credentials creds;
  aws::aws_client aws;
  secrets_manager_client client;
};

std::string stage_of(const received_request& r) {
  return std::string(boost::json::parse(r.body).as_object().at("VersionStage").as_string());
}

// Serves `stages` (stage -> SecretString); any other stage is not found.
test_server::script serving(std::map<std::string, std::string> stages) {
  return [stages = std::move(stages)](const received_request& r) {
    const std::string stage = stage_of(r);
    const auto it = stages.find(stage);
    if (it == stages.end())
      return error_reply(400, "ResourceNotFoundException",
                         "Secrets Manager can't find the specified secret value for staging label: " + stage);
    return secret_reply(it->second, stage);
  };
}

// --- the request --------------------------------------------------------

TEST(secrets_manager_client, sends_get_secret_value_as_json_1_1_with_the_secret_id_and_stage) {
  fixture f(serving({{"AWSCURRENT", current_key}}));
  ASSERT_EQ(f.client.get_secret_string(secret_id, "AWSCURRENT"), current_key);
  const auto requests = f.server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests.front();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/");
  EXPECT_EQ(r.header("content-type"), "application/x-amz-json-1.1");
  EXPECT_EQ(r.header("x-amz-target"), "secretsmanager.GetSecretValue");
  EXPECT_EQ(boost::json::parse(r.body),
            boost::json::parse(R"({"SecretId":")" + secret_id + R"(","VersionStage":"AWSCURRENT"})"));
  const auto auth = r.header("authorization").value_or("");
  EXPECT_NE(auth.find("Credential=AKIDEXAMPLE/"), std::string::npos) << auth;
  EXPECT_NE(auth.find("/eu-west-2/secretsmanager/aws4_request"), std::string::npos) << auth;
  EXPECT_NE(auth.find("x-amz-target"), std::string::npos) << "the target must be signed: " << auth;
}

TEST(secrets_manager_client, asks_for_the_stage_it_is_given) {
  fixture f(serving({{"AWSCURRENT", current_key}, {"AWSPREVIOUS", previous_key}}));
  EXPECT_EQ(f.client.get_secret_string("gatehouse/dev/jwt", "AWSPREVIOUS"), previous_key);
  EXPECT_EQ(stage_of(f.server.requests().at(0)), "AWSPREVIOUS");
}

// --- the answers --------------------------------------------------------

TEST(secrets_manager_client, resource_not_found_is_no_value_not_an_error) {
  fixture f(serving({{"AWSCURRENT", current_key}}));
  EXPECT_EQ(f.client.get_secret_string(secret_id, "AWSPREVIOUS"), std::nullopt);
  EXPECT_EQ(f.server.requests().size(), 1u) << "a final answer is not retried";
}

TEST(secrets_manager_client, a_refusal_names_status_and_code_but_never_the_services_message) {
  fixture f([](const received_request&) {
    return error_reply(400, "AccessDeniedException", "User: arn:aws:sts::1:assumed-role/x is not authorized");
  });
  try {
    (void)f.client.get_secret_string(secret_id, "AWSCURRENT");
    FAIL() << "no exception";
  } catch (const secret_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("status 400 AccessDeniedException"), std::string::npos) << what;
    EXPECT_NE(what.find("AWSCURRENT"), std::string::npos) << what;
    EXPECT_EQ(what.find("not authorized"), std::string::npos) << what;
  }
  EXPECT_EQ(f.server.requests().size(), 1u);
}

TEST(secrets_manager_client, a_signature_rejection_is_final) {
  fixture f([](const received_request&) { return error_reply(403, "InvalidSignatureException"); });
  EXPECT_THROW((void)f.client.get_secret_string(secret_id, "AWSCURRENT"), secret_error);
  EXPECT_EQ(f.server.requests().size(), 1u);
}

TEST(secrets_manager_client, throttling_and_5xx_are_retried_then_the_value_returned) {
  auto calls = std::make_shared<int>(0);
  fixture f([calls](const received_request&) {
    ++*calls;
    if (*calls == 1) return error_reply(400, "ThrottlingException");
    if (*calls == 2) return error_reply(500, "InternalServiceError");
    return secret_reply(current_key, "AWSCURRENT");
  });
  EXPECT_EQ(f.client.get_secret_string(secret_id, "AWSCURRENT"), current_key);
  EXPECT_EQ(*calls, 3);
}

TEST(secrets_manager_client, retries_running_out_is_storage_unavailable) {
  fixture f([](const received_request&) { return error_reply(503, "ServiceUnavailable"); });
  try {
    (void)f.client.get_secret_string(secret_id, "AWSCURRENT");
    FAIL() << "no exception";
  } catch (const gatehouse::error& e) {
    EXPECT_EQ(e.kind(), error_kind::unavailable);
  }
  EXPECT_EQ(f.server.requests().size(), 3u);
}

TEST(secrets_manager_client, an_unreachable_endpoint_is_storage_unavailable) {
  unsigned short port = 0;
  {
    test_server gone([](const received_request&) { return scripted_reply{}; });
    port = gone.port();
  }  // closed: nothing listens there now
  aws::http_client http;
  aws::static_credentials creds(aws::credentials{"AKIDEXAMPLE", "secret", "", std::nullopt});
  aws::aws_client aws(http, creds, fixture::quick_retries());
  secrets_manager_client client(aws, *aws::parse_endpoint("http://127.0.0.1:" + std::to_string(port)), region);
  try {
    (void)client.get_secret_string(secret_id, "AWSCURRENT");
    FAIL() << "no exception";
  } catch (const gatehouse::error& e) {
    EXPECT_EQ(e.kind(), error_kind::unavailable);
  }
}

TEST(secrets_manager_client, a_binary_secret_is_refused_naming_secret_binary) {
  fixture f([](const received_request&) {
    return json_reply(200, R"({"ARN":"a","Name":"n","SecretBinary":"AAEC","VersionStages":["AWSCURRENT"]})");
  });
  try {
    (void)f.client.get_secret_string(secret_id, "AWSCURRENT");
    FAIL() << "no exception";
  } catch (const secret_error& e) {
    EXPECT_NE(std::string(e.what()).find("SecretBinary"), std::string::npos) << e.what();
  }
}

TEST(secrets_manager_client, an_unreadable_200_is_refused_without_echoing_the_body) {
  const std::string leaked = "this-200-body-might-hold-the-secret-itself";
  for (const std::string& body :
       std::vector<std::string>{leaked, "[\"" + leaked + "\"]", R"({"SecretString":42})", "{}"}) {
    fixture f([body](const received_request&) { return json_reply(200, body); });
    try {
      (void)f.client.get_secret_string(secret_id, "AWSCURRENT");
      ADD_FAILURE() << "accepted " << body;
    } catch (const secret_error& e) {
      EXPECT_EQ(std::string(e.what()).find(leaked), std::string::npos) << e.what();
    }
  }
}

TEST(secrets_manager_client, a_200_larger_than_the_bound_is_refused_and_one_at_it_read) {
  const std::size_t wrapping = std::string_view(R"({"SecretString":""})").size();
  const std::string at_bound(max_response_bytes - wrapping, 'k');
  fixture f([at_bound](const received_request& r) {
    const bool over = stage_of(r) == "AWSPENDING";
    return json_reply(200, R"({"SecretString":")" + at_bound + (over ? "k" : "") + "\"}");
  });
  EXPECT_EQ(f.client.get_secret_string(secret_id, "AWSCURRENT"), at_bound);
  EXPECT_THROW((void)f.client.get_secret_string(secret_id, "AWSPENDING"), secret_error);
}

TEST(secrets_manager_error_code, reads_type_after_the_hash_or_the_error_type_header) {
  aws::http_response r;
  r.status = 400;
  r.body = R"({"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","message":"x"})";
  EXPECT_EQ(error_code_of(r), "ResourceNotFoundException");
  r.body = R"({"__type":"DecryptionFailure"})";
  EXPECT_EQ(error_code_of(r), "DecryptionFailure");
  r.body = "<html>busy</html>";
  r.headers = {{"x-amzn-errortype", "AccessDeniedException:http://internal.amazon.com/coral/"}};
  EXPECT_EQ(error_code_of(r), "AccessDeniedException");
  r.headers.clear();
  EXPECT_EQ(error_code_of(r), "");
}

TEST(secrets_manager_error_code, refuses_codes_that_could_carry_anything_else) {
  aws::http_response r;
  r.status = 400;
  for (const std::string& type : {std::string("Access Denied"), std::string("a\nb"), std::string(129, 'A'),
                                  std::string("x#"), std::string("\"quoted\"")}) {
    r.body = boost::json::serialize(boost::json::object{{"__type", type}});
    EXPECT_EQ(error_code_of(r), "") << type;
  }
}

// --- the keys in a SecretString -------------------------------------------

std::string jwt_key_from(std::string_view secret_string) { return key_from(secret_string, "jwt_secret"); }

std::string refusal_of_member(std::string_view secret_string, std::string_view member) {
  try {
    (void)key_from(secret_string, member);
  } catch (const secret_error& e) {
    return e.what();
  }
  return "accepted";
}

std::string refusal_of(std::string_view secret_string) { return refusal_of_member(secret_string, "jwt_secret"); }

TEST(key_from, reads_the_member_it_is_asked_for) {
  const std::string both = R"({"jwt_secret":")" + current_key + R"(","server_secret":")" + previous_key + "\"}";
  EXPECT_EQ(key_from(both, "jwt_secret"), current_key);
  EXPECT_EQ(key_from(both, "server_secret"), previous_key);
  EXPECT_NE(refusal_of_member(R"({"jwt_secret":")" + current_key + "\"}", "server_secret").find("\"server_secret\""),
            std::string::npos);
}

TEST(key_from, plain_text_is_the_key_byte_for_byte) {
  EXPECT_EQ(jwt_key_from(current_key), current_key);
  const std::string with_newline = " spaces, commas and a newline are kept: 0123456789\n";
  EXPECT_EQ(jwt_key_from(with_newline), with_newline);
}

TEST(key_from, a_json_object_gives_its_jwt_secret_member) {
  EXPECT_EQ(jwt_key_from(R"({"jwt_secret":")" + current_key + R"(","other":1})"), current_key);
  // What CloudFormation's GenerateSecretString writes with a template.
  EXPECT_EQ(jwt_key_from(R"({ "jwt_secret" : "a\"b\\c-0123456789abcdef0123456789" })"),
            "a\"b\\c-0123456789abcdef0123456789");
}

TEST(key_from, a_json_object_without_a_string_jwt_secret_is_refused_without_its_content) {
  const std::string other = "some-other-value-that-must-not-be-echoed";
  for (const std::string& text :
       std::vector<std::string>{R"({"password":")" + other + "\"}", R"({"jwt_secret":12345678901234567890123456789012})",
                                R"({"jwt_secret":null,"x":")" + other + "\"}", "{}"}) {
    const std::string why = refusal_of(text);
    EXPECT_NE(why.find("\"jwt_secret\""), std::string::npos) << text << " -> " << why;
    EXPECT_EQ(why.find(other), std::string::npos) << why;
  }
}

TEST(key_from, text_that_is_not_a_json_object_is_plain_text) {
  for (const std::string& text :
       {std::string("{not json at all, but a long enough secret}"), std::string("\"a JSON string, 32 bytes or more\""),
        std::string("[\"an array that is long enough to be a key\"]")})
    EXPECT_EQ(jwt_key_from(text), text);
}

TEST(key_from, keys_of_32_to_4096_bytes_are_accepted_and_no_others) {
  EXPECT_EQ(jwt_key_from(std::string(32, 'k')), std::string(32, 'k'));
  EXPECT_EQ(jwt_key_from(std::string(4096, 'k')), std::string(4096, 'k'));
  EXPECT_NE(refusal_of(std::string(31, 'k')).find("shorter than 32 bytes"), std::string::npos);
  EXPECT_NE(refusal_of(std::string(4097, 'k')).find("longer than 4096 bytes"), std::string::npos);
  EXPECT_NE(refusal_of("").find("shorter than 32 bytes"), std::string::npos);
  EXPECT_NE(refusal_of(R"({"jwt_secret":"short"})").find("shorter than 32 bytes"), std::string::npos);
  const std::string short_key = "hunter2-is-short";
  EXPECT_EQ(refusal_of(short_key).find(short_key), std::string::npos);
}

// --- the two calls of a cold start ----------------------------------------

TEST(fetch_keys, asks_for_current_then_previous_and_returns_both) {
  fixture f(serving({{"AWSCURRENT", current_key}, {"AWSPREVIOUS", R"({"jwt_secret":")" + previous_key + "\"}"}}));
  const auto keys = fetch_keys(f.client, secret_id, "jwt_secret", stages::current_and_previous);
  EXPECT_EQ(keys.current, current_key);
  EXPECT_EQ(keys.previous, previous_key);
  const auto requests = f.server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(stage_of(requests[0]), "AWSCURRENT");
  EXPECT_EQ(stage_of(requests[1]), "AWSPREVIOUS");
}

TEST(fetch_keys, a_never_rotated_secret_has_no_previous_key) {
  fixture f(serving({{"AWSCURRENT", current_key}}));
  const auto keys = fetch_keys(f.client, secret_id, "jwt_secret", stages::current_and_previous);
  EXPECT_EQ(keys.current, current_key);
  EXPECT_EQ(keys.previous, std::nullopt);
  EXPECT_EQ(f.server.requests().size(), 2u);
}

TEST(fetch_keys, a_missing_secret_is_an_error_and_previous_is_not_asked) {
  fixture f(serving({}));
  try {
    (void)fetch_keys(f.client, secret_id, "jwt_secret", stages::current_and_previous);
    FAIL() << "no exception";
  } catch (const secret_error& e) {
    EXPECT_NE(std::string(e.what()).find("ResourceNotFoundException"), std::string::npos) << e.what();
  }
  EXPECT_EQ(f.server.requests().size(), 1u);
}

TEST(fetch_keys, an_unusable_current_key_is_an_error_naming_the_stage) {
  fixture f(serving({{"AWSCURRENT", "too-short"}, {"AWSPREVIOUS", previous_key}}));
  try {
    (void)fetch_keys(f.client, secret_id, "jwt_secret", stages::current_and_previous);
    FAIL() << "no exception";
  } catch (const secret_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("AWSCURRENT: ", 0), 0u) << what;
    EXPECT_EQ(what.find("too-short"), std::string::npos) << what;
  }
}

// Gatehouse never signed with a key it could not have started with.
TEST(fetch_keys, an_unusable_previous_key_is_left_out) {
  fixture f(serving({{"AWSCURRENT", current_key}, {"AWSPREVIOUS", "too-short"}}));
  const auto keys = fetch_keys(f.client, secret_id, "jwt_secret", stages::current_and_previous);
  EXPECT_EQ(keys.current, current_key);
  EXPECT_EQ(keys.previous, std::nullopt);
}

// The server secret: its derived keys follow AWSCURRENT alone, so the
// previous version is never fetched.
TEST(fetch_keys, current_only_never_asks_for_previous) {
  fixture f(serving({{"AWSCURRENT", R"({"server_secret":")" + current_key + "\"}"}, {"AWSPREVIOUS", previous_key}}));
  const auto keys = fetch_keys(f.client, secret_id, "server_secret", stages::current_only);
  EXPECT_EQ(keys.current, current_key);
  EXPECT_EQ(keys.previous, std::nullopt);
  const auto requests = f.server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(stage_of(requests[0]), "AWSCURRENT");
}

TEST(fetch_keys, a_refused_previous_stage_is_an_error) {
  fixture f([](const received_request& r) {
    if (stage_of(r) == "AWSCURRENT") return secret_reply(current_key, "AWSCURRENT");
    return error_reply(400, "DecryptionFailure");
  });
  EXPECT_THROW((void)fetch_keys(f.client, secret_id, "jwt_secret", stages::current_and_previous), secret_error);
}

}  // namespace
}  // namespace gatehouse::secrets
