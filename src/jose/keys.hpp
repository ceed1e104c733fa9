#pragma once
// Signing and verification keys for the algorithms of algorithm.hpp.
//
// A key knows its algorithm: it is inferred once, from the key itself (an RSA
// key is RS256, a P-256 key ES256, an Ed25519 key EdDSA, a secret HS256), and
// a verifier then accepts only tokens of that algorithm for it. The header of
// a token never chooses how its signature is checked.
//
// Loading refuses what we would not sign with (RSA under 2048 bits, curves
// other than P-256, other key types) with key_error; the message names the
// reason, never key material. A configuration problem, not an answer to a
// request: the caller turns it into its own (app/ into a config_error).
// Signing and verifying are total: verify() answers false for any bytes.
#include "jose/algorithm.hpp"

#include <boost/json/object.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gatehouse::jose {

// A key, or a set of keys, that cannot be used.
class key_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct key_material;  // the OpenSSL key or the HMAC secret (keys.cpp)

class verification_key {
 public:
  // An SPKI "PUBLIC KEY" PEM (what `openssl pkey -pubout` writes), under the
  // same rules as signing_key::from_pem.
  static verification_key from_public_pem(std::string_view pem);
  // An HS256 secret of at least 32 bytes.
  static verification_key hmac(std::string secret);

  algorithm alg() const noexcept;
  // The RFC 7638 thumbprint of the public JWK; empty for HS256, whose
  // secrets are never published nor named in tokens.
  const std::string& kid() const noexcept;
  // The public JWK with `use` "sig", `alg` and `kid` (RFC 7517 4); an empty
  // object for HS256.
  boost::json::object public_jwk() const;
  // The public key as SPKI PEM and DER; empty for HS256.
  std::string public_pem() const;
  std::string public_der() const;

  // Whether `signature` (the decoded third JWS segment) signs
  // `signing_input` under this key and its algorithm. Never throws.
  bool verify(std::string_view signing_input, std::string_view signature) const noexcept;

 private:
  friend class signing_key;
  explicit verification_key(std::shared_ptr<const key_material> material) : material_(std::move(material)) {}
  std::shared_ptr<const key_material> material_;
};

class signing_key {
 public:
  // A private key in PEM: PKCS#8 "PRIVATE KEY", or the traditional
  // "RSA PRIVATE KEY" / "EC PRIVATE KEY" forms. Encrypted PEM is refused
  // (there is no passphrase to give).
  static signing_key from_pem(std::string_view pem);
  // A fresh key: RSA 2048 bits, P-256, Ed25519, or 32 random bytes for HS256.
  static signing_key generate(algorithm alg);
  // An HS256 secret of at least 32 bytes.
  static signing_key hmac(std::string secret);

  algorithm alg() const noexcept { return public_.alg(); }
  const std::string& kid() const noexcept { return public_.kid(); }
  // The key that checks this key's signatures (public part only).
  const verification_key& verification() const noexcept { return public_; }

  // The private key as unencrypted PKCS#8 PEM, for storing a generated key;
  // key_error for HS256, which has no PEM form.
  std::string to_pkcs8_pem() const;

  // The JWS signature of `signing_input` (RFC 7515 5.1 step 5), as raw bytes:
  // for ES256 the 64-byte R || S of RFC 7518 3.4, not OpenSSL's DER.
  // gatehouse::error(internal) if OpenSSL fails.
  std::string sign(std::string_view signing_input) const;

 private:
  signing_key(std::shared_ptr<const key_material> private_material, verification_key public_key)
      : private_(std::move(private_material)), public_(std::move(public_key)) {}
  std::shared_ptr<const key_material> private_;
  verification_key public_;
};

}  // namespace gatehouse::jose
