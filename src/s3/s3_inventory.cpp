#include "s3/s3_inventory.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/utc_time.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <stdexcept>

namespace gatehouse::s3 {
namespace {

constexpr std::size_t max_key_bytes = 1024;  // S3's own limit
constexpr std::size_t max_token_bytes = 4096;

// The text between <tag> and </tag> at or after `from` inside `scope`;
// nullopt when the tag is not there.
std::optional<std::string_view> element(std::string_view scope, std::string_view tag, std::size_t from = 0) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const auto start = scope.find(open, from);
  if (start == std::string_view::npos) return std::nullopt;
  const auto body = start + open.size();
  const auto end = scope.find(close, body);
  if (end == std::string_view::npos) return std::nullopt;
  return scope.substr(body, end - body);
}

// XML character data: the five named entities and numeric references.
std::string xml_unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    const auto semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) throw std::invalid_argument("bad XML entity");
    const std::string_view name = text.substr(i + 1, semi - i - 1);
    if (name == "amp") out += '&';
    else if (name == "lt") out += '<';
    else if (name == "gt") out += '>';
    else if (name == "quot") out += '"';
    else if (name == "apos") out += '\'';
    else if (name.size() > 1 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      unsigned code = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code, hex ? 16 : 10);
      if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || code == 0 || code > 0x10FFFF)
        throw std::invalid_argument("bad XML character reference");
      // UTF-8, as the rest of the key is.
      if (code < 0x80) {
        out += static_cast<char>(code);
      } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
      } else if (code < 0x10000) {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
      } else {
        out += static_cast<char>(0xF0 | (code >> 18));
        out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
      }
    } else {
      throw std::invalid_argument("unknown XML entity");
    }
    i = semi;
  }
  return out;
}

template <typename T>
bool parse_digits(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
}

// "2009-10-12T17:50:30.000Z" (fraction optional) -> unix seconds.
std::int64_t parse_timestamp(std::string_view text) {
  const auto seconds = parse_rfc3339(text);
  if (!seconds) throw std::invalid_argument("bad LastModified");
  return *seconds;
}

[[noreturn]] void failed(std::string_view operation, const aws::http_response& res) {
  log::error("s3: request failed", {{"operation", operation}, {"status", res.status}, {"code", error_code_of(res)}});
  const std::string code = error_code_of(res);
  throw storage_unavailable("S3 " + std::string(operation) + " failed: status " + std::to_string(res.status) +
                            (code.empty() ? "" : " " + code));
}

}  // namespace

list_page parse_list_page(std::string_view xml) {
  if (xml.find("<ListBucketResult") == std::string_view::npos) throw std::invalid_argument("not a ListBucketResult");
  list_page page;
  std::size_t pos = 0;
  while (const auto contents = element(xml, "Contents", pos)) {
    pos = static_cast<std::size_t>(contents->data() + contents->size() - xml.data());
    const auto key = element(*contents, "Key");
    const auto modified = element(*contents, "LastModified");
    const auto size = element(*contents, "Size");
    if (!key || !modified || !size) throw std::invalid_argument("a Contents entry lacks Key, LastModified or Size");
    images::inventory_entry e;
    e.key = xml_unescape(*key);
    if (e.key.empty() || e.key.size() > max_key_bytes) throw std::invalid_argument("bad Key");
    e.modified_at = parse_timestamp(*modified);
    if (!parse_digits(*size, e.size)) throw std::invalid_argument("bad Size");
    page.entries.push_back(std::move(e));
  }
  const auto truncated = element(xml, "IsTruncated");
  if (truncated && *truncated == "true") {
    const auto token = element(xml, "NextContinuationToken");
    if (!token || token->empty() || token->size() > max_token_bytes)
      throw std::invalid_argument("a truncated page without a usable NextContinuationToken");
    page.next_token = xml_unescape(*token);
  }
  return page;
}

s3_inventory::s3_inventory(aws::aws_client& aws, bucket_settings settings, std::function<std::int64_t()> now_seconds,
                           std::size_t page_keys)
    : settings_(settings),
      objects_(aws, std::move(settings), std::move(now_seconds)),
      page_keys_(std::clamp<std::size_t>(page_keys, 1, max_page_keys)) {}

std::string s3_inventory::location() const {
  return "s3 bucket " + settings_.bucket + " at " + settings_.service_endpoint.authority();
}

aws::http_response s3_inventory::send(const std::string& method, const std::string& encoded_path_in_bucket,
                                      std::string query) {
  return objects_.send_to_bucket(method, encoded_path_in_bucket, std::move(query));
}

std::optional<std::string> s3_inventory::check_location() {
  const auto res = send("HEAD", "", "");
  if (res.status == 200) return std::nullopt;
  if (res.status == 404) return "bucket " + settings_.bucket + " does not exist";
  if (res.status == 403) return "access to bucket " + settings_.bucket + " denied (doctor needs s3:ListBucket)";
  if (res.status == 301) return "bucket " + settings_.bucket + " is in another region than " + settings_.region;
  failed("HeadBucket", res);
}

void s3_inventory::list(std::string_view prefix, const std::function<void(const images::inventory_entry&)>& visit) {
  std::optional<std::string> token;
  std::set<std::string> tokens_seen;  // a server repeating a token would page forever
  do {
    std::string query = "list-type=2&max-keys=" + std::to_string(page_keys_) +
                        "&prefix=" + aws::sigv4::uri_encode(prefix, false);
    if (token) query += "&continuation-token=" + aws::sigv4::uri_encode(*token, false);
    const auto res = send("GET", "", std::move(query));
    if (res.status != 200) failed("ListObjectsV2", res);
    list_page page;
    try {
      page = parse_list_page(res.body);
    } catch (const std::invalid_argument& e) {
      log::error("s3: unreadable ListObjectsV2 response", {{"what", e.what()}});
      throw storage_unavailable(std::string("S3 ListObjectsV2: unreadable response: ") + e.what());
    }
    for (const auto& e : page.entries)
      if (e.key.starts_with(prefix)) visit(e);
    token = std::move(page.next_token);
    if (token && !tokens_seen.insert(*token).second)
      throw storage_unavailable("S3 ListObjectsV2: the same continuation token came back twice");
  } while (token);
}

std::optional<std::string> s3_inventory::key_of(std::string_view stored) const { return objects_.key_of(stored); }

bool s3_inventory::exists(std::string_view key) { return objects_.head(key).has_value(); }

void s3_inventory::remove(std::string_view key) {
  if (key.empty() || key.size() > max_key_bytes) return;
  const auto res = send("DELETE", "/" + aws::sigv4::uri_encode(key, true), "");
  if (res.status != 204 && res.status != 200 && res.status != 404) failed("DeleteObject", res);
}

}  // namespace gatehouse::s3
