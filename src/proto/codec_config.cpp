#include "rtmp/proto/codec_config.hpp"

#include <array>

#include "rtmp/proto/byte_order.hpp"
#include "rtmp/proto/media_info.hpp"

namespace rtmp::proto {

// --- bit_reader -------------------------------------------------------------------

std::uint32_t bit_reader::bits(unsigned n) noexcept {
  if (n > 32) {
    ok_ = false;
    return 0;
  }
  if (!ok_ || data_.size() * 8 - pos_ < n) {
    ok_ = false;
    pos_ = data_.size() * 8;
    return 0;
  }
  std::uint32_t v = 0;
  for (unsigned i = 0; i < n; ++i) {
    const std::uint8_t byte = data_[pos_ >> 3];
    v = (v << 1) | ((byte >> (7 - (pos_ & 7))) & 1u);
    ++pos_;
  }
  return v;
}

void bit_reader::skip(std::size_t n) noexcept {
  if (!ok_ || data_.size() * 8 - pos_ < n) {
    ok_ = false;
    pos_ = data_.size() * 8;
    return;
  }
  pos_ += n;
}

std::uint32_t bit_reader::ue() noexcept {
  unsigned zeros = 0;
  while (ok_ && !flag()) {
    if (++zeros > 31) {
      ok_ = false;
      return 0;
    }
  }
  if (!ok_) return 0;
  // codeNum = 2^zeros - 1 + read_bits(zeros); at most 2^32 - 2 for 31 zeros.
  return static_cast<std::uint32_t>((std::uint64_t{1} << zeros) - 1 + bits(zeros));
}

std::uint32_t bit_reader::uvlc() noexcept {
  unsigned zeros = 0;
  while (ok_ && !flag()) ++zeros;  // ends: every round consumes a bit or fails
  if (!ok_) return 0;
  if (zeros >= 32) return 0xFFFFFFFFu;
  return static_cast<std::uint32_t>((std::uint64_t{1} << zeros) - 1 + bits(zeros));
}

namespace {

// H.265 table 7-1: SPS_NUT.
constexpr unsigned hevc_nal_sps = 33;
// AV1 spec 6.2.2: OBU_SEQUENCE_HEADER.
constexpr unsigned av1_obu_sequence_header = 1;
// SPS bytes looked at: the size fields come within the first ~120 bytes even
// with 7 sub-layers (profile_tier_level is at most 12 + 2 + 7 * 12 bytes).
constexpr std::size_t max_sps_rbsp_bytes = 256;
// leb128() is at most 8 bytes (AV1 spec 4.10.5).
constexpr unsigned max_leb128_bytes = 8;

/// Copies a NAL unit into `out` without its emulation prevention bytes
/// (H.265 7.4.2: a 0x03 after two zero bytes is dropped), up to out.size()
/// bytes. Returns the RBSP size.
std::size_t nal_to_rbsp(std::span<const std::uint8_t> nal, std::span<std::uint8_t> out) noexcept {
  std::size_t n = 0;
  unsigned zeros = 0;
  for (std::size_t i = 0; i < nal.size() && n < out.size(); ++i) {
    const std::uint8_t b = nal[i];
    if (zeros >= 2 && b == 0x03) {
      zeros = 0;
      continue;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return n;
}

/// Reads leb128() at `pos` (AV1 spec 4.10.5). False if cut short, longer
/// than 8 bytes or over 2^32 - 1.
bool read_leb128(std::span<const std::uint8_t> p, std::size_t& pos, std::uint64_t& value) noexcept {
  value = 0;
  for (unsigned i = 0; i < max_leb128_bytes; ++i) {
    if (pos >= p.size()) return false;
    const std::uint8_t b = p[pos++];
    value |= std::uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) return value <= 0xFFFFFFFFu;
  }
  return false;
}

}  // namespace

// --- HEVC -------------------------------------------------------------------------

bool hevc_sps_size(std::span<const std::uint8_t> sps_nal, video_size& out) noexcept {
  std::array<std::uint8_t, max_sps_rbsp_bytes> rbsp{};
  const std::size_t size = nal_to_rbsp(sps_nal, rbsp);
  bit_reader r(std::span<const std::uint8_t>(rbsp.data(), size));
  // nal_unit_header (7.3.1.2): forbidden_zero_bit, nal_unit_type(6),
  // nuh_layer_id(6), nuh_temporal_id_plus1(3).
  r.skip(1);
  if (r.bits(6) != hevc_nal_sps) return false;
  r.skip(9);
  // seq_parameter_set_rbsp (7.3.2.2).
  r.skip(4);  // sps_video_parameter_set_id
  const unsigned max_sub_layers_minus1 = r.bits(3);
  r.skip(1);  // sps_temporal_id_nesting_flag
  // profile_tier_level(1, sps_max_sub_layers_minus1) (7.3.3): the general
  // part is 96 bits (profile space .. general_level_idc).
  r.skip(96);
  std::array<bool, 8> profile_present{};
  std::array<bool, 8> level_present{};
  for (unsigned i = 0; i < max_sub_layers_minus1; ++i) {
    profile_present[i] = r.flag();
    level_present[i] = r.flag();
  }
  if (max_sub_layers_minus1 > 0) {
    for (unsigned i = max_sub_layers_minus1; i < 8; ++i) r.skip(2);  // reserved_zero_2bits
  }
  for (unsigned i = 0; i < max_sub_layers_minus1; ++i) {
    if (profile_present[i]) r.skip(88);  // sub_layer profile space .. reserved bits
    if (level_present[i]) r.skip(8);     // sub_layer_level_idc
  }
  r.ue();  // sps_seq_parameter_set_id
  const std::uint32_t chroma_format_idc = r.ue();
  if (chroma_format_idc > 3) return false;
  const bool separate_colour_plane = chroma_format_idc == 3 && r.flag();
  const std::uint64_t width = r.ue();   // pic_width_in_luma_samples
  const std::uint64_t height = r.ue();  // pic_height_in_luma_samples
  std::uint64_t left = 0, right = 0, top = 0, bottom = 0;
  if (r.flag()) {  // conformance_window_flag
    left = r.ue();
    right = r.ue();
    top = r.ue();
    bottom = r.ue();
  }
  if (!r.ok()) return false;
  // 7.4.3.2 (table 6-1): offsets are in chroma units. SubWidthC is 2 for
  // 4:2:0 and 4:2:2, SubHeightC 2 for 4:2:0 only; 1 for monochrome, 4:4:4
  // and separate colour planes (ChromaArrayType 0).
  const bool chroma_array = !separate_colour_plane && chroma_format_idc != 0;
  const std::uint64_t sub_width = chroma_array && chroma_format_idc != 3 ? 2 : 1;
  const std::uint64_t sub_height = chroma_array && chroma_format_idc == 1 ? 2 : 1;
  const std::uint64_t crop_w = sub_width * (left + right);
  const std::uint64_t crop_h = sub_height * (top + bottom);
  if (width == 0 || height == 0 || crop_w >= width || crop_h >= height) return false;
  out.width = static_cast<std::uint32_t>(width - crop_w);
  out.height = static_cast<std::uint32_t>(height - crop_h);
  return true;
}

bool hevc_config_size(std::span<const std::uint8_t> p, video_size& out) noexcept {
  // HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1.2): 22 bytes of
  // fixed fields (configurationVersion .. lengthSizeMinusOne), numOfArrays,
  // then per array: array_completeness(1) reserved(1) NAL_unit_type(6),
  // numNalus(16), and per NAL unit nalUnitLength(16) + the unit.
  constexpr std::size_t fixed_fields = 22;
  if (p.size() <= fixed_fields) return false;
  const unsigned arrays = p[fixed_fields];
  std::size_t pos = fixed_fields + 1;
  for (unsigned a = 0; a < arrays; ++a) {
    if (p.size() - pos < 3) return false;
    const unsigned type = p[pos] & 0x3f;
    const unsigned nalus = load_be16(p.data() + pos + 1);
    pos += 3;
    for (unsigned n = 0; n < nalus; ++n) {
      if (p.size() - pos < 2) return false;
      const std::size_t length = load_be16(p.data() + pos);
      pos += 2;
      if (p.size() - pos < length) return false;
      if (type == hevc_nal_sps && hevc_sps_size(p.subspan(pos, length), out)) return true;
      pos += length;
    }
  }
  return false;
}

// --- AV1 --------------------------------------------------------------------------

bool av1_sequence_header_size(std::span<const std::uint8_t> payload, video_size& out) noexcept {
  // sequence_header_obu() (AV1 spec 5.5.1), up to max_frame_height_minus_1.
  bit_reader r(payload);
  r.skip(3);  // seq_profile
  r.skip(1);  // still_picture
  const bool reduced_still_picture_header = r.flag();
  if (reduced_still_picture_header) {
    r.skip(5);  // seq_level_idx[0]
  } else {
    bool decoder_model_info_present = false;
    unsigned buffer_delay_length = 0;
    if (r.flag()) {  // timing_info_present_flag -> timing_info() (5.5.3)
      r.skip(32);    // num_units_in_display_tick
      r.skip(32);    // time_scale
      if (r.flag()) r.uvlc();  // equal_picture_interval -> num_ticks_per_picture_minus_1
      decoder_model_info_present = r.flag();
      if (decoder_model_info_present) {  // decoder_model_info() (5.5.4)
        buffer_delay_length = r.bits(5) + 1;
        r.skip(32);  // num_units_in_decoding_tick
        r.skip(5);   // buffer_removal_time_length_minus_1
        r.skip(5);   // frame_presentation_time_length_minus_1
      }
    }
    const bool initial_display_delay_present = r.flag();
    const unsigned operating_points = r.bits(5) + 1;
    for (unsigned i = 0; i < operating_points && r.ok(); ++i) {
      r.skip(12);  // operating_point_idc
      if (r.bits(5) > 7) r.skip(1);  // seq_level_idx > 7 -> seq_tier
      if (decoder_model_info_present && r.flag()) {
        // operating_parameters_info() (5.5.5): two delays and a flag.
        r.skip(2 * std::size_t{buffer_delay_length} + 1);
      }
      if (initial_display_delay_present && r.flag()) r.skip(4);
    }
  }
  const unsigned width_bits = r.bits(4) + 1;
  const unsigned height_bits = r.bits(4) + 1;
  const std::uint64_t width = std::uint64_t{r.bits(width_bits)} + 1;
  const std::uint64_t height = std::uint64_t{r.bits(height_bits)} + 1;
  if (!r.ok()) return false;
  out.width = static_cast<std::uint32_t>(width);
  out.height = static_cast<std::uint32_t>(height);
  return true;
}

bool av1_config_size(std::span<const std::uint8_t> p, video_size& out) noexcept {
  // AV1CodecConfigurationRecord: marker(1) = 1, version(7) = 1, then three
  // bytes of profile/level/colour fields, then configOBUs.
  constexpr std::size_t fixed_fields = 4;
  if (p.size() <= fixed_fields || p[0] != 0x81) return false;
  std::size_t pos = fixed_fields;
  while (pos < p.size()) {
    // obu_header() (5.3.2): forbidden(1) type(4) extension_flag(1)
    // has_size_field(1) reserved(1), then an optional extension byte.
    const std::uint8_t header = p[pos++];
    const unsigned type = (header >> 3) & 0x0f;
    const bool extension = (header & 0x04) != 0;
    const bool has_size = (header & 0x02) != 0;
    if (extension) {
      if (pos >= p.size()) return false;
      ++pos;
    }
    std::uint64_t size = p.size() - pos;
    if (has_size && !read_leb128(p, pos, size)) return false;
    if (size > p.size() - pos) return false;
    if (type == av1_obu_sequence_header) return av1_sequence_header_size(p.subspan(pos, size), out);
    pos += size;
  }
  return false;
}

// --- tag bodies -------------------------------------------------------------------

video_config_info describe_video_config(std::span<const std::uint8_t> payload) noexcept {
  video_config_info info;
  const auto tag = describe_video_tag(payload);
  if (!tag.valid) return info;
  std::array<media_track, max_tracks_per_message> tracks{};
  const std::size_t count = split_video_tracks(payload, tracks);
  if (count == 0) return info;
  const media_track* chosen = &tracks[0];
  for (std::size_t i = 1; i < count; ++i) {
    if (tracks[i].track_id < chosen->track_id) chosen = &tracks[i];
  }
  const bool sequence_start = tag.packet_type == 0;  // SequenceStart / AVCPacketType 0
  if (!tag.enhanced) {
    info.codec = video_codec_name(payload);
    if (tag.codec_id == 12 && sequence_start) info.has_size = hevc_config_size(chosen->body, info.size);
    return info;
  }
  info.codec = video_fourcc_name(chosen->fourcc);
  if (!sequence_start) return info;
  if (chosen->fourcc == make_fourcc("hvc1")) {
    info.has_size = hevc_config_size(chosen->body, info.size);
  } else if (chosen->fourcc == make_fourcc("av01")) {
    info.has_size = av1_config_size(chosen->body, info.size);
  }
  return info;
}

}  // namespace rtmp::proto
