// Reading the Runtime API's replies to GET /next (lambda/runtime_reply),
// fed to the parser the way a socket might deliver them.
#include "lambda/runtime_reply.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace {

using namespace gatehouse::lambda;
namespace bhttp = boost::beast::http;

// Offers the pieces in order, each added to whatever the parser has not
// consumed yet, as http::read does with its buffer; then the end of stream.
template <class Parser>
boost::beast::error_code feed(Parser& parser, std::initializer_list<std::string_view> pieces) {
  std::string pending;
  boost::beast::error_code ec;
  for (const auto piece : pieces) {
    pending += piece;
    // The head and the body are separate steps of the parser.
    while (!parser.is_done()) {
      const std::size_t used = parser.put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec == bhttp::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return ec;
      if (used == 0) break;
    }
    if (parser.is_done()) return ec;
  }
  if (!parser.is_done() && parser.got_some()) parser.put_eof(ec);
  return ec;
}

const std::string_view next_head =
    "HTTP/1.1 200 OK\r\n"
    "Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n"
    "Lambda-Runtime-Deadline-Ms: 1542409706888\r\n"
    "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-2:123456789012:function:f\r\n"
    "Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700\r\n";

TEST(runtime_reply, a_200_reply_carries_every_field_of_the_invocation) {
  reply_parser parser;
  limit_reply(parser, 16 * 1024, 1024);
  const std::string reply = std::string(next_head) + "Content-Length: 11\r\n\r\n{\"a\":\"b\"}\r\n";
  ASSERT_FALSE(feed(parser, {reply}));
  const auto inv = invocation_of(parser);
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
  EXPECT_EQ(inv->deadline_ms, 1542409706888);
  EXPECT_EQ(inv->function_arn, "arn:aws:lambda:us-east-2:123456789012:function:f");
  EXPECT_EQ(inv->trace_id, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700");
  EXPECT_EQ(inv->event, "{\"a\":\"b\"}\r\n");
}

TEST(runtime_reply, a_request_id_unfit_for_a_url_path_gives_no_invocation) {
  for (const std::string_view id : {"", "../../init/error", "a b", "a/b"}) {
    reply_parser parser;
    limit_reply(parser, 16 * 1024, 1024);
    const std::string reply = "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: " + std::string(id) +
                              "\r\nContent-Length: 2\r\n\r\n{}";
    ASSERT_FALSE(feed(parser, {reply})) << id;
    EXPECT_EQ(reply_request_id(parser), "") << id;
    EXPECT_FALSE(invocation_of(parser)) << id;
  }
}

TEST(runtime_reply, a_malformed_deadline_reads_as_zero) {
  reply_parser parser;
  limit_reply(parser, 16 * 1024, 1024);
  ASSERT_FALSE(feed(parser, {"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\n"
                             "Lambda-Runtime-Deadline-Ms: 99999999999999999999999\r\nContent-Length: 0\r\n\r\n"}));
  const auto inv = invocation_of(parser);
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->deadline_ms, 0);
}

TEST(runtime_reply, an_event_over_the_limit_is_refused_before_it_is_buffered) {
  reply_parser parser;
  limit_reply(parser, 16 * 1024, 8);
  const std::string reply = std::string(next_head) + "Content-Length: 9\r\n\r\n123456789";
  EXPECT_EQ(feed(parser, {reply}), bhttp::error::body_limit);
  EXPECT_EQ(reply_request_id(parser), "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
}

TEST(runtime_reply, a_head_over_the_limit_is_refused) {
  reply_parser parser;
  limit_reply(parser, 64, 1024);
  EXPECT_EQ(feed(parser, {std::string(next_head) + "\r\n"}), bhttp::error::header_limit);
  EXPECT_FALSE(invocation_of(parser));
}

// Found by tests/fuzz/runtime_reply_fuzz: Boost 1.81's chunked parser
// asserts wrongly when the final chunk arrives as "0\r\n" and the rest one
// byte at a time (boostorg/beast#2861), which aborted debug and sanitizer
// builds. base/boost_assert.cpp lets that one assertion pass; the parser
// itself handles the split correctly. Both directions share the code, so
// the server's request parser is checked too.
TEST(runtime_reply, a_final_chunk_split_after_its_size_line_is_parsed) {
  reply_parser parser;
  limit_reply(parser, 16 * 1024, 1024);
  ASSERT_FALSE(feed(parser, {std::string(next_head) + "Transfer-Encoding: chunked\r\n\r\n", "0\r\n", "\r", "\n"}));
  ASSERT_TRUE(parser.is_done());
  const auto inv = invocation_of(parser);
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->event, "");
}

TEST(runtime_reply, the_request_parser_survives_the_same_split) {
  bhttp::request_parser<bhttp::string_body> parser;
  ASSERT_FALSE(feed(parser, {"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "0\r\n", "\r",
                             "\n"}));
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "");
}

}  // namespace
