// Direct uploads: POST /profile_pic/upload_url hands out a signed form, the
// client posts the file straight to storage (the local server's
// /files/upload, or S3: s3rver behind the SigV4 proxy, which checks the
// policy's signature and expiry), and POST /profile_pic/confirm checks the
// object and records it. Runs on both backends, like upload_test.
#include "support/aws_peers.hpp"
#include "support/backend.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <chrono>
#include <ctime>
#include <future>
#include <regex>
#include <thread>

namespace gatehouse::testing {
namespace {

constexpr std::size_t max_image_bytes = 65536;

struct form {
  std::string url;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string key;
  std::string expires_at;
  std::int64_t max_bytes = 0;

  std::string field(const std::string& name) const {
    for (const auto& [n, v] : fields)
      if (n == name) return v;
    return {};
  }
  void set_field(const std::string& name, const std::string& value) {
    for (auto& [n, v] : fields)
      if (n == name) v = value;
  }
};

// The local backend's upload-form signature, computed here from the
// documented scheme and the server's derived file-URL key.
std::string local_form_signature(const std::string& key, const std::string& expires, const std::string& max_bytes) {
  const std::string url_key = derived_key("gatehouse/file-urls/v1");
  return hex_of(hmac_sha256(url_key, "upload v1\n" + key + "\n" + expires + "\n" + max_bytes));
}

// "2026-11-28T16:05:00.000Z" -> unix seconds.
std::int64_t parse_iso(const std::string& text) {
  std::tm tm{};
  if (!strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return -1;
  return static_cast<std::int64_t>(timegm(&tm));
}

// What a browser does with the form: its fields in order, its own
// Content-Type, then the file.
http_result post_form(const form& f, const std::string& bytes, const std::string& content_type = "image/png",
                      bool with_content_type = true) {
  return post_upload_form(f.url, f.fields, bytes, with_content_type ? content_type : "");
}

// Objects under the user's upload prefix: uploaded bytes, or (`markers`) form markers.
std::size_t pending_of(const gatehouse_process& server, const signed_in_user& u, bool markers) {
  std::size_t n = 0;
  for (const auto& name :
       object_names((server.data_dir() / "data").string(), "profile-images/uploads/" + u.user_id + "/"))
    n += name.ends_with(".form") == markers ? 1 : 0;
  return n;
}

class direct_upload : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<gatehouse_process>(
        std::map<std::string, std::string>{{"MAX_IMAGE_BYTES", std::to_string(max_image_bytes)}});
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { user_ = new_user(); }

  signed_in_user new_user() { return sign_up_and_log_in(client_, "du" + std::to_string(counter_++) + "@example.com"); }
  header_list auth(const signed_in_user& u) const { return {{"authorization", "Bearer " + u.token}}; }

  form ask_form(const signed_in_user& u) {
    const auto r = client_.send("POST", "/profile_pic/upload_url", "", auth(u));
    if (r.status != 200) throw std::runtime_error("upload_url: " + std::to_string(r.status) + " " + r.body);
    const auto upload = parse_json(r.body).at("upload");
    form f;
    f.url = std::string(upload.at("url").as_string());
    for (const auto& [name, value] : upload.at("fields").as_object())
      f.fields.emplace_back(std::string(name), std::string(value.as_string()));
    f.key = std::string(upload.at("key").as_string());
    f.expires_at = std::string(upload.at("expires_at").as_string());
    f.max_bytes = upload.at("max_bytes").as_int64();
    return f;
  }
  form ask_form() { return ask_form(user_); }

  http_result confirm(const std::string& key, const signed_in_user& u) {
    boost::json::object body{{"key", key}};
    return client_.post_json("/profile_pic/confirm", boost::json::serialize(body), auth(u));
  }
  http_result confirm(const std::string& key) { return confirm(key, user_); }

  // Images: objects under the user's own prefix.
  std::size_t stored_objects(const signed_in_user& u) const {
    return count_objects((server_->data_dir() / "data").string(), "profile-images/" + u.user_id + "/");
  }
  std::size_t stored_objects() const { return stored_objects(user_); }
  // Uploaded bytes waiting under the user's upload prefix (not the form markers).
  std::size_t pending_uploads(const signed_in_user& u) const { return pending_of(*server_, u, false); }
  std::size_t pending_uploads() const { return pending_uploads(user_); }
  std::size_t form_markers(const signed_in_user& u) const { return pending_of(*server_, u, true); }

  boost::json::value profile_image() {
    const auto me = client_.get("/users/me", auth(user_));
    return parse_json(me.body).at("user").at("profile_image");
  }

  static inline std::unique_ptr<gatehouse_process> server_;
  static inline int counter_ = 0;
  http_client client_{server_->port()};
  signed_in_user user_;
};

TEST_F(direct_upload, upload_url_returns_a_five_minute_form_for_a_fresh_key_under_the_users_prefix) {
  const auto before = static_cast<std::int64_t>(std::time(nullptr));
  const form f = ask_form();
  // Under the upload prefix (which the S3 lifecycle rule expires), with the
  // slot's deadline (the form's expiry + 60 s to confirm) in the key.
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      f.key, m, std::regex("profile-images/uploads/" + user_.user_id + "/([0-9]{10})-[0-9a-f]{32}")))
      << f.key;
  EXPECT_EQ(f.field("key"), f.key);
  EXPECT_EQ(f.max_bytes, static_cast<std::int64_t>(max_image_bytes));
  const auto expires = parse_iso(f.expires_at);
  EXPECT_GE(expires, before + 300 - 1) << f.expires_at;
  EXPECT_LE(expires, before + 300 + 5) << f.expires_at;
  const auto deadline = std::stoll(m[1].str());
  EXPECT_GE(deadline, expires + 60 - 1) << f.key;
  EXPECT_LE(deadline, expires + 60 + 1) << f.key;
  EXPECT_EQ(form_markers(user_), 1u) << "the issued form is recorded before anything is uploaded";
  EXPECT_NE(ask_form().key, f.key) << "each form gets its own key";

