#pragma once
/// @file flv_reader.hpp
/// Sans-I/O FLV demuxer (FLV spec, Adobe Video File Format Spec v10.1,
/// annex E): bytes in, split anywhere (a file read in blocks, a pipe, one byte
/// at a time), complete tags out. No file or socket is touched here.

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "rtmp/proto/shared_bytes.hpp"

namespace rtmp::proto {

/// FLV tag types (FLV spec annex E.4.1, TagType).
enum class flv_tag_type : std::uint8_t {
  audio = 8,
  video = 9,
  script = 18,  ///< Script data (AMF0), e.g. onMetaData.
};

/// Size of the FLV file header as version 1 defines it (FLV spec annex E.2).
inline constexpr std::size_t flv_header_size = 9;
/// Size of a tag header: type, DataSize, Timestamp, TimestampExtended, StreamID.
inline constexpr std::size_t flv_tag_header_size = 11;
/// Size of a PreviousTagSize field.
inline constexpr std::size_t flv_previous_tag_size_size = 4;
/// Largest payload the 24-bit DataSize field can declare.
inline constexpr std::uint32_t flv_max_data_size = 0xFFFFFF;

/// One FLV tag. The payload layout of audio and video tags is the body of an
/// RTMP audio/video message, so a tag maps 1:1 to a `message`.
struct flv_tag {
  std::uint8_t type = 0;        ///< 8 audio, 9 video, 18 script (see `flv_tag_type`).
  std::uint32_t timestamp = 0;  ///< Milliseconds: 24-bit Timestamp with TimestampExtended as bits 24-31.
  shared_bytes payload;         ///< The tag body (DataSize bytes), immutable and shared.
};

/// Limits and policies of one reader.
struct flv_reader_limits {
  /// Largest tag payload accepted. The payload buffer is allocated at the
  /// declared size when a tag header arrives, so this also bounds the memory a
  /// single (hostile) tag header can claim. The 24-bit field caps it at
  /// `flv_max_data_size` anyway.
  std::uint32_t max_tag_size = flv_max_data_size;
  /// Largest DataOffset accepted in the file header. Bytes between the 9-byte
  /// header and DataOffset are skipped (not buffered); a huge value almost
  /// always means the input is not FLV.
  std::uint32_t max_data_offset = 64 * 1024;
  /// Deliver tags whose type is not 8, 9 or 18 instead of failing with
  /// flv_malformed. Off by default: annex E defines no other types, and an
  /// unknown type usually means the reader lost sync with garbage input.
  bool accept_unknown_tag_types = false;
};

/// Decodes an FLV byte stream into tags.
///
/// Header: the signature must be "FLV" (checked byte by byte, so non-FLV input
/// fails on its first wrong byte); any version is accepted (exposed by
/// `version()`); DataOffset must be >= 9 and <= `max_data_offset`, and the
/// bytes beyond the 9 defined ones are skipped.
///
/// Tags: the two reserved bits of the first tag byte are ignored; the StreamID
/// field is ignored (annex E says it is always 0). A tag with the Filter bit
/// set (encrypted or otherwise pre-processed payload, annex E.4.1) is
/// rejected with errc::flv_encrypted: its body is not plain audio/video/script
/// data and forwarding it would hand garbage to players.
///
/// PreviousTagSize: each one is compared with 11 + DataSize of the previous
/// tag (0 for PreviousTagSize0). A mismatch is tolerated, because real files
/// (old muxers, files patched in place) sometimes carry wrong values and the
/// DataSize fields alone are enough to parse; it is counted in
/// `previous_tag_size_mismatches()` so the caller can warn.
///
/// A tag is delivered as soon as its payload is complete (not after its
/// trailing PreviousTagSize), so a live pipe sees no extra latency.
///
/// Errors are sticky: after `feed()` returns one, further input is ignored and
/// the same error is returned. Errors: flv_malformed (bad signature, bad
/// DataOffset, unknown tag type), flv_encrypted (Filter bit),
/// flv_tag_too_large (DataSize above `max_tag_size`).
///
/// Not thread-safe; one reader per input.
class flv_reader {
 public:
  /// A reader waiting for the FLV file header.
  explicit flv_reader(flv_reader_limits limits = {});

