#include "rtmp/hls/delivery_directives.hpp"

#include <charconv>

namespace rtmp::hls {

namespace {

// A decimal of at most `max_digits` digits and nothing else.
template <typename T>
bool read_decimal(std::string_view text, std::size_t max_digits, T& out) {
  if (text.empty() || text.size() > max_digits) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

delivery_directives parse_delivery_directives(std::string_view query) {
  delivery_directives d;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty()) continue;
    const auto eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    if (name == "_HLS_msn") {
      std::uint64_t msn = 0;
      if (d.msn || !read_decimal(value, 19, msn)) {
        d.problem = "_HLS_msn must be given once, as a decimal";
      } else {
        d.msn = msn;
      }
    } else if (name == "_HLS_part") {
      std::uint32_t part = 0;
      if (d.part || !read_decimal(value, 9, part)) {
        d.problem = "_HLS_part must be given once, as a decimal";
      } else {
        d.part = part;
      }
    } else if (name == "_HLS_skip") {
      // Delta updates are optional (CAN-SKIP-UNTIL is not advertised): ignored.
    } else {
      d.carried_query += d.carried_query.empty() ? "?" : "&";
      d.carried_query += param;
    }
  }
  // RFC 8216bis section 6.2.5.2: _HLS_part without _HLS_msn is an error.
  if (d.problem.empty() && d.part && !d.msn) d.problem = "_HLS_part needs _HLS_msn";
  return d;
}

}  // namespace rtmp::hls
