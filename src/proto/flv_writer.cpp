#include "rtmp/proto/flv_writer.hpp"

#include "rtmp/error.hpp"
#include "rtmp/proto/byte_order.hpp"

namespace rtmp::proto {

std::array<std::uint8_t, flv_header_size + flv_previous_tag_size_size> flv_file_header(
    flv_header_flags flags) noexcept {
  // FLV spec annex E.2: "FLV", version 1, TypeFlags (bit 2 audio, bit 0
  // video), DataOffset 9; then PreviousTagSize0 = 0 (annex E.3).
  std::array<std::uint8_t, flv_header_size + flv_previous_tag_size_size> h{};
  h[0] = 'F';
  h[1] = 'L';
  h[2] = 'V';
  h[3] = 1;
  h[4] = static_cast<std::uint8_t>((flags.has_audio ? 0x04 : 0) | (flags.has_video ? 0x01 : 0));
  store_be32(&h[5], static_cast<std::uint32_t>(flv_header_size));
  store_be32(&h[9], 0);
  return h;
}

std::error_code make_flv_tag_framing(std::uint8_t type, std::uint32_t timestamp,
                                     std::size_t payload_size, flv_tag_framing& out) noexcept {
  if (payload_size > flv_max_data_size) return errc::flv_tag_too_large;
  if (type > 0x1f) return errc::flv_malformed;
  const auto size = static_cast<std::uint32_t>(payload_size);
  // Annex E.4.1: Reserved/Filter bits 0, TagType, DataSize (UI24),
  // Timestamp (UI24, low bits), TimestampExtended (UI8, bits 24-31), StreamID 0.
  out.header[0] = type;
  store_be24(&out.header[1], size);
  store_be24(&out.header[4], timestamp);
  out.header[7] = static_cast<std::uint8_t>(timestamp >> 24);
  store_be24(&out.header[8], 0);
  store_be32(out.trailer.data(), static_cast<std::uint32_t>(flv_tag_header_size) + size);
  return {};
}

void flv_writer::write_header(std::vector<std::uint8_t>& out) {
  if (header_written_) return;
  const auto h = flv_file_header(flags_);
  out.insert(out.end(), h.begin(), h.end());
  bytes_written_ += h.size();
  header_written_ = true;
}

std::error_code flv_writer::write_tag(std::uint8_t type, std::uint32_t timestamp,
                                      std::span<const std::uint8_t> payload,
                                      std::vector<std::uint8_t>& out) {
  flv_tag_framing framing;
  if (auto ec = make_flv_tag_framing(type, timestamp, payload.size(), framing)) return ec;
  write_header(out);
  out.insert(out.end(), framing.header.begin(), framing.header.end());
  out.insert(out.end(), payload.begin(), payload.end());
  out.insert(out.end(), framing.trailer.begin(), framing.trailer.end());
  bytes_written_ += framing.header.size() + payload.size() + framing.trailer.size();
  ++tags_written_;
  return {};
}

}  // namespace rtmp::proto