  std::vector<std::string> names;
  for (const auto& [n, v] : f.fields) names.push_back(n);
  if (current_backend() == backend_kind::embedded) {
    EXPECT_EQ(f.url, "http://127.0.0.1:" + std::to_string(server_->port()) + "/files/upload");
    EXPECT_EQ(names, (std::vector<std::string>{"key", "expires", "max_bytes", "signature"}));
    EXPECT_EQ(f.field("max_bytes"), std::to_string(max_image_bytes));
    EXPECT_EQ(parse_iso(f.expires_at), std::stoll(f.field("expires")));
  } else {
    // Path-style on the custom endpoint: the proxy in front of s3rver.
    EXPECT_TRUE(std::regex_match(f.url, std::regex(R"(http://127\.0\.0\.1:\d+/gatehouse-test-images)"))) << f.url;
    EXPECT_EQ(names, (std::vector<std::string>{"key", "x-amz-server-side-encryption", "x-amz-algorithm",
                                               "x-amz-credential", "x-amz-date", "policy", "x-amz-signature"}));
    EXPECT_EQ(f.field("x-amz-algorithm"), "AWS4-HMAC-SHA256");
  }
}

TEST_F(direct_upload, the_full_flow_records_the_image_under_its_sniffed_type_and_replaces_the_last_one) {
  // The declared type is a lie on purpose: only the bytes decide.
  const form first = ask_form();
  const auto posted = post_form(first, sample_png(), "image/gif");
  ASSERT_EQ(posted.status, 204) << posted.body;
  EXPECT_EQ(pending_uploads(), 1u);
  EXPECT_EQ(stored_objects(), 0u) << "an unchecked upload never lies beside the images";

  const auto r = confirm(first.key);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto user = parse_json(r.body).at("user");
  EXPECT_EQ(user.at("userId").as_string(), user_.user_id);
  const std::string url(user.at("profile_image").as_string());
  EXPECT_TRUE(std::regex_search(url, std::regex("/profile-images/" + user_.user_id + "/[0-9a-f]{32}\\.png\\?"))) << url;
  EXPECT_EQ(url.find(first.key + "?"), std::string::npos) << "recorded under a key of the server's, not the form's";
  const auto image = fetch_url(url);
  ASSERT_EQ(image.status, 200) << image.body;
  EXPECT_EQ(image.body, sample_png());
  EXPECT_EQ(image.header("content-type"), "image/png");
  // The upload object and its form marker are gone: only the recorded image is left.
  EXPECT_EQ(stored_objects(), 1u);
  EXPECT_EQ(pending_uploads(), 0u);
  EXPECT_EQ(form_markers(user_), 0u);
  const std::string current(profile_image().as_string());
  EXPECT_EQ(current.substr(0, current.find('?')), url.substr(0, url.find('?')));

  // Confirmed once: the key names nothing any more.
  const auto again = confirm(first.key);
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(error_code_of(again), "not_found");

  const form second = ask_form();
  ASSERT_EQ(post_form(second, sample_jpeg(), "image/jpeg").status, 204);
  const auto replaced = confirm(second.key);
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  const std::string url2(parse_json(replaced.body).at("user").at("profile_image").as_string());
  const auto image2 = fetch_url(url2);
  EXPECT_EQ(image2.body, sample_jpeg());
  EXPECT_EQ(image2.header("content-type"), "image/jpeg");
  // The first image was deleted once the second was recorded.
  EXPECT_EQ(stored_objects(), 1u);
  EXPECT_EQ(fetch_url(url).status, 404);
}

