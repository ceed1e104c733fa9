#include "web/assets.hpp"

#include <algorithm>

namespace gatehouse::web {

std::optional<asset> find_asset(std::string_view url_path) {
  if (url_path == "/") url_path = "/index.html";
  const auto table = all_assets();  // sorted by path (generate_assets.cmake)
  const auto it = std::lower_bound(table.begin(), table.end(), url_path,
                                   [](const asset& a, std::string_view p) { return a.path < p; });
  if (it == table.end() || it->path != url_path) return std::nullopt;
  return *it;
}

}  // namespace gatehouse::web
