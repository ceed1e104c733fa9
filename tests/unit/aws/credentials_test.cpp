// The credentials chain and its providers: the environment, the shared
// files, and the container endpoint (against a real HTTP server on
// 127.0.0.1 driven by an injected clock).
#include "aws/credential_providers.hpp"
#include "aws/http_client.hpp"
#include "base/error.hpp"
#include "support_test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::aws {
namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// ---- helpers ---------------------------------------------------------------

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// The call throws storage_unavailable, its message mentions `mention`
// and reveals none of `secrets`.
template <class F>
::testing::AssertionResult unavailable(F&& call, std::string_view mention,
                                       std::vector<std::string> secrets = {}) {
  try {
    call();
  } catch (const error& e) {
    const std::string_view msg = e.what();
    if (e.kind() != error_kind::unavailable || e.code() != "storage_unavailable")
      return ::testing::AssertionFailure() << "threw code '" << e.code() << "': " << msg;
    for (const auto& s : secrets)
      if (!s.empty() && msg.find(s) != std::string_view::npos)
        return ::testing::AssertionFailure() << "message reveals a secret: " << msg;
    if (msg.find(mention) == std::string_view::npos)
      return ::testing::AssertionFailure() << "message '" << msg << "' does not mention '" << mention << "'";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-gatehouse exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "gatehouse-creds-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& rel, const std::string& content) const {
    const auto p = path_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    return p;
  }

 private:
  fs::path path_;
};

std::string iso(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string creds_json(const std::string& id, const std::string& secret, const std::string& token,
                       const std::string& expiration) {
  return R"({"RoleArn":"arn:aws:iam::123456789012:role/test","AccessKeyId":")" + id +
         R"(","SecretAccessKey":")" + secret + R"(","Token":")" + token + R"(","Expiration":")" +
         expiration + R"("})";
}

// ---- an HTTP server standing in for the container credentials endpoint ---

struct served {
  int status = 200;
  std::string body;
};

// Each answer is JSON; requests are those the shared test server recorded.
class credentials_server {
 public:
  using request = testing::received_request;
  using responder = std::function<served(const request&)>;

  explicit credentials_server(responder respond, unsigned short port = 0)
      : server_(
            [respond = std::move(respond)](const request& req) {
              const served out = respond(req);
              return testing::scripted_reply{out.status, {{"Content-Type", "application/json"}}, out.body};
            },
            std::nullopt, port) {}

  // Closes the listener and every connection: the endpoint is down.
  void stop() { server_.stop(); }

  unsigned short port() const { return server_.port(); }
  std::string url(const std::string& path = "/v1/credentials") const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }
  int requests() const { return static_cast<int>(server_.requests().size()); }
  int connections() const { return static_cast<int>(server_.connections()); }
  std::vector<std::string> authorizations() const {
    std::vector<std::string> out;
    for (const auto& r : server_.requests()) out.push_back(r.header("Authorization").value_or("<none>"));
    return out;
  }
  std::vector<std::string> targets() const {
    std::vector<std::string> out;
    for (const auto& r : server_.requests()) out.push_back(r.target);
    return out;
  }

 private:
  testing::test_server server_;
};

// Serves numbered credentials ("ASIAREQ<n>") expiring at `expiry`; with a
// required token, a request without exactly that Authorization gets 401.
credentials_server::responder issuing(std::shared_ptr<std::atomic<std::int64_t>> expiry,
                                      std::string required_token = {}, std::string prefix = "ASIAREQ") {
  auto count = std::make_shared<std::atomic<int>>(0);
  return [=](const credentials_server::request& req) -> served {
    if (!required_token.empty()) {
      if (req.header("Authorization") != required_token) return {401, R"({"code":"denied"})"};
    }
    const auto n = std::to_string(++*count);
    return {200, creds_json(prefix + n, "secret" + n + "/Key+x", "token-" + n, iso(expiry->load()))};
  };
}

constexpr std::int64_t t0 = 1790000000;
constexpr std::int64_t lifetime = 3600;

struct container_fixture : ::testing::Test {
  std::shared_ptr<std::atomic<std::int64_t>> expiry = std::make_shared<std::atomic<std::int64_t>>(t0 + lifetime);
  std::atomic<std::int64_t> now{t0};
  std::function<std::int64_t()> clock = [this] { return now.load(); };
  http_client http{[] {
    http_client_options o;
    o.connect_timeout = std::chrono::milliseconds(2000);
    o.request_timeout = std::chrono::milliseconds(4000);
    return o;
  }()};

  container_source source_for(const credentials_server& server) {
    container_source s;
    s.uri = *parse_container_uri(server.url());
    return s;
  }
};

// ---- the environment --------------------------------------------------------

