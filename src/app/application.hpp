#pragma once
// The composition root: the one place that turns configuration into
// stores, services and the request pipeline. Nothing below it reads the
// environment or holds globals.
#include "api/services.hpp"
#include "app/config.hpp"
#include "http/pipeline.hpp"

#include <memory>

namespace gatehouse::app {

class application {
 public:
  explicit application(const config& cfg);
  ~application();

  const http::pipeline& pipeline() const;

 private:
  struct parts;
  std::unique_ptr<parts> parts_;
};

// The JWT secret: JWT_SECRET when set; otherwise one generated once into
// DATA_DIR/jwt-secret (mode 0600) and reused on later starts.
std::string load_or_create_jwt_secret(const config& cfg);

}  // namespace gatehouse::app
