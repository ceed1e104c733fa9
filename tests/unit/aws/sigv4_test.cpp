// SigV4 against the official test suite (tests/data/aws-sigv4-test-suite,
// from awslabs/aws-c-auth, Apache-2.0), both forms, every case; plus the
// rules the suite does not reach: S3 paths, query decoding, the headers the
// signer adds, the limits it enforces, and totality on arbitrary bytes.
#include "aws/sigv4.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse::aws::sigv4 {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

const fs::path suite_dir = fs::path(GATEHOUSE_SOURCE_DIR) / "tests" / "data" / "aws-sigv4-test-suite";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

// request.txt: "METHOD target HTTP/1.1", header lines (a line starting with
// whitespace continues the previous value: obs-fold, unfolded to one space
// as RFC 7230 3.2.4 says), a blank line, the body. The target may contain
// spaces ("/example space/"), so the version is cut from the end.
struct raw_request {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

raw_request parse_raw_request(const std::string& text) {
  raw_request out;
  std::string head = text;
  if (const auto blank = text.find("\n\n"); blank != std::string::npos) {
    head = text.substr(0, blank);
    out.body = text.substr(blank + 2);
  }
  const std::vector<std::string> lines = split_lines(head);
  const std::string& line = lines.at(0);
  const auto first_space = line.find(' ');
  const auto last_space = line.rfind(' ');
  if (first_space == std::string::npos || last_space <= first_space)
    throw std::runtime_error("bad request line: " + line);
  out.method = line.substr(0, first_space);
  const std::string target = line.substr(first_space + 1, last_space - first_space - 1);
  const auto question = target.find('?');
  out.path = target.substr(0, question);
  if (question != std::string::npos) out.query = target.substr(question + 1);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty()) continue;
    if ((l[0] == ' ' || l[0] == '\t') && !out.headers.empty()) {
      out.headers.back().second += " " + l;
      continue;
    }
    const auto colon = l.find(':');
    if (colon == std::string::npos) throw std::runtime_error("bad header line: " + l);
    out.headers.emplace_back(l.substr(0, colon), l.substr(colon + 1));
  }
  return out;
}

std::int64_t parse_timestamp(const std::string& iso) {
  std::tm tm{};
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec) != 6)
    throw std::runtime_error("bad timestamp: " + iso);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm));
}

struct vector_context {
  credentials creds;
  scope sc;
  std::int64_t time = 0;
  std::int64_t expires = 0;
  bool normalize = true;
  bool sign_body = false;
  bool omit_session_token = false;
};

vector_context parse_context(const std::string& text) {
  const boost::json::object ctx = boost::json::parse(text).as_object();
  vector_context out;
  const auto& c = ctx.at("credentials").as_object();
  out.creds.access_key_id = std::string(c.at("access_key_id").as_string());
  out.creds.secret_access_key = std::string(c.at("secret_access_key").as_string());
  if (const auto* token = c.if_contains("token")) out.creds.session_token = std::string(token->as_string());
  out.sc.region = std::string(ctx.at("region").as_string());
  out.sc.service = std::string(ctx.at("service").as_string());
  out.time = parse_timestamp(std::string(ctx.at("timestamp").as_string()));
  out.expires = ctx.at("expiration_in_seconds").to_number<std::int64_t>();
  out.normalize = ctx.at("normalize").as_bool();
  out.sign_body = ctx.at("sign_body").as_bool();
  if (const auto* omit = ctx.if_contains("omit_session_token")) out.omit_session_token = omit->as_bool();
  return out;
}

std::vector<std::string> case_folders() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(suite_dir, ec))
    if (entry.is_directory() && fs::exists(entry.path() / "request.txt"))
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

struct vector_param {
  std::string folder;
  bool query_form = false;
};

void PrintTo(const vector_param& p, std::ostream* os) {
  *os << p.folder << (p.query_form ? " (query form)" : " (header form)");
}

std::vector<vector_param> vector_params() {
  std::vector<vector_param> params;
  for (const auto& name : case_folders()) {
    params.push_back({name, false});
    params.push_back({name, true});
  }
  return params;
}

std::string param_name(const testing::TestParamInfo<vector_param>& info) {
  std::string name = info.param.folder + (info.param.query_form ? "_query" : "_header");
  std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return name;
}

