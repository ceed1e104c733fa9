#include "dynamodb/dynamodb_user_store.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "crypto/crypto.hpp"
#include "dynamodb/attribute_values.hpp"
#include "dynamodb/email_claims.hpp"
#include "users/validation.hpp"

#include <boost/json/array.hpp>

namespace gatehouse::dynamodb {
namespace {

namespace json = boost::json;

constexpr std::string_view cursor_prefix = "d1:";
constexpr std::size_t max_cursor_chars = 512;

// An item of the original's shape; nullopt when it lacks what a user needs.
std::optional<users::user> user_from_item(const json::object& item) {
  auto id = get_string(item, "userId");
  auto email = get_string(item, "email");
  auto hash = get_string(item, "password");
  if (!id || !email || !hash) return std::nullopt;
  users::user u;
  u.user_id = std::move(*id);
  // The contract's e-mails are trimmed and lower-cased; the Node.js version
  // stored what the client typed.
  try {
    u.email = users::normalize_email(*email);
  } catch (const error&) {
    u.email = std::move(*email);
  }
  u.password_hash = std::move(*hash);
  u.name = get_string(item, "name").value_or("");
  u.profile_image_key = get_string(item, "profile_image");
  if (u.profile_image_key && u.profile_image_key->empty()) u.profile_image_key.reset();
  u.created_at = get_string(item, "createdAt").value_or("");
  u.email_verified = get_bool(item, "emailVerified").value_or(false);
  return u;
}

json::object item_from_user(const users::user& u) {
  json::object item{{"userId", string_value(u.user_id)},
                    {"name", string_value(u.name)},
                    {"email", string_value(u.email)},
                    {"password", string_value(u.password_hash)},
                    {"createdAt", string_value(u.created_at)}};
  if (u.profile_image_key) item["profile_image"] = string_value(*u.profile_image_key);
  if (u.email_verified) item["emailVerified"] = bool_value(true);
  return item;
}

}  // namespace

std::string encode_cursor(const std::string& user_id) {
  return crypto::base64url_encode(std::string(cursor_prefix) + user_id);
}

std::string decode_cursor(std::string_view cursor) {
  const auto bad = [] { return validation_failed("cursor", "cursor is not one this server returned"); };
  if (cursor.empty() || cursor.size() > max_cursor_chars) throw bad();
  const auto text = crypto::base64url_decode(cursor);
  if (!text || text->size() <= cursor_prefix.size() || text->compare(0, cursor_prefix.size(), cursor_prefix) != 0)
    throw bad();
  std::string id = text->substr(cursor_prefix.size());
  for (unsigned char c : id)
    if (c < 0x21 || c == 0x7F) throw bad();
  return id;
}

namespace {

bool is_condition_failure(const service_error& e) { return e.code() == conditional_check_failed; }

// A table that does not exist is an operator's mistake, not a client's.
[[noreturn]] void missing_table(const service_error& e) {
  log::error("dynamodb: table missing; run `gatehouse migrate --create-tables` or deploy the stack",
             {{"code", e.code()}});
  throw storage_unavailable("DynamoDB table missing");
}

}  // namespace

dynamodb_user_store::dynamodb_user_store(dynamodb_client& client, user_tables tables,
                                         std::function<std::int64_t()> now_seconds,
                                         std::chrono::seconds claim_takeover_after)
    : client_(client),
      tables_(std::move(tables)),
      now_seconds_(std::move(now_seconds)),
      claim_takeover_after_(claim_takeover_after) {}

std::optional<std::string> dynamodb_user_store::claim_owner(const std::string& email) {
  const auto res = client_.call("GetItem", {{"TableName", tables_.emails},
                                            {"Key", email_claim_key(email)},
                                            {"ConsistentRead", true}});
  const auto* item = res.if_contains("Item");
  if (!item || !item->is_object()) return std::nullopt;
  return email_claim_of(email, item->as_object()).user_id;
}

dynamodb_user_store::claim_result dynamodb_user_store::claim_email(const std::string& email,
                                                                   const std::string& user_id) {
  const json::object claim = email_claim_item(email, user_id, now_seconds_());
  try {
    client_.call("PutItem", {{"TableName", tables_.emails},
                             {"Item", claim},
                             {"ConditionExpression", "attribute_not_exists(#e)"},
                             {"ExpressionAttributeNames", {{"#e", claim_attribute::email}}}});
    return claim_result::claimed;
  } catch (const service_error& e) {
    if (!is_condition_failure(e)) throw;
  }

  // Someone holds the claim. Taken, unless it is stale: no user behind it
  // and older than any sign-up could take.
  const auto res = client_.call("GetItem", {{"TableName", tables_.emails},
                                            {"Key", email_claim_key(email)},
                                            {"ConsistentRead", true}});
  const auto* item = res.if_contains("Item");
  if (!item || !item->is_object()) return claim_result::taken;  // released meanwhile: let the client retry
  const auto held = email_claim_of(email, item->as_object());
  const auto& owner = held.user_id;
  // Our own claim: an earlier attempt of this PutItem took effect and its
  // answer was lost, so the client's retry met its own write.
  if (owner == user_id) return claim_result::claimed;
  const auto claimed_at = held.claimed_at.value_or(0);
  if (!owner || now_seconds_() - claimed_at < claim_takeover_after_.count()) return claim_result::taken;
  // Live while its user exists with that e-mail; a claim whose user has
  // moved to another address (an e-mail change that stopped half-way) is
  // as stale as one whose user is gone.
  if (const auto holder = find_by_id(*owner); holder && holder->email == email) return claim_result::taken;

  try {
    client_.call("PutItem", {{"TableName", tables_.emails},
                             {"Item", claim},
                             {"ConditionExpression", "#u = :stale"},
                             {"ExpressionAttributeNames", {{"#u", claim_attribute::user_id}}},
                             {"ExpressionAttributeValues", {{":stale", string_value(*owner)}}}});
    log::info("dynamodb: took over a stale e-mail claim", {{"user_id", user_id}});
    return claim_result::claimed;
  } catch (const service_error& e) {
    if (is_condition_failure(e)) return claim_result::taken;
    throw;
  }
}

void dynamodb_user_store::release_claim(const std::string& email, const std::string& user_id) {
  try {
    client_.call("DeleteItem", {{"TableName", tables_.emails},
                                {"Key", email_claim_key(email)},
                                {"ConditionExpression", "#u = :me"},
                                {"ExpressionAttributeNames", {{"#u", claim_attribute::user_id}}},
                                {"ExpressionAttributeValues", {{":me", string_value(user_id)}}}});
  } catch (const std::exception&) {
    // Left behind, the claim is stale and the next sign-up takes it over.
    log::warn("dynamodb: could not release an e-mail claim", {{"user_id", user_id}});
  }
}

bool dynamodb_user_store::create(const users::user& u) {
  try {
    if (claim_email(u.email, u.user_id) == claim_result::taken) return false;
    // Without an answer at all (storage_unavailable) the user may have been
    // written: the claim stays with it, so the address never gets a second
    // user. A retry of the action finds both (accounts::account_service::
    // sign_up); a claim whose user never came is stale and taken over after
    // claim_takeover_after.
    try {
      client_.call("PutItem", {{"TableName", tables_.users},
                               {"Item", item_from_user(u)},
                               {"ConditionExpression", "attribute_not_exists(#id)"},
                               {"ExpressionAttributeNames", {{"#id", "userId"}}}});
    } catch (const service_error& e) {
      // The id is this sign-up's own: a record already there is an earlier
      // attempt of this PutItem whose answer was lost.
      if (!is_condition_failure(e) || !holds_exactly(u)) {
        release_claim(u.email, u.user_id);
        throw;
      }
    }
    // A takeover may have won while our user was being written.
    if (claim_owner(u.email) != u.user_id) {
      client_.call("DeleteItem", {{"TableName", tables_.users}, {"Key", {{"userId", string_value(u.user_id)}}}});
      return false;
    }
    return true;
  } catch (const service_error& e) {
    if (e.code() == "ResourceNotFoundException") missing_table(e);
    throw storage_unavailable("DynamoDB rejected the sign-up");
  }
}

std::optional<users::user> dynamodb_user_store::find_by_id(std::string_view user_id) {
  try {
    const auto res = client_.call("GetItem", {{"TableName", tables_.users},
                                              {"Key", {{"userId", string_value(user_id)}}},
                                              {"ConsistentRead", true}});
    const auto* item = res.if_contains("Item");
    if (!item || !item->is_object()) return std::nullopt;
    return user_from_item(item->as_object());
  } catch (const service_error& e) {
    missing_table(e);
  }
}

std::optional<users::user> dynamodb_user_store::find_by_email(std::string_view email) {
  try {
    // The claim is keyed by the normalised e-mail and is authoritative: the
    // item may hold the Node.js version's original spelling.
    const auto owner = claim_owner(std::string(email));
    // An unknown e-mail reads a user too, by a fresh random id no user has,
    // so both answers cost the same two consistent GetItems of the same
    // tables: with one read fewer, the login's time would tell whether an
    // account exists however evenly the password check is timed.
    auto found = find_by_id(owner ? *owner : crypto::uuid_v4());
    if (!owner) return std::nullopt;
    // A claim taken for an e-mail change that has not (or never) finished
    // names a user who still has the old address.
    if (found && found->email != email) return std::nullopt;
    return found;
  } catch (const service_error& e) {
    missing_table(e);
  }
}

users::user_page dynamodb_user_store::list(std::size_t limit, std::optional<std::string_view> cursor) {
  if (limit == 0) throw validation_failed("limit", "limit must be at least 1");
  std::optional<std::string> start;
  if (cursor) start = decode_cursor(*cursor);

  users::user_page page;
  // One more than asked, so the last page is known to be the last.
  try {
    while (page.users.size() <= limit) {
      json::object req{{"TableName", tables_.users},
                       {"Limit", static_cast<std::int64_t>(limit + 1 - page.users.size())}};
      if (start) req["ExclusiveStartKey"] = json::object{{"userId", string_value(*start)}};
      const auto res = client_.call("Scan", req);
      if (const auto* items = res.if_contains("Items"); items && items->is_array()) {
        for (const auto& item : items->as_array()) {
          if (!item.is_object()) continue;
          if (auto u = user_from_item(item.as_object())) page.users.push_back(std::move(*u));
        }
      }
      const auto* last = res.if_contains("LastEvaluatedKey");
      if (!last || !last->is_object()) break;
      start = get_string(last->as_object(), "userId");
      if (!start) break;
    }
  } catch (const service_error& e) {
    missing_table(e);
  }
  if (page.users.size() > limit) {
    page.users.resize(limit);
    page.next_cursor = encode_cursor(page.users.back().user_id);
  }
  return page;
}

users::image_swap dynamodb_user_store::set_profile_image(std::string_view user_id, std::string_view key) {
  try {
    const auto res = client_.call("UpdateItem", {{"TableName", tables_.users},
                                                 {"Key", {{"userId", string_value(user_id)}}},
                                                 {"UpdateExpression", "SET #img = :k"},
                                                 {"ConditionExpression", "attribute_exists(#id)"},
                                                 {"ExpressionAttributeNames", {{"#img", "profile_image"}, {"#id", "userId"}}},
                                                 {"ExpressionAttributeValues", {{":k", string_value(key)}}},
                                                 {"ReturnValues", "UPDATED_OLD"}});
    users::image_swap swap{true, std::nullopt};
    if (const auto* old = res.if_contains("Attributes"); old && old->is_object())
      swap.previous_key = get_string(old->as_object(), "profile_image");
    if (swap.previous_key && swap.previous_key->empty()) swap.previous_key.reset();
    return swap;
  } catch (const service_error& e) {
    if (is_condition_failure(e)) return {false, std::nullopt};
    missing_table(e);
  }
}

bool dynamodb_user_store::replace_password_hash(std::string_view user_id, std::string_view old_hash,
                                                std::string_view new_hash) {
  try {
    client_.call("UpdateItem", {{"TableName", tables_.users},
                                {"Key", {{"userId", string_value(user_id)}}},
                                {"UpdateExpression", "SET #pw = :new"},
                                {"ConditionExpression", "#pw = :old"},
                                {"ExpressionAttributeNames", {{"#pw", "password"}}},
                                {"ExpressionAttributeValues", {{":new", string_value(new_hash)},
                                                               {":old", string_value(old_hash)}}}});
    return true;
  } catch (const service_error& e) {
    // A retry whose first attempt took effect (its answer lost) meets the
    // new hash: salted, so no other change can have written the same one.
    if (is_condition_failure(e)) {
      const auto stored = find_by_id(user_id);
      return stored && stored->password_hash == new_hash;
    }
    missing_table(e);
  }
}

// Whether the users table holds `u` as create() writes it.
bool dynamodb_user_store::holds_exactly(const users::user& u) {
  const auto stored = find_by_id(u.user_id);
  return stored && stored->email == u.email && stored->password_hash == u.password_hash;
}

// The stored spelling of the user's e-mail, when it normalises to `email`:
// items the Node.js version wrote keep what the client typed, and the
// conditions below must name the stored value.
std::optional<std::string> dynamodb_user_store::stored_email_if(std::string_view user_id, std::string_view email) {
  const auto res = client_.call("GetItem", {{"TableName", tables_.users},
                                            {"Key", {{"userId", string_value(user_id)}}},
                                            {"ConsistentRead", true}});
  const auto* item = res.if_contains("Item");
  if (!item || !item->is_object()) return std::nullopt;
  auto stored = get_string(item->as_object(), "email");
  const auto u = user_from_item(item->as_object());
  if (!stored || !u || u->email != email) return std::nullopt;
  return stored;
}

bool dynamodb_user_store::mark_email_verified(std::string_view user_id, std::string_view email) {
  try {
    const auto stored = stored_email_if(user_id, email);
    if (!stored) return false;
    client_.call("UpdateItem", {{"TableName", tables_.users},
                                {"Key", {{"userId", string_value(user_id)}}},
                                {"UpdateExpression", "SET #v = :yes"},
                                {"ConditionExpression", "#e = :e"},
                                {"ExpressionAttributeNames", {{"#v", "emailVerified"}, {"#e", "email"}}},
                                {"ExpressionAttributeValues", {{":yes", bool_value(true)}, {":e", string_value(*stored)}}}});
    return true;
  } catch (const service_error& e) {
    if (is_condition_failure(e)) return false;
    missing_table(e);
  }
}

bool dynamodb_user_store::rename(std::string_view user_id, std::string_view name) {
  try {
    client_.call("UpdateItem", {{"TableName", tables_.users},
                                {"Key", {{"userId", string_value(user_id)}}},
                                {"UpdateExpression", "SET #n = :n"},
                                {"ConditionExpression", "attribute_exists(#id)"},
                                {"ExpressionAttributeNames", {{"#n", "name"}, {"#id", "userId"}}},
                                {"ExpressionAttributeValues", {{":n", string_value(name)}}}});
    return true;
  } catch (const service_error& e) {
    if (is_condition_failure(e)) return false;
    missing_table(e);
  }
}

// Like sign-up, without transactions: claim the new e-mail, move the user
// (conditioned on the old one), check that no takeover won the claim
// meanwhile, then release the old claim. A crash between the steps leaves
// a claim whose user has another address, which claim_email treats as
// stale; the user keeps exactly one of the two addresses throughout.
users::email_change dynamodb_user_store::change_email(std::string_view user_id, std::string_view old_email,
                                                      std::string_view new_email) {
  const std::string id(user_id), from(old_email), to(new_email);
  try {
    if (claim_email(to, id) == claim_result::taken) return users::email_change::taken;
    const auto stored = stored_email_if(id, from);
    if (!stored) {
      release_claim(to, id);
      return users::email_change::stale;
    }
    try {
      client_.call("UpdateItem", {{"TableName", tables_.users},
                                  {"Key", {{"userId", string_value(id)}}},
                                  {"UpdateExpression", "SET #e = :to, #v = :yes"},
                                  {"ConditionExpression", "#e = :from"},
                                  {"ExpressionAttributeNames", {{"#e", "email"}, {"#v", "emailVerified"}}},
                                  {"ExpressionAttributeValues", {{":to", string_value(to)},
                                                                 {":yes", bool_value(true)},
                                                                 {":from", string_value(*stored)}}}});
    } catch (const service_error& e) {
      // A retry whose first attempt took effect meets the new address.
      const bool moved = is_condition_failure(e) && stored_email_if(id, to).has_value();
      if (!moved) {
        release_claim(to, id);
        if (is_condition_failure(e)) return users::email_change::stale;
        throw;
      }
    }
    if (claim_owner(to) != id) {
      // A takeover judged our claim stale and won: give the address back.
      client_.call("UpdateItem", {{"TableName", tables_.users},
                                  {"Key", {{"userId", string_value(id)}}},
                                  {"UpdateExpression", "SET #e = :from"},
                                  {"ConditionExpression", "#e = :to"},
                                  {"ExpressionAttributeNames", {{"#e", "email"}}},
                                  {"ExpressionAttributeValues", {{":to", string_value(to)},
                                                                 {":from", string_value(*stored)}}}});
      return users::email_change::taken;
    }
    release_claim(from, id);
    return users::email_change::changed;
  } catch (const service_error& e) {
    if (e.code() == "ResourceNotFoundException") missing_table(e);
    throw storage_unavailable("DynamoDB rejected the e-mail change");
  }
}

bool dynamodb_user_store::remove(std::string_view user_id, std::string_view email) {
  try {
    const auto res = client_.call("DeleteItem", {{"TableName", tables_.users},
                                                 {"Key", {{"userId", string_value(user_id)}}},
                                                 {"ReturnValues", "ALL_OLD"}});
    const auto* old = res.if_contains("Attributes");
    const bool existed = old && old->is_object() && !old->as_object().empty();
    // The user first, then its claim: a claim without its user is what a
    // sign-up that died halfway leaves, which sign-up takes over after its
    // takeover age and `gatehouse doctor --repair` deletes. The other order
    // would leave a user without its claim, which doctor --repair restores.
    if (!email.empty()) release_claim(std::string(email), std::string(user_id));
    return existed;
  } catch (const service_error& e) {
    missing_table(e);
  }
}

}  // namespace gatehouse::dynamodb