TEST_F(direct_upload, an_object_over_max_image_bytes_never_becomes_the_image) {
  const form f = ask_form();
  const std::string big = sample_png() + std::string(max_image_bytes, 'x');
  const auto posted = post_form(f, big);
  if (current_backend() == backend_kind::embedded) {
    // The local server enforces the form's size range itself.
    EXPECT_EQ(posted.status, 413);
    EXPECT_EQ(error_code_of(posted), "payload_too_large");
    EXPECT_EQ(pending_uploads(), 0u);
    EXPECT_EQ(confirm(f.key).status, 404);
    // Far over: refused before the body is read, and the server still answers.
    EXPECT_EQ(post_form(f, std::string(4 * 1024 * 1024, 'x')).status, 413);
    EXPECT_EQ(client_.get("/health").status, 200);
  } else {
    // s3rver does not enforce the policy's content-length-range (S3 would):
    // confirm is what stops it.
    ASSERT_EQ(posted.status, 204) << posted.body;
    EXPECT_EQ(pending_uploads(), 1u);
    const auto r = confirm(f.key);
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(error_code_of(r), "payload_too_large");
    EXPECT_EQ(pending_uploads(), 0u) << "the refused object is deleted";
  }
  EXPECT_TRUE(profile_image().is_null());
}

TEST_F(direct_upload, a_file_that_is_not_an_image_is_415_at_confirm_and_deleted) {
  const form f = ask_form();
  ASSERT_EQ(post_form(f, "<html><script>alert(1)</script></html>", "image/png").status, 204);
  EXPECT_EQ(pending_uploads(), 1u);
  const auto r = confirm(f.key);
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(error_code_of(r), "unsupported_media_type");
  EXPECT_EQ(pending_uploads(), 0u);
  EXPECT_EQ(stored_objects(), 0u);
  EXPECT_TRUE(profile_image().is_null());
  EXPECT_EQ(confirm(f.key).status, 404);
}

TEST_F(direct_upload, an_empty_file_is_missing_file) {
  const form f = ask_form();
  const auto posted = post_form(f, "");
  if (current_backend() == backend_kind::embedded) {
    EXPECT_EQ(posted.status, 400);
    EXPECT_EQ(error_code_of(posted), "missing_file");
    EXPECT_EQ(pending_uploads(), 0u);
  } else {
    ASSERT_EQ(posted.status, 204) << posted.body;
    const auto r = confirm(f.key);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(error_code_of(r), "missing_file");
    EXPECT_EQ(pending_uploads(), 0u);
  }
}

TEST_F(direct_upload, another_users_key_is_403_forbidden_and_leaves_their_upload_alone) {
  const auto other = new_user();
  const form theirs = ask_form(other);
  ASSERT_EQ(post_form(theirs, sample_gif(), "image/gif").status, 204);

  const auto r = confirm(theirs.key);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(error_code_of(r), "forbidden");
  EXPECT_EQ(pending_uploads(other), 1u);
  EXPECT_TRUE(profile_image().is_null());

  const auto own = confirm(theirs.key, other);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(fetch_url(std::string(parse_json(own.body).at("user").at("profile_image").as_string())).body,
            sample_gif());
}

