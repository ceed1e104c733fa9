#include "jose/algorithm.hpp"

namespace gatehouse::jose {

std::string_view name_of(algorithm alg) noexcept {
  switch (alg) {
    case algorithm::rs256: return "RS256";
    case algorithm::es256: return "ES256";
    case algorithm::eddsa: return "EdDSA";
    case algorithm::hs256: return "HS256";
  }
  return "";
}

std::optional<algorithm> algorithm_named(std::string_view name) noexcept {
  for (const algorithm alg : {algorithm::rs256, algorithm::es256, algorithm::eddsa, algorithm::hs256})
    if (name == name_of(alg)) return alg;
  return std::nullopt;
}

}  // namespace gatehouse::jose
