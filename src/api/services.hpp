#pragma once
// What the route handlers work with: the domain services the composition
// root built, and the settings that shape requests and responses.
#include "accounts/account_deletion.hpp"
#include "accounts/account_service.hpp"
#include "accounts/email_change.hpp"
#include "accounts/email_verification.hpp"
#include "accounts/password_reset.hpp"
#include "accounts/profile_pictures.hpp"
#include "auth/access_tokens.hpp"
#include "idempotency/ledger.hpp"
#include "images/object_store.hpp"

#include <cstddef>

namespace gatehouse::api {

struct api_settings {
  std::size_t trust_proxy = 0;  // client_ip: how many proxies append to X-Forwarded-For
};

struct services {
  accounts::account_service& accounts;
  accounts::profile_pictures& pictures;
  accounts::email_verification& verification;
  accounts::password_reset& resets;
  accounts::email_change& email_changes;
  accounts::account_deletion& deletion;
  images::object_store& images;  // renders image keys as URLs (user_json)
  idempotency::ledger& idempotency;  // every state-changing route (api/idempotent_routes)
  const auth::access_tokens& tokens;  // their public keys, for /.well-known (api/discovery_routes)
  api_settings settings;
};

}  // namespace gatehouse::api
