#pragma once
// Starts tests/peers/ses-stub.mjs (SES v2 SendEmail that answers only
// requests whose SigV4 signature @smithy/signature-v4 reproduces, and writes
// each accepted raw message to out_dir()/<n>.eml) for one test
// (tests/support/node_peer.hpp). Used by tests/unit/ses and by
// the HTTP e-mail suite (the real binary with MAIL_TRANSPORT=ses).
#include "aws/endpoint.hpp"
#include "aws/http_client.hpp"
#include "mail/mail_reader.hpp"
#include "support/node_peer.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>


#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse::ses::testing {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using mail::testing::peers_dir;
using mail::testing::read_bytes;
using mail::testing::temp_dir;

inline const std::string region = "eu-west-1";
inline const std::string access_key = "AKIDSESSTUB";
inline const std::string secret_key = "ses/Stub+Secret" + std::to_string(::getpid());


// The stub as a child process in its own process group, killed with it.
class ses_stub {
 public:
  explicit ses_stub(std::vector<std::string> extra = {})
      : peer_(checked_script(), arguments(std::move(extra), out_dir()), dir_.path() / "stub.log") {}
  ses_stub(const ses_stub&) = delete;
  ses_stub& operator=(const ses_stub&) = delete;

  aws::endpoint endpoint() const { return *aws::parse_endpoint("http://127.0.0.1:" + std::to_string(peer_.port())); }
  fs::path out_dir() const { return dir_.path() / "out"; }
  std::string log_text() const { return peer_.log(); }

  json::object stats() const {
    aws::http_client http;
    aws::http_request req;
    req.path = "/__stats";
    const auto res = http.send(endpoint(), req);
    if (res.status != 200) throw std::runtime_error("ses-stub: no stats: " + res.body);
    return json::parse(res.body).as_object();
  }
  long count(const char* name) const { return stats().at(name).to_number<long>(); }

 private:
  static std::string checked_script() {
    if (!mail::testing::peers_installed() || !fs::exists(peers_dir / "node_modules/@smithy/signature-v4/package.json"))
      throw std::runtime_error(mail::testing::peers_hint);
    return "ses-stub.mjs";
  }
  static std::vector<std::string> arguments(std::vector<std::string> extra, const fs::path& out) {
    std::vector<std::string> args{"--listen-port", "0", "--access-key", access_key, "--secret-key", secret_key,
                                  "--region", region, "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  temp_dir dir_;  // first: the peer's log and output live in it
  gatehouse::testing::node_peer peer_;
};

}  // namespace gatehouse::ses::testing
