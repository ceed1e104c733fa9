// `gatehouse doctor [--repair]` against real stores, on the backend
// GATEHOUSE_TEST_BACKEND picks (SQLite + files, or dynalite + s3rver):
// a healthy store passes; damage planted behind Gatehouse's back (with the
// sqlite3 CLI, the AWS SDK for JavaScript, or straight into s3rver and the
// objects directory) is named, then repaired, and healthy users keep
// working; what cannot be repaired keeps exit 1; a server killed with
// SIGKILL under a sign-up and upload load leaves a store that doctor
// --repair makes whole; an unreachable store exits 3 and a bad
// configuration 2.
#include "support/aws_peers.hpp"
#include "support/backend.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"
#include "support/http_client.hpp"
#include "support/operator_commands.hpp"

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace gatehouse::testing {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::steady_clock;

const std::string password = "correct horse battery";

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

double seconds_since(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

// The object key inside an image URL (/files/<key>?... or /<bucket>/<key>?...).
std::string key_in_url(const std::string& url) {
  const auto start = url.find("profile-images/");
  if (start == std::string::npos) return {};
  return url.substr(start, url.find('?', start) - start);
}

// ---- doctor runs ------------------------------------------------------------

struct doctor_result {
  int code = -1;
  double seconds = 0;
  std::string output;               // the report and, from stderr, the log lines
  std::vector<std::string> report;  // ok / warn / fail / progress / summary lines only

  // A line "<status> <check>: ..." that contains `needle`.
  bool has(const std::string& status, const std::string& check, const std::string& needle = "") const {
    const std::string head = status + " " + check + ":";
    for (const auto& l : report)
      if (l.rfind(head, 0) == 0 && l.find(needle) != std::string::npos) return true;
    return false;
  }
  std::size_t count(const std::string& prefix) const {
    std::size_t n = 0;
    for (const auto& l : report) n += l.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }
  std::string text() const {
    std::string t = "doctor exited " + std::to_string(code) + ":\n";
    for (const auto& l : report) t += "  " + l + "\n";
    return t;
  }
};

doctor_result run_doctor(const env_map& env, const std::vector<std::string>& args) {
  std::vector<std::string> full{"doctor"};
  full.insert(full.end(), args.begin(), args.end());
  doctor_result r;
  const auto start = steady_clock::now();
  r.code = run_gatehouse(env, full, r.output);
  r.seconds = seconds_since(start);
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);)
    for (const char* p : {"ok ", "warn ", "fail ", "progress ", "summary:"})
      if (line.rfind(p, 0) == 0) r.report.push_back(line);
  return r;
}

http_result sign_up(http_client& c, const std::string& email, const std::string& pw = password) {
  return c.post_json("/signup",
                     json::serialize(json::object{{"name", "Load Test"}, {"email", email}, {"password", pw}}));
}

http_result log_in(http_client& c, const std::string& email, const std::string& pw = password) {
  return c.post_json("/login", json::serialize(json::object{{"email", email}, {"password", pw}}));
}

// The profile_image URL /users/me shows (empty when null).
std::string image_url_of(http_client& c, const std::string& token) {
  const auto me = c.get("/users/me", {{"authorization", "Bearer " + token}});
  if (me.status != 200) throw std::runtime_error("/users/me: " + me.body);
  const auto body = parse_json(me.body);
  const auto& img = body.at("user").at("profile_image");
  return img.is_string() ? std::string(img.as_string()) : std::string();
}

// ---- the fixture: one store per test ---------------------------------------

class doctor : public ::testing::Test {
 protected:
  void SetUp() override { prepare_store(env_, dir_.path() / "data", "doctor-"); }

  const env_map& store_env() const { return env_; }
  std::unique_ptr<gatehouse_process> start_server() const { return std::make_unique<gatehouse_process>(env_); }
  doctor_result doctor_run(const std::vector<std::string>& args = {}) const { return run_doctor(env_, args); }

  std::string bucket() const { return env_.at("PROFILE_IMAGES_BUCKET"); }
  std::string users_table() const { return env_.at("USERS_TABLE"); }
  std::string emails_table() const { return users_table() + "-emails"; }
  fs::path db_file() const { return dir_.path() / "data" / "gatehouse.db"; }
  fs::path objects_dir() const { return dir_.path() / "data" / "objects"; }

  // SQL through the sqlite3 command-line shell, as an operator would.
  std::string sql(const std::string& statement) const {
    return run_program_checked({"sqlite3", "-batch", "-cmd", ".timeout 5000", db_file().string(), statement});
  }

