#pragma once
/// @file flv_writer.hpp
/// Sans-I/O FLV muxer (FLV spec, Adobe Video File Format Spec v10.1, annex E):
/// produces the bytes of an FLV file or stream into a caller's vector, or the
/// framing bytes around a shared payload for zero-copy (gather) writers.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "rtmp/proto/flv_reader.hpp"

namespace rtmp::proto {

/// The TypeFlags of an FLV file header (annex E.2). Players use them as hints
/// only; set them to what the file will actually contain.
struct flv_header_flags {
  bool has_audio = true;  ///< TypeFlagsAudio.
  bool has_video = true;  ///< TypeFlagsVideo.
};

/// The 9-byte file header (version 1, DataOffset 9) followed by
/// PreviousTagSize0 (always 0): the first 13 bytes of every FLV file.
std::array<std::uint8_t, flv_header_size + flv_previous_tag_size_size> flv_file_header(
    flv_header_flags flags) noexcept;

/// The bytes that surround one tag's payload on the wire: the 11-byte tag
/// header before it and the 4-byte PreviousTagSize (11 + payload size) after
/// it. A zero-copy writer sends `header`, the payload's own bytes (e.g. a
/// `shared_bytes` held by many subscribers) and `trailer` as one gather write.
struct flv_tag_framing {
  std::array<std::uint8_t, flv_tag_header_size> header{};          ///< Tag header.
  std::array<std::uint8_t, flv_previous_tag_size_size> trailer{};  ///< PreviousTagSize of this tag.
};

/// Fills `out` with the framing of a tag of `type`, `timestamp` (low 24 bits in
/// Timestamp, bits 24-31 in TimestampExtended, annex E.4.1; StreamID 0,
/// Filter bit clear) and a payload of `payload_size` bytes. Errors (then `out`
/// is unchanged): flv_tag_too_large when `payload_size` exceeds the 24-bit
/// DataSize field; flv_malformed when `type` does not fit the 5-bit TagType.
std::error_code make_flv_tag_framing(std::uint8_t type, std::uint32_t timestamp,
                                     std::size_t payload_size, flv_tag_framing& out) noexcept;

/// Writes an FLV file or stream: the header once, then tags.
///
/// Bytes are appended to a caller-owned `std::vector` (never cleared), which
/// the caller writes to a file or pipe and may clear in between. Payloads are
/// copied into that vector; for zero-copy output use `make_flv_tag_framing`.
/// Not thread-safe; one writer per output.
class flv_writer {
 public:
  /// A writer whose header will carry `flags`.
  explicit flv_writer(flv_header_flags flags = {}) noexcept : flags_(flags) {}

  /// Changes the header flags; effective only before the header is written.
  void set_flags(flv_header_flags flags) noexcept { flags_ = flags; }
  /// The header flags.
  flv_header_flags flags() const noexcept { return flags_; }

  /// Appends the file header and PreviousTagSize0 (13 bytes) to `out`.
  /// Does nothing if the header was already written.
  void write_header(std::vector<std::uint8_t>& out);

  /// Appends one tag (header, payload, PreviousTagSize) to `out`, writing the
  /// file header first if it was not written yet. Errors (nothing appended):
  /// as `make_flv_tag_framing`.
  std::error_code write_tag(std::uint8_t type, std::uint32_t timestamp,
                            std::span<const std::uint8_t> payload, std::vector<std::uint8_t>& out);

  /// Same as the overload above, for a tag as `flv_reader` returns it.
  std::error_code write_tag(const flv_tag& tag, std::vector<std::uint8_t>& out) {
    return write_tag(tag.type, tag.timestamp, tag.payload.span(), out);
  }

  /// True once the file header was written.
  bool header_written() const noexcept { return header_written_; }
  /// Tags written so far.
  std::uint64_t tags_written() const noexcept { return tags_written_; }
  /// Bytes appended so far (header included).
  std::uint64_t bytes_written() const noexcept { return bytes_written_; }

 private:
  flv_header_flags flags_;
  bool header_written_ = false;
  std::uint64_t tags_written_ = 0;
  std::uint64_t bytes_written_ = 0;
};

}  // namespace rtmp::proto
