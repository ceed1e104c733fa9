#pragma once
// What the route handlers work with: the stores and services the
// composition root built, and the settings that shape responses.
#include "auth/jwt.hpp"
#include "auth/login_limits.hpp"
#include "auth/password.hpp"
#include "auth/refresh_tokens.hpp"
#include "images/object_store.hpp"
#include "images/pending_uploads.hpp"
#include "users/user_store.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>

namespace gatehouse::api {

struct api_settings {
  std::int64_t access_token_ttl_seconds = 900;
  std::size_t max_image_bytes = 5 * 1024 * 1024;
  std::size_t trust_proxy = 0;  // client_ip: how many proxies append to X-Forwarded-For
};

struct services {
  users::user_store& users;
  images::object_store& images;
  images::pending_uploads& uploads;  // direct uploads' slots: limit and clean-up
  const auth::password_hasher& passwords;
  const auth::jwt_codec& tokens;
  auth::refresh_token_service& refresh_tokens;
  auth::login_limits& limits;
  std::function<std::int64_t()> now_seconds;  // the clock, injectable for tests
  api_settings settings;
};

}  // namespace gatehouse::api
