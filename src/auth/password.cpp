#include "auth/password.hpp"

#include "base/error.hpp"
#include "crypto/crypto.hpp"

#include <crypt.h>
#include <string.h>  // explicit_bzero

#include <array>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace gatehouse::auth {
namespace {

// libxcrypt wants NUL-terminated strings; a copy of the password is wiped
// when it goes out of scope so it does not linger on the heap.
class secret_string {
 public:
  explicit secret_string(std::string_view text) : text_(text) {}
  secret_string(const secret_string&) = delete;
  secret_string& operator=(const secret_string&) = delete;
  ~secret_string() { explicit_bzero(text_.data(), text_.size()); }
  const char* c_str() const { return text_.c_str(); }

 private:
  std::string text_;
};

// crypt_data is ~32 KiB: too big for the stack of a coroutine or small
// thread, so it lives on the heap, zeroed before use (libxcrypt requires
// that) and wiped afterwards because it holds key-schedule material.
struct crypt_scratch {
  crypt_scratch() : data(std::make_unique<crypt_data>()) {}
  crypt_scratch(const crypt_scratch&) = delete;
  crypt_scratch& operator=(const crypt_scratch&) = delete;
  ~crypt_scratch() { explicit_bzero(data.get(), sizeof(crypt_data)); }
  std::unique_ptr<crypt_data> data;
};

bool acceptable_password(std::string_view password) {
  return password.size() <= max_password_bytes &&
         password.find('\0') == std::string_view::npos;
}

bool is_bcrypt_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/';
}

// `$2a$`, `$2b$` or `$2y$`, two decimal cost digits, `$`, then 22 salt and
// 31 hash characters. `$2x$` (the buggy pre-2011 variant) is not accepted.
bool well_formed_bcrypt(std::string_view hash) {
  constexpr std::size_t bcrypt_length = 7 + 53;
  if (hash.size() != bcrypt_length) return false;
  if (hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') return false;
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return false;
  for (char c : hash.substr(7))
    if (!is_bcrypt_char(c)) return false;
  return true;
}

// A new `$2b$` hash of `password` at `cost`, ungated.
std::string bcrypt_hash(int cost, std::string_view password) {
  const std::string entropy = crypto::random_bytes(16);
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), entropy.data(),
                       static_cast<int>(entropy.size()), setting.data(),
                       static_cast<int>(setting.size())) == nullptr ||
      setting[0] == '*')
    throw error(error_kind::internal, "internal", "bcrypt salt generation failed");

  const secret_string phrase(password);
  crypt_scratch scratch;
  const char* out = crypt_rn(phrase.c_str(), setting.data(), scratch.data.get(),
                             static_cast<int>(sizeof(crypt_data)));
  if (out == nullptr || out[0] == '*')
    throw error(error_kind::internal, "internal", "bcrypt hashing failed");
  std::string result(out);
  if (!well_formed_bcrypt(result))
    throw error(error_kind::internal, "internal", "bcrypt produced an unexpected hash");
  return result;
}

// Whether `password` matches the well-formed `hash`, ungated.
bool bcrypt_matches(std::string_view password, std::string_view hash) {
  const secret_string phrase(password);
  const std::string setting(hash);
  crypt_scratch scratch;
  const char* out = crypt_rn(phrase.c_str(), setting.c_str(), scratch.data.get(),
                             static_cast<int>(sizeof(crypt_data)));
  if (out == nullptr || out[0] == '*') return false;
  return crypto::constant_time_equal(out, hash);
}

// A real hash of a random password per cost, made on first use only (no
// start-up work) and shared by every thread. Called inside the gate's turn
// of the verify_dummy that needs it.
const std::string& dummy_hash(int cost) {
  constexpr std::size_t cost_count = max_bcrypt_cost - min_bcrypt_cost + 1;
  static std::array<std::once_flag, cost_count> once;
  static std::array<std::string, cost_count> hashes;
  const auto slot = static_cast<std::size_t>(cost - min_bcrypt_cost);
  std::call_once(once[slot], [&] {
    // 54 random bytes -> 72 base64url characters: a full-length password.
    hashes[slot] = bcrypt_hash(cost, crypto::base64url_encode(crypto::random_bytes(54)));
  });
  return hashes[slot];
}

}  // namespace

password_hasher::password_hasher(int cost, bcrypt_gate* gate) : cost_(cost), gate_(gate) {
  if (cost < min_bcrypt_cost || cost > max_bcrypt_cost)
    throw std::invalid_argument("bcrypt cost must be between 4 and 14");
}

std::string password_hasher::hash(std::string_view password) const {
  // Hashing a truncated password would make "abc\0def" log in as "abc":
  // refuse instead, even though callers are expected to have validated.
  if (!acceptable_password(password))
    throw validation_failed("password", "password must be at most 72 bytes without NUL");
  return gated([&] { return bcrypt_hash(cost_, password); });
}

bool password_hasher::verify(std::string_view password, std::string_view hash) const {
  if (!acceptable_password(password) || !well_formed_bcrypt(hash)) return false;
  return gated([&] { return bcrypt_matches(password, hash); });
}

bool password_hasher::needs_rehash(std::string_view hash) const {
  if (!well_formed_bcrypt(hash) || hash[2] != 'b') return true;
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  return cost != cost_;
}

void password_hasher::verify_dummy(std::string_view password) const {
  // The result is meaningless (the password is random); only the time spent
  // matters, so it spends what verify would: nothing for a password verify
  // refuses unhashed.
  if (!acceptable_password(password)) return;
  gated([&] { [[maybe_unused]] const bool ignored = bcrypt_matches(password, dummy_hash(cost_)); });
}

}  // namespace gatehouse::auth