  // Objects behind Gatehouse's back: files in the objects directory, or
  // s3rver itself (bypassing the signing proxy).
  void put_object(const std::string& key, const std::string& bytes) const {
    gatehouse::testing::put_object(env_, key, bytes);
  }
  void delete_object(const std::string& key) const {
    if (!is_aws()) {
      fs::remove(objects_dir() / key);
      return;
    }
    http_client raw(shared_aws_peers().raw_s3_port());
    const auto r = raw.send("DELETE", "/" + bucket() + "/" + key);
    if (r.status != 204 && r.status != 200) throw std::runtime_error("s3rver DELETE: " + r.body);
  }
  // Every object under profile-images/, temporary files included.
  std::set<std::string> object_keys() const {
    std::set<std::string> keys;
    if (!is_aws()) {
      const fs::path top = objects_dir() / "profile-images";
      if (!fs::exists(top)) return keys;
      for (const auto& e : fs::recursive_directory_iterator(top))
        if (!e.is_directory()) keys.insert(e.path().lexically_relative(objects_dir()).generic_string());
      return keys;
    }
    http_client raw(shared_aws_peers().raw_s3_port());
    const auto r = raw.get("/" + bucket() + "?list-type=2&max-keys=1000&prefix=profile-images/");
    if (r.status != 200) throw std::runtime_error("s3rver list: " + r.body);
    for (auto pos = r.body.find("<Key>"); pos != std::string::npos; pos = r.body.find("<Key>", pos + 5))
      keys.insert(r.body.substr(pos + 5, r.body.find("</Key>", pos) - pos - 5));
    return keys;
  }

  temp_dir dir_;
  env_map env_;
};

// ---- a healthy store --------------------------------------------------------

TEST_F(doctor, a_healthy_store_passes_every_check_and_repair_changes_nothing) {
  auto server = start_server();
  http_client c(server->port());
  const auto ada = sign_up_and_log_in(c, "ada@example.com", password);
  const auto bob = sign_up_and_log_in(c, "bob@example.com", password);
  ASSERT_EQ(upload(c, ada.token, sample_gif()).status, 200);
  ASSERT_EQ(upload(c, ada.token, sample_png()).status, 200);  // replaces the GIF, which is deleted
  ASSERT_EQ(upload(c, bob.token, sample_jpeg()).status, 200);
  const std::string ada_url = image_url_of(c, ada.token);
  const std::string bob_url = image_url_of(c, bob.token);

  // One item per storage request: the second object, user and claim are
  // only seen by following S3's continuation token, DynamoDB's
  // LastEvaluatedKey or the SQLite keyset.
  const auto r = doctor_run({"--progress-every", "1", "--page-size", "1"});
  EXPECT_EQ(r.code, 0) << r.text() << r.output;
  EXPECT_EQ(r.count("fail "), 0u) << r.text();
  EXPECT_EQ(r.count("warn "), 0u) << r.text();
  EXPECT_TRUE(r.has("ok", "config")) << r.text();
  EXPECT_TRUE(r.has("ok", "images.listed", "2 object(s) under profile-images/, 2 referenced")) << r.text();
  EXPECT_TRUE(r.has("ok", "images.missing", "2 profile image(s), each one stored")) << r.text();
  EXPECT_TRUE(r.has("progress", "objects listed", "2")) << r.text();
  EXPECT_TRUE(r.has("progress", "users read for the image audit", "2")) << r.text();
  EXPECT_EQ(r.report.back(), "summary: 0 finding(s) remain, 0 repaired, 0 warning(s)") << r.text();
  if (is_aws()) {
    EXPECT_TRUE(r.has("ok", "storage.dynamodb", "answers")) << r.text();
    EXPECT_TRUE(r.has("ok", "clock.dynamodb")) << r.text();
    EXPECT_TRUE(r.has("ok", "clock.s3")) << r.text();
    EXPECT_TRUE(r.has("ok", "dynamodb.tables", emails_table())) << r.text();
    EXPECT_TRUE(r.has("ok", "images.store", "s3 bucket " + bucket())) << r.text();
    EXPECT_TRUE(r.has("ok", "users.claim", "2 users, 2 e-mail claims")) << r.text();
  } else {
    EXPECT_TRUE(r.has("ok", "storage.sqlite", db_file().string())) << r.text();
    EXPECT_TRUE(r.has("ok", "sqlite.integrity", "integrity_check: ok")) << r.text();
    EXPECT_TRUE(r.has("ok", "sqlite.schema", "(current)")) << r.text();
    EXPECT_TRUE(r.has("ok", "users.row", "2 users, every one complete")) << r.text();
    EXPECT_TRUE(r.has("ok", "tokens.user")) << r.text();
  }

  const auto repaired = doctor_run({"--repair", "--min-age", "0"});
  EXPECT_EQ(repaired.code, 0) << repaired.text();
  EXPECT_EQ(repaired.output.find("repaired: "), std::string::npos) << repaired.text();
  EXPECT_EQ(object_keys(), (std::set<std::string>{key_in_url(ada_url), key_in_url(bob_url)}));
  EXPECT_EQ(log_in(c, bob.email).status, 200);
  const auto image = fetch_url(image_url_of(c, ada.token));
  EXPECT_EQ(image.status, 200);
  EXPECT_EQ(image.body, sample_png());
}

