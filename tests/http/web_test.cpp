// The files embedded in the binary (src/web, src/api/web_routes.cpp): the
// web page at /, /openapi.yaml, and the API page at /docs, served by the real
// server with ETag revalidation and HEAD, and without taking any path from
// the API; every one under a strict Content-Security-Policy header, the page
// held to this server (connect-src 'self') with its own /config.js.
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

namespace gatehouse::testing {
namespace {

namespace fs = std::filesystem;

const fs::path source_dir = GATEHOUSE_SOURCE_DIR;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// "a b; c d e" -> {a: "b", c: "d e"}; a directive named twice fails the test.
std::map<std::string, std::string> directives_of(const std::string& policy) {
  std::map<std::string, std::string> out;
  std::istringstream in(policy);
  for (std::string item; std::getline(in, item, ';');) {
    const auto first = item.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    item = item.substr(first);
    const auto space = item.find(' ');
    const std::string name = item.substr(0, space);
    EXPECT_TRUE(out.emplace(name, space == std::string::npos ? "" : item.substr(space + 1)).second) << name;
  }
  return out;
}

// What the browser is told on the page's every file (src/api/web_routes.cpp):
// nothing but this server, to connect to or to load code from; no framing.
const std::map<std::string, std::string> page_directives = {
    {"default-src", "'none'"},      {"script-src", "'self'"},
    {"style-src", "'self'"},        {"img-src", "'self' https: data:"},
    {"connect-src", "'self'"},      {"form-action", "'self'"},
    {"frame-ancestors", "'none'"},  {"base-uri", "'none'"},
};

// The API page's: the same, with data: images only (Swagger UI's icons).
const std::map<std::string, std::string> docs_directives = [] {
  auto d = page_directives;
  d["img-src"] = "'self' data:";
  return d;
}();

void expect_security_headers(const http_result& r, const std::map<std::string, std::string>& policy,
                             const std::string& what) {
  ASSERT_TRUE(r.has_header("content-security-policy")) << what;
  EXPECT_EQ(directives_of(r.header("content-security-policy")), policy) << what;
  EXPECT_EQ(r.header("x-frame-options"), "DENY") << what;
  EXPECT_EQ(r.header("referrer-policy"), "no-referrer") << what;
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << what;
}

class web : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<gatehouse_process>(); }
  static void TearDownTestSuite() { server_.reset(); }

  static inline std::unique_ptr<gatehouse_process> server_;
  http_client client_{server_->port()};
};

TEST_F(web, root_serves_the_web_page_as_html) {
  const auto r = client_.get("/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.body, read_file(source_dir / "web/index.html"));
  EXPECT_EQ(client_.get("/index.html").body, r.body);
}

TEST_F(web, every_file_under_web_is_served_at_its_path_byte_for_byte) {
  int served = 0;
  for (const auto& entry : fs::recursive_directory_iterator(source_dir / "web")) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = fs::relative(entry.path(), source_dir / "web").generic_string();
    if (rel.front() == '.' || rel.find("/.") != std::string::npos || rel.back() == '~') continue;
    if (rel == "config.js") continue;  // the static copies' settings: the server has its own (below)
    const auto r = client_.get("/" + rel);
    EXPECT_EQ(r.status, 200) << rel;
    EXPECT_EQ(r.body, read_file(entry.path())) << rel;
    ++served;
  }
  EXPECT_GE(served, 1);
}

TEST_F(web, openapi_yaml_is_the_exact_bytes_of_docs_openapi_yaml) {
  const auto r = client_.get("/openapi.yaml");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/yaml");
  EXPECT_EQ(r.body, read_file(source_dir / "docs/openapi.yaml"));
}

