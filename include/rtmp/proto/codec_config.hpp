#pragma once
/// @file codec_config.hpp
/// Reads what the operator API shows of a video stream (codec, coded size)
/// from its decoder configuration: the body of a video sequence header.
///
/// * HEVC: HEVCDecoderConfigurationRecord (hvcC, ISO/IEC 14496-15 8.3.3.1.2)
///   -> its SPS NAL unit -> pic_width/height_in_luma_samples minus the
///   conformance window (H.265 7.3.2.2, 7.4.3.2).
/// * AV1: AV1CodecConfigurationRecord (av1C, AV1 ISOBMFF binding 2.3.3)
///   -> configOBUs -> the sequence header OBU's max_frame_width/height
///   (AV1 spec 5.5.1).
/// * VP8/VP9: VPCodecConfigurationRecord (vpcC) carries no size; callers
///   fall back to onMetaData.
///
/// Everything here reads untrusted bytes: every read is bounds-checked, a
/// short or malformed input yields "no size", nothing allocates, nothing
/// throws and no reference to the input is kept.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace rtmp::proto {

/// Reads bits most-significant first from a byte span. Reading past the end
/// yields zeros and latches `ok()` to false, so a parser may read a whole
/// structure and check once at the end.
class bit_reader {
 public:
  /// Reads from `data`, which must outlive the reader.
  explicit bit_reader(std::span<const std::uint8_t> data) noexcept : data_(data) {}

  /// The next `n` bits (0 to 32) as an unsigned number.
  std::uint32_t bits(unsigned n) noexcept;
  /// The next bit.
  bool flag() noexcept { return bits(1) != 0; }
  /// Skips `n` bits.
  void skip(std::size_t n) noexcept;
  /// An unsigned Exp-Golomb code, ue(v) (H.264/H.265 9.2). More than 31
  /// leading zero bits is malformed (no conforming syntax element needs them).
  std::uint32_t ue() noexcept;
  /// An AV1 uvlc() (AV1 spec 4.10.3): 32 or more leading zeros give 2^32 - 1.
  std::uint32_t uvlc() noexcept;
  /// False once a read went past the end (or a code was malformed).
  bool ok() const noexcept { return ok_; }
  /// Bits not yet read.
  std::size_t bits_left() const noexcept { return ok_ ? data_.size() * 8 - pos_ : 0; }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;  // in bits
  bool ok_ = true;
};

/// Coded picture size in luma samples (after cropping where the codec has it).
struct video_size {
  std::uint32_t width = 0;   ///< Pixels.
  std::uint32_t height = 0;  ///< Pixels.
};

/// Size from an HEVC SPS NAL unit (2-byte NAL header included, emulation
/// prevention bytes still in place). False when it is not an SPS (type 33)
/// or is cut short or malformed.
bool hevc_sps_size(std::span<const std::uint8_t> sps_nal, video_size& out) noexcept;

/// Size from an HEVCDecoderConfigurationRecord: the first SPS in its arrays
/// that parses.
bool hevc_config_size(std::span<const std::uint8_t> hvcc, video_size& out) noexcept;

/// Size from the payload of an AV1 sequence header OBU (after the OBU
/// header and size): max_frame_width_minus_1 + 1 by max_frame_height_minus_1 + 1.
bool av1_sequence_header_size(std::span<const std::uint8_t> payload, video_size& out) noexcept;

/// Size from an AV1CodecConfigurationRecord: the sequence header OBU among
/// its configOBUs.
bool av1_config_size(std::span<const std::uint8_t> av1c, video_size& out) noexcept;

/// What a video sequence header says.
struct video_config_info {
  std::string_view codec = "unknown";  ///< As `video_codec_name` ("HEVC", "AV1", "VP9", ...); static text.
  bool has_size = false;               ///< `size` was read from the configuration.
  video_size size;                     ///< Valid when `has_size`.
};

/// Describes a video tag body that is a sequence header (legacy or
/// enhanced; for a multitrack body, the track with the lowest trackId, the
/// spec's default track). The size is read for HEVC and AV1
/// SequenceStart; any other body gives at most the codec.
video_config_info describe_video_config(std::span<const std::uint8_t> payload) noexcept;

}  // namespace rtmp::proto
