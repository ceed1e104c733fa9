// Hostile clients against the real local server (issue 6): oversized and
// smuggled framing, slowloris and half-open connections, a connection burst,
// hostile JSON, path traversal in /files, header injection through
// x-request-id, pipelining past a refusal, and hostile multipart bodies.
// Each test ends by checking that the server still answers correctly.
// server_test.cpp covers the basics (431 for one big header, malformed
// requests, three pipelined requests, the idle header timeout); this goes further.
#include "support/backend.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"
#include "support/raw_connection.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace gatehouse::testing {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Hang detection only: far beyond anything a healthy server needs.
constexpr auto generous = 20s;

std::string unique_email(const std::string& tag) {
  static std::atomic<int> counter{0};
  return tag + "-" + std::to_string(counter++) + "@example.com";
}

std::string signup_json(const std::string& email, const std::string& password = "password123") {
  return R"({"name":"Test User","email":")" + email + R"(","password":")" + password + "\"}";
}

// A complete, valid signup as raw bytes: what a smuggled request looks like.
std::string signup_request(const std::string& email) {
  const std::string body = signup_json(email);
  return "POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// What every test ends with: the process lives, answers /health and signs
// up and logs in a brand-new user.
void expect_still_serving(const gatehouse_process& server) {
  int status = 0;
  ASSERT_EQ(::waitpid(server.pid(), &status, WNOHANG), 0) << "the server exited: " << server.log_text();
  http_client c(server.port());
  EXPECT_EQ(c.get("/health").status, 200);
  EXPECT_NO_THROW(sign_up_and_log_in(c, unique_email("alive")));
}

// True when no account has `email`: its signup now succeeds (and makes one).
bool never_created(http_client& c, const std::string& email) {
  return c.post_json("/signup", signup_json(email)).status == 201;
}

// How many users the store holds, seen by a signed-in user (GET /users
// shows nobody else's e-mail).
std::size_t stored_users(http_client& c, const std::string& token) {
  const auto r = c.get("/users?limit=100", {{"authorization", "Bearer " + token}});
  if (r.status != 200) throw std::runtime_error("GET /users: " + r.body);
  const auto v = parse_json(r.body);
  if (!v.at("next_cursor").is_null()) throw std::runtime_error("more than 100 users");
  return v.at("users").as_array().size();
}

// True when an account has `email`: a sign-up with it is refused (and makes none).
bool is_taken(http_client& c, const std::string& email) {
  const auto r = c.post_json("/signup", signup_json(email));
  return r.status == 409 && error_code_of(r) == "email_taken";
}

// Sends `bytes` on a fresh connection; what came back until the server closed.
struct exchange_result {
  std::vector<raw_response> responses;
  bool closed = false;
  std::string bytes;
};
exchange_result exchange(unsigned short port, const std::string& bytes) {
  raw_connection c(port);
  c.send(bytes);
  c.read_until_closed(generous);
  return {split_responses(c.received()), c.closed(), c.received()};
}

std::string error_code_in(const raw_response& r) {
  http_result h;
  h.body = r.body;
  return error_code_of(h);
}

std::string random_hex(std::size_t bytes) {
  std::random_device rd;
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) out += static_cast<char>(rd() & 0xff);
  return hex_of(out);
}

// ---------------------------------------------------------------- framing

TEST(adversarial, content_length_with_transfer_encoding_is_400_and_the_smuggled_request_never_runs) {
  gatehouse_process server;
  http_client c(server.port());
  const std::string cl_first = unique_email("smuggled-cl-te");
  const std::string te_first = unique_email("smuggled-te-cl");
  const std::string tail_a = signup_request(cl_first);
  const std::string tail_b = signup_request(te_first);
  // A server that believed Content-Length would read the tail as body (a);
  // one that believed the chunked coding would run it as a request (a, b).
  const std::string attacks[] = {
      "POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
          std::to_string(5 + tail_a.size()) + "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + tail_a,
      "POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 5\r\n\r\n0\r\n\r\n" + tail_b};
  for (const auto& attack : attacks) {
    const auto r = exchange(server.port(), attack);
    ASSERT_EQ(r.responses.size(), 1u) << r.bytes;
    EXPECT_EQ(r.responses[0].status, 400);
    EXPECT_EQ(error_code_in(r.responses[0]), "bad_request");
    EXPECT_TRUE(r.closed) << "the connection must close after a framing error";
  }
  EXPECT_TRUE(never_created(c, cl_first));
  EXPECT_TRUE(never_created(c, te_first));
  expect_still_serving(server);
}

