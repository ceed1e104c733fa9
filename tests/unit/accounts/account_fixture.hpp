#pragma once
// The whole account graph of the composition root on in-memory stores, a
// clock the test moves and a mail transport that keeps what it was given:
// what the domain services' tests build on.
#include "accounts/account_mail.hpp"
#include "accounts/account_service.hpp"
#include "accounts/answer_pacing.hpp"
#include "accounts/email_change.hpp"
#include "accounts/email_verification.hpp"
#include "accounts/one_time_tokens.hpp"
#include "accounts/password_check.hpp"
#include "accounts/password_reset.hpp"
#include "accounts/memory_stores.hpp"
#include "mail/mailer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace gatehouse::testing {

// Keeps every message; fails the next `fail_next` deliveries first.
class memory_mail_transport final : public mail::transport {
 public:
  void deliver(const mail::outgoing& m) override {
    std::lock_guard lock(mutex_);
    if (fail_next > 0) {
      --fail_next;
      throw mail::delivery_error("refused by the test", false);
    }
    sent_.push_back(m);
  }
  std::vector<mail::outgoing> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  std::vector<mail::outgoing> sent_to(const std::string& address) const {
    std::vector<mail::outgoing> out;
    for (const auto& m : sent())
      if (m.recipient == address) out.push_back(m);
    return out;
  }
  int fail_next = 0;

 private:
  mutable std::mutex mutex_;
  std::vector<mail::outgoing> sent_;
};

// The token of the link in a message, read the way a mail client shows
// the text: quoted-printable undone first.
inline std::optional<std::string> token_in(const mail::outgoing& m) {
  std::string text;
  for (std::size_t i = 0; i < m.data.size(); ++i) {
    if (m.data[i] == '=' && i + 2 < m.data.size() && m.data[i + 1] == '\r' && m.data[i + 2] == '\n') {
      i += 2;  // a soft line break
    } else if (m.data[i] == '=' && i + 2 < m.data.size() && std::isxdigit(static_cast<unsigned char>(m.data[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(m.data[i + 2]))) {
      text += static_cast<char>(std::stoi(m.data.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      text += m.data[i];
    }
  }
  std::smatch match;
  if (!std::regex_search(text, match, std::regex("token=([A-Za-z0-9_-]+)"))) return std::nullopt;
  return match[1].str();
}

constexpr std::int64_t start_time = 1'790'000'000;
inline const gatehouse::accounts::request_origin from_home{"198.51.100.7", "req-1"};
inline const gatehouse::accounts::request_origin from_elsewhere{"203.0.113.9", "req-2"};

inline auth::limit_settings tight_limits() {
  auth::limit_settings l;
  l.login_per_email_ip = {3, 900};
  l.signup_per_ip = {2, 3600};
  l.mail_per_email = {5, 3600};
  l.mail_per_ip = {50, 3600};
  return l;
}

class account_fixture : public ::testing::Test {
 protected:
  explicit account_fixture(gatehouse::accounts::verification_mode mode = gatehouse::accounts::verification_mode::optional) : mode_(mode) {}

  std::atomic<std::int64_t> now{start_time};
  std::function<std::int64_t()> clock = [this] { return now.load(); };
  memory_user_store users;
  memory_token_store token_store;
  memory_rate_limiter limiter;
  memory_mail_transport outbox;
  auth::password_hasher passwords{4};
  auth::access_tokens tokens{auth::token_keys{jose::signing_key::hmac(std::string(48, 's')), {}, std::nullopt},
                            auth::token_settings{.issuer = "gatehouse-test"}};
  auth::refresh_token_service refresh_tokens{token_store, std::string(32, 'r'), auth::refresh_settings{},
                                             [this] { return std::chrono::milliseconds(now.load() * 1000); }};
  auth::login_limits limits{limiter, std::string(32, 'l'), tight_limits()};
  mail::mailer mailer{outbox, mail::mailbox{"Gatehouse", "no-reply@example.com"}, mail::retry_policy{1, {}, {}}, clock,
                      [](std::chrono::milliseconds) {}};
  gatehouse::accounts::account_mail mail{&mailer, gatehouse::accounts::mail_settings{"Gatehouse", "https://app.example.com/", {}}};
  gatehouse::accounts::one_time_tokens one_time{std::string(32, 'o'), clock};
  gatehouse::accounts::answer_pacing pacing;
  gatehouse::accounts::password_check password{passwords, limits, clock};
  gatehouse::accounts::verification_mode mode_;
  gatehouse::accounts::email_verification verification{users, one_time, mail, limits, pacing, mode_, clock};
  gatehouse::accounts::password_reset resets{users, passwords, one_time, mail, limits, refresh_tokens, pacing, clock};
  gatehouse::accounts::email_change email_changes{users, password, one_time, mail, limits, clock};
  gatehouse::accounts::account_service accounts{users, passwords, tokens, refresh_tokens, limits, password,
                                     verification, mail, clock, gatehouse::accounts::account_settings{600}};

  users::user ada() { return accounts.sign_up({"  Ada Lovelace ", "Ada@Example.COM ", "correct horse"}, from_home); }
};

}  // namespace gatehouse::testing
