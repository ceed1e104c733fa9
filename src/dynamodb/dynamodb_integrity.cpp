#include "dynamodb/dynamodb_integrity.hpp"

#include "base/error.hpp"
#include "dynamodb/attribute_values.hpp"
#include "dynamodb/email_claims.hpp"
#include "users/validation.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>
#include <vector>

namespace gatehouse::dynamodb {
namespace {

namespace json = boost::json;
using users::check_status;

// The attributes every user item needs (dynamodb_user_store.hpp).
constexpr const char* required_attributes[] = {"userId", "name", "email", "password", "createdAt"};

// Every item of `table`, page by page, read consistently.
void scan(dynamodb_client& client, const std::string& table, std::int64_t page, const json::object& extra,
          const std::function<void(const json::object&)>& visit) {
  std::optional<json::object> start;
  do {
    json::object req{{"TableName", table}, {"ConsistentRead", true}, {"Limit", page}};
    for (const auto& kv : extra) req[kv.key()] = kv.value();
    if (start) req["ExclusiveStartKey"] = *start;
    const auto res = client.call("Scan", req);
    start.reset();
    if (const auto* last = res.if_contains("LastEvaluatedKey"); last && last->is_object() && !last->as_object().empty())
      start = last->as_object();
    if (const auto* items = res.if_contains("Items"); items && items->is_array())
      for (const auto& item : items->as_array())
        if (item.is_object()) visit(item.as_object());
  } while (start);
}

using claim = email_claim;

struct user_item {
  std::string id;
  std::optional<std::string> email;  // normalised; nullopt when missing or unusable
};

std::optional<claim> read_claim(dynamodb_client& client, const std::string& table, const std::string& email) {
  const auto res = client.call("GetItem", {{"TableName", table},
                                           {"Key", email_claim_key(email)},
                                           {"ConsistentRead", true}});
  const auto* item = res.if_contains("Item");
  if (!item || !item->is_object()) return std::nullopt;
  return email_claim_of(email, item->as_object());
}

bool user_exists(dynamodb_client& client, const std::string& table, const std::string& user_id) {
  const auto res = client.call("GetItem", {{"TableName", table},
                                           {"Key", {{"userId", string_value(user_id)}}},
                                           {"ConsistentRead", true},
                                           {"ProjectionExpression", "#id"},
                                           {"ExpressionAttributeNames", {{"#id", "userId"}}}});
  const auto* item = res.if_contains("Item");
  return item && item->is_object() && !item->as_object().empty();
}

// Deletes the claim only while it is exactly what was read: a sign-up that
// took the e-mail over meanwhile wrote another userId and claimedAt.
bool delete_claim_if_unchanged(dynamodb_client& client, const std::string& table, const claim& c) {
  std::string condition;
  json::object names{{"#e", claim_attribute::email},
                     {"#u", claim_attribute::user_id},
                     {"#t", claim_attribute::claimed_at}};
  json::object values;
  condition = "attribute_exists(#e)";
  if (c.user_id) {
    condition += " AND #u = :u";
    values[":u"] = string_value(*c.user_id);
  } else {
    condition += " AND attribute_not_exists(#u)";
  }
  if (c.claimed_at) {
    condition += " AND #t = :t";
    values[":t"] = number_value(*c.claimed_at);
  } else {
    condition += " AND attribute_not_exists(#t)";
  }
  json::object req{{"TableName", table},
                   {"Key", email_claim_key(c.email)},
                   {"ConditionExpression", condition},
                   {"ExpressionAttributeNames", std::move(names)}};
  if (!values.empty()) req["ExpressionAttributeValues"] = std::move(values);
  try {
    client.call("DeleteItem", req);
    return true;
  } catch (const service_error& e) {
    if (e.code() == conditional_check_failed) return false;
    throw;
  }
}

std::string owner_text(const claim& c) { return c.user_id ? "user " + *c.user_id : "no user id"; }

}  // namespace

dynamodb_integrity::dynamodb_integrity(dynamodb_client& client, user_tables tables,
                                       std::function<std::int64_t()> now_seconds, std::size_t scan_page)
    : client_(client),
      tables_(std::move(tables)),
      now_seconds_(std::move(now_seconds)),
      scan_page_(static_cast<std::int64_t>(std::clamp<std::size_t>(scan_page, 1, 1000))) {}

bool dynamodb_integrity::check_storage(users::integrity_report& report) {
  std::vector<std::string> present, missing;
  bool auditable = true;
  for (const auto* name : {&tables_.users, &tables_.emails, &tables_.tokens, &tables_.limits}) {
    if (name->empty()) continue;
    try {
      client_.call("DescribeTable", {{"TableName", *name}});
      present.push_back(*name);
    } catch (const service_error& e) {
      if (e.code() != "ResourceNotFoundException") throw;
      missing.push_back(*name);
      if (name == &tables_.users || name == &tables_.emails) auditable = false;
    }
  }
  const auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  };
  if (missing.empty())
    report.line(check_status::ok, "dynamodb.tables", join(present) + " exist");
  else
    report.line(check_status::fail, "dynamodb.tables",
                "missing: " + join(missing) +
                    " (deploy the stack, or run `gatehouse migrate --create-tables` against a local peer)");
  return auditable;
}