// Regression: Beast reads a request body as empty when the last transfer
// coding is not chunked, so the body's bytes became the next request
// (answered 415, then a second response for the "smuggled" bytes).
TEST(adversarial, transfer_encoding_not_ending_in_chunked_is_400_and_closes) {
  gatehouse_process server;
  http_client c(server.port());
  std::vector<std::string> smuggled;
  for (const std::string coding : {"gzip", "chunked, gzip", "xchunked", "identity", "chunked;q=1"}) {
    smuggled.push_back(unique_email("smuggled-te"));
    const auto r = exchange(server.port(), "POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                           "Transfer-Encoding: " + coding + "\r\n\r\n" + signup_request(smuggled.back()));
    ASSERT_EQ(r.responses.size(), 1u) << coding << ": " << r.bytes;
    EXPECT_EQ(r.responses[0].status, 400) << coding;
    EXPECT_EQ(error_code_in(r.responses[0]), "bad_request") << coding;
    EXPECT_TRUE(r.closed) << coding;
  }
  // HTTP/1.0 has no transfer codings (RFC 9112 6.1): even "chunked" is refused.
  smuggled.push_back(unique_email("smuggled-10"));
  const auto old = exchange(server.port(), "POST /signup HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n"
                                           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                                           "0\r\n\r\n" + signup_request(smuggled.back()));
  ASSERT_EQ(old.responses.size(), 1u) << old.bytes;
  EXPECT_EQ(old.responses[0].status, 400);
  EXPECT_TRUE(old.closed);
  for (const auto& email : smuggled) EXPECT_TRUE(never_created(c, email)) << email;
  expect_still_serving(server);
}

TEST(adversarial, conflicting_or_malformed_content_lengths_are_400_and_close) {
  gatehouse_process server;
  http_client c(server.port());
  std::vector<std::string> smuggled;
  for (const std::string fields : {"Content-Length: 2\r\nContent-Length: 300", "Content-Length: 300\r\nContent-Length: 2",
                                   "Content-Length: 2, 300", "Content-Length: +2", "Content-Length: -2",
                                   "Content-Length: 0x2", "Content-Length: 2 2", "Content-Length: 99999999999999999999999",
                                   "Content-Length:"}) {
    smuggled.push_back(unique_email("smuggled-cl"));
    const std::string tail = signup_request(smuggled.back());
    const auto r = exchange(server.port(), "POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
                                               fields + "\r\n\r\n{}" + tail + std::string(300, ' '));
    ASSERT_EQ(r.responses.size(), 1u) << fields << ": " << r.bytes;
    EXPECT_EQ(r.responses[0].status, 400) << fields;
    EXPECT_EQ(error_code_in(r.responses[0]), "bad_request") << fields;
    EXPECT_TRUE(r.closed) << fields;
  }
  for (const auto& email : smuggled) EXPECT_TRUE(never_created(c, email)) << email;

  // Repeats of one value are one Content-Length (RFC 9110 8.6): the body is
  // "{}" exactly, validated as such, and the connection stays usable.
  raw_connection same(server.port());
  same.send("POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            "Content-Length: 2\r\n\r\n{}GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  same.read_until_closed(generous);
  const auto both = split_responses(same.received());
  ASSERT_EQ(both.size(), 2u) << same.received();
  EXPECT_EQ(both[0].status, 400);
  EXPECT_EQ(error_code_in(both[0]), "validation_failed");
  EXPECT_EQ(both[1].status, 200);
  expect_still_serving(server);
}

TEST(adversarial, invalid_chunk_sizes_are_refused_and_close) {
  gatehouse_process server;
  struct chunk_case {
    std::string body;
    int status;
    const char* code;
  };
  const chunk_case cases[] = {
      {"zz\r\n{}\r\n0\r\n\r\n", 400, "bad_request"},
      {"-2\r\n{}\r\n0\r\n\r\n", 400, "bad_request"},
      {"0x2\r\n{}\r\n0\r\n\r\n", 400, "bad_request"},
      {"ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n", 400, "bad_request"},  // overflows 64 bits
      {"2\r\n{}XX0\r\n\r\n", 400, "bad_request"},                        // no CRLF after the data
      {"2 \r\n{}\r\n0\r\n\r\n", 400, "bad_request"},
      {"\r\n{}\r\n0\r\n\r\n", 400, "bad_request"},                       // no size at all
      {"2;" + std::string(200000, 'e') + "\r\n{}\r\n0\r\n\r\n", 400, "bad_request"},  // endless extension
      {"2\r\n{}\r\n0\r\nX-Trailer: " + std::string(200000, 't') + "\r\n\r\n", 400, "bad_request"},
      {"ffffffffffffffff\r\n{}\r\n0\r\n\r\n", 413, "payload_too_large"},  // one chunk beyond the route limit
      {"10001\r\n" + std::string(0x10001, 'x') + "\r\n0\r\n\r\n", 413, "payload_too_large"},
  };
  for (const auto& k : cases) {
    const auto r = exchange(server.port(), "POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                           "Transfer-Encoding: chunked\r\n\r\n" + k.body +
                                               "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string shown = k.body.substr(0, 24);
    ASSERT_EQ(r.responses.size(), 1u) << shown << ": " << r.bytes.substr(0, 600);
    EXPECT_EQ(r.responses[0].status, k.status) << shown;
    EXPECT_EQ(error_code_in(r.responses[0]), k.code) << shown;
    EXPECT_TRUE(r.closed) << shown;
  }
  expect_still_serving(server);
}

TEST(adversarial, chunked_bodies_over_the_route_limit_are_413) {
  gatehouse_process server(std::map<std::string, std::string>{{"MAX_IMAGE_BYTES", "1024"}});
  http_client c(server.port());
  const auto user = sign_up_and_log_in(c, unique_email("chunky"));
  std::string tiny_chunks;  // 70,000 chunks of one byte: no single chunk is large
  for (int i = 0; i < 70000; ++i) tiny_chunks += "1\r\na\r\n";
  const std::string big_chunks = "a000\r\n" + std::string(0xa000, 'a') + "\r\na000\r\n" + std::string(0xa000, 'a') + "\r\n";
  for (const auto& chunks : {tiny_chunks, big_chunks}) {
    const auto r = exchange(server.port(), "POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                           "Transfer-Encoding: chunked\r\n\r\n" + chunks + "0\r\n\r\n");
    ASSERT_EQ(r.responses.size(), 1u) << r.bytes.substr(0, 300);
    EXPECT_EQ(r.responses[0].status, 413);
    EXPECT_EQ(error_code_in(r.responses[0]), "payload_too_large");
    EXPECT_TRUE(r.closed);
  }
  // The upload route's limit is MAX_IMAGE_BYTES plus 64 KiB of framing.
  std::string upload_chunks;
  for (int i = 0; i < 80; ++i) upload_chunks += "400\r\n" + std::string(1024, 'u') + "\r\n";
  const auto up = exchange(server.port(), "POST /upload_profile_pic HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                              user.token + "\r\nContent-Type: multipart/form-data; boundary=" +
                                              test_boundary + "\r\nTransfer-Encoding: chunked\r\n\r\n" + upload_chunks +
                                              "0\r\n\r\n");
  ASSERT_EQ(up.responses.size(), 1u) << up.bytes.substr(0, 300);
  EXPECT_EQ(up.responses[0].status, 413);
  EXPECT_EQ(error_code_in(up.responses[0]), "payload_too_large");
  EXPECT_EQ(count_objects((server.data_dir() / "data").string(), "profile-images/" + user.user_id + "/"), 0u);
  expect_still_serving(server);
}

// ---------------------------------------------------------------- sizes

TEST(adversarial, a_100_kb_request_line_or_10000_headers_are_431_and_close) {
  gatehouse_process server;
  const std::string attacks[] = {
      "GET /" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /health?" + std::string(100 * 1024, 'q') + " HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /signup?" + std::string(100 * 1024, '%') + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
  };
  for (const auto& attack : attacks) {
    const auto r = exchange(server.port(), attack);
    ASSERT_EQ(r.responses.size(), 1u) << r.bytes.substr(0, 300);
    EXPECT_EQ(r.responses[0].status, 431);
    EXPECT_EQ(error_code_in(r.responses[0]), "header_fields_too_large");
    EXPECT_TRUE(r.closed);
  }
  std::string many = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 10000; ++i) many += "a: b\r\n";
  const auto r = exchange(server.port(), many + "\r\n");
  ASSERT_EQ(r.responses.size(), 1u) << r.bytes.substr(0, 300);
  EXPECT_EQ(r.responses[0].status, 431);
  EXPECT_TRUE(r.closed);
  expect_still_serving(server);
}

TEST(adversarial, a_json_body_over_64_kib_is_refused_from_its_content_length_before_it_is_sent) {
  gatehouse_process server;
  // Only the head goes out: the answer cannot depend on reading the body.
  for (const std::string extra : {"", "Expect: 100-continue\r\n"}) {
    raw_connection c(server.port());
    c.send("POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n" +
           extra + "\r\n");
    c.read_until_closed(generous);
    const auto responses = split_responses(c.received());
    ASSERT_EQ(responses.size(), 1u) << c.received();
    EXPECT_EQ(responses[0].status, 413);
    EXPECT_EQ(error_code_in(responses[0]), "payload_too_large");
    EXPECT_EQ(c.received().find("100 Continue"), std::string::npos) << "never invite a body that will be refused";
    EXPECT_TRUE(c.closed());
  }
  // One byte over 64 KiB, really sent: the same answer.
  const std::string body = R"({"name":")" + std::string(64 * 1024 - 10, 'n') + "\"}";
  ASSERT_EQ(body.size(), 64u * 1024 + 1);
  const auto r = exchange(server.port(), "POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_EQ(r.responses.size(), 1u);
  EXPECT_EQ(r.responses[0].status, 413);
  EXPECT_EQ(error_code_in(r.responses[0]), "payload_too_large");
  EXPECT_TRUE(r.closed);
  expect_still_serving(server);
}

TEST(adversarial, an_upload_over_max_image_bytes_is_413_and_stores_nothing) {
  gatehouse_process server(std::map<std::string, std::string>{{"MAX_IMAGE_BYTES", "1024"}});
  http_client c(server.port());
  const auto user = sign_up_and_log_in(c, unique_email("big-upload"));
  // A real PNG padded past the limit, inside the route's framing allowance.
  const std::string big_png = sample_png() + std::string(2048, '\0');
  const auto r = c.send("POST", "/upload_profile_pic", multipart_body({{"image", "me.png", "image/png", big_png}}),
                        multipart_headers(user.token));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(error_code_of(r), "payload_too_large");
  // A declared length beyond the framing allowance: refused from the head alone.
  raw_connection raw(server.port());
  raw.send("POST /upload_profile_pic HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + user.token +
           "\r\nContent-Type: multipart/form-data; boundary=" + test_boundary + "\r\nContent-Length: 10485760\r\n\r\n");
  raw.read_until_closed(generous);
  const auto refused = split_responses(raw.received());
  ASSERT_EQ(refused.size(), 1u) << raw.received();
  EXPECT_EQ(refused[0].status, 413);
  EXPECT_EQ(error_code_in(refused[0]), "payload_too_large");
  EXPECT_TRUE(raw.closed());

  const auto me = c.get("/users/me", {{"authorization", "Bearer " + user.token}});
  EXPECT_TRUE(parse_json(me.body).at("user").at("profile_image").is_null());
  EXPECT_EQ(count_objects((server.data_dir() / "data").string(), "profile-images/" + user.user_id + "/"), 0u);
  expect_still_serving(server);
}

// The server waits for the rest of a body (up to its 60 s body timeout),
// never acting on a prefix; when the client gives up, the connection ends
// without a response and nothing is stored.
TEST(adversarial, a_body_shorter_than_its_content_length_is_never_processed) {
  gatehouse_process server;
  http_client c(server.port());
  const std::string email = unique_email("short-body");
  const std::string body = signup_json(email);  // complete JSON, yet fewer bytes than declared
  raw_connection stalled(server.port());
  stalled.send("POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size() + 100) + "\r\n\r\n" + body);
  stalled.read_for(1500ms);
  EXPECT_EQ(stalled.received(), "") << "a response before the declared body arrived";
  EXPECT_FALSE(stalled.closed());
  // Others are served meanwhile.
  EXPECT_EQ(c.get("/health").status, 200);
  EXPECT_NO_THROW(sign_up_and_log_in(c, unique_email("meanwhile")));
  stalled.shutdown_write();
  stalled.read_until_closed(generous);
  EXPECT_TRUE(stalled.closed());
  EXPECT_EQ(stalled.received(), "");
  EXPECT_TRUE(never_created(c, email));
  expect_still_serving(server);
}

// ---------------------------------------------------------------- slow and half-open clients

TEST(adversarial, slowloris_connections_are_cut_off_by_the_header_timeout_while_others_are_served) {
  gatehouse_process server;
  constexpr int slow_count = 8;
  // Never finishes its headers; at one byte a second it would take minutes.
  const std::string trickle = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'a');
  std::vector<raw_connection> slow;
  for (int i = 0; i < slow_count; ++i) slow.emplace_back(server.port());

  struct outcome {
    bool closed = false;
    std::size_t sent = 0;
    std::string received;
  };
  std::vector<outcome> outcomes(slow_count);
  std::atomic<int> closed_count{0};
  std::thread trickler([&] {
    const auto deadline = std::chrono::steady_clock::now() + 60s;  // the header timeout is 10 s
    while (closed_count < slow_count && std::chrono::steady_clock::now() < deadline) {
      for (int i = 0; i < slow_count; ++i) {
        auto& o = outcomes[i];
        if (o.closed) continue;
        if (slow[i].peer_closed_now()) {
          o.closed = true;
          o.received = slow[i].received();
          ++closed_count;
          continue;
        }
        if (o.sent < trickle.size() && slow[i].send(trickle.substr(o.sent, 1))) ++o.sent;
      }
      std::this_thread::sleep_for(1s);
    }
  });

  // Ordinary clients while the slow ones hold their connections.
  http_client c(server.port());
  int health = 0;
  for (int i = 0; i < 5; ++i) health += c.get("/health").status == 200;
  bool round_trips = true;
  for (int i = 0; i < 2; ++i) {
    try {
      sign_up_and_log_in(c, unique_email("beside-slowloris"));
    } catch (const std::exception&) {
      round_trips = false;
    }
  }
  const int closed_while_serving = closed_count;
  trickler.join();

  EXPECT_EQ(health, 5);
  EXPECT_TRUE(round_trips);
  EXPECT_EQ(closed_while_serving, 0) << "the ordinary requests ran after the slow connections were already cut";
  for (int i = 0; i < slow_count; ++i) {
    EXPECT_TRUE(outcomes[i].closed) << "slow connection " << i << " still open after 60 s";
    EXPECT_LT(outcomes[i].sent, trickle.size());
    EXPECT_EQ(outcomes[i].received.find("HTTP/1.1 200"), std::string::npos) << outcomes[i].received;
  }
  expect_still_serving(server);
}

TEST(adversarial, half_open_connections_are_closed_without_acting) {
  gatehouse_process server;
  http_client c(server.port());
  const std::string by_length = unique_email("half-open-cl");
  const std::string by_chunks = unique_email("half-open-chunked");
  const std::string body_cl = signup_json(by_length);
  const std::string body_chunked = signup_json(by_chunks);
  const std::string halves[] = {
      "",  // connect, then FIN at once
      "GET /health HTTP/1.1\r\nHo",
      "POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
          std::to_string(body_cl.size()) + "\r\n\r\n" + body_cl.substr(0, body_cl.size() - 1),
      "POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
          (std::stringstream() << std::hex << body_chunked.size()).str() + "\r\n" + body_chunked + "\r\n",  // no last chunk
  };
  std::vector<raw_connection> conns;
  for (const auto& half : halves) {
    conns.emplace_back(server.port());
    conns.back().send(half);
    conns.back().shutdown_write();
  }
  for (std::size_t i = 0; i < conns.size(); ++i) {
    conns[i].read_until_closed(generous);
    EXPECT_TRUE(conns[i].closed()) << "half-open connection " << i << " was left open";
    for (const auto& r : split_responses(conns[i].received()))
      EXPECT_GE(r.status, 400) << "half-open connection " << i << " got " << r.status;
  }
  EXPECT_TRUE(never_created(c, by_length));
  EXPECT_TRUE(never_created(c, by_chunks));
  expect_still_serving(server);
}

// ---------------------------------------------------------------- connection burst

std::size_t open_descriptors(int pid) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    ++n;
  return n;
}

TEST(adversarial, ten_thousand_connections_in_a_burst_leak_nothing) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  constexpr std::size_t batch = 250;  // well under the listen backlog and our descriptor limit
  ASSERT_GE(lim.rlim_cur, batch + 64);

  gatehouse_process server;
  {
    http_client warm(server.port());  // the store's descriptors, opened on first use
    sign_up_and_log_in(warm, unique_email("before-burst"));
  }
  const std::size_t baseline = open_descriptors(server.pid());
  ASSERT_GT(baseline, 0u);

  // Four ways to leave: FIN at once, reset at once, half a request then a
  // reset, a whole request then FIN without reading the answer.
  for (std::size_t done = 0; done < 10000; done += batch) {
    std::vector<raw_connection> conns;
    conns.reserve(batch);
    for (std::size_t i = 0; i < batch; ++i) conns.emplace_back(server.port());
    for (std::size_t i = 0; i < batch; ++i) {
      switch (i % 4) {
        case 0: break;
        case 1: conns[i].abort(); break;
        case 2:
          conns[i].send("POST /signup HTTP/1.1\r\nHost: x\r\nContent-Le");
          conns[i].abort();
          break;
        case 3: conns[i].send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"); break;
      }
    }
  }  // the rest close here, batch by batch

  // Every connection's descriptor is given back.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::size_t now = open_descriptors(server.pid());
  while (now > baseline + 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    now = open_descriptors(server.pid());
  }
  EXPECT_LE(now, baseline + 4) << "descriptors before the burst: " << baseline << ", after: " << now;
  expect_still_serving(server);
}

// ---------------------------------------------------------------- hostile JSON

class adversarial_json : public ::testing::Test {
 protected:
  void SetUp() override { observer_ = sign_up_and_log_in(c_, "observer@example.com"); }
  // The request must be a 400 with `code` (and `field`, if given).
  void expect_refused(const std::string& target, const std::string& body, const std::string& code,
                      const std::string& field = "") {
    const auto r = c_.post_json(target, body);
    const std::string shown = body.substr(0, 80);
    EXPECT_EQ(r.status, 400) << shown << " -> " << r.body;
    EXPECT_EQ(error_code_of(r), code) << shown << " -> " << r.body;
    if (!field.empty()) {
      EXPECT_EQ(error_field_of(r), field) << shown;
    }
  }
  // Nothing but the observer (and `also`) was ever stored.
  void expect_store_holds_only(std::set<std::string> also = {}) {
    also.insert("observer@example.com");
    EXPECT_EQ(stored_users(c_, observer_.token), also.size());
    for (const auto& email : also) EXPECT_TRUE(is_taken(c_, email)) << email;
  }
  gatehouse_process server_;
  http_client c_{server_.port()};
  signed_in_user observer_;
};

TEST_F(adversarial_json, invalid_utf8_in_any_signup_field_is_invalid_json_and_stores_nothing) {
  using namespace std::string_literals;
  const std::string bad[] = {"\xff"s, "\xc3"s, "\xc0\xaf"s, "\xed\xa0\x80"s, "\xf4\x90\x80\x80"s, "\xf8\x88\x80\x80\x80"s,
                             "\x80"s};
  for (const auto& b : bad) {
    expect_refused("/signup", R"({"name":"Ad)" + b + R"(a","email":"u1@example.com","password":"password123"})",
                   "invalid_json");
    expect_refused("/signup", R"({"name":"Ada","email":"u)" + b + R"(2@example.com","password":"password123"})",
                   "invalid_json");
    expect_refused("/signup", R"({"name":"Ada","email":"u3@example.com","password":"pass)" + b + R"(word123"})",
                   "invalid_json");
    expect_refused("/signup", R"({"name":"Ada","email":"u4@example.com","password":"password123","n)" + b + R"(":1})",
                   "invalid_json");
  }
  // An escaped lone surrogate is no character either.
  expect_refused("/signup", R"({"name":"\ud800","email":"u5@example.com","password":"password123"})", "invalid_json");
  expect_refused("/signup", R"({"name":"\udc00x","email":"u6@example.com","password":"password123"})", "invalid_json");
  // Valid UTF-8, escaped or not, is a name like any other.
  EXPECT_EQ(c_.post_json("/signup", R"({"name":"Zo\u00eb Ren\u00e9e \ud83d\ude00","email":"zoe@example.com","password":"password123"})").status, 201);
  expect_store_holds_only({"zoe@example.com"});
  expect_still_serving(server_);
}

TEST_F(adversarial_json, nul_bytes_in_signup_fields_are_refused_naming_the_field) {
  using namespace std::string_literals;
  expect_refused("/signup", R"({"name":"Ada\u0000Admin","email":"n1@example.com","password":"password123"})",
                 "validation_failed", "name");
  expect_refused("/signup", R"({"name":"Ada","email":"n2@example.com\u0000.evil.com","password":"password123"})",
                 "validation_failed", "email");
  expect_refused("/signup", R"({"name":"Ada","email":"\u0000n3@example.com","password":"password123"})",
                 "validation_failed", "email");
  expect_refused("/signup", R"({"name":"Ada","email":"n4@example.com","password":"password123\u0000"})",
                 "validation_failed", "password");
  // Other controls: C0, DEL and C1 (U+0085) in a name.
  for (const std::string esc : {"\\u0001", "\\u001b", "\\u007f", "\\u0085", "\\u009f"})
    expect_refused("/signup", R"({"name":"Ada)" + esc + R"(","email":"n5@example.com","password":"password123"})",
                   "validation_failed", "name");
  // Raw NUL bytes are not JSON at all, inside a string or out.
  expect_refused("/signup", "{\"name\":\"Ada\0x\",\"email\":\"n6@example.com\",\"password\":\"password123\"}"s,
                 "invalid_json");
  expect_refused("/signup", "{\"name\":\"Ada\",\"email\":\"n7@example.com\",\"password\":\"password123\"}\0"s,
                 "invalid_json");
  expect_refused("/signup", "\0{\"name\":\"Ada\",\"email\":\"n8@example.com\",\"password\":\"password123\"}"s,
                 "invalid_json");

  // bcrypt stops at a NUL: "password123\0anything" must never log in as "password123".
  EXPECT_EQ(c_.post_json("/signup", signup_json("nul-login@example.com")).status, 201);
  const auto login = c_.post_json("/login", R"({"email":"nul-login@example.com","password":"password123\u0000anything"})");
  EXPECT_EQ(login.status, 401);
  EXPECT_EQ(error_code_of(login), "invalid_credentials");
  expect_store_holds_only({"nul-login@example.com"});
  expect_still_serving(server_);
}

// Regression: the DOM parser kept the last of two equal keys, so
// {"email":"a",...,"email":"b"} signed up b while a proxy, a WAF or a log
// reading the first saw a. A repeated key is now invalid_json.
TEST_F(adversarial_json, duplicate_keys_are_invalid_json) {
  expect_refused("/signup", R"({"name":"Ada","email":"d1@example.com","password":"password123","email":"d2@example.com"})",
                 "invalid_json");
  expect_refused("/signup", R"({"name":"Ada","email":"d3@example.com","password":"password123","\u0065mail":"d4@example.com"})",
                 "invalid_json");
  expect_refused("/signup", R"({"name":"Ada","name":"Eve","email":"d5@example.com","password":"password123"})",
                 "invalid_json");
  // Even inside a member nobody reads.
  expect_refused("/signup", R"({"name":"Ada","email":"d6@example.com","password":"password123","x":{"k":1,"k":2}})",
                 "invalid_json");
  // Equal keys in different objects are no repeat.
  EXPECT_EQ(c_.post_json("/signup", R"({"name":"Ada","email":"d7@example.com","password":"password123","x":{"email":1},"y":[{"email":2},{"email":3}]})").status,
            201);
  // Login with the right password as the last of two.
  expect_refused("/login", R"({"email":"d7@example.com","password":"wrong-password","password":"password123"})",
                 "invalid_json");
  expect_store_holds_only({"d7@example.com"});
  expect_still_serving(server_);
}

TEST_F(adversarial_json, nesting_10000_deep_is_invalid_json) {
  const std::string arrays = std::string(10000, '[') + std::string(10000, ']');
  std::string objects;
  for (int i = 0; i < 10000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(10000, '}');
  std::string mixed;
  for (int i = 0; i < 5000; ++i) mixed += "[{\"a\":";
  mixed += "1";
  for (int i = 0; i < 5000; ++i) mixed += "}]";
  for (const auto& deep : {arrays, objects, mixed}) {
    expect_refused("/signup", deep, "invalid_json");
    expect_refused("/signup", R"({"name":"Ada","email":"deep@example.com","password":"password123","x":)" + deep + "}",
                   "invalid_json");
    expect_refused("/signup", R"({"name":)" + deep + R"(,"email":"deep@example.com","password":"password123"})",
                   "invalid_json");
    // Unclosed: only the opening half.
    expect_refused("/login", deep.substr(0, deep.size() / 2), "invalid_json");
  }
  expect_store_holds_only();
  expect_still_serving(server_);
}

// Regression: a 10,000-digit number (or 1e99999) was read as Infinity and,
// in a member nobody reads, let the signup through. Numbers longer than 64
// characters or beyond a double are now invalid_json.
TEST_F(adversarial_json, numbers_with_10000_digits_are_invalid_json) {
  const std::string digits(10000, '9');
  const std::string numbers[] = {digits, "-" + digits, "0." + digits, "1" + std::string(9999, '0'), "1e99999",
                                 "-1e99999", "0." + std::string(9999, '0') + "1"};
  for (const auto& n : numbers) {
    expect_refused("/signup", R"({"name":"Ada","email":)" + n + R"(,"password":"password123"})", "invalid_json");
    expect_refused("/signup", R"({"name":"Ada","email":"num@example.com","password":"password123","age":)" + n + "}",
                   "invalid_json");
    expect_refused("/login", R"({"email":"observer@example.com","password":"correct horse battery","n":[)" + n + "]}",
                   "invalid_json");
  }
  // Ordinary numbers in an unused member are still fine, and a number where
  // a string belongs is the field's error.
  EXPECT_EQ(c_.post_json("/signup", R"({"name":"Ada","email":"num@example.com","password":"password123","age":36,"pi":3.14159e0})").status,
            201);
  expect_refused("/signup", R"({"name":"Ada","email":12345,"password":"password123"})", "validation_failed", "email");
  expect_store_holds_only({"num@example.com"});
  expect_still_serving(server_);
}

// ---------------------------------------------------------------- /files traversal

TEST(adversarial, traversal_keys_in_files_urls_never_serve_anything_outside_the_store) {
  if (current_backend() != backend_kind::embedded) GTEST_SKIP() << "the /files route exists on the embedded backend only";
  gatehouse_process server;
  http_client c(server.port());
  const auto user = sign_up_and_log_in(c, unique_email("traverse"));
  const auto up = c.send("POST", "/upload_profile_pic", multipart_body({{"image", "me.png", "image/png", sample_png()}}),
                         multipart_headers(user.token));
  ASSERT_EQ(up.status, 200) << up.body;
  const std::string url = path_of_url(std::string(parse_json(up.body).at("user").at("profile_image").as_string()));
  const std::string real_key = url.substr(std::string("/files/").size(), url.find('?') - std::string("/files/").size());

  // Secrets next to DATA_DIR, inside it, and inside the objects root.
  const fs::path root = server.data_dir();  // DATA_DIR is root/data
  const std::string secret = "PLANTED-SECRET-" + random_hex(16);
  for (const fs::path& p : {root / "planted.png", root / "data" / "planted.png", root / "data" / "objects" / "planted.png"}) {
    std::ofstream(p, std::ios::binary) << secret;
  }
  const std::string user_dir = "profile-images/" + user.user_id + "/";
  const std::string keys[] = {
      "../planted.png", "../../planted.png", "../../../planted.png", "planted.png", "objects/planted.png",
      "..%2fplanted.png", "..%2F..%2Fplanted.png", "%2e%2e/planted.png", "%2e%2e/%2e%2e/planted.png",
      "%2E%2E%2Fplanted.png", "%2E%2E%2F%2E%2E%2Fplanted.png", ".%2e/.%2e/planted.png",
      "%252e%252e%252fplanted.png", "%252E%252E%252F%252E%252E%252Fplanted.png", "..%252f..%252fplanted.png",
      "..\\planted.png", "..\\..\\planted.png", "%5c..%5c..%5cplanted.png", "....//planted.png", "..;/planted.png",
      user_dir + "../../../planted.png", user_dir + "../../../../planted.png", user_dir + "..%2f..%2f..%2fplanted.png",
      "profile-images%2f..%2f..%2fplanted.png", real_key + "/../../../../planted.png",
      user_dir + "../" + user.user_id + "/" + real_key.substr(user_dir.size()),  // resolves to the real key
      "/etc/passwd", "%2fetc%2fpasswd", "%2Fetc%2Fpasswd", "..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
      (root / "planted.png").string(), "%2f" + (root / "planted.png").string().substr(1),
      real_key + "%00", real_key + "%00.txt", "..%00/planted.png", "%00", real_key.substr(0, real_key.size() - 4) + "%2epng",
  };
  const std::string url_key = derived_key("gatehouse/file-urls/v1");
  const std::string expires = std::to_string(std::time(nullptr) + 600);
  const auto fetch = [&](const std::string& target) {
    return exchange(server.port(), "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  };
  const auto signed_target = [&](const std::string& key) {
    return "/files/" + key + "?expires=" + expires + "&sig=" + hex_of(hmac_sha256(url_key, "v1\n" + key + "\n" + expires));
  };

  // The control: the real key, signed here, is served; so the refusals
  // below are the key checks, not a signature mistake.
  const auto control = fetch(signed_target(real_key));
  ASSERT_EQ(control.responses.size(), 1u);
  ASSERT_EQ(control.responses[0].status, 200);
  EXPECT_EQ(control.responses[0].body, sample_png());

  for (const auto& key : keys) {
    const auto with_sig = fetch(signed_target(key));
    ASSERT_EQ(with_sig.responses.size(), 1u) << key << ": " << with_sig.bytes;
    EXPECT_EQ(with_sig.responses[0].status, 404) << key;
    EXPECT_EQ(error_code_in(with_sig.responses[0]), "not_found") << key;
    const auto without = fetch("/files/" + key);
    ASSERT_EQ(without.responses.size(), 1u) << key << ": " << without.bytes;
    EXPECT_TRUE(without.responses[0].status == 403 || without.responses[0].status == 404)
        << key << " -> " << without.responses[0].status;
    for (const auto* r : {&with_sig, &without}) {
      EXPECT_EQ(r->bytes.find(secret), std::string::npos) << key;
      EXPECT_EQ(r->bytes.find("root:"), std::string::npos) << key;
      EXPECT_EQ(r->bytes.find("\x89PNG"), std::string::npos) << key;
    }
  }
  // Raw bytes the HTTP parser refuses before any route sees them.
  for (const std::string& key : {std::string("..\0/planted.png", 15), real_key + std::string(1, '\0'),
                                std::string("..\x7f/planted.png")}) {
    const auto r = fetch(signed_target(key));
    ASSERT_EQ(r.responses.size(), 1u) << r.bytes;
    EXPECT_EQ(r.responses[0].status, 400);
    EXPECT_EQ(r.bytes.find(secret), std::string::npos);
  }
  expect_still_serving(server);
}

// ---------------------------------------------------------------- x-request-id

TEST(adversarial, hostile_request_ids_never_inject_headers_and_the_log_stays_one_json_line) {
  gatehouse_process server;
  struct id_case {
    std::string field_lines;  // raw X-Request-Id header line(s), without the final CRLF
    std::string echoed;       // the id the response must carry, or "" for a fresh one
  };
  using namespace std::string_literals;
  const id_case cases[] = {
      {"X-Request-Id: abc\r\n X-Injected: pwned", ""},           // obs-fold
      {"X-Request-Id: abc\r\n\tSet-Cookie: pwned=1", ""},        // obs-fold with a tab
      {"X-Request-Id: abc\rSet-Cookie: pwned=1", ""},            // bare CR
      {"X-Request-Id: abc\nSet-Cookie: pwned=1", ""},            // bare LF
      {"X-Request-Id: abc%0d%0aSet-Cookie:%20pwned=1", ""},      // encoded CRLF
      {"X-Request-Id: abc\\r\\nSet-Cookie: pwned=1", ""},        // escaped CRLF
      {"X-Request-Id: abc\xc2\x85Set-Cookie: pwned=1", ""},      // U+0085, a line break elsewhere
      {"X-Request-Id: abc\xe2\x80\xa8Set-Cookie: pwned=1", ""},  // U+2028
      {"X-Request-Id: ab\x01pwned", ""},
      {"X-Request-Id: ab\x7fpwned", ""},
      {"X-Request-Id: ab\0pwned"s, ""},
      {"X-Request-Id: ab\x80\xffpwned", ""},
      {"X-Request-Id: ab\tpwned", ""},
      {"X-Request-Id: ab pwned", ""},
      {"X-Request-Id: ", ""},
      {"X-Request-Id: " + std::string(129, 'a'), ""},
      {"X-Request-Id: " + std::string(10000, 'a'), ""},
      {"X-Request-Id: " + std::string(128, 'a'), std::string(128, 'a')},  // the longest sane id
      {"X-Request-Id: trace-OK_1.2", "trace-OK_1.2"},
      {"X-Request-Id: first-ok\r\nX-Request-Id: second-ok", "first-ok"},
      {"X-Request-Id: early-end\r\n\r\nX-Injected: 1", "early-end"},  // ends the head early: the tail is a bad request
  };
  const std::regex fresh("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::vector<std::string> answered_ids;
  for (const auto& k : cases) {
    const auto r = exchange(server.port(), "GET /health HTTP/1.1\r\nHost: x\r\n" + k.field_lines +
                                               "\r\nConnection: close\r\n\r\n");
    const std::string shown = k.field_lines.substr(0, 60);
    ASSERT_GE(r.responses.size(), 1u) << shown << ": " << r.bytes;
    for (const auto& res : r.responses) {
      EXPECT_TRUE(res.status == 200 || res.status == 400) << shown << " -> " << res.status;
      EXPECT_EQ(res.count("x-request-id"), 1u) << shown;
      EXPECT_EQ(res.count("set-cookie"), 0u) << shown;
      EXPECT_EQ(res.count("x-injected"), 0u) << shown;
      const std::string id = res.header("x-request-id");
      if (!k.echoed.empty() && &res == &r.responses.front()) {
        EXPECT_EQ(id, k.echoed) << shown;
      } else {
        EXPECT_TRUE(std::regex_match(id, fresh)) << shown << " -> " << id;
      }
      answered_ids.push_back(id);
    }
    EXPECT_EQ(r.bytes.find("pwned"), std::string::npos) << shown << ": " << r.bytes;
  }
  expect_still_serving(server);

  // Every line of the log is one JSON object; each answer has its access line.
  const std::string log = server.log_text();
  EXPECT_EQ(log.find("pwned"), std::string::npos);
  std::set<std::string> logged_ids;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    boost::json::value v;
    ASSERT_NO_THROW(v = boost::json::parse(line)) << line;
    ASSERT_TRUE(v.is_object()) << line;
    const auto& o = v.as_object();
    if (o.contains("msg") && o.at("msg") == "request") logged_ids.insert(std::string(o.at("request_id").as_string()));
  }
  for (const auto& id : answered_ids) EXPECT_EQ(logged_ids.count(id), 1u) << id;
}

// ---------------------------------------------------------------- pipelining

TEST(adversarial, nothing_pipelined_after_a_refused_request_is_ever_run) {
  gatehouse_process server;
  http_client c(server.port());
  struct refusal {
    std::string head;  // the refused request, possibly with (part of) its body
    int status;
  };
  std::string requests_as_body;
  while (requests_as_body.size() < 70000) requests_as_body += "GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: hidden\r\n\r\n";
  requests_as_body.resize(70000);
  const refusal refusals[] = {
      {"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n", 413},
      {"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 70000\r\n\r\n" +
           requests_as_body, 413},
      {"GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400},
      {"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n", 431},
      {"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
      {"GET health HTTP/1.1\r\nHost: x\r\n\r\n", 400},
  };
  std::vector<std::string> pipelined;
  for (const auto& refused : refusals) {
    pipelined.push_back(unique_email("after-refusal"));
    const auto r = exchange(server.port(), refused.head + signup_request(pipelined.back()) +
                                               "GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: after\r\n\r\n");
    ASSERT_EQ(r.responses.size(), 1u) << refused.head.substr(0, 60) << ": " << r.bytes.substr(0, 600);
    EXPECT_EQ(r.responses[0].status, refused.status) << refused.head.substr(0, 60);
    EXPECT_TRUE(r.closed);
    EXPECT_EQ(r.bytes.find("hidden"), std::string::npos);
    EXPECT_EQ(r.bytes.find("x-request-id: after"), std::string::npos);
  }
  for (const auto& email : pipelined) EXPECT_TRUE(never_created(c, email)) << email;
  expect_still_serving(server);
}

TEST(adversarial, two_hundred_pipelined_requests_beyond_the_read_buffer_are_answered_in_order) {
  gatehouse_process server;
  constexpr int count = 200;
  std::string all;
  const std::string padding(1024, 'p');  // 200 KiB in all: several times the 64 KiB read buffer
  std::vector<std::string> emails;
  for (int i = 0; i < count; ++i) {
    const std::string id = "p" + std::to_string(i);
    const std::string last = i == count - 1 ? "Connection: close\r\n" : "";
    switch (i % 3) {
      case 0: all += "GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + id + "\r\nX-Pad: " + padding + "\r\n" + last + "\r\n"; break;
      case 1: all += "GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + id + "\r\nX-Pad: " + padding + "\r\n" + last + "\r\n"; break;
      case 2: {
        emails.push_back(unique_email("pipelined"));
        const std::string body = signup_json(emails.back());
        all += "POST /signup HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + id + "\r\nContent-Type: application/json\r\n" + last +
               "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        break;
      }
    }
  }
  raw_connection conn(server.port());
  std::thread writer([&] { conn.send(all); });  // the answers flow back while we still send
  conn.read_until_closed(60s);
  writer.join();
  const auto responses = split_responses(conn.received());
  ASSERT_EQ(responses.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(responses[i].header("x-request-id"), "p" + std::to_string(i));
    EXPECT_EQ(responses[i].status, i % 3 == 0 ? 200 : i % 3 == 1 ? 404 : 201) << i << ": " << responses[i].body;
  }
  EXPECT_TRUE(conn.closed());
  http_client c(server.port());
  for (const auto& email : emails) EXPECT_EQ(c.post_json("/signup", signup_json(email)).status, 409) << email;
  expect_still_serving(server);
}

// ---------------------------------------------------------------- multipart

class adversarial_multipart : public ::testing::Test {
 protected:
  void SetUp() override { user_ = sign_up_and_log_in(c_, unique_email("multipart")); }
  http_result upload(const std::string& body, const std::string& boundary = test_boundary) {
    return c_.send("POST", "/upload_profile_pic", body, multipart_headers(user_.token, boundary));
  }
  void expect_nothing_stored() {
    const auto me = c_.get("/users/me", {{"authorization", "Bearer " + user_.token}});
    EXPECT_TRUE(parse_json(me.body).at("user").at("profile_image").is_null());
    EXPECT_EQ(count_objects((server_.data_dir() / "data").string(), "profile-images/" + user_.user_id + "/"), 0u);
  }
  gatehouse_process server_;
  http_client c_{server_.port()};
  signed_in_user user_;
};

TEST_F(adversarial_multipart, ten_thousand_parts_are_413_too_many_parts) {
  std::vector<form_part> parts;
  for (int i = 0; i < 10000; ++i) parts.push_back({"f" + std::to_string(i), "", "", "x"});
  parts.push_back({"image", "me.png", "image/png", sample_png()});
  const std::string body = multipart_body(parts);
  const auto r = upload(body);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(error_code_of(r), "too_many_parts");
  // The same on the public, unauthenticated upload-form route.
  const auto form = c_.send("POST", "/files/upload", body,
                            {{"content-type", "multipart/form-data; boundary=" + test_boundary}});
  EXPECT_EQ(form.status, 413);
  EXPECT_EQ(error_code_of(form), "too_many_parts");
  // 10,000 empty parts: the smallest body per part.
  std::string empties;
  for (int i = 0; i < 10000; ++i) empties += "--" + test_boundary + "\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\r\n";
  empties += "--" + test_boundary + "--\r\n";
  const auto e = upload(empties);
  EXPECT_EQ(e.status, 413);
  EXPECT_EQ(error_code_of(e), "too_many_parts");
  expect_nothing_stored();
  expect_still_serving(server_);
}

TEST_F(adversarial_multipart, a_body_whose_boundary_never_ends_is_400_invalid_multipart) {
  const std::string open = "--" + test_boundary +
                           "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"me.png\"\r\n"
                           "Content-Type: image/png\r\n\r\n" + sample_png();
  const std::string bodies[] = {
      open,                                                             // no closing delimiter at all
      open + std::string(1024 * 1024, 'z'),                             // a megabyte, still unclosed
      open + "\r\n--" + test_boundary.substr(0, test_boundary.size() - 1),  // a delimiter cut short
      "--" + test_boundary + "\r\nContent-Disposition: form-data; name=\"image\"\r\n" + std::string(100000, 'h'),  // headers never end
      std::string(1024 * 1024, 'p'),                                    // a preamble that never reaches a boundary
  };
  for (const auto& body : bodies) {
    const auto r = upload(body);
    EXPECT_EQ(r.status, 400) << body.size();
    EXPECT_EQ(error_code_of(r), "invalid_multipart") << body.size() << ": " << r.body;
  }
  expect_nothing_stored();
  expect_still_serving(server_);
}

// RFC 2046 caps a boundary at 70 characters. The route answers a longer one
// as it answers any Content-Type it cannot use: 415 unsupported_media_type.
TEST_F(adversarial_multipart, a_boundary_longer_than_70_characters_is_refused) {
  for (const std::size_t length : {71u, 200u, 10000u}) {
    const std::string boundary(length, 'b');
    const auto r = upload(multipart_body({{"image", "me.png", "image/png", sample_png()}}, boundary), boundary);
    EXPECT_EQ(r.status, 415) << length;
    EXPECT_EQ(error_code_of(r), "unsupported_media_type") << length;
  }
  expect_nothing_stored();
  // Exactly 70 is the limit, not beyond it.
  const std::string seventy(70, 'b');
  EXPECT_EQ(upload(multipart_body({{"image", "me.png", "image/png", sample_png()}}, seventy), seventy).status, 200);
  expect_still_serving(server_);
}

}  // namespace
}  // namespace gatehouse::testing
