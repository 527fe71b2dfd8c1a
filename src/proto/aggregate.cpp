#include "rtmp/proto/aggregate.hpp"

#include <algorithm>

#include "rtmp/error.hpp"
#include "rtmp/proto/byte_order.hpp"

namespace rtmp::proto {

std::error_code split_aggregate(const message& aggregate, std::vector<message>& out) {
  constexpr std::size_t tag_header = 11;
  constexpr std::size_t back_pointer = 4;
  const auto& body = aggregate.payload;
  const std::size_t first_out = out.size();
  std::size_t pos = 0;
  std::uint32_t first_ts = 0;
  bool first = true;
  while (pos < body.size()) {
    if (body.size() - pos < tag_header) {
      out.resize(first_out);
      return errc::aggregate_malformed;
    }
    const std::uint8_t* h = body.data() + pos;
    const std::uint32_t size = load_be24(h + 1);
    // Timestamp: 24 bits plus an 8-bit extension holding the upper byte.
    const std::uint32_t ts = load_be24(h + 4) | (std::uint32_t{h[7]} << 24);
    if (body.size() - pos - tag_header < size) {
      out.resize(first_out);
      return errc::aggregate_malformed;
    }
    if (first) {
      first_ts = ts;
      first = false;
    }
    message sub;
    sub.type = h[0];
    sub.timestamp = aggregate.timestamp + (ts - first_ts);
    sub.stream_id = aggregate.stream_id;
    sub.payload = body.slice(pos + tag_header, size);
    out.push_back(std::move(sub));
    pos += tag_header + size;
    // The back pointer may be missing after the last sub-message.
    pos += std::min(back_pointer, body.size() - pos);
  }
  return {};
}

}  // namespace rtmp::proto
