// The local server as a process: concurrency, limits, keep-alive,
// shutdown, configuration errors and logs.
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <csignal>
#include <future>
#include <thread>

namespace gatehouse::testing {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

TEST(server, fifty_concurrent_signups_of_one_email_give_exactly_one_201) {
  gatehouse_process server;
  std::atomic<int> created{0}, taken{0}, other{0};
  std::vector<std::thread> threads;
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, start] {
      http_client c(server.port());
      start.wait();
      const auto r = c.post_json("/signup", R"({"name":"Twin","email":"twin@example.com","password":"password123"})");
      if (r.status == 201) ++created;
      else if (r.status == 409 && error_code_of(r) == "email_taken") ++taken;
      else ++other;
    });
  }
  go.set_value();
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(taken.load(), 49);
  EXPECT_EQ(other.load(), 0);
}

TEST(server, holds_1000_concurrent_keep_alive_connections) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  ASSERT_GE(lim.rlim_cur, 2200u) << "the test needs descriptors for 1000 connections on both ends";

  gatehouse_process server;
  asio::io_context io;
  std::vector<beast::tcp_stream> streams;
  streams.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    streams.emplace_back(io);
    streams.back().connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  }
  // Two rounds over every open connection: the second proves each stayed alive.
  for (int round = 0; round < 2; ++round) {
    int ok = 0;
    for (auto& s : streams) {
      bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/health", 11};
      req.set(bhttp::field::host, "127.0.0.1");
      beast::error_code ec;
      bhttp::write(s, req, ec);
      ASSERT_FALSE(ec) << ec.message();
    }
    for (auto& s : streams) {
      beast::flat_buffer buffer;
      bhttp::response<bhttp::string_body> res;
      beast::error_code ec;
      s.expires_after(std::chrono::seconds(30));
      bhttp::read(s, buffer, res, ec);
      if (!ec && res.result_int() == 200 && res.keep_alive()) ++ok;
    }
    EXPECT_EQ(ok, 1000) << "round " << round;
  }
}

TEST(server, a_slow_login_does_not_stall_other_connections) {
  gatehouse_process server(std::map<std::string, std::string>{{"BCRYPT_COST", "12"}});
  http_client setup(server.port());
  ASSERT_EQ(setup.post_json("/signup", R"({"name":"S","email":"slow@example.com","password":"password123"})").status, 201);
  auto login = std::async(std::launch::async, [&] {
    http_client c(server.port());
    return c.post_json("/login", R"({"email":"slow@example.com","password":"password123"})").status;
  });
  // While bcrypt at cost 12 runs on a worker, health answers many times over.
  http_client c(server.port());
  int answered = 0;
  while (login.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready && answered < 20) {
    if (c.get("/health").status == 200) ++answered;
  }
  EXPECT_EQ(login.get(), 200);
  EXPECT_GE(answered, 5) << "health requests must be served while a login hashes";
}

