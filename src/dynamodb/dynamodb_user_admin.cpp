#include "dynamodb/dynamodb_user_admin.hpp"

#include "base/error.hpp"
#include "dynamodb/attribute_values.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <optional>
#include <vector>

namespace gatehouse::dynamodb {
namespace {

namespace json = boost::json;

constexpr std::string_view token_prefix = "token#";
constexpr std::string_view family_prefix = "family#";

}  // namespace

dynamodb_user_admin::dynamodb_user_admin(dynamodb_client& client, user_tables tables,
                                         std::function<std::int64_t()> now_seconds, std::size_t scan_page)
    : client_(client),
      tables_(std::move(tables)),
      now_seconds_(std::move(now_seconds)),
      scan_page_(static_cast<std::int64_t>(std::clamp<std::size_t>(scan_page, 1, 1000))) {}

// A final answer other than a condition failure ends the operation as
// storage_unavailable, naming the table and DynamoDB's code (never a key).
json::object dynamodb_user_admin::call(std::string_view operation, const std::string& table,
                                       const json::object& request) {
  try {
    return client_.call(operation, request);
  } catch (const service_error& e) {
    if (e.code() == conditional_check_failed) throw;
    if (e.code() == "ResourceNotFoundException")
      throw storage_unavailable("DynamoDB table " + table +
                                " does not exist (deploy the stack, or run `gatehouse migrate --create-tables`)");
    throw storage_unavailable("DynamoDB refused " + std::string(operation) + " on " + table + ": " + e.code());
  }
}

users::token_sweep dynamodb_user_admin::delete_refresh_tokens(
    std::string_view user_id, const std::function<void(const users::token_sweep&)>& progress) {
  const std::string& table = tables_.tokens;
  users::token_sweep swept;
  if (table.empty()) return swept;
  std::vector<std::string> families;  // item ids, deleted after the scan
  std::optional<json::object> start;
  do {
    json::object req{{"TableName", table},
                     {"ConsistentRead", true},
                     {"Limit", scan_page_},
                     {"FilterExpression", "#u = :u"},
                     {"ProjectionExpression", "#id"},
                     {"ExpressionAttributeNames", {{"#id", "id"}, {"#u", "userId"}}},
                     {"ExpressionAttributeValues", {{":u", string_value(user_id)}}}};
    if (start) req["ExclusiveStartKey"] = *start;
    const auto res = call("Scan", table, req);
    start.reset();
    if (const auto* last = res.if_contains("LastEvaluatedKey"); last && last->is_object() && !last->as_object().empty())
      start = last->as_object();
    const auto* items = res.if_contains("Items");
    if (items && items->is_array()) {
      for (const auto& item : items->as_array()) {
        if (!item.is_object()) continue;
        const auto id = get_string(item.as_object(), "id");
        if (!id) continue;
        if (id->starts_with(family_prefix)) {
          // Revoked now, deleted last: until then no token of it refreshes.
          try {
            call("UpdateItem", table,
                 {{"TableName", table},
                  {"Key", {{"id", string_value(*id)}}},
                  {"UpdateExpression", "SET #r = :r"},
                  {"ConditionExpression", "attribute_exists(#id) AND attribute_not_exists(#r)"},
                  {"ExpressionAttributeNames", {{"#id", "id"}, {"#r", "revokedAt"}}},
                  {"ExpressionAttributeValues", {{":r", number_value(now_seconds_())}}}});
          } catch (const service_error&) {
            // Revoked already, or gone: either way it refreshes nothing.
          }
          families.push_back(*id);
        } else if (id->starts_with(token_prefix)) {
          call("DeleteItem", table, {{"TableName", table}, {"Key", {{"id", string_value(*id)}}}});
          ++swept.tokens;
        }
      }
    }
    if (progress) progress(swept);
  } while (start);
  for (const auto& id : families) {
    call("DeleteItem", table, {{"TableName", table}, {"Key", {{"id", string_value(id)}}}});
    ++swept.families;
  }
  if (progress && !families.empty()) progress(swept);
  return swept;
}

}  // namespace gatehouse::dynamodb
