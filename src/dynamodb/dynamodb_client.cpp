#include "dynamodb/dynamodb_client.hpp"

#include "base/error.hpp"
#include "base/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace gatehouse::dynamodb {

std::string error_code_of(const aws::http_response& res) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(res.body, ec);
  if (ec || !v.is_object()) return {};
  const auto* type = v.as_object().if_contains("__type");
  if (!type || !type->is_string()) return {};
  const std::string_view t = type->as_string();
  const auto hash = t.rfind('#');
  return std::string(hash == std::string_view::npos ? t : t.substr(hash + 1));
}

dynamodb_client::dynamodb_client(aws::aws_client& aws, aws::endpoint ep, std::string region)
    : aws_(aws), endpoint_(std::move(ep)), scope_{std::move(region), "dynamodb"} {}

boost::json::object dynamodb_client::call(std::string_view operation, const boost::json::object& request) {
  aws::http_request req;
  req.method = "POST";
  req.path = "/";
  req.headers = {{"content-type", "application/x-amz-json-1.0"},
                 {"x-amz-target", "DynamoDB_20120810." + std::string(operation)}};
  req.body = boost::json::serialize(request);
  const auto res = aws_.send(endpoint_, scope_, req, {}, error_code_of);

  if (res.status == 200) {
    boost::system::error_code ec;
    auto v = boost::json::parse(res.body, ec);
    if (ec || !v.is_object()) {
      log::error("dynamodb: unreadable response", {{"operation", operation}});
      throw storage_unavailable("unreadable DynamoDB response");
    }
    return std::move(v.as_object());
  }
  const std::string code = error_code_of(res);
  if (code == conditional_check_failed || code == "TransactionCanceledException")
    throw service_error(code, "condition failed");
  // A missing table is the caller's to judge (migrate expects it).
  if (code == "ResourceNotFoundException") throw service_error(code, "table not found");
  // An operation this endpoint does not offer (dynalite has no
  // UpdateTimeToLive): for migrate to report, not a storage failure.
  if (code == "UnknownOperationException") throw service_error(code, "operation not supported");
  // Anything else is a misconfiguration (denied access, say) or a bug:
  // the log says which, the client sees only a 503.
  log::error("dynamodb: request failed",
             {{"operation", operation}, {"status", res.status}, {"code", code}});
  throw storage_unavailable("DynamoDB request failed");
}

}  // namespace gatehouse::dynamodb