// A missing or half-copied suite must not pass quietly as "0 tests".
TEST(aws_sigv4_test_suite, is_present_with_at_least_30_cases) {
  const auto folders = case_folders();
  EXPECT_GE(folders.size(), 30u) << "expected the official vectors under " << suite_dir;
  EXPECT_TRUE(fs::exists(suite_dir / "LICENSE"));
  EXPECT_TRUE(fs::exists(suite_dir / "NOTICE"));
}

std::vector<std::string> sorted_query_params(std::string_view query) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    if (end > start) parts.emplace_back(query.substr(start, end - start));
    start = end + 1;
  }
  std::sort(parts.begin(), parts.end());
  return parts;
}

class official_vector : public testing::TestWithParam<vector_param> {};

// Each case in each form: canonical request, string to sign and signature
// equal the suite's files byte for byte, and the signed request carries the
// suite's Authorization header (header form) or X-Amz-* parameters (query
// form).
//
// How the suite's context maps onto our options:
// - The request line's path is what the signer receives. With normalize=true
//   it gets one encoding pass ("/example space/" -> "/example%20space/"),
//   which is exactly our non-S3 rule applied to that path.
// - normalize=false (aws-c-auth: no dot/slash normalisation, the same one
//   encoding pass) is our S3 rule - no normalisation, no encoding - given
//   the path after that one pass, uri_encode(path, keep_slash), which is how
//   S3 keys reach the wire.
// - sign_body=true means x-amz-content-sha256 is sent and signed (header
//   form only; the query form has no header for it).
// - omit_session_token=true: the token is added after signing and not
//   signed (an IoT-style variant Gatehouse never needs), so it is signed
//   here without the token, which is then attached like the suite does.
TEST_P(official_vector, matches_canonical_request_string_to_sign_and_signature) {
  const fs::path dir = suite_dir / GetParam().folder;
  const bool query_form = GetParam().query_form;
  const vector_context ctx = parse_context(read_file(dir / "context.json"));
  const raw_request raw = parse_raw_request(read_file(dir / "request.txt"));

  http_request req;
  req.method = raw.method;
  req.path = ctx.normalize ? raw.path : uri_encode(raw.path, /*keep_slash=*/true);
  req.query = raw.query;
  req.headers = raw.headers;
  req.body = raw.body;

  options opts;
  opts.s3_paths = !ctx.normalize;
  opts.content_sha256_header = ctx.sign_body;

  credentials creds = ctx.creds;
  if (ctx.omit_session_token) creds.session_token.clear();

  const std::string prefix = query_form ? "query-" : "header-";
  const signing_steps steps = query_form ? presign_request(req, creds, ctx.sc, ctx.time, ctx.expires, opts)
                                         : sign_request(req, creds, ctx.sc, ctx.time, opts);
  EXPECT_EQ(steps.canonical_request, read_file(dir / (prefix + "canonical-request.txt")));
  EXPECT_EQ(steps.string_to_sign, read_file(dir / (prefix + "string-to-sign.txt")));
  EXPECT_EQ(steps.signature, read_file(dir / (prefix + "signature.txt")));

  const raw_request signed_req = parse_raw_request(read_file(dir / (prefix + "signed-request.txt")));
  if (query_form) {
    std::string query = req.query;
    if (ctx.omit_session_token)
      query += "&X-Amz-Security-Token=" + uri_encode(ctx.creds.session_token, false);
    EXPECT_EQ(sorted_query_params(query), sorted_query_params(signed_req.query));
  } else {
    std::string expected_authorization;
    for (const auto& [name, value] : signed_req.headers)
      if (name == "Authorization") expected_authorization = value;
    ASSERT_FALSE(expected_authorization.empty());
    EXPECT_EQ(req.header("authorization").value_or(""), expected_authorization);
  }
}

INSTANTIATE_TEST_SUITE_P(aws_sigv4_test_suite, official_vector, testing::ValuesIn(vector_params()), param_name);

// --- rules the suite does not reach ---------------------------------------

