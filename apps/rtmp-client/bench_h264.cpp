// The H.264 of the synthetic bench stream (see bench_h264.hpp).
#include "bench_h264.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace rtmp::bench {

// --- bit_writer --------------------------------------------------------------------------

void bit_writer::bits(std::uint64_t value, unsigned count) {
  for (unsigned i = count; i-- > 0;) {
    if (used_ == 0) bytes_.push_back(0);
    if ((value >> i) & 1) bytes_.back() |= static_cast<std::uint8_t>(0x80u >> used_);
    used_ = (used_ + 1) % 8;
  }
}

void bit_writer::ue(std::uint32_t value) {
  // codeNum = value: leadingZeroBits zeros, then value + 1 in leadingZeroBits + 1 bits (9.1).
  const std::uint64_t v = std::uint64_t{value} + 1;
  const auto width = static_cast<unsigned>(std::bit_width(v));
  bits(0, width - 1);
  bits(v, width);
}

void bit_writer::se(std::int32_t value) {
  // Table 9-3: k > 0 maps to 2k - 1, k <= 0 to -2k.
  const std::int64_t k = value;
  ue(static_cast<std::uint32_t>(k > 0 ? 2 * k - 1 : -2 * k));
}

void bit_writer::trailing_bits() {
  bit(true);  // rbsp_stop_one_bit
  align_zero();
}

void bit_writer::align_zero() {
  if (used_ != 0) bits(0, 8 - used_);
}

// --- escaping ----------------------------------------------------------------------------

void append_escaped(std::span<const std::uint8_t> rbsp, std::vector<std::uint8_t>& out) {
  unsigned zeros = 0;
  for (const std::uint8_t b : rbsp) {
    if (zeros >= 2 && b <= 0x03) {
      out.push_back(0x03);
      zeros = 0;
    }
    out.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  // 7.4.1.1: an RBSP that ends in a cabac_zero_word (0x0000) gets a final 0x03.
  if (zeros >= 2) out.push_back(0x03);
}

bool rbsp_reader::next(std::uint8_t& out) noexcept {
  if (pos_ >= data_.size()) return false;
  std::uint8_t b = data_[pos_++];
  if (zeros_ >= 2 && b == 0x03) {  // emulation_prevention_three_byte
    zeros_ = 0;
    if (pos_ >= data_.size()) return false;
    b = data_[pos_++];
  }
  zeros_ = b == 0 ? zeros_ + 1 : 0;
  out = b;
  return true;
}

bool rbsp_reader::skip(std::size_t n) noexcept {
  std::uint8_t b = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!next(b)) return false;
  }
  return true;
}

std::vector<std::uint8_t> unescape(std::span<const std::uint8_t> nal_bytes) {
  std::vector<std::uint8_t> out;
  out.reserve(nal_bytes.size());
  rbsp_reader r(nal_bytes);
  std::uint8_t b = 0;
  while (r.next(b)) out.push_back(b);
  return out;
}

