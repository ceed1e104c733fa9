// POST /upload_profile_pic and the local signed URLs it returns.
#include "support/backend.hpp"
#include "support/fixtures.hpp"
#include "support/gatehouse_process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <ctime>
#include <filesystem>

namespace gatehouse::testing {
namespace {
namespace fs = std::filesystem;

class upload : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<gatehouse_process>(std::map<std::string, std::string>{{"MAX_IMAGE_BYTES", "65536"}}); }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { user_ = sign_up_and_log_in(client_, "up" + std::to_string(counter_++) + "@example.com"); }

  http_result send_image(const std::string& bytes, const std::string& declared_type = "image/png",
                         const std::string& filename = "me.png", const std::string& name = "image") {
    return client_.send("POST", "/upload_profile_pic",
                        multipart_body({{"note", "", "", "hello"}, {name, filename, declared_type, bytes}}),
                        multipart_headers(user_.token));
  }
  std::size_t stored_objects() const {
    return count_objects((server_->data_dir() / "data").string(), "profile-images/" + user_.user_id + "/");
  }

  static inline std::unique_ptr<gatehouse_process> server_;
  static inline int counter_ = 0;
  http_client client_{server_->port()};
  signed_in_user user_;
};

TEST_F(upload, each_image_type_round_trips_byte_for_byte_through_the_signed_url) {
  const std::pair<std::string, std::string> samples[] = {
      {sample_png(), "image/png"}, {sample_jpeg(), "image/jpeg"}, {sample_gif(), "image/gif"}, {sample_webp(), "image/webp"}};
  for (const auto& [bytes, type] : samples) {
    // The declared type is a lie on purpose: only the bytes count.
    const auto r = send_image(bytes, "application/octet-stream", "photo.bin");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto url = std::string(parse_json(r.body).at("user").at("profile_image").as_string());
    EXPECT_NE(url.find("/profile-images/" + user_.user_id + "/"), std::string::npos) << url;
    if (current_backend() == backend_kind::embedded) {
      EXPECT_EQ(url.rfind("http://127.0.0.1:" + std::to_string(server_->port()) + "/files/", 0), 0u) << url;
    }
    const auto image = fetch_url(url);
    ASSERT_EQ(image.status, 200);
    EXPECT_EQ(image.body, bytes);
    EXPECT_EQ(image.header("content-type"), type);
    if (current_backend() == backend_kind::embedded) {
      EXPECT_EQ(image.header("x-content-type-options"), "nosniff");
    }
  }
  // Each upload replaced the last: one object left.
  EXPECT_EQ(stored_objects(), 1u);
  const auto me = client_.get("/users/me", {{"authorization", "Bearer " + user_.token}});
  EXPECT_TRUE(parse_json(me.body).at("user").at("profile_image").is_string());
}

TEST_F(upload, text_named_png_and_declared_png_is_415) {
  const auto r = send_image("just some text, not an image", "image/png", "x.png");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(error_code_of(r), "unsupported_media_type");
  EXPECT_EQ(stored_objects(), 0u);
}

TEST_F(upload, missing_image_part_is_400_missing_file) {
  const auto r = send_image(sample_png(), "image/png", "me.png", "picture");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code_of(r), "missing_file");
}

