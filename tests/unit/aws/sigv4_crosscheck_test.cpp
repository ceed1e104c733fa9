// Randomised cross-check: requests generated from a fixed seed are signed by
// Gatehouse and by @smithy/signature-v4 (the AWS SDK for JavaScript's signer,
// run through tests/peers/sigv4-crosscheck.mjs), in both forms, and every
// signature must be identical.
//
// Inputs on which the two signers deliberately differ are not generated.
// Each is a narrow class, and the official vectors (sigv4_test) are silent
// on all of them:
// - Headers smithy never signs beyond our four (authorization, user-agent,
//   x-amzn-trace-id, expect): cache-control, connection, from, keep-alive,
//   max-forwards, pragma, referer, te, trailer, transfer-encoding, upgrade,
//   proxy-*, sec-*. Gatehouse signs every other header it is given.
// - A Date header (smithy deletes it before signing) and pre-set x-amz-date,
//   x-amz-security-token, x-amz-content-sha256 headers or X-Amz-* query
//   parameters (both signers generate these themselves).
// - Repeated header names whose values have outer whitespace: smithy holds
//   one value per name, so the script joins them before smithy trims, while
//   Gatehouse trims each value, as the vectors (get-header-value-trim,
//   get-header-key-duplicate) require.
// - Bytes that are not UTF-8 after percent-decoding (smithy's query values
//   and paths are JS strings), and the query name "__proto__".
#include "aws/sigv4.hpp"
#include "crypto/crypto.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace gatehouse::aws::sigv4 {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path repo = fs::path(GATEHOUSE_SOURCE_DIR);
const fs::path peers = repo / "tests" / "peers";
const fs::path script = peers / "sigv4-crosscheck.mjs";

constexpr std::uint64_t seed = 0x5167'0004'2015'0830ULL;
constexpr int case_count = 300;

struct generated_case {
  http_request req;
  credentials creds;
  scope sc;
  std::int64_t time = 0;
  std::int64_t expires = 0;
  options opts;
};

class generator {
 public:
  explicit generator(std::uint64_t s) : rng_(s) {}