TEST_F(direct_upload, keys_of_any_other_shape_are_400_validation_failed_on_key) {
  const form f = ask_form();
  ASSERT_EQ(post_form(f, sample_png()).status, 204);
  const std::string own = "profile-images/uploads/" + user_.user_id + "/";
  const std::string tail = f.key.substr(own.size());  // "<deadline>-<32 hex>"
  const std::string deadline = tail.substr(0, 10);
  const std::string hex32 = tail.substr(11);
  const std::string keys[] = {
      "",
      f.key + ".png",   // an image key's ending: never confirmable
      f.key + ".form",  // the form marker
      own + "../" + tail,
      own + tail + "/",
      "/" + f.key,
      f.key.substr(0, f.key.size() - 1),
      own + deadline + "-0123456789ABCDEF0123456789ABCDEF",
      own + "0" + deadline.substr(1) + "-" + hex32,
      own + deadline + hex32,
      own + hex32,
      tail,
      // The upload key of before pending uploads had a prefix of their own.
      "profile-images/" + user_.user_id + "/" + hex32,
      "uploads/" + user_.user_id + "/" + tail,
      "profile-images/../profile-images/uploads/" + user_.user_id + "/" + tail,
  };
  for (const auto& key : keys) {
    const auto r = confirm(key);
    EXPECT_EQ(r.status, 400) << key;
    EXPECT_EQ(error_code_of(r), "validation_failed") << key;
    EXPECT_EQ(error_field_of(r), "key") << key;
  }
  for (const std::string body : {R"({})", R"({"key":5})", R"({"key":null})"}) {
    const auto r = client_.post_json("/profile_pic/confirm", body, auth(user_));
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(error_field_of(r), "key") << body;
  }
  // Nothing refused above touched the real upload.
  EXPECT_EQ(pending_uploads(), 1u);
  // A well-formed key of one's own that was never uploaded to.
  const auto missing = confirm(own + deadline + "-0123456789abcdef0123456789abcdef");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(error_code_of(missing), "not_found");
}

TEST_F(direct_upload, both_routes_need_a_bearer_token) {
  EXPECT_EQ(client_.send("POST", "/profile_pic/upload_url").status, 401);
  EXPECT_EQ(client_.post_json("/profile_pic/confirm", R"({"key":"x"})").status, 401);
  const auto bad = client_.send("POST", "/profile_pic/upload_url", "", {{"authorization", "Bearer nope"}});
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(error_code_of(bad), "unauthorized");
}

// The local backend's own policy checks (S3 enforces these itself; s3rver
// does not, so they are only testable here).
TEST_F(direct_upload, local_form_past_its_expiry_is_403_upload_expired) {
  if (current_backend() != backend_kind::embedded) GTEST_SKIP() << "the local server's policy";
  form f = ask_form();
  // Signed here with the server's derived key, so only the time can fail it.
  const std::string past = std::to_string(std::time(nullptr) - 1);
  f.set_field("expires", past);
  f.set_field("signature", local_form_signature(f.key, past, f.field("max_bytes")));
  const auto expired = post_form(f, sample_png());
  EXPECT_EQ(expired.status, 403);
  EXPECT_EQ(error_code_of(expired), "upload_expired");
  EXPECT_EQ(pending_uploads(), 0u);

  const std::string future = std::to_string(std::time(nullptr) + 60);
  f.set_field("expires", future);
  f.set_field("signature", local_form_signature(f.key, future, f.field("max_bytes")));
  EXPECT_EQ(post_form(f, sample_png()).status, 204) << "the independent signature must match the server's scheme";
}

