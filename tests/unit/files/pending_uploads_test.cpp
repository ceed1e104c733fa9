// images::pending_uploads on the real embedded store (a fresh directory per
// test) and a clock the test moves: the limit, its Retry-After, what frees
// a slot, and the clean-up of dead ones.
#include "base/error.hpp"
#include "crypto/crypto.hpp"
#include "files/file_object_store.hpp"
#include "images/image_key.hpp"
#include "images/pending_uploads.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

namespace gatehouse::images {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t start_time = 1'700'000'000;

class pending_uploads_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-pending-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    store_ = std::make_unique<files::file_object_store>(dir_, "signing-key", "http://localhost:3000",
                                                        std::chrono::seconds(900), [this] { return now_.load(); });
    uploads_ = std::make_unique<pending_uploads>(*store_, upload_settings{3, 300}, [this] { return now_.load(); });
    user_ = crypto::uuid_v4();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::size_t keys_of(const std::string& user) { return store_->list_keys(upload_prefix_of(user), 100).size(); }

  // The Retry-After of a refused reservation, or -1 when it was not refused.
  long refusal_retry_after(const std::string& user) {
    try {
      (void)uploads_->reserve(user);
      return -1;
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::resource_exhausted);
      EXPECT_EQ(e.code(), "rate_limited");
      for (const auto& [name, value] : e.headers())
        if (name == "retry-after") return std::stol(value);
      ADD_FAILURE() << "no Retry-After";
      return 0;
    }
  }

  fs::path dir_;
  std::atomic<std::int64_t> now_{start_time};
  std::unique_ptr<files::file_object_store> store_;
  std::unique_ptr<pending_uploads> uploads_;
  std::string user_;
};

TEST_F(pending_uploads_test, a_slot_is_an_upload_key_with_its_deadline_and_a_marker_written_at_once) {
  const auto r = uploads_->reserve(user_);
  EXPECT_EQ(owner_of_upload_key(r.key), user_);
  EXPECT_EQ(r.form_seconds, 300);
  EXPECT_EQ(r.deadline, start_time + 300 + 60);
  EXPECT_EQ(upload_deadline_of(r.key), r.deadline);
  EXPECT_TRUE(store_->head(form_marker_of(r.key))) << "the unused form counts from the start";
  EXPECT_FALSE(store_->head(r.key));
}

TEST_F(pending_uploads_test, the_fourth_is_refused_until_the_oldest_slot_ends) {
  (void)uploads_->reserve(user_);
  now_ += 100;
  (void)uploads_->reserve(user_);
  (void)uploads_->reserve(user_);
  EXPECT_EQ(refusal_retry_after(user_), 360 - 100);
  EXPECT_EQ(keys_of(user_), 3u) << "a refusal leaves nothing behind";
  EXPECT_EQ(uploads_->reserve(crypto::uuid_v4()).deadline, now_ + 360) << "other users are not affected";
  now_ = start_time + 359;
  EXPECT_EQ(refusal_retry_after(user_), 1);
  now_ = start_time + 360;  // the first slot's deadline: dead, and deleted
  EXPECT_NO_THROW((void)uploads_->reserve(user_));
  EXPECT_EQ(keys_of(user_), 3u);
}

TEST_F(pending_uploads_test, uploads_count_like_markers_and_release_frees_the_slot) {
  const auto a = uploads_->reserve(user_);
  const auto b = uploads_->reserve(user_);
  (void)uploads_->reserve(user_);
  store_->put(a.key, "bytes", "image/png");
  EXPECT_GT(refusal_retry_after(user_), 0);
  uploads_->release(a.key, true);
  EXPECT_FALSE(store_->head(a.key));
  EXPECT_FALSE(store_->head(form_marker_of(a.key)));
  const auto d = uploads_->reserve(user_);
  // The released form still works for a while: an upload written through it
  // again counts until its deadline, marker or not.
  store_->put(a.key, "again", "image/png");
  EXPECT_GT(refusal_retry_after(user_), 0);
  uploads_->release(b.key, false);
  EXPECT_GT(refusal_retry_after(user_), 0) << "a, d and the third";
  (void)d;
}

TEST_F(pending_uploads_test, is_live_until_the_deadline) {
  const auto r = uploads_->reserve(user_);
  EXPECT_TRUE(uploads_->is_live(r.key));
  now_ = r.deadline - 1;
  EXPECT_TRUE(uploads_->is_live(r.key));
  now_ = r.deadline;
  EXPECT_FALSE(uploads_->is_live(r.key));
  EXPECT_FALSE(uploads_->is_live("profile-images/" + user_ + "/0123456789abcdef0123456789abcdef"));
}

TEST_F(pending_uploads_test, the_grace_to_confirm_is_never_longer_than_the_form) {
  pending_uploads short_lived(*store_, upload_settings{3, 2}, [this] { return now_.load(); });
  EXPECT_EQ(short_lived.confirm_grace_seconds(), 2);
  EXPECT_EQ(short_lived.reserve(user_).deadline, start_time + 4);
  EXPECT_EQ(uploads_->confirm_grace_seconds(), 60);
}

TEST_F(pending_uploads_test, sweep_deletes_every_users_dead_slots_and_nothing_else) {
  const std::string other = crypto::uuid_v4();
  const auto old_a = uploads_->reserve(user_);
  store_->put(old_a.key, "bytes", "image/png");
  const auto old_b = uploads_->reserve(other);
  now_ += 200;
  const auto young = uploads_->reserve(other);
  const std::string image = new_image_key(user_, image_type::png);
  store_->put(image, "an image", "image/png");
  EXPECT_EQ(uploads_->sweep(), 0u) << "nothing is dead yet";
  now_ = old_a.deadline;
  EXPECT_EQ(uploads_->sweep(), 3u) << "two markers and one upload";
  EXPECT_EQ(keys_of(user_), 0u);
  EXPECT_EQ(store_->list_keys(upload_prefix_of(other), 10), std::vector<std::string>{form_marker_of(young.key)});
  EXPECT_TRUE(store_->head(image)) << "images are never swept";
  (void)old_b;
}

TEST_F(pending_uploads_test, reservations_racing_for_one_user_never_exceed_the_limit) {
  constexpr int racers = 16;
  std::atomic<int> admitted{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < racers; ++i)
    threads.emplace_back([&] {
      try {
        (void)uploads_->reserve(user_);
        ++admitted;
      } catch (const error& e) {
        if (e.code() == "rate_limited") ++refused;
      }
    });
  for (auto& t : threads) t.join();
  // Never more than the limit; racers that all see each other may all be refused.
  EXPECT_LE(admitted.load(), 3);
  EXPECT_EQ(admitted + refused, racers);
  EXPECT_EQ(keys_of(user_), static_cast<std::size_t>(admitted.load()));
}

}  // namespace
}  // namespace gatehouse::images
