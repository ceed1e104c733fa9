#pragma once
// MAIL_TRANSPORT=ses: Amazon SES v2 SendEmail with the message as Raw
// content, over the signed, retrying aws_client (REST-JSON protocol:
// POST /v2/email/outbound-emails, SigV4 service "ses"). The endpoint is
// aws::regional_endpoint("email", region) unless overridden.
//
// SES is handed exactly the composed bytes (it may add headers of its own,
// such as a DKIM signature). Addresses, the message and response bodies
// never appear in an error message.
#include "aws/aws_client.hpp"
#include "mail/transport.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace gatehouse::ses {

// SES v2 refuses a raw message larger than this; it is refused here first,
// before the base64 copy is made.
inline constexpr std::size_t max_raw_message_bytes = 10 * 1024 * 1024;
// A SendEmail answer is {"MessageId": "..."}: anything larger is not one.
inline constexpr std::size_t max_response_bytes = 64 * 1024;

class ses_transport : public mail::transport {
 public:
  ses_transport(aws::aws_client& aws, aws::endpoint ep, std::string region,
                std::optional<std::string> configuration_set);

  // Returns once SES answered 200 (its MessageId is logged next to ours).
  // Throws mail::delivery_error: retryable when the service kept failing
  // or throttling beyond aws_client's retries (or could not be reached);
  // not retryable for a final refusal (MessageRejected,
  // MailFromDomainNotVerifiedException, AccountSuspendedException,
  // SendingPausedException, BadRequestException, NotFoundException, a
  // signature the service refused...) and for a message over the size
  // limit. Thread-safe, as aws_client is.
  void deliver(const mail::outgoing& message) override;

 private:
  aws::aws_client& aws_;
  aws::endpoint endpoint_;
  aws::sigv4::scope scope_;
  std::optional<std::string> configuration_set_;
};

// The error code of a REST-JSON error answer, in the protocol's order: the
// x-amzn-ErrorType header (up to ':'), else "code" in the body, else
// "__type" (after '#'). Only [A-Za-z0-9._-], at most 128 characters:
// anything else gives "". (secrets::error_code_of reads the JSON 1.1
// answers of Secrets Manager, which put __type first.)
std::string error_code_of(const aws::http_response& res);

}  // namespace gatehouse::ses
