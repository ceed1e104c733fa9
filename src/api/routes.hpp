#pragma once
// One bind function per resource; `make_router` wires them all, in one
// place, in the order the contract lists them.
#include "api/services.hpp"
#include "http/router.hpp"
#include "images/object_store.hpp"

namespace gatehouse::api {

void bind_health(http::router& r);
void bind_auth_routes(http::router& r, const services& s);
void bind_user_routes(http::router& r, const services& s);
void bind_image_routes(http::router& r, const services& s);
// GET /files/{key+}: only when images are served locally.
void bind_file_routes(http::router& r, images::signed_object_reader& files);

http::router make_router(const services& s, images::signed_object_reader* local_files);

}  // namespace gatehouse::api