TEST_F(web, docs_page_loads_every_script_and_style_it_references_from_this_server) {
  const auto page = client_.get("/docs");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("swagger-ui"), std::string::npos);

  // <script src> and <link href> (styles, icons). All relative to /docs,
  // whose base is /: nothing may come from another origin.
  const std::regex reference(R"re(<(script|link)\b[^>]*?\s(src|href)="([^"]+)")re", std::regex::icase);
  std::vector<std::pair<std::string, std::string>> refs;  // tag, url
  for (auto it = std::sregex_iterator(page.body.begin(), page.body.end(), reference); it != std::sregex_iterator(); ++it)
    refs.emplace_back((*it)[1].str(), (*it)[3].str());
  ASSERT_GE(refs.size(), 3u) << page.body;

  int scripts = 0, styles = 0;
  for (const auto& [tag, url] : refs) {
    ASSERT_EQ(url.find("//"), std::string::npos) << "an absolute or other-origin URL: " << url;
    ASSERT_NE(url.front(), '/') << "relative URLs keep the page working under a path prefix: " << url;
    const auto r = client_.get("/" + url);
    EXPECT_EQ(r.status, 200) << url;
    EXPECT_FALSE(r.body.empty()) << url;
    if (tag == "script") {
      ++scripts;
      EXPECT_EQ(r.header("content-type"), "text/javascript; charset=utf-8") << url;
    } else if (url.ends_with(".css")) {
      ++styles;
      EXPECT_EQ(r.header("content-type"), "text/css; charset=utf-8") << url;
    }
  }
  EXPECT_EQ(scripts, 2);
  EXPECT_EQ(styles, 2);  // Swagger UI's and the page's own (no inline <style>: the CSP forbids it)
  EXPECT_EQ(page.body.find("<style"), std::string::npos);
  EXPECT_EQ(page.body.find(" style="), std::string::npos);

  // The embedded bundle is swagger-ui-dist's file, every byte of it.
  EXPECT_EQ(client_.get("/docs/swagger-ui-bundle.js").body,
            read_file(source_dir / "web-vendor/node_modules/swagger-ui-dist/swagger-ui-bundle.js"));
  // The page asks Swagger UI for this server's description, relative to it.
  EXPECT_NE(client_.get("/docs/swagger-initializer.js").body.find("url: 'openapi.yaml'"), std::string::npos);
}

TEST_F(web, the_page_is_served_with_its_own_config_js_that_names_no_other_server) {
  const auto config = client_.get("/config.js");
  ASSERT_EQ(config.status, 200);
  EXPECT_EQ(config.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(config.body, read_file(source_dir / "src/web/config.js"));
  EXPECT_NE(config.body, read_file(source_dir / "web/config.js"));
  // No API listed: the page's own origin only, whatever web/config.js says.
  EXPECT_NE(config.body.find("apiBases: [],"), std::string::npos) << config.body;
  EXPECT_EQ(config.body.find("http"), std::string::npos) << config.body;
  // The page loads it before app.js, from this server.
  const auto page = client_.get("/");
  const auto config_at = page.body.find("<script src=\"config.js\" defer></script>");
  ASSERT_NE(config_at, std::string::npos);
  EXPECT_LT(config_at, page.body.find("<script src=\"app.js\" defer></script>"));
}

TEST_F(web, the_page_and_its_files_carry_the_strict_policy_as_http_headers) {
  for (const char* path : {"/", "/index.html", "/app.js", "/style.css", "/config.js"}) {
    const auto r = client_.get(path);
    ASSERT_EQ(r.status, 200) << path;
    expect_security_headers(r, page_directives, path);
    // A revalidation refreshes them too.
    const auto again = client_.get(path, {{"if-none-match", r.header("etag")}});
    ASSERT_EQ(again.status, 304) << path;
    expect_security_headers(again, page_directives, std::string(path) + " (304)");
    expect_security_headers(client_.send("HEAD", path), page_directives, std::string(path) + " (HEAD)");
  }
  expect_security_headers(client_.get("/openapi.yaml"), page_directives, "/openapi.yaml");
}

TEST_F(web, the_api_page_carries_its_policy_as_http_headers) {
  for (const char* path : {"/docs", "/docs/swagger-ui-bundle.js", "/docs/swagger-initializer.js", "/docs/swagger-ui.css",
                           "/docs/gatehouse.css", "/docs/favicon-32x32.png"}) {
    const auto r = client_.get(path);
    ASSERT_EQ(r.status, 200) << path;
    expect_security_headers(r, docs_directives, path);
  }
}

TEST_F(web, head_answers_the_get_headers_without_the_body) {
  for (const char* path : {"/", "/docs", "/openapi.yaml", "/docs/swagger-ui.css"}) {
    const auto get = client_.get(path);
    const auto head = client_.send("HEAD", path);
    ASSERT_EQ(head.status, 200) << path;
    EXPECT_TRUE(head.body.empty()) << path;
    EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size())) << path;
    EXPECT_EQ(head.header("content-type"), get.header("content-type")) << path;
    EXPECT_EQ(head.header("etag"), get.header("etag")) << path;
  }
  // The connection is still in step after the body-less answers.
  EXPECT_EQ(client_.get("/health").body, R"({"status":"ok"})");
}

