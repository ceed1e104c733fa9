// The AWS test peers: dynalite and s3rver behind the SigV4-verifying proxy.
// These tests prove the harness every AWS-mode test relies on: requests the
// AWS SDK for JavaScript v3 signs pass, anything else is refused with the
// service's own error, and the fault hooks and restarts do what they say.
#include "support/aws_peers.hpp"
#include "support/fixtures.hpp"
#include "support/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <ctime>
#include <memory>

namespace gatehouse::testing {
namespace {
namespace json = boost::json;

class aws_peers_test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { peers = std::make_unique<aws_peers>(); }
  static void TearDownTestSuite() { peers.reset(); }
  static inline std::unique_ptr<aws_peers> peers;

  // Runs `ops` through tests/peers/sdk-smoke.mjs; one result object per op.
  static json::array sdk(const json::array& ops) {
    json::object config{{"dynamodb", peers->dynamodb_url()},
                        {"s3", peers->s3_url()},
                        {"access_key", peers->access_key()},
                        {"secret_key", peers->secret_key()},
                        {"region", peers->region()},
                        {"ops", ops}};
    std::string out, err;
    const int code = peers->run_node({"sdk-smoke.mjs", json::serialize(config)}, out, err);
    if (code != 0) throw std::runtime_error("sdk-smoke.mjs failed (" + std::to_string(code) + "): " + err);
    auto results = parse_json(out).as_array();
    if (results.size() != ops.size()) throw std::runtime_error("sdk-smoke.mjs: wrong result count: " + out);
    return results;
  }

  static std::string str(const json::value& result, const char* field) {
    const auto* v = result.as_object().if_contains(field);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  }
  static bool ok(const json::value& result) { return result.at("ok").as_bool(); }
  static long status(const json::value& result) { return result.at("status").to_number<long>(); }

  // GET of an absolute URL on the S3 proxy, with the Host the URL was signed for.
  static http_result fetch(const std::string& url) {
    http_client c(peers->s3_port());
    return c.get(path_of_url(url), {{"host", "127.0.0.1:" + std::to_string(peers->s3_port())}});
  }