TEST(environment_credentials, keys_and_session_token_as_lambda_sets_them) {
  const auto c = credentials_from_environment(env_of({{"AWS_ACCESS_KEY_ID", "ASIAENVEXAMPLE"},
                                                      {"AWS_SECRET_ACCESS_KEY", "wJalr/XUtnFEMI+K7MDENG"},
                                                      {"AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjE//token=="}}));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->access_key_id, "ASIAENVEXAMPLE");
  EXPECT_EQ(c->secret_access_key, "wJalr/XUtnFEMI+K7MDENG");
  EXPECT_EQ(c->session_token, "IQoJb3JpZ2luX2VjE//token==");
  EXPECT_FALSE(c->expires_at.has_value());
}

TEST(environment_credentials, long_term_keys_have_no_session_token) {
  const auto c = credentials_from_environment(
      env_of({{"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "secretenv"}}));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->secret_access_key, "secretenv");
  EXPECT_EQ(c->session_token, "");
}

TEST(environment_credentials, one_key_alone_or_empty_values_are_not_credentials) {
  EXPECT_FALSE(credentials_from_environment(env_of({{"AWS_ACCESS_KEY_ID", "AKIAENV"}})).has_value());
  EXPECT_FALSE(credentials_from_environment(env_of({{"AWS_SECRET_ACCESS_KEY", "s"}})).has_value());
  EXPECT_FALSE(credentials_from_environment(
                   env_of({{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", "secretenv"}}))
                   .has_value());
  EXPECT_FALSE(credentials_from_environment(env_of({})).has_value());
}

TEST(environment_credentials, control_characters_are_refused_without_echoing_the_value) {
  EXPECT_TRUE(unavailable(
      [] {
        (void)credentials_from_environment(env_of(
            {{"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "topsecret\r\nX-Injected: 1"}}));
      },
      "AWS_SECRET_ACCESS_KEY", {"topsecret"}));
  EXPECT_TRUE(unavailable(
      [] {
        (void)credentials_from_environment(env_of({{"AWS_ACCESS_KEY_ID", "AKIA ENV/x"},
                                                   {"AWS_SECRET_ACCESS_KEY", "topsecret"},
                                                   {"AWS_SESSION_TOKEN", "tok"}}));
      },
      "access key id", {"topsecret", "AKIA ENV"}));
}

TEST(static_credentials, serves_what_it_was_given) {
  static_credentials p(credentials{"AKIDSTATIC", "s3cr3t", "tok", std::nullopt});
  const auto c = p.get();
  EXPECT_EQ(c.access_key_id, "AKIDSTATIC");
  EXPECT_EQ(c.secret_access_key, "s3cr3t");
  EXPECT_EQ(c.session_token, "tok");
}

// ---- the shared files ---------------------------------------------------------

const std::string credentials_text =
    "# top comment\n"
    "; another comment\n"
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "aws_secret_access_key=secretdefault   # trailing comment\n"
    "\n"
    "[work]\n"
    "  aws_access_key_id   =AKIDWORK\n"
    "aws_secret_access_key = secret/work+key\n"
    "aws_session_token = tokenwork==\n";

const std::string config_text =
    "[default]\n"
    "region = eu-west-1\n"
    "aws_access_key_id = AKIDCONFIGDEFAULT\n"
    "[profile work]\n"
    "region = us-west-2\n"
    "aws_secret_access_key = config-secret-loses\n"
    "[profile cfgonly]\n"
    "aws_access_key_id = AKIDCFG\n"
    "aws_secret_access_key = secretcfg\n"
    "s3 =\n"
    "  region = ap-south-1\n"
    "  max_concurrent_requests = 10\n"
    "[cfgonly]\n"
    "aws_access_key_id = AKIDWRONGSECTION\n"
    "aws_secret_access_key = wrongsection\n";

shared_files files_in(const temp_dir& dir, const std::string& profile) {
  shared_files f;
  f.credentials_file = dir.path() / "credentials";
  f.config_file = dir.path() / "config";
  f.profile = profile;
  return f;
}

TEST(shared_files, paths_default_to_home_and_honour_the_variables) {
  const auto d = shared_files_from(env_of({{"HOME", "/home/u"}}));
  EXPECT_EQ(d.credentials_file, fs::path("/home/u/.aws/credentials"));
  EXPECT_EQ(d.config_file, fs::path("/home/u/.aws/config"));
  EXPECT_EQ(d.profile, "default");

  const auto o = shared_files_from(env_of({{"HOME", "/home/u"},
                                           {"AWS_SHARED_CREDENTIALS_FILE", "~/creds"},
                                           {"AWS_CONFIG_FILE", "/etc/aws.conf"},
                                           {"AWS_PROFILE", "work"}}));
  EXPECT_EQ(o.credentials_file, fs::path("/home/u/creds"));
  EXPECT_EQ(o.config_file, fs::path("/etc/aws.conf"));
  EXPECT_EQ(o.profile, "work");

  const auto none = shared_files_from(env_of({}));
  EXPECT_FALSE(none.credentials_file.has_value());
  EXPECT_FALSE(none.config_file.has_value());
}

TEST(shared_files, default_profile_from_the_credentials_file_wins_over_the_config_file) {
  temp_dir dir;
  dir.write("credentials", credentials_text);
  dir.write("config", config_text);
  const auto c = credentials_from_profile(files_in(dir, "default"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(c->secret_access_key, "secretdefault");
  EXPECT_EQ(c->session_token, "");
}

TEST(shared_files, named_profile_merges_both_files_key_by_key) {
  temp_dir dir;
  dir.write("credentials", credentials_text);
  dir.write("config", config_text);
  const auto c = credentials_from_profile(files_in(dir, "work"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->access_key_id, "AKIDWORK");
  EXPECT_EQ(c->secret_access_key, "secret/work+key");  // not config-secret-loses
  EXPECT_EQ(c->session_token, "tokenwork==");
  const auto merged = load_profile(files_in(dir, "work"));
  EXPECT_EQ(merged.at("region"), "us-west-2");  // only in the config file
}

TEST(shared_files, config_file_profiles_are_profile_sections_not_bare_names) {
  temp_dir dir;
  dir.write("config", config_text);
  const auto c = credentials_from_profile(files_in(dir, "cfgonly"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->access_key_id, "AKIDCFG");
  EXPECT_EQ(c->secret_access_key, "secretcfg");
  // The nested `s3 =` block's region is not the profile's region.
  EXPECT_EQ(load_profile(files_in(dir, "cfgonly")).count("region"), 0u);
  // ...and "[default]" is how the config file names the default profile.
  const auto d = load_profile(files_in(dir, "default"));
  EXPECT_EQ(d.at("aws_access_key_id"), "AKIDCONFIGDEFAULT");
  EXPECT_EQ(d.at("region"), "eu-west-1");
}

TEST(shared_files, credentials_file_profiles_are_bare_names) {
  temp_dir dir;
  dir.write("credentials", "[profile x]\naws_access_key_id = AKIDX\naws_secret_access_key = sx\n");
  EXPECT_FALSE(credentials_from_profile(files_in(dir, "x")).has_value());
}

TEST(shared_files, a_profile_missing_a_key_is_no_credentials) {
  temp_dir dir;
  dir.write("credentials", "[default]\naws_access_key_id = AKIDONLY\n[other]\naws_secret_access_key = s\n");
  EXPECT_FALSE(credentials_from_profile(files_in(dir, "default")).has_value());
  EXPECT_FALSE(credentials_from_profile(files_in(dir, "other")).has_value());
  EXPECT_FALSE(credentials_from_profile(files_in(dir, "absent")).has_value());
  // No files at all is not an error either.
  temp_dir empty;
  EXPECT_FALSE(credentials_from_profile(files_in(empty, "default")).has_value());
}

TEST(shared_files, comments_whitespace_crlf_bom_and_key_case_are_tolerated) {
  const auto ini = parse_ini(
      "\xEF\xBB\xBF[ default ]\r\n"
      "\tAWS_Access_Key_Id\t=\tAKIDCRLF\r\n"
      "aws_secret_access_key = sec;ret#1 ; a comment\r\n"
      "# aws_session_token = commented-out\r\n"
      "no equals sign here\r\n"
      "=orphan value\r\n"
      "[broken\r\n"
      "aws_session_token = after-broken-header\r\n");
  ASSERT_EQ(ini.count("default"), 1u);
  const auto& d = ini.at("default");
  EXPECT_EQ(d.at("aws_access_key_id"), "AKIDCRLF");
  EXPECT_EQ(d.at("aws_secret_access_key"), "sec;ret#1");
  EXPECT_EQ(d.count("aws_session_token"), 0u);  // commented out, then outside any section
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(ini.size(), 1u);
}

TEST(shared_files, keys_before_any_section_are_ignored_and_later_values_win) {
  const auto ini = parse_ini("aws_access_key_id = stray\n[a]\nk = 1\n[b]\nk = 2\n[a]\nk = 3\n");
  ASSERT_EQ(ini.size(), 2u);
  EXPECT_EQ(ini.at("a").at("k"), "3");
  EXPECT_EQ(ini.at("b").at("k"), "2");
}

TEST(shared_files, parsing_any_bytes_is_total) {
  std::mt19937 rng(20240601);
  const std::string alphabet = "[]=#; \t\r\n\xEF\xBB\xBF" "abcAWS_profile\x00\xff";
  for (int i = 0; i < 3000; ++i) {
    std::string text(rng() % 300, '\0');
    for (char& c : text)
      c = rng() % 4 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    EXPECT_NO_THROW((void)parse_ini(text));
  }
}

TEST(shared_files, a_file_over_one_mebibyte_is_refused_and_one_at_the_cap_is_read) {
  temp_dir dir;
  const std::string head = "[default]\naws_access_key_id = AKIDBIG\naws_secret_access_key = secretbig\n";
  std::string text = head;
  text.resize(max_shared_file_bytes, '#');
  dir.write("credentials", text);
  const auto at_cap = credentials_from_profile(files_in(dir, "default"));
  ASSERT_TRUE(at_cap.has_value());
  EXPECT_EQ(at_cap->access_key_id, "AKIDBIG");

  text.push_back('#');
  dir.write("credentials", text);
  EXPECT_TRUE(unavailable([&] { (void)credentials_from_profile(files_in(dir, "default")); },
                          "larger than 1 MiB", {"secretbig"}));
}

TEST(shared_files, a_directory_in_place_of_the_file_is_refused) {
  temp_dir dir;
  fs::create_directories(dir.path() / "credentials");
  EXPECT_TRUE(unavailable([&] { (void)credentials_from_profile(files_in(dir, "default")); },
                          "cannot be read"));
}

TEST(shared_files, provider_reads_once_and_names_the_profile_when_it_has_no_keys) {
  temp_dir dir;
  dir.write("credentials", "[work]\naws_access_key_id = AKIDW\naws_secret_access_key = sw\n");
  shared_file_credentials p(files_in(dir, "work"));
  EXPECT_EQ(p.get().access_key_id, "AKIDW");
  fs::remove(dir.path() / "credentials");
  EXPECT_EQ(p.get().access_key_id, "AKIDW");  // read at the first get only

  shared_file_credentials missing(files_in(dir, "nobody"));
  EXPECT_TRUE(unavailable([&] { (void)missing.get(); }, "profile 'nobody'"));
}

// ---- the region ------------------------------------------------------------------

TEST(region, aws_region_then_aws_default_region) {
  EXPECT_EQ(region_from(env_of({{"AWS_REGION", "eu-central-1"}, {"AWS_DEFAULT_REGION", "us-east-1"}})),
            "eu-central-1");
  EXPECT_EQ(region_from(env_of({{"AWS_DEFAULT_REGION", "us-east-1"}})), "us-east-1");
  EXPECT_EQ(region_from(env_of({{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "ap-south-1"}})), "ap-south-1");
}

TEST(region, else_the_profile_region_of_the_config_file) {
  temp_dir dir;
  dir.write(".aws/config", config_text);
  const std::string home = dir.path().string();
  EXPECT_EQ(region_from(env_of({{"HOME", home}})), "eu-west-1");
  EXPECT_EQ(region_from(env_of({{"HOME", home}, {"AWS_PROFILE", "work"}})), "us-west-2");
  EXPECT_EQ(region_from(env_of({{"HOME", home}, {"AWS_PROFILE", "cfgonly"}})), std::nullopt);
  EXPECT_EQ(region_from(env_of({{"HOME", home}, {"AWS_REGION", "sa-east-1"}})), "sa-east-1");
  EXPECT_EQ(region_from(env_of({})), std::nullopt);
}

TEST(region, a_value_that_is_not_a_region_name_is_refused) {
  EXPECT_THROW((void)region_from(env_of({{"AWS_REGION", "us-east-1.evil.example/x"}})), std::invalid_argument);
  temp_dir dir;
  dir.write("config", "[default]\nregion = eu west 1\n");
  EXPECT_THROW((void)region_from(env_of({{"AWS_CONFIG_FILE", (dir.path() / "config").string()}})),
               std::invalid_argument);
}

// ---- container endpoint URLs ---------------------------------------------------------

TEST(container_uri, accepts_https_anywhere_and_plain_http_only_to_the_sdk_hosts) {
  struct accepted_case {
    const char* uri;
    bool tls;
    const char* host;
    unsigned short port;
    const char* path;
    const char* query;
  };
  const accepted_case accepted[] = {
      {"http://127.0.0.1:8080/creds", false, "127.0.0.1", 8080, "/creds", ""},
      {"http://127.1.2.3/creds", false, "127.1.2.3", 80, "/creds", ""},
      {"http://localhost:9/x?a=1&b=2", false, "localhost", 9, "/x", "a=1&b=2"},
      {"http://[::1]:9911/v1", false, "::1", 9911, "/v1", ""},
      {"http://169.254.170.2/v2/credentials/0f8fad5b", false, "169.254.170.2", 80, "/v2/credentials/0f8fad5b", ""},
      {"http://169.254.170.23/v1/credentials", false, "169.254.170.23", 80, "/v1/credentials", ""},
      {"http://[fd00:ec2::23]/v1/credentials", false, "fd00:ec2::23", 80, "/v1/credentials", ""},
      {"https://creds.example.com/get", true, "creds.example.com", 443, "/get", ""},
      {"https://10.0.0.1:8443", true, "10.0.0.1", 8443, "/", ""},
  };
  for (const auto& c : accepted) {
    const auto u = parse_container_uri(c.uri);
    ASSERT_TRUE(u.has_value()) << c.uri;
    EXPECT_EQ(u->ep.tls, c.tls) << c.uri;
    EXPECT_EQ(u->ep.host, c.host) << c.uri;
    EXPECT_EQ(u->ep.port, c.port) << c.uri;
    EXPECT_EQ(u->ep.base_path, "") << c.uri;
    EXPECT_EQ(u->path, c.path) << c.uri;
    EXPECT_EQ(u->query, c.query) << c.uri;
  }
  for (const char* refused : {
           "http://10.0.0.1/",                 // a private network: clear text off this machine
           "http://169.254.169.254/latest",    // IMDS is not a container endpoint
           "http://example.com/creds",         // names other than localhost are not resolved to check
           "http://[::ffff:127.0.0.1]:80/",    // not one of the SDKs' spellings of loopback
           "http://user@127.0.0.1/",           // userinfo
           "http://127.0.0.1/#frag",           // fragment
           "ftp://127.0.0.1/",                 // scheme
           "127.0.0.1/creds",                  // no scheme
           "http://127.0.0.1:0/", "http://127.0.0.1:65536/", "http://127.0.0.1:/", "http://127.0.0.1:8a/",
           "http:///creds", "http://[::1/", "http://[zz::1]/",
           "http://127.0.0.1/a b", "http://127.0.0.1/\r\nX: y", "",
       })
    EXPECT_FALSE(parse_container_uri(refused).has_value()) << refused;
}

TEST(container_uri, parsing_any_bytes_is_total) {
  std::mt19937 rng(7);
  const std::string alphabet = "http:/[]@?#.:0123456789abcdef%";
  for (int i = 0; i < 3000; ++i) {
    std::string text = i % 2 ? "http://" : "";
    const auto n = rng() % 60;
    for (std::size_t k = 0; k < n; ++k)
      text.push_back(rng() % 5 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()]);
    EXPECT_NO_THROW((void)parse_container_uri(text));
  }
}

TEST(container_uri, relative_uri_goes_to_the_ecs_host_and_wins_over_the_full_uri) {
  const auto s = container_source_from(env_of({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                                               {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/x"}}));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->uri.ep.host, "169.254.170.2");
  EXPECT_EQ(s->uri.ep.port, 80);
  EXPECT_FALSE(s->uri.ep.tls);
  EXPECT_EQ(s->uri.path, "/v2/credentials/abc");

  EXPECT_TRUE(unavailable(
      [] { (void)container_source_from(env_of({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/creds"}})); },
      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
  EXPECT_FALSE(container_source_from(env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", ""}})).has_value());
}

TEST(container_uri, full_uri_to_a_host_not_allowed_is_refused_naming_the_variable) {
  EXPECT_TRUE(unavailable(
      [] { (void)container_source_from(env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/"}})); },
      "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
}

TEST(rfc3339, parses_what_the_endpoint_sends_and_refuses_the_malformed) {
  EXPECT_EQ(parse_rfc3339("2026-11-28T17:00:00Z"), 1795885200);  // date -u -d ... +%s
  EXPECT_EQ(parse_rfc3339("2026-11-28T17:00:00.123Z"), 1795885200);
  EXPECT_EQ(parse_rfc3339("2026-11-28T18:30:00+01:30"), 1795885200);
  EXPECT_EQ(parse_rfc3339("2026-11-28T15:00:00-02:00"), 1795885200);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800);
  for (const char* bad : {"2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-28T24:00:00Z",
                          "2026-11-28T17:00:00", "2026-11-28 17:00:00Z", "2026-11-28T17:00:00.Z",
                          "2026-11-28T17:00:00+0100", "2026-11-28T17:0a:00Z", "", "not a date at all!!"})
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
}

// ---- the container provider against a real server --------------------------------------

TEST_F(container_fixture, serves_endpoint_credentials_with_the_token_from_the_variable) {
  credentials_server server(issuing(expiry, "Bearer-var-token"));
  auto source = source_for(server);
  source.authorization_token = "Bearer-var-token";
  container_credentials p(source, http, clock);
  const auto c = p.get();
  EXPECT_EQ(c.access_key_id, "ASIAREQ1");
  EXPECT_EQ(c.secret_access_key, "secret1/Key+x");
  EXPECT_EQ(c.session_token, "token-1");
  EXPECT_EQ(c.expires_at, t0 + lifetime);
  EXPECT_EQ(server.requests(), 1);
  EXPECT_EQ(server.targets(), std::vector<std::string>{"/v1/credentials"});
}

TEST_F(container_fixture, a_wrong_token_is_a_401_and_the_message_does_not_echo_it) {
  credentials_server server(issuing(expiry, "Bearer-right"));
  auto source = source_for(server);
  source.authorization_token = "Bearer-wrong-one";
  container_credentials p(source, http, clock);
  EXPECT_TRUE(unavailable([&] { (void)p.get(); }, "HTTP 401", {"Bearer-wrong-one", "Bearer-right"}));
  EXPECT_EQ(server.authorizations(), std::vector<std::string>{"Bearer-wrong-one"});
}

TEST_F(container_fixture, token_file_wins_and_is_read_again_on_every_refresh) {
  temp_dir dir;
  const auto token_file = dir.write("token", "file-token-1");
  credentials_server server(issuing(expiry));
  auto source = source_for(server);
  source.authorization_token = "var-token";
  source.authorization_token_file = token_file;
  container_credentials p(source, http, clock);
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ1");

  dir.write("token", "file-token-2");  // rotated, as EKS does
  *expiry = t0 + 2 * lifetime;
  now = t0 + lifetime - 60;
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ2");
  EXPECT_EQ(server.authorizations(), (std::vector<std::string>{"file-token-1", "file-token-2"}));
}

TEST_F(container_fixture, tokens_with_cr_or_lf_are_refused_before_any_request) {
  credentials_server server(issuing(expiry));
  {
    auto source = source_for(server);
    source.authorization_token = "tok-secret\r\nX-Injected: yes";
    container_credentials p(source, http, clock);
    EXPECT_TRUE(unavailable([&] { (void)p.get(); }, "AWS_CONTAINER_AUTHORIZATION_TOKEN", {"tok-secret"}));
  }
  {
    temp_dir dir;
    auto source = source_for(server);
    source.authorization_token_file = dir.write("token", "file-secret\n");
    container_credentials p(source, http, clock);
    EXPECT_TRUE(unavailable([&] { (void)p.get(); }, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", {"file-secret"}));
  }
  EXPECT_EQ(server.requests(), 0);
}

TEST_F(container_fixture, cached_until_five_minutes_before_expiry_then_fetched_again) {
  credentials_server server(issuing(expiry));
  container_credentials p(source_for(server), http, clock);
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ1");
  *expiry = t0 + 2 * lifetime;

  now = t0 + lifetime - 301;
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ1");
  EXPECT_EQ(server.requests(), 1);

  now = t0 + lifetime - 300;
  const auto c = p.get();
  EXPECT_EQ(c.access_key_id, "ASIAREQ2");
  EXPECT_EQ(c.expires_at, t0 + 2 * lifetime);
  EXPECT_EQ(server.requests(), 2);

  now = t0 + 2 * lifetime - 301;
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ2");
  EXPECT_EQ(server.requests(), 2);
}

TEST_F(container_fixture, endpoint_down_serves_the_valid_cache_then_fails_once_expired_then_recovers) {
  auto server = std::make_unique<credentials_server>(issuing(expiry));
  const auto port = server->port();
  container_credentials p(source_for(*server), http, clock);
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ1");
  server->stop();

  now = t0 + lifetime - 100;  // refresh due, still valid
  const auto cached = p.get();
  EXPECT_EQ(cached.access_key_id, "ASIAREQ1");
  EXPECT_EQ(cached.secret_access_key, "secret1/Key+x");

  now = t0 + lifetime;  // expired
  EXPECT_TRUE(unavailable([&] { (void)p.get(); }, "container credentials endpoint", {"secret1/Key+x", "token-1"}));

  server = std::make_unique<credentials_server>(issuing(expiry, {}, "ASIANEW"), port);
  *expiry = t0 + 3 * lifetime;
  EXPECT_EQ(p.get().access_key_id, "ASIANEW1");
  EXPECT_EQ(p.get().expires_at, t0 + 3 * lifetime);
  EXPECT_EQ(server->requests(), 1);
}

TEST_F(container_fixture, after_a_failed_refresh_of_a_valid_cache_the_next_try_waits_ten_seconds) {
  auto server = std::make_unique<credentials_server>(issuing(expiry));
  const auto port = server->port();
  container_credentials p(source_for(*server), http, clock);
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ1");
  server->stop();
  now = t0 + lifetime - 200;
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ1");  // failed, cached

  server = std::make_unique<credentials_server>(issuing(expiry, {}, "ASIANEW"), port);
  *expiry = t0 + 2 * lifetime;
  now = t0 + lifetime - 200 + container_credentials::min_refresh_interval - 1;
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ1");
  EXPECT_EQ(server->requests(), 0);
  now = t0 + lifetime - 200 + container_credentials::min_refresh_interval;
  EXPECT_EQ(p.get().access_key_id, "ASIANEW1");
  EXPECT_EQ(p.get().expires_at, t0 + 2 * lifetime);
  EXPECT_EQ(server->requests(), 1);
}

TEST_F(container_fixture, while_one_caller_refreshes_the_others_use_the_still_valid_value) {
  std::promise<void> arrived;
  std::promise<void> release;
  auto release_future = release.get_future().share();
  auto inner = issuing(expiry);
  std::atomic<int> seen{0};
  credentials_server server([&](const credentials_server::request& req) {
    if (++seen == 2) {
      arrived.set_value();
      release_future.wait();
    }
    return inner(req);
  });
  container_credentials p(source_for(server), http, clock);
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ1");
  *expiry = t0 + 2 * lifetime;
  now = t0 + lifetime - 100;

  auto refresher = std::async(std::launch::async, [&] { return p.get(); });
  ASSERT_EQ(arrived.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  // Served at once from the cache: these calls neither wait for the
  // refresh (which is held until release) nor send a request.
  auto others = std::async(std::launch::async, [&] {
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(p.get().access_key_id);
    return ids;
  });
  const bool answered = others.wait_for(std::chrono::seconds(2)) == std::future_status::ready;
  EXPECT_TRUE(answered) << "callers waited for the refresh instead of using the valid cache";
  EXPECT_EQ(server.requests(), 2);
  release.set_value();
  EXPECT_EQ(others.get(), (std::vector<std::string>{"ASIAREQ1", "ASIAREQ1", "ASIAREQ1"}));
  EXPECT_EQ(refresher.get().access_key_id, "ASIAREQ2");
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ2");
  EXPECT_EQ(server.requests(), 2);
}

TEST_F(container_fixture, with_the_cache_expired_concurrent_callers_share_one_request) {
  std::promise<void> arrived;
  std::promise<void> release;
  auto release_future = release.get_future().share();
  auto inner = issuing(expiry);
  std::atomic<int> seen{0};
  credentials_server server([&](const credentials_server::request& req) {
    if (++seen == 2) {
      arrived.set_value();
      release_future.wait();
    }
    return inner(req);
  });
  container_credentials p(source_for(server), http, clock);
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ1");
  *expiry = t0 + 2 * lifetime;
  now = t0 + lifetime + 1;

  std::vector<std::future<credentials>> callers;
  for (int i = 0; i < 8; ++i) callers.push_back(std::async(std::launch::async, [&] { return p.get(); }));
  ASSERT_EQ(arrived.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the others reach the wait
  release.set_value();
  for (auto& f : callers) EXPECT_EQ(f.get().access_key_id, "ASIAREQ2");
  EXPECT_EQ(server.requests(), 2);
}

TEST_F(container_fixture, with_the_cache_expired_callers_waiting_on_a_failed_refresh_all_fail_without_retrying) {
  std::promise<void> arrived;
  std::promise<void> release;
  auto release_future = release.get_future().share();
  auto inner = issuing(expiry);
  std::atomic<int> seen{0};
  credentials_server server([&](const credentials_server::request& req) -> served {
    const int n = ++seen;
    if (n == 1) return inner(req);
    if (n == 2) {
      arrived.set_value();
      release_future.wait();
    }
    return {503, "{}"};
  });
  container_credentials p(source_for(server), http, clock);
  EXPECT_EQ(p.get().access_key_id, "ASIAREQ1");
  now = t0 + lifetime + 1;

  std::vector<std::future<bool>> callers;
  for (int i = 0; i < 4; ++i)
    callers.push_back(std::async(std::launch::async, [&] {
      return static_cast<bool>(unavailable([&] { (void)p.get(); }, "HTTP 503", {"secret1/Key+x"}));
    }));
  ASSERT_EQ(arrived.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the others reach the wait
  release.set_value();
  for (auto& f : callers) EXPECT_TRUE(f.get());
  EXPECT_EQ(server.requests(), 2);  // one failed refresh, shared by all four
}

TEST_F(container_fixture, bad_answers_are_storage_unavailable_without_their_contents) {
  struct bad_case {
    served answer;
    const char* mention;
  };
  const bad_case cases[] = {
      {{500, creds_json("AKIDLEAK", "leaked-secret", "leaked-token", iso(t0 + lifetime))}, "HTTP 500"},
      {{200, "{\"AccessKeyId\":\"AKIDLEAK\",\"SecretAccessKey\":\"leaked-secret\""}, "no JSON object"},
      {{200, "[\"leaked-secret\"]"}, "no JSON object"},
      {{200, R"({"AccessKeyId":"AKIDLEAK","SecretAccessKey":"leaked-secret","Token":"t"})"}, "Expiration"},
      {{200, creds_json("AKIDLEAK", "leaked-secret", "t", "tomorrow")}, "malformed Expiration"},
      {{200, creds_json("AKIDLEAK", "leaked-secret", "t", iso(t0 - 1))}, "expired"},
      {{200, creds_json("AKIDLEAK", "leaked secret", "t", iso(t0 + lifetime))}, "secret access key"},
      {{200, creds_json("AKIDLEAK", "leaked-secret", std::string(70 * 1024, 'a'), iso(t0 + lifetime))},
       "64 KiB"},
  };
  for (const auto& c : cases) {
    credentials_server server([&](const credentials_server::request&) { return c.answer; });
    container_credentials p(source_for(server), http, clock);
    EXPECT_TRUE(unavailable([&] { (void)p.get(); }, c.mention, {"leaked-secret", "leaked secret", "AKIDLEAK"}))
        << c.answer.body.substr(0, 80);
  }
}

// ---- the chain --------------------------------------------------------------------------

TEST_F(container_fixture, chain_environment_beats_container_and_files) {
  temp_dir dir;
  dir.write(".aws/credentials", credentials_text);
  credentials_server server(issuing(expiry));
  auto chain = make_default_credentials(env_of({{"HOME", dir.path().string()},
                                                {"AWS_ACCESS_KEY_ID", "ASIAENV"},
                                                {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                                                {"AWS_SESSION_TOKEN", "envtoken"},
                                                {"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url()}}),
                                        http, clock);
  const auto c = chain->get();
  EXPECT_EQ(c.access_key_id, "ASIAENV");
  EXPECT_EQ(c.session_token, "envtoken");
  EXPECT_EQ(server.requests(), 0);
}

TEST_F(container_fixture, chain_container_beats_files) {
  temp_dir dir;
  dir.write(".aws/credentials", credentials_text);
  credentials_server server(issuing(expiry, "Bearer-chain"));
  auto chain = make_default_credentials(env_of({{"HOME", dir.path().string()},
                                                {"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url()},
                                                {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer-chain"}}),
                                        http, clock);
  EXPECT_EQ(server.requests(), 0);  // nothing at construction
  const auto c = chain->get();
  EXPECT_EQ(c.access_key_id, "ASIAREQ1");
  EXPECT_EQ(c.expires_at, t0 + lifetime);
  EXPECT_EQ(server.requests(), 1);
}

TEST_F(container_fixture, chain_falls_back_to_the_profile_of_the_shared_files) {
  temp_dir dir;
  dir.write(".aws/credentials", credentials_text);
  dir.write(".aws/config", config_text);
  auto chain = make_default_credentials(
      env_of({{"HOME", dir.path().string()}, {"AWS_PROFILE", "work"}, {"AWS_ACCESS_KEY_ID", "only-half"}}),
      http, clock);
  const auto c = chain->get();
  EXPECT_EQ(c.access_key_id, "AKIDWORK");
  EXPECT_EQ(c.session_token, "tokenwork==");
}

TEST_F(container_fixture, chain_reads_nothing_until_the_first_get_and_decides_once) {
  temp_dir dir;
  auto chain = make_default_credentials(env_of({{"HOME", dir.path().string()}}), http, clock);
  dir.write(".aws/credentials", "[default]\naws_access_key_id = AKIDLATE\naws_secret_access_key = late\n");
  EXPECT_EQ(chain->get().access_key_id, "AKIDLATE");  // the file did not exist at construction
  fs::remove(dir.path() / ".aws/credentials");
  EXPECT_EQ(chain->get().access_key_id, "AKIDLATE");  // decided, not read again

  temp_dir empty;
  auto none = make_default_credentials(env_of({{"HOME", empty.path().string()}}), http, clock);
  EXPECT_TRUE(unavailable([&] { (void)none->get(); }, "AWS_ACCESS_KEY_ID"));
  empty.write(".aws/credentials", "[default]\naws_access_key_id = AKIDTOOLATE\naws_secret_access_key = s\n");
  EXPECT_TRUE(unavailable([&] { (void)none->get(); }, "AWS_ACCESS_KEY_ID"));
}

TEST_F(container_fixture, chain_with_nothing_configured_says_which_variables_to_set) {
  temp_dir dir;
  dir.write(".aws/credentials", "[default]\naws_access_key_id = AKIDHALF\n");  // no secret: not usable
  auto chain = make_default_credentials(env_of({{"HOME", dir.path().string()}, {"AWS_PROFILE", "default"}}),
                                        http, clock);
  for (const char* mention : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                              "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "profile 'default'"})
    EXPECT_TRUE(unavailable([&] { (void)chain->get(); }, mention));
}

TEST_F(container_fixture, chain_refuses_a_huge_credentials_file) {
  temp_dir dir;
  std::string text = "[default]\naws_access_key_id = AKIDBIG\naws_secret_access_key = bigsecret\n";
  text.resize(max_shared_file_bytes + 1, '\n');
  dir.write(".aws/credentials", text);
  auto chain = make_default_credentials(env_of({{"HOME", dir.path().string()}}), http, clock);
  EXPECT_TRUE(unavailable([&] { (void)chain->get(); }, "larger than 1 MiB", {"bigsecret"}));
}

TEST_F(container_fixture, chain_refuses_a_full_uri_to_a_host_not_allowed_without_connecting) {
  credentials_server server(issuing(expiry));
  const auto started = std::chrono::steady_clock::now();
  auto ten = make_default_credentials(env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/creds"}}),
                                      http, clock);
  EXPECT_TRUE(unavailable([&] { (void)ten->get(); }, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));  // no connect timeout

  // The v4-mapped spelling of 127.0.0.1 reaches this server, but is not
  // on the list: refused, and the server sees no connection.
  const std::string mapped = "http://[::ffff:127.0.0.1]:" + std::to_string(server.port()) + "/v1/credentials";
  auto chain = make_default_credentials(env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", mapped}}), http, clock);
  EXPECT_TRUE(unavailable([&] { (void)chain->get(); }, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(server.connections(), 0);

  // Control: that address does reach the server, so the 0 above means something.
  net::io_context ioc;
  tcp::socket probe(ioc);
  boost::system::error_code ec;
  probe.connect(tcp::endpoint(net::ip::make_address("::ffff:127.0.0.1"), server.port()), ec);
  if (ec) GTEST_SKIP() << "no IPv6 here to run the control connection: " << ec.message();
  for (int i = 0; i < 100 && server.connections() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(server.connections(), 1);
}

}  // namespace
}  // namespace gatehouse::aws