// ---- planted damage ---------------------------------------------------------

TEST_F(doctor, planted_damage_is_named_then_repaired_and_healthy_users_keep_working) {
  auto server = start_server();
  http_client c(server->port());
  const auto healthy = sign_up_and_log_in(c, "healthy@example.com", password);
  const auto plain = sign_up_and_log_in(c, "plain@example.com", password);
  const auto victim = sign_up_and_log_in(c, "victim@example.com", password);
  ASSERT_EQ(upload(c, healthy.token, sample_png()).status, 200);
  ASSERT_EQ(upload(c, victim.token, sample_jpeg()).status, 200);
  const std::string healthy_key = key_in_url(image_url_of(c, healthy.token));
  const std::string victim_key = key_in_url(image_url_of(c, victim.token));

  // A profile_image pointing at nothing; a stray object of a live user (a
  // crash between put and the user update); an object of a user that does
  // not exist.
  delete_object(victim_key);
  const std::string stray_key = "profile-images/" + healthy.user_id + "/" + random_hex(32) + ".png";
  const std::string ghost_id = made_up_user_id();
  const std::string orphan_key = "profile-images/" + ghost_id + "/" + random_hex(32) + ".jpg";
  put_object(stray_key, sample_png());
  put_object(orphan_key, sample_jpeg());
  std::string temp_key, claim_ghost_id, no_claim_id, hash;
  if (is_aws()) {
    // A claim whose sign-up died before its user was written (17 minutes
    // ago), and a user whose claim is missing, with a real password hash.
    claim_ghost_id = made_up_user_id();
    no_claim_id = made_up_user_id();
    const auto plain_item = sdk({json::object{{"op", "dynamodb.get_item"},
                                              {"table", users_table()},
                                              {"key", {{"userId", plain.user_id}}}}})[0]
                                .at("item");
    hash = std::string(plain_item.at("password").as_string());
    sdk({json::object{{"op", "dynamodb.put_item"},
                      {"table", emails_table()},
                      {"item", {{"email", "ghost@example.com"}, {"userId", claim_ghost_id}, {"claimedAt", unix_now() - 1000}}}},
         json::object{{"op", "dynamodb.put_item"},
                      {"table", users_table()},
                      {"item", {{"userId", no_claim_id},
                                {"name", "No Claim"},
                                {"email", "noclaim@example.com"},
                                {"password", hash},
                                {"createdAt", "2026-01-02T03:04:05.000Z"}}}}});
  } else {
    // A temporary file a put killed halfway leaves, and refresh tokens of a
    // user that is gone.
    temp_key = "profile-images/" + healthy.user_id + "/." + random_hex(32) + ".png." + random_hex(16) + ".tmp";
    put_object(temp_key, "half");
    sql("INSERT INTO token_families (family_id, user_id, created_at, expires_at) VALUES ('fam-" + ghost_id +
        "', '" + ghost_id + "', 1, 4102444800);"
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at) VALUES ('" + random_hex(64) +
        "', 'fam-" + ghost_id + "', '" + ghost_id + "', 4102444800);");
  }

  // 1. Named, one line each, and nothing changed.
  const auto found = doctor_run({"--min-age", "0"});
  EXPECT_EQ(found.code, 1) << found.text() << found.output;
  EXPECT_TRUE(found.has("fail", "images.missing", victim.user_id)) << found.text();
  EXPECT_TRUE(found.has("fail", "images.missing", victim_key)) << found.text();
  EXPECT_TRUE(found.has("fail", "images.stray", stray_key)) << found.text();
  EXPECT_TRUE(found.has("fail", "images.orphan", orphan_key)) << found.text();
  EXPECT_TRUE(found.has("fail", "images.orphan", ghost_id + ", which does not exist")) << found.text();
  if (is_aws()) {
    EXPECT_TRUE(found.has("fail", "users.claim", "names user " + claim_ghost_id + ", which does not exist")) << found.text();
    EXPECT_TRUE(found.has("fail", "users.claim", "g***@example.com")) << found.text();
    EXPECT_TRUE(found.has("fail", "users.claim", "user " + no_claim_id + " has no e-mail claim")) << found.text();
    EXPECT_EQ(found.count("fail "), 5u) << found.text();
    // Never a secret, nor a whole e-mail address.
    EXPECT_EQ(found.output.find(hash), std::string::npos);
    EXPECT_EQ(found.output.find(shared_aws_peers().secret_key()), std::string::npos);
    EXPECT_EQ(found.output.find("ghost@example.com"), std::string::npos);
  } else {
    EXPECT_TRUE(found.has("fail", "images.stray", temp_key)) << found.text();
    EXPECT_TRUE(found.has("fail", "tokens.user", "1 refresh token(s) and 1 token family of users that are gone"))
        << found.text();
    EXPECT_EQ(found.count("fail "), 5u) << found.text();
  }
  EXPECT_EQ(found.report.back(), "summary: 5 finding(s) remain, 0 repaired, 0 warning(s)") << found.text();
  EXPECT_EQ(object_keys().count(stray_key), 1u);

  // 2. --repair with the default --min-age: everything but the objects,
  // which are minutes old and might be uploads in flight.
  const auto careful = doctor_run({"--repair"});
  EXPECT_EQ(careful.code, 0) << careful.text();
  EXPECT_TRUE(careful.has("ok", "images.missing", "repaired: cleared it: user " + victim.user_id)) << careful.text();
  EXPECT_TRUE(careful.has("ok", "images.listed", "younger than 3600 s left alone")) << careful.text();
  EXPECT_EQ(careful.count("fail "), 0u) << careful.text();
  if (is_aws()) {
    EXPECT_TRUE(careful.has("ok", "users.claim", "repaired: deleted the claim on g***@example.com")) << careful.text();
    EXPECT_TRUE(careful.has("ok", "users.claim", "repaired: wrote the missing claim: user " + no_claim_id))
        << careful.text();
  } else {
    EXPECT_TRUE(careful.has("ok", "tokens.user", "repaired: deleted 1 refresh token(s)")) << careful.text();
    EXPECT_EQ(sql("SELECT COUNT(*) FROM refresh_tokens WHERE user_id = '" + ghost_id + "';"), "0\n");
  }
  EXPECT_EQ(object_keys().count(stray_key), 1u);
  EXPECT_EQ(object_keys().count(orphan_key), 1u);

  // 3. --repair --min-age 0: the objects too.
  const auto repaired = doctor_run({"--repair", "--min-age", "0"});
  EXPECT_EQ(repaired.code, 0) << repaired.text();
  EXPECT_TRUE(repaired.has("ok", "images.stray", "repaired: deleted " + stray_key)) << repaired.text();
  EXPECT_TRUE(repaired.has("ok", "images.orphan", "repaired: deleted " + orphan_key)) << repaired.text();
  EXPECT_EQ(object_keys(), std::set<std::string>{healthy_key});

  // 4. A second look finds nothing.
  const auto again = doctor_run({"--min-age", "0"});
  EXPECT_EQ(again.code, 0) << again.text();
  EXPECT_EQ(again.report.back(), "summary: 0 finding(s) remain, 0 repaired, 0 warning(s)") << again.text();

  // The healthy users log in and their image serves; the victim's image is gone.
  for (const auto* u : {&healthy, &plain, &victim}) EXPECT_EQ(log_in(c, u->email).status, 200) << u->email;
  const auto image = fetch_url(image_url_of(c, healthy.token));
  EXPECT_EQ(image.status, 200);
  EXPECT_EQ(image.body, sample_png());
  EXPECT_EQ(image_url_of(c, victim.token), "");
  if (is_aws()) {
    // The rewritten claim works: the user that had none now logs in.
    const auto login = log_in(c, "noclaim@example.com");
    ASSERT_EQ(login.status, 200) << login.body;
    EXPECT_EQ(parse_json(login.body).at("user").at("userId").as_string(), no_claim_id);
  }
}