  generated_case next() {
    generated_case c;
    const bool s3 = chance(50);
    c.sc.service = s3 ? "s3" : "dynamodb";
    c.sc.region = pick({"us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "local"});
    c.opts.s3_paths = s3;
    c.opts.content_sha256_header = s3 || chance(20);  // S3 requires the header
    c.opts.unsigned_payload = s3 ? chance(50) : chance(10);
    c.req.method = pick({"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"});
    c.req.path = path();
    c.req.query = query();
    c.req.headers = headers(s3);
    c.req.body = body(c.req.method);
    c.creds.access_key_id = "AKIA" + text(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    c.creds.secret_access_key = text(40, base64_alphabet);
    if (chance(50)) c.creds.session_token = text(100 + below(200), base64_alphabet) + "==";
    c.time = 946684800 + static_cast<std::int64_t>(below(2100000000 - 946684800));  // 2000..2036
    const std::int64_t fixed[] = {1, 900, 3600, 604800};
    c.expires = chance(30) ? fixed[below(4)] : 1 + static_cast<std::int64_t>(below(604800));
    return c;
  }

 private:
  static constexpr const char* base64_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  std::uint64_t below(std::uint64_t n) { return rng_() % n; }
  bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }
  std::string pick(std::initializer_list<const char*> options) {
    return *(options.begin() + below(options.size()));
  }
  std::string text(std::size_t n, std::string_view alphabet) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(alphabet[below(alphabet.size())]);
    return s;
  }

  // A wire path: percent-encoded reserved and unicode characters, raw
  // sub-delimiters, dot and empty segments, sometimes raw UTF-8.
  std::string segment() {
    if (chance(8)) return ".";
    if (chance(8)) return "..";
    if (chance(8)) return "";
    std::string s;
    const auto pieces = 1 + below(4);
    for (std::uint64_t i = 0; i < pieces; ++i) {
      switch (below(6)) {
        case 0:
        case 1:
          s += pick({"a", "photos", "img_01.png", "x~y", "2024-06-11", "A.B-c_d", "users", "Key"});
          break;
        case 2:
          s += pick({"%20", "%2F", "%3A", "%2B", "%25", "%3F", "%23", "%26", "%3D", "%40", "%21", "%2A", "%27",
                     "%28", "%29", "%5B", "%5D", "%2f", "%3a"});
          break;
        case 3:
          s += pick({"%C3%A9", "%E1%88%B4", "%F0%9F%98%80", "%E6%97%A5%E6%9C%AC", "%c3%a9"});
          break;
        case 4:
          s += pick({"!", "$", "&", "'", "(", ")", "*", "+", ",", ";", "=", ":", "@"});
          break;
        default:
          s += chance(30) ? pick({"\xC3\xA9", "\xE1\x88\xB4", "\xF0\x9F\x98\x80"}) : pick({"b", "2", "-"});
      }
    }
    return s;
  }

  std::string path() {
    std::string p;
    const auto segments = below(6);
    for (std::uint64_t i = 0; i < segments; ++i) p += "/" + segment();
    if (p.empty() || chance(25)) p += "/";
    return p;
  }

  std::string query() {
    std::string q;
    const auto params = below(7);
    for (std::uint64_t i = 0; i < params; ++i) {
      if (!q.empty()) q += "&";
      // A small pool first, so names repeat often.
      q += chance(50) ? pick({"a", "b", "prefix", "Key"})
                      : pick({"A", "list-type", "max-keys", "key", "a-b", "a_b", "a.b", "~x", "%E1%88%B4",
                              "\xE1\x88\xB4", "a%20b", "a b", "a+b", "x%3Dy", "%2F", "", "k%zz", "%", "Z9"});
      if (chance(15)) continue;  // no '=' at all
      q += "=";
      q += pick({"", "1", "value", "a%20b", "a+b", "%C3%A9t%C3%A9", "\xC3\xA9", "/path/to", "a,b", "x=y", "%2F%2f",
                 "%zz", "%", "%4", "*'()!", "@:", "~._-", "UPPER", "2", "10"});
      // No hex digits: after a value like "%" they would form a new escape.
      if (chance(20)) q += text(1 + below(20), "xyzXYZ-_.~");
    }
    if (chance(5)) q += "&&";
    return q;
  }

  std::vector<std::pair<std::string, std::string>> headers(bool s3) {
    std::vector<std::pair<std::string, std::string>> h;
    const std::string host = s3 ? pick({"bucket.s3.eu-west-1.amazonaws.com", "s3.us-east-1.amazonaws.com",
                                        "127.0.0.1:4569", "[::1]:9000"})
                                : pick({"dynamodb.us-east-1.amazonaws.com", "127.0.0.1:8000", "localhost:4567"});
    h.emplace_back(pick({"host", "Host", "HOST"}), host);
    const auto extra = below(7);
    for (std::uint64_t i = 0; i < extra; ++i) {
      std::string name = pick({"Content-Type", "content-type", "X-Amz-Target", "x-amz-meta-author", "X-Amz-Meta-Note",
                               "My-Header", "Accept", "Range", "Content-MD5", "x-custom_1", "Content-Length",
                               "X-Amz-Server-Side-Encryption", "If-None-Match", "User-Agent", "X-Amzn-Trace-Id",
                               "Expect", "Authorization", "X-Custom.Dots"});
      std::string value = pick({"application/x-amz-json-1.0", "DynamoDB_20120810.PutItem", "  leading",
                                "trailing  ", "  inner   runs \t of\t\tspace  ", "\t", "", "   ", "\"a   b   c\"",
                                "bytes=0-9", "a,b, c", "caf\xC3\xA9 \xE2\x98\x95", "AES256", "*", "100-continue"});
      h.emplace_back(std::move(name), std::move(value));
    }
    // Repeated names (in any case) get values without outer whitespace; see
    // the note at the top of the file.
    std::map<std::string, int> seen;
    for (const auto& [name, value] : h) ++seen[lower(name)];
    for (auto& [name, value] : h)
      if (seen[lower(name)] > 1 && lower(name) != "host")
        value = pick({"v1", "a  b", "x,y", "", "b\t\tc", "caf\xC3\xA9"});
    return h;
  }

  std::string body(const std::string& method) {
    if ((method == "GET" || method == "HEAD") && chance(80)) return "";
    std::string b(below(49), '\0');
    for (auto& ch : b) ch = static_cast<char>(below(256));
    return b;
  }

  static std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }

  std::mt19937_64 rng_;
};

