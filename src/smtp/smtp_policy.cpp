#include "smtp/smtp_policy.hpp"

#include "smtp/smtp_settings.hpp"

namespace gatehouse::smtp {

tls_step decide_tls(bool implicit_tls, bool server_offers_starttls, std::string_view host) {
  if (implicit_tls) return tls_step::already_secure;
  if (server_offers_starttls) return tls_step::start_tls;
  return is_loopback_host(host) ? tls_step::stay_plaintext : tls_step::refuse;
}

bool may_send_credentials(bool tls_active, std::string_view host) { return tls_active || is_loopback_host(host); }

}  // namespace gatehouse::smtp
