// The AWS HTTP client over real loopback sockets: an in-process Beast
// server (plain or TLS with certificates made at test time) answers.
#include "aws/http_client.hpp"

#include "support_test_server.hpp"
#include "support_tls_files.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::aws {
namespace {

using testing::received_request;
using testing::scripted_reply;
using testing::test_server;
using then_what = scripted_reply::then_what;

endpoint plain_endpoint(unsigned short port, std::string host = "127.0.0.1") {
  endpoint ep;
  ep.tls = false;
  ep.host = std::move(host);
  ep.port = port;
  return ep;
}

endpoint tls_endpoint(unsigned short port, std::string host) {
  endpoint ep;
  ep.tls = true;
  ep.host = std::move(host);
  ep.port = port;
  return ep;
}

http_request get(std::string path) {
  http_request req;
  req.path = std::move(path);
  return req;
}

scripted_reply ok(std::string body = "ok") {
  scripted_reply r;
  r.body = std::move(body);
  return r;
}

// A port with nothing listening: bound once to learn a free one, then closed.
unsigned short closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// What the send threw: the transport_error's text, or a failure marker.
template <class F>
std::string transport_error_of(F&& call) {
  try {
    call();
  } catch (const transport_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<other exception: ") + e.what() + ">";
  }
  return "<no exception>";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(http_client, round_trip_carries_method_path_query_headers_and_a_1mib_body) {
  std::string big(1024 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + 7) % 256);
  test_server server([](const received_request& r) {
    scripted_reply reply;
    reply.status = 201;
    reply.headers = {{"X-Amz-Request-Id", "req-1"}, {"ETag", "\"abc\""}};
    reply.body = r.body;  // echoed
    return reply;
  });
  http_client client;
  http_request req;
  req.method = "PUT";
  req.path = "/bucket/a%20key/%E2%9C%93";
  req.query = "x=1&y=a%2Fb&x=2";
  req.headers = {{"X-Amz-Meta-Owner", "u1"}, {"Content-Type", "image/png"}};
  req.body = big;

  const auto res = client.send(plain_endpoint(server.port()), req);

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[0].target, "/bucket/a%20key/%E2%9C%93?x=1&y=a%2Fb&x=2");
  EXPECT_EQ(seen[0].header("x-amz-meta-owner"), "u1");
  EXPECT_EQ(seen[0].header("content-type"), "image/png");
  EXPECT_EQ(seen[0].header("content-length"), std::to_string(big.size()));
  EXPECT_EQ(seen[0].header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_TRUE(seen[0].body == big);
  EXPECT_EQ(res.status, 201);
  EXPECT_EQ(res.header("x-amz-request-id"), "req-1");  // names come back lower case
  EXPECT_EQ(res.header("etag"), "\"abc\"");
  EXPECT_FALSE(res.header("X-Amz-Request-Id").has_value());
  EXPECT_TRUE(res.body == big);
}

TEST(http_client, base_path_is_prefixed_and_host_and_length_come_from_the_client) {
  test_server server([](const received_request&) { return ok(); });
  http_client client;
  auto ep = plain_endpoint(server.port(), "localhost");
  ep.base_path = "/prefix";
  http_request req;
  req.method = "POST";
  req.path = "/";
  req.headers = {{"Host", "evil.example"}, {"Content-Length", "999"}};

  const auto res = client.send(ep, req);

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(seen[0].target, "/prefix/");
  EXPECT_EQ(seen[0].header("host"), "localhost:" + std::to_string(server.port()));
  EXPECT_EQ(seen[0].header("content-length"), "0");  // an empty POST still states its length
}

TEST(http_client, head_response_with_a_length_and_no_body_returns_at_once) {
  test_server server([](const received_request&) {
    auto reply = ok("12345");
    reply.headers = {{"Content-Type", "image/jpeg"}};
    return reply;
  });
  http_client client;
  http_request req;
  req.method = "HEAD";
  req.path = "/obj";

  const auto res = client.send(plain_endpoint(server.port()), req);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.header("content-length"), "5");
  EXPECT_EQ(res.header("content-type"), "image/jpeg");
  EXPECT_EQ(res.body, "");
  // The connection stayed usable: the next request rides on it.
  EXPECT_EQ(client.send(plain_endpoint(server.port()), get("/next")).body, "12345");
  EXPECT_EQ(server.connections(), 1u);
}

TEST(http_client, keep_alive_reuses_one_connection_for_sequential_requests) {
  test_server server([](const received_request& r) { return ok(r.target); });
  http_client client;
  for (int i = 0; i < 10; ++i) {
    const auto res = client.send(plain_endpoint(server.port()), get("/n/" + std::to_string(i)));
    EXPECT_EQ(res.body, "/n/" + std::to_string(i));
  }
  EXPECT_EQ(server.connections(), 1u);
  EXPECT_EQ(server.requests().size(), 10u);
}

