#pragma once
// The static files embedded in the binary at build time (src/web/CMakeLists.txt):
// every file under the repo's web/ at /<its path> (and web/index.html at /
// too), docs/openapi.yaml at /openapi.yaml, and the API page at /docs with
// its files under /docs/ (swagger-ui-dist from web-vendor/). Nothing is read
// from disk at run time, so the Lambda bootstrap serves them too.
#include <optional>
#include <span>
#include <string_view>

namespace gatehouse::web {

struct asset {
  std::string_view path;          // the URL path, e.g. "/docs/swagger-ui.css"
  std::string_view content_type;  // from the file's extension
  std::string_view bytes;
  std::string_view etag;          // a strong ETag, quoted: a hash of the bytes taken at build time
};

// The asset served at `url_path` (exact match; "/" is /index.html), or nullopt.
std::optional<asset> find_asset(std::string_view url_path);

// Every embedded asset, sorted by path.
std::span<const asset> all_assets();

}  // namespace gatehouse::web
