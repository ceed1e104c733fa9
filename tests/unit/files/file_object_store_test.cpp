// file_object_store on a real directory, fresh for each test.
#include "base/error.hpp"
#include "crypto/crypto.hpp"
#include "files/file_object_store.hpp"
#include "images/image_key.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

namespace gatehouse::files {
namespace {

namespace fs = std::filesystem;
using images::image_type;

constexpr std::int64_t start_time = 1'700'000'000;
constexpr std::chrono::seconds ttl{900};

struct parsed_url {
  std::string base, key, expires, sig;
};

// Splits "<base>/files/<key>?expires=<n>&sig=<hex>" strictly.
parsed_url parse_url(const std::string& url) {
  parsed_url p;
  const auto files = url.find("/files/");
  const auto query = url.find("?expires=");
  const auto sig = url.find("&sig=");
  if (files == std::string::npos || query == std::string::npos || sig == std::string::npos ||
      !(files < query && query < sig))
    return p;
  p.base = url.substr(0, files);
  p.key = url.substr(files + 7, query - files - 7);
  p.expires = url.substr(query + 9, sig - query - 9);
  p.sig = url.substr(sig + 5);
  return p;
}

class file_object_store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "gatehouse-files-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    root_ = dir_ / "root" / "images";  // created on first put
    store_ = std::make_unique<file_object_store>(root_, "signing-key", "http://localhost:3000/",
                                                 ttl, [this] { return now_.load(); });
    user_ = crypto::uuid_v4();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string new_key(image_type type = image_type::png) {
    return images::new_image_key(user_, type);
  }

  images::stored_object read(const std::string& key) {
    const auto url = parse_url(store_->url_for(key));
    return store_->read_signed(url.key, url.expires, url.sig);
  }

  static void expect_error(const std::function<void()>& action, error_kind kind,
                           const std::string& code) {
    try {
      action();
      ADD_FAILURE() << "no error; expected " << code;
    } catch (const error& e) {
      EXPECT_EQ(e.kind(), kind);
      EXPECT_EQ(e.code(), code);
    }
  }

  // Every file anywhere under the test directory.
  std::vector<fs::path> all_files() {
    std::vector<fs::path> out;
    for (const auto& entry : fs::recursive_directory_iterator(dir_))
      if (!entry.is_directory()) out.push_back(entry.path());
    return out;
  }

  fs::path dir_;
  fs::path root_;
  std::atomic<std::int64_t> now_{start_time};
  std::string user_;
  std::unique_ptr<file_object_store> store_;
};

TEST_F(file_object_store_test, put_then_read_signed_returns_every_byte_value) {
  std::string bytes;
  for (int round = 0; round < 3; ++round)
    for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
  const auto key = new_key(image_type::png);
  store_->put(key, bytes, "image/png");
  const auto object = read(key);
  EXPECT_EQ(object.bytes, bytes);
  EXPECT_EQ(object.content_type, "image/png");
  EXPECT_EQ(all_files(), std::vector<fs::path>{root_ / key});  // no temp file left behind
}

TEST_F(file_object_store_test, content_type_comes_from_the_extension_not_the_declared_type) {
  const std::pair<image_type, std::string> cases[] = {{image_type::jpeg, "image/jpeg"},
                                                      {image_type::png, "image/png"},
                                                      {image_type::gif, "image/gif"},
                                                      {image_type::webp, "image/webp"}};
  for (const auto& [type, content_type] : cases) {
    const auto key = new_key(type);
    store_->put(key, "x", "text/html");
    EXPECT_EQ(read(key).content_type, content_type);
  }
}

// A process killed inside put leaves its temporary file; the periodic job
// deletes it once it is an hour old, and nothing else.
TEST_F(file_object_store_test, stale_temporary_files_of_unfinished_writes_are_removed_and_nothing_else) {
  const auto key = new_key();
  store_->put(key, "an object", "image/png");
  const fs::path dir = (root_ / key).parent_path();
  const fs::path stale = dir / ("." + (root_ / key).filename().string() + ".0123456789abcdef.tmp");
  const fs::path fresh = dir / ("." + (root_ / key).filename().string() + ".fedcba9876543210.tmp");
  const fs::path lookalike = dir / ".notes.tmp";  // not put's shape
  for (const auto& p : {stale, fresh, lookalike}) std::ofstream(p) << "half";
  const auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(stale, two_hours_ago);
  fs::last_write_time(lookalike, two_hours_ago);
  fs::last_write_time(root_ / key, two_hours_ago);

  EXPECT_EQ(store_->remove_stale_temporaries(std::chrono::hours(1)), 1u);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh)) << "a write may still be running";
  EXPECT_TRUE(fs::exists(lookalike));
  EXPECT_EQ(read(key).bytes, "an object") << "objects are never touched";
}

