#pragma once
// What a mail client makes of our bytes: tests/peers/read-mail.mjs
// (mailparser, which shares no code with the composer) run on files, and
// the temporary directory the files live in. Shared by tests/unit/mail
// and tests/unit/ses.
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <gtest/gtest.h>

#include <stdlib.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef GATEHOUSE_SOURCE_DIR
#error "GATEHOUSE_SOURCE_DIR must name the source tree"
#endif

namespace gatehouse::mail::testing {

namespace fs = std::filesystem;

inline const fs::path peers_dir = fs::path(GATEHOUSE_SOURCE_DIR) / "tests" / "peers";

inline constexpr const char* peers_hint =
    "these tests need node on PATH and the npm peers: run `npm ci` in tests/peers (`make test` does it)";

class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-mail-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out.good()) throw std::runtime_error("cannot write " + p.string());
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

inline bool peers_installed() {
  return std::system("node --version > /dev/null 2>&1") == 0 &&
         fs::exists(peers_dir / "node_modules" / "mailparser" / "package.json");
}

// One JSON object per file, in order (see read-mail.mjs for the fields).
inline boost::json::array read_mail(const std::vector<fs::path>& files) {
  std::string command = "node " + shell_quote((peers_dir / "read-mail.mjs").string());
  for (const auto& f : files) command += " " + shell_quote(f.string());
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed");
  std::string out;
  std::array<char, 65536> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  if (status != 0) throw std::runtime_error("read-mail.mjs failed (" + std::to_string(status) + "): " + out);
  return boost::json::parse(out).as_array();
}

inline std::string str(const boost::json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : std::string("<not a string: ") + (v.is_null() ? "null" : "?") + ">";
}

}  // namespace gatehouse::mail::testing