TEST_F(direct_upload, local_form_with_any_field_changed_is_403_invalid_signature) {
  if (current_backend() != backend_kind::embedded) GTEST_SKIP() << "the local server's policy";
  const form good = ask_form();
  const form other = ask_form();  // a second genuine key of the same user
  auto changed = [&](const std::string& name, const std::string& value) {
    form f = good;
    f.set_field(name, value);
    return f;
  };
  std::string flipped = good.field("signature");
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  const std::pair<std::string, form> tampered[] = {
      {"key", changed("key", other.key)},
      {"expires", changed("expires", std::to_string(std::stoll(good.field("expires")) + 3600))},
      {"max_bytes", changed("max_bytes", std::to_string(10 * max_image_bytes))},
      {"max_bytes 0-padded", changed("max_bytes", "0" + good.field("max_bytes"))},
      {"signature", changed("signature", flipped)},
      {"signature upper case", changed("signature", [&] {
         std::string s = good.field("signature");
         for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
         return s;
       }())},
  };
  for (const auto& [what, f] : tampered) {
    const auto r = post_form(f, sample_png());
    EXPECT_EQ(r.status, 403) << what;
    EXPECT_EQ(error_code_of(r), "invalid_signature") << what;
  }
  form unsigned_form = good;
  unsigned_form.fields.erase(unsigned_form.fields.begin() + 3);  // no signature field
  EXPECT_EQ(error_code_of(post_form(unsigned_form, sample_png())), "invalid_signature");
  EXPECT_EQ(pending_uploads(), 0u);
  // The genuine form still works, and only for its own key.
  EXPECT_EQ(post_form(good, sample_png()).status, 204);
  EXPECT_EQ(confirm(other.key).status, 404);
  EXPECT_EQ(confirm(good.key).status, 200);
}

// What the SigV4 proxy in front of s3rver checks of a POST upload: the
// policy's signature (recomputed with node's HMAC from the SigV4 key
// chain, independently of Gatehouse) and its credential scope.
TEST_F(direct_upload, s3_form_with_its_policy_or_signature_changed_is_refused_by_the_s3_peer) {
  if (current_backend() != backend_kind::aws) GTEST_SKIP() << "the S3 peer's check";
  const form good = ask_form();
  form other_policy = good;
  other_policy.set_field("policy", ask_form().field("policy"));  // genuine, but not the one signed
  form flipped = good;
  std::string sig = good.field("x-amz-signature");
  sig.back() = sig.back() == '0' ? '1' : '0';
  flipped.set_field("x-amz-signature", sig);
  form other_date = good;
  std::string date = good.field("x-amz-date");
  date[3] = date[3] == '0' ? '1' : '0';  // another year: the credential scope no longer matches
  other_date.set_field("x-amz-date", date);
  for (const auto& [what, f] : {std::pair{"policy", other_policy}, {"signature", flipped}, {"date", other_date}}) {
    const auto r = post_form(f, sample_png());
    EXPECT_EQ(r.status, 403) << what;
    EXPECT_NE(r.body.find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos) << what << ": " << r.body;
  }
  EXPECT_EQ(pending_uploads(), 0u);
  EXPECT_EQ(post_form(good, sample_png()).status, 204);
}

TEST_F(direct_upload, local_form_requires_an_image_content_type_field) {
  if (current_backend() != backend_kind::embedded) GTEST_SKIP() << "the local server's policy";
  const form f = ask_form();
  for (const auto& [type, with] : {std::pair<std::string, bool>{"text/html", true}, {"", false}, {"IMAGE/png", true}}) {
    const auto r = post_form(f, sample_png(), type, with);
    EXPECT_EQ(r.status, 415) << type;
    EXPECT_EQ(error_code_of(r), "unsupported_media_type") << type;
  }
  EXPECT_EQ(pending_uploads(), 0u);
  EXPECT_EQ(post_form(f, sample_png(), "image/webp").status, 204);
}

TEST_F(direct_upload, local_upload_objects_are_never_served) {
  if (current_backend() != backend_kind::embedded) GTEST_SKIP() << "the local server's /files route";
  const form f = ask_form();
  ASSERT_EQ(post_form(f, sample_png()).status, 204);
  // A correctly signed GET URL for the unchecked upload: still nothing.
  const std::string url_key = derived_key("gatehouse/file-urls/v1");
  const std::string future = std::to_string(std::time(nullptr) + 600);
  const auto r = client_.get("/files/" + f.key + "?expires=" + future + "&sig=" + hex_of(hmac_sha256(url_key, "v1\n" + f.key + "\n" + future)));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body, sample_png());
}

