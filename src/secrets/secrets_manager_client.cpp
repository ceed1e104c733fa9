#include "secrets/secrets_manager_client.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace gatehouse::secrets {
namespace {

constexpr std::size_t max_code_bytes = 128;

// Error codes reach messages and logs: only what a code can look like.
std::string sanitized_code(std::string_view code) {
  if (code.empty() || code.size() > max_code_bytes) return {};
  for (char c : code) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return {};
  }
  return std::string(code);
}

std::string code_from_type(std::string_view type) {
  const auto hash = type.rfind('#');
  return sanitized_code(hash == std::string_view::npos ? type : type.substr(hash + 1));
}

std::optional<boost::json::object> parse_object(std::string_view body) {
  if (body.size() > max_response_bytes) return std::nullopt;
  boost::json::parse_options options;
  options.max_depth = 8;  // the answer is flat but for VersionStages
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec, {}, options);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace

std::string error_code_of(const aws::http_response& res) {
  if (const auto body = parse_object(res.body)) {
    if (const auto* type = body->if_contains("__type"); type && type->is_string()) return code_from_type(type->as_string());
  }
  if (const auto header = res.header("x-amzn-errortype")) {
    const auto colon = header->find(':');
    return code_from_type(header->substr(0, colon));
  }
  return {};
}

secrets_manager_client::secrets_manager_client(aws::aws_client& aws, aws::endpoint ep, std::string region)
    : aws_(aws), endpoint_(std::move(ep)), scope_{std::move(region), "secretsmanager"} {}

std::optional<std::string> secrets_manager_client::get_secret_string(std::string_view secret_id,
                                                                     std::string_view version_stage) {
  const std::string stage(version_stage);
  aws::http_request req;
  req.method = "POST";
  req.path = "/";
  req.headers = {{"content-type", "application/x-amz-json-1.1"},
                 {"x-amz-target", "secretsmanager.GetSecretValue"}};
  req.body = boost::json::serialize(boost::json::object{{"SecretId", secret_id}, {"VersionStage", stage}});
  const auto res = aws_.send(endpoint_, scope_, req, {}, error_code_of);

  if (res.status != 200) {
    const std::string code = error_code_of(res);
    if (code == "ResourceNotFoundException") return std::nullopt;
    throw secret_error("GetSecretValue (" + stage + ") was refused: status " + std::to_string(res.status) +
                       (code.empty() ? "" : " " + code));
  }
  const auto answer = parse_object(res.body);
  if (!answer) throw secret_error("GetSecretValue (" + stage + ") answered something that is not a JSON object");
  if (const auto* text = answer->if_contains("SecretString")) {
    if (!text->is_string()) throw secret_error("GetSecretValue (" + stage + ") answered a SecretString that is not a string");
    return std::string(text->as_string());
  }
  if (answer->contains("SecretBinary"))
    throw secret_error("the " + stage + " version holds SecretBinary; store the JWT secret as a SecretString");
  throw secret_error("GetSecretValue (" + stage + ") answered no SecretString");
}

}  // namespace gatehouse::secrets