void dynamodb_integrity::check_records(const users::integrity_options& options, users::integrity_report& report) {
  const std::int64_t now = now_seconds_();
  const std::size_t every = std::max<std::size_t>(1, options.progress_every);
  std::size_t findings = 0;

  // Claims first, then users: a sign-up writes its claim before its user,
  // so a user the second scan sees has a claim the first scan saw, or one
  // written since (looked up again below before anything is reported).
  std::map<std::string, claim> claims;  // by e-mail
  scan(client_, tables_.emails, scan_page_, {}, [&](const json::object& item) {
    auto email = get_string(item, claim_attribute::email);
    if (!email) return;  // the table's key: always there
    claims[*email] = email_claim_of(*email, item);
    if (claims.size() % every == 0) report.progress("claims", claims.size());
  });

  std::unordered_map<std::string, user_item> users_by_id;
  std::map<std::string, std::vector<std::string>> users_of_email;
  scan(client_, tables_.users, scan_page_, {}, [&](const json::object& item) {
    auto id = get_string(item, "userId");
    if (!id) return;  // the table's key: always there
    std::string lacks;
    for (const char* attr : required_attributes) {
      const auto v = get_string(item, attr);
      if (!v || v->empty()) lacks += std::string(lacks.empty() ? "" : ", ") + attr;
    }
    user_item u{*id, std::nullopt};
    if (auto raw = get_string(item, "email"); raw && !raw->empty()) {
      try {
        u.email = users::normalize_email(*raw);
      } catch (const error&) {
        ++findings;
        report.line(check_status::fail, "users.item",
                    "user " + *id + " has an e-mail that is not one (not repairable here: it cannot log in)");
      }
    }
    if (!lacks.empty()) {
      ++findings;
      report.line(check_status::fail, "users.item",
                  "user " + *id + " lacks " + lacks + " (not repairable here: restore it from a backup or delete it)");
    }
    if (u.email) users_of_email[*u.email].push_back(*id);
    users_by_id.emplace(*id, std::move(u));
    if (users_by_id.size() % every == 0) report.progress("users", users_by_id.size());
  });

  // Every claim has its user, with that e-mail.
  std::size_t in_flight = 0;
  for (auto it = claims.begin(); it != claims.end();) {
    const claim& c = it->second;
    const auto owner = c.user_id ? users_by_id.find(*c.user_id) : users_by_id.end();
    if (owner != users_by_id.end()) {
      if (owner->second.email != c.email) {
        ++findings;
        report.line(check_status::fail, "users.claim",
                    "the claim on " + users::masked_email(c.email) + " names user " + owner->first +
                        ", whose e-mail is another (not repaired: check both by hand)");
      }
      ++it;
      continue;
    }
    // Written after the users scan? Then the sign-up is complete.
    if (c.user_id && user_exists(client_, tables_.users, *c.user_id)) {
      ++it;
      continue;
    }
    const std::int64_t age = c.claimed_at ? now - *c.claimed_at : std::numeric_limits<std::int64_t>::max();
    if (age < options.claim_grace_seconds) {
      ++in_flight;  // a sign-up may be between its claim and its user
      ++it;
      continue;
    }
    const std::string what = "the claim on " + users::masked_email(c.email) + " names " + owner_text(c) +
                             ", which does not exist" +
                             (c.claimed_at ? " (stale: claimed " + std::to_string(age) + " s ago)" : " (stale)");
    if (!options.repair) {
      ++findings;
      report.line(check_status::fail, "users.claim", what);
      ++it;
    } else if (delete_claim_if_unchanged(client_, tables_.emails, c)) {
      report.line(check_status::ok, "users.claim", std::string(users::repaired_prefix) + "deleted " + what);
      it = claims.erase(it);  // the e-mail is free: a user below may claim it
    } else {
      ++findings;
      report.line(check_status::fail, "users.claim", what + "; it changed while doctor ran (run doctor again)");
      ++it;
    }
  }

  // Every user has its claim; users sharing an e-mail are an operator's call.
  for (const auto& [email, ids] : users_of_email) {
    const auto held = claims.find(email);
    if (ids.size() > 1) {
      std::string list;
      for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
      ++findings;
      report.line(check_status::fail, "users.email",
                  "users " + list + " share the e-mail " + users::masked_email(email) +
                      (held != claims.end() && held->second.user_id ? "; the claim names " + *held->second.user_id
                                                                      : "; none holds its claim") +
                      " (not repaired: keep one, by hand)");
      continue;
    }
    const std::string& id = ids.front();
    if (held != claims.end() && held->second.user_id == id) continue;
    // Looked up again: a claim written after the claims scan is not in `claims`.
    auto now_held = read_claim(client_, tables_.emails, email);
    if (now_held && now_held->user_id == id) continue;
    if (now_held) {
      ++findings;
      report.line(check_status::fail, "users.claim",
                  "user " + id + " has no e-mail claim: the claim on " + users::masked_email(email) + " names " +
                      owner_text(*now_held) + " (not repaired: two sign-ups hold one e-mail; check by hand)");
      continue;
    }
    const std::string what = "user " + id + " has no e-mail claim (it cannot log in)";
    if (!options.repair) {
      ++findings;
      report.line(check_status::fail, "users.claim", what);
      continue;
    }
    try {
      client_.call("PutItem", {{"TableName", tables_.emails},
                               {"Item", email_claim_item(email, id, now_seconds_())},
                               {"ConditionExpression", "attribute_not_exists(#e)"},
                               {"ExpressionAttributeNames", {{"#e", claim_attribute::email}}}});
      report.line(check_status::ok, "users.claim", std::string(users::repaired_prefix) + "wrote the missing claim: " + what);
      claims[email] = claim{email, id, now_seconds_()};
    } catch (const service_error& e) {
      if (e.code() != conditional_check_failed) throw;
      ++findings;
      report.line(check_status::fail, "users.claim",
                  what + "; its e-mail was claimed meanwhile by another sign-up (not repaired: check by hand)");
    }
  }

  if (findings == 0)
    report.line(check_status::ok, "users.claim",
                std::to_string(users_by_id.size()) + " users, " + std::to_string(claims.size()) +
                    " e-mail claims: every claim has its user and every user its claim" +
                    (in_flight ? "; " + std::to_string(in_flight) + " claim(s) younger than " +
                                     std::to_string(options.claim_grace_seconds) + " s left alone (sign-ups in flight)"
                               : ""));
}

