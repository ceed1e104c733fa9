#include "images/image_key.hpp"

#include "base/error.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace gatehouse::images {
namespace {

using namespace std::string_literals;

const std::string user = "7f0c2a4e-1b3d-4c5e-8f60-718293a4b5c6";
const std::string other_user = "00000000-1111-4222-8333-444444444444";
const std::string good = "profile-images/" + user + "/0123456789abcdef0123456789abcdef.png";

TEST(image_key, has_the_documented_shape) {
  const std::regex shape("profile-images/" + user + "/[0-9a-f]{32}\\.(jpg|png|gif|webp)");
  for (image_type t : {image_type::jpeg, image_type::png, image_type::gif, image_type::webp}) {
    const std::string key = new_image_key(user, t);
    EXPECT_TRUE(std::regex_match(key, shape)) << key;
    EXPECT_TRUE(key.ends_with("." + std::string(extension_of(t)))) << key;
    EXPECT_TRUE(is_valid_image_key(key)) << key;
    EXPECT_TRUE(image_key_belongs_to(key, user)) << key;
  }
}

TEST(image_key, two_keys_differ) {
  EXPECT_NE(new_image_key(user, image_type::png), new_image_key(user, image_type::png));
}

TEST(image_key, refuses_a_malformed_user_id) {
  for (const std::string& bad : {"../etc"s, ""s, "7F0C2A4E-1B3D-4C5E-8F60-718293A4B5C6"s, user + "/x"s}) {
    try {
      (void)new_image_key(bad, image_type::png);
      ADD_FAILURE() << "accepted user id " << bad;
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), error_kind::internal);
      EXPECT_EQ(e.code(), "internal");
    }
  }
}

TEST(image_key, accepts_the_exact_shape) {
  EXPECT_TRUE(is_valid_image_key(good));
  EXPECT_TRUE(is_valid_image_key("profile-images/" + user + "/ffffffffffffffffffffffffffffffff.webp"));
}

TEST(image_key, rejects_traversal_and_every_other_shape) {
  const std::string hex = "0123456789abcdef0123456789abcdef";
  const std::string rejected[] = {
      "",
      "profile-images/",
      "profile-images/../x",
      "profile-images/" + user + "/../" + hex + ".png",
      "profile-images/" + user + "/%2e%2e",
      "profile-images/%2e%2e/" + hex + ".png",
      "profile-images/" + user + "/%2e%2e%2f" + hex.substr(6) + ".png",
      "/etc/passwd",
      "/profile-images/" + user + "/" + hex + ".png",
      "Profile-images/" + user + "/" + hex + ".png",
      "profile-images/7F0C2A4E-1B3D-4C5E-8F60-718293A4B5C6/" + hex + ".png",  // uppercase uuid
      "profile-images/" + user + "/0123456789ABCDEF0123456789abcdef.png",     // uppercase hex
      "profile-images/" + user + "/" + hex + ".PNG",
      "profile-images/" + user + "/" + hex + ".jpeg",
      "profile-images/" + user + "/" + hex + ".svg",
      "profile-images/" + user + "/" + hex + ".png.exe",
      "profile-images/" + user + "/" + hex,
      "profile-images/" + user + "/" + hex + ".",
      "profile-images/" + user + "/" + hex.substr(1) + ".png",  // 31 hex
      "profile-images/" + user + "/" + hex + "0.png",           // 33 hex
      "profile-images/" + user + "/extra/" + hex + ".png",
      "profile-images/" + user + "/" + hex + ".png/",
      "profile-images/" + user + "//" + hex + ".png",
      "profile-images/" + user + "/" + hex + ".png\0"s,
      "profile-images/" + user + "/0123456789abcdef\0"s + "123456789abcdef.png",
      "profile-images/7f0c2a4e1b3d-4c5e-8f60-718293a4b5c6-/" + hex + ".png",  // dashes moved
      "profile-images/" + user + "\\" + hex + ".png",
      good + " ",
      " " + good,
  };
  for (const std::string& key : rejected) EXPECT_FALSE(is_valid_image_key(key)) << key;
}

