// The synthetic stream of `rtmp-client bench` (apps/rtmp-client/bench_h264
// and bench_synthetic): the bit writer and NAL escaping, the SPS, PPS and
// slices parsed back by an independent exp-Golomb reader, the stamp SEI
// round trip (also with bytes that need emulation prevention), read_stamp
// on hostile payloads, frame sizes against the requested bitrates, the AAC
// frames parsed back, and an FLV file of the stream decoded by ffmpeg and
// counted by ffprobe.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_detail.hpp"
#include "bench_h264.hpp"
#include "rtmp/proto/flv_writer.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

namespace {

using namespace rtmp::bench;
using bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

// --- an independent reader -------------------------------------------------------------

// Reads bits most significant first; throws past the end.
class bit_reader {
 public:
  explicit bit_reader(bytes data) : data_(std::move(data)) {}
  std::uint64_t u(unsigned n) {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) {
      if (pos_ >= data_.size() * 8) throw std::out_of_range("read past the end");
      v = (v << 1) | ((data_[pos_ / 8] >> (7 - pos_ % 8)) & 1);
      ++pos_;
    }
    return v;
  }
  std::uint32_t ue() {
    unsigned zeros = 0;
    while (u(1) == 0) ++zeros;
    return static_cast<std::uint32_t>((std::uint64_t{1} << zeros) - 1 + u(zeros));
  }
  std::int32_t se() {
    const std::uint32_t k = ue();
    return (k & 1) ? static_cast<std::int32_t>((k + 1) / 2) : -static_cast<std::int32_t>(k / 2);
  }
  // Checks rbsp_trailing_bits: a one, then zeros to the end of the data.
  bool trailing_bits_end() {
    if (u(1) != 1) return false;
    while (pos_ < data_.size() * 8) {
      if (u(1) != 0) return false;
    }
    return true;
  }
  std::size_t left() const { return data_.size() * 8 - pos_; }

 private:
  bytes data_;
  std::size_t pos_ = 0;
};

// The bits of `w` as a string of '0' and '1'.
std::string bit_string(const bit_writer& w) {
  std::string s;
  for (std::size_t i = 0; i < w.bit_count(); ++i) s += ((w.bytes()[i / 8] >> (7 - i % 8)) & 1) ? '1' : '0';
  return s;
}

// True when `nal` holds a start code prefix or another three-byte sequence
// that escaping must prevent: 00 00 00, 00 00 01, 00 00 02 (H.264 7.4.1).
bool has_forbidden_sequence(const bytes& nal) {
  for (std::size_t i = 0; i + 2 < nal.size(); ++i) {
    if (nal[i] == 0 && nal[i + 1] == 0 && nal[i + 2] <= 2) return true;
  }
  return false;
}