json::object to_json(int id, const generated_case& c) {
  json::array headers;
  for (const auto& [name, value] : c.req.headers) headers.push_back(json::array{json::string(name), json::string(value)});
  return json::object{
      {"id", id},
      {"method", c.req.method},
      {"path", c.req.path},
      {"query", c.req.query},
      {"headers", std::move(headers)},
      {"body_base64", crypto::base64_encode(c.req.body)},
      {"access_key_id", c.creds.access_key_id},
      {"secret_access_key", c.creds.secret_access_key},
      {"session_token", c.creds.session_token},
      {"region", c.sc.region},
      {"service", c.sc.service},
      {"time", c.time},
      {"expires", c.expires},
      {"s3_paths", c.opts.s3_paths},
      {"unsigned_payload", c.opts.unsigned_payload},
      {"content_sha256_header", c.opts.content_sha256_header},
  };
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

struct temp_file {
  fs::path path;
  temp_file() {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-sigv4-crosscheck-XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    if (fd >= 0) ::close(fd);
    path = pattern;
  }
  ~temp_file() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

// Runs the smithy script and returns its stdout; its stderr goes to ours.
std::string run_smithy(const fs::path& cases_file, int& exit_status) {
  const std::string command = "node " + shell_quote(script.string()) + " " + shell_quote(cases_file.string());
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    exit_status = -1;
    return "";
  }
  std::string out;
  std::array<char, 65536> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  exit_status = ::pclose(pipe);
  return out;
}

constexpr const char* install_hint =
    "the cross-check needs node on PATH and the npm peers: run `npm ci` in tests/peers "
    "(`make test` installs them)";

TEST(sigv4_crosscheck, signatures_equal_smithy_signature_v4_for_300_generated_requests_in_both_forms) {
  ASSERT_EQ(std::system("node --version > /dev/null 2>&1"), 0) << install_hint;
  ASSERT_TRUE(fs::exists(peers / "node_modules" / "@smithy" / "signature-v4" / "package.json")) << install_hint;
  ASSERT_TRUE(fs::exists(peers / "node_modules" / "@smithy" / "protocol-http" / "package.json")) << install_hint;
  ASSERT_TRUE(fs::exists(peers / "node_modules" / "@smithy" / "hash-node" / "package.json")) << install_hint;
  ASSERT_TRUE(fs::exists(script)) << script;

  generator gen(seed);
  std::vector<generated_case> cases;
  json::array case_json;
  for (int i = 0; i < case_count; ++i) {
    cases.push_back(gen.next());
    case_json.push_back(to_json(i, cases.back()));
  }

  temp_file file;
  {
    std::ofstream out(file.path, std::ios::binary);
    out << json::serialize(json::object{{"cases", case_json}});
    ASSERT_TRUE(out.good()) << "cannot write " << file.path;
  }
  int status = 0;
  const std::string output = run_smithy(file.path, status);
  ASSERT_EQ(status, 0) << "node " << script << " failed; " << install_hint << "\noutput: " << output;
  std::error_code ec;
  const json::value parsed = json::parse(output, ec);
  ASSERT_FALSE(ec) << "smithy's output is not JSON: " << output.substr(0, 2000);
  const json::array& results = parsed.as_array();
  ASSERT_EQ(results.size(), cases.size());

  int compared = 0, s3_cases = 0, token_cases = 0, unsigned_cases = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const generated_case& c = cases[i];
    const json::object& r = results[i].as_object();
    const std::string case_text = json::serialize(case_json[i]);
    ASSERT_EQ(r.at("id").to_number<std::size_t>(), i);
    if (const auto* error = r.if_contains("error")) {
      ADD_FAILURE() << "smithy failed on case " << case_text << ":\n" << error->as_string().c_str();
      continue;
    }

    http_request header_req = c.req;
    const signing_steps ours_header = sign_request(header_req, c.creds, c.sc, c.time, c.opts);
    const json::object& theirs_header = r.at("header").as_object();
    EXPECT_EQ(header_req.header("authorization").value_or(""), theirs_header.at("authorization").as_string().c_str())
        << "header form, case " << case_text << "\nours:\n"
        << ours_header.canonical_request << "\nsmithy:\n"
        << theirs_header.at("canonical_request").as_string().c_str();

    http_request query_req = c.req;
    const signing_steps ours_query = presign_request(query_req, c.creds, c.sc, c.time, c.expires, c.opts);
    const json::object& theirs_query = r.at("query").as_object();
    const std::string signed_headers_param =
        "&X-Amz-SignedHeaders=" + uri_encode(theirs_query.at("signed_headers").as_string().c_str(), false) + "&";
    EXPECT_EQ(ours_query.signature, theirs_query.at("signature").as_string().c_str())
        << "query form, case " << case_text << "\nours:\n"
        << ours_query.canonical_request << "\nsmithy:\n"
        << theirs_query.at("canonical_request").as_string().c_str();
    EXPECT_NE(query_req.query.find(signed_headers_param), std::string::npos) << query_req.query;

    compared += 2;
    s3_cases += c.opts.s3_paths ? 1 : 0;
    token_cases += c.creds.session_token.empty() ? 0 : 1;
    unsigned_cases += c.opts.unsigned_payload ? 1 : 0;
  }
  // The generator really covers what it claims to.
  EXPECT_EQ(compared, 2 * case_count);
  EXPECT_GE(s3_cases, case_count / 4);
  EXPECT_GE(case_count - s3_cases, case_count / 4);
  EXPECT_GE(token_cases, case_count / 4);
  EXPECT_GE(unsigned_cases, case_count / 10);
}

}  // namespace
}  // namespace gatehouse::aws::sigv4
