#pragma once
// What `gatehouse migrate` does for DynamoDB: create missing tables (for
// local peers; in AWS the stack creates them; the refresh tokens and rate
// limits tables get their TTL, the refresh tokens table its sessions
// index) and backfill the e-mail claims of users
// written by the Node.js version, which had none.
#include "dynamodb/dynamodb_client.hpp"
#include "dynamodb/dynamodb_user_store.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace gatehouse::dynamodb {

// The tables of `tables` that DescribeTable does not find, and the tokens
// table's sessions index when that table lacks it (named with the remedy).
std::vector<std::string> missing_tables(dynamodb_client& client, const user_tables& tables);

// Creates each missing table (on-demand billing) and waits until it is ACTIVE.
void create_missing_tables(dynamodb_client& client, const user_tables& tables);

struct backfill_progress {
  std::size_t scanned = 0;    // user items read
  std::size_t claimed = 0;    // claims written now
  std::size_t existing = 0;   // claims that were already there (a re-run)
  std::size_t conflicts = 0;  // e-mails held by another user: left to an operator
  std::size_t skipped = 0;    // items without a usable e-mail
};

// Scans the users table and writes each user's e-mail claim. Idempotent:
// a re-run (after an interruption, say) only fills what is missing.
// `report` is called after each page.
backfill_progress backfill_email_claims(dynamodb_client& client, const user_tables& tables,
                                        const std::function<std::int64_t()>& now_seconds,
                                        const std::function<void(const backfill_progress&)>& report);

}  // namespace gatehouse::dynamodb