// Finding 6 of issue 12: every form reserves room for MAX_IMAGE_BYTES, so a
// user holds at most MAX_PENDING_UPLOADS (3) at once, used or not.
TEST_F(direct_upload, a_fourth_outstanding_form_is_429_until_one_is_confirmed) {
  const form first = ask_form();
  const form second = ask_form();
  ASSERT_EQ(post_form(first, sample_png()).status, 204);  // used or unused, each counts
  (void)ask_form();
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  const auto refused = client_.send("POST", "/profile_pic/upload_url", "", auth(user_));
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(error_code_of(refused), "rate_limited");
  // Until the oldest form's slot ends: its expiry (5 min) + 60 s to confirm.
  const auto retry_after = std::stoll(refused.header("retry-after"));
  EXPECT_GE(retry_after, parse_iso(first.expires_at) + 60 - now - 2) << refused.header("retry-after");
  EXPECT_LE(retry_after, 360) << refused.header("retry-after");
  EXPECT_EQ(form_markers(user_), 3u) << "a refused request records no form";

  // Another user is not affected.
  EXPECT_EQ(client_.send("POST", "/profile_pic/upload_url", "", auth(new_user())).status, 200);

  // A confirmed upload frees its slot: one more form, and then no more.
  ASSERT_EQ(confirm(first.key).status, 200);
  (void)ask_form();
  EXPECT_EQ(client_.send("POST", "/profile_pic/upload_url", "", auth(user_)).status, 429);
  // A refused confirm leaves the form usable, so its slot stays taken.
  ASSERT_EQ(post_form(second, "not an image").status, 204);
  EXPECT_EQ(confirm(second.key).status, 415);
  EXPECT_EQ(client_.send("POST", "/profile_pic/upload_url", "", auth(user_)).status, 429);
}

// The attack: many form requests at once, hoping to pass the count together.
TEST_F(direct_upload, forms_asked_for_in_parallel_never_exceed_the_limit) {
  const std::string token = user_.token;
  const auto results = all_at_once(12, server_->port(), [&](http_client& c, int) {
    return c.send("POST", "/profile_pic/upload_url", "", {{"authorization", "Bearer " + token}});
  });
  int issued = 0;
  for (const auto& r : results) {
    if (r.status == 200) {
      ++issued;
    } else {
      EXPECT_EQ(r.status, 429) << r.body;
      EXPECT_EQ(error_code_of(r), "rate_limited");
      EXPECT_TRUE(r.has_header("retry-after"));
    }
  }
  // Never more than the limit (requests that all see each other may all be refused).
  EXPECT_LE(issued, 3);
  EXPECT_GE(static_cast<int>(results.size()) - issued, 9);
  EXPECT_EQ(form_markers(user_), static_cast<std::size_t>(issued)) << "withdrawn reservations leave nothing";
}

// Finding 7 of issue 12, on S3: the ranged GET that sniffs the bytes is
// pinned with If-Match to the ETag HeadObject returned. s3rver ignores
// If-Match, so the SigV4 proxy in front of it answers S3's 412 itself
// (tests/peers/sigv4-proxy.mjs); it also holds the read, so the bytes can
// be swapped through the still-valid form exactly between HEAD and GET.
TEST_F(direct_upload, s3_bytes_swapped_between_head_and_the_sniffing_read_are_409_upload_changed) {
  if (current_backend() != backend_kind::aws) GTEST_SKIP() << "S3's conditional GET";
  auto& peers = shared_aws_peers();
  const form f = ask_form();
  ASSERT_EQ(post_form(f, sample_png()).status, 204);
  const auto before = peers.stats(aws_service::s3);
  peers.hold_next_reads(1);
  auto confirming = std::async(std::launch::async, [&] {
    http_client c(server_->port());
    return c.post_json("/profile_pic/confirm", boost::json::serialize(boost::json::object{{"key", f.key}}), auth(user_));
  });
  // HeadObject has answered and the sniffing read is waiting at the proxy.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (peers.stats(aws_service::s3).held == before.held && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const bool held = peers.stats(aws_service::s3).held == before.held + 1;
  // The attacker's swap: other bytes through the same form.
  const auto swapped = post_form(f, "<html><script>alert(1)</script></html>");
  peers.release_reads();
  ASSERT_TRUE(held) << "the read was never held";
  ASSERT_EQ(swapped.status, 204) << swapped.body;
  const auto r = confirming.get();
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(error_code_of(r), "upload_changed");
  const auto after = peers.stats(aws_service::s3);
  EXPECT_EQ(after.precondition_failed, before.precondition_failed + 1) << "the GET carried If-Match";
  EXPECT_GE(after.if_match_signed, before.if_match_signed + 1) << "If-Match is among the signed headers";
  EXPECT_TRUE(profile_image().is_null());
  // Confirmed again, the swapped bytes are checked as they are now.
  EXPECT_EQ(confirm(f.key).status, 415);
}

