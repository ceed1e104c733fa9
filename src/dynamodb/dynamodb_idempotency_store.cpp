#include "dynamodb/dynamodb_idempotency_store.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "dynamodb/attribute_values.hpp"

#include <utility>

namespace gatehouse::dynamodb {
namespace {

namespace json = boost::json;

[[noreturn]] void storage_failure(const service_error& e) {
  if (e.code() == "ResourceNotFoundException")
    log::error("dynamodb: idempotency table missing; run `gatehouse migrate --create-tables` or deploy the stack",
               {{"code", e.code()}});
  else
    log::error("dynamodb: idempotency request refused", {{"code", e.code()}});
  throw storage_unavailable("DynamoDB refused an idempotency request");
}

}  // namespace

dynamodb_idempotency_store::dynamodb_idempotency_store(dynamodb_client& client, std::string table)
    : client_(client), table_(std::move(table)) {}

bool dynamodb_idempotency_store::insert(const idempotency::record& r, std::int64_t now) {
  try {
    client_.call("PutItem", {{"TableName", table_},
                             {"Item",
                              {{"id", string_value(r.id)},
                               {"fingerprint", string_value(r.fingerprint)},
                               {"holder", string_value(r.holder)},
                               {"state", string_value(idempotency::state_name(r.state))},
                               {"leaseUntil", number_value(r.lease_until)},
                               {ttl_attribute, number_value(r.expires_at)}}},
                             {"ConditionExpression", "attribute_not_exists(#id) OR #x <= :now"},
                             {"ExpressionAttributeNames", {{"#id", "id"}, {"#x", ttl_attribute}}},
                             {"ExpressionAttributeValues", {{":now", number_value(now)}}}});
    return true;
  } catch (const service_error& e) {
    if (e.code() == conditional_check_failed) return false;
    storage_failure(e);
  }
}

std::optional<idempotency::record> dynamodb_idempotency_store::find(std::string_view id) {
  json::object res;
  try {
    res = client_.call("GetItem",
                       {{"TableName", table_}, {"Key", {{"id", string_value(id)}}}, {"ConsistentRead", true}});
  } catch (const service_error& e) {
    storage_failure(e);
  }
  const auto* item = res.if_contains("Item");
  if (!item || !item->is_object()) return std::nullopt;
  const auto& o = item->as_object();
  const auto fingerprint = get_string(o, "fingerprint");
  const auto holder = get_string(o, "holder");
  const auto state = get_string(o, "state");
  const auto lease = get_number(o, "leaseUntil");
  const auto expires = get_number(o, ttl_attribute);
  if (!fingerprint || !holder || !state || !lease || !expires) {
    log::error("dynamodb: an idempotency item lacks attributes", {});
    throw storage_unavailable("unreadable idempotency item");
  }
  return idempotency::record{std::string(id), *fingerprint, *holder, idempotency::state_named(*state), *lease, *expires,
                             get_string(o, "answer").value_or("")};
}

bool dynamodb_idempotency_store::conditional_update(std::string_view id, json::object fields) {
  fields["TableName"] = table_;
  fields["Key"] = {{"id", string_value(id)}};
  try {
    client_.call("UpdateItem", fields);
    return true;
  } catch (const service_error& e) {
    if (e.code() == conditional_check_failed) return false;
    storage_failure(e);
  }
}

bool dynamodb_idempotency_store::take_over(std::string_view id, std::string_view fingerprint,
                                           std::string_view holder, std::int64_t now, std::int64_t lease_until) {
  return conditional_update(
      id, {{"UpdateExpression", "SET #state = :running, #holder = :holder, #lease = :lease"},
           {"ConditionExpression",
            "#fp = :fp AND #x > :now AND (#state = :open OR (#state = :running AND #lease <= :now))"},
           {"ExpressionAttributeNames",
            {{"#fp", "fingerprint"}, {"#holder", "holder"}, {"#state", "state"}, {"#lease", "leaseUntil"},
             {"#x", ttl_attribute}}},
           {"ExpressionAttributeValues",
            {{":running", string_value("running")}, {":open", string_value("open")}, {":holder", string_value(holder)},
             {":lease", number_value(lease_until)}, {":fp", string_value(fingerprint)}, {":now", number_value(now)}}}});
}

void dynamodb_idempotency_store::settle(std::string_view id, std::string_view answer) {
  (void)conditional_update(id, {{"UpdateExpression", "SET #state = :settled, #answer = :answer"},
                                {"ConditionExpression", "attribute_exists(#id)"},
                                {"ExpressionAttributeNames", {{"#id", "id"}, {"#state", "state"}, {"#answer", "answer"}}},
                                {"ExpressionAttributeValues",
                                 {{":settled", string_value("settled")}, {":answer", string_value(answer)}}}});
}

void dynamodb_idempotency_store::release(std::string_view id) {
  (void)conditional_update(id, {{"UpdateExpression", "SET #state = :open, #lease = :zero"},
                                {"ConditionExpression", "#state = :running"},
                                {"ExpressionAttributeNames", {{"#state", "state"}, {"#lease", "leaseUntil"}}},
                                {"ExpressionAttributeValues",
                                 {{":open", string_value("open")}, {":running", string_value("running")},
                                  {":zero", number_value(0)}}}});
}

}  // namespace gatehouse::dynamodb
