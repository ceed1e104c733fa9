#include "jose/keys.hpp"

#include "base/error.hpp"
#include "crypto/crypto.hpp"
#include "jose/ecdsa_signature.hpp"
#include "jose/jwk.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <limits>

namespace gatehouse::jose {

struct key_material {
  algorithm alg = algorithm::hs256;
  std::shared_ptr<EVP_PKEY> pkey;  // asymmetric algorithms
  std::string secret;              // HS256
  std::string kid;                 // asymmetric algorithms
  boost::json::object jwk;         // asymmetric algorithms, public members only
};

namespace {

constexpr std::size_t min_hmac_secret_bytes = 32;
constexpr int min_rsa_bits = 2048;
// Larger keys only make every token longer and slower to check; 8192 bits is
// already a 1366-character signature.
constexpr int max_rsa_bits = 8192;
// A PEM key of 8192-bit RSA is under 7 KiB; nothing longer is read at all.
constexpr std::size_t max_pem_bytes = 16 * 1024;

[[noreturn]] void refuse(const std::string& why) {
  ERR_clear_error();  // leave no stale OpenSSL errors on this thread
  throw key_error("signing key: " + why);
}

[[noreturn]] void openssl_failed(const char* what) {
  ERR_clear_error();
  throw error(error_kind::internal, "internal", std::string("jose: ") + what + " failed");
}

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* pkey) { return std::shared_ptr<EVP_PKEY>(pkey, EVP_PKEY_free); }

struct bio_deleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_deleter>;

struct bn_deleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using bn_ptr = std::unique_ptr<BIGNUM, bn_deleter>;

bio_ptr read_bio(std::string_view pem) {
  if (pem.empty() || pem.size() > max_pem_bytes) refuse("PEM missing or longer than 16 KiB");
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) openssl_failed("BIO_new_mem_buf");
  return bio;
}

// Refuses encrypted PEM instead of prompting on the terminal for a passphrase.
int no_passphrase(char*, int, int, void*) { return -1; }

bool is_p256(const EVP_PKEY* pkey) {
  char name[64] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_group_name(pkey, name, sizeof name, &length) != 1) return false;
  const int nid = OBJ_sn2nid(name) != NID_undef ? OBJ_sn2nid(name) : EC_curve_nist2nid(name);
  return nid == NID_X9_62_prime256v1;
}

// The algorithm a key is for, or a refusal naming what is wrong with it.
algorithm algorithm_of(const EVP_PKEY* pkey) {
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(pkey);
      if (bits < min_rsa_bits)
        refuse("RSA key of " + std::to_string(bits) + " bits; RS256 needs at least 2048");
      if (bits > max_rsa_bits) refuse("RSA key of " + std::to_string(bits) + " bits; at most 8192");
      return algorithm::rs256;
    }
    case EVP_PKEY_EC:
      if (!is_p256(pkey)) refuse("EC key not on P-256; ES256 is the only ECDSA algorithm here");
      return algorithm::es256;
    case EVP_PKEY_ED25519:
      return algorithm::eddsa;
    case EVP_PKEY_RSA_PSS:
      refuse("RSA-PSS key; RS256 needs a plain RSA key");
    default:
      refuse("unsupported key type; RSA (RS256), EC P-256 (ES256) or Ed25519 (EdDSA) only");
  }
}

std::string b64(const unsigned char* bytes, std::size_t length) {
  return crypto::base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes), length));
}

// A big-endian integer parameter, minimal (RSA n and e, RFC 7518 6.3.1) or
// left-padded to `width` bytes (EC x and y, RFC 7518 6.2.1.2).
std::string integer_param(const EVP_PKEY* pkey, const char* param, int width = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &raw) != 1) openssl_failed("EVP_PKEY_get_bn_param");
  bn_ptr bn(raw);
  const int length = width > 0 ? width : BN_num_bytes(bn.get());
  std::string out(static_cast<std::size_t>(length), '\0');
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  if ((width > 0 ? BN_bn2binpad(bn.get(), buf, width) : BN_bn2bin(bn.get(), buf)) != length)
    openssl_failed("BN_bn2bin");
  return crypto::base64url_encode(out);
}

// The public JWK's key members (RFC 7518 6.2/6.3, RFC 8037 2).
boost::json::object key_members(const EVP_PKEY* pkey, algorithm alg) {
  boost::json::object jwk;
  switch (alg) {
    case algorithm::rs256:
      jwk["kty"] = "RSA";
      jwk["n"] = integer_param(pkey, OSSL_PKEY_PARAM_RSA_N);
      jwk["e"] = integer_param(pkey, OSSL_PKEY_PARAM_RSA_E);
      break;
    case algorithm::es256:
      jwk["kty"] = "EC";
      jwk["crv"] = "P-256";
      jwk["x"] = integer_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
      jwk["y"] = integer_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
      break;
    case algorithm::eddsa: {
      unsigned char x[32];
      std::size_t length = sizeof x;
      if (EVP_PKEY_get_raw_public_key(pkey, x, &length) != 1 || length != sizeof x)
        openssl_failed("EVP_PKEY_get_raw_public_key");
      jwk["kty"] = "OKP";
      jwk["crv"] = "Ed25519";
      jwk["x"] = b64(x, length);
      break;
    }
    case algorithm::hs256:
      break;
  }
  return jwk;
}