// True when `needle` occurs in `hay`.
bool contains(const bytes& hay, const bytes& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// One NAL unit of an AVC sample.
struct nal_unit {
  std::uint8_t type = 0;
  bytes data;  // header included, escaped
};

// The NAL units of an AVC NALU video payload; fails the test on bad framing.
std::vector<nal_unit> nal_units(std::span<const std::uint8_t> payload) {
  std::vector<nal_unit> out;
  EXPECT_GE(payload.size(), 5u);
  std::size_t pos = 5;
  while (pos < payload.size()) {
    EXPECT_GE(payload.size() - pos, 4u);
    if (payload.size() - pos < 4) break;
    const std::size_t len = (std::size_t{payload[pos]} << 24) | (std::size_t{payload[pos + 1]} << 16) |
                            (std::size_t{payload[pos + 2]} << 8) | payload[pos + 3];
    pos += 4;
    EXPECT_LE(len, payload.size() - pos);
    EXPECT_GT(len, 0u);
    if (len > payload.size() - pos || len == 0) break;
    out.push_back({static_cast<std::uint8_t>(payload[pos] & 0x1F), bytes(payload.begin() + pos, payload.begin() + pos + len)});
    pos += len;
  }
  return out;
}

// The RBSP of a NAL unit (after its header).
bit_reader rbsp_of(const bytes& nal) { return bit_reader(unescape(std::span(nal).subspan(1))); }

std::span<const std::uint8_t> span_of(const rtmp::proto::message& m) { return m.payload.span(); }

// --- bit writer and escaping ----------------------------------------------------------

TEST(bench_bit_writer, writes_exp_golomb_codes_of_table_9_2) {
  bit_writer w;
  for (std::uint32_t v : {0u, 1u, 2u, 3u, 4u, 7u, 8u}) w.ue(v);
  EXPECT_EQ(bit_string(w), "1" "010" "011" "00100" "00101" "0001000" "0001001");
  bit_writer s;
  for (std::int32_t v : {0, 1, -1, 2, -2, 3}) s.se(v);
  EXPECT_EQ(bit_string(s), "1" "010" "011" "00100" "00101" "00110");
  bit_writer big;
  big.ue(0xFFFFFFFEu);  // the largest codeNum of 32 info bits
  bit_reader r(big.bytes());
  EXPECT_EQ(r.ue(), 0xFFFFFFFEu);
}

TEST(bench_bit_writer, packs_bits_msb_first_and_aligns_with_trailing_bits) {
  bit_writer w;
  w.bits(0b101, 3);
  EXPECT_FALSE(w.aligned());
  EXPECT_EQ(w.bit_count(), 3u);
  w.trailing_bits();
  EXPECT_TRUE(w.aligned());
  EXPECT_EQ(w.bytes(), (bytes{0b1011'0000}));
  w.trailing_bits();  // when aligned: a whole byte 0x80
  EXPECT_EQ(w.bytes(), (bytes{0b1011'0000, 0x80}));
  w.bits(0x123456789, 36);
  w.align_zero();
  EXPECT_EQ(w.bytes(), (bytes{0xB0, 0x80, 0x12, 0x34, 0x56, 0x78, 0x90}));
}

TEST(bench_escaping, inserts_emulation_prevention_bytes_of_7_4_1_1) {
  const std::vector<std::pair<bytes, bytes>> cases = {
      {{0x00, 0x00, 0x00, 0x80}, {0x00, 0x00, 0x03, 0x00, 0x80}},
      {{0x80, 0x00, 0x00}, {0x80, 0x00, 0x00, 0x03}},  // a final cabac_zero_word gets a 0x03
      {{0x00, 0x00, 0x01}, {0x00, 0x00, 0x03, 0x01}},
      {{0x00, 0x00, 0x02, 0x80}, {0x00, 0x00, 0x03, 0x02, 0x80}},
      {{0x00, 0x00, 0x03, 0x80}, {0x00, 0x00, 0x03, 0x03, 0x80}},
      {{0x00, 0x00, 0x04}, {0x00, 0x00, 0x04}},
      {{0x00, 0x01, 0x00, 0x01}, {0x00, 0x01, 0x00, 0x01}},
      {{0x00, 0x00, 0x00, 0x00, 0x01}, {0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x01}},
      {{0x80}, {0x80}},
  };
  for (const auto& [rbsp, escaped] : cases) {
    bytes out;
    append_escaped(rbsp, out);
    EXPECT_EQ(out, escaped);
    EXPECT_FALSE(has_forbidden_sequence(out));
    EXPECT_EQ(unescape(out), rbsp);
  }
}

TEST(bench_escaping, round_trips_random_zero_heavy_data) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    bytes rbsp(rng() % 64);
    for (auto& b : rbsp) b = (rng() % 3 == 0) ? static_cast<std::uint8_t>(rng() % 5) : 0;
    bytes out;
    append_escaped(rbsp, out);
    ASSERT_FALSE(has_forbidden_sequence(out));
    ASSERT_EQ(unescape(out), rbsp);
  }
}

TEST(bench_escaping, reader_stops_at_the_end_even_after_an_emulation_byte) {
  const bytes nal = {0x00, 0x00, 0x03};
  rbsp_reader r(nal);
  std::uint8_t b = 0xAA;
  EXPECT_TRUE(r.next(b));
  EXPECT_TRUE(r.next(b));
  EXPECT_FALSE(r.next(b));
  EXPECT_TRUE(r.at_end());
  rbsp_reader s(nal);
  EXPECT_FALSE(s.skip(3));
}

// --- parameter sets and slices ----------------------------------------------------------

TEST(bench_h264, sps_is_constrained_baseline_128x96_poc_type_2_without_reordering) {
  const bytes sps = h264::sequence_parameter_set(13);
  EXPECT_EQ(sps[0], 0x67);  // nal_ref_idc 3, type 7
  EXPECT_FALSE(has_forbidden_sequence(sps));
  auto r = rbsp_of(sps);
  EXPECT_EQ(r.u(8), 66u);    // profile_idc
  EXPECT_EQ(r.u(8), 0xC0u);  // constraint_set0/1
  EXPECT_EQ(r.u(8), 13u);    // level_idc
  EXPECT_EQ(r.ue(), 0u);     // seq_parameter_set_id
  EXPECT_EQ(r.ue() + 4, h264::frame_num_bits);
  EXPECT_EQ(r.ue(), 2u);  // pic_order_cnt_type
  EXPECT_EQ(r.ue(), 1u);  // max_num_ref_frames
  EXPECT_EQ(r.u(1), 1u);  // gaps_in_frame_num_value_allowed_flag
  EXPECT_EQ((r.ue() + 1) * 16, 128u);
  EXPECT_EQ((r.ue() + 1) * 16, 96u);
  EXPECT_EQ(r.u(1), 1u);  // frame_mbs_only_flag
  EXPECT_EQ(r.u(1), 1u);  // direct_8x8_inference_flag
  EXPECT_EQ(r.u(1), 0u);  // frame_cropping_flag
  EXPECT_EQ(r.u(1), 1u);  // vui_parameters_present_flag
  EXPECT_EQ(r.u(4), 0u);  // aspect ratio, overscan, video signal type, chroma location: absent
  EXPECT_EQ(r.u(1), 1u);  // timing_info_present_flag
  const auto ticks = r.u(32);
  const auto scale = r.u(32);
  EXPECT_EQ(scale / (2 * ticks), 25u);  // fps = time_scale / (2 * num_units_in_tick)
  EXPECT_EQ(r.u(1), 1u);  // fixed_frame_rate_flag
  EXPECT_EQ(r.u(3), 0u);  // no HRD parameters, no pic_struct
  EXPECT_EQ(r.u(1), 1u);  // bitstream_restriction_flag
  EXPECT_EQ(r.u(1), 1u);  // motion_vectors_over_pic_boundaries_flag
  EXPECT_EQ(r.ue(), 0u);  // max_bytes_per_pic_denom
  EXPECT_EQ(r.ue(), 0u);  // max_bits_per_mb_denom
  EXPECT_EQ(r.ue(), 16u);  // log2_max_mv_length_horizontal
  EXPECT_EQ(r.ue(), 16u);  // log2_max_mv_length_vertical
  EXPECT_EQ(r.ue(), 0u);  // max_num_reorder_frames
  EXPECT_EQ(r.ue(), 1u);  // max_dec_frame_buffering
  EXPECT_TRUE(r.trailing_bits_end());
}

TEST(bench_h264, pps_is_cavlc_with_one_reference) {
  const bytes pps = h264::picture_parameter_set();
  EXPECT_EQ(pps[0], 0x68);
  auto r = rbsp_of(pps);
  EXPECT_EQ(r.ue(), 0u);  // pic_parameter_set_id
  EXPECT_EQ(r.ue(), 0u);  // seq_parameter_set_id
  EXPECT_EQ(r.u(1), 0u);  // entropy_coding_mode_flag
  EXPECT_EQ(r.u(1), 0u);  // bottom_field_pic_order_in_frame_present_flag
  EXPECT_EQ(r.ue(), 0u);  // num_slice_groups_minus1
  EXPECT_EQ(r.ue(), 0u);  // num_ref_idx_l0_default_active_minus1
  EXPECT_EQ(r.ue(), 0u);  // num_ref_idx_l1_default_active_minus1
  EXPECT_EQ(r.u(1), 0u);  // weighted_pred_flag
  EXPECT_EQ(r.u(2), 0u);  // weighted_bipred_idc
  EXPECT_EQ(r.se(), 0);   // pic_init_qp_minus26
  EXPECT_EQ(r.se(), 0);   // pic_init_qs_minus26
  EXPECT_EQ(r.se(), 0);   // chroma_qp_index_offset
  EXPECT_EQ(r.u(1), 0u);  // deblocking_filter_control_present_flag
  EXPECT_EQ(r.u(1), 0u);  // constrained_intra_pred_flag
  EXPECT_EQ(r.u(1), 0u);  // redundant_pic_cnt_present_flag
  EXPECT_TRUE(r.trailing_bits_end());
}

TEST(bench_h264, idr_slice_codes_48_intra16x16_dc_macroblocks) {
  for (std::uint32_t id : {0u, 1u, 1000u}) {
    const bytes nal = h264::idr_slice(id);
    EXPECT_EQ(nal[0], 0x65);  // nal_ref_idc 3, type 5
    EXPECT_FALSE(has_forbidden_sequence(nal));
    auto r = rbsp_of(nal);
    EXPECT_EQ(r.ue(), 0u);                     // first_mb_in_slice
    EXPECT_EQ(r.ue(), 7u);                     // slice_type I
    EXPECT_EQ(r.ue(), 0u);                     // pic_parameter_set_id
    EXPECT_EQ(r.u(h264::frame_num_bits), 0u);  // frame_num
    EXPECT_EQ(r.ue(), id);                     // idr_pic_id
    EXPECT_EQ(r.u(1), 0u);                     // no_output_of_prior_pics_flag
    EXPECT_EQ(r.u(1), 0u);                     // long_term_reference_flag
    EXPECT_EQ(r.se(), 0);                      // slice_qp_delta
    for (int mb = 0; mb < 48; ++mb) {
      EXPECT_EQ(r.ue(), 3u);  // mb_type I_16x16_2_0_0
      EXPECT_EQ(r.ue(), 0u);  // intra_chroma_pred_mode DC
      EXPECT_EQ(r.se(), 0);   // mb_qp_delta
      EXPECT_EQ(r.u(1), 1u);  // coeff_token: no DC coefficient
    }
    EXPECT_TRUE(r.trailing_bits_end());
  }
}

TEST(bench_h264, p_slice_skips_every_macroblock) {
  for (std::uint32_t frame_num : {1u, 2u, 49u, 128u, 255u}) {
    const bytes nal = h264::skipped_p_slice(frame_num);
    EXPECT_EQ(nal[0], 0x41);  // nal_ref_idc 2, type 1
    EXPECT_FALSE(has_forbidden_sequence(nal));
    auto r = rbsp_of(nal);
    EXPECT_EQ(r.ue(), 0u);  // first_mb_in_slice
    EXPECT_EQ(r.ue(), 5u);  // slice_type P
    EXPECT_EQ(r.ue(), 0u);  // pic_parameter_set_id
    EXPECT_EQ(r.u(h264::frame_num_bits), frame_num);
    EXPECT_EQ(r.u(1), 0u);  // num_ref_idx_active_override_flag
    EXPECT_EQ(r.u(1), 0u);  // ref_pic_list_modification_flag_l0
    EXPECT_EQ(r.u(1), 0u);  // adaptive_ref_pic_marking_mode_flag
    EXPECT_EQ(r.se(), 0);   // slice_qp_delta
    EXPECT_EQ(r.ue(), 48u);  // mb_skip_run
    EXPECT_TRUE(r.trailing_bits_end());
  }
}

TEST(bench_h264, filler_is_ff_bytes_and_trailing_bits) {
  bytes nal(7, 0);
  h264::write_filler(nal);
  EXPECT_EQ(nal, (bytes{0x0C, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80}));
  bytes smallest(2, 0);
  h264::write_filler(smallest);
  EXPECT_EQ(smallest, (bytes{0x0C, 0x80}));
}

TEST(bench_h264, level_follows_the_bitrate_on_the_nal_hrd) {
  EXPECT_EQ(h264::level_for_bitrate(8'000), 10);
  EXPECT_EQ(h264::level_for_bitrate(64'000 * 1200 / 1000), 10);
  EXPECT_EQ(h264::level_for_bitrate(500'000), 13);
  EXPECT_EQ(h264::level_for_bitrate(2'500'000), 21);
  EXPECT_EQ(h264::level_for_bitrate(15'000'000), 31);
  EXPECT_EQ(h264::level_for_bitrate(20'000'000), 32);
  EXPECT_EQ(h264::level_for_bitrate(1'000'000'000), 52);
}

TEST(bench_h264, sequence_header_is_an_avcc_with_4_byte_lengths) {
  const synthetic_stream s(500'000, 0);
  const auto m = s.video_sequence_header();
  const auto p = span_of(m);
  ASSERT_GT(p.size(), 5u + 11u);
  EXPECT_EQ(p[0], 0x17);
  EXPECT_EQ(p[1], 0x00);  // AVCPacketType: sequence header
  const auto c = p.subspan(5);
  EXPECT_EQ(c[0], 1);     // configurationVersion
  EXPECT_EQ(c[1], 66);    // AVCProfileIndication
  EXPECT_EQ(c[3], 13);    // AVCLevelIndication of 500 kbit/s
  EXPECT_EQ(c[4], 0xFF);  // lengthSizeMinusOne 3
  EXPECT_EQ(c[5], 0xE1);  // one SPS
  const std::size_t sps_len = (std::size_t{c[6]} << 8) | c[7];
  EXPECT_EQ(bytes(c.begin() + 8, c.begin() + 8 + sps_len), h264::sequence_parameter_set(13));
  const auto rest = c.subspan(8 + sps_len);
  EXPECT_EQ(rest[0], 1);  // one PPS
  const std::size_t pps_len = (std::size_t{rest[1]} << 8) | rest[2];
  EXPECT_EQ(bytes(rest.begin() + 3, rest.end()), h264::picture_parameter_set());
  EXPECT_EQ(pps_len, rest.size() - 3);
}

// --- stamps -----------------------------------------------------------------------------

TEST(bench_stamp, round_trips_through_an_escaped_sei) {
  const std::vector<frame_stamp> stamps = {
      {0, 0},
      {1, 2},
      {0x0000010000000300, 0x0000000300000001},  // 00 00 01 and 00 00 00 03 inside
      {0x0000010000000301, 0x0000030000020000},  // 00 00 01, 00 00 03 and 00 00 02 inside
      {0x0000000000000003, 0x0100000000000000},
      {~0ull, ~0ull},
      {0x00000000FFFFFFFF, 0x0000030000020000},
  };
  for (const auto& stamp : stamps) {
    bytes payload = {0x27, 0x01, 0x00, 0x00, 0x00};
    write_stamp(payload, stamp);
    EXPECT_LE(payload.size(), avc_header_size + max_stamp_unit_size);
    const auto units = nal_units(payload);
    ASSERT_EQ(units.size(), 1u);
    EXPECT_EQ(units[0].type, h264::nal_sei);
    EXPECT_FALSE(has_forbidden_sequence(units[0].data));
    const auto got = read_stamp(payload);
    ASSERT_TRUE(got.has_value()) << std::hex << stamp.sequence;
    EXPECT_EQ(got->sequence, stamp.sequence);
    EXPECT_EQ(got->send_ns, stamp.send_ns);
    // The RBSP holds the user_data_unregistered message as written.
    const bytes rbsp = unescape(std::span(units[0].data).subspan(1));
    ASSERT_EQ(rbsp.size(), 2u + 16 + 24 + 1);
    EXPECT_EQ(rbsp[0], 5);   // payloadType
    EXPECT_EQ(rbsp[1], 40);  // payloadSize
    EXPECT_TRUE(std::equal(stamp_uuid.begin(), stamp_uuid.end(), rbsp.begin() + 2));
    EXPECT_EQ(rbsp.back(), 0x80);
  }
  // Those bytes need emulation prevention: 00 00 01 becomes 00 00 03 01,
  // 00 00 03 becomes 00 00 03 03.
  bytes payload = {0x27, 0x01, 0x00, 0x00, 0x00};
  write_stamp(payload, {0x0000010000000301, 0x0000030000020000});
  ASSERT_EQ(read_stamp(payload)->send_ns, 0x0000030000020000u);
  const bytes nal = nal_units(payload).at(0).data;
  EXPECT_TRUE(contains(nal, {0x00, 0x00, 0x03, 0x01}));
  EXPECT_TRUE(contains(nal, {0x00, 0x00, 0x03, 0x03}));
}

TEST(bench_stamp, padding_makes_the_unit_longer_byte_for_byte) {
  const frame_stamp stamp{0, 0};  // the most emulation prevention bytes
  bytes plain;
  write_stamp(plain, stamp);
  for (std::size_t padding = 1; padding < 215; ++padding) {
    bytes padded = {0x17, 0x01, 0x00, 0x00, 0x00};
    write_stamp(padded, stamp, padding);
    ASSERT_EQ(padded.size(), avc_header_size + plain.size() + padding);
    const auto got = read_stamp(padded);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->sequence, 0u);
  }
}

TEST(bench_stamp, is_found_after_other_nal_units_and_foreign_sei) {
  bytes payload = {0x27, 0x01, 0x00, 0x00, 0x00};
  auto unit = [&](const bytes& nal) {
    payload.insert(payload.end(), {0, 0, static_cast<std::uint8_t>(nal.size() >> 8), static_cast<std::uint8_t>(nal.size())});
    payload.insert(payload.end(), nal.begin(), nal.end());
  };
  unit({0x09, 0xF0});                                    // access unit delimiter
  unit({});                                              // an empty unit
  std::array<std::uint8_t, 16> other = stamp_uuid;
  other[0] ^= 1;
  unit(h264::user_data_sei(other, bytes(24, 0x11)));     // someone else's user data
  // An SEI with a recovery point message (type 6), then our user data.
  bytes sei = {0x06, 0x06, 0x01, 0xC4, 0x05, 40};
  sei.insert(sei.end(), stamp_uuid.begin(), stamp_uuid.end());
  sei.insert(sei.end(), stamp_magic.begin(), stamp_magic.end());
  for (int i = 0; i < 8; ++i) sei.push_back(0x10);
  for (int i = 0; i < 8; ++i) sei.push_back(0x20);
  sei.push_back(0x80);
  unit(sei);
  const auto got = read_stamp(payload);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->sequence, 0x1010101010101010u);
  EXPECT_EQ(got->send_ns, 0x2020202020202020u);
}

TEST(bench_stamp, hostile_payloads_yield_nothing) {
  const std::vector<bytes> cases = {
      {},
      {0x17},
      {0x17, 0x01, 0x00, 0x00, 0x00},
      {0x17, 0x01, 0x00, 0x00, 0x00, 0x00},                    // a partial length
      {0x17, 0x01, 0x00, 0x00, 0x00, 0x52, 0x54, 0x4D, 0x50},  // "RTMP" as a length: 1381256528
      {0x17, 0x01, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x06},
      {0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x06},                // SEI without a message
      {0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x06, 0xFF, 0xFF},    // endless payloadType
      {0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x06, 0x05, 0xFF, 0xFF},  // endless payloadSize
      {0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x06, 0x05, 0x28, 0x5d},  // user data cut short
      {0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x06, 0x05, 0xFE, 0x00, 0x00},  // size beyond the unit
  };
  for (const auto& p : cases) EXPECT_FALSE(read_stamp(p).has_value()) << p.size();
  // A stamped frame as something other than an AVC NALU packet.
  const synthetic_stream s(500'000, 0);
  const auto frame = s.video_frame(1, 9, 99);
  bytes p(frame.payload.span().begin(), frame.payload.span().end());
  ASSERT_TRUE(read_stamp(p).has_value());
  p[1] = 0x00;  // AVCPacketType: sequence header
  EXPECT_FALSE(read_stamp(p).has_value());
  p[1] = 0x01;
  p[0] = 0x2C;  // CodecID 12 (HEVC)
  EXPECT_FALSE(read_stamp(p).has_value());
}

TEST(bench_stamp, truncated_and_mutated_frames_never_read_out_of_bounds) {
  const synthetic_stream s(200'000, 0);
  std::mt19937 rng(11);
  for (std::uint64_t index : {0u, 1u}) {
    const auto frame = s.video_frame(index, 0x0000010000000300, 0x0000000300000001);
    const bytes whole(frame.payload.span().begin(), frame.payload.span().end());
    // Every prefix: either the full stamp or nothing (the SEI comes first).
    for (std::size_t n = 0; n <= whole.size(); ++n) {
      // A copy of exactly n bytes, so that ASan catches any read past it.
      const bytes prefix(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
      const auto got = read_stamp(prefix);
      if (got) {
        EXPECT_EQ(got->sequence, 0x0000010000000300u);
        EXPECT_EQ(got->send_ns, 0x0000000300000001u);
      }
    }
    for (int round = 0; round < 20000; ++round) {
      bytes p(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(whole.size(), 80)));
      for (int k = 0; k < 3; ++k) p[5 + rng() % (p.size() - 5)] = static_cast<std::uint8_t>(rng());
      p.resize(5 + rng() % (p.size() - 4));
      const bytes exact(p.begin(), p.end());  // no spare capacity: ASan sees any read past the end
      (void)read_stamp(exact);
    }
  }
}

// --- frames and bitrates ----------------------------------------------------------------

TEST(bench_synthetic, frames_are_sei_slice_filler_of_exactly_the_target_size) {
  // Bitrates 216 bit/s apart change the inter frame target by one byte: the
  // remainders after stamp and slice take every value, 1 to 5 included.
  for (std::uint64_t bps = 30'000; bps < 60'000; bps += 216) {
    const synthetic_stream s(bps, 0);
    for (std::uint64_t index : {0u, 1u, 2u, 49u, 50u, 51u}) {
      for (const frame_stamp stamp : {frame_stamp{0, 0}, frame_stamp{index, 0x123456789ABCDEF}}) {
        const auto m = s.video_frame(index, stamp.sequence, stamp.send_ns);
        const bool key = index % synthetic_stream::gop == 0;
        const auto p = span_of(m);
        ASSERT_EQ(p.size(), key ? s.keyframe_bytes() : s.inter_frame_bytes()) << bps << " " << index;
        EXPECT_EQ(p[0], key ? 0x17 : 0x27);
        EXPECT_EQ(m.timestamp, index * 40);
        const auto units = nal_units(p);
        ASSERT_GE(units.size(), 2u);
        ASSERT_LE(units.size(), 3u);
        EXPECT_EQ(units[0].type, h264::nal_sei);
        EXPECT_EQ(units[1].type, key ? h264::nal_idr : h264::nal_slice);
        if (units.size() == 3) {
          EXPECT_EQ(units[2].type, h264::nal_filler);
          EXPECT_EQ(units[2].data.back(), 0x80);
        }
        for (const auto& u : units) EXPECT_FALSE(has_forbidden_sequence(u.data));
        const auto got = read_stamp(p);
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ(got->sequence, stamp.sequence);
        EXPECT_EQ(got->send_ns, stamp.send_ns);
      }
    }
  }
}

TEST(bench_synthetic, frame_num_counts_from_each_idr_and_idr_pic_id_alternates) {
  const synthetic_stream s(500'000, 0);
  for (std::uint64_t index = 0; index < 3 * synthetic_stream::gop; ++index) {
    const auto units = nal_units(span_of(s.video_frame(index, index, 0)));
    ASSERT_GE(units.size(), 2u);
    auto r = rbsp_of(units[1].data);
    r.ue();
    r.ue();
    r.ue();
    EXPECT_EQ(r.u(h264::frame_num_bits), index % synthetic_stream::gop);
    if (index % synthetic_stream::gop == 0) {
      EXPECT_EQ(r.ue(), (index / synthetic_stream::gop) % 2);
    }
  }
}

TEST(bench_synthetic, a_gop_carries_the_requested_bitrate) {
  for (std::uint64_t bps : {14'200ull, 20'000ull, 100'000ull, 500'000ull, 2'500'000ull, 12'345'678ull, 100'000'000ull}) {
    const synthetic_stream s(bps, 0);
    std::uint64_t gop_bytes = 0;
    for (std::uint64_t i = 0; i < synthetic_stream::gop; ++i) gop_bytes += s.video_frame(i, i, 0).payload.size();
    // Two seconds of video: bps / 4 bytes exactly (rounded down).
    EXPECT_EQ(gop_bytes, bps * 2 / 8) << bps;
    if (bps < 20'000) continue;  // inter frames at their smallest size: the keyframe takes the rest
    // A keyframe: five inter frames and the remainder of the division by 54.
    EXPECT_GE(s.keyframe_bytes(), s.inter_frame_bytes() * synthetic_stream::keyframe_weight) << bps;
    EXPECT_LT(s.keyframe_bytes(), s.inter_frame_bytes() * synthetic_stream::keyframe_weight + 54) << bps;
  }
}

TEST(bench_synthetic, below_the_smallest_frames_every_frame_has_its_smallest_size) {
  const synthetic_stream s(8'000, 0);  // the smallest --bitrate; the frames make about 14.2 kbit/s
  // Stamp and slice with room for the most emulation prevention bytes.
  EXPECT_EQ(s.inter_frame_bytes(), avc_header_size + max_stamp_unit_size + 4 + h264::skipped_p_slice(1).size());
  EXPECT_EQ(s.keyframe_bytes(), avc_header_size + max_stamp_unit_size + 4 +
                                    std::max(h264::idr_slice(0).size(), h264::idr_slice(1).size()));
  EXPECT_EQ(s.video_frame(1, 0, 0).payload.size(), s.inter_frame_bytes());
  EXPECT_EQ(s.video_frame(0, 0, 0).payload.size(), s.keyframe_bytes());
}

// The elements of an AAC raw_data_block, parsed back: CPE, FIL..., END.
struct aac_block {
  int cpes = 0;
  std::size_t fill_bytes = 0;
  bool ended = false;
  std::size_t bits_after_end = 0;
};

aac_block parse_aac(std::span<const std::uint8_t> raw) {
  aac_block out;
  bit_reader r(bytes(raw.begin(), raw.end()));
  for (;;) {
    const auto id = r.u(3);
    if (id == 7) {
      out.ended = true;
      break;
    }
    if (id == 1) {  // CPE
      EXPECT_EQ(r.u(4), 0u);  // element_instance_tag
      EXPECT_EQ(r.u(1), 0u);  // common_window
      for (int ch = 0; ch < 2; ++ch) {
        r.u(8);                 // global_gain
        EXPECT_EQ(r.u(1), 0u);  // ics_reserved_bit
        EXPECT_EQ(r.u(2), 0u);  // window_sequence
        r.u(1);                 // window_shape
        EXPECT_EQ(r.u(6), 0u);  // max_sfb
        EXPECT_EQ(r.u(1), 0u);  // predictor_data_present
        EXPECT_EQ(r.u(1), 0u);  // pulse
        EXPECT_EQ(r.u(1), 0u);  // tns
        EXPECT_EQ(r.u(1), 0u);  // gain control
      }
      ++out.cpes;
      continue;
    }
    EXPECT_EQ(id, 6u) << "an element other than CPE, FIL, END";
    if (id != 6) break;
    std::size_t cnt = r.u(4);
    if (cnt == 15) cnt += r.u(8) - 1;
    if (cnt > 0) {
      EXPECT_EQ(r.u(4), 0u);  // EXT_FILL
      EXPECT_EQ(r.u(4), 0u);  // fill_nibble
      for (std::size_t i = 1; i < cnt; ++i) EXPECT_EQ(r.u(8), 0xA5u);
    }
    out.fill_bytes += cnt;
  }
  out.bits_after_end = r.left();
  while (r.left() > 0) EXPECT_EQ(r.u(1), 0u);
  return out;
}

TEST(bench_synthetic, audio_frames_are_silent_aac_of_exactly_the_target_size) {
  const synthetic_stream none(500'000, 0);
  EXPECT_FALSE(none.has_audio());
  const auto config = none.audio_sequence_header();
  EXPECT_EQ(bytes(config.payload.span().begin(), config.payload.span().end()), (bytes{0xAF, 0x00, 0x12, 0x10}));
  // Every size from the smallest (7-byte block) to a few fill elements' worth.
  for (std::uint64_t bytes_per_frame = 1; bytes_per_frame < 900; ++bytes_per_frame) {
    const std::uint64_t bps = (bytes_per_frame * 8 * 44100 + 1023) / 1024;
    const synthetic_stream s(500'000, bps);
    ASSERT_TRUE(s.has_audio());
    const auto m = s.audio_frame(3);
    const auto p = span_of(m);
    ASSERT_EQ(p.size(), std::max<std::size_t>(synthetic_stream::min_audio_frame_bytes, bytes_per_frame)) << bps;
    EXPECT_EQ(m.timestamp, 3u * 1024 * 1000 / 44100);
    EXPECT_EQ(p[0], 0xAF);
    EXPECT_EQ(p[1], 0x01);
    const auto block = parse_aac(p.subspan(2));
    EXPECT_EQ(block.cpes, 1);
    EXPECT_TRUE(block.ended);
    EXPECT_LT(block.bits_after_end, 8u) << p.size();
  }
}

// --- ffmpeg and ffprobe -----------------------------------------------------------------

// Writes `seconds` of the synthetic stream (video at `video_bps`, audio at
// `audio_bps`) as an FLV file, leaving out the video frames `drop` says;
// returns the number of video and audio frames written.
std::pair<std::size_t, std::size_t> write_flv(const std::string& path, std::uint64_t video_bps, std::uint64_t audio_bps,
                                              int seconds, const std::function<bool(std::uint64_t)>& drop = {}) {
  const synthetic_stream s(video_bps, audio_bps);
  rtmp::proto::flv_writer w({.has_audio = audio_bps > 0, .has_video = true});
  bytes out;
  EXPECT_FALSE(w.write_tag(18, 0, s.metadata(), out));
  EXPECT_FALSE(w.write_tag(9, 0, span_of(s.video_sequence_header()), out));
  if (s.has_audio()) {
    EXPECT_FALSE(w.write_tag(8, 0, span_of(s.audio_sequence_header()), out));
  }
  std::size_t video = 0;
  std::size_t audio = 0;
  std::uint64_t vi = 0;
  std::uint64_t ai = 0;
  const std::uint64_t end_us = static_cast<std::uint64_t>(seconds) * 1'000'000;
  for (;;) {
    const std::uint64_t vt = synthetic_stream::video_time_ms(vi) * 1000;
    const std::uint64_t at = s.has_audio() ? synthetic_stream::audio_time_us(ai) : ~0ull;
    if (std::min(vt, at) >= end_us) break;
    if (at < vt) {
      const auto m = s.audio_frame(ai++);
      EXPECT_FALSE(w.write_tag(8, m.timestamp, span_of(m), out));
      ++audio;
    } else {
      const auto m = s.video_frame(vi, vi, 0);
      if (!drop || !drop(vi)) {
        EXPECT_FALSE(w.write_tag(9, m.timestamp, span_of(m), out));
        ++video;
      }
      ++vi;
    }
  }
  rtmp::test::write_binary(path, out);
  return {video, audio};
}

class bench_synthetic_ffmpeg : public ::testing::Test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg") && rtmp::test::have_program("ffprobe"),
                      "ffmpeg/ffprobe not installed");
  }

  // ffmpeg decodes the whole file, stopping at the first bitstream or
  // buffer error its decoders detect or the first frame they had to
  // conceal (-xerror): its warning and error lines ("" when none).
  std::string ffmpeg_errors(const std::string& flv) {
    const std::string err = dir_.file("ffmpeg-err.txt");
    const int rc = rtmp::test::run("ffmpeg -nostdin -v warning -xerror -err_detect +bitstream+buffer+explode -i '" +
                                       flv + "' -f null - 2>'" + err + "'",
                                   60s);
    EXPECT_EQ(rc, 0);
    return rtmp::test::read_text(err);
  }

  // ffprobe's streams of the file, each frame decoded and counted.
  nlohmann::json ffprobe_streams(const std::string& flv) {
    const std::string out = dir_.file("ffprobe.json");
    const std::string err = dir_.file("ffprobe-err.txt");
    const int rc = rtmp::test::run("ffprobe -v error -count_frames -show_entries "
                                   "stream=codec_name,profile,width,height,sample_rate,channels,nb_read_frames "
                                   "-of json '" + flv + "' >'" + out + "' 2>'" + err + "'",
                                   60s);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(rtmp::test::read_text(err), "");
    auto j = nlohmann::json::parse(rtmp::test::read_text(out), nullptr, false);
    return j.is_object() ? j["streams"] : nlohmann::json::array();
  }

  // The stream of `codec` among `streams` (null when none).
  static nlohmann::json stream_of(const nlohmann::json& streams, const std::string& codec) {
    for (const auto& s : streams) {
      if (s.value("codec_name", "") == codec) return s;
    }
    return nullptr;
  }

  rtmp::test::temp_dir dir_;
};

TEST_F(bench_synthetic_ffmpeg, decodes_every_frame_without_an_error) {
  const std::string flv = dir_.file("synthetic.flv");
  const auto [video, audio] = write_flv(flv, 500'000, 64'000, 4);
  EXPECT_EQ(video, 100u);
  EXPECT_EQ(ffmpeg_errors(flv), "");
  const auto streams = ffprobe_streams(flv);
  const auto v = stream_of(streams, "h264");
  const auto a = stream_of(streams, "aac");
  ASSERT_TRUE(v.is_object()) << streams.dump();
  ASSERT_TRUE(a.is_object()) << streams.dump();
  EXPECT_EQ(v["width"].get<int>(), 128);
  EXPECT_EQ(v["height"].get<int>(), 96);
  EXPECT_EQ(v["profile"].get<std::string>(), "Constrained Baseline");
  EXPECT_EQ(v["nb_read_frames"].get<std::string>(), std::to_string(video));
  EXPECT_EQ(a["profile"].get<std::string>(), "LC");
  EXPECT_EQ(a["sample_rate"].get<std::string>(), "44100");
  EXPECT_EQ(a["channels"].get<int>(), 2);
  EXPECT_EQ(a["nb_read_frames"].get<std::string>(), std::to_string(audio));
}

TEST_F(bench_synthetic_ffmpeg, high_and_low_bitrates_decode_too) {
  for (const auto& [video_bps, audio_bps] : {std::pair<std::uint64_t, std::uint64_t>{8'000, 8'000},
                                             {8'000'000, 320'000}}) {
    const std::string flv = dir_.file("synthetic-" + std::to_string(video_bps) + ".flv");
    const auto [video, audio] = write_flv(flv, video_bps, audio_bps, 2);
    EXPECT_EQ(ffmpeg_errors(flv), "") << video_bps;
    const auto streams = ffprobe_streams(flv);
    const auto v = stream_of(streams, "h264");
    const auto a = stream_of(streams, "aac");
    ASSERT_TRUE(v.is_object() && a.is_object()) << streams.dump();
    EXPECT_EQ(v["nb_read_frames"].get<std::string>(), std::to_string(video));
    EXPECT_EQ(a["nb_read_frames"].get<std::string>(), std::to_string(audio));
  }
}

TEST_F(bench_synthetic_ffmpeg, frames_left_out_are_frame_num_gaps_not_errors) {
  // What a publisher that skips frames, or a server that drops them, makes.
  const std::string flv = dir_.file("gaps.flv");
  const auto [video, audio] = write_flv(flv, 300'000, 0, 4, [](std::uint64_t i) { return i % 7 == 3 || i % 50 > 45; });
  EXPECT_LT(video, 100u);
  EXPECT_EQ(ffmpeg_errors(flv), "");
  const auto v = stream_of(ffprobe_streams(flv), "h264");
  ASSERT_TRUE(v.is_object());
  EXPECT_GE(std::stoul(v["nb_read_frames"].get<std::string>()), video);
}

}  // namespace