// Pending direct uploads live under profile-images/uploads/ with their
// deadline in the key: in time they are left alone, past it doctor names
// them (a warning: the sweep or S3's lifecycle rule deletes them) and
// --repair deletes them; an upload key of the shape before that prefix
// existed is an unreferenced object like any other.
TEST_F(doctor, pending_uploads_past_their_deadline_are_reported_and_repaired_and_old_upload_keys_are_strays) {
  auto server = start_server();
  http_client c(server->port());
  const auto ada = sign_up_and_log_in(c, "ada@example.com", password);
  server.reset();
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  const std::string prefix = "profile-images/uploads/" + ada.user_id + "/";
  const std::string dead = prefix + std::to_string(now - 10) + "-" + random_hex(32);
  const std::string live = prefix + std::to_string(now + 3600) + "-" + random_hex(32);
  const std::string old_shape = "profile-images/" + ada.user_id + "/" + random_hex(32);
  put_object(dead, sample_png());
  put_object(dead + ".form", "");
  put_object(live + ".form", "");
  put_object(old_shape, sample_png());

  const auto report = doctor_run({"--min-age", "0"});
  EXPECT_TRUE(report.has("warn", "images.upload_dead", dead + " is past its deadline")) << report.text();
  EXPECT_TRUE(report.has("warn", "images.upload_dead", dead + ".form is past its deadline")) << report.text();
  EXPECT_TRUE(report.has("ok", "images.uploads", "1 pending direct upload object(s) in time")) << report.text();
  EXPECT_TRUE(report.has("fail", "images.stray", old_shape)) << report.text();
  EXPECT_EQ(object_keys().size(), 4u);

  const auto repaired = doctor_run({"--repair", "--min-age", "0"});
  EXPECT_EQ(repaired.code, 0) << repaired.text();
  EXPECT_EQ(object_keys(), (std::set<std::string>{live + ".form"})) << repaired.text();
}

