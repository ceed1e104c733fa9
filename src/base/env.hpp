#pragma once
// How configuration reaches code that needs it without reading the
// process environment itself: the composition root passes a lookup
// (the real environment in main, a map in tests).
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse {

using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;

}  // namespace gatehouse