TEST_F(upload, image_over_max_image_bytes_is_413) {
  const auto r = send_image(sample_png() + std::string(65536, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(error_code_of(r), "payload_too_large");
}

TEST_F(upload, body_far_over_the_limit_is_refused_before_it_is_read) {
  const auto r = send_image(sample_png() + std::string(4 * 1024 * 1024, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(error_code_of(r), "payload_too_large");
  // And the server still answers.
  http_client fresh(server_->port());
  EXPECT_EQ(fresh.get("/health").status, 200);
}

TEST_F(upload, tampered_urls_are_refused) {
  const auto r = send_image(sample_png());
  ASSERT_EQ(r.status, 200);
  const std::string url(parse_json(r.body).at("user").at("profile_image").as_string());
  ASSERT_EQ(fetch_url(url).status, 200);
  std::string bad_sig = url;
  bad_sig.back() = bad_sig.back() == '0' ? '1' : '0';
  EXPECT_EQ(fetch_url(bad_sig).status, 403);
  std::string other_key = url;
  const auto dot = other_key.find(".png");
  other_key[dot - 1] = other_key[dot - 1] == 'a' ? 'b' : 'a';
  EXPECT_EQ(fetch_url(other_key).status, 403);
  if (current_backend() == backend_kind::embedded) {
    EXPECT_EQ(error_code_of(fetch_url(bad_sig)), "invalid_signature");
  }
}

// The local backend's own URL scheme: expiry and the key it signs.
TEST_F(upload, local_urls_expire_and_bind_their_key) {
  if (current_backend() != backend_kind::embedded) GTEST_SKIP() << "S3 pre-signed URLs: covered by tampered_urls_are_refused";
  const auto r = send_image(sample_png());
  ASSERT_EQ(r.status, 200);
  const std::string path = path_of_url(std::string(parse_json(r.body).at("user").at("profile_image").as_string()));
  const auto q = path.find('?');
  const std::string key = path.substr(std::string("/files/").size(), q - std::string("/files/").size());

  const auto unsigned_get = client_.get("/files/" + key);
  EXPECT_EQ(unsigned_get.status, 403);
  EXPECT_EQ(error_code_of(unsigned_get), "invalid_signature");

  const auto expires_pos = path.find("expires=") + 8;
  std::string later = path;
  later.insert(expires_pos, "1");  // a different expiry under the same signature
  EXPECT_EQ(client_.get(later).status, 403);

  // A correctly signed URL whose time has passed: signed here with the
  // server's derived key, so only the expiry can fail it.
  const std::string url_key = derived_key("gatehouse/file-urls/v1");
  const std::string past = std::to_string(std::time(nullptr) - 60);
  const std::string mac = hmac_sha256(url_key, "v1\n" + key + "\n" + past);
  const auto expired = client_.get("/files/" + key + "?expires=" + past + "&sig=" +
                                   hex_of(mac));
  EXPECT_EQ(expired.status, 403);
  EXPECT_EQ(error_code_of(expired), "url_expired");

  const std::string future = std::to_string(std::time(nullptr) + 600);
  const std::string good = hmac_sha256(url_key, "v1\n" + key + "\n" + future);
  EXPECT_EQ(client_.get("/files/" + key + "?expires=" + future + "&sig=" +
                        hex_of(good))
                .status,
            200)
      << "the independent signature must match the server's scheme";
}

TEST_F(upload, traversal_keys_never_escape_the_store) {
  const std::string url_key = derived_key("gatehouse/file-urls/v1");
  const std::string future = std::to_string(std::time(nullptr) + 600);
  for (const char* key : {"../jwt-secret", "profile-images/../../jwt-secret", "%2e%2e/jwt-secret",
                                "profile-images/%2e%2e%2f%2e%2e%2fjwt-secret", "/etc/passwd", "..%2fjwt-secret"}) {
    const std::string mac = hmac_sha256(url_key, "v1\n" + std::string(key) + "\n" + future);
    const auto r = client_.get("/files/" + std::string(key) + "?expires=" + future + "&sig=" +
                               hex_of(mac));
    EXPECT_TRUE(r.status == 404 || r.status == 403) << key << " -> " << r.status;
    EXPECT_EQ(r.body.find(test_jwt_secret), std::string::npos);
  }
}

TEST_F(upload, parallel_uploads_leave_exactly_one_current_image) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      http_client c(server_->port());
      for (int k = 0; k < 3; ++k) {
        const auto r = c.send("POST", "/upload_profile_pic", multipart_body({{"image", "a.gif", "image/gif", sample_gif()}}),
                              multipart_headers(user_.token));
        if (r.status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 24);
  EXPECT_EQ(stored_objects(), 1u);
  const auto me = client_.get("/users/me", {{"authorization", "Bearer " + user_.token}});
  const auto url = std::string(parse_json(me.body).at("user").at("profile_image").as_string());
  EXPECT_EQ(fetch_url(url).body, sample_gif());
}

}  // namespace
}  // namespace gatehouse::testing