  /// Consumes all of `bytes`. The caller's buffer is not referenced after the
  /// call: payload bytes are copied once, straight into the tag's
  /// `writable_bytes`, which is frozen into the tag's `shared_bytes` when
  /// complete. Returns the first error found (sticky), or success.
  std::error_code feed(std::span<const std::uint8_t> bytes);

  /// Declares the end of input. Returns success when the input ended cleanly
  /// after a tag's PreviousTagSize (or right after PreviousTagSize0);
  /// errc::flv_truncated when it stopped anywhere else (inside the header, a
  /// tag header, a payload or a PreviousTagSize; also for empty input). Every
  /// complete tag before the cut was delivered, so flv_truncated is a warning
  /// the caller can print and go on. Returns the sticky error if `feed()`
  /// failed before. May be called more than once; does not change state.
  std::error_code finish() const noexcept;

  /// Pops the oldest complete tag into `out`. Returns false when none is ready.
  bool next(flv_tag& out);

  /// Number of complete tags not popped yet.
  std::size_t ready_count() const noexcept { return ready_.size() - ready_pos_; }

  /// True once the 9-byte file header has been parsed.
  bool header_parsed() const noexcept { return header_parsed_; }
  /// The header's TypeFlagsAudio bit (valid once `header_parsed()`).
  bool has_audio() const noexcept { return (flags_ & 0x04) != 0; }
  /// The header's TypeFlagsVideo bit (valid once `header_parsed()`).
  bool has_video() const noexcept { return (flags_ & 0x01) != 0; }
  /// The header's Version byte (1 for every known file).
  std::uint8_t version() const noexcept { return version_; }
  /// The header's DataOffset (9 for every known file).
  std::uint32_t data_offset() const noexcept { return data_offset_; }

  /// PreviousTagSize fields that did not match the preceding tag (tolerated).
  std::uint64_t previous_tag_size_mismatches() const noexcept { return prev_size_mismatches_; }
  /// Tags completed so far (popped or not).
  std::uint64_t tags_read() const noexcept { return tags_read_; }
  /// Total bytes fed and consumed so far (input after an error is not counted).
  std::uint64_t bytes_consumed() const noexcept { return bytes_consumed_; }
  /// The sticky error, if any.
  std::error_code error() const noexcept { return error_; }
  /// The limits this reader enforces.
  const flv_reader_limits& limits() const noexcept { return limits_; }

 private:
  enum class phase { file_header, header_skip, previous_size, tag_header, payload };

  std::error_code parse_file_header();
  std::error_code parse_tag_header();
  void check_previous_size() noexcept;
  void complete_tag();

  flv_reader_limits limits_;
  phase phase_ = phase::file_header;
  std::uint8_t buf_[flv_tag_header_size] = {};  // header fields being assembled
  std::size_t buf_len_ = 0;
  std::uint32_t skip_remaining_ = 0;

  bool header_parsed_ = false;
  std::uint8_t version_ = 0;
  std::uint8_t flags_ = 0;
  std::uint32_t data_offset_ = 0;

  std::uint32_t expected_previous_size_ = 0;  // 11 + DataSize of the last tag, 0 before any
  std::uint8_t tag_type_ = 0;
  std::uint32_t tag_timestamp_ = 0;
  writable_bytes payload_;
  std::size_t payload_filled_ = 0;

  std::uint64_t prev_size_mismatches_ = 0;
  std::uint64_t tags_read_ = 0;
  std::uint64_t bytes_consumed_ = 0;
  std::error_code error_;

  std::vector<flv_tag> ready_;
  std::size_t ready_pos_ = 0;
};

}  // namespace rtmp::proto