TEST_F(web, if_none_match_with_the_etag_gives_304_without_a_body) {
  const auto first = client_.get("/docs/swagger-ui.css");
  ASSERT_EQ(first.status, 200);
  const std::string etag = first.header("etag");
  ASSERT_TRUE(std::regex_match(etag, std::regex(R"("[0-9a-f]{32}")"))) << etag;
  EXPECT_EQ(first.header("cache-control"), "no-cache");
  EXPECT_EQ(first.header("x-content-type-options"), "nosniff");

  for (const std::string& tag : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    const auto again = client_.get("/docs/swagger-ui.css", {{"if-none-match", tag}});
    EXPECT_EQ(again.status, 304) << tag;
    EXPECT_TRUE(again.body.empty()) << tag;
    EXPECT_EQ(again.header("etag"), etag) << tag;
  }
  const auto head = client_.send("HEAD", "/docs/swagger-ui.css", {}, {{"if-none-match", etag}});
  EXPECT_EQ(head.status, 304);

  const auto changed = client_.get("/docs/swagger-ui.css", {{"if-none-match", "\"0123456789abcdef0123456789abcdef\""}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, first.body);
  // Another file has another tag.
  EXPECT_NE(client_.get("/docs").header("etag"), etag);
  // Still in step after the 304s.
  EXPECT_EQ(client_.get("/health").status, 200);
}

TEST_F(web, unknown_paths_are_still_the_api_json_404) {
  for (const char* path : {"/nope", "/nope.html", "/docs/nope.js", "/docs/swagger-ui.css.map", "/index.htm",
                           "/openapi.yml", "/docs/../openapi.yaml"}) {
    const auto r = client_.get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8") << path;
    EXPECT_EQ(error_code_of(r), "not_found") << path;
  }
}

TEST_F(web, files_take_no_path_or_method_from_the_api) {
  // Only GET and HEAD on the files...
  const auto post = client_.send("POST", "/", "x", {{"content-type", "text/plain"}});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(error_code_of(post), "method_not_allowed");
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
  // ...and the API's routes are as they were: HEAD gained nowhere.
  const auto health = client_.send("HEAD", "/health");
  EXPECT_EQ(health.status, 405);
  EXPECT_EQ(health.header("allow"), "GET");
  EXPECT_EQ(client_.send("HEAD", "/users").header("allow"), "GET");
  EXPECT_EQ(client_.get("/users").status, 401);
}

TEST_F(web, docs_with_a_trailing_slash_redirects_to_the_page) {
  const auto r = client_.get("/docs/");
  EXPECT_EQ(r.status, 308);
  EXPECT_EQ(r.header("location"), "../docs");
}

}  // namespace
}  // namespace gatehouse::testing
