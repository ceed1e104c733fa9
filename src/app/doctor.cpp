#include "app/doctor.hpp"

#include "app/store_settings.hpp"

#include "aws/aws_client.hpp"
#include "aws/credential_providers.hpp"
#include "aws/http_client.hpp"
#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/log.hpp"
#include "base/text.hpp"
#include "base/utc_time.hpp"
#include "dynamodb/dynamodb_client.hpp"
#include "dynamodb/dynamodb_integrity.hpp"
#include "images/image_key.hpp"
#include "images/object_inventory.hpp"
#include "sqlite/database.hpp"
#include "sqlite/sqlite_integrity.hpp"
#include "users/claim_takeover.hpp"
#include "users/integrity.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace gatehouse::app {

const std::string_view doctor_help = R"(Checks (one line each: ok|warn|fail <check>: <detail>; never a secret):
  config            the configuration loads (the same variables as serve)
  storage.*         the store answers (SQLite: the database file opens)
  clock.*           AWS: the clock against the service's Date header
                    (warn above 60 s, fail above 5 min; SigV4 refuses 15 min)
  sqlite.*          PRAGMA integrity_check; the schema version is current
  dynamodb.tables   every table exists (DescribeTable)
  images.store      the bucket exists (S3 HeadBucket) or the directory is usable
  users.*           every user complete; DynamoDB: every e-mail claim has its
                    user and every user its claim
  tokens.user       SQLite: no refresh token of a user that is gone
  images.*          no profile_image pointing at a missing object; no object
                    under profile-images/<userId>/ older than --min-age that its
                    user does not reference (a crash between put and the user
                    update), or whose user does not exist; pending direct
                    uploads (profile-images/uploads/) past their deadline
--repair fixes what is safe: deletes stale claims (no user, older than
min(--min-age, 120 s)), writes a missing claim when no other user has that
e-mail (conflicts are reported, never resolved), deletes unreferenced objects
older than --min-age and pending uploads past their deadline, clears a
profile_image that points at a missing object,
and (SQLite) deletes refresh tokens of users that are gone. Use --min-age 0
only while no server is running.
Exit codes:
  0  every check passed, or every finding was repaired
  1  findings remain
  2  the configuration does not load (or no AWS credentials)
  3  the store cannot be reached)";

namespace {

namespace fs = std::filesystem;
using users::check_status;

// One report line per call, each flushed: a doctor killed halfway has
// still said what it found so far.
class printer final : public users::integrity_report {
 public:
  explicit printer(std::FILE* out) : out_(out) {}

  void line(check_status status, std::string_view check, std::string_view detail) override {
    const char* word = status == check_status::ok ? "ok" : status == check_status::warn ? "warn" : "fail";
    if (status == check_status::fail) ++fails_;
    if (status == check_status::warn) ++warnings_;
    if (status == check_status::ok && detail.starts_with(users::repaired_prefix)) ++repaired_;
    const std::string text = one_line(detail);
    std::fprintf(out_, "%s %.*s: %s\n", word, static_cast<int>(check.size()), check.data(), text.c_str());
    std::fflush(out_);
  }

  void progress(std::string_view what, std::size_t done) override {
    std::fprintf(out_, "progress %.*s: %zu\n", static_cast<int>(what.size()), what.data(), done);
    std::fflush(out_);
  }

  void summary() {
    std::fprintf(out_, "summary: %zu finding(s) remain, %zu repaired, %zu warning(s)\n", fails_, repaired_,
                 warnings_);
    std::fflush(out_);
  }

  std::size_t fails() const { return fails_; }

 private:
  // Exception texts may hold line breaks; the report is line-oriented.
  static std::string one_line(std::string_view text) {
    std::string out(text.substr(0, 2000));
    for (char& c : out)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
    return out;
  }