TEST_F(doctor, what_cannot_be_repaired_is_reported_and_keeps_exit_1) {
  auto server = start_server();
  http_client c(server->port());
  const auto keeper = sign_up_and_log_in(c, "keeper@example.com", password);
  const std::string half_id = made_up_user_id();
  std::string twin_a, twin_b;
  if (is_aws()) {
    // A user item without its password, and two users sharing one e-mail
    // with no claim: which one is real is an operator's call.
    twin_a = made_up_user_id();
    twin_b = made_up_user_id();
    const json::object common{{"name", "Twin"},
                              {"email", "twin@example.com"},
                              {"password", "$2b$04$notarealhashnotarealhashnotarealhashnotarealhas"},
                              {"createdAt", "2026-01-02T03:04:05.000Z"}};
    json::object a = common, b = common;
    a["userId"] = twin_a;
    b["userId"] = twin_b;
    sdk({json::object{{"op", "dynamodb.put_item"},
                      {"table", users_table()},
                      {"item", {{"userId", half_id},
                                {"name", "Half"},
                                {"email", "half@example.com"},
                                {"createdAt", "2026-01-02T03:04:05.000Z"}}}},
         json::object{{"op", "dynamodb.put_item"}, {"table", users_table()}, {"item", a}},
         json::object{{"op", "dynamodb.put_item"}, {"table", users_table()}, {"item", b}}});
  } else {
    sql("INSERT INTO users (user_id, name, email, password_hash, created_at) VALUES ('" + half_id +
        "', '', 'half@example.com', '', '2026-01-02T03:04:05.000Z');");
  }

  for (int run = 0; run < 2; ++run) {
    const auto r = doctor_run({"--repair", "--min-age", "0"});
    EXPECT_EQ(r.code, 1) << r.text() << r.output;
    if (is_aws()) {
      EXPECT_TRUE(r.has("fail", "users.item", "user " + half_id + " lacks password")) << r.text();
      EXPECT_TRUE(r.has("fail", "users.email", twin_a)) << r.text();
      EXPECT_TRUE(r.has("fail", "users.email", twin_b)) << r.text();
      EXPECT_TRUE(r.has("fail", "users.email", "not repaired")) << r.text();
    } else {
      EXPECT_TRUE(r.has("fail", "users.row", "user " + half_id + " has no name, password_hash")) << r.text();
    }
  }
  if (is_aws()) {
    // Neither twin was given the claim.
    const auto claim = sdk({json::object{{"op", "dynamodb.get_item"},
                                         {"table", emails_table()},
                                         {"key", {{"email", "twin@example.com"}}}}})[0];
    EXPECT_TRUE(claim.at("item").is_null()) << json::serialize(claim);
  }
  EXPECT_EQ(log_in(c, keeper.email).status, 200);
}

