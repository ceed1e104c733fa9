#include "base/log.hpp"

#include "base/clock.hpp"
#include "base/utc_time.hpp"

#include <boost/json/serialize.hpp>

#include <atomic>
#include <cstdio>

namespace gatehouse::log {
namespace {
std::atomic<level> min_level{level::info};

const char* name_of(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}
}  // namespace

void set_min_level(level min) { min_level.store(min); }

bool parse_level(std::string_view text, level& out) {
  for (level l : {level::debug, level::info, level::warn, level::error}) {
    if (text == name_of(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

std::string utc_timestamp_now() { return iso8601_utc_ms(system_now_ms().count()); }

void write(level lvl, std::string_view message, boost::json::object fields) {
  if (lvl < min_level.load()) return;
  boost::json::object line;
  line["time"] = utc_timestamp_now();
  line["level"] = name_of(lvl);
  line["msg"] = message;
  for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
  std::string text = boost::json::serialize(line);
  text.push_back('\n');
  // One fwrite per line keeps lines whole across threads (stdio locks the stream).
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace gatehouse::log
