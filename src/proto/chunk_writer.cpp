#include "rtmp/proto/chunk_writer.hpp"

#include <algorithm>
#include <cstring>

#include "rtmp/proto/byte_order.hpp"

namespace rtmp::proto {
namespace {

constexpr std::uint32_t timestamp_escape = 0xFFFFFF;

// Writes a basic header (RTMP 1.0 section 5.3.1.1) at p; returns its size.
std::size_t put_basic_header(std::uint8_t* p, unsigned fmt, std::uint32_t csid) noexcept {
  const auto f = static_cast<std::uint8_t>(fmt << 6);
  if (csid >= 2 && csid <= 63) {
    p[0] = static_cast<std::uint8_t>(f | csid);
    return 1;
  }
  if (csid >= 64 && csid <= 319) {
    p[0] = f;
    p[1] = static_cast<std::uint8_t>(csid - 64);
    return 2;
  }
  const std::uint32_t v = csid - 64;  // 320..65599: low byte first
  p[0] = static_cast<std::uint8_t>(f | 1);
  p[1] = static_cast<std::uint8_t>(v & 0xFF);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  return 3;
}

// Writes one complete header (basic + message + extended timestamp) at p.
std::size_t put_header(std::uint8_t* p, unsigned fmt, std::uint32_t csid, std::uint32_t ts_field,
                       const message& msg) noexcept {
  std::size_t n = put_basic_header(p, fmt, csid);
  const bool extended = ts_field >= timestamp_escape;
  if (fmt <= 2) {
    store_be24(p + n, extended ? timestamp_escape : ts_field);
    n += 3;
    if (fmt <= 1) {
      store_be24(p + n, static_cast<std::uint32_t>(msg.payload.size()));
      p[n + 3] = msg.type;
      n += 4;
      if (fmt == 0) {
        store_le32(p + n, msg.stream_id);  // the one little-endian field (5.3.1.2.1)
        n += 4;
      }
    }
  }
  if (extended) {
    store_be32(p + n, ts_field);
    n += 4;
  }
  return n;
}

// Appends the chunks of msg: first header given, continuations fmt 3.
void put_chunks(std::uint8_t* out, unsigned fmt, std::uint32_t csid, std::uint32_t ts_field,
                const message& msg, std::uint32_t chunk_size, std::size_t& written) noexcept {
  std::uint8_t* p = out;
  p += put_header(p, fmt, csid, ts_field, msg);
  const std::uint8_t* src = msg.payload.data();
  std::size_t left = msg.payload.size();
  bool first = true;
  while (first || left > 0) {
    if (!first) p += put_header(p, 3, csid, ts_field, msg);
    first = false;
    const std::size_t n = std::min<std::size_t>(left, chunk_size);
    if (n > 0) std::memcpy(p, src, n);
    p += n;
    src += n;
    left -= n;
  }
  written = static_cast<std::size_t>(p - out);
}

std::size_t encoded_size(unsigned fmt, std::uint32_t csid, std::uint32_t ts_field, std::size_t length,
                         std::uint32_t chunk_size) noexcept {
  static constexpr std::size_t message_header[4] = {11, 7, 3, 0};
  const std::size_t basic = basic_header_size_for(csid);
  const std::size_t ext = ts_field >= timestamp_escape ? 4 : 0;
  const std::size_t chunks = length == 0 ? 1 : (length + chunk_size - 1) / chunk_size;
  return basic + message_header[fmt] + ext + (chunks - 1) * (basic + ext) + length;
}

}  // namespace

std::size_t basic_header_size_for(std::uint32_t csid) noexcept {
  if (csid <= 63) return 1;
  if (csid <= 319) return 2;
  return 3;
}

void chunk_writer::set_chunk_size(std::uint32_t size) noexcept {
  chunk_size_ = std::clamp<std::uint32_t>(size, 1, max_chunk_size);
}

chunk_writer::stream_state* chunk_writer::find(std::uint32_t csid) noexcept {
  for (auto& s : streams_) {
    if (s.csid == csid) return &s;
  }
  return nullptr;
}

void chunk_writer::reset(std::uint32_t csid) noexcept {
  std::erase_if(streams_, [csid](const stream_state& s) { return s.csid == csid; });
}

void chunk_writer::write(std::uint32_t csid, const message& msg, std::vector<std::uint8_t>& out) {
  const auto length = static_cast<std::uint32_t>(msg.payload.size());
  stream_state* prev = find(csid);
  unsigned fmt = 0;
  std::uint32_t delta = 0;
  if (prev != nullptr && prev->stream_id == msg.stream_id) {
    delta = msg.timestamp - prev->timestamp;  // modulo 2^32: wraps forward
    if (delta < 0x80000000u) {                // otherwise the clock went backwards
      if (prev->length != length || prev->type != msg.type) {
        fmt = 1;
      } else if (prev->last_fmt == 0 || prev->delta != delta) {
        // After fmt 0 a fmt 3 would add the *timestamp* as delta (5.3.1.2.4).
        fmt = 2;
      } else {
        fmt = 3;
      }
    }
  }
  if (prev == nullptr) {
    streams_.push_back(stream_state{});
    prev = &streams_.back();
    prev->csid = csid;
  }
  const std::uint32_t ts_field = fmt == 0 ? msg.timestamp : delta;

  const std::size_t size = encoded_size(fmt, csid, ts_field, length, chunk_size_);
  const std::size_t base = out.size();
  out.resize(base + size);
  std::size_t written = 0;
  put_chunks(out.data() + base, fmt, csid, ts_field, msg, chunk_size_, written);
  out.resize(base + written);

  prev->timestamp = msg.timestamp;
  prev->delta = fmt == 0 ? msg.timestamp : delta;
  prev->length = length;
  prev->stream_id = msg.stream_id;
  prev->type = msg.type;
  prev->last_fmt = static_cast<std::uint8_t>(fmt);
}

shared_bytes encode_standalone(std::uint32_t csid, const message& msg, std::uint32_t chunk_size) {
  chunk_size = std::clamp<std::uint32_t>(chunk_size, 1, max_chunk_size);
  const std::size_t size = encoded_size(0, csid, msg.timestamp, msg.payload.size(), chunk_size);
  writable_bytes buf(size);
  std::size_t written = 0;
  put_chunks(buf.data(), 0, csid, msg.timestamp, msg, chunk_size, written);
  return std::move(buf).freeze();
}

}  // namespace rtmp::proto
