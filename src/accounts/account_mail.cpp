#include "accounts/account_mail.hpp"

#include "base/log.hpp"
#include "mail/mail_template.hpp"

#include <fstream>
#include <stdexcept>

namespace gatehouse::accounts {
namespace {

using values = std::map<std::string, std::string, std::less<>>;

struct builtin {
  mail_kind kind;
  const char* action;  // the page's route the link opens; empty: no link
  const char* subject;
  const char* text;
  const char* html;
};

// Plain words, one link each, and what to do if the mail was not expected.
const builtin builtins[] = {
    {mail_kind::verify_email, "verify-email", "Confirm your e-mail address for {{app_name}}",
     "Hello {{name}},\n\nplease confirm that {{email}} is your address for {{app_name}}:\n\n{{link}}\n\n"
     "The link works once, for 24 hours. If you did not sign up, ignore this mail.\n",
     "<p>Hello {{name}},</p><p>please confirm that {{email}} is your address for {{app_name}}:</p>"
     "<p><a href=\"{{link}}\">Confirm my address</a></p>"
     "<p>The link works once, for 24 hours. If you did not sign up, ignore this mail.</p>"},
    {mail_kind::reset_password, "reset-password", "Reset your {{app_name}} password",
     "Hello {{name}},\n\nsomeone asked to reset the password of {{email}} on {{app_name}}. "
     "To choose a new one, open:\n\n{{link}}\n\n"
     "The link works once, for one hour. If it was not you, ignore this mail: your password stays as it is.\n",
     "<p>Hello {{name}},</p><p>someone asked to reset the password of {{email}} on {{app_name}}.</p>"
     "<p><a href=\"{{link}}\">Choose a new password</a></p>"
     "<p>The link works once, for one hour. If it was not you, ignore this mail: your password stays as it is.</p>"},
    {mail_kind::password_changed, "", "Your {{app_name}} password was changed",
     "Hello {{name}},\n\nthe password of {{email}} on {{app_name}} was just changed, and every other "
     "session was signed out.\n\nIf that was not you, reset your password now and review your account.\n",
     "<p>Hello {{name}},</p><p>the password of {{email}} on {{app_name}} was just changed, and every other "
     "session was signed out.</p><p>If that was not you, reset your password now and review your account.</p>"},
    {mail_kind::email_change_confirm, "confirm-email-change", "Confirm your new e-mail address for {{app_name}}",
     "Hello {{name}},\n\nplease confirm that your {{app_name}} account should use {{new_email}} from now on:\n\n"
     "{{link}}\n\nThe link works once, for one hour. If you did not ask for this, ignore this mail.\n",
     "<p>Hello {{name}},</p><p>please confirm that your {{app_name}} account should use {{new_email}} from now on:</p>"
     "<p><a href=\"{{link}}\">Use this address</a></p>"
     "<p>The link works once, for one hour. If you did not ask for this, ignore this mail.</p>"},
    {mail_kind::email_change_notice, "", "Your {{app_name}} e-mail address is being changed",
     "Hello {{name}},\n\nsomeone signed in to your {{app_name}} account asked to move it from {{email}} to "
     "{{new_email}}. Nothing changes until the new address is confirmed.\n\n"
     "If that was not you, change your password now.\n",
     "<p>Hello {{name}},</p><p>someone signed in to your {{app_name}} account asked to move it from {{email}} to "
     "{{new_email}}. Nothing changes until the new address is confirmed.</p>"
     "<p>If that was not you, change your password now.</p>"},
};

const builtin& builtin_of(mail_kind kind) {
  for (const auto& b : builtins)
    if (b.kind == kind) return b;
  throw std::logic_error("account_mail: no template for a mail kind");
}

std::optional<std::string> read_template(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (std::filesystem::exists(path)) throw std::invalid_argument(path.string() + ": cannot be read");
    return std::nullopt;
  }
  std::string text(mail::max_template_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > mail::max_template_bytes) throw std::invalid_argument(path.string() + ": larger than 64 KiB");
  return text;
}

// Every placeholder a template may use, with sample values: rendering each
// template once at start-up finds an unknown one before any mail is due.
values sample_values() {
  return {{"app_name", "App"}, {"name", "Name"}, {"email", "a@example.com"},
          {"new_email", "b@example.com"}, {"link", "https://example.com/#/x?token=t"}};
}

}  // namespace

std::string_view template_name(mail_kind kind) {
  switch (kind) {
    case mail_kind::verify_email: return "verify-email";
    case mail_kind::reset_password: return "reset-password";
    case mail_kind::password_changed: return "password-changed";
    case mail_kind::email_change_confirm: return "email-change-confirm";
    case mail_kind::email_change_notice: return "email-change-notice";
  }
  return "";
}

account_mail::account_mail(mail::mailer* out, mail_settings settings) : out_(out), settings_(std::move(settings)) {
  for (const auto& b : builtins) {
    letter_templates t{b.subject, b.text, b.html};
    if (settings_.templates_dir) {
      const auto base = *settings_.templates_dir / std::string(template_name(b.kind));
      if (auto v = read_template(base.string() + ".subject")) {
        while (!v->empty() && (v->back() == '\n' || v->back() == '\r')) v->pop_back();
        t.subject = std::move(*v);
      }
      if (auto v = read_template(base.string() + ".txt")) t.text = std::move(*v);
      if (auto v = read_template(base.string() + ".html")) t.html = std::move(*v);
      try {
        (void)mail::render(t.subject, sample_values(), mail::escaping::none);
        (void)mail::render(t.text, sample_values(), mail::escaping::none);
        (void)mail::render(t.html, sample_values(), mail::escaping::html);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(base.string() + ".*: " + e.what());
      }
    }
    templates_[b.kind] = std::move(t);
  }
}

std::string account_mail::link_for(mail_kind kind, std::string_view token) const {
  // base64url tokens need no escaping in a fragment.
  return settings_.app_url + "#/" + builtin_of(kind).action + "?token=" + std::string(token);
}

bool account_mail::send(mail_kind kind, const users::user& to, std::string_view token, std::string_view new_email) {
  if (!out_) return false;
  try {
    const auto& t = templates_.at(kind);
    const bool to_new = kind == mail_kind::email_change_confirm;
    values v{{"app_name", settings_.app_name},
             {"name", to.name},
             {"email", to.email},
             {"new_email", std::string(new_email)},
             {"link", *builtin_of(kind).action ? link_for(kind, token) : std::string()}};
    mail::letter l;
    l.kind = std::string(template_name(kind));
    l.to = mail::mailbox{to.name, to_new ? std::string(new_email) : to.email};
    l.subject = mail::render(t.subject, v, mail::escaping::none);
    l.text = mail::render(t.text, v, mail::escaping::none);
    l.html = mail::render(t.html, v, mail::escaping::html);
    return out_->send(l);
  } catch (const std::exception& e) {
    log::error("mail not sent", {{"kind", std::string(template_name(kind))}, {"why", e.what()}});
    return false;
  }
}

}  // namespace gatehouse::accounts
