#include "dynamodb/dynamodb_rate_limiter.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "dynamodb/attribute_values.hpp"

#include <utility>

namespace gatehouse::dynamodb {
namespace {

namespace json = boost::json;

std::string item_id(std::string_view key, std::int64_t window_start) {
  return std::string(key) + "#" + std::to_string(window_start);
}

// Any final answer but a failed condition: the table is missing (an
// operator's mistake) or worse. The client sees 503; the log says which.
[[noreturn]] void storage_failure(const service_error& e) {
  if (e.code() == "ResourceNotFoundException")
    log::error("dynamodb: rate limits table missing; run `gatehouse migrate --create-tables` or deploy the stack",
               {{"code", e.code()}});
  else
    log::error("dynamodb: rate limit request refused", {{"code", e.code()}});
  throw storage_unavailable("DynamoDB refused a rate limit request");
}

}  // namespace

dynamodb_rate_limiter::dynamodb_rate_limiter(dynamodb_client& client, std::string table)
    : client_(client), table_(std::move(table)) {}

auth::hit_result dynamodb_rate_limiter::hit(std::string_view key, const auth::rate_limit& limit, std::int64_t now) {
  const std::int64_t start = auth::window_start_of(now, limit.window_seconds);
  json::object res;
  try {
    res = client_.call("UpdateItem",
                       {{"TableName", table_},
                        {"Key", {{"id", string_value(item_id(key, start))}}},
                        {"UpdateExpression", "ADD #count :one SET #x = if_not_exists(#x, :end)"},
                        {"ExpressionAttributeNames", {{"#count", "count"}, {"#x", ttl_attribute}}},
                        {"ExpressionAttributeValues",
                         {{":one", number_value(1)}, {":end", number_value(start + limit.window_seconds)}}},
                        {"ReturnValues", "UPDATED_NEW"}});
  } catch (const service_error& e) {
    storage_failure(e);
  }
  const auto* attributes = res.if_contains("Attributes");
  const auto count = attributes && attributes->is_object() ? get_number(attributes->as_object(), "count")
                                                           : std::nullopt;
  if (!count) {
    log::error("dynamodb: rate limit update returned no count", {});
    throw storage_unavailable("unreadable DynamoDB response");
  }
  return auth::judge(*count, limit, start, now);
}

void dynamodb_rate_limiter::conditional_update(const std::string& id, json::object fields) {
  fields["TableName"] = table_;
  fields["Key"] = {{"id", string_value(id)}};
  try {
    client_.call("UpdateItem", fields);
  } catch (const service_error& e) {
    if (e.code() != conditional_check_failed) storage_failure(e);
  }
}

void dynamodb_rate_limiter::undo(std::string_view key, std::int64_t window_start) {
  conditional_update(item_id(key, window_start),
                     {{"UpdateExpression", "ADD #count :minus_one"},
                      {"ConditionExpression", "#count > :zero"},
                      {"ExpressionAttributeNames", {{"#count", "count"}}},
                      {"ExpressionAttributeValues", {{":minus_one", number_value(-1)}, {":zero", number_value(0)}}}});
}

void dynamodb_rate_limiter::reset(std::string_view key, std::int64_t window_start) {
  conditional_update(item_id(key, window_start),
                     {{"UpdateExpression", "SET #count = :zero"},
                      {"ConditionExpression", "attribute_exists(#id)"},
                      {"ExpressionAttributeNames", {{"#count", "count"}, {"#id", "id"}}},
                      {"ExpressionAttributeValues", {{":zero", number_value(0)}}}});
}

}  // namespace gatehouse::dynamodb
