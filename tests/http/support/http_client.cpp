#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <stdexcept>

namespace gatehouse::testing {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;

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
    if (!ec) bhttp::read(*stream_, buffer, parser, ec);
    if (ec) {
      // A keep-alive connection the server closed meanwhile: retry once on a new one.
      stream_.reset();
      if (attempt == 0) continue;
      throw std::runtime_error("http request failed: " + ec.message());
    }
    auto res = parser.release();
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