TEST(server, graceful_shutdown_finishes_in_flight_requests) {
  gatehouse_process server(std::map<std::string, std::string>{{"BCRYPT_COST", "13"}});
  http_client setup(server.port());
  auto signup = std::async(std::launch::async, [&] {
    http_client c(server.port());
    return c.post_json("/signup", R"({"name":"S","email":"inflight@example.com","password":"password123"})").status;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // the hash is under way
  const int pid = server.pid();
  ::kill(pid, SIGTERM);
  EXPECT_EQ(signup.get(), 201);
  EXPECT_EQ(server.stop(0), 0) << server.log_text();
  EXPECT_NE(server.log_text().find("shutting down"), std::string::npos);
}

TEST(server, oversized_headers_get_431_and_the_server_lives_on) {
  gatehouse_process server;
  const std::string reply = raw_exchange(server.port(), "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0u) << reply.substr(0, 200);
  EXPECT_NE(reply.find("header_fields_too_large"), std::string::npos);
  http_client c(server.port());
  EXPECT_EQ(c.get("/health").status, 200);
}

TEST(server, malformed_requests_get_400) {
  gatehouse_process server;
  const std::string reply = raw_exchange(server.port(), "GARBAGE\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  const std::string both = raw_exchange(server.port(),
                                        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(both.rfind("HTTP/1.1 400", 0), 0u) << both;
  http_client c(server.port());
  EXPECT_EQ(c.get("/health").status, 200);
}

TEST(server, pipelined_requests_are_answered_in_order) {
  gatehouse_process server;
  const std::string reply = raw_exchange(server.port(),
                                         "GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: first\r\n\r\n"
                                         "GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-Id: second\r\n\r\n"
                                         "GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: third\r\nConnection: close\r\n\r\n");
  const auto a = reply.find("x-request-id: first");
  const auto b = reply.find("x-request-id: second");
  const auto c = reply.find("x-request-id: third");
  ASSERT_NE(a, std::string::npos) << reply;
  ASSERT_NE(b, std::string::npos) << reply;
  ASSERT_NE(c, std::string::npos) << reply;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_NE(reply.find("HTTP/1.1 404"), std::string::npos);
}

TEST(server, idle_connections_are_closed_by_the_header_timeout) {
  gatehouse_process server;
  // A request that never finishes its headers: the server must hang up by itself.
  const auto start = std::chrono::steady_clock::now();
  const std::string reply = raw_exchange(server.port(), "GET /health HTTP/1.1\r\nHost: x\r\n", 30000);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_LT(waited, std::chrono::seconds(25)) << "the server kept a half-sent request open";
  EXPECT_EQ(reply.find("200"), std::string::npos);
}

TEST(server, invalid_configuration_refuses_to_start_naming_the_variable) {
  const std::pair<std::string, std::string> cases[] = {
      {"PORT", "abc"}, {"PORT", "70000"}, {"BCRYPT_COST", "3"}, {"BCRYPT_COST", "15"},
      {"JWT_SECRET", "tooshort-secret"}, {"MAX_IMAGE_BYTES", "-1"}, {"ACCESS_TOKEN_TTL", "forever"},
      {"CORS_ORIGINS", "ftp://x"}, {"LOG_LEVEL", "loud"}, {"SERVER_SECRET", "tooshort-server-secret"}};
  for (const auto& [name, value] : cases) {
    temp_dir dir;
    std::string out;
    const int code = run_gatehouse({{name, value}, {"DATA_DIR", dir.path().string()}}, {"serve"}, out);
    EXPECT_EQ(code, 2) << name << "=" << value << ": " << out;
    EXPECT_NE(out.find(name), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << "one line: " << out;
    if (name == "JWT_SECRET" || name == "SERVER_SECRET") {
      EXPECT_EQ(out.find(value), std::string::npos) << "never echo a secret";
    }
  }
}

// v1's HS256 secret, still generated the same way when JWT_ALG=HS256.
// The RS256 key's generation is tests/http/signing_keys_test.
TEST(server, generates_a_private_hs256_secret_when_unset_and_keeps_it) {
  temp_dir dir;
  std::string token;
  const std::map<std::string, std::string> env{
      {"JWT_ALG", "HS256"}, {"JWT_PRIVATE_KEY", unset_variable}, {"DATA_DIR", dir.path().string()}};
  {
    gatehouse_process server(env);
    ASSERT_TRUE(std::filesystem::exists(dir.path() / "jwt-secret"));
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "jwt-key.pem"));
    const auto perms = std::filesystem::status(dir.path() / "jwt-secret").permissions();
    EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    EXPECT_NE(server.log_text().find("generated a secret"), std::string::npos);
    http_client c(server.port());
    token = sign_up_and_log_in(c, "keep@example.com").token;
  }
  gatehouse_process again(env);
  http_client c(again.port());
  EXPECT_EQ(c.get("/users/me", {{"authorization", "Bearer " + token}}).status, 200) << "same secret after restart";
}

std::string file_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(server, generates_a_private_server_secret_when_unset_and_keeps_it) {
  temp_dir dir;
  const auto path = dir.path() / "server-secret";
  const std::map<std::string, std::string> env{{"SERVER_SECRET", unset_variable}, {"DATA_DIR", dir.path().string()}};
  std::string first;
  {
    gatehouse_process server(env);
    ASSERT_TRUE(std::filesystem::exists(path));
    const auto perms = std::filesystem::status(path).permissions();
    EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    first = file_text(path);
    EXPECT_GE(first.size(), 33u) << "at least 32 bytes and a newline";
    EXPECT_EQ(server.log_text().find(first.substr(0, first.size() - 1)), std::string::npos) << "never logged";
  }
  gatehouse_process again(env);
  EXPECT_EQ(file_text(path), first) << "the same secret after a restart";
}

TEST(server, refuses_a_server_secret_file_that_holds_no_usable_secret) {
  temp_dir dir;
  std::ofstream(dir.path() / "server-secret") << "short\n";
  std::string out;
  const int code = run_gatehouse({{"SERVER_SECRET", unset_variable}, {"DATA_DIR", dir.path().string()}}, {"serve"}, out);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("SERVER_SECRET"), std::string::npos) << out;
}

TEST(server, logs_one_json_line_per_request_and_never_a_secret) {
  gatehouse_process server;
  http_client c(server.port());
  const auto user = sign_up_and_log_in(c, "logs@example.com", "very-secret-password");
  c.get("/users/me", {{"authorization", "Bearer " + user.token}, {"x-request-id", "trace-me-1"}});
  const std::string log = server.log_text();
  EXPECT_EQ(log.find("very-secret-password"), std::string::npos);
  EXPECT_EQ(log.find(user.token), std::string::npos);
  EXPECT_EQ(log.find("$2b$"), std::string::npos);
  EXPECT_EQ(log.find(test_jwt_private_key.substr(28, 64)), std::string::npos);  // a line of the key
  EXPECT_EQ(log.find(test_server_secret), std::string::npos);
  bool found = false;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    const auto v = boost::json::parse(line);  // every line is JSON
    const auto& o = v.as_object();
    if (o.contains("request_id") && o.at("request_id").as_string() == "trace-me-1") {
      found = true;
      EXPECT_EQ(o.at("method").as_string(), "GET");
      EXPECT_EQ(o.at("route").as_string(), "/users/me");
      EXPECT_EQ(o.at("status").as_int64(), 200);
      EXPECT_EQ(o.at("user_id").as_string(), user.user_id);
      EXPECT_TRUE(o.at("latency_ms").is_double());
      EXPECT_TRUE(o.contains("time"));
    }
  }
  EXPECT_TRUE(found) << log;
}

}  // namespace
}  // namespace gatehouse::testing