TEST(image_key, belongs_only_to_its_own_user) {
  EXPECT_TRUE(image_key_belongs_to(good, user));
  EXPECT_FALSE(image_key_belongs_to(good, other_user));
  EXPECT_FALSE(image_key_belongs_to(good, ""));
  EXPECT_FALSE(image_key_belongs_to(good, user.substr(0, 35)));
  EXPECT_FALSE(image_key_belongs_to("profile-images/" + user + "/../x.png", user));
  const std::string theirs = new_image_key(other_user, image_type::jpeg);
  EXPECT_FALSE(image_key_belongs_to(theirs, user));
  EXPECT_TRUE(image_key_belongs_to(theirs, other_user));
}

constexpr std::int64_t deadline = 1'764'000'360;

TEST(upload_key, has_the_documented_shape_and_is_never_an_image_key) {
  const std::regex shape("profile-images/uploads/" + user + "/1764000360-[0-9a-f]{32}");
  const std::string key = new_upload_key(user, deadline);
  EXPECT_TRUE(std::regex_match(key, shape)) << key;
  EXPECT_TRUE(key.starts_with(upload_prefix_of(user)));
  EXPECT_TRUE(key.starts_with(upload_key_prefix));
  EXPECT_TRUE(is_valid_upload_key(key));
  EXPECT_FALSE(is_valid_image_key(key));
  EXPECT_FALSE(is_valid_upload_key(good));  // and an image key is never an upload key
  EXPECT_EQ(owner_of_upload_key(key), user);
  EXPECT_EQ(upload_deadline_of(key), deadline);
  EXPECT_NE(new_upload_key(user, deadline), key);
  EXPECT_THROW((void)new_upload_key("../etc", deadline), error);
  EXPECT_THROW((void)new_upload_key(user, 999'999'999), error);  // not ten digits
  EXPECT_THROW((void)new_upload_key(user, 10'000'000'000), error);
}

TEST(upload_key, the_form_marker_names_its_upload_and_deadline_but_is_no_upload_key) {
  const std::string key = new_upload_key(user, deadline);
  const std::string marker = form_marker_of(key);
  EXPECT_EQ(marker, key + ".form");
  EXPECT_FALSE(is_valid_upload_key(marker));
  EXPECT_FALSE(is_valid_image_key(marker));
  EXPECT_EQ(owner_of_upload_key(marker), "");
  EXPECT_EQ(upload_key_of(marker), key);
  EXPECT_EQ(upload_key_of(key), key);
  EXPECT_EQ(upload_deadline_of(marker), deadline);
  for (const std::string& other : {good, key + ".png", key + ".form.form", marker + "/", std::string("x.form")}) {
    EXPECT_EQ(upload_key_of(other), "") << other;
    EXPECT_FALSE(upload_deadline_of(other)) << other;
  }
  EXPECT_THROW((void)form_marker_of(good), error);
}

TEST(upload_key, rejects_every_other_shape_and_names_no_owner_for_it) {
  const std::string hex = "0123456789abcdef0123456789abcdef";
  const std::string own = "profile-images/uploads/" + user + "/";
  const std::string rejected[] = {
      "",
      own,
      own + "1764000360-" + hex + ".png",
      own + "1764000360-" + hex + "/",
      own + "1764000360-" + hex.substr(1),
      own + "1764000360-" + hex + "0",
      own + "1764000360-0123456789ABCDEF0123456789abcdef",
      own + "0764000360-" + hex,
      own + "176400036-" + hex + "0",
      own + "1764000360" + hex,
      own + "1764000360_" + hex,
      own + "+764000360-" + hex,
      own + "../" + hex.substr(3),
      "profile-images/" + user + "/" + hex,  // the upload key of before pending uploads had their own prefix
      "profile-images/uploads/7F0C2A4E-1B3D-4C5E-8F60-718293A4B5C6/1764000360-" + hex,
      "/" + own + "1764000360-" + hex,
      "profile-images/uploads//" + user + "/1764000360-" + hex,
      own + "1764000360-" + hex.substr(0, 31) + "\0"s,
      " " + own + "1764000360-" + hex,
      own + "1764000360-" + hex + " ",
  };
  for (const std::string& key : rejected) {
    EXPECT_FALSE(is_valid_upload_key(key)) << key;
    EXPECT_EQ(owner_of_upload_key(key), "") << key;
  }
  EXPECT_EQ(owner_of_upload_key("profile-images/uploads/" + other_user + "/1764000360-" + hex), other_user);
}

}  // namespace
}  // namespace gatehouse::images
