#pragma once
#include "accounts/request_origin.hpp"
#include "api/services.hpp"
#include "http/request.hpp"

namespace gatehouse::api {

// The domain's view of where `req` came from (api/client_ip decides the address).
accounts::request_origin origin_of(const http::request& req, const services& s);

}  // namespace gatehouse::api
