#pragma once
// What `gatehouse doctor` asks of a user store beyond users::user_store:
// checks of the storage itself, an audit of the records (with the safe
// repairs), and the few reads and writes the image audit needs. Operator
// tooling, never on a request path: implementations (sqlite_integrity,
// dynamodb_integrity) live in files of their own, so the Lambda's IAM
// grants, derived from the request-path files, stay narrow.
#include "users/claim_takeover.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::users {

enum class check_status { ok, warn, fail };

inline constexpr std::string_view repaired_prefix = "repaired: ";

// Where checks report. One line per check or per finding: `check` is a
// short dotted name ("users.claim"), `detail` names user ids, object keys
// and counts, never a secret (no hash, no token, no full e-mail address).
// A finding fixed by a repair is an ok line whose detail starts with
// repaired_prefix; a finding left as it is, a fail line.
class integrity_report {
 public:
  virtual ~integrity_report() = default;
  virtual void line(check_status status, std::string_view check, std::string_view detail) = 0;
  // `done` items of `what` handled so far; called every progress_every items.
  virtual void progress(std::string_view what, std::size_t done) = 0;
};

struct integrity_options {
  bool repair = false;
  // A record this young may belong to a sign-up still in flight: an e-mail
  // claim without its user is judged stale only once older than this.
  std::int64_t claim_grace_seconds = claim_takeover_seconds;
  std::size_t progress_every = 1000;
};

// A user as the image audit needs it.
struct user_image_ref {
  std::string user_id;
  std::optional<std::string> profile_image;  // as stored: a key, or a URL of the Node.js version
};

class user_integrity {
 public:
  virtual ~user_integrity() = default;

  // The store's own health: SQLite's integrity_check and schema version;
  // DynamoDB's tables. Reports one line each; returns false when the
  // records cannot be audited (a table missing, a file SQLite cannot read).
  // Throws storage_unavailable when the store cannot be reached at all.
  virtual bool check_storage(integrity_report& report) = 0;

  // Audits the records: every user complete; DynamoDB: every e-mail claim
  // has its user and every user its claim; SQLite: no refresh token of a
  // user that is gone. With options.repair, fixes what is safely fixable
  // and reports each fix as ok; what it must leave is reported as fail.
  virtual void check_records(const integrity_options& options, integrity_report& report) = 0;

  // Every user with its profile image, page by page (bounded pages).
  virtual void for_each_user(const std::function<void(const user_image_ref&)>& visit) = 0;

  // The user's profile image as stored now; nullopt inside when it has none.
  // The outer nullopt: no such user.
  virtual std::optional<std::optional<std::string>> current_image(std::string_view user_id) = 0;

  // Clears the user's profile image, but only while it is still `stored`
  // (so an upload that lands meanwhile is kept). True when cleared.
  virtual bool clear_profile_image_if(std::string_view user_id, std::string_view stored) = 0;
};

// "a***@example.com": enough for an operator to recognise an address in a
// report, without printing it whole.
inline std::string masked_email(std::string_view email) {
  const auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0) return "***";
  std::string out(email.substr(0, 1));
  out += "***";
  out.append(email.substr(at));
  return out;
}

}  // namespace gatehouse::users
