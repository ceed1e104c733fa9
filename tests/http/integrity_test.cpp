// Concurrency and integrity on whichever backend GATEHOUSE_TEST_BACKEND
// names (ctest runs this suite on both): requests released together by a
// latch, each on its own connection, then the store checked from outside.
//
// - 200 sign-ups over 20 e-mails make exactly 20 users, each with the
//   password of the sign-up that got its 201 (on DynamoDB also: exactly 20
//   e-mail claims, each naming its user; aws_backend_test has a
//   DynamoDB-only variant of this, kept there as the SDK-level check);
// - parallel profile-picture uploads by one user, through the server and
//   mixed with direct uploads, leave one current image, byte-identical to
//   one that was sent, and no other object under the user's prefix;
// - parallel refreshes of one refresh token get one successor, and a
//   logout racing with refreshes leaves the whole family revoked.
#include "support/aws_peers.hpp"
#include "support/backend.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <chrono>
#include <fstream>
#include <functional>
#include <latch>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace gatehouse::testing {
namespace {
namespace json = boost::json;
using env_map = std::map<std::string, std::string>;

std::string str(const json::value& v, const char* field) {
  const auto* f = v.as_object().if_contains(field);
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

header_list bearer(const std::string& token) { return {{"authorization", "Bearer " + token}}; }

// A URL without its query string: signed URLs of one object differ only there.
std::string without_query(const std::string& url) { return url.substr(0, url.find('?')); }

// ---- DynamoDB, read with the AWS SDK (tests/peers/sdk-smoke.mjs) ----------

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every item of `table`, scanned through the SigV4 proxy with the endpoint
// and credentials the server was given.
json::array scan_table(const env_map& env, const std::string& table) {
  const json::object config{{"dynamodb", env.at("AWS_ENDPOINT_URL_DYNAMODB")},
                            {"s3", env.at("AWS_ENDPOINT_URL_S3")},
                            {"access_key", env.at("AWS_ACCESS_KEY_ID")},
                            {"secret_key", env.at("AWS_SECRET_ACCESS_KEY")},
                            {"region", env.at("AWS_REGION")},
                            {"ops", json::array{json::object{{"op", "dynamodb.scan"}, {"table", table}}}}};
  const temp_dir dir;
  const auto out = dir.path() / "out", err = dir.path() / "err";
  const std::string script = (aws_peers::peers_dir() / "sdk-smoke.mjs").string();
  const std::string arg = json::serialize(config);
  std::vector<char*> argv{const_cast<char*>("node"), const_cast<char*>(script.c_str()),
                          const_cast<char*>(arg.c_str()), nullptr};
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::string_view(*e).rfind("NODE_OPTIONS=", 0) != 0) env_strings.emplace_back(*e);
  env_strings.emplace_back("NODE_NO_WARNINGS=1");  // the SDK's Node-version notice
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int spawned = posix_spawnp(&pid, "node", &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("could not start node");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      throw std::runtime_error("sdk-smoke.mjs hung: " + read_text(err));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("sdk-smoke.mjs failed: " + read_text(err));
  const auto results = parse_json(read_text(out)).as_array();
  if (results.size() != 1 || !results[0].at("ok").as_bool())
    throw std::runtime_error("the scan failed: " + json::serialize(results));
  return results[0].at("items").as_array();
}

// ---- images -----------------------------------------------------------------

std::uint32_t crc32(const std::string& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// The 1x1 sample PNG with a tEXt chunk naming `n` before its IEND: a
// valid PNG (chunk CRC and all) whose bytes differ for every `n`.
std::string numbered_png(int n) {
  const std::string png = sample_png();
  const std::string data = std::string("Comment") + '\0' + "integrity upload " + std::to_string(n);
  const std::string chunk = be32(static_cast<std::uint32_t>(data.size())) + "tEXt" + data + be32(crc32("tEXt" + data));
  const std::size_t iend = png.size() - 12;  // length, "IEND", CRC
  return png.substr(0, iend) + chunk + png.substr(iend);
}

http_result upload(http_client& c, const std::string& token, const std::string& bytes) {
  return c.send("POST", "/upload_profile_pic", multipart_body({{"image", "me.png", "image/png", bytes}}),
                multipart_headers(token));
}

// A direct-upload form (POST /profile_pic/upload_url), as a browser gets it.
struct upload_form {
  std::string url;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string key;
};

upload_form ask_form(http_client& c, const std::string& token) {
  const auto r = c.send("POST", "/profile_pic/upload_url", "", bearer(token));
  if (r.status != 200) throw std::runtime_error("upload_url: " + std::to_string(r.status) + " " + r.body);
  const auto up = parse_json(r.body).at("upload");
  upload_form f;
  f.url = str(up, "url");
  for (const auto& [name, value] : up.at("fields").as_object())
    f.fields.emplace_back(std::string(name), std::string(value.as_string()));
  f.key = str(up, "key");
  return f;
}

// Posts `bytes` with the form straight to storage (the server's
// /files/upload, or S3), fields in order, as a browser does.
http_result post_form(const upload_form& f, const std::string& bytes) {
  return post_upload_form(f.url, f.fields, bytes);
}

http_result confirm(http_client& c, const std::string& token, const std::string& key) {
  return c.post_json("/profile_pic/confirm", json::serialize(json::object{{"key", key}}), bearer(token));
}

// ---- sessions -----------------------------------------------------------------

http_result refresh(http_client& c, const std::string& token) {
  return c.post_json("/token/refresh", json::serialize(json::object{{"refresh_token", token}}));
}

http_result logout(http_client& c, const std::string& token) {
  return c.post_json("/logout", json::serialize(json::object{{"refresh_token", token}}));
}

std::string refresh_token_of(const http_result& r) { return str(parse_json(r.body), "refresh_token"); }

// ---- the suite ------------------------------------------------------------------

class integrity : public ::testing::Test {
 protected:
  // A server of its own for every test, on a store of its own: counts are exact.
  void SetUp() override {
    env_ = backend_env();
    env_["MAX_PENDING_UPLOADS"] = "10";  // the race below holds ten forms at once
    server_ = std::make_unique<gatehouse_process>(env_);
  }
  void TearDown() override { server_.reset(); }

  unsigned short port() const { return server_->port(); }
  std::size_t objects_of(const std::string& user_id) const {
    return count_objects((server_->data_dir() / "data").string(), "profile-images/" + user_id + "/");
  }
  // Pending direct uploads and their form markers.
  std::size_t pending_of(const std::string& user_id) const {
    return count_objects((server_->data_dir() / "data").string(), "profile-images/uploads/" + user_id + "/");
  }

  // After a race of uploads by `u`: the current image is one that a 200
  // answer recorded, its bytes are exactly one of `sent`, and it is the
  // only object left under the user's prefix.
  void expect_one_current_image(const signed_in_user& u, const std::vector<http_result>& answers,
                                const std::vector<std::string>& sent) {
    http_client c(port());
    const auto me = c.get("/users/me", bearer(u.token));
    ASSERT_EQ(me.status, 200) << me.body;
    const auto image = parse_json(me.body).at("user").at("profile_image");
    ASSERT_TRUE(image.is_string()) << me.body;
    const std::string url(image.as_string());
    std::set<std::string> answered;
    for (const auto& r : answers)
      if (r.status == 200) answered.insert(without_query(str(parse_json(r.body).at("user"), "profile_image")));
    EXPECT_EQ(answered.count(without_query(url)), 1u) << "the current image is none of the recorded ones: " << url;
    const auto fetched = fetch_url(url);
    ASSERT_EQ(fetched.status, 200) << fetched.body;
    EXPECT_EQ(fetched.header("content-type"), "image/png");
    int matches = 0;
    for (const auto& bytes : sent) matches += bytes == fetched.body ? 1 : 0;
    EXPECT_EQ(matches, 1) << "the served bytes are none of the uploaded images";
    EXPECT_EQ(objects_of(u.user_id), 1u) << "stray objects under profile-images/" << u.user_id << "/";
  }

  env_map env_;
  std::unique_ptr<gatehouse_process> server_;
};

TEST_F(integrity, two_hundred_parallel_signups_over_twenty_emails_make_exactly_twenty_users) {
  constexpr int emails = 20, per_email = 10, requests = emails * per_email;
  const auto email = [](int i) { return "crowd" + std::to_string(i % emails) + "@example.com"; };
  const auto name = [](int i) { return "Racer " + std::to_string(i); };
  // Every request its own password: a user holding a loser's password would show.
  const auto password = [](int i) { return "password-of-request-" + std::to_string(i); };

  const auto results = all_at_once(requests, port(), [&](http_client& c, int i) {
    return c.post_json("/signup",
                       json::serialize(json::object{{"name", name(i)}, {"email", email(i)}, {"password", password(i)}}));
  });

  std::map<std::string, int> winner;          // e-mail -> request that got the 201
  std::map<std::string, std::string> user_id;  // e-mail -> the 201's userId
  int taken = 0;
  for (int i = 0; i < requests; ++i) {
    const auto& r = results[static_cast<std::size_t>(i)];
    if (r.status == 201) {
      const auto u = parse_json(r.body).at("user");
      EXPECT_EQ(str(u, "email"), email(i));
      EXPECT_EQ(str(u, "name"), name(i));
      EXPECT_TRUE(winner.emplace(email(i), i).second) << "a second 201 for " << email(i);
      user_id[email(i)] = str(u, "userId");
    } else if (r.status == 409 && error_code_of(r) == "email_taken" && error_field_of(r) == "email") {
      ++taken;
    } else {
      ADD_FAILURE() << "request " << i << ": " << r.status << " " << r.body;
    }
  }
  ASSERT_EQ(winner.size(), static_cast<std::size_t>(emails));
  EXPECT_EQ(taken, requests - emails);

  // Paging through GET /users shows each e-mail once, as its winner's user.
  http_client c(port());
  const auto first = c.post_json("/login", json::serialize(json::object{{"email", email(0)}, {"password", password(winner[email(0)])}}));
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string token = str(parse_json(first.body), "token");
  // Others are listed in the public view, without e-mail: keyed by id.
  std::map<std::string, std::string> email_of_id;
  for (const auto& [e, id] : user_id) email_of_id[id] = e;
  std::map<std::string, json::value> listed;  // user id -> user
  std::string cursor;
  for (int page = 0;; ++page) {
    ASSERT_LT(page, 10) << "GET /users does not come to an end";
    const auto r = c.get("/users?limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor), bearer(token));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto body = parse_json(r.body);
    for (const auto& u : body.at("users").as_array())
      EXPECT_TRUE(listed.emplace(str(u, "userId"), u).second) << "listed twice: " << u;
    if (body.at("next_cursor").is_null()) break;
    cursor = std::string(body.at("next_cursor").as_string());
  }
  ASSERT_EQ(listed.size(), static_cast<std::size_t>(emails));
  for (const auto& [id, u] : listed) {
    ASSERT_EQ(email_of_id.count(id), 1u) << "a user nobody signed up: " << u;
    EXPECT_EQ(str(u, "name"), name(winner[email_of_id[id]])) << id;
  }

  // Each account has its winner's password and none of the losers'.
  const auto logins = all_at_once(emails, port(), [&](http_client& lc, int e) {
    http_result last;
    for (int i = e; i < requests; i += emails) {
      const auto r = lc.post_json("/login", json::serialize(json::object{{"email", email(i)}, {"password", password(i)}}));
      const bool is_winner = winner[email(i)] == i;
      if (is_winner) {
        EXPECT_EQ(r.status, 200) << email(i) << ": " << r.body;
        if (r.status == 200) {
          EXPECT_EQ(str(parse_json(r.body).at("user"), "userId"), user_id[email(i)]);
        }
      } else {
        EXPECT_EQ(r.status, 401) << email(i) << " logs in with the password of request " << i << ": " << r.body;
        EXPECT_EQ(error_code_of(r), "invalid_credentials");
      }
      last = r;
    }
    return last;
  });
  for (const auto& r : logins) EXPECT_NE(r.status, 0) << r.body;

  if (current_backend() == backend_kind::aws) {
    // Exactly one claim per e-mail, naming that e-mail's user, and exactly
    // the 20 users behind them.
    const auto claims = scan_table(env_, env_.at("USERS_TABLE") + "-emails");
    ASSERT_EQ(claims.size(), static_cast<std::size_t>(emails)) << json::serialize(claims);
    for (const auto& cl : claims) {
      ASSERT_EQ(user_id.count(str(cl, "email")), 1u) << cl;
      EXPECT_EQ(str(cl, "userId"), user_id[str(cl, "email")]) << cl;
    }
    const auto users = scan_table(env_, env_.at("USERS_TABLE"));
    ASSERT_EQ(users.size(), static_cast<std::size_t>(emails)) << json::serialize(users);
    for (const auto& u : users) EXPECT_EQ(str(u, "userId"), user_id[str(u, "email")]) << u;
  }
}

TEST_F(integrity, twenty_parallel_uploads_by_one_user_leave_one_current_image_and_no_stray_object) {
  http_client c(port());
  const auto u = sign_up_and_log_in(c, "uploader@example.com");
  std::vector<std::string> pngs;
  for (int i = 0; i < 20; ++i) pngs.push_back(numbered_png(i));
  ASSERT_NE(pngs[0], pngs[1]);

  const auto results = all_at_once(20, port(), [&](http_client& uc, int i) {
    return upload(uc, u.token, pngs[static_cast<std::size_t>(i)]);
  });
  // The product documents no conflict answer for this: every upload wins in turn.
  for (const auto& r : results) EXPECT_EQ(r.status, 200) << r.body;
  expect_one_current_image(u, results, pngs);
}

TEST_F(integrity, direct_uploads_confirmed_in_parallel_with_uploads_leave_one_current_image_and_no_stray_object) {
  http_client c(port());
  const auto u = sign_up_and_log_in(c, "mixer@example.com");
  // Start from an image, so the race also deletes a previous one.
  ASSERT_EQ(upload(c, u.token, numbered_png(100)).status, 200);

  constexpr int direct = 10, through_server = 10;
  std::vector<std::string> pngs;
  for (int i = 0; i < direct + through_server; ++i) pngs.push_back(numbered_png(i));
  std::vector<upload_form> forms;
  for (int i = 0; i < direct; ++i) {
    forms.push_back(ask_form(c, u.token));
    const auto posted = post_form(forms.back(), pngs[static_cast<std::size_t>(i)]);
    ASSERT_EQ(posted.status, 204) << posted.body;
  }
  // The uploads wait under the user's upload prefix, each beside its form marker.
  ASSERT_EQ(objects_of(u.user_id), 1u);
  ASSERT_EQ(pending_of(u.user_id), static_cast<std::size_t>(2 * direct));

  const auto results = all_at_once(direct + through_server, port(), [&](http_client& uc, int i) {
    const auto n = static_cast<std::size_t>(i);
    return i < direct ? confirm(uc, u.token, forms[n].key) : upload(uc, u.token, pngs[n]);
  });
  // Distinct keys, unchanged uploads: no confirm has a reason to answer 409 upload_changed.
  for (const auto& r : results) EXPECT_EQ(r.status, 200) << r.body;
  expect_one_current_image(u, results, pngs);
  // Each upload key was used up by its confirm, its marker with it.
  EXPECT_EQ(pending_of(u.user_id), 0u);
  for (const auto& f : forms) EXPECT_EQ(confirm(c, u.token, f.key).status, 404) << f.key;
}

TEST_F(integrity, ten_parallel_refreshes_of_one_token_all_get_the_same_successor) {
  http_client c(port());
  const auto u = sign_up_and_log_in(c, "tabs@example.com");
  const auto login = c.post_json("/login", R"({"email":"tabs@example.com","password":"correct horse battery"})");
  ASSERT_EQ(login.status, 200);
  const std::string first = refresh_token_of(login);

  const auto results = all_at_once(10, port(), [&](http_client& rc, int) { return refresh(rc, first); });
  std::set<std::string> successors;
  for (const auto& r : results) {
    ASSERT_EQ(r.status, 200) << r.body;
    successors.insert(refresh_token_of(r));
    EXPECT_EQ(str(parse_json(r.body).at("user"), "userId"), u.user_id);
  }
  ASSERT_EQ(successors.size(), 1u) << "one token, several successors";
  const std::string successor = *successors.begin();
  EXPECT_NE(successor, first);

  // The successor is live and rotates like any other token.
  const auto next = refresh(c, successor);
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_NE(refresh_token_of(next), successor);
}

TEST_F(integrity, logout_racing_with_refreshes_leaves_the_family_revoked) {
  http_client c(port());
  sign_up_and_log_in(c, "racer@example.com");
  int refreshed_in_race = 0, refused_in_race = 0;
  // A few rounds: where the logout lands among the refreshes varies.
  for (int round = 0; round < 4; ++round) {
    const auto login = c.post_json("/login", R"({"email":"racer@example.com","password":"correct horse battery"})");
    ASSERT_EQ(login.status, 200);
    const std::string used = refresh_token_of(login);
    const auto rotated = refresh(c, used);
    ASSERT_EQ(rotated.status, 200) << rotated.body;
    const std::string current = refresh_token_of(rotated);
    // Logout presents the live token, or (odd rounds) the used one: both name the family.
    const std::string logout_with = round % 2 == 0 ? current : used;

    constexpr int refreshes = 10;
    const auto results = all_at_once(refreshes + 1, port(), [&](http_client& rc, int i) {
      return i == refreshes / 2 ? logout(rc, logout_with) : refresh(rc, current);
    });
    std::set<std::string> seen = {used, current};
    for (int i = 0; i <= refreshes; ++i) {
      const auto& r = results[static_cast<std::size_t>(i)];
      if (i == refreshes / 2) {
        EXPECT_EQ(r.status, 204) << r.body;
      } else if (r.status == 200) {
        ++refreshed_in_race;
        seen.insert(refresh_token_of(r));
      } else {
        ++refused_in_race;
        EXPECT_EQ(r.status, 401) << r.body;
        EXPECT_EQ(error_code_of(r), "invalid_refresh_token") << r.body;
      }
    }
    // Refreshes that won the race all got the one successor.
    EXPECT_LE(seen.size(), 3u);
    // Whatever won, every token of the family is dead now, on a fresh connection too.
    http_client after(port());
    for (const auto& t : seen) {
      const auto r = refresh(after, t);
      EXPECT_EQ(r.status, 401) << "round " << round << ": a token of the logged-out family still refreshes: " << r.body;
      EXPECT_EQ(error_code_of(r), "invalid_refresh_token");
    }
  }
  std::printf("[ race     ] refreshes answered 200: %d, 401: %d\n", refreshed_in_race, refused_in_race);
}

}  // namespace
}  // namespace gatehouse::testing