void dynamodb_integrity::for_each_user(const std::function<void(const users::user_image_ref&)>& visit) {
  scan(client_, tables_.users, scan_page_,
       {{"ProjectionExpression", "#id, #img"},
        {"ExpressionAttributeNames", {{"#id", "userId"}, {"#img", "profile_image"}}}},
       [&](const json::object& item) {
         auto id = get_string(item, "userId");
         if (!id) return;
         auto image = get_string(item, "profile_image");
         if (image && image->empty()) image.reset();
         visit(users::user_image_ref{std::move(*id), std::move(image)});
       });
}

std::optional<std::optional<std::string>> dynamodb_integrity::current_image(std::string_view user_id) {
  const auto res = client_.call("GetItem", {{"TableName", tables_.users},
                                            {"Key", {{"userId", string_value(user_id)}}},
                                            {"ConsistentRead", true},
                                            {"ProjectionExpression", "#id, #img"},
                                            {"ExpressionAttributeNames", {{"#id", "userId"}, {"#img", "profile_image"}}}});
  const auto* item = res.if_contains("Item");
  if (!item || !item->is_object() || item->as_object().empty()) return std::nullopt;
  // The user exists; an absent or empty attribute means no image.
  const auto image = get_string(item->as_object(), "profile_image");
  if (!image || image->empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::in_place, *image);
}

bool dynamodb_integrity::clear_profile_image_if(std::string_view user_id, std::string_view stored) {
  try {
    client_.call("UpdateItem", {{"TableName", tables_.users},
                                {"Key", {{"userId", string_value(user_id)}}},
                                {"UpdateExpression", "REMOVE #img"},
                                {"ConditionExpression", "#img = :k"},
                                {"ExpressionAttributeNames", {{"#img", "profile_image"}}},
                                {"ExpressionAttributeValues", {{":k", string_value(stored)}}}});
    return true;
  } catch (const service_error& e) {
    if (e.code() == conditional_check_failed) return false;
    throw;
  }
}

}  // namespace gatehouse::dynamodb
