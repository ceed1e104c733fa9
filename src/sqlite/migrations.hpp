#pragma once
#include <string_view>
#include <vector>

namespace gatehouse::sqlite {

// The schema's history, oldest first. Migration i (0-based) brings the file
// from PRAGMA user_version i to i + 1. Append only: never edit or reorder a
// migration that has shipped.
const std::vector<std::string_view>& migrations();

}  // namespace gatehouse::sqlite
