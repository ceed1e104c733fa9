#pragma once
// The two rules that keep mail and credentials off the network in the
// clear, as pure functions so they can be tested without a server on
// another host.
#include <string_view>

namespace gatehouse::smtp {

enum class tls_step {
  already_secure,   // smtps://: TLS since the first byte
  start_tls,        // the server offers STARTTLS: always take it
  stay_plaintext,   // no STARTTLS, but the server is on this machine
  refuse,           // no STARTTLS and the server is elsewhere: never send in the clear
};

// What to do after the first EHLO.
tls_step decide_tls(bool implicit_tls, bool server_offers_starttls, std::string_view host);

// Credentials go only over TLS, or to a server on this machine.
bool may_send_credentials(bool tls_active, std::string_view host);

}  // namespace gatehouse::smtp