namespace h264 {

namespace {

constexpr std::uint32_t picture_mbs = width_mbs * height_mbs;

// A NAL unit: the header (7.3.1: forbidden_zero_bit, nal_ref_idc,
// nal_unit_type), then the escaped RBSP.
std::vector<std::uint8_t> nal_unit(unsigned ref_idc, nal_type type, const bit_writer& rbsp) {
  std::vector<std::uint8_t> out;
  out.reserve(rbsp.bytes().size() + 4);
  out.push_back(static_cast<std::uint8_t>((ref_idc << 5) | type));
  append_escaped(rbsp.bytes(), out);
  return out;
}

// The slice_header (7.3.3) fields before frame_num, shared by both slice types.
void slice_header_start(bit_writer& w, std::uint32_t slice_type) {
  w.ue(0);           // first_mb_in_slice: one slice per picture
  w.ue(slice_type);  // 5..9: every slice of the picture has this type
  w.ue(0);           // pic_parameter_set_id
}

}  // namespace

std::uint8_t level_for_bitrate(std::uint64_t bps) noexcept {
  // Table A-1: level_idc and MaxBR (1000 bit/s units of the VCL HRD).
  struct level {
    std::uint8_t idc;
    std::uint64_t max_br;
  };
  static constexpr level levels[] = {{10, 64},     {11, 192},    {12, 384},     {13, 768},
                                     {20, 2'000},  {21, 4'000},  {30, 10'000},  {31, 14'000},
                                     {32, 20'000}, {41, 50'000}, {50, 135'000}, {51, 240'000}};
  for (const auto& l : levels) {
    if (bps <= l.max_br * 1200) return l.idc;  // A.3.1 item j): cpbBrNalFactor 1200 for Baseline
  }
  return 52;
}

std::vector<std::uint8_t> sequence_parameter_set(std::uint8_t level_idc) {
  // seq_parameter_set_data (7.3.2.1.1) for profile_idc 66 (no chroma_format_idc etc.).
  bit_writer w;
  w.bits(66, 8);    // profile_idc: Baseline
  w.bits(0xC0, 8);  // constraint_set0_flag and constraint_set1_flag: Constrained Baseline (A.2.1.1)
  w.bits(level_idc, 8);
  w.ue(0);                   // seq_parameter_set_id
  w.ue(frame_num_bits - 4);  // log2_max_frame_num_minus4
  w.ue(2);                   // pic_order_cnt_type 2: POC from frame_num (8.2.1.3); every picture is a reference
  w.ue(1);                   // max_num_ref_frames
  w.bit(true);               // gaps_in_frame_num_value_allowed_flag: skipped frames are not errors (8.2.5.2)
  w.ue(width_mbs - 1);       // pic_width_in_mbs_minus1
  w.ue(height_mbs - 1);      // pic_height_in_map_units_minus1
  w.bit(true);               // frame_mbs_only_flag
  w.bit(true);               // direct_8x8_inference_flag
  w.bit(false);              // frame_cropping_flag
  w.bit(true);               // vui_parameters_present_flag
  // vui_parameters (E.1.1): the frame rate, and no reordering.
  w.bit(false);  // aspect_ratio_info_present_flag
  w.bit(false);  // overscan_info_present_flag
  w.bit(false);  // video_signal_type_present_flag
  w.bit(false);  // chroma_loc_info_present_flag
  w.bit(true);   // timing_info_present_flag
  w.bits(1, 32);               // num_units_in_tick
  w.bits(2 * frame_rate, 32);  // time_scale: two ticks per frame (E.2.1)
  w.bit(true);                 // fixed_frame_rate_flag
  w.bit(false);  // nal_hrd_parameters_present_flag
  w.bit(false);  // vcl_hrd_parameters_present_flag
  w.bit(false);  // pic_struct_present_flag
  w.bit(true);   // bitstream_restriction_flag: without it a decoder that sees
                 // a frame_num gap may guess reordering and delay its output
  w.bit(true);   // motion_vectors_over_pic_boundaries_flag
  w.ue(0);       // max_bytes_per_pic_denom: no limit
  w.ue(0);       // max_bits_per_mb_denom: no limit
  w.ue(16);      // log2_max_mv_length_horizontal: no limit
  w.ue(16);      // log2_max_mv_length_vertical
  w.ue(0);       // max_num_reorder_frames: output order is decoding order
  w.ue(1);       // max_dec_frame_buffering: the one reference frame
  w.trailing_bits();
  return nal_unit(3, nal_sps, w);
}

std::vector<std::uint8_t> picture_parameter_set() {
  // pic_parameter_set_rbsp (7.3.2.2).
  bit_writer w;
  w.ue(0);       // pic_parameter_set_id
  w.ue(0);       // seq_parameter_set_id
  w.bit(false);  // entropy_coding_mode_flag: CAVLC
  w.bit(false);  // bottom_field_pic_order_in_frame_present_flag
  w.ue(0);       // num_slice_groups_minus1
  w.ue(0);       // num_ref_idx_l0_default_active_minus1
  w.ue(0);       // num_ref_idx_l1_default_active_minus1
  w.bit(false);  // weighted_pred_flag
  w.bits(0, 2);  // weighted_bipred_idc
  w.se(0);       // pic_init_qp_minus26
  w.se(0);       // pic_init_qs_minus26
  w.se(0);       // chroma_qp_index_offset
  w.bit(false);  // deblocking_filter_control_present_flag: the filter runs (a no-op on a flat picture)
  w.bit(false);  // constrained_intra_pred_flag
  w.bit(false);  // redundant_pic_cnt_present_flag
  w.trailing_bits();
  return nal_unit(3, nal_pps, w);
}

std::vector<std::uint8_t> idr_slice(std::uint32_t idr_pic_id) {
  bit_writer w;
  slice_header_start(w, 7);  // I
  w.bits(0, frame_num_bits);  // frame_num: 0 in an IDR picture
  w.ue(idr_pic_id);
  // pic_order_cnt_type 2: no POC fields. An I slice has no reference list
  // fields. dec_ref_pic_marking (7.3.3.3) of an IDR picture:
  w.bit(false);  // no_output_of_prior_pics_flag
  w.bit(false);  // long_term_reference_flag
  w.se(0);       // slice_qp_delta
  // slice_data (7.3.4): every macroblock_layer (7.3.5) is
  //   mb_type ue(3)                I_16x16_2_0_0 (table 7-11): DC prediction, no coded luma AC or chroma
  //   intra_chroma_pred_mode ue(0) DC
  //   mb_qp_delta se(0)
  //   Intra16x16DCLevel coeff_token '1': TotalCoeff 0 (table 9-5, 0 <= nC < 2; no neighbour has coefficients)
  // With nothing coded and DC prediction from nothing but 128s, the picture is flat grey.
  for (std::uint32_t mb = 0; mb < picture_mbs; ++mb) {
    w.ue(3);
    w.ue(0);
    w.se(0);
    w.bit(true);
  }
  w.trailing_bits();  // rbsp_slice_trailing_bits, CAVLC: no cabac_zero_word
  return nal_unit(3, nal_idr, w);
}

std::vector<std::uint8_t> skipped_p_slice(std::uint32_t frame_num) {
  bit_writer w;
  slice_header_start(w, 5);  // P
  w.bits(frame_num, frame_num_bits);
  w.bit(false);  // num_ref_idx_active_override_flag: one reference (the PPS default)
  w.bit(false);  // ref_pic_list_modification_flag_l0 (7.3.3.1)
  w.bit(false);  // dec_ref_pic_marking: adaptive_ref_pic_marking_mode_flag 0, sliding window
  w.se(0);       // slice_qp_delta
  // slice_data: one mb_skip_run over the whole picture; then more_rbsp_data()
  // is false and the slice ends (7.3.4).
  w.ue(picture_mbs);
  w.trailing_bits();
  return nal_unit(2, nal_slice, w);
}

std::vector<std::uint8_t> user_data_sei(const std::array<std::uint8_t, 16>& uuid, std::span<const std::uint8_t> data) {
  // sei_rbsp (7.3.2.3) with one sei_message (7.3.2.3.1): payloadType 5 and
  // payloadSize coded as 0xFF bytes plus a last byte.
  bit_writer w;
  w.bits(5, 8);  // user_data_unregistered
  std::size_t size = uuid.size() + data.size();
  for (; size >= 255; size -= 255) w.bits(0xFF, 8);
  w.bits(size, 8);
  for (const std::uint8_t b : uuid) w.bits(b, 8);  // uuid_iso_iec_11578
  for (const std::uint8_t b : data) w.bits(b, 8);  // user_data_payload_byte
  w.trailing_bits();  // the payload ends byte-aligned: no sei payload extension bits
  return nal_unit(0, nal_sei, w);
}

void write_filler(std::span<std::uint8_t> nal) noexcept {
  if (nal.size() < min_filler_size) return;
  nal[0] = nal_filler;  // nal_ref_idc 0 (7.4.1)
  std::memset(nal.data() + 1, 0xFF, nal.size() - 2);  // ff_byte; 0xFF never needs escaping
  nal[nal.size() - 1] = 0x80;                         // rbsp_trailing_bits
}

std::vector<std::uint8_t> decoder_configuration(std::span<const std::uint8_t> sps, std::span<const std::uint8_t> pps) {
  std::vector<std::uint8_t> out = {
      0x01,    // configurationVersion
      sps[1],  // AVCProfileIndication
      sps[2],  // profile_compatibility
      sps[3],  // AVCLevelIndication
      static_cast<std::uint8_t>(0xFC | (nal_length_size - 1)),  // reserved '111111', lengthSizeMinusOne
      0xE1,                                                     // reserved '111', numOfSequenceParameterSets 1
  };
  out.push_back(static_cast<std::uint8_t>(sps.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(sps.size()));
  out.insert(out.end(), sps.begin(), sps.end());
  out.push_back(0x01);  // numOfPictureParameterSets
  out.push_back(static_cast<std::uint8_t>(pps.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(pps.size()));
  out.insert(out.end(), pps.begin(), pps.end());
  return out;
}

}  // namespace h264

}  // namespace rtmp::bench