  std::FILE* out_;
  std::size_t fails_ = 0, warnings_ = 0, repaired_ = 0;
};

// How far the service's clock (its Date header) is from ours, in seconds;
// nullopt when it sent no usable Date. An unsigned GET: any answer, a 403
// included, carries the Date. Throws aws::transport_error when nothing answers.
std::optional<std::int64_t> clock_skew(aws::http_client& http, const aws::endpoint& ep) {
  aws::http_request req;
  req.method = "GET";
  req.path = "/";
  const std::int64_t before = system_now_seconds();
  const auto res = http.send(ep, req);
  const std::int64_t after = system_now_seconds();
  const auto date = res.header("date");
  if (!date) return std::nullopt;
  const auto server = parse_http_date(*date);
  if (!server) return std::nullopt;
  // Date has whole seconds and the exchange took some time: within that, none.
  if (*server >= before - 1 && *server <= after + 1) return 0;
  return *server - (before + after) / 2;
}

void report_clock(printer& p, const std::string& service, std::optional<std::int64_t> skew) {
  const std::string check = "clock." + service;
  if (!skew) {
    p.line(check_status::warn, check, service + " sent no usable Date header: clock not checked");
    return;
  }
  const std::int64_t off = *skew < 0 ? -*skew : *skew;
  const std::string what = "this machine's clock is " + std::to_string(off) + " s " +
                           (*skew > 0 ? "behind " : "ahead of ") + service + "'s";
  if (off <= 60)
    p.line(check_status::ok, check, *skew == 0 ? "in step with " + service + "'s (Date header)" : what);
  else if (off <= 300)
    p.line(check_status::warn, check, what + " (SigV4 refuses requests 15 min off: check NTP)");
  else
    p.line(check_status::fail, check, what + " (SigV4 refuses requests 15 min off: fix the clock)");
}

// The user id in "profile-images/<id>/...", or "" when there is none.
std::string owner_of(std::string_view key) {
  std::string_view rest = key.substr(images::image_key_prefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return {};
  rest = rest.substr(0, slash);
  return images::is_canonical_uuid(rest) ? std::string(rest) : std::string();
}

// Profile images pointing at nothing, and objects nothing points at.
void audit_images(users::user_integrity& users, images::object_inventory& objects, const doctor_options& o,
                  printer& p) {
  const std::size_t every = std::max<std::size_t>(1, o.progress_every);
  std::unordered_map<std::string, std::optional<std::string>> image_of;  // user id -> profile_image as stored
  std::unordered_set<std::string> referenced;                            // object keys
  users.for_each_user([&](const users::user_image_ref& u) {
    if (u.profile_image)
      if (auto key = objects.key_of(*u.profile_image)) referenced.insert(std::move(*key));
    image_of.emplace(u.user_id, u.profile_image);
    if (image_of.size() % every == 0) p.progress("users read for the image audit", image_of.size());
  });

  std::size_t checked = 0, missing = 0, elsewhere = 0;
  for (const auto& [id, stored] : image_of) {
    if (!stored) continue;
    const auto key = objects.key_of(*stored);
    if (!key) {
      ++elsewhere;  // a URL outside this store (the Node.js version's)
      continue;
    }
    if (++checked % every == 0) p.progress("profile images checked", checked);
    if (objects.exists(*key)) continue;
    // Read again: an upload may have replaced it since the scan.
    const auto current = users.current_image(id);
    if (!current || *current != stored) continue;
    ++missing;
    const std::string what = "user " + id + "'s profile_image points at " + *key + ", which does not exist";
    if (!o.repair)
      p.line(check_status::fail, "images.missing", what);
    else if (users.clear_profile_image_if(id, *stored))
      p.line(check_status::ok, "images.missing", std::string(users::repaired_prefix) + "cleared it: " + what);
    else
      p.line(check_status::fail, "images.missing", what + "; it changed while doctor ran (run doctor again)");
  }
  if (missing == 0)
    p.line(check_status::ok, "images.missing",
           std::to_string(checked) + " profile image(s), each one stored" +
               (elsewhere ? "; " + std::to_string(elsewhere) + " URL(s) outside this store not checked" : ""));

  // Listed first, judged after: nothing is deleted while a listing runs.
  const std::int64_t now = system_now_seconds();
  std::vector<images::inventory_entry> unreferenced;
  std::size_t listed = 0, young = 0;
  std::vector<images::inventory_entry> dead_uploads;
  std::size_t pending = 0;
  objects.list(images::image_key_prefix, [&](const images::inventory_entry& e) {
    if (++listed % every == 0) p.progress("objects listed", listed);
    if (referenced.count(e.key)) return;
    // Pending direct uploads: their deadline, in the key, says when they
    // are dead (images/pending_uploads); the sweep and S3's lifecycle rule
    // delete them, doctor only reports what is overdue.
    if (e.key.starts_with(images::upload_key_prefix)) {
      const auto deadline = images::upload_deadline_of(e.key);
      if (deadline && *deadline > now) ++pending;
      else if (deadline) dead_uploads.push_back(e);
      else p.line(check_status::warn, "images.unknown", e.key + " is no pending upload Gatehouse writes; left alone");
      return;
    }
    // Anything else that is not referenced: an upload key of the shape
    // before pending uploads had their own prefix (profile-images/<id>/<hex>)
    // is a stray like any other.
    if (now - e.modified_at < o.min_age_seconds) {
      ++young;  // an upload in flight, or a direct upload not confirmed yet
      return;
    }
    unreferenced.push_back(e);
  });

  std::size_t judged = 0, findings = 0;
  for (const auto& e : unreferenced) {
    if (++judged % every == 0) p.progress("unreferenced objects handled", judged);
    const std::string owner = owner_of(e.key);
    const std::string object = e.key + " (" + std::to_string(e.size) + " bytes, " +
                               std::to_string(std::max<std::int64_t>(0, now - e.modified_at)) + " s old)";
    if (owner.empty()) {
      // Not a key Gatehouse makes: someone else's, left alone.
      p.line(check_status::warn, "images.unknown", object + " names no user id and no user references it; left alone");
      continue;
    }
    // Read again: the owner may have recorded it since the scan.
    const auto current = users.current_image(owner);
    if (current && *current && objects.key_of(**current) == e.key) continue;
    ++findings;
    const std::string check = current ? "images.stray" : "images.orphan";
    const std::string what = current ? object + " is not the current image of user " + owner
                                     : object + " belongs to user " + owner + ", which does not exist";
    if (!o.repair) {
      p.line(check_status::fail, check, what);
      continue;
    }
    objects.remove(e.key);
    p.line(check_status::ok, check, std::string(users::repaired_prefix) + "deleted " + what);
  }
  for (const auto& e : dead_uploads) {
    const std::string what = "pending upload " + e.key + " is past its deadline";
    if (!o.repair) {
      p.line(check_status::warn, "images.upload_dead", what + " (the sweep or the bucket's lifecycle rule deletes it)");
      continue;
    }
    objects.remove(e.key);
    p.line(check_status::ok, "images.upload_dead", std::string(users::repaired_prefix) + "deleted " + what);
  }
  p.line(check_status::ok, "images.uploads", std::to_string(pending) + " pending direct upload object(s) in time");
  p.line(check_status::ok, "images.listed",
         std::to_string(listed) + " object(s) under " + std::string(images::image_key_prefix) + ", " +
             std::to_string(referenced.size()) + " referenced, " + std::to_string(young) + " younger than " +
             std::to_string(o.min_age_seconds) + " s left alone" +
             (findings ? ", " + std::to_string(findings) + " unreferenced" : ""));
}

std::string describe(const config& cfg) {
  std::string users = users_in_dynamodb(cfg)
                          ? "users in DynamoDB table " + *cfg.aws.users_table + " (claims in " +
                                cfg.aws.users_email_table + ") at " +
                                endpoint_for(cfg.aws.dynamodb_endpoint, "dynamodb", cfg.aws.region).authority()
                          : "users in SQLite at " + database_file_of(cfg).string();
  std::string images = images_in_s3(cfg)
                           ? "images in S3 bucket " + *cfg.aws.images_bucket + " at " +
                                 endpoint_for(cfg.aws.s3_endpoint, "s3", cfg.aws.region).authority()
                           : "images in files under " + objects_dir_of(cfg).string();
  return users + "; " + images;
}

int run_checks(const config& cfg, const env_lookup& env, const doctor_options& o, printer& p) {
  // AWS plumbing, as the composition root builds it.
  aws_plumbing plumbing;
  if (stores_use_aws(cfg, true)) {
    plumbing = make_aws_plumbing(cfg, env, system_now_seconds);
    try {
      (void)plumbing.credentials->get();
    } catch (const std::exception& e) {
      p.line(check_status::fail, "config", std::string("AWS credentials: ") + e.what());
      return exit_config;
    }

    // Reachability and clocks first: with a clock 15 minutes off, every
    // signed call below would fail as if the service were down.
    std::vector<std::pair<std::string, aws::endpoint>> services;
    if (users_in_dynamodb(cfg))
      services.emplace_back("dynamodb", endpoint_for(cfg.aws.dynamodb_endpoint, "dynamodb", cfg.aws.region));
    if (images_in_s3(cfg))
      services.emplace_back("s3", endpoint_for(cfg.aws.s3_endpoint, "s3", cfg.aws.region));
    for (const auto& [service, ep] : services) {
      std::optional<std::int64_t> skew;
      try {
        skew = clock_skew(*plumbing.http, ep);
      } catch (const aws::transport_error& e) {
        p.line(check_status::fail, "storage." + service, ep.authority() + " unreachable: " + e.what());
        return exit_unreachable;
      }
      p.line(check_status::ok, "storage." + service, ep.authority() + " answers");
      report_clock(p, service, skew);
    }
  }

  // Users.
  auto backend = open_user_backend(cfg, plumbing.client.get(), sqlite_file::existing_only);
  std::unique_ptr<users::user_integrity> users;
  if (backend.dynamodb) {
    users = std::make_unique<dynamodb::dynamodb_integrity>(*backend.dynamodb, backend.tables, system_now_seconds,
                                                           o.page_size);
  } else {
    const fs::path file = database_file_of(cfg);
    auto& db = backend.database;
    if (!db) {
      p.line(check_status::fail, "storage.sqlite", "no database at " + file.string() + " (is DATA_DIR right?)");
      return exit_unreachable;
    }
    try {
      (void)db->acquire();
    } catch (const error&) {
      p.line(check_status::fail, "storage.sqlite", file.string() + " cannot be opened as a database (details on stderr)");
      return exit_unreachable;
    }
    p.line(check_status::ok, "storage.sqlite", file.string() + " opens");
    users = std::make_unique<sqlite::sqlite_integrity>(std::move(db), o.page_size);
  }
  const bool auditable = users->check_storage(p);

  // Images.
  const auto objects = make_object_inventory(cfg, plumbing.client.get(), o.page_size);
  const auto problem = objects->check_location();
  if (problem)
    p.line(check_status::fail, "images.store", *problem);
  else
    p.line(check_status::ok, "images.store", objects->location() + " is usable");

  if (!auditable) {
    p.line(check_status::fail, "users", "records not audited: the store itself needs fixing first");
    return doctor_exit_findings;
  }
  users::integrity_options io;
  io.repair = o.repair;
  io.claim_grace_seconds = std::min(o.min_age_seconds, users::claim_takeover_seconds);
  io.progress_every = std::max<std::size_t>(1, o.progress_every);
  users->check_records(io, p);

  if (problem) {
    p.line(check_status::fail, "images", "images not audited: the image store itself needs fixing first");
    return doctor_exit_findings;
  }
  audit_images(*users, *objects, o, p);
  return p.fails() ? doctor_exit_findings : exit_ok;
}

}  // namespace

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": exactly 29 characters.
  if (text.size() != 29 || text[3] != ',' || text[4] != ' ' || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text[25] != ' ' || text.substr(26) != "GMT")
    return std::nullopt;
  const auto month = std::find(month_names.begin(), month_names.end(), text.substr(8, 3));
  if (month == month_names.end()) return std::nullopt;
  const auto number = [&](std::size_t at, std::size_t n, int& out) {
    return text::parse_digits(text.substr(at, n), out);
  };
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!number(5, 2, day) || !number(12, 4, year) || !number(17, 2, hour) || !number(20, 2, minute) ||
      !number(23, 2, second) || day < 1 || day > 31 || year < 1970 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  return unix_seconds_of({year, static_cast<int>(month - month_names.begin()) + 1, day, hour, minute, second});
}

