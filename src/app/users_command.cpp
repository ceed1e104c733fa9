#include "app/users_command.hpp"

#include "app/store_settings.hpp"

#include "aws/aws_client.hpp"
#include "aws/credential_providers.hpp"
#include "aws/http_client.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/text.hpp"
#include "dynamodb/dynamodb_client.hpp"
#include "dynamodb/dynamodb_user_admin.hpp"
#include "dynamodb/dynamodb_user_store.hpp"
#include "images/image_key.hpp"
#include "images/object_inventory.hpp"
#include "sqlite/database.hpp"
#include "sqlite/migrations.hpp"
#include "sqlite/sqlite_user_admin.hpp"
#include "sqlite/sqlite_user_store.hpp"
#include "users/user_admin.hpp"
#include "users/user_store.hpp"
#include "users/validation.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

namespace gatehouse::app {

// The exit codes every users command shares; the usage errors come last.
#define GATEHOUSE_USERS_EXIT_2_3                                                 \
  "  2  the configuration does not load (or no AWS credentials)\n"               \
  "  3  the store cannot be reached or used (no database at DATA_DIR, a table\n" \
  "     or bucket missing, a request refused or timed out)\n"
#define GATEHOUSE_USERS_EXIT_USAGE                                                 \
  "  100-127  usage errors, with CLI11's own codes: 105 a value out of range,\n" \
  "     106 a missing argument or subcommand, 109 an unexpected argument"

const std::string_view users_help =
    "Operator commands on the users of the store that serve uses, chosen by the same\n"
    "environment variables: DATA_DIR (SQLite and files), or USERS_TABLE and\n"
    "PROFILE_IMAGES_BUCKET with AWS_REGION and the AWS credentials. Nothing is created\n"
    "and no JWT secret is needed. Data goes to stdout; messages, the prompt of delete\n"
    "and progress (only when stderr is a terminal) go to stderr.\n"
    "Examples:\n"
    "  gatehouse users list\n"
    "  gatehouse users list --json | jq -r .email\n"
    "  gatehouse users get ada@example.com\n"
    "  gatehouse users delete 5f0c1e9a-8d4b-4c53-9a6e-2b7d3f1a0c44\n"
    "  USERS_TABLE=prod-users AWS_REGION=eu-west-2 gatehouse users delete ada@example.com --yes\n"
    "Exit codes:\n"
    "  0  done\n"
    "  1  no user with that id or e-mail (get, delete)\n" GATEHOUSE_USERS_EXIT_2_3
    "  4  delete refused: not confirmed (no --yes, and stdin is not a terminal or\n"
    "     the answer was not \"yes\")\n" GATEHOUSE_USERS_EXIT_USAGE;

const std::string_view users_list_help =
    "One line per user, tab-separated: userId, e-mail, name, createdAt, and whether\n"
    "the user has a profile image (yes/no). With --json, one JSON object per line:\n"
    "{\"userId\", \"email\", \"name\", \"createdAt\", \"hasImage\"}. Never a password hash.\n"
    "Pages through the store's own list (SQLite keyset, DynamoDB Scan) with its cursors;\n"
    "nothing else is printed to stdout. Progress goes to stderr when it is a terminal.\n"
    "Examples:\n"
    "  gatehouse users list\n"
    "  gatehouse users list --limit 20\n"
    "  gatehouse users list --json | jq -r 'select(.hasImage) | .userId'\n"
    "Exit codes:\n"
    "  0  every user listed (none is fine)\n" GATEHOUSE_USERS_EXIT_2_3 GATEHOUSE_USERS_EXIT_USAGE;

const std::string_view users_get_help =
    "An argument with an '@' is an e-mail address (trimmed and lower-cased, as sign-up\n"
    "stores it); anything else is a user id. Prints userId, email, name, createdAt and\n"
    "the stored profile image key (or none); with --json, one JSON object with those\n"
    "(\"profileImage\" is null without one) and \"hasImage\". Never a password hash.\n"
    "Examples:\n"
    "  gatehouse users get 5f0c1e9a-8d4b-4c53-9a6e-2b7d3f1a0c44\n"
    "  gatehouse users get Ada@Example.com --json\n"
    "Exit codes:\n"
    "  0  found and printed\n"
    "  1  no user with that id or e-mail\n" GATEHOUSE_USERS_EXIT_2_3 GATEHOUSE_USERS_EXIT_USAGE;

const std::string_view users_delete_help =
    "Deletes, in this order: every object under profile-images/<userId>/ and\n"
    "profile-images/uploads/<userId>/ (and the one the user's profile_image names),\n"
    "every refresh token of the user (each login's family revoked, then deleted),\n"
    "the user record, its e-mail claim (DynamoDB), and then once more any object or\n"
    "refresh token a running server stored meanwhile.\n"
    "Stopped before the record, run it again to finish; stopped after it,\n"
    "`gatehouse doctor --repair` removes what is left. Asks first on a terminal (type\n"
    "yes); without a terminal on stdin it refuses unless --yes is given.\n"
    "Examples:\n"
    "  gatehouse users delete ada@example.com\n"
    "  gatehouse users delete 5f0c1e9a-8d4b-4c53-9a6e-2b7d3f1a0c44 --yes\n"
    "Exit codes:\n"
    "  0  deleted\n"
    "  1  no user with that id or e-mail (already deleted: nothing was done)\n" GATEHOUSE_USERS_EXIT_2_3
    "  4  refused: not confirmed (no --yes, and stdin is not a terminal or the\n"
    "     answer was not \"yes\"); nothing was deleted\n" GATEHOUSE_USERS_EXIT_USAGE;

#undef GATEHOUSE_USERS_EXIT_2_3
#undef GATEHOUSE_USERS_EXIT_USAGE

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// Longer than any id Gatehouse or the Node.js version makes; DynamoDB
// keys stop at 2048 bytes.
constexpr std::size_t max_user_id_chars = 128;

// Ends a command with `code`; what() is the message for stderr.
struct command_failure : std::runtime_error {
  command_failure(int exit_code, const std::string& message) : std::runtime_error(message), code(exit_code) {}
  int code;
};


// A stored value on one terminal line: control characters (tabs and line
// breaks included, which would break the columns) become spaces.
std::string printable(std::string_view text) {
  std::string out(text.substr(0, 2000));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  return out;
}

void say(const users_console& c, std::string_view command, const std::string& message) {
  std::fprintf(c.err, "gatehouse users %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               printable(message).c_str());
  std::fflush(c.err);
}

// One line on stderr rewritten in place, only when stderr is a terminal;
// erased when done, so what stays on the screen is the data.
class progress_line {
 public:
  explicit progress_line(const users_console& c) : c_(c) {}
  ~progress_line() { clear(); }
  progress_line(const progress_line&) = delete;
  progress_line& operator=(const progress_line&) = delete;

  void show(const std::string& text) {
    if (!c_.err_is_terminal) return;
    std::fprintf(c_.err, "\r\033[K%s", text.c_str());
    std::fflush(c_.err);
    shown_ = true;
  }
  void clear() {
    if (!shown_) return;
    std::fputs("\r\033[K", c_.err);
    std::fflush(c_.err);
    shown_ = false;
  }

 private:
  const users_console& c_;
  bool shown_ = false;
};

// The store clients a command needs, built as `gatehouse doctor` builds
// them (and never creating anything).
struct stores {
  aws_plumbing plumbing;
  std::unique_ptr<dynamodb::dynamodb_client> dynamodb;
  std::unique_ptr<users::user_store> users;
  std::unique_ptr<users::user_admin> admin;
  std::unique_ptr<images::object_inventory> objects;  // delete only
};

stores open_stores(const config& cfg, const env_lookup& env, bool with_images, std::size_t page_size,
                   const users_console& c, std::string_view command) {
  stores s;
  if (stores_use_aws(cfg, with_images)) {
    s.plumbing = make_aws_plumbing(cfg, env, system_now_seconds);
    try {
      (void)s.plumbing.credentials->get();
    } catch (const std::exception& e) {
      throw command_failure(exit_config, std::string("AWS credentials: ") + e.what());
    }
  }

  auto backend = open_user_backend(cfg, s.plumbing.client.get(), sqlite_file::existing_only);
  if (backend.dynamodb) {
    s.dynamodb = std::move(backend.dynamodb);
    s.users = std::make_unique<dynamodb::dynamodb_user_store>(*s.dynamodb, backend.tables, system_now_seconds);
    s.admin =
        std::make_unique<dynamodb::dynamodb_user_admin>(*s.dynamodb, backend.tables, system_now_seconds, page_size);
  } else {
    const fs::path file = database_file_of(cfg);
    auto& db = backend.database;
    if (!db)
      throw command_failure(exit_unreachable,
                            "no database at " + file.string() + " (is DATA_DIR right? serve and migrate create it)");
    int version = 0;
    try {
      version = db->schema_version();
    } catch (const error&) {
      throw command_failure(exit_unreachable, file.string() + " cannot be opened as a database (details above)");
    }
    const int known = static_cast<int>(sqlite::migrations().size());
    if (version < known)
      throw command_failure(exit_unreachable, file.string() + " has schema version " + std::to_string(version) +
                                                        ", this binary's is " + std::to_string(known) +
                                                        ": run `gatehouse migrate` first");
    if (version > known)
      say(c, command,
          "warning: " + file.string() + " has schema version " + std::to_string(version) +
              ", newer than this binary's " + std::to_string(known));
    s.users = std::make_unique<sqlite::sqlite_user_store>(db);
    s.admin = std::make_unique<sqlite::sqlite_user_admin>(std::move(db));
  }

  if (with_images) {
    s.objects = make_object_inventory(cfg, s.plumbing.client.get(), page_size);
    if (const auto problem = s.objects->check_location())
      throw command_failure(exit_unreachable, "images: " + *problem);
  }
  return s;
}

// Loads the configuration, runs `body`, and turns failures into exit
// codes with one message on stderr.
template <typename Body>
int run_command(std::string_view command, const env_lookup& env, const users_console& c, Body&& body) {
  config cfg;
  try {
    cfg = load_config(env);
  } catch (const std::exception& e) {
    std::fprintf(c.err, "gatehouse: invalid configuration: %s\n", printable(e.what()).c_str());
    std::fflush(c.err);
    return exit_config;
  }
  log::set_min_level(cfg.log_level);
  try {
    return body(cfg);
  } catch (const command_failure& f) {
    say(c, command, f.what());
    return f.code;
  } catch (const config_error& e) {
    say(c, command, std::string("invalid configuration: ") + e.what());
    return exit_config;
  } catch (const std::exception& e) {
    // storage_unavailable (unreachable, timed out, throttled past the
    // retries, a table missing), or a store answer that makes no sense.
    say(c, command, std::string("the store failed: ") + e.what());
    return exit_unreachable;
  }
}

// The user `who` names: an e-mail address when it has an '@', else a user
// id. `described` says which, for messages.
std::optional<users::user> find_user(users::user_store& store, std::string_view who, std::string& described) {
  if (who.find('@') != std::string_view::npos) {
    try {
      const std::string email = users::normalize_email(who);
      described = "e-mail " + email;
      return store.find_by_email(email);
    } catch (const error& e) {
      if (e.kind() != error_kind::invalid_argument) throw;
      described = "e-mail " + printable(who) + " (not a valid e-mail address)";
      return std::nullopt;
    }
  }
  described = "id " + printable(who);
  if (who.empty() || who.size() > max_user_id_chars) return std::nullopt;
  for (char ch : who)
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7F) return std::nullopt;  // no stored id has these
  return store.find_by_id(who);
}

json::object user_summary(const users::user& u) {
  return {{"userId", u.user_id},
          {"email", u.email},
          {"name", u.name},
          {"createdAt", u.created_at},
          {"hasImage", u.profile_image_key.has_value()}};
}

void print_json_line(std::FILE* out, const json::object& o) {
  const std::string text = json::serialize(o);
  std::fprintf(out, "%s\n", text.c_str());
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// ---- delete -----------------------------------------------------------------

// Reads one answer line from the terminal; true only for "yes".
bool confirmed(const users_console& c, const users::user& u, const std::string& prefix) {
  std::fprintf(c.err,
               "About to delete user %s\n"
               "  email      %s\n"
               "  name       %s\n"
               "  createdAt  %s\n"
               "  image      %s\n"
               "with %s and every refresh token of the user. This cannot be undone.\n"
               "Type yes to delete: ",
               printable(u.user_id).c_str(), printable(u.email).c_str(), printable(u.name).c_str(),
               printable(u.created_at).c_str(), u.profile_image_key ? printable(*u.profile_image_key).c_str() : "none",
               prefix.empty() ? "its profile image" : ("every object under " + prefix).c_str());
  std::fflush(c.err);
  char line[256];
  if (std::fgets(line, sizeof line, c.in) == nullptr) {
    std::fputc('\n', c.err);
    return false;
  }
  std::string answer(line);
  while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r' || answer.back() == ' '))
    answer.pop_back();
  while (!answer.empty() && answer.front() == ' ') answer.erase(answer.begin());
  return text::ascii_iequals(answer, "yes");
}

// Deletes every object under `prefix` ("" for none) and the user's pending
// uploads and, when `referenced` names one of this store's profile images
// elsewhere, that one too. Listed first, deleted after: nothing is deleted
// while a listing runs.
std::size_t delete_images(images::object_inventory& objects, const std::string& prefix,
                          const std::optional<std::string>& referenced, progress_line& progress) {
  std::vector<std::string> keys;
  if (!prefix.empty()) {
    const auto collect = [&](const images::inventory_entry& e) { keys.push_back(e.key); };
    objects.list(prefix, collect);
    // profile-images/<id>/ -> profile-images/uploads/<id>/
    objects.list(std::string(images::upload_key_prefix) + prefix.substr(images::image_key_prefix.size()), collect);
  }
  if (referenced) {
    // A key of the Node.js version's layout, or a URL into this bucket.
    auto key = objects.key_of(*referenced);
    if (key && key->starts_with(images::image_key_prefix) && (prefix.empty() || !key->starts_with(prefix)) &&
        objects.exists(*key))
      keys.push_back(std::move(*key));
  }
  std::size_t done = 0;
  for (const auto& key : keys) {
    objects.remove(key);
    progress.show("images: " + std::to_string(++done) + " of " + std::to_string(keys.size()) + " deleted");
  }
  progress.clear();
  return keys.size();
}

users::token_sweep delete_tokens(users::user_admin& admin, const std::string& user_id, progress_line& progress) {
  const auto swept = admin.delete_refresh_tokens(user_id, [&](const users::token_sweep& so_far) {
    progress.show("refresh tokens: " + std::to_string(so_far.tokens) + " deleted so far");
  });
  progress.clear();
  return swept;
}

int delete_user(stores& s, const users_delete_options& o, const users_console& c) {
  std::string described;
  const auto found = find_user(*s.users, o.who, described);
  if (!found) {
    say(c, "delete", "no user with " + described + "; nothing deleted");
    return users_exit_not_found;
  }
  const users::user& u = *found;
  // Only a canonical id makes a prefix that is this user's and nobody
  // else's; other ids (none Gatehouse makes) lose only the referenced image.
  const std::string prefix =
      images::is_canonical_uuid(u.user_id) ? std::string(images::image_key_prefix) + u.user_id + "/" : std::string();

  if (!o.yes) {
    const std::string who = "user " + u.user_id + " (" + u.email + ")";
    if (!c.in_is_terminal) {
      say(c, "delete",
          "refusing to delete " + who +
              " without confirmation: stdin is not a terminal to ask on; add --yes to delete without asking");
      return users_exit_refused;
    }
    if (!confirmed(c, u, prefix)) {
      say(c, "delete", "not deleted: the answer was not \"yes\"");
      return users_exit_refused;
    }
  }

  // The order, and what a crash between two steps leaves behind:
  //  1. the images: the user is still there, and this command run again
  //     finds it and finishes; meanwhile its profile_image may point at a
  //     deleted object, which `doctor --repair` clears (images.missing).
  //  2. the refresh tokens, each family revoked before anything is
  //     deleted: the user is still there with fewer sessions; run again.
  //  3. the user record: from here nobody logs in or refreshes as the user
  //     (refresh checks the user), and a second run answers "not found".
  //  4. DynamoDB: the e-mail claim, only while it still names this user. A
  //     crash before it leaves a claim without its user: doctor --repair
  //     deletes it (users.claim), and sign-up takes it over after 120 s.
  //  5. 1 and 2 once more: a server running meanwhile may have stored an
  //     upload or a login of the user between 1 and 3; after 3 it cannot.
  //     A crash before this sweep leaves objects of a user that does not
  //     exist, which doctor --repair deletes (images.orphan), and refresh
  //     tokens of a gone user, which refresh nothing (SQLite: doctor
  //     --repair deletes them, tokens.user; DynamoDB: the table's TTL).
  // The record goes after the images and tokens so that a stopped delete
  // can simply be run again; the claim goes after the record because a
  // user without its claim is what doctor --repair mends by writing the
  // claim back, which would bring the user's login back.
  progress_line progress(c);
  bool record_deleted = false;
  try {
    const std::size_t objects = delete_images(*s.objects, prefix, u.profile_image_key, progress);
    std::fprintf(c.out, "images: deleted %s%s\n", plural(objects, "object", "objects").c_str(),
                 prefix.empty() ? "" : (" under " + prefix + " and " + images::upload_prefix_of(u.user_id)).c_str());
    std::fflush(c.out);

    const auto tokens = delete_tokens(*s.admin, u.user_id, progress);
    std::fprintf(c.out, "tokens: deleted %s of %s\n", plural(tokens.tokens, "refresh token", "refresh tokens").c_str(),
                 plural(tokens.families, "login", "logins").c_str());
    std::fflush(c.out);

    const bool existed = s.users->remove(u.user_id, u.email);
    record_deleted = true;
    std::fprintf(c.out, "user: %s %s (%s)\n", existed ? "deleted" : "already gone (deleted meanwhile):",
                 printable(u.user_id).c_str(), printable(u.email).c_str());
    std::fflush(c.out);

    const std::size_t late_objects = delete_images(*s.objects, prefix, std::nullopt, progress);
    const auto late_tokens = delete_tokens(*s.admin, u.user_id, progress);
    if (late_objects || late_tokens.tokens || late_tokens.families) {
      std::fprintf(c.out, "cleanup: deleted %s and %s of %s stored while the delete ran\n",
                   plural(late_objects, "object", "objects").c_str(),
                   plural(late_tokens.tokens, "refresh token", "refresh tokens").c_str(),
                   plural(late_tokens.families, "login", "logins").c_str());
      std::fflush(c.out);
    }
  } catch (const command_failure&) {
    throw;
  } catch (const std::exception& e) {
    progress.clear();
    const std::string next = record_deleted
                                 ? "the user record is deleted; `gatehouse doctor --repair` removes what is left"
                                 : "the user record is not deleted yet: run the same command again to finish";
    throw command_failure(exit_unreachable, std::string("stopped: ") + e.what() + " (" + next + ")");
  }
  return exit_ok;
}

}  // namespace

// ---- the commands -------------------------------------------------------------

int run_users_list(const env_lookup& env, const users_list_options& o, const users_console& c) {
  return run_command("list", env, c, [&](const config& cfg) {
    auto s = open_stores(cfg, env, false, o.page_size, c, "list");
    const std::size_t page_size = std::clamp<std::size_t>(o.page_size, 1, 1000);
    progress_line progress(c);
    std::optional<std::string> cursor;
    std::size_t printed = 0, pages = 0;
    do {
      const std::size_t want = o.limit ? std::min(page_size, o.limit - printed) : page_size;
      auto page = s.users->list(want, cursor ? std::optional<std::string_view>(*cursor) : std::nullopt);
      ++pages;
      for (const auto& u : page.users) {
        if (o.json) {
          print_json_line(c.out, user_summary(u));
        } else {
          std::fprintf(c.out, "%s\t%s\t%s\t%s\t%s\n", printable(u.user_id).c_str(), printable(u.email).c_str(),
                       printable(u.name).c_str(), printable(u.created_at).c_str(),
                       u.profile_image_key ? "yes" : "no");
        }
        if (++printed == o.limit) break;
      }
      std::fflush(c.out);
      if (page.next_cursor && page.next_cursor == cursor)
        throw storage_unavailable("the store returned the same cursor twice");
      cursor = std::move(page.next_cursor);
      progress.show("users: " + std::to_string(printed) + " listed, page " + std::to_string(pages) +
                    (cursor ? ", more to come" : ""));
    } while (cursor && (!o.limit || printed < o.limit));
    return exit_ok;
  });
}

int run_users_get(const env_lookup& env, const users_get_options& o, const users_console& c) {
  return run_command("get", env, c, [&](const config& cfg) {
    auto s = open_stores(cfg, env, false, 1, c, "get");
    std::string described;
    const auto u = find_user(*s.users, o.who, described);
    if (!u) {
      say(c, "get", "no user with " + described);
      return users_exit_not_found;
    }
    if (o.json) {
      auto o_json = user_summary(*u);
      o_json["profileImage"] = u->profile_image_key ? json::value(*u->profile_image_key) : json::value(nullptr);
      print_json_line(c.out, o_json);
    } else {
      std::fprintf(c.out,
                   "userId     %s\n"
                   "email      %s\n"
                   "name       %s\n"
                   "createdAt  %s\n"
                   "image      %s\n",
                   printable(u->user_id).c_str(), printable(u->email).c_str(), printable(u->name).c_str(),
                   printable(u->created_at).c_str(),
                   u->profile_image_key ? printable(*u->profile_image_key).c_str() : "none");
    }
    std::fflush(c.out);
    return exit_ok;
  });
}

int run_users_delete(const env_lookup& env, const users_delete_options& o, const users_console& c) {
  return run_command("delete", env, c, [&](const config& cfg) {
    auto s = open_stores(cfg, env, true, o.page_size, c, "delete");
    return delete_user(s, o, c);
  });
}

// ---- the command line ---------------------------------------------------------

users_cli::users_cli(CLI::App& parent) {
  users_ = parent.add_subcommand("users", "List, show and delete users (operators; on the configured store)");
  users_->require_subcommand(1);
  users_->footer(std::string(users_help));

  list_ = users_->add_subcommand("list", "Print every user, one line each (or JSON lines), paging through the store");
  list_->add_option("--limit", list_options_.limit, "Stop after N users (default: every user)")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000'000}).description(""));
  list_->add_option("--page-size", list_options_.page_size,
                    "Users per storage request, 1 to 1000 (default 100)")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000}).description(""));
  list_->add_flag("--json", list_options_.json,
                  "One JSON object per line: userId, email, name, createdAt, hasImage");
  list_->footer(std::string(users_list_help));

  get_ = users_->add_subcommand("get", "Print one user, found by user id or e-mail address");
  get_->add_option("user", get_options_.who, "The user's id (a UUID) or e-mail address")
      ->required()
      ->type_name("<userId|email>");
  get_->add_flag("--json", get_options_.json,
                 "One JSON object: userId, email, name, createdAt, hasImage, profileImage");
  get_->footer(std::string(users_get_help));

  delete_ = users_->add_subcommand(
      "delete", "Delete a user with its images and refresh tokens (asks first unless --yes)");
  delete_->add_option("user", delete_options_.who, "The user's id (a UUID) or e-mail address")
      ->required()
      ->type_name("<userId|email>");
  delete_->add_flag("-y,--yes", delete_options_.yes,
                    "Delete without asking (needed when stdin is not a terminal, as in scripts)");
  delete_->add_option("--page-size", delete_options_.page_size,
                      "Items per storage request: DynamoDB Scan of the tokens, S3 ListObjectsV2, 1 to 1000 "
                      "(default 500)")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000}).description(""));
  delete_->footer(std::string(users_delete_help));
}

bool users_cli::parsed() const { return users_->parsed(); }

int users_cli::run(const env_lookup& env) const {
  std::fflush(stdout);
  users_console c;
  c.in_is_terminal = ::isatty(STDIN_FILENO) == 1;
  c.err_is_terminal = ::isatty(STDERR_FILENO) == 1;
  // The data keeps the original stdout; fd 1, where base/log writes its
  // JSON lines, becomes a copy of stderr, so stdout holds data only.
  const int data_fd = ::dup(STDOUT_FILENO);
  std::FILE* data = data_fd >= 0 ? ::fdopen(data_fd, "w") : nullptr;
  if (data == nullptr && data_fd >= 0) ::close(data_fd);
  if (data != nullptr && ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    std::fclose(data);
    data = nullptr;
  }
  c.out = data != nullptr ? data : stdout;

  int code = exit_ok;
  if (list_->parsed())
    code = run_users_list(env, list_options_, c);
  else if (get_->parsed())
    code = run_users_get(env, get_options_, c);
  else
    code = run_users_delete(env, delete_options_, c);
  if (data != nullptr) std::fclose(data);
  return code;
}

}  // namespace gatehouse::app
