#include "backend.hpp"

#include "aws_peers.hpp"
#include "http_client.hpp"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace gatehouse::testing {
namespace {

// One set of peers per test process, started on first use and stopped
// when the process exits.
aws_peers& shared_peers() {
  static std::unique_ptr<aws_peers> peers = std::make_unique<aws_peers>();
  return *peers;
}

}  // namespace

aws_peers& shared_aws_peers() { return shared_peers(); }

backend_kind current_backend() {
  const char* v = std::getenv("GATEHOUSE_TEST_BACKEND");
  if (!v || std::string(v) == "embedded") return backend_kind::embedded;
  if (std::string(v) == "aws") return backend_kind::aws;
  throw std::runtime_error("GATEHOUSE_TEST_BACKEND must be embedded or aws");
}

std::map<std::string, std::string> backend_env() {
  if (current_backend() == backend_kind::embedded) return {};
  auto& peers = shared_peers();
  auto env = peers.gatehouse_env();
  env["USERS_TABLE"] = peers.new_table_name();
  return env;
}

std::size_t count_objects(const std::string& data_dir, const std::string& prefix) {
  return object_names(data_dir, prefix).size();
}

std::vector<std::string> object_names(const std::string& data_dir, const std::string& prefix) {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  if (current_backend() == backend_kind::embedded) {
    const fs::path dir = fs::path(data_dir) / "objects" / prefix;
    if (!fs::exists(dir)) return names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    return names;
  }
  // s3rver itself, bypassing the proxy: it does not check signatures.
  auto& peers = shared_peers();
  http_client c(peers.raw_s3_port());
  const auto r = c.get("/" + peers.bucket() + "?list-type=2&max-keys=1000&prefix=" + prefix);
  if (r.status != 200) throw std::runtime_error("listing the bucket failed: " + r.body);
  for (auto pos = r.body.find("<Key>"); pos != std::string::npos; pos = r.body.find("<Key>", pos + 5)) {
    const auto end = r.body.find("</Key>", pos);
    if (end == std::string::npos) break;
    names.push_back(r.body.substr(pos + 5 + prefix.size(), end - pos - 5 - prefix.size()));
  }
  return names;
}

}  // namespace gatehouse::testing