int run_doctor(const env_lookup& env, const doctor_options& options, std::FILE* out) {
  printer p(out);
  config cfg;
  try {
    cfg = load_config(env);
  } catch (const std::exception& e) {
    p.line(check_status::fail, "config", e.what());
    p.summary();
    return exit_config;
  }
  log::set_min_level(cfg.log_level);
  p.line(check_status::ok, "config", describe(cfg));

  int code = doctor_exit_findings;
  try {
    code = run_checks(cfg, env, options, p);
  } catch (const error& e) {
    const bool unreachable = e.kind() == error_kind::unavailable;
    p.line(check_status::fail, unreachable ? "storage" : "doctor", e.what());
    code = unreachable ? exit_unreachable : doctor_exit_findings;
  } catch (const std::exception& e) {
    p.line(check_status::fail, "doctor", e.what());
    code = doctor_exit_findings;
  }
  p.summary();
  return code;
}

int doctor_command(const env_lookup& env, const doctor_options& options) {
  std::fflush(stdout);
  // The report keeps the original stdout; fd 1, where base/log writes its
  // JSON lines, becomes a copy of stderr.
  const int report_fd = ::dup(STDOUT_FILENO);
  std::FILE* report = report_fd >= 0 ? ::fdopen(report_fd, "w") : nullptr;
  if (report == nullptr || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    if (report != nullptr) std::fclose(report);
    return run_doctor(env, options, stdout);
  }
  const int code = run_doctor(env, options, report);
  std::fclose(report);
  return code;
}

}  // namespace gatehouse::app
