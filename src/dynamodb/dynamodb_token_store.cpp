#include "dynamodb/dynamodb_token_store.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "dynamodb/attribute_values.hpp"

#include <utility>

namespace gatehouse::dynamodb {
namespace {

namespace json = boost::json;

std::string token_id(std::string_view hash) { return "token#" + std::string(hash); }
std::string family_id_key(std::string_view family_id) { return "family#" + std::string(family_id); }

bool is_condition_failure(const service_error& e) { return e.code() == conditional_check_failed; }

// Any other final answer: the table is missing (an operator's mistake) or
// worse. The client sees 503; the log says which.
[[noreturn]] void storage_failure(const service_error& e) {
  if (e.code() == "ResourceNotFoundException")
    log::error("dynamodb: refresh tokens table missing; run `gatehouse migrate --create-tables` or deploy the stack",
               {{"code", e.code()}});
  else if (e.code() == "ValidationException")
    log::error("dynamodb: refresh token request invalid; is the tokens table's index user-sessions missing? "
               "(`gatehouse migrate` checks)",
               {{"code", e.code()}});
  else
    log::error("dynamodb: refresh token request refused", {{"code", e.code()}});
  throw storage_unavailable("DynamoDB refused a refresh token request");
}

// A family item (from GetItem or the sessions index); nullopt without the
// ids a decision needs.
std::optional<auth::token_family> family_of(const json::object& item) {
  auto id = get_string(item, "familyId");
  auto user = get_string(item, "userId");
  if (!id || !user) return std::nullopt;
  auth::token_family f;
  f.family_id = std::move(*id);
  f.user_id = std::move(*user);
  f.created_at = get_number(item, "createdAt").value_or(0);
  f.created_at_ms = get_number(item, dynamodb_token_store::sessions_range_attribute).value_or(f.created_at * 1000);
  f.expires_at = get_number(item, "expiresAt").value_or(0);
  f.revoked_at = get_number(item, "revokedAt");
  // A revokedAt that is there but unreadable still means revoked.
  if (!f.revoked_at && item.contains("revokedAt")) f.revoked_at = 0;
  return f;
}

json::object token_item(const auth::refresh_token_record& r) {
  return {{"id", string_value(token_id(r.token_hash))},
          {"familyId", string_value(r.family_id)},
          {"userId", string_value(r.user_id)},
          {"expiresAt", number_value(r.expires_at)}};
}

}  // namespace

dynamodb_token_store::dynamodb_token_store(dynamodb_client& client, std::string table)
    : client_(client), table_(std::move(table)) {}

std::optional<json::object> dynamodb_token_store::get(const std::string& id) {
  try {
    const auto res = client_.call(
        "GetItem", {{"TableName", table_}, {"Key", {{"id", string_value(id)}}}, {"ConsistentRead", true}});
    const auto* item = res.if_contains("Item");
    if (!item || !item->is_object()) return std::nullopt;
    return item->as_object();
  } catch (const service_error& e) {
    storage_failure(e);
  }
}

bool dynamodb_token_store::put_new(const json::object& item) {
  try {
    client_.call("PutItem", {{"TableName", table_},
                             {"Item", item},
                             {"ConditionExpression", "attribute_not_exists(#id)"},
                             {"ExpressionAttributeNames", {{"#id", "id"}}}});
    return true;
  } catch (const service_error& e) {
    if (is_condition_failure(e)) return false;
    storage_failure(e);
  }
}

bool dynamodb_token_store::put_new_or_own(const json::object& item) {
  if (put_new(item)) return true;
  const auto* id = item.if_contains("id");
  if (!id || !id->is_object()) return false;
  const auto* s = id->as_object().if_contains("S");
  if (!s || !s->is_string()) return false;
  const auto stored = get(std::string(s->as_string()));
  return stored && *stored == item;
}

void dynamodb_token_store::extend_family(const std::string& family_id, std::int64_t expires_at) {
  try {
    client_.call("UpdateItem", {{"TableName", table_},
                                {"Key", {{"id", string_value(family_id_key(family_id))}}},
                                {"UpdateExpression", "SET #x = :e"},
                                {"ConditionExpression", "attribute_exists(#id) AND #x < :e"},
                                {"ExpressionAttributeNames", {{"#id", "id"}, {"#x", ttl_attribute}}},
                                {"ExpressionAttributeValues", {{":e", number_value(expires_at)}}}});
  } catch (const service_error& e) {
    // Already late enough, or the family is gone (then it counts as revoked).
    if (!is_condition_failure(e)) storage_failure(e);
  }
}

void dynamodb_token_store::create_family(const auth::token_family& family, const auth::refresh_token_record& first) {
  // The family first: a token never exists without its family.
  json::object item{{"id", string_value(family_id_key(family.family_id))},
                    {"familyId", string_value(family.family_id)},
                    {"userId", string_value(family.user_id)},
                    {sessions_hash_attribute, string_value(family.user_id)},
                    {"createdAt", number_value(family.created_at)},
                    {sessions_range_attribute, number_value(family.created_at_ms)},
                    {"expiresAt", number_value(family.expires_at)}};
  // Ids and hashes come from 122 and 256 random bits: an item already there
  // is our own write whose answer was lost (the client retried), or a bug.
  if (!put_new_or_own(item)) throw error(error_kind::internal, "internal", "duplicate token family id");
  if (!put_new_or_own(token_item(first))) throw error(error_kind::internal, "internal", "duplicate refresh token");
}

std::optional<auth::refresh_token_record> dynamodb_token_store::find_token(std::string_view token_hash) {
  const auto item = get(token_id(token_hash));
  if (!item) return std::nullopt;
  auth::refresh_token_record r;
  auto family = get_string(*item, "familyId");
  auto user = get_string(*item, "userId");
  const auto expires = get_number(*item, "expiresAt");
  // An item without what a decision needs is treated as absent: fail closed.
  if (!family || !user || !expires) return std::nullopt;
  r.token_hash = std::string(token_hash);
  r.family_id = std::move(*family);
  r.user_id = std::move(*user);
  r.expires_at = *expires;
  r.used_at = get_number(*item, "usedAt");
  r.successor_hash = get_string(*item, "successorHash");
  return r;
}

std::optional<auth::token_family> dynamodb_token_store::find_family(std::string_view family_id) {
  const auto item = get(family_id_key(family_id));
  if (!item) return std::nullopt;
  return family_of(*item);
}

std::vector<auth::token_family> dynamodb_token_store::list_families(std::string_view user_id) {
  std::vector<auth::token_family> out;
  std::optional<json::object> start;
  do {
    json::object req{{"TableName", table_},
                     {"IndexName", sessions_index},
                     {"KeyConditionExpression", "#u = :u"},
                     {"ExpressionAttributeNames", {{"#u", sessions_hash_attribute}}},
                     {"ExpressionAttributeValues", {{":u", string_value(user_id)}}}};
    if (start) req["ExclusiveStartKey"] = *start;
    json::object res;
    try {
      res = client_.call("Query", req);
    } catch (const service_error& e) {
      storage_failure(e);
    }
    start.reset();
    if (const auto* last = res.if_contains("LastEvaluatedKey"); last && last->is_object()) start = last->as_object();
    if (const auto* items = res.if_contains("Items"); items && items->is_array())
      for (const auto& item : items->as_array()) {
        if (!item.is_object()) continue;
        if (auto f = family_of(item.as_object())) out.push_back(std::move(*f));
      }
  } while (start);
  return out;
}

bool dynamodb_token_store::rotate(std::string_view token_hash, std::int64_t used_at,
                                  const auth::refresh_token_record& successor) {
  extend_family(successor.family_id, successor.expires_at);
  (void)put_new(token_item(successor));  // there already: the same successor, stored by a racer
  try {
    client_.call("UpdateItem", {{"TableName", table_},
                                {"Key", {{"id", string_value(token_id(token_hash))}}},
                                {"UpdateExpression", "SET #u = :u, #s = :s"},
                                {"ConditionExpression", "attribute_exists(#id) AND attribute_not_exists(#u)"},
                                {"ExpressionAttributeNames", {{"#id", "id"}, {"#u", "usedAt"}, {"#s", "successorHash"}}},
                                {"ExpressionAttributeValues",
                                 {{":u", number_value(used_at)}, {":s", string_value(successor.token_hash)}}}});
    return true;
  } catch (const service_error& e) {
    if (is_condition_failure(e)) return false;
    storage_failure(e);
  }
}

void dynamodb_token_store::put_token_if_absent(const auth::refresh_token_record& record) {
  extend_family(record.family_id, record.expires_at);
  (void)put_new(token_item(record));
}

void dynamodb_token_store::revoke_family(std::string_view family_id, std::int64_t revoked_at) {
  try {
    // Removing sessionUserId takes the family out of the sessions index.
    client_.call("UpdateItem", {{"TableName", table_},
                                {"Key", {{"id", string_value(family_id_key(family_id))}}},
                                {"UpdateExpression", "SET #r = :r REMOVE #s"},
                                {"ConditionExpression", "attribute_exists(#id) AND attribute_not_exists(#r)"},
                                {"ExpressionAttributeNames",
                                 {{"#id", "id"}, {"#r", "revokedAt"}, {"#s", sessions_hash_attribute}}},
                                {"ExpressionAttributeValues", {{":r", number_value(revoked_at)}}}});
  } catch (const service_error& e) {
    // Revoked already (the first time stays), or no such family.
    if (!is_condition_failure(e)) storage_failure(e);
  }
}

}  // namespace gatehouse::dynamodb