// Forms that live 2 s, a slot 2 s more to confirm, and the local sweep every second.
class direct_upload_expiry : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    short_lived_ = std::make_unique<gatehouse_process>(std::map<std::string, std::string>{
        {"UPLOAD_FORM_TTL", "2s"}, {"UPLOAD_SWEEP_INTERVAL", "1s"}});
  }
  static void TearDownTestSuite() { short_lived_.reset(); }

  http_result ask(const signed_in_user& u) {
    return client_.send("POST", "/profile_pic/upload_url", "", auth(u));
  }
  form form_of(const http_result& r) {
    const auto upload = parse_json(r.body).at("upload");
    form f;
    for (const auto& [name, value] : upload.at("fields").as_object())
      f.fields.emplace_back(std::string(name), std::string(value.as_string()));
    f.url = std::string(upload.at("url").as_string());
    f.key = std::string(upload.at("key").as_string());
    return f;
  }
  static std::int64_t deadline_of(const form& f) {
    return std::stoll(f.key.substr(f.key.rfind('/') + 1, 10));
  }
  // Polls `done` for up to 30 s (a bound against hangs, not a speed check).
  template <typename Done>
  static bool eventually(Done done) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
  }

  header_list auth(const signed_in_user& u) const { return {{"authorization", "Bearer " + u.token}}; }

  static inline std::unique_ptr<gatehouse_process> short_lived_;
  http_client client_{short_lived_->port()};
};

TEST_F(direct_upload_expiry, after_the_oldest_slot_ends_a_new_form_is_allowed_and_dead_uploads_are_gone) {
  const auto u = sign_up_and_log_in(client_, "expiry@example.com");
  std::vector<form> forms;
  for (int i = 0; i < 3; ++i) {
    const auto r = ask(u);
    ASSERT_EQ(r.status, 200) << r.body;
    forms.push_back(form_of(r));
  }
  ASSERT_EQ(post_form(forms[0], sample_png()).status, 204);
  const auto refused = ask(u);
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_LE(std::stoll(refused.header("retry-after")), 4);
  EXPECT_EQ(pending_of(*short_lived_, u, false), 1u);

  // Past the deadlines, the uploads are dead: confirming one is 404, and it is deleted.
  ASSERT_TRUE(eventually([&] { return std::time(nullptr) > deadline_of(forms[2]); }));
  const auto late = client_.post_json("/profile_pic/confirm",
                                      boost::json::serialize(boost::json::object{{"key", forms[0].key}}), auth(u));
  EXPECT_EQ(late.status, 404) << late.body;
  EXPECT_EQ(error_code_of(late), "not_found");
  EXPECT_EQ(pending_of(*short_lived_, u, false), 0u);
  const auto again = ask(u);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(pending_of(*short_lived_, u, true), 1u) << "the dead slots were deleted before the new form";
}

TEST_F(direct_upload_expiry, the_local_sweep_deletes_dead_uploads_of_users_who_never_come_back) {
  if (current_backend() != backend_kind::embedded) GTEST_SKIP() << "on S3 the bucket's lifecycle rule does it";
  const auto u = sign_up_and_log_in(client_, "gone@example.com");
  for (int i = 0; i < 3; ++i) {
    const auto r = ask(u);
    ASSERT_EQ(r.status, 200) << r.body;
    if (i < 2) {
      ASSERT_EQ(post_form(form_of(r), sample_png()).status, 204);
    }
  }
  ASSERT_EQ(pending_of(*short_lived_, u, false), 2u);
  ASSERT_EQ(pending_of(*short_lived_, u, true), 3u);
  // Nobody asks for anything: only the sweep can delete them.
  EXPECT_TRUE(eventually([&] {
    return pending_of(*short_lived_, u, false) == 0 && pending_of(*short_lived_, u, true) == 0;
  })) << short_lived_->log_text();
  EXPECT_NE(short_lived_->log_text().find("swept dead direct uploads"), std::string::npos);
}

}  // namespace
}  // namespace gatehouse::testing
