#pragma once
// Structured logs: one JSON object per line on stdout. Callers pass
// fields; nothing secret may ever be passed (passwords, hashes, tokens).
#include <boost/json/object.hpp>

#include <string_view>

namespace gatehouse::log {

enum class level { debug, info, warn, error };

// Set once by the composition root before any thread starts.
void set_min_level(level min);
bool parse_level(std::string_view text, level& out);

// Writes {"time":..., "level":..., "msg":..., ...fields} as one line.
void write(level lvl, std::string_view message, boost::json::object fields = {});

inline void info(std::string_view m, boost::json::object f = {}) { write(level::info, m, std::move(f)); }
inline void warn(std::string_view m, boost::json::object f = {}) { write(level::warn, m, std::move(f)); }
inline void error(std::string_view m, boost::json::object f = {}) { write(level::error, m, std::move(f)); }

// ISO-8601 UTC with milliseconds, as the API's createdAt uses.
std::string utc_timestamp_now();

}  // namespace gatehouse::log
