#include "dynamodb/dynamodb_schema.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "dynamodb/attribute_values.hpp"
#include "dynamodb/dynamodb_idempotency_store.hpp"
#include "dynamodb/dynamodb_rate_limiter.hpp"
#include "dynamodb/dynamodb_token_store.hpp"
#include "dynamodb/email_claims.hpp"
#include "users/validation.hpp"

#include <boost/json/array.hpp>

#include <chrono>
#include <thread>

namespace gatehouse::dynamodb {
namespace {

namespace json = boost::json;

bool table_exists(dynamodb_client& client, const std::string& name) {
  try {
    client.call("DescribeTable", {{"TableName", name}});
    return true;
  } catch (const service_error& e) {
    if (e.code() == "ResourceNotFoundException") return false;
    throw;
  }
}

std::string table_status(dynamodb_client& client, const std::string& name) {
  const auto res = client.call("DescribeTable", {{"TableName", name}});
  const auto* table = res.if_contains("Table");
  if (!table || !table->is_object()) return {};
  const auto* status = table->as_object().if_contains("TableStatus");
  return status && status->is_string() ? std::string(status->as_string()) : std::string();
}

json::object key_element(std::string_view name, std::string_view type) {
  return {{"AttributeName", name}, {"KeyType", type}};
}

json::object attribute(std::string_view name, std::string_view type) {
  return {{"AttributeName", name}, {"AttributeType", type}};
}

// The tokens table's sparse index of live sessions by user
// (dynamodb_token_store.hpp); deploy/serverless.yml declares the same.
json::object sessions_index() {
  using store = dynamodb_token_store;
  return {{"IndexName", store::sessions_index},
          {"KeySchema", json::array{key_element(store::sessions_hash_attribute, "HASH"),
                                    key_element(store::sessions_range_attribute, "RANGE")}},
          {"Projection", {{"ProjectionType", "ALL"}}}};
}

// `index` (one global secondary index, or null) comes with the table.
void create_table(dynamodb_client& client, const std::string& name, const std::string& key,
                  const json::object* index = nullptr) {
  json::object req{{"TableName", name},
                   {"AttributeDefinitions", json::array{attribute(key, "S")}},
                   {"KeySchema", json::array{key_element(key, "HASH")}},
                   {"BillingMode", "PAY_PER_REQUEST"}};
  if (index) {
    auto& defs = req["AttributeDefinitions"].as_array();
    defs.push_back(attribute(dynamodb_token_store::sessions_hash_attribute, "S"));
    defs.push_back(attribute(dynamodb_token_store::sessions_range_attribute, "N"));
    req["GlobalSecondaryIndexes"] = json::array{*index};
  }
  client.call("CreateTable", req);
  for (int i = 0; i < 600 && table_status(client, name) != "ACTIVE"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (table_status(client, name) != "ACTIVE") throw storage_unavailable("table " + name + " did not become ACTIVE");
}

// DynamoDB's TTL on the tokens and rate limits tables, so expired tokens,
// families and ended windows go by themselves. Clean-up only: expiry is
// decided on read, and a window is part of its counter's key.
void enable_ttl(dynamodb_client& client, const std::string& name, const char* attribute) {
  try {
    client.call("UpdateTimeToLive",
                {{"TableName", name},
                 {"TimeToLiveSpecification", {{"Enabled", true}, {"AttributeName", attribute}}}});
  } catch (const service_error& e) {
    if (e.code() != "UnknownOperationException") throw;
    log::warn("dynamodb: this endpoint has no UpdateTimeToLive; expired items stay in the table "
              "(they are never read as live all the same)",
              {{"table", name}});
  }
}

bool has_index(dynamodb_client& client, const std::string& table, std::string_view index) {
  const auto res = client.call("DescribeTable", {{"TableName", table}});
  const auto* t = res.if_contains("Table");
  const auto* indexes = t && t->is_object() ? t->as_object().if_contains("GlobalSecondaryIndexes") : nullptr;
  if (!indexes || !indexes->is_array()) return false;
  for (const auto& i : indexes->as_array()) {
    const auto* name = i.is_object() ? i.as_object().if_contains("IndexName") : nullptr;
    if (name && name->is_string() && name->as_string() == index) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> missing_tables(dynamodb_client& client, const user_tables& tables) {
  std::vector<std::string> missing;
  for (const auto* name : {&tables.users, &tables.emails, &tables.tokens, &tables.limits, &tables.idempotency})
    if (!name->empty() && !table_exists(client, *name)) missing.push_back(*name);
  // A tokens table from before the sessions index: DynamoDB adds an index
  // to a live table (the stack does, from deploy/serverless.yml); a local
  // peer's table is simply created again.
  if (!tables.tokens.empty() && table_exists(client, tables.tokens) &&
      !has_index(client, tables.tokens, dynamodb_token_store::sessions_index))
    missing.push_back(tables.tokens + "'s index " + dynamodb_token_store::sessions_index +
                      " (deploy the stack to add it; a local peer's table: delete it and create it again)");
  return missing;
}

void create_missing_tables(dynamodb_client& client, const user_tables& tables) {
  if (!table_exists(client, tables.users)) create_table(client, tables.users, "userId");
  if (!table_exists(client, tables.emails)) create_table(client, tables.emails, std::string(claim_attribute::email));
  if (!tables.tokens.empty() && !table_exists(client, tables.tokens)) {
    const auto index = sessions_index();
    create_table(client, tables.tokens, "id", &index);
    enable_ttl(client, tables.tokens, dynamodb_token_store::ttl_attribute);
  }
  if (!tables.limits.empty() && !table_exists(client, tables.limits)) {
    create_table(client, tables.limits, "id");
    enable_ttl(client, tables.limits, dynamodb_rate_limiter::ttl_attribute);
  }
  if (!tables.idempotency.empty() && !table_exists(client, tables.idempotency)) {
    create_table(client, tables.idempotency, "id");
    enable_ttl(client, tables.idempotency, dynamodb_idempotency_store::ttl_attribute);
  }
}

backfill_progress backfill_email_claims(dynamodb_client& client, const user_tables& tables,
                                        const std::function<std::int64_t()>& now_seconds,
                                        const std::function<void(const backfill_progress&)>& report) {
  backfill_progress p;
  std::optional<json::object> start;
  do {
    json::object req{{"TableName", tables.users},
                     {"ProjectionExpression", "#id, #e"},
                     {"ExpressionAttributeNames", {{"#id", "userId"}, {"#e", "email"}}},
                     {"Limit", 100}};
    if (start) req["ExclusiveStartKey"] = *start;
    const auto res = client.call("Scan", req);
    start.reset();
    if (const auto* last = res.if_contains("LastEvaluatedKey"); last && last->is_object()) start = last->as_object();

    const auto* items = res.if_contains("Items");
    for (const auto& item : items && items->is_array() ? items->as_array() : json::array{}) {
      ++p.scanned;
      if (!item.is_object()) continue;
      const auto id = get_string(item.as_object(), "userId");
      const auto raw_email = get_string(item.as_object(), "email");
      std::string email;
      try {
        if (!id || !raw_email) throw validation_failed("email", "missing");
        email = users::normalize_email(*raw_email);
      } catch (const error&) {
        ++p.skipped;
        continue;
      }
      try {
        const auto put = client.call("PutItem", {{"TableName", tables.emails},
                                                 {"Item", email_claim_item(email, *id, now_seconds())},
                                                 {"ConditionExpression", "attribute_not_exists(#e) OR #u = :me"},
                                                 {"ExpressionAttributeNames",
                                                  {{"#e", claim_attribute::email}, {"#u", claim_attribute::user_id}}},
                                                 {"ExpressionAttributeValues", {{":me", string_value(*id)}}},
                                                 {"ReturnValues", "ALL_OLD"}});
        if (put.contains("Attributes")) ++p.existing;
        else ++p.claimed;
      } catch (const service_error& e) {
        if (e.code() != conditional_check_failed) throw;
        ++p.conflicts;
        log::warn("migrate: e-mail already claimed by another user; left as it is", {{"user_id", *id}});
      }
    }
    if (report) report(p);
  } while (start);
  return p;
}

}  // namespace gatehouse::dynamodb