TEST(http_client, server_closing_an_idle_connection_is_survived) {
  test_server server([](const received_request& r) {
    auto reply = ok(r.target);
    if (r.connection == 1) reply.then = then_what::close_after_reply;  // as an idle timeout would
    return reply;
  });
  http_client client;
  EXPECT_EQ(client.send(plain_endpoint(server.port()), get("/first")).body, "/first");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the close arrive
  EXPECT_EQ(client.send(plain_endpoint(server.port()), get("/second")).body, "/second");
  EXPECT_EQ(server.connections(), 2u);
}

TEST(http_client, reused_connection_dropped_before_any_answer_is_retried_once_on_a_fresh_one) {
  test_server server([](const received_request& r) {
    auto reply = ok(r.target);
    // The second request on the first connection meets a server that had
    // just decided to close it: no answer at all.
    if (r.connection == 1 && r.index_on_connection == 2) reply.then = then_what::close_without_reply;
    return reply;
  });
  http_client client;
  EXPECT_EQ(client.send(plain_endpoint(server.port()), get("/one")).body, "/one");
  EXPECT_EQ(client.send(plain_endpoint(server.port()), get("/two")).body, "/two");

  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].target, "/two");
  EXPECT_EQ(seen[2].target, "/two");
  EXPECT_EQ(seen[2].connection, 2u);
  EXPECT_EQ(server.connections(), 2u);
}

TEST(http_client, the_retry_after_a_dropped_reused_connection_happens_only_once) {
  test_server server([](const received_request& r) {
    auto reply = ok();
    if (!(r.connection == 1 && r.index_on_connection == 1)) reply.then = then_what::close_without_reply;
    return reply;
  });
  http_client client;
  EXPECT_EQ(client.send(plain_endpoint(server.port()), get("/one")).status, 200);
  const auto message = transport_error_of([&] { client.send(plain_endpoint(server.port()), get("/two")); });
  EXPECT_TRUE(contains(message, "127.0.0.1")) << message;
  EXPECT_EQ(server.requests().size(), 3u);  // the first, then /two twice: never a third time
  EXPECT_EQ(server.connections(), 2u);
}

TEST(http_client, a_fresh_connection_dropped_before_any_answer_is_not_retried) {
  test_server server([](const received_request&) {
    auto reply = ok();
    reply.then = then_what::close_without_reply;
    return reply;
  });
  http_client client;
  const auto message = transport_error_of([&] { client.send(plain_endpoint(server.port()), get("/")); });
  EXPECT_TRUE(contains(message, "no response from 127.0.0.1:" + std::to_string(server.port()))) << message;
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.connections(), 1u);
}

TEST(http_client, concurrent_requests_from_eight_threads_each_get_their_own_answer) {
  test_server server([](const received_request& r) { return ok(r.target + "|" + r.body); });
  http_client client;
  constexpr int threads = 8, per_thread = 25;
  std::atomic<int> right{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        http_request req;
        req.method = "POST";
        req.path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        req.body = std::string(static_cast<std::size_t>(100 + i), static_cast<char>('a' + t));
        try {
          const auto res = client.send(plain_endpoint(server.port()), req);
          if (res.status == 200 && res.body == req.path + "|" + req.body) ++right;
        } catch (const std::exception&) {
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(right.load(), threads * per_thread);
  EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(threads * per_thread));
  // Each thread holds one connection at a time and the pool keeps them all.
  EXPECT_LE(server.connections(), static_cast<std::size_t>(threads));
}

TEST(http_client, response_larger_than_the_limit_is_a_transport_error) {
  test_server server([](const received_request&) { return ok(std::string(4096, 'x')); });
  http_client_options options;
  options.max_response_bytes = 1024;
  http_client client(options);
  const auto message = transport_error_of([&] { client.send(plain_endpoint(server.port()), get("/")); });
  EXPECT_TRUE(contains(message, "exceeds 1024 bytes")) << message;
  EXPECT_FALSE(contains(message, "xxxx")) << message;  // never the body
}

TEST(http_client, a_server_that_never_answers_is_given_up_on_near_the_request_timeout) {
  test_server server([](const received_request&) {
    scripted_reply reply;
    reply.then = then_what::never_answer;
    return reply;
  });
  http_client_options options;
  options.request_timeout = std::chrono::milliseconds(300);
  http_client client(options);
  const auto start = std::chrono::steady_clock::now();
  const auto message = transport_error_of([&] { client.send(plain_endpoint(server.port()), get("/")); });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(contains(message, "timed out")) << message;
  EXPECT_LT(elapsed, 5 * options.request_timeout);  // generous: it returned, it did not hang
}

TEST(http_client, nothing_listening_is_a_transport_error_naming_the_host) {
  const auto port = closed_port();
  http_client client;
  const auto message = transport_error_of([&] { client.send(plain_endpoint(port), get("/")); });
  EXPECT_TRUE(contains(message, "cannot connect to 127.0.0.1:" + std::to_string(port))) << message;
}

TEST(http_client, header_values_with_line_breaks_are_refused_before_sending) {
  test_server server([](const received_request&) { return ok(); });
  http_client client;
  auto req = get("/");
  req.headers = {{"X-Evil", "a\r\nInjected: yes"}};
  EXPECT_THROW(client.send(plain_endpoint(server.port()), req), std::invalid_argument);
  auto bad_method = get("/");
  bad_method.method = "GET /x HTTP/1.1\r\n";
  EXPECT_THROW(client.send(plain_endpoint(server.port()), bad_method), std::invalid_argument);
  EXPECT_EQ(server.connections(), 0u);
}

TEST(find_ca_bundle, prefers_a_readable_ssl_cert_file) {
  auto files = testing::make_tls_files();
  EXPECT_EQ(find_ca_bundle(files->ca_cert.string()), files->ca_cert);
}

TEST(find_ca_bundle, falls_back_to_the_system_bundles_in_order) {
  std::optional<std::filesystem::path> expected;
  for (const char* p : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"}) {
    if (std::filesystem::is_regular_file(p)) {
      expected = p;
      break;
    }
  }
  EXPECT_EQ(find_ca_bundle("/nonexistent/gatehouse/ca.pem"), expected);
  EXPECT_EQ(find_ca_bundle(std::string()), expected);
  EXPECT_EQ(find_ca_bundle(std::nullopt), expected);
}

// TLS: one set of certificates for the whole suite.
class http_client_tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { files_ = testing::make_tls_files().release(); }
  static void TearDownTestSuite() {
    delete files_;
    files_ = nullptr;
  }

  static http_client_options trusting_test_ca() {
    http_client_options options;
    options.ca_file = files_->ca_cert;
    return options;
  }

  static testing::tls_files* files_;
};
testing::tls_files* http_client_tls::files_ = nullptr;

