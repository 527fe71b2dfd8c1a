#pragma once
// RTMP bytes built by hand, for tests that write what the chunk writer never
// would: big-endian fields, basic and message headers (BH(fmt,csid) and
// MH0(ts,len,type,msid) in the notation of tests/hostile/README.md), whole
// messages cut into chunks, and AMF0 values.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "rtmp/proto/command.hpp"
#include "bytes.hpp"

namespace rtmp::test {

/// Appends the low 16 bits of `v`, big-endian.
inline void put_u16(std::vector<std::uint8_t>& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

/// Appends the low 24 bits of `v`, big-endian.
inline void put_u24(std::vector<std::uint8_t>& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 16));
  put_u16(b, v);
}

/// Appends `v` big-endian.
inline void put_u32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  put_u16(b, v >> 16);
  put_u16(b, v);
}

/// Appends `v` little-endian (the message stream id of a type-0 header).
inline void put_le32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

/// Appends `more` to `b`.
inline void append(std::vector<std::uint8_t>& b, const std::vector<std::uint8_t>& more) {
  b.insert(b.end(), more.begin(), more.end());
}

/// Appends the characters of `s` to `b`.
inline void append(std::vector<std::uint8_t>& b, std::string_view s) {
  // resize + memcpy: g++ 12 warns (-Warray-bounds, a false positive) on insert from chars.
  const std::size_t old = b.size();
  b.resize(old + s.size());
  if (!s.empty()) std::memcpy(b.data() + old, s.data(), s.size());
}

/// `v` as 4 big-endian bytes.
inline std::vector<std::uint8_t> be32(std::uint32_t v) {
  std::vector<std::uint8_t> b;
  put_u32(b, v);
  return b;
}

/// BH(fmt, csid): the shortest basic header for `csid` (RTMP 1.0 section 5.3.1.1).
inline std::vector<std::uint8_t> bh(unsigned fmt, std::uint32_t csid) {
  const auto f = static_cast<std::uint8_t>(fmt << 6);
  if (csid >= 2 && csid <= 63) return {static_cast<std::uint8_t>(f | csid)};
  if (csid >= 64 && csid <= 319) return {f, static_cast<std::uint8_t>(csid - 64)};
  return {static_cast<std::uint8_t>(f | 1), static_cast<std::uint8_t>((csid - 64) & 0xFF),
          static_cast<std::uint8_t>((csid - 64) >> 8)};
}

/// The 3-byte basic header, legal for any csid >= 64.
inline std::vector<std::uint8_t> bh_long(unsigned fmt, std::uint32_t csid) {
  return {static_cast<std::uint8_t>((fmt << 6) | 1), static_cast<std::uint8_t>((csid - 64) & 0xFF),
          static_cast<std::uint8_t>((csid - 64) >> 8)};
}

/// MH0(ts, len, type, msid): the 11-byte type-0 message header. A timestamp
/// >= 0xFFFFFF writes the escape; the caller appends the extended field.
inline std::vector<std::uint8_t> mh0(std::uint32_t ts, std::uint32_t len, std::uint8_t type, std::uint32_t msid) {
  std::vector<std::uint8_t> b;
  put_u24(b, std::min<std::uint32_t>(ts, 0xFFFFFF));
  put_u24(b, len);
  b.push_back(type);
  put_le32(b, msid);
  return b;
}

/// One message as chunks of `chunk_size`: a type-0 chunk with the absolute
/// timestamp (extended when >= 0xFFFFFF), then fmt 3 continuations, each
/// carrying the extended timestamp again when `repeat_ext` (the FMS
/// dialect). `long_basic_header` writes every basic header in the 3-byte form.
inline std::vector<std::uint8_t> message_bytes(std::uint32_t csid, std::uint8_t type, std::uint32_t ts,
                                               std::uint32_t msid, const std::vector<std::uint8_t>& payload,
                                               std::uint32_t chunk_size = 128, bool repeat_ext = true,
                                               bool long_basic_header = false) {
  auto basic = [&](unsigned fmt) { return long_basic_header ? bh_long(fmt, csid) : bh(fmt, csid); };
  std::vector<std::uint8_t> out = basic(0);
  append(out, mh0(ts, static_cast<std::uint32_t>(payload.size()), type, msid));
  const bool ext = ts >= 0xFFFFFF;
  if (ext) append(out, be32(ts));
  std::size_t off = 0;
  do {
    if (off > 0) {
      append(out, basic(3));
      if (ext && repeat_ext) append(out, be32(ts));
    }
    const std::size_t n = std::min<std::size_t>(chunk_size, payload.size() - off);
    out.insert(out.end(), payload.begin() + static_cast<std::ptrdiff_t>(off),
               payload.begin() + static_cast<std::ptrdiff_t>(off + n));
    off += n;
  } while (off < payload.size());
  return out;
}

/// A protocol control message (type 1..6) on csid 2, message stream 0.
inline std::vector<std::uint8_t> control_bytes(std::uint8_t type, const std::vector<std::uint8_t>& payload) {
  return message_bytes(2, type, 0, 0, payload);
}

/// Set Chunk Size to `size` (any 32-bit value, legal or not).
inline std::vector<std::uint8_t> set_chunk_size_bytes(std::uint32_t size) { return control_bytes(1, be32(size)); }

/// The AMF0 command `c` as a type-20 message on `msid` and `csid`.
inline std::vector<std::uint8_t> command_bytes(const proto::command& c, std::uint32_t msid = 0,
                                               std::uint32_t csid = 3, std::uint32_t chunk_size = 128) {
  return message_bytes(csid, 20, 0, msid, proto::encode_command(c), chunk_size);
}

/// An AMF0 object key (or string body): 16-bit length, then the characters.
inline std::vector<std::uint8_t> amf_key(std::string_view s) {
  std::vector<std::uint8_t> b;
  put_u16(b, static_cast<std::uint32_t>(s.size()));
  append(b, s);
  return b;
}

/// An AMF0 string value (marker 02).
inline std::vector<std::uint8_t> amf_string(std::string_view s) { return concat({{0x02}, amf_key(s)}); }

/// An AMF0 number value (marker 00, then the IEEE 754 double big-endian).
inline std::vector<std::uint8_t> amf_number(double d) {
  std::uint64_t u = 0;
  std::memcpy(&u, &d, sizeof u);
  std::vector<std::uint8_t> b{0x00};
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(u >> (8 * i)));
  return b;
}

/// The AMF0 null value.
inline const std::vector<std::uint8_t> amf_null{0x05};

/// The AMF0 object end marker (empty key, 09).
inline const std::vector<std::uint8_t> amf_end{0x00, 0x00, 0x09};

/// `02 0007 'connect' 00 3FF0000000000000`: the command name and transaction id 1.
inline std::vector<std::uint8_t> connect_head() { return concat({amf_string("connect"), amf_number(1)}); }

/// A minimal valid connect command object {app: `app`, tcUrl: rtmp://127.0.0.1/`app`}.
inline std::vector<std::uint8_t> connect_object(std::string_view app) {
  return concat({{0x03}, amf_key("app"), amf_string(app), amf_key("tcUrl"),
                 amf_string(std::string("rtmp://127.0.0.1/") + std::string(app)), amf_end});
}

/// The connect parameters of a client of `app` on 127.0.0.1.
inline proto::connect_params connect_params_for(const std::string& app) {
  proto::connect_params p;
  p.app = app;
  p.tc_url = "rtmp://127.0.0.1/" + app;
  return p;
}

}  // namespace rtmp::test
