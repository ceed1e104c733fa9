#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

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
    std::string line = "{\"test\":";
    append_string(line, current_test());
    line += ",\"method\":";
    append_string(line, std::string(req.method_string()));
    line += ",\"target\":";
    append_string(line, std::string(req.target()));
    line += ",\"status\":" + std::to_string(res.result_int());
    line += ",\"request\":";
    append_message(line, req, req.body());
    line += ",\"response\":";
    append_message(line, res, res.body());
    line += "}\n";
    // One write per line, under a lock: lines of concurrent clients never interleave.
    const std::lock_guard lock(mutex_);
    const char* p = line.data();
    std::size_t left = line.size();
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

  template <class Message>
  static void append_message(std::string& out, const Message& m, const std::string& body) {
    out += "{\"headers\":[";
    bool first = true;
    for (const auto& f : m) {
      if (!first) out += ',';
      first = false;
      out += '[';
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      append_string(out, name);
      out += ',';
      append_string(out, std::string(f.value()));
      out += ']';
    }
    const bool truncated = body.size() > max_body_bytes;
    const std::string_view kept = std::string_view(body).substr(0, max_body_bytes);
    const bool text = is_utf8(kept);
    out += "],\"body_bytes\":" + std::to_string(body.size());
    out += ",\"body_truncated\":";
    out += truncated ? "true" : "false";
    out += ",\"body_encoding\":";
    out += text ? "\"utf8\"" : "\"base64\"";
    out += ",\"body\":";
    append_string(out, text ? std::string(kept) : base64(kept));
    out += '}';
  }

  // `s` (UTF-8) as a JSON string.
  static void append_string(std::string& out, std::string_view s) {
    static const char* hex = "0123456789abcdef";
    out += '"';
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += ch;
      } else if (c < 0x20) {
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out += ch;
      }
    }
    out += '"';
  }

  static bool is_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i]);
      std::size_t extra = 0;
      std::uint32_t cp = 0, min = 0;
      if (c < 0x80) {
        ++i;
        continue;
      } else if ((c & 0xE0) == 0xC0) {
        extra = 1, cp = c & 0x1F, min = 0x80;
      } else if ((c & 0xF0) == 0xE0) {
        extra = 2, cp = c & 0x0F, min = 0x800;
      } else if ((c & 0xF8) == 0xF0) {
        extra = 3, cp = c & 0x07, min = 0x10000;
      } else {
        return false;
      }
      if (s.size() - i <= extra) return false;
      for (std::size_t k = 1; k <= extra; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (cc & 0x3F);
      }
      if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
      i += extra + 1;
    }
    return true;
  }

  static std::string base64(std::string_view in) {
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
      const std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                              (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
      out += table[(v >> 18) & 63];
      out += table[(v >> 12) & 63];
      out += table[(v >> 6) & 63];
      out += table[v & 63];
    }
    if (i < in.size()) {
      std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
      if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
      out += table[(v >> 18) & 63];
      out += table[(v >> 12) & 63];
      out += i + 1 < in.size() ? table[(v >> 6) & 63] : '=';
      out += '=';
    }
    return out;
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