TEST_F(http_client_tls, trusted_ca_and_matching_name_work_by_name_with_sni) {
  test_server server([](const received_request& r) { return ok(r.target); },
                     testing::server_tls{files_->server_cert, files_->server_key});
  http_client client(trusting_test_ca());
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(client.send(tls_endpoint(server.port(), "localhost"), get("/x")).body, "/x");
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].sni, "localhost");
  EXPECT_EQ(server.connections(), 1u);  // kept alive over TLS too
}

TEST_F(http_client_tls, trusted_ca_and_matching_ip_work_without_sni) {
  test_server server([](const received_request& r) { return ok(r.target); },
                     testing::server_tls{files_->server_cert, files_->server_key});
  http_client client(trusting_test_ca());
  EXPECT_EQ(client.send(tls_endpoint(server.port(), "127.0.0.1"), get("/ip")).body, "/ip");
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].sni, "");  // no SNI for an IP literal
}

TEST_F(http_client_tls, a_certificate_for_another_name_is_refused) {
  test_server server([](const received_request&) { return ok(); },
                     testing::server_tls{files_->wrong_cert, files_->wrong_key});
  http_client client(trusting_test_ca());
  const auto by_name =
      transport_error_of([&] { client.send(tls_endpoint(server.port(), "localhost"), get("/")); });
  EXPECT_TRUE(contains(by_name, "TLS handshake with localhost:")) << by_name;
  EXPECT_TRUE(contains(by_name, "hostname mismatch")) << by_name;
  const auto by_ip =
      transport_error_of([&] { client.send(tls_endpoint(server.port(), "127.0.0.1"), get("/")); });
  EXPECT_TRUE(contains(by_ip, "IP address mismatch")) << by_ip;
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(http_client_tls, an_untrusted_self_signed_certificate_is_refused) {
  test_server server([](const received_request&) { return ok(); },
                     testing::server_tls{files_->self_cert, files_->self_key});
  http_client client(trusting_test_ca());
  const auto message =
      transport_error_of([&] { client.send(tls_endpoint(server.port(), "localhost"), get("/")); });
  EXPECT_TRUE(contains(message, "TLS handshake with localhost:")) << message;
  EXPECT_TRUE(contains(message, "self-signed certificate")) << message;
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(http_client_tls, the_system_bundle_does_not_trust_the_test_ca) {
  test_server server([](const received_request&) { return ok(); },
                     testing::server_tls{files_->server_cert, files_->server_key});
  http_client client;  // CA bundle found at first TLS use
  const auto message =
      transport_error_of([&] { client.send(tls_endpoint(server.port(), "localhost"), get("/")); });
  EXPECT_TRUE(contains(message, "TLS")) << message;  // refused in the handshake, or no bundle at all
  EXPECT_TRUE(server.requests().empty());
}

}  // namespace
}  // namespace gatehouse::aws