TEST_F(doctor, a_store_that_needs_migrating_is_reported_and_its_records_are_not_audited) {
  if (is_aws()) {
    // Tables nobody created: migrate never ran.
    env_["USERS_TABLE"] = shared_aws_peers().new_table_name();
    const auto r = doctor_run();
    EXPECT_EQ(r.code, 1) << r.text() << r.output;
    EXPECT_TRUE(r.has("fail", "dynamodb.tables", "missing: " + users_table() + ", " + emails_table())) << r.text();
    EXPECT_TRUE(r.has("fail", "users", "records not audited")) << r.text();
    return;
  }
  { auto server = start_server(); }
  sql("PRAGMA user_version = 2;");
  const auto r = doctor_run();
  EXPECT_EQ(r.code, 1) << r.text() << r.output;
  EXPECT_TRUE(r.has("fail", "sqlite.schema", "schema version 2, this binary's is 6: run `gatehouse migrate`")) << r.text();
  EXPECT_TRUE(r.has("fail", "users", "records not audited")) << r.text();
}

// ---- kill -9 under load -----------------------------------------------------

TEST_F(doctor, a_server_killed_mid_load_leaves_a_store_that_repair_makes_whole) {
  auto server = start_server();
  struct account {
    std::string email, password, user_id;
  };
  std::mutex mutex;
  std::vector<account> created;  // sign-ups that answered 201
  std::atomic<int> signups{0}, uploads{0};
  std::atomic<bool> stop{false};

  const int threads = 6;
  std::vector<std::thread> load;
  for (int t = 0; t < threads; ++t) {
    load.emplace_back([&, t] {
      try {
        http_client c(server->port());
        for (int i = 0; i < 1000 && !stop; ++i) {
          const std::string email = "load-" + std::to_string(t) + "-" + std::to_string(i) + "@example.com";
          const std::string pw = "pw-" + std::to_string(t) + "-" + std::to_string(i) + "-" + random_hex(6);
          const auto s = sign_up(c, email, pw);
          if (s.status != 201) continue;
          {
            std::lock_guard lock(mutex);
            created.push_back({email, pw, std::string(parse_json(s.body).at("user").at("userId").as_string())});
          }
          ++signups;
          const auto l = log_in(c, email, pw);
          if (l.status != 200) continue;
          const std::string token(parse_json(l.body).at("token").as_string());
          // Two uploads: the second replaces the first and deletes it.
          if (upload(c, token, sample_png()).status == 200) ++uploads;
          if (upload(c, token, sample_gif()).status == 200) ++uploads;
        }
      } catch (const std::exception&) {
        // The server died under this thread's request: what it was doing is
        // what doctor has to sort out.
      }
    });
  }
  const auto deadline = steady_clock::now() + std::chrono::seconds(60);
  while ((signups < 12 || uploads < 12) && steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (is_aws()) {
    // DynamoDB slowed down, so the kill lands inside the multi-step
    // operations (an upload between its put and its user update, a
    // sign-up between its claim and its user) rather than between them.
    shared_aws_peers().delay_next(aws_service::dynamodb, 1000000, 150);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }
  EXPECT_EQ(server->stop(SIGKILL), 128 + SIGKILL);
  stop = true;
  for (auto& th : load) th.join();
  if (is_aws()) {
    // Requests held when the server died still reach DynamoDB, as requests
    // in flight on a network would: let them land before doctor looks.
    shared_aws_peers().delay_next(aws_service::dynamodb, 0, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  }
  ASSERT_GE(signups.load(), 12) << "the load never got going";

  // Small pages: S3 continuation tokens, DynamoDB LastEvaluatedKey and SQLite keysets all in use.
  const auto repaired = doctor_run({"--repair", "--min-age", "0", "--progress-every", "10", "--page-size", "3"});
  ASSERT_EQ(repaired.code, 0) << repaired.text() << repaired.output;
  const auto again = doctor_run({"--min-age", "0"});
  EXPECT_EQ(again.code, 0) << again.text();
  EXPECT_EQ(again.report.back(), "summary: 0 finding(s) remain, 0 repaired, 0 warning(s)") << again.text();

  // Checked without doctor: every user complete, every claim with its user
  // and every user with its claim, and every object some user's image.
  std::set<std::string> referenced;
  std::map<std::string, std::string> email_of;  // user id -> e-mail
  if (is_aws()) {
    for (const auto& item : scan(users_table())) {
      const auto& u = item.as_object();
      for (const char* attr : {"userId", "name", "email", "password", "createdAt"}) {
        ASSERT_TRUE(u.contains(attr) && u.at(attr).is_string() && !u.at(attr).as_string().empty())
            << attr << " missing in " << json::serialize(u);
      }
      email_of[std::string(u.at("userId").as_string())] = std::string(u.at("email").as_string());
      if (const auto* img = u.if_contains("profile_image"); img && img->is_string())
        referenced.insert(std::string(img->as_string()));
    }
    std::set<std::string> claimed;
    for (const auto& item : scan(emails_table())) {
      const std::string owner(item.at("userId").as_string()), email(item.at("email").as_string());
      ASSERT_TRUE(email_of.count(owner)) << "the claim on " << email << " has no user";
      EXPECT_EQ(email_of.at(owner), email);
      claimed.insert(owner);
    }
    EXPECT_EQ(claimed.size(), email_of.size()) << "a user without its claim";
  } else {
    EXPECT_EQ(sql("SELECT COUNT(*) FROM users WHERE name = '' OR email = '' OR password_hash = '' OR created_at = '';"),
              "0\n");
    std::istringstream rows(sql("SELECT user_id, COALESCE(profile_image_key, '-') FROM users;"));
    for (std::string row; std::getline(rows, row);) {
      const auto bar = row.find('|');
      ASSERT_NE(bar, std::string::npos) << row;
      email_of[row.substr(0, bar)] = "";
      if (row.substr(bar + 1) != "-") referenced.insert(row.substr(bar + 1));
    }
  }
  EXPECT_EQ(object_keys(), referenced) << "stray objects, or images pointing at nothing";
  std::lock_guard lock(mutex);
  for (const auto& a : created) EXPECT_TRUE(email_of.count(a.user_id)) << a.email << " answered 201 but is gone";

  // The same store serves again: every 201 sign-up logs in with its
  // password, and the images it recorded are there.
  auto restarted = std::make_unique<gatehouse_process>(store_env());
  http_client c(restarted->port());
  EXPECT_EQ(c.get("/health").status, 200);
  for (const auto& a : created) {
    const auto l = log_in(c, a.email, a.password);
    ASSERT_EQ(l.status, 200) << a.email << ": " << l.body;
    const auto body = parse_json(l.body);
    const auto& img = body.at("user").at("profile_image");
    if (img.is_string()) {
      EXPECT_EQ(fetch_url(std::string(img.as_string())).status, 200) << a.email;
    }
  }
}

// ---- unreachable stores, bad configuration, clocks --------------------------

// Values for an AWS store nothing listens for.
env_map unreachable_env(const fs::path& home) {
  return {{"AWS_REGION", "eu-west-2"},
          {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
          {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
          {"HOME", home.string()},
          {"DATA_DIR", (home / "data").string()},
          {"AWS_CONNECT_TIMEOUT_MS", "500"},
          {"AWS_REQUEST_TIMEOUT_MS", "1000"},
          {"AWS_TOTAL_TIMEOUT_MS", "3000"}};
}

TEST_F(doctor, an_unreachable_store_exits_3_with_one_clear_line) {
  const std::string nobody = "http://127.0.0.1:" + std::to_string(free_loopback_port());
  auto dynamodb_env = unreachable_env(dir_.path());
  dynamodb_env["USERS_TABLE"] = "users";
  dynamodb_env["AWS_ENDPOINT_URL_DYNAMODB"] = nobody;
  const auto r = run_doctor(dynamodb_env, {});
  EXPECT_EQ(r.code, 3) << r.text() << r.output;
  EXPECT_TRUE(r.has("fail", "storage.dynamodb", nobody.substr(7) + " unreachable")) << r.text();
  EXPECT_LT(r.seconds, 30.0) << "doctor hung on an unreachable endpoint";

  auto s3_env = unreachable_env(dir_.path());
  s3_env["PROFILE_IMAGES_BUCKET"] = "images";
  s3_env["AWS_ENDPOINT_URL_S3"] = nobody;
  const auto s = run_doctor(s3_env, {});
  EXPECT_EQ(s.code, 3) << s.text() << s.output;
  EXPECT_TRUE(s.has("fail", "storage.s3", "unreachable")) << s.text();

  // The embedded store: a DATA_DIR without a database is not an empty store.
  const auto e = run_doctor({{"DATA_DIR", (dir_.path() / "nowhere").string()}}, {});
  EXPECT_EQ(e.code, 3) << e.text();
  EXPECT_TRUE(e.has("fail", "storage.sqlite", "no database at")) << e.text();
  EXPECT_FALSE(fs::exists(dir_.path() / "nowhere" / "gatehouse.db")) << "doctor created the database";
}

TEST_F(doctor, a_bad_configuration_exits_2_naming_the_variable) {
  const auto r = run_doctor({{"DATA_DIR", dir_.path().string()}, {"MAX_IMAGE_BYTES", "12"}}, {});
  EXPECT_EQ(r.code, 2) << r.text();
  EXPECT_TRUE(r.has("fail", "config", "MAX_IMAGE_BYTES")) << r.text();
  EXPECT_EQ(r.report.size(), 2u) << r.text();  // the line and the summary: nothing else was tried

  const auto region = run_doctor({{"USERS_TABLE", "users"}, {"HOME", dir_.path().string()}}, {});
  EXPECT_EQ(region.code, 2) << region.text();
  EXPECT_TRUE(region.has("fail", "config", "AWS_REGION")) << region.text();

  // No credentials anywhere is configuration too.
  auto no_keys = unreachable_env(dir_.path());
  no_keys.erase("AWS_ACCESS_KEY_ID");
  no_keys.erase("AWS_SECRET_ACCESS_KEY");
  no_keys["USERS_TABLE"] = "users";
  no_keys["AWS_ENDPOINT_URL_DYNAMODB"] = "http://127.0.0.1:" + std::to_string(free_loopback_port());
  const auto keys = run_doctor(no_keys, {});
  EXPECT_EQ(keys.code, 2) << keys.text();
  EXPECT_TRUE(keys.has("fail", "config", "AWS credentials")) << keys.text();
}

// A DynamoDB stand-in whose Date header is `offset` seconds off and which
// refuses every request (400), so doctor's clock check is all it can pass.
class skewed_endpoint {
 public:
  explicit skewed_endpoint(std::int64_t offset)
      : offset_(offset), acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    endpoint_ = acceptor_.local_endpoint();
    thread_ = std::thread([this] { serve(); });
  }
  ~skewed_endpoint() {
    stop_ = true;
    boost::system::error_code ec;
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket wake(io);
    wake.connect(endpoint_, ec);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(endpoint_.port()); }

 private:
  void serve() {
    while (!stop_) {
      boost::asio::ip::tcp::socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stop_) return;
      boost::asio::streambuf buf;
      const auto head_size = boost::asio::read_until(s, buf, "\r\n\r\n", ec);
      if (ec) continue;
      std::string head(boost::asio::buffers_begin(buf.data()), boost::asio::buffers_end(buf.data()));
      std::string lower = head;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::size_t length = 0;
      if (const auto at = lower.find("content-length:"); at != std::string::npos)
        length = std::stoul(lower.substr(at + 15));
      const std::size_t have = head.size() - head_size;
      if (length > have) boost::asio::read(s, buf, boost::asio::transfer_exactly(length - have), ec);
      const std::time_t t = static_cast<std::time_t>(unix_now() + offset_);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char date[64];
      std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
      const std::string body = R"({"__type":"com.amazonaws.dynamodb.v20120810#UnrecognizedClientException","message":"no"})";
      const std::string res = "HTTP/1.1 400 Bad Request\r\nDate: " + std::string(date) +
                              "\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      boost::asio::write(s, boost::asio::buffer(res), ec);
    }
  }

  std::int64_t offset_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The skew doctor reported on its clock.dynamodb line.
long reported_skew(const doctor_result& r) {
  for (const auto& l : r.report)
    if (l.find(" clock.dynamodb: this machine's clock is ") != std::string::npos)
      return std::stol(l.substr(l.find(" is ") + 4));
  return -1;
}

TEST_F(doctor, a_clock_off_by_minutes_is_reported_before_signed_calls_fail) {
  for (const auto& [offset, status] : std::vector<std::pair<std::int64_t, std::string>>{{-600, "fail"}, {90, "warn"}}) {
    skewed_endpoint fake(offset);
    auto env = unreachable_env(dir_.path());
    env["USERS_TABLE"] = "users";
    env["AWS_ENDPOINT_URL_DYNAMODB"] = fake.url();
    env["AWS_MAX_ATTEMPTS"] = "1";
    const auto r = run_doctor(env, {});
    EXPECT_TRUE(r.has(status, "clock.dynamodb", offset < 0 ? "ahead of dynamodb's" : "behind dynamodb's")) << r.text();
    const long off = offset < 0 ? -offset : offset;
    EXPECT_NEAR(reported_skew(r), off, 5) << r.text();
    // Then the stand-in refuses DescribeTable: the store is not usable.
    EXPECT_EQ(r.code, 3) << r.text() << r.output;
  }
}

}  // namespace
}  // namespace gatehouse::testing
