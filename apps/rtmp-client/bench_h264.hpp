#pragma once
/// @file bench_h264.hpp
/// The smallest valid H.264 the synthetic stream of `rtmp-client bench`
/// needs, sans-I/O: an MSB-first bit writer with exp-Golomb codes, NAL unit
/// escaping (emulation prevention) and its inverse, and the NAL units of a
/// flat grey 128x96 picture in Constrained Baseline:
///
///  - SPS and PPS: CAVLC, pic_order_cnt_type 2 (output order = decoding
///    order), frame_num u(8), one reference frame, gaps in frame_num allowed
///    (a frame the publisher skips, or a server drops, is not an error), and
///    VUI with 25 fps timing and no reordering;
///  - an IDR slice of 48 Intra_16x16 DC macroblocks without residual (one
///    byte each);
///  - a P slice whose 48 macroblocks are all skipped (one mb_skip_run);
///  - a user_data_unregistered SEI, filler data, and the
///    AVCDecoderConfigurationRecord (avcC) that carries SPS and PPS.
///
/// References: ITU-T H.264 (08/2021) 7.3 (syntax), 7.4 (semantics), 9.1
/// (exp-Golomb), 9.2 (CAVLC), annex A (levels), D.1.7 (user data);
/// ISO/IEC 14496-15 5.2.4.1 (avcC).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace rtmp::bench {

/// Writes bits most significant first into bytes (the bit order of H.264
/// and of AAC's raw_data_block); the last byte is zero-padded until filled.
class bit_writer {
 public:
  /// Appends the low `count` bits of `value` (u(n), count <= 64).
  void bits(std::uint64_t value, unsigned count);
  /// Appends one bit.
  void bit(bool b) { bits(b ? 1 : 0, 1); }
  /// Appends `value` as ue(v), unsigned exp-Golomb (H.264 9.1).
  void ue(std::uint32_t value);
  /// Appends `value` as se(v), signed exp-Golomb (H.264 9.1.1).
  void se(std::int32_t value);
  /// Appends rbsp_trailing_bits (H.264 7.3.2.11): a one, then zeros up to
  /// the next byte boundary.
  void trailing_bits();
  /// Appends zeros up to the next byte boundary (none when aligned).
  void align_zero();
  /// True when the bits written fill whole bytes.
  bool aligned() const noexcept { return used_ == 0; }
  /// Bits written.
  std::size_t bit_count() const noexcept { return bytes_.size() * 8 - (used_ == 0 ? 0 : 8 - used_); }
  /// The bytes written (the last one zero-padded when not aligned).
  const std::vector<std::uint8_t>& bytes() const noexcept { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
  unsigned used_ = 0;  // bits used in the last byte; 0 when it is full (or there is none)
};

/// Appends `rbsp` to `out` as the bytes of a NAL unit (H.264 7.4.1.1): an
/// emulation_prevention_three_byte 0x03 goes after every two zero bytes
/// followed by a byte 0x00..0x03, and after an RBSP that ends in two zero
/// bytes, so that no start code prefix can appear inside the NAL unit.
void append_escaped(std::span<const std::uint8_t> rbsp, std::vector<std::uint8_t>& out);

/// Reads the RBSP of a NAL unit's bytes, dropping its
/// emulation_prevention_three_bytes; never reads outside the bytes given.
class rbsp_reader {
 public:
  /// A reader of `nal_bytes` (escaped, without the NAL header or not: the
  /// caller chooses where to start).
  explicit rbsp_reader(std::span<const std::uint8_t> nal_bytes) noexcept : data_(nal_bytes) {}
  /// Reads the next RBSP byte into `out`; false at the end.
  bool next(std::uint8_t& out) noexcept;
  /// Skips `n` RBSP bytes; false when fewer were left.
  bool skip(std::size_t n) noexcept;
  /// True when no byte is left.
  bool at_end() const noexcept { return pos_ >= data_.size(); }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
  unsigned zeros_ = 0;  // zero bytes just read
};

/// The RBSP of escaped NAL unit bytes (the inverse of append_escaped).
std::vector<std::uint8_t> unescape(std::span<const std::uint8_t> nal_bytes);

namespace h264 {

/// nal_unit_type values (H.264 table 7-1) the synthetic stream uses.
enum nal_type : std::uint8_t {
  nal_slice = 1,   ///< Coded slice of a non-IDR picture.
  nal_idr = 5,     ///< Coded slice of an IDR picture.
  nal_sei = 6,     ///< Supplemental enhancement information.
  nal_sps = 7,     ///< Sequence parameter set.
  nal_pps = 8,     ///< Picture parameter set.
  nal_filler = 12  ///< Filler data.
};

/// Picture width in macroblocks (128 pixels).
inline constexpr std::uint32_t width_mbs = 8;
/// Picture height in macroblocks (96 pixels).
inline constexpr std::uint32_t height_mbs = 6;
/// Pixels across.
inline constexpr std::uint32_t width = width_mbs * 16;
/// Pixels down.
inline constexpr std::uint32_t height = height_mbs * 16;
/// Frames per second the SPS announces (VUI timing).
inline constexpr std::uint32_t frame_rate = 25;
/// Bits of frame_num (log2_max_frame_num_minus4 + 4): frame_num counts 0..255.
inline constexpr unsigned frame_num_bits = 8;
/// Bytes of the big-endian length before each NAL unit in an AVC sample
/// (lengthSizeMinusOne + 1 in the avcC).
inline constexpr std::size_t nal_length_size = 4;
/// Bytes of the smallest filler data NAL unit (header and rbsp_trailing_bits).
inline constexpr std::size_t min_filler_size = 2;

/// The lowest level_idc (annex A, table A-1) whose maximum bitrate, counted
/// on the NAL HRD of the Baseline profile (cpbBrNalFactor 1200), admits
/// `bps`; 52 (level 5.2) above them all. The picture itself fits level 1.
std::uint8_t level_for_bitrate(std::uint64_t bps) noexcept;

/// The sequence parameter set NAL unit (header included, escaped) at `level_idc`.
std::vector<std::uint8_t> sequence_parameter_set(std::uint8_t level_idc);
/// The picture parameter set NAL unit.
std::vector<std::uint8_t> picture_parameter_set();
/// The slice NAL unit of an IDR picture (frame_num 0) with `idr_pic_id`.
std::vector<std::uint8_t> idr_slice(std::uint32_t idr_pic_id);
/// The slice NAL unit of a P picture with every macroblock skipped (a copy
/// of the previous picture), with `frame_num` (modulo 2^frame_num_bits).
std::vector<std::uint8_t> skipped_p_slice(std::uint32_t frame_num);
/// An SEI NAL unit holding one user_data_unregistered message (D.1.7):
/// `uuid`, then `data`.
std::vector<std::uint8_t> user_data_sei(const std::array<std::uint8_t, 16>& uuid, std::span<const std::uint8_t> data);
/// Fills `nal` with one filler data NAL unit (7.3.2.7) of exactly its size,
/// which must be at least min_filler_size: header, 0xFF bytes, 0x80.
void write_filler(std::span<std::uint8_t> nal) noexcept;
/// The AVCDecoderConfigurationRecord of one `sps` and one `pps`, with
/// 4-byte NAL unit lengths (lengthSizeMinusOne 3).
std::vector<std::uint8_t> decoder_configuration(std::span<const std::uint8_t> sps, std::span<const std::uint8_t> pps);

}  // namespace h264

}  // namespace rtmp::bench
