#pragma once
// The mail transport MAIL_TRANSPORT names (app/config), built once by the
// composition root.
#include "app/config.hpp"
#include "app/store_settings.hpp"
#include "mail/transport.hpp"

#include <memory>

namespace gatehouse::app {

// null for MAIL_TRANSPORT=off. `plumbing` is the AWS client (required for
// ses, which load_config guarantees by counting ses as an AWS service).
std::unique_ptr<mail::transport> make_mail_transport(const config& cfg, const aws_plumbing* plumbing);

}  // namespace gatehouse::app
