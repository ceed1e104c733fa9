#include "ses/ses_transport.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "crypto/crypto.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace gatehouse::ses {
namespace {

constexpr std::size_t max_code_bytes = 128;
constexpr std::size_t max_logged_message_id = 256;
constexpr std::string_view send_email_path = "/v2/email/outbound-emails";

// Error codes reach messages and logs: only what a code can look like.
std::string sanitized_code(std::string_view code) {
  if (code.empty() || code.size() > max_code_bytes) return {};
  for (const char c : code) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return {};
  }
  return std::string(code);
}

std::string code_before(std::string_view text, char separator) {
  return sanitized_code(text.substr(0, text.find(separator)));
}

std::string code_after_hash(std::string_view type) {
  const auto hash = type.rfind('#');
  return sanitized_code(hash == std::string_view::npos ? type : type.substr(hash + 1));
}

std::optional<boost::json::object> parse_object(std::string_view body) {
  if (body.size() > max_response_bytes) return std::nullopt;
  boost::json::parse_options options;
  options.max_depth = 4;  // every answer here is flat
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec, {}, options);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::string refusal(const aws::http_response& res) {
  const std::string code = error_code_of(res);
  return "ses: SendEmail was refused: status " + std::to_string(res.status) + (code.empty() ? "" : " " + code);
}

}  // namespace

std::string error_code_of(const aws::http_response& res) {
  if (const auto header = res.header("x-amzn-errortype")) return code_before(*header, ':');
  if (const auto body = parse_object(res.body)) {
    if (const auto* code = body->if_contains("code"); code && code->is_string()) return code_after_hash(code->as_string());
    if (const auto* type = body->if_contains("__type"); type && type->is_string()) return code_after_hash(type->as_string());
  }
  return {};
}

ses_transport::ses_transport(aws::aws_client& aws, aws::endpoint ep, std::string region,
                             std::optional<std::string> configuration_set)
    : aws_(aws),
      endpoint_(std::move(ep)),
      scope_{std::move(region), "ses"},
      configuration_set_(std::move(configuration_set)) {}

void ses_transport::deliver(const mail::outgoing& message) {
  if (message.data.size() > max_raw_message_bytes)
    throw mail::delivery_error("ses: the message is " + std::to_string(message.data.size()) +
                                   " bytes; SES takes at most " + std::to_string(max_raw_message_bytes),
                               false);
  boost::json::object body{
      {"FromEmailAddress", message.envelope_from},
      {"Destination", boost::json::object{{"ToAddresses", boost::json::array{boost::json::value(message.recipient)}}}},
      {"Content", boost::json::object{{"Raw", boost::json::object{{"Data", crypto::base64_encode(message.data)}}}}},
  };
  if (configuration_set_) body["ConfigurationSetName"] = *configuration_set_;

  aws::http_request req;
  req.method = "POST";
  req.path = std::string(send_email_path);
  req.headers = {{"content-type", "application/json"}};
  req.body = boost::json::serialize(body);
  body = {};  // the base64 copy is in req.body now; no third copy of the message lingers

  aws::http_response res;
  try {
    res = aws_.send(endpoint_, scope_, req, {}, error_code_of);
  } catch (const error& e) {
    // aws_client's retries ran out on throttling, 5xx or a connection that
    // would not work: a later attempt may succeed. Anything else it raises
    // (no credentials at all) is a configuration to fix.
    throw mail::delivery_error(std::string("ses: ") + e.what(), e.kind() == error_kind::unavailable);
  }
  if (res.status != 200) throw mail::delivery_error(refusal(res), false);

  // Accepted. An unreadable answer is not a failure: retrying would send
  // the message twice.
  std::string ses_id;
  if (const auto answer = parse_object(res.body)) {
    if (const auto* id = answer->if_contains("MessageId"); id && id->is_string() && id->as_string().size() <= max_logged_message_id)
      ses_id = std::string(id->as_string());
  }
  log::info("ses accepted mail", {{"message_id", message.message_id}, {"ses_message_id", ses_id}});
}

}  // namespace gatehouse::ses
