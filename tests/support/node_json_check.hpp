#pragma once
// Runs a one-shot cross-check script of tests/peers (jose-check.mjs,
// totp-check.mjs): one JSON request on its stdin, one JSON answer on its
// stdout, no socket. The request goes through a temporary file, so a large
// one cannot fill a pipe while nobody reads the answer.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#ifndef GATEHOUSE_SOURCE_DIR
#error "GATEHOUSE_SOURCE_DIR must name the source tree"
#endif

namespace gatehouse::testing {

// `script` is a file name in tests/peers; throws with its output when it
// fails (a missing `npm ci` shows there).
inline boost::json::object ask_node_script(const std::string& script, const boost::json::object& request) {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / (script + "-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto input = dir / "request.json";
  std::ofstream(input, std::ios::binary) << boost::json::serialize(request);
  const std::string command =
      "node '" + std::string(GATEHOUSE_SOURCE_DIR) + "/tests/peers/" + script + "' < '" + input.string() + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) throw std::runtime_error("popen failed");
  std::string out;
  char buf[4096];
  while (const std::size_t n = std::fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  const int status = ::pclose(pipe.release());
  fs::remove_all(dir);
  if (status != 0) throw std::runtime_error(script + " failed: " + out);
  return boost::json::parse(out).as_object();
}

}  // namespace gatehouse::testing
