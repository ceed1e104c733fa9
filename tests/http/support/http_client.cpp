#include "http_client.hpp"

#include "base/text.hpp"
#include "crypto/crypto.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace gatehouse::testing {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;

namespace {

// GATEHOUSE_RECORD_EXCHANGES=<file>: every exchange of every client in this
// process is appended to <file> as one JSON line, for the contract test
// (tests/contract/validate-exchanges.mjs checks them against
// docs/openapi.yaml). Off when the variable is unset or empty.
class exchange_recorder {
 public:
  static exchange_recorder* instance() {
    static exchange_recorder* const recorder = [] () -> exchange_recorder* {
      const char* path = std::getenv("GATEHOUSE_RECORD_EXCHANGES");
      if (!path || !*path) return nullptr;
      // O_APPEND: every write lands at the end, whoever else appends.
      const int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd < 0) throw std::runtime_error(std::string("GATEHOUSE_RECORD_EXCHANGES: cannot open ") + path);
      return new exchange_recorder(fd);  // lives as long as the process
    }();
    return recorder;
  }

  void record(const bhttp::request<bhttp::string_body>& req,
              const bhttp::response<bhttp::string_body>& res) {
    boost::json::object line{{"test", current_test()},
                             {"method", std::string(req.method_string())},
                             {"target", std::string(req.target())},
                             {"status", res.result_int()},
                             {"request", message_json(req, req.body())},
                             {"response", message_json(res, res.body())}};
    std::string text = boost::json::serialize(line);
    text += '\n';
    // One write per line, under a lock: lines of concurrent clients never interleave.
    const std::lock_guard lock(mutex_);
    const char* p = text.data();
    std::size_t left = text.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("GATEHOUSE_RECORD_EXCHANGES: write failed");
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }

 private:
  static constexpr std::size_t max_body_bytes = 64 * 1024;

  explicit exchange_recorder(int fd) : fd_(fd) {}

  // "suite.test" while a test runs, "suite" in SetUpTestSuite, else "".
  static std::string current_test() {
    const auto* unit = ::testing::UnitTest::GetInstance();
    if (const auto* info = unit->current_test_info())
      return std::string(info->test_suite_name()) + "." + info->name();
    if (const auto* suite = unit->current_test_suite()) return suite->name();
    return {};
  }

  // Headers as [lower-case name, value] pairs; the body as text when it is
  // UTF-8, else base64, cut at max_body_bytes.
  template <class Message>
  static boost::json::object message_json(const Message& m, const std::string& body) {
    boost::json::array headers;
    for (const auto& f : m)
      headers.push_back(boost::json::array{text::ascii_lower(f.name_string()), std::string(f.value())});
    const std::string_view kept = std::string_view(body).substr(0, max_body_bytes);
    const bool utf8 = text::is_valid_utf8(kept);
    return {{"headers", std::move(headers)},
            {"body_bytes", body.size()},
            {"body_truncated", body.size() > max_body_bytes},
            {"body_encoding", utf8 ? "utf8" : "base64"},
            {"body", utf8 ? std::string(kept) : crypto::base64_encode(kept)}};
  }

  int fd_;
  std::mutex mutex_;
};

}  // namespace

std::string http_result::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

http_client::http_client(unsigned short port) : port_(port) {}
http_client::~http_client() = default;

void http_client::connect() {
  stream_.emplace(io_);
  stream_->connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
}

http_result http_client::send(const std::string& method, const std::string& target, const std::string& body,
                              const header_list& headers) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
  for (const auto& [n, v] : headers) req.set(n, v);
  req.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT") req.prepare_payload();
  req.keep_alive(true);

  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!stream_) connect();
    stream_->expires_after(std::chrono::seconds(60));
    beast::error_code ec;
    bhttp::write(*stream_, req, ec);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    // A response to HEAD has the GET's headers (Content-Length too) and no body.
    if (method == "HEAD") parser.skip(true);
    if (!ec) bhttp::read(*stream_, buffer, parser, ec);
    if (ec) {
      // A keep-alive connection the server closed meanwhile: retry once on a new one.
      stream_.reset();
      if (attempt == 0) continue;
      throw std::runtime_error("http request failed: " + ec.message());
    }
    auto res = parser.release();
    if (auto* recorder = exchange_recorder::instance()) recorder->record(req, res);
    http_result out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(f.value());
    }
    out.body = std::move(res.body());
    bodies_seen_.push_back(out.body);
    if (!res.keep_alive()) stream_.reset();
    return out;
  }
  throw std::logic_error("unreachable");
}

http_result http_client::post_json(const std::string& target, const std::string& json, const header_list& headers) {
  header_list all = headers;
  all.emplace_back("content-type", "application/json");
  return send("POST", target, json, all);
}

http_result http_client::get(const std::string& target, const header_list& headers) {
  return send("GET", target, {}, headers);
}

std::string raw_exchange(unsigned short port, const std::string& bytes, int timeout_ms) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  beast::error_code ec;
  asio::write(stream, asio::buffer(bytes), ec);
  std::string out;
  char chunk[4096];
  while (true) {
    const std::size_t n = stream.read_some(asio::buffer(chunk), ec);
    out.append(chunk, n);
    if (ec) break;
  }
  return out;
}

}  // namespace gatehouse::testing
