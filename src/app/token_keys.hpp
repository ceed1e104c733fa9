#pragma once
// Where the access-token keys come from (auth/access_tokens), in one place.
//
// The signing key, by JWT_ALG:
//  - asymmetric (RS256, ES256, EdDSA): JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE
//    (PEM); or the AWSCURRENT of JWT_SECRET_ARN (a PEM), whose AWSPREVIOUS
//    still verifies; or DATA_DIR/jwt-key.pem, generated at the first start
//    (mode 0600), with DATA_DIR/jwt-key.previous.pem verifying after
//    `gatehouse keys rotate`.
//  - HS256 (v1): JWT_SECRET, the AWSCURRENT of JWT_SECRET_ARN, or
//    DATA_DIR/jwt-secret, as in v1.
// The cut-over from v1: with an asymmetric JWT_ALG, an HS256 secret that
// is still configured (JWT_SECRET, DATA_DIR/jwt-secret, an HS256
// AWSPREVIOUS) verifies v1's tokens; nothing is signed with it.
// LEGACY_JWT_SECRET verifies the Node.js original's tokens.
#include "app/config.hpp"
#include "app/store_settings.hpp"
#include "auth/access_tokens.hpp"

#include <filesystem>

namespace gatehouse::app {

// Reads, fetches or generates them. `plumbing` is the AWS client (null
// without any AWS service). Any failure is a config_error naming the
// variable or file and the reason, never key material.
auth::token_keys load_token_keys(const config& cfg, const aws_plumbing* plumbing);

// What `gatehouse keys rotate` did.
struct rotated_keys {
  std::string new_kid;
  std::string previous_kid;  // empty when there was no key before
};

// `gatehouse keys rotate`: a new key of JWT_ALG becomes DATA_DIR/jwt-key.pem
// and the current one DATA_DIR/jwt-key.previous.pem (the one before is
// dropped, as is a v1 jwt-secret). Processes started afterwards sign with
// the new key and still accept the old one's tokens. config_error when the
// key is not kept in DATA_DIR (JWT_PRIVATE_KEY*, JWT_SECRET_ARN) or JWT_ALG
// is HS256.
rotated_keys rotate_local_key(const config& cfg);

// The paths of the local key files, for tests and `doctor`.
std::filesystem::path local_key_path(const config& cfg);
std::filesystem::path local_previous_key_path(const config& cfg);

}  // namespace gatehouse::app
