#pragma once
// The account e-mails: which letter each flow sends, its link, and its
// text, from built-in templates or from MAIL_TEMPLATES_DIR. Letters go out
// through mail::mailer, whose failures never reach the client.
#include "mail/mailer.hpp"
#include "users/user.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::accounts {

enum class mail_kind {
  verify_email,          // to the address: follow the link to verify it
  reset_password,        // to the address: follow the link to set a new password
  password_changed,      // to the address: a notice, no link
  email_change_confirm,  // to the new address: follow the link to move the account there
  email_change_notice,   // to the old address: a notice, no link
};

// The template names: <name>.subject, <name>.txt and <name>.html in
// MAIL_TEMPLATES_DIR replace the built-in ones ("verify-email", ...).
std::string_view template_name(mail_kind kind);

struct mail_settings {
  std::string app_name = "Gatehouse";  // APP_NAME
  // APP_URL: the page a link opens; the link is APP_URL + "#/<action>?token=...".
  std::string app_url;
  std::optional<std::filesystem::path> templates_dir;  // MAIL_TEMPLATES_DIR
};

class account_mail {
 public:
  // `out` null: MAIL_TRANSPORT=off, nothing is sent. Reads and checks the
  // templates now: a missing file falls back to the built-in one; an
  // unreadable, oversized or malformed one (an unknown {{placeholder}})
  // throws std::invalid_argument naming the file.
  account_mail(mail::mailer* out, mail_settings settings);

  // Sends `kind` to `to` (for email_change_confirm, to `new_email`), with
  // `token` in its link when it has one. false when it was not delivered
  // (logged by the mailer) or mail is off; never throws.
  bool send(mail_kind kind, const users::user& to, std::string_view token = {}, std::string_view new_email = {});

  bool enabled() const { return out_ != nullptr; }

  // The link a letter of `kind` carries for `token` (exposed for tests).
  std::string link_for(mail_kind kind, std::string_view token) const;

 private:
  struct letter_templates {
    std::string subject, text, html;
  };

  mail::mailer* out_;
  mail_settings settings_;
  std::map<mail_kind, letter_templates> templates_;
};

}  // namespace gatehouse::accounts