  static std::string replace_once(std::string s, const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    if (at == std::string::npos) throw std::runtime_error("'" + from + "' not in " + s);
    return s.replace(at, from.size(), to);
  }
};

TEST_F(aws_peers_test, sdk_signed_dynamodb_requests_pass_the_proxy_and_reach_dynalite) {
  const std::string table = peers->new_table_name();
  const json::object item{{"id", "user-1"}, {"name", "Zoë Ünïcode"}, {"email", "zoe@example.com"}, {"age", 42}};
  const auto r = sdk({json::object{{"op", "dynamodb.create_table"}, {"table", table}},
                      json::object{{"op", "dynamodb.put_item"}, {"table", table}, {"item", item}},
                      json::object{{"op", "dynamodb.get_item"}, {"table", table}, {"key", {{"id", "user-1"}}}},
                      json::object{{"op", "dynamodb.get_item"}, {"table", table}, {"key", {{"id", "nobody"}}}}});
  for (const auto& x : r) ASSERT_TRUE(ok(x)) << json::serialize(x) << peers->logs();
  EXPECT_EQ(r[2].at("item"), json::value(item));
  EXPECT_TRUE(r[3].at("item").is_null());

  const auto s = peers->stats(aws_service::dynamodb);
  EXPECT_EQ(s.verified, 4);
  EXPECT_EQ(s.forwarded, 4);
  EXPECT_EQ(s.rejected, 0);
}

TEST_F(aws_peers_test, sdk_signed_s3_requests_pass_the_proxy_and_reach_s3rver) {
  // Reserved and non-ASCII characters exercise S3's path canonicalisation.
  const std::string key = "profile-images/user-1/ü näme+!*'()~.png";
  const std::string other_bucket = "gatehouse-second-bucket";
  const auto r = sdk({json::object{{"op", "s3.put_object"}, {"bucket", peers->bucket()}, {"key", key},
                                   {"body", "image bytes ü"}, {"content_type", "image/png"}},
                      json::object{{"op", "s3.get_object"}, {"bucket", peers->bucket()}, {"key", key}},
                      json::object{{"op", "s3.list_objects"}, {"bucket", peers->bucket()}, {"prefix", "profile-images/"}},
                      json::object{{"op", "s3.create_bucket"}, {"bucket", other_bucket}},
                      json::object{{"op", "s3.put_object"}, {"bucket", other_bucket}, {"key", "a/b.txt"}, {"body", "x"}},
                      json::object{{"op", "s3.get_object"}, {"bucket", other_bucket}, {"key", "a/b.txt"}},
                      json::object{{"op", "s3.head_object"}, {"bucket", other_bucket}, {"key", "a/b.txt"}},
                      json::object{{"op", "s3.delete_object"}, {"bucket", other_bucket}, {"key", "a/b.txt"}},
                      json::object{{"op", "s3.get_object"}, {"bucket", other_bucket}, {"key", "a/b.txt"}}});
  for (std::size_t i = 0; i + 1 < r.size(); ++i) ASSERT_TRUE(ok(r[i])) << json::serialize(r[i]) << peers->logs();
  EXPECT_EQ(str(r[1], "body"), "image bytes ü");
  EXPECT_EQ(str(r[1], "content_type"), "image/png");
  EXPECT_EQ(r[2].at("keys"), json::value(json::array{json::string(key)}));
  EXPECT_EQ(str(r[5], "body"), "x");
  EXPECT_EQ(r[6].at("content_length").to_number<long>(), 1);
  EXPECT_EQ(status(r[8]), 404);
  EXPECT_EQ(str(r[8], "name"), "NoSuchKey");
  EXPECT_TRUE(std::filesystem::is_directory(peers->s3_data_dir() / peers->bucket() / "profile-images"));

  const auto s = peers->stats(aws_service::s3);
  EXPECT_EQ(s.verified, 9);
  EXPECT_EQ(s.forwarded, 9);
  EXPECT_EQ(s.rejected, 0);
}

TEST_F(aws_peers_test, a_wrong_secret_key_gets_403_from_both_proxies_and_reaches_no_peer) {
  const std::string wrong = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const auto r = sdk({json::object{{"op", "dynamodb.list_tables"}, {"secret_key", wrong}},
                      json::object{{"op", "s3.list_objects"}, {"bucket", peers->bucket()}, {"secret_key", wrong}},
                      json::object{{"op", "s3.put_object"}, {"bucket", peers->bucket()}, {"key", "k"}, {"body", "b"},
                                   {"secret_key", wrong}}});
  EXPECT_FALSE(ok(r[0]));
  EXPECT_EQ(status(r[0]), 403);
  EXPECT_EQ(str(r[0], "name"), "InvalidSignatureException");
  for (int i : {1, 2}) {
    EXPECT_FALSE(ok(r[i]));
    EXPECT_EQ(status(r[i]), 403);
    EXPECT_EQ(str(r[i], "name"), "SignatureDoesNotMatch");
  }
  EXPECT_EQ(peers->stats(aws_service::dynamodb).forwarded, 0);
  EXPECT_EQ(peers->stats(aws_service::dynamodb).rejected, 1);
  EXPECT_EQ(peers->stats(aws_service::s3).forwarded, 0);
  EXPECT_EQ(peers->stats(aws_service::s3).rejected, 2);
}

TEST_F(aws_peers_test, a_wrong_key_id_region_or_clock_gets_403_and_a_small_skew_passes) {
  const json::value minus_20_min = -20 * 60 * 1000;
  const json::value plus_10_min = 10 * 60 * 1000;
  const auto r = sdk({json::object{{"op", "dynamodb.list_tables"}, {"access_key", "AKIAIOSFODNN7EXAMPLE"}},
                      json::object{{"op", "dynamodb.list_tables"}, {"region", "us-east-1"}},
                      json::object{{"op", "dynamodb.list_tables"}, {"clock_offset_ms", minus_20_min}},
                      json::object{{"op", "dynamodb.list_tables"}, {"clock_offset_ms", plus_10_min}},
                      json::object{{"op", "s3.list_objects"}, {"bucket", peers->bucket()}, {"access_key", "AKIAIOSFODNN7EXAMPLE"}},
                      json::object{{"op", "s3.list_objects"}, {"bucket", peers->bucket()}, {"region", "us-east-1"}},
                      json::object{{"op", "s3.list_objects"}, {"bucket", peers->bucket()}, {"clock_offset_ms", minus_20_min}}});
  const std::vector<std::pair<long, std::string>> expected{{403, "UnrecognizedClientException"},
                                                           {403, "InvalidSignatureException"},
                                                           {403, "InvalidSignatureException"},
                                                           {0, ""},
                                                           {403, "InvalidAccessKeyId"},
                                                           {403, "SignatureDoesNotMatch"},
                                                           {403, "RequestTimeTooSkewed"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(json::serialize(r[i]));
    if (expected[i].first == 0) {
      EXPECT_TRUE(ok(r[i]));
      continue;
    }
    EXPECT_FALSE(ok(r[i]));
    EXPECT_EQ(status(r[i]), expected[i].first);
    EXPECT_EQ(str(r[i], "name"), expected[i].second);
  }
  EXPECT_NE(str(r[1], "message").find("region"), std::string::npos);
  EXPECT_NE(str(r[2], "message").find("Signature expired"), std::string::npos);
}

std::string amz_date_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

TEST_F(aws_peers_test, unsigned_forged_or_oversized_requests_get_the_services_own_error) {
  http_client dynamo(peers->dynamodb_port());
  const header_list target{{"x-amz-target", "DynamoDB_20120810.ListTables"},
                           {"content-type", "application/x-amz-json-1.0"}};
  auto r = dynamo.send("POST", "/", "{}", target);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(std::string(parse_json(r.body).at("__type").as_string()),
            "com.amazon.coral.service#MissingAuthenticationTokenException");

  // Well-formed, current, correctly scoped, but not signed with the secret.
  const std::string date = amz_date_now();
  header_list forged = target;
  forged.emplace_back("x-amz-date", date);
  forged.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=" + peers->access_key() + "/" + date.substr(0, 8) +
                                           "/" + peers->region() +
                                           "/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=" +
                                           std::string(64, '0'));
  r = dynamo.send("POST", "/", "{}", forged);  // same keep-alive connection
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(std::string(parse_json(r.body).at("__type").as_string()),
            "com.amazon.coral.service#InvalidSignatureException");

  http_client s3(peers->s3_port());
  r = s3.get("/" + peers->bucket());
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("<Code>AccessDenied</Code>"), std::string::npos) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/xml");