std::string public_der_of(const EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(const_cast<EVP_PKEY*>(pkey), &der);
  if (length <= 0) openssl_failed("i2d_PUBKEY");
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

// The verification side of any key: a copy with the public half only, so
// no verifier ever holds private material.
std::shared_ptr<const key_material> public_material(const EVP_PKEY* pkey) {
  const algorithm alg = algorithm_of(pkey);
  const std::string der = public_der_of(pkey);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* copy = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (copy == nullptr) openssl_failed("d2i_PUBKEY");
  auto material = std::make_shared<key_material>();
  material->alg = alg;
  material->pkey = own(copy);
  boost::json::object members = key_members(copy, alg);
  material->kid = jwk_thumbprint(members).value();
  material->jwk = std::move(members);
  material->jwk["use"] = "sig";
  material->jwk["alg"] = name_of(alg);
  material->jwk["kid"] = material->kid;
  return material;
}

std::shared_ptr<const key_material> hmac_material(std::string secret) {
  if (secret.size() < min_hmac_secret_bytes) refuse("HS256 secret shorter than 32 bytes");
  auto material = std::make_shared<key_material>();
  material->alg = algorithm::hs256;
  material->secret = std::move(secret);
  return material;
}

const EVP_MD* digest_for(algorithm alg) { return alg == algorithm::eddsa ? nullptr : EVP_sha256(); }

std::string asymmetric_sign(const key_material& key, std::string_view input) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_for(key.alg), nullptr, key.pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size()) != 1)
    openssl_failed("EVP_DigestSign");
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                     input.size()) != 1)
    openssl_failed("EVP_DigestSign");
  signature.resize(length);
  if (key.alg != algorithm::es256) return signature;
  auto raw = detail::es256_raw_from_der(signature);
  if (!raw) openssl_failed("ECDSA signature conversion");
  return std::move(*raw);
}

bool asymmetric_verify(const key_material& key, std::string_view input, std::string_view signature) {
  std::string der;
  switch (key.alg) {
    case algorithm::rs256:
      // RSASSA-PKCS1-v1_5 signatures are exactly as long as the modulus.
      if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key.pkey.get()))) return false;
      break;
    case algorithm::es256: {
      auto converted = detail::es256_der_from_raw(signature);
      if (!converted) return false;
      der = std::move(*converted);
      signature = der;
      break;
    }
    case algorithm::eddsa:
      if (signature.size() != 64) return false;
      break;
    case algorithm::hs256:
      return false;
  }
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(key.alg), nullptr, key.pkey.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace

verification_key verification_key::from_public_pem(std::string_view pem) {
  const bio_ptr bio = read_bio(pem);
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr);
  if (pkey == nullptr) refuse("not a PEM public key (SPKI \"PUBLIC KEY\")");
  ERR_clear_error();  // the decoders may leave notes of the formats they tried
  const auto owned = own(pkey);
  return verification_key(public_material(owned.get()));
}

verification_key verification_key::hmac(std::string secret) {
  return verification_key(hmac_material(std::move(secret)));
}

algorithm verification_key::alg() const noexcept { return material_->alg; }
const std::string& verification_key::kid() const noexcept { return material_->kid; }
boost::json::object verification_key::public_jwk() const { return material_->jwk; }

std::string verification_key::public_der() const {
  return material_->pkey ? public_der_of(material_->pkey.get()) : std::string();
}

std::string verification_key::public_pem() const {
  if (!material_->pkey) return {};
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), material_->pkey.get()) != 1) openssl_failed("PEM_write_bio_PUBKEY");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

bool verification_key::verify(std::string_view signing_input, std::string_view signature) const noexcept {
  try {
    if (material_->alg == algorithm::hs256)
      return crypto::constant_time_equal(signature,
                                         crypto::as_bytes(crypto::hmac_sha256(material_->secret, signing_input)));
    return asymmetric_verify(*material_, signing_input, signature);
  } catch (...) {
    ERR_clear_error();
    return false;
  }
}

signing_key signing_key::from_pem(std::string_view pem) {
  const bio_ptr bio = read_bio(pem);
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (pkey == nullptr) refuse("not an unencrypted PEM private key (PKCS#8, RSA or EC)");
  ERR_clear_error();  // the decoders may leave notes of the formats they tried
  auto material = std::make_shared<key_material>();
  material->pkey = own(pkey);
  auto public_key = verification_key(public_material(pkey));  // refuses unsuitable keys
  material->alg = public_key.alg();
  return signing_key(std::move(material), std::move(public_key));
}

signing_key signing_key::generate(algorithm alg) {
  EVP_PKEY* pkey = nullptr;
  switch (alg) {
    case algorithm::rs256:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(min_rsa_bits));
      break;
    case algorithm::es256:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case algorithm::eddsa:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case algorithm::hs256:
      return hmac(crypto::random_bytes(min_hmac_secret_bytes));
  }
  if (pkey == nullptr) openssl_failed("EVP_PKEY_Q_keygen");
  auto material = std::make_shared<key_material>();
  material->pkey = own(pkey);
  material->alg = alg;
  return signing_key(std::move(material), verification_key(public_material(pkey)));
}

signing_key signing_key::hmac(std::string secret) {
  auto material = hmac_material(std::move(secret));
  return signing_key(material, verification_key(material));
}

std::string signing_key::to_pkcs8_pem() const {
  if (!private_->pkey) throw key_error("HS256 keys have no PEM form");
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), private_->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    openssl_failed("PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::string signing_key::sign(std::string_view signing_input) const {
  if (private_->alg == algorithm::hs256)
    return std::string(crypto::as_bytes(crypto::hmac_sha256(private_->secret, signing_input)));
  return asymmetric_sign(*private_, signing_input);
}

}  // namespace gatehouse::jose
