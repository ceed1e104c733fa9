// The embedded-file table that src/web/generate_assets.cmake writes.
#include "web/assets.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

namespace gatehouse::web {
namespace {

std::string read_source(const std::string& rel) {
  std::ifstream in(std::string(GATEHOUSE_SOURCE_DIR) + "/" + rel, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(web_assets, table_is_sorted_by_path_and_has_no_duplicates) {
  const auto all = all_assets();
  ASSERT_GE(all.size(), 4u);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].path, all[i].path);
}

TEST(web_assets, every_asset_is_found_by_its_own_path) {
  for (const asset& a : all_assets()) {
    const auto found = find_asset(a.path);
    ASSERT_TRUE(found) << a.path;
    EXPECT_EQ(found->bytes.data(), a.bytes.data()) << a.path;
  }
}

TEST(web_assets, root_is_index_html_and_unknown_paths_are_absent) {
  const auto root = find_asset("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->path, "/index.html");
  EXPECT_EQ(root->content_type, "text/html; charset=utf-8");
  for (const char* path : {"", "/docs/", "/nope", "/openapi.yam", "/openapi.yaml/", "/index.html/x", "docs"})
    EXPECT_FALSE(find_asset(path)) << path;
}

TEST(web_assets, bytes_are_the_source_files_with_types_and_etags) {
  const auto spec = find_asset("/openapi.yaml");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->bytes, read_source("docs/openapi.yaml"));
  EXPECT_EQ(spec->content_type, "application/yaml");

  const auto page = find_asset("/docs");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->bytes, read_source("src/web/docs/index.html"));
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");  // from the file, the URL has no extension

  const auto css = find_asset("/docs/swagger-ui.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
  EXPECT_EQ(find_asset("/docs/favicon-32x32.png")->content_type, "image/png");
  EXPECT_EQ(find_asset("/docs/swagger-ui-bundle.js")->content_type, "text/javascript; charset=utf-8");

  // Strong, quoted, distinct per content.
  const std::regex etag(R"("[0-9a-f]{32}")");
  for (const asset& a : all_assets()) EXPECT_TRUE(std::regex_match(std::string(a.etag), etag)) << a.path;
  EXPECT_NE(spec->etag, page->etag);
}

TEST(web_assets, config_js_is_the_servers_own_and_web_config_js_is_not_embedded) {
  const auto config = find_asset("/config.js");
  ASSERT_TRUE(config);
  EXPECT_EQ(config->bytes, read_source("src/web/config.js"));
  const std::string static_copies = read_source("web/config.js");
  ASSERT_FALSE(static_copies.empty());
  for (const asset& a : all_assets()) EXPECT_NE(a.bytes, static_copies) << a.path;
}

}  // namespace
}  // namespace gatehouse::web
