#pragma once
// One bind function per resource; `make_router` wires them all, in one
// place, in the order the contract lists them.
#include "api/services.hpp"
#include "http/router.hpp"
#include "images/object_store.hpp"

namespace gatehouse::api {

void bind_health(http::router& r);
// GET /.well-known/jwks.json and /.well-known/openid-configuration.
void bind_discovery_routes(http::router& r, const services& s);
void bind_auth_routes(http::router& r, const services& s);
void bind_user_routes(http::router& r, const services& s);
void bind_email_routes(http::router& r, const services& s);
void bind_image_routes(http::router& r, const services& s);
// GET /files/{key+} and POST /files/upload: only when images are stored
// locally. Upload forms carry files of at most `max_upload_bytes`.
void bind_file_routes(http::router& r, images::local_object_server& files, std::size_t max_upload_bytes);
// GET/HEAD for the embedded web page, /openapi.yaml and the API page at
// /docs (web/assets.hpp); bound last, never over an API route.
void bind_web_routes(http::router& r);

http::router make_router(const services& s, images::local_object_server* local_files);

}  // namespace gatehouse::api