  // Refused from the declared length alone, before any body arrives.
  const std::string big = raw_exchange(peers->s3_port(),
                                       "PUT /" + peers->bucket() + "/big HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                       "Content-Length: 70000000\r\n\r\n");
  EXPECT_EQ(big.rfind("HTTP/1.1 413", 0), 0u) << big;
  EXPECT_NE(big.find("<Code>EntityTooLarge</Code>"), std::string::npos) << big;

  EXPECT_EQ(peers->stats(aws_service::dynamodb).forwarded, 0);
  EXPECT_EQ(peers->stats(aws_service::s3).forwarded, 0);
  EXPECT_EQ(peers->stats(aws_service::s3).rejected, 2);

  // The same unsigned listing straight to s3rver is served: the proxy is what checks.
  http_client raw(peers->raw_s3_port());
  EXPECT_EQ(raw.get("/" + peers->bucket()).status, 200);
}

TEST_F(aws_peers_test, a_presigned_get_url_works_over_plain_http_and_tampering_or_expiry_gets_403) {
  const std::string key = "profile-images/user-2/pic ü+.png";
  const auto r = sdk({json::object{{"op", "s3.put_object"}, {"bucket", peers->bucket()}, {"key", key}, {"body", "PNG-DATA"},
                                   {"content_type", "image/png"}},
                      json::object{{"op", "s3.presign_get"}, {"bucket", peers->bucket()}, {"key", key}, {"expires_in", 900}},
                      json::object{{"op", "s3.presign_get"}, {"bucket", peers->bucket()}, {"key", key}, {"expires_in", 60},
                                   {"signed_seconds_ago", 120}}});
  for (const auto& x : r) ASSERT_TRUE(ok(x)) << json::serialize(x);
  const std::string url = str(r[1], "url");
  const std::string expired = str(r[2], "url");
  ASSERT_NE(url.find("X-Amz-Signature="), std::string::npos) << url;

  const auto good = fetch(url);
  EXPECT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(good.body, "PNG-DATA");
  EXPECT_EQ(good.header("content-type"), "image/png");

  const std::string sig_at = "X-Amz-Signature=";
  std::string flipped = url;
  char& last = flipped[flipped.find(sig_at) + sig_at.size() + 63];
  last = last == '0' ? '1' : '0';
  for (const std::string& tampered : {replace_once(url, "X-Amz-Expires=900", "X-Amz-Expires=901"),
                                      replace_once(url, "user-2", "user-3"), flipped}) {
    const auto bad = fetch(tampered);
    EXPECT_EQ(bad.status, 403) << tampered;
    EXPECT_NE(bad.body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos) << bad.body;
  }
  // Signed for GET, so not valid for HEAD either.
  const std::string head = raw_exchange(peers->s3_port(), "HEAD " + path_of_url(url) + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                                                              std::to_string(peers->s3_port()) +
                                                              "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 403", 0), 0u) << head;

  const auto old = fetch(expired);
  EXPECT_EQ(old.status, 403);
  EXPECT_NE(old.body.find("<Code>AccessDenied</Code><Message>Request has expired</Message>"), std::string::npos)
      << old.body;
}