TEST_F(file_object_store_test, empty_object_round_trips) {
  const auto key = new_key();
  store_->put(key, "", "image/png");
  EXPECT_EQ(read(key).bytes, "");
}

TEST_F(file_object_store_test, put_replaces_an_existing_object) {
  const auto key = new_key();
  store_->put(key, "first version", "image/png");
  store_->put(key, "second", "image/png");
  EXPECT_EQ(read(key).bytes, "second");
}

TEST_F(file_object_store_test, files_are_0600_and_directories_0700) {
  const auto key = new_key();
  store_->put(key, "secret", "image/png");
  struct stat st {};
  ASSERT_EQ(::stat((root_ / key).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat((root_ / key).parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat((root_ / "profile-images").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(file_object_store_test, remove_then_read_is_not_found_and_empty_user_dir_goes) {
  const auto key = new_key();
  store_->put(key, "bytes", "image/png");
  const auto url = parse_url(store_->url_for(key));
  store_->remove(key);
  expect_error([&] { (void)store_->read_signed(url.key, url.expires, url.sig); },
               error_kind::not_found, "not_found");
  EXPECT_FALSE(fs::exists((root_ / key).parent_path()));
  EXPECT_TRUE(fs::exists(root_ / "profile-images"));
}

TEST_F(file_object_store_test, remove_keeps_the_user_dir_while_it_has_other_objects) {
  const auto a = new_key();
  const auto b = new_key();
  store_->put(a, "a", "image/png");
  store_->put(b, "b", "image/png");
  store_->remove(a);
  EXPECT_EQ(read(b).bytes, "b");
}

TEST_F(file_object_store_test, removing_a_missing_object_is_not_an_error) {
  EXPECT_NO_THROW(store_->remove(new_key()));
  const auto key = new_key();
  store_->put(key, "x", "image/png");
  store_->remove(key);
  EXPECT_NO_THROW(store_->remove(key));
}

TEST_F(file_object_store_test, invalid_keys_are_not_found_and_write_nothing_anywhere) {
  const std::string valid_tail = "/" + user_ + "/00112233445566778899aabbccddeeff.png";
  const std::string bad_keys[] = {
      "",
      "../escape.png",
      "../../../../tmp/escape.png",
      "/tmp/escape.png",
      "profile-images/../../escape.png",
      "profile-images/" + user_ + "/../../../escape.png",
      "profile-images/" + user_ + "/..%2f..%2fescape.png",
      "profile-images/" + user_ + "/00112233445566778899aabbccddeeff.png/..",
      "profile-images/" + user_ + "/00112233445566778899AABBCCDDEEFF.png",
      "profile-images/" + user_ + "/00112233445566778899aabbccddeeff.html",
      "profile-images/" + user_ + std::string("/00112233445566778899aabbccddeeff.png\0x", 39),
      "other-prefix" + valid_tail,
      "profile-images//" + user_ + "/00112233445566778899aabbccddeeff.png",
      "./profile-images" + valid_tail,
  };
  for (const auto& key : bad_keys) {
    expect_error([&] { store_->put(key, "payload", "image/png"); }, error_kind::not_found,
                 "not_found");
    expect_error([&] { store_->remove(key); }, error_kind::not_found, "not_found");
    expect_error([&] { (void)store_->url_for(key); }, error_kind::not_found, "not_found");
  }
  EXPECT_TRUE(all_files().empty());
  EXPECT_FALSE(fs::exists(root_));  // not even a directory was made
}

TEST_F(file_object_store_test, url_for_has_the_documented_shape_and_reads_back) {
  const auto key = new_key();
  store_->put(key, "img", "image/png");
  const std::string url = store_->url_for(key);
  const auto p = parse_url(url);
  EXPECT_EQ(p.base, "http://localhost:3000");  // trailing slash dropped
  EXPECT_EQ(p.key, key);
  EXPECT_EQ(p.expires, std::to_string(start_time + ttl.count()));
  EXPECT_EQ(p.sig, url_signer("signing-key").signature(key, start_time + ttl.count()));
  EXPECT_EQ(url, "http://localhost:3000/files/" + key + "?expires=" + p.expires + "&sig=" + p.sig);
  EXPECT_EQ(store_->read_signed(p.key, p.expires, p.sig).bytes, "img");
}

TEST_F(file_object_store_test, url_stops_working_after_its_lifetime) {
  const auto key = new_key();
  store_->put(key, "img", "image/png");
  const auto p = parse_url(store_->url_for(key));
  now_ = start_time + ttl.count();
  EXPECT_EQ(store_->read_signed(p.key, p.expires, p.sig).bytes, "img");
  now_ = start_time + ttl.count() + 1;
  expect_error([&] { (void)store_->read_signed(p.key, p.expires, p.sig); },
               error_kind::permission_denied, "url_expired");
}

TEST_F(file_object_store_test, tampered_urls_are_invalid_signatures) {
  const auto key = new_key();
  const auto other = new_key();
  store_->put(key, "mine", "image/png");
  store_->put(other, "other", "image/png");
  const auto p = parse_url(store_->url_for(key));
  auto bad_sig = p.sig;
  bad_sig[3] = bad_sig[3] == 'f' ? 'e' : 'f';
  for (const auto& [k, e, s] :
       {std::tuple{other, p.expires, p.sig}, std::tuple{key, std::to_string(start_time + 99999), p.sig},
        std::tuple{key, p.expires, bad_sig}, std::tuple{key, p.expires, std::string()},
        std::tuple{key, std::string("soon"), p.sig}}) {
    expect_error([&] { (void)store_->read_signed(k, e, s); }, error_kind::permission_denied,
                 "invalid_signature");
  }
}

TEST_F(file_object_store_test, signature_is_checked_before_the_key) {
  // A bad key with a bad signature says invalid_signature, revealing nothing about keys.
  expect_error([&] { (void)store_->read_signed("../etc/passwd", "1", std::string(64, '0')); },
               error_kind::permission_denied, "invalid_signature");
  // A correctly signed but malformed key (only possible with the key) is not_found.
  const url_signer signer("signing-key");
  const std::string bad = "../../etc/passwd";
  expect_error(
      [&] {
        (void)store_->read_signed(bad, std::to_string(start_time + 10),
                                  signer.signature(bad, start_time + 10));
      },
      error_kind::not_found, "not_found");
}

TEST_F(file_object_store_test, signed_url_for_a_missing_object_is_not_found) {
  expect_error([&] { (void)read(new_key()); }, error_kind::not_found, "not_found");
}

TEST_F(file_object_store_test, symlink_at_an_object_path_is_never_followed) {
  const auto key = new_key();
  store_->put(key, "placeholder", "image/png");
  const fs::path outside = dir_ / "outside-secret";
  { std::ofstream(outside) << "secret outside the root"; }
  fs::remove(root_ / key);
  fs::create_symlink(outside, root_ / key);
  expect_error([&] { (void)read(key); }, error_kind::unavailable, "storage_unavailable");
}

TEST_F(file_object_store_test, oversized_file_is_refused_on_read) {
  const auto key = new_key();
  store_->put(key, "small", "image/png");
  fs::resize_file(root_ / key, file_object_store::max_object_bytes + 1);  // sparse
  expect_error([&] { (void)read(key); }, error_kind::unavailable, "storage_unavailable");
}

TEST_F(file_object_store_test, unwritable_root_is_storage_unavailable) {
  { std::ofstream(dir_ / "root") << "a file where a directory should be"; }
  expect_error([&] { store_->put(new_key(), "x", "image/png"); }, error_kind::unavailable,
               "storage_unavailable");
}

TEST_F(file_object_store_test, readers_never_see_a_half_written_object) {
  const auto key = new_key();
  const std::string a(256 * 1024, 'a');
  const std::string b(512 * 1024, 'b');
  store_->put(key, a, "image/png");
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      const auto bytes = read(key).bytes;
      if (bytes != a && bytes != b) ++torn;
      ++reads;
    }
  });
  for (int i = 0; i < 40; ++i) store_->put(key, i % 2 ? a : b, "image/png");
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0);
}

TEST_F(file_object_store_test, bad_configuration_is_refused) {
  expect_error([&] { file_object_store(root_, "k", "http://x", std::chrono::seconds(0)); },
               error_kind::internal, "internal");
  expect_error([&] { file_object_store(root_, "", "http://x", ttl); }, error_kind::internal,
               "internal");
}

// ---- direct uploads --------------------------------------------------------

class file_upload_test : public file_object_store_test {
 protected:
  images::signed_upload form_for(const images::upload_form& form, std::string_view file,
                                 std::optional<std::string_view> content_type = "image/png") {
    fields_ = form.fields;
    auto get = [&](const std::string& name) -> std::string_view {
      for (const auto& [n, v] : fields_)
        if (n == name) return v;
      return {};
    };
    return {get("key"), get("expires"), get("max_bytes"), get("signature"), content_type, file};
  }
  std::vector<std::pair<std::string, std::string>> fields_;
};

TEST_F(file_upload_test, presign_upload_signs_key_expiry_and_size_limit_for_the_upload_route) {
  const auto key = images::new_upload_key(user_, start_time + 360);
  const auto form = store_->presign_upload(key, 1000, 300);
  EXPECT_EQ(form.url, "http://localhost:3000/files/upload");
  EXPECT_EQ(form.expires_at, start_time + 300);
  const decltype(form.fields) expected{
      {"key", key},
      {"expires", std::to_string(start_time + 300)},
      {"max_bytes", "1000"},
      {"signature", url_signer("signing-key").upload_signature(key, start_time + 300, 1000)}};
  EXPECT_EQ(form.fields, expected);
  // Only upload keys get forms: an image key, or junk, is a bug.
  expect_error([&] { (void)store_->presign_upload(new_key(), 1000, 300); }, error_kind::internal, "internal");
  expect_error([&] { (void)store_->presign_upload("../x", 1000, 300); }, error_kind::internal, "internal");
}

TEST_F(file_upload_test, a_genuine_form_stores_the_file_at_its_key_only) {
  const auto key = images::new_upload_key(user_, start_time + 360);
  store_->receive_signed_upload(form_for(store_->presign_upload(key, 1000, 300), "bytes"));
  EXPECT_EQ(all_files(), std::vector<fs::path>{root_ / key});
  EXPECT_EQ(store_->read_prefix_if_unchanged(key, 100, store_->head(key)->etag), "bytes");
  EXPECT_EQ(store_->head(key)->size, 5u);
  // An upload key is never served, even with a correctly signed URL.
  const url_signer signer("signing-key");
  expect_error([&] { (void)store_->read_signed(key, std::to_string(start_time + 10), signer.signature(key, start_time + 10)); },
               error_kind::not_found, "not_found");
  expect_error([&] { (void)store_->url_for(key); }, error_kind::not_found, "not_found");
}

TEST_F(file_upload_test, the_policy_is_enforced_size_type_expiry_and_signature) {
  const auto key = images::new_upload_key(user_, start_time + 360);
  const auto form = store_->presign_upload(key, 10, 300);
  expect_error([&] { store_->receive_signed_upload(form_for(form, std::string(11, 'x'))); },
               error_kind::payload_too_large, "payload_too_large");
  expect_error([&] { store_->receive_signed_upload(form_for(form, "")); }, error_kind::invalid_argument,
               "missing_file");
  expect_error([&] { store_->receive_signed_upload(form_for(form, "x", "text/html")); },
               error_kind::unsupported_media_type, "unsupported_media_type");
  expect_error([&] { store_->receive_signed_upload(form_for(form, "x", std::nullopt)); },
               error_kind::unsupported_media_type, "unsupported_media_type");
  auto tampered = form_for(form, "x");
  const std::string bigger = "1000000";
  tampered.max_bytes = bigger;
  expect_error([&] { store_->receive_signed_upload(tampered); }, error_kind::permission_denied, "invalid_signature");
  EXPECT_TRUE(all_files().empty());

  now_ = start_time + 301;
  expect_error([&] { store_->receive_signed_upload(form_for(form, "x")); }, error_kind::permission_denied,
               "upload_expired");
  EXPECT_TRUE(all_files().empty());
  now_ = start_time + 300;  // the last second still counts
  store_->receive_signed_upload(form_for(form, std::string(10, 'x')));
  EXPECT_EQ(store_->head(key)->size, 10u);
}

TEST_F(file_upload_test, head_and_read_prefix_of_a_missing_object_are_nullopt) {
  const auto key = images::new_upload_key(user_, start_time + 360);
  EXPECT_FALSE(store_->head(key));
  EXPECT_FALSE(store_->read_prefix_if_unchanged(key, 32, "any"));
  store_->put(key, "0123456789", "image/png");
  const auto etag = store_->head(key)->etag;
  EXPECT_EQ(store_->read_prefix_if_unchanged(key, 4, etag), "0123");
  EXPECT_EQ(store_->read_prefix_if_unchanged(key, 0, etag), "");
}

// The same guard as copy_if_unchanged: what is sniffed is the version head measured.
TEST_F(file_upload_test, read_prefix_refuses_a_version_other_than_the_etag_names) {
  const auto key = images::new_upload_key(user_, start_time + 360);
  store_->put(key, "GIF89a....", "image/gif");
  const auto measured = store_->head(key)->etag;
  store_->put(key, "<html>....", "image/gif");  // same size, written again
  EXPECT_FALSE(store_->read_prefix_if_unchanged(key, 6, measured));
  EXPECT_EQ(store_->read_prefix_if_unchanged(key, 6, store_->head(key)->etag), "<html>");
}

TEST_F(file_upload_test, list_keys_names_pending_uploads_and_markers_only) {
  const auto key = images::new_upload_key(user_, start_time + 360);
  EXPECT_TRUE(store_->list_keys(images::upload_prefix_of(user_), 10).empty()) << "nothing yet: no directory";
  store_->put(images::form_marker_of(key), "", "application/octet-stream");
  store_->put(key, "bytes", "image/png");
  store_->put(new_key(), "an image", "image/png");  // under the user's image prefix: never listed here
  const auto other = images::new_upload_key(crypto::uuid_v4(), start_time + 360);
  store_->put(other, "theirs", "image/png");
  // A stray file of no shape of ours is not a key.
  std::ofstream(root_ / images::upload_prefix_of(user_) / "junk") << "x";

  auto mine = store_->list_keys(images::upload_prefix_of(user_), 10);
  std::sort(mine.begin(), mine.end());
  EXPECT_EQ(mine, (std::vector<std::string>{key, images::form_marker_of(key)}));
  EXPECT_EQ(store_->list_keys(images::upload_prefix_of(user_), 1).size(), 1u) << "at most the limit";
  EXPECT_EQ(store_->list_keys(images::upload_key_prefix, 10).size(), 3u) << "every user's";
  store_->remove(images::form_marker_of(key));
  EXPECT_EQ(store_->list_keys(images::upload_prefix_of(user_), 10), std::vector<std::string>{key});
}

TEST_F(file_upload_test, copy_if_unchanged_copies_the_checked_version_and_refuses_a_rewritten_one) {
  const auto upload = images::new_upload_key(user_, start_time + 360);
  store_->put(upload, "first", "image/png");
  const auto checked = store_->head(upload);
  ASSERT_TRUE(checked);
  const auto image = new_key(image_type::gif);
  ASSERT_TRUE(store_->copy_if_unchanged(upload, image, "image/gif", checked->etag));
  EXPECT_EQ(read(image).bytes, "first");
  EXPECT_EQ(read(image).content_type, "image/gif");

  // Written again (same size even): another version, so no copy.
  store_->put(upload, "fifth", "image/png");
  const auto image2 = new_key(image_type::gif);
  EXPECT_FALSE(store_->copy_if_unchanged(upload, image2, "image/gif", checked->etag));
  EXPECT_FALSE(fs::exists(root_ / image2));
  EXPECT_TRUE(store_->copy_if_unchanged(upload, image2, "image/gif", store_->head(upload)->etag));
  // Gone: no copy either.
  store_->remove(upload);
  EXPECT_FALSE(store_->copy_if_unchanged(upload, new_key(), "image/png", checked->etag));
  // The target must be an image key.
  expect_error([&] { (void)store_->copy_if_unchanged(image, images::new_upload_key(user_, start_time + 360), "image/png", "x"); },
               error_kind::not_found, "not_found");
}

}  // namespace
}  // namespace gatehouse::files
