#pragma once
// Starts tests/peers/smtp-peer.mjs (a real smtp-server) for one test and
// stops it afterwards (tests/support/node_peer.hpp).
#include "support/node_peer.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace gatehouse::smtp::testing {

inline std::filesystem::path peers_dir() { return gatehouse::testing::test_peers_dir(); }

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A private temporary directory, removed with everything in it.
class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("gatehouse-smtp-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class smtp_peer {
 public:
  // `args` are smtp-peer.mjs's switches; --out is added here.
  explicit smtp_peer(const std::vector<std::string>& args)
      : out_dir_(dir_.path() / "out"), peer_("smtp-peer.mjs", with_out(args, out_dir_), dir_.path() / "peer.log") {}

  unsigned short port() const { return peer_.port(); }
  const std::filesystem::path& out_dir() const { return out_dir_; }
  std::string log() const { return peer_.log(); }
  // How many messages the peer accepted.
  std::size_t delivered() const {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(out_dir_, ec))
      if (e.path().extension() == ".json") ++n;
    return n;
  }
  void stop() { peer_.stop(); }

 private:
  static std::vector<std::string> with_out(std::vector<std::string> args, const std::filesystem::path& out) {
    args.insert(args.begin(), {"--out", out.string()});
    return args;
  }

  temp_dir dir_;
  std::filesystem::path out_dir_;
  gatehouse::testing::node_peer peer_;
};

}  // namespace gatehouse::smtp::testing