TEST_F(aws_peers_test, fault_hooks_answer_throttling_and_server_errors_then_let_requests_through) {
  peers->throttle_next(aws_service::dynamodb, 1);
  peers->throttle_next(aws_service::s3, 1);
  auto r = sdk({json::object{{"op", "dynamodb.list_tables"}}, json::object{{"op", "dynamodb.list_tables"}},
                json::object{{"op", "s3.list_objects"}, {"bucket", peers->bucket()}},
                json::object{{"op", "s3.list_objects"}, {"bucket", peers->bucket()}}});
  EXPECT_EQ(status(r[0]), 400);
  EXPECT_EQ(str(r[0], "name"), "ProvisionedThroughputExceededException");
  EXPECT_TRUE(ok(r[1])) << json::serialize(r[1]);
  EXPECT_EQ(status(r[2]), 503);
  EXPECT_EQ(str(r[2], "name"), "SlowDown");
  EXPECT_TRUE(ok(r[3])) << json::serialize(r[3]);

  // The SDK itself takes the throttling answer as retryable; the retry is
  // then held (delay_next) and still succeeds.
  peers->throttle_next(aws_service::dynamodb, 1);
  peers->delay_next(aws_service::dynamodb, 1, 200);
  peers->fail_next(aws_service::s3, 1);
  r = sdk({json::object{{"op", "dynamodb.list_tables"}, {"max_attempts", 2}},
           json::object{{"op", "s3.list_objects"}, {"bucket", peers->bucket()}}});
  EXPECT_TRUE(ok(r[0])) << json::serialize(r[0]);
  EXPECT_EQ(status(r[1]), 500);
  EXPECT_EQ(str(r[1], "name"), "InternalError");

  const auto d = peers->stats(aws_service::dynamodb);
  EXPECT_EQ(d.throttled, 2);
  EXPECT_EQ(d.delayed, 1);
  EXPECT_EQ(d.forwarded, 2);
  const auto s = peers->stats(aws_service::s3);
  EXPECT_EQ(s.throttled, 1);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.forwarded, 1);
}

TEST_F(aws_peers_test, a_stopped_peer_refuses_connections_and_restarts_on_its_port_with_its_data) {
  const std::string table = peers->new_table_name();
  const json::object item{{"id", "kept"}, {"name", "Still Here"}};
  auto r = sdk({json::object{{"op", "dynamodb.create_table"}, {"table", table}},
                json::object{{"op", "dynamodb.put_item"}, {"table", table}, {"item", item}},
                json::object{{"op", "s3.put_object"}, {"bucket", peers->bucket()}, {"key", "kept.txt"}, {"body", "kept"}}});
  for (const auto& x : r) ASSERT_TRUE(ok(x)) << json::serialize(x);
  const auto dynamodb_port = peers->dynamodb_port();
  const auto s3_port = peers->s3_port();

  peers->stop_dynamodb();
  peers->stop_s3();
  EXPECT_ANY_THROW(http_client(dynamodb_port).get("/"));
  EXPECT_ANY_THROW(http_client(s3_port).get("/"));
  EXPECT_ANY_THROW(http_client(peers->raw_dynamodb_port()).get("/"));

  peers->start_dynamodb();
  peers->start_s3();
  EXPECT_EQ(peers->dynamodb_port(), dynamodb_port);
  EXPECT_EQ(peers->s3_port(), s3_port);
  r = sdk({json::object{{"op", "dynamodb.get_item"}, {"table", table}, {"key", {{"id", "kept"}}}},
           json::object{{"op", "s3.get_object"}, {"bucket", peers->bucket()}, {"key", "kept.txt"}}});
  for (const auto& x : r) ASSERT_TRUE(ok(x)) << json::serialize(x) << peers->logs();
  EXPECT_EQ(r[0].at("item"), json::value(item));
  EXPECT_EQ(str(r[1], "body"), "kept");
}

TEST_F(aws_peers_test, gatehouse_env_points_at_the_proxies_with_the_peers_credentials) {
  const auto env = peers->gatehouse_env();
  EXPECT_EQ(env.at("AWS_ENDPOINT_URL_DYNAMODB"), "http://127.0.0.1:" + std::to_string(peers->dynamodb_port()));
  EXPECT_EQ(env.at("AWS_ENDPOINT_URL_S3"), "http://127.0.0.1:" + std::to_string(peers->s3_port()));
  EXPECT_NE(peers->dynamodb_port(), peers->raw_dynamodb_port());
  EXPECT_NE(peers->s3_port(), peers->raw_s3_port());
  EXPECT_EQ(env.at("AWS_ACCESS_KEY_ID"), peers->access_key());
  EXPECT_EQ(env.at("AWS_SECRET_ACCESS_KEY"), peers->secret_key());
  EXPECT_EQ(env.at("AWS_REGION"), peers->region());
  EXPECT_EQ(env.at("USERS_TABLE"), peers->users_table());
  EXPECT_EQ(env.at("PROFILE_IMAGES_BUCKET"), peers->bucket());
  EXPECT_NE(peers->new_table_name(), peers->new_table_name());
}

}  // namespace
}  // namespace gatehouse::testing
