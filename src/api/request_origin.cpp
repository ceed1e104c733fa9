#include "api/request_origin.hpp"

#include "api/client_ip.hpp"

namespace gatehouse::api {

accounts::request_origin origin_of(const http::request& req, const services& s) {
  return accounts::request_origin{client_ip(req, s.settings.trust_proxy), req.request_id,
                                  accounts::client_action{req.idempotency_seed, req.idempotency_resumed}};
}

}  // namespace gatehouse::api
