// Where Boost's assertions go in builds without NDEBUG (debug, asan, fuzz;
// gatehouse_base defines BOOST_ENABLE_ASSERT_DEBUG_HANDLER). Release and
// Lambda builds define NDEBUG, so there BOOST_ASSERT compiles to nothing.
//
// Every assertion aborts, as assert() would, except one that Boost 1.81
// states wrongly: basic_parser::parse_chunk_header asserts `n >= 5` when a
// final chunk ("0\r\n") is re-parsed after need_more, yet a peer that sends
// "0\r\n" and then one byte at a time reaches it with 3 or 4 bytes, and the
// code after it handles that correctly (boostorg/beast#2861, fixed in Boost
// 1.86). Left as is, any client could abort a debug or sanitizer build of
// the server with a chunked body split in the right places; the fuzzer
// found it (tests/fuzz/runtime_reply_fuzz.cpp; regression test in
// tests/unit/lambda/runtime_reply_test.cpp). Remove with Debian's Boost
// upgrade past 1.85.
#include <boost/assert.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

bool is_known_false_beast_assertion(const char* expr, const char* file) {
  return std::strcmp(expr, "n >= 5") == 0 && std::strstr(file, "beast/http/impl/basic_parser.ipp") != nullptr;
}

}  // namespace

namespace boost {

void assertion_failed(const char* expr, const char* function, const char* file, long line) {
  if (is_known_false_beast_assertion(expr, file)) return;
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expr);
  std::abort();
}

void assertion_failed_msg(const char* expr, const char* msg, const char* function, const char* file, long line) {
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function, expr, msg);
  std::abort();
}

}  // namespace boost