TEST(uri_encode, keeps_only_unreserved_characters_and_uses_upper_case_hex) {
  EXPECT_EQ(uri_encode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(uri_encode("a b+c*d'e(f)g!h", false), "a%20b%2Bc%2Ad%27e%28f%29g%21h");
  EXPECT_EQ(uri_encode("%2f", false), "%252f");
  EXPECT_EQ(uri_encode("\xE1\x88\xB4", false), "%E1%88%B4");
  EXPECT_EQ(uri_encode("\x00\xff"s, false), "%00%FF");
  EXPECT_EQ(uri_encode("", false), "");
}

TEST(uri_encode, keeps_slash_only_when_asked) {
  EXPECT_EQ(uri_encode("/a/b c/", true), "/a/b%20c/");
  EXPECT_EQ(uri_encode("/a/b c/", false), "%2Fa%2Fb%20c%2F");
}

TEST(uri_encode, encodes_every_byte_outside_the_unreserved_set) {
  for (int c = 0; c < 256; ++c) {
    const std::string in(1, static_cast<char>(c));
    const bool unreserved = std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
    char expected[4];
    std::snprintf(expected, sizeof expected, "%%%02X", c);
    EXPECT_EQ(uri_encode(in, false), unreserved ? in : std::string(expected)) << "byte " << c;
  }
}

http_request basic_request(std::string path, std::string query = "") {
  http_request req;
  req.method = "GET";
  req.path = std::move(path);
  req.query = std::move(query);
  req.headers = {{"Host", "example.amazonaws.com"}};
  return req;
}

const credentials test_creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt};
const scope test_scope{"us-east-1", "service"};
constexpr std::int64_t vector_time = 1440938160;  // 2015-08-30T12:36:00Z

std::string line_of(const std::string& text, std::size_t index) { return split_lines(text).at(index); }

TEST(canonical_path, s3_keeps_double_slashes_dots_and_encoded_slashes_as_they_are) {
  options s3;
  s3.s3_paths = true;
  http_request req = basic_request("/bucket//a%2Fb/./c/../d%20e");
  const auto steps = sign_request(req, test_creds, {"us-east-1", "s3"}, vector_time, s3);
  EXPECT_EQ(line_of(steps.canonical_request, 1), "/bucket//a%2Fb/./c/../d%20e");
}

TEST(canonical_path, other_services_normalise_and_encode_the_wire_path_again) {
  http_request req = basic_request("/bucket//a%2Fb/./c/../d%20e");
  const auto steps = sign_request(req, test_creds, test_scope, vector_time);
  EXPECT_EQ(line_of(steps.canonical_request, 1), "/bucket/a%252Fb/d%2520e");
}

TEST(canonical_path, keeps_a_trailing_slash_and_never_climbs_above_the_root) {
  http_request a = basic_request("/a/b/");
  EXPECT_EQ(line_of(sign_request(a, test_creds, test_scope, vector_time).canonical_request, 1), "/a/b/");
  http_request b = basic_request("/../../x");
  EXPECT_EQ(line_of(sign_request(b, test_creds, test_scope, vector_time).canonical_request, 1), "/x");
  http_request c = basic_request("");
  EXPECT_EQ(line_of(sign_request(c, test_creds, test_scope, vector_time).canonical_request, 1), "/");
}

std::string canonical_query_of(std::string query) {
  http_request req = basic_request("/", std::move(query));
  return line_of(sign_request(req, test_creds, test_scope, vector_time).canonical_request, 2);
}

TEST(canonical_query, decodes_then_re_encodes_names_and_values) {
  EXPECT_EQ(canonical_query_of("k=a b"), "k=a%20b");
  EXPECT_EQ(canonical_query_of("k=a%20b"), "k=a%20b");
  EXPECT_EQ(canonical_query_of("k=%e1%88%b4"), "k=%E1%88%B4");
  EXPECT_EQ(canonical_query_of("k=a+b"), "k=a%2Bb");  // '+' is a plus, not a space
  EXPECT_EQ(canonical_query_of("k=a=b"), "k=a%3Db");
  EXPECT_EQ(canonical_query_of("a%2Fb=/"), "a%2Fb=%2F");
}

TEST(canonical_query, keeps_malformed_escapes_as_literal_text) {
  EXPECT_EQ(canonical_query_of("k=%zz"), "k=%25zz");
  EXPECT_EQ(canonical_query_of("k=%4"), "k=%254");
  EXPECT_EQ(canonical_query_of("k=%"), "k=%25");
  EXPECT_EQ(canonical_query_of("%=%%41"), "%25=%25A");
}

TEST(canonical_query, sorts_by_name_then_value_and_keeps_empty_values) {
  EXPECT_EQ(canonical_query_of("b=2&a=z&a=&a=a&c"), "a=&a=a&a=z&b=2&c=");
  // By name first: "a" sorts before "a-b" although "a=" > "a-b=" as strings.
  EXPECT_EQ(canonical_query_of("a-b=1&a=2"), "a=2&a-b=1");
  EXPECT_EQ(canonical_query_of("&&x=1&&"), "x=1");
  EXPECT_EQ(canonical_query_of(""), "");
}

