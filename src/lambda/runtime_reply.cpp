#include "lambda/runtime_reply.hpp"

#include "http/pipeline.hpp"

#include <charconv>
#include <string_view>

namespace gatehouse::lambda {

namespace {

constexpr std::string_view header_request_id = "Lambda-Runtime-Aws-Request-Id";
constexpr std::string_view header_deadline_ms = "Lambda-Runtime-Deadline-Ms";
constexpr std::string_view header_function_arn = "Lambda-Runtime-Invoked-Function-Arn";
constexpr std::string_view header_trace_id = "Lambda-Runtime-Trace-Id";

std::int64_t parse_int64(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size() ? value : 0;
}

}  // namespace

void limit_reply(reply_parser& parser, std::size_t max_header_bytes, std::size_t max_body_bytes) {
  parser.header_limit(static_cast<std::uint32_t>(max_header_bytes));
  parser.body_limit(max_body_bytes);
}

std::string reply_request_id(const reply_parser& parser) {
  if (!parser.is_header_done()) return {};
  std::string id(parser.get()[header_request_id]);
  return http::is_sane_request_id(id) ? id : std::string();
}

std::optional<invocation> invocation_of(reply_parser& parser) {
  std::string request_id = reply_request_id(parser);
  if (request_id.empty() || !parser.is_done()) return std::nullopt;
  const auto& head = parser.get();
  invocation inv;
  inv.request_id = std::move(request_id);
  inv.deadline_ms = parse_int64(head[header_deadline_ms]);
  inv.function_arn = std::string(head[header_function_arn]);
  inv.trace_id = std::string(head[header_trace_id]);
  inv.event = std::move(parser.release().body());
  return inv;
}

}  // namespace gatehouse::lambda
