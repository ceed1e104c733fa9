#include "app/mail_setup.hpp"

#include "base/log.hpp"
#include "mail/file_transport.hpp"
#include "ses/ses_transport.hpp"
#include "smtp/smtp_transport.hpp"

namespace gatehouse::app {

std::unique_ptr<mail::transport> make_mail_transport(const config& cfg, const aws_plumbing* plumbing) {
  using kind = config::mail_settings::kind;
  const auto& m = cfg.mail;
  switch (m.transport) {
    case kind::off:
      log::info("account mail is off (MAIL_TRANSPORT=off): no verification, reset or notice mails are sent");
      return nullptr;
    case kind::file:
      log::info("account mail goes to files (MAIL_TRANSPORT=file:)", {{"directory", m.directory.string()}});
      return std::make_unique<mail::file_transport>(m.directory);
    case kind::smtp:
      // The host only: the settings may hold a password.
      log::info("account mail goes to an SMTP server", {{"host", m.smtp.host}, {"port", m.smtp.port}});
      try {
        return std::make_unique<smtp::smtp_transport>(m.smtp);
      } catch (const std::invalid_argument& e) {
        throw config_error(std::string("MAIL_TRANSPORT: ") + e.what());
      }
    case kind::ses:
      log::info("account mail goes to Amazon SES (MAIL_TRANSPORT=ses)", {{"region", cfg.aws.region}});
      return std::make_unique<ses::ses_transport>(*plumbing->client,
                                                  endpoint_for(cfg.aws.ses_endpoint, "email", cfg.aws.region),
                                                  cfg.aws.region, m.ses_configuration_set);
  }
  return nullptr;
}

}  // namespace gatehouse::app