TEST(canonical_headers, skips_the_headers_that_change_in_transit) {
  http_request req = basic_request("/");
  req.headers.emplace_back("User-Agent", "x");
  req.headers.emplace_back("X-Amzn-Trace-Id", "Root=1");
  req.headers.emplace_back("Expect", "100-continue");
  req.headers.emplace_back("Authorization", "stale");
  req.headers.emplace_back("Content-Type", "  application/json ;\t charset=utf-8  ");
  const auto steps = sign_request(req, test_creds, test_scope, vector_time);
  EXPECT_EQ(steps.canonical_request,
            "GET\n/\n\ncontent-type:application/json ; charset=utf-8\nhost:example.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // The stale Authorization is replaced, not duplicated.
  EXPECT_EQ(std::count_if(req.headers.begin(), req.headers.end(),
                          [](const auto& h) { return h.first == "Authorization" || h.first == "authorization"; }),
            1);
}

TEST(canonical_headers, joins_repeated_names_across_case_in_order) {
  http_request req = basic_request("/");
  req.headers.emplace_back("X-Foo", " b ");
  req.headers.emplace_back("x-foo", "a");
  req.headers.emplace_back("X-FOO", "");
  const auto steps = sign_request(req, test_creds, test_scope, vector_time);
  EXPECT_EQ(line_of(steps.canonical_request, 5), "x-foo:b,a,");
}

TEST(sign_request, adds_date_token_content_hash_and_authorization) {
  credentials creds = test_creds;
  creds.session_token = "TOKEN/+=";
  options opts;
  opts.content_sha256_header = true;
  http_request req = basic_request("/");
  req.body = "abc";
  const auto steps = sign_request(req, creds, test_scope, vector_time, opts);
  EXPECT_EQ(req.header("x-amz-date").value_or(""), "20150830T123600Z");
  EXPECT_EQ(req.header("x-amz-security-token").value_or(""), "TOKEN/+=");
  EXPECT_EQ(req.header("x-amz-content-sha256").value_or(""),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(req.header("authorization").value_or(""),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=" +
                steps.signature);
  EXPECT_EQ(steps.signature.size(), 64u);
}

// Retries re-sign the same request; credentials may have been refreshed.
TEST(sign_request, re_signing_replaces_what_the_previous_signature_added) {
  credentials temporary = test_creds;
  temporary.session_token = "OLD";
  http_request req = basic_request("/");
  sign_request(req, temporary, test_scope, vector_time);
  const auto steps = sign_request(req, test_creds, test_scope, vector_time + 60);
  EXPECT_FALSE(req.header("x-amz-security-token"));
  EXPECT_EQ(req.header("x-amz-date").value_or(""), "20150830T123700Z");
  EXPECT_EQ(req.headers.size(), 3u);  // Host, X-Amz-Date, Authorization
  EXPECT_EQ(line_of(steps.canonical_request, 6), "host;x-amz-date");
}

TEST(sign_request, unsigned_payload_signs_the_literal) {
  options opts;
  opts.unsigned_payload = true;
  opts.content_sha256_header = true;
  http_request req = basic_request("/");
  req.body = "not hashed";
  const auto steps = sign_request(req, test_creds, test_scope, vector_time, opts);
  EXPECT_EQ(split_lines(steps.canonical_request).back(), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(req.header("x-amz-content-sha256").value_or(""), "UNSIGNED-PAYLOAD");
}

// AWS's S3 documentation example "GET Object" (Signature Version 4, header form).
TEST(sign_request, s3_documentation_example_get_object) {
  const credentials creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", std::nullopt};
  http_request req;
  req.method = "GET";
  req.path = "/test.txt";
  req.headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}};
  options opts;
  opts.s3_paths = true;
  opts.content_sha256_header = true;
  const auto steps = sign_request(req, creds, {"us-east-1", "s3"}, 1369353600, opts);
  EXPECT_EQ(steps.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// AWS's S3 documentation example of a pre-signed GET URL (query form).
TEST(presign_request, s3_documentation_example_presigned_get) {
  const credentials creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", std::nullopt};
  http_request req;
  req.method = "GET";
  req.path = "/test.txt";
  req.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
  options opts;
  opts.s3_paths = true;
  opts.unsigned_payload = true;
  const auto steps = presign_request(req, creds, {"us-east-1", "s3"}, 1369353600, 86400, opts);
  EXPECT_EQ(steps.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_EQ(req.query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
            "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_FALSE(req.header("authorization"));
  EXPECT_FALSE(req.header("x-amz-date"));
}

TEST(presign_request, signs_the_session_token_and_appends_the_signature_last) {
  credentials creds = test_creds;
  creds.session_token = "a/b+c=";
  http_request req = basic_request("/", "x=1");
  const auto steps = presign_request(req, creds, test_scope, vector_time, 60);
  EXPECT_NE(steps.canonical_request.find("&X-Amz-Security-Token=a%2Fb%2Bc%3D&"), std::string::npos);
  EXPECT_EQ(req.query.rfind("x=1&X-Amz-Algorithm=", 0), 0u);
  EXPECT_NE(req.query.find("&X-Amz-Security-Token=a%2Fb%2Bc%3D&"), std::string::npos);
  EXPECT_EQ(req.query.substr(req.query.size() - 81), "&X-Amz-Signature=" + steps.signature);
}

TEST(presign_request, expiry_must_be_between_one_second_and_one_week) {
  http_request req = basic_request("/");
  EXPECT_THROW(presign_request(req, test_creds, test_scope, vector_time, 0), std::invalid_argument);
  EXPECT_THROW(presign_request(req, test_creds, test_scope, vector_time, 604801), std::invalid_argument);
  EXPECT_THROW(presign_request(req, test_creds, test_scope, vector_time, -5), std::invalid_argument);
  EXPECT_EQ(req.query, "");  // a refused request is left alone
  EXPECT_NO_THROW(presign_request(req, test_creds, test_scope, vector_time, 604800));
  EXPECT_NE(req.query.find("X-Amz-Expires=604800"), std::string::npos);
}

TEST(signing, requires_a_host_header) {
  http_request req;
  req.path = "/";
  EXPECT_THROW(sign_request(req, test_creds, test_scope, vector_time), std::invalid_argument);
  EXPECT_THROW(presign_request(req, test_creds, test_scope, vector_time, 60), std::invalid_argument);
}

TEST(signing, formats_the_date_across_leap_days_and_refuses_times_without_a_four_digit_year) {
  http_request req = basic_request("/");
  sign_request(req, test_creds, test_scope, 951782400);  // 2000-02-29T00:00:00Z
  EXPECT_EQ(req.header("x-amz-date").value_or(""), "20000229T000000Z");
  sign_request(req, test_creds, test_scope, 253402300799);  // the last second of 9999
  EXPECT_EQ(req.header("x-amz-date").value_or(""), "99991231T235959Z");
  EXPECT_THROW(sign_request(req, test_creds, test_scope, -1), std::invalid_argument);
  EXPECT_THROW(sign_request(req, test_creds, test_scope, 253402300800), std::invalid_argument);
}

// Arbitrary bytes anywhere: no crash, no exception, the same answer twice.
TEST(signing, is_total_and_deterministic_on_arbitrary_bytes) {
  std::mt19937_64 rng(20240611);
  const auto random_bytes = [&](std::size_t max_len) {
    std::string s(rng() % (max_len + 1), '\0');
    for (auto& c : s) {
      const auto pick = rng() % 4;
      c = pick == 0 ? "%/.&=+ \t"[rng() % 8] : static_cast<char>(rng() & 0xFF);
    }
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    http_request req;
    req.method = random_bytes(8);
    req.path = random_bytes(40);
    req.query = random_bytes(40);
    req.headers = {{"Host", random_bytes(20)}};
    for (int h = 0; h < 3; ++h) req.headers.emplace_back(random_bytes(10), random_bytes(20));
    req.body = random_bytes(30);
    options opts;
    opts.s3_paths = (i & 1) != 0;
    opts.unsigned_payload = (i & 2) != 0;
    opts.content_sha256_header = (i & 4) != 0;
    credentials creds{random_bytes(10), random_bytes(10), random_bytes(10), std::nullopt};
    const scope sc{random_bytes(5), random_bytes(5)};
    http_request a = req, b = req, c = req;
    signing_steps first, second, third;
    ASSERT_NO_THROW(first = sign_request(a, creds, sc, vector_time, opts));
    ASSERT_NO_THROW(second = sign_request(b, creds, sc, vector_time, opts));
    ASSERT_NO_THROW(third = presign_request(c, creds, sc, vector_time, 900, opts));
    EXPECT_EQ(first.signature, second.signature);
    EXPECT_EQ(third.signature.size(), 64u);
  }
}

}  // namespace
}  // namespace gatehouse::aws::sigv4
