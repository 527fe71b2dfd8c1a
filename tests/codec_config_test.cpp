// Decoder configuration parsing for the operator API: the bit reader, HEVC
// (hvcC -> SPS), AV1 (av1C -> sequence header OBU), and whole E-RTMP tag
// bodies. Inputs are real records (tests/support/ertmp_samples.hpp) and
// records assembled here field by field.
#include "rtmp/proto/codec_config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/ertmp_samples.hpp"

namespace {

using namespace rtmp::proto;
namespace ertmp = rtmp::test::ertmp;
using bytes = std::vector<std::uint8_t>;

// Writes bits most-significant first, as the parsers read them.
class bit_writer {
 public:
  // n <= 64.
  void bits(std::uint64_t value, unsigned n) {
    for (unsigned i = n; i-- > 0;) bit(((value >> i) & 1u) != 0);
  }
  void bit(bool b) {
    if (used_ % 8 == 0) out_.push_back(0);
    if (b) out_.back() |= static_cast<std::uint8_t>(0x80u >> (used_ % 8));
    ++used_;
  }
  // ue(v): zeros, then value + 1 in binary.
  void ue(std::uint32_t value) {
    const std::uint64_t code = std::uint64_t{value} + 1;
    unsigned len = 0;
    while ((code >> len) > 1) ++len;
    bits(0, len);
    bits(code, len + 1);
  }
  // Pads with 1 then zeros (rbsp_trailing_bits).
  bytes finish() {
    bit(true);
    return out_;
  }

 private:
  bytes out_;
  std::size_t used_ = 0;
};

// --- bit_reader --------------------------------------------------------------------

TEST(bit_reader, reads_msb_first_and_latches_past_the_end) {
  const bytes data{0b1010'0000, 0xff};
  bit_reader r(data);
  EXPECT_EQ(r.bits(3), 0b101u);
  EXPECT_EQ(r.bits(5), 0u);
  EXPECT_EQ(r.bits(8), 0xffu);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.bits_left(), 0u);
  EXPECT_EQ(r.bits(1), 0u);  // past the end
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.bits(8), 0u);  // stays failed
  EXPECT_FALSE(r.ok());
}

TEST(bit_reader, bits_over_32_fail) {
  const bytes data(16, 0xff);
  bit_reader r(data);
  EXPECT_EQ(r.bits(32), 0xffffffffu);
  EXPECT_EQ(r.bits(33), 0u);
  EXPECT_FALSE(r.ok());
}

TEST(bit_reader, exp_golomb) {
  // 1 -> 0, 010 -> 1, 011 -> 2, 00100 -> 3, 0001000 -> 7 (H.265 table 9-2).
  const bytes data{0b1010'0110, 0b0100'0001, 0b0000'0000};
  bit_reader r(data);
  EXPECT_EQ(r.ue(), 0u);
  EXPECT_EQ(r.ue(), 1u);
  EXPECT_EQ(r.ue(), 2u);
  EXPECT_EQ(r.ue(), 3u);
  EXPECT_EQ(r.ue(), 7u);
  EXPECT_TRUE(r.ok());
}

TEST(bit_reader, exp_golomb_limits) {
  bit_writer w;
  w.ue(0xfffffffe);  // 31 zeros: the largest code
  const bytes big = w.finish();
  bit_reader ok_reader(big);
  EXPECT_EQ(ok_reader.ue(), 0xfffffffeu);
  EXPECT_TRUE(ok_reader.ok());

  const bytes zeros(8, 0x00);  // 64 zero bits: no terminating 1 within 31
  bit_reader r(zeros);
  EXPECT_EQ(r.ue(), 0u);
  EXPECT_FALSE(r.ok());

  const bytes truncated{0b0001'0000};  // 0001000 (7) and one bit more
  bit_reader t(std::span<const std::uint8_t>(truncated.data(), 1));
  EXPECT_EQ(t.ue(), 7u);
  EXPECT_EQ(t.ue(), 0u);  // one bit left, a zero, then the end
  EXPECT_FALSE(t.ok());
}

TEST(bit_reader, uvlc) {
  // AV1 4.10.3: like ue(v), and 32+ leading zeros give 2^32 - 1.
  const bytes data{0b0100'0000};
  bit_reader r(data);
  EXPECT_EQ(r.uvlc(), 1u);
  const bytes many_zeros{0, 0, 0, 0, 0x80};  // 32 zeros then a 1
  bit_reader m(many_zeros);
  EXPECT_EQ(m.uvlc(), 0xffffffffu);
  EXPECT_TRUE(m.ok());
  const bytes all_zeros(6, 0);
  bit_reader z(all_zeros);
  z.uvlc();
  EXPECT_FALSE(z.ok());
}

// --- HEVC ---------------------------------------------------------------------------

TEST(hevc_config, real_x265_record_with_conformance_window) {
  video_size size;
  ASSERT_TRUE(hevc_config_size(ertmp::hvcc_1278x718(), size));
  EXPECT_EQ(size.width, 1278u);
  EXPECT_EQ(size.height, 718u);
}

// An SPS assembled field by field (H.265 7.3.2.2): 2 sub-layers with a
// sub-layer profile and level (profile_tier_level's sub-layer loops), 4:2:2
// (SubWidthC 2, SubHeightC 1), 1920x1088 coded, window bottom 8 -> 1080.
bytes assembled_sps(unsigned chroma_format_idc, std::uint32_t width, std::uint32_t height, bool window,
                    std::uint32_t right, std::uint32_t bottom) {
  bit_writer w;
  w.bits(0, 1);    // forbidden_zero_bit
  w.bits(33, 6);   // nal_unit_type SPS
  w.bits(0, 6);    // nuh_layer_id
  w.bits(1, 3);    // nuh_temporal_id_plus1
  w.bits(0, 4);    // sps_video_parameter_set_id
  w.bits(1, 3);    // sps_max_sub_layers_minus1 = 1
  w.bits(1, 1);    // sps_temporal_id_nesting_flag
  // profile_tier_level(1, 1): 96 bits of general fields.
  w.bits(0x01, 8);            // profile space 0, tier 0, profile_idc 1
  w.bits(0x60000000, 32);     // compatibility flags
  w.bits(0x900000000000, 48); // progressive, frame only, ... reserved
  w.bits(120, 8);             // general_level_idc (4.0)
  w.bits(1, 1);    // sub_layer_profile_present_flag[0]
  w.bits(1, 1);    // sub_layer_level_present_flag[0]
  for (int i = 1; i < 8; ++i) w.bits(0, 2);  // reserved_zero_2bits
  w.bits(0x1234, 16);  // sub-layer profile: 88 bits in all
  w.bits(0, 40);
  w.bits(0, 32);
  w.bits(90, 8);   // sub_layer_level_idc[0]
  w.ue(0);         // sps_seq_parameter_set_id
  w.ue(chroma_format_idc);
  if (chroma_format_idc == 3) w.bits(0, 1);  // separate_colour_plane_flag
  w.ue(width);
  w.ue(height);
  w.bits(window ? 1 : 0, 1);
  if (window) {
    w.ue(0);  // left
    w.ue(right);
    w.ue(0);  // top
    w.ue(bottom);
  }
  w.ue(0);  // bit_depth_luma_minus8 (the parser stops before; present for realism)
  return w.finish();
}

TEST(hevc_sps, assembled_with_sub_layers) {
  video_size size;
  ASSERT_TRUE(hevc_sps_size(assembled_sps(2, 1920, 1088, true, 0, 8), size));
  EXPECT_EQ(size.width, 1920u);
  EXPECT_EQ(size.height, 1080u);  // 4:2:2: SubHeightC 1, so 8 rows
  ASSERT_TRUE(hevc_sps_size(assembled_sps(1, 1920, 1088, true, 3, 4), size));
  EXPECT_EQ(size.width, 1914u);   // 4:2:0: 2 * 3
  EXPECT_EQ(size.height, 1080u);  // 2 * 4
  ASSERT_TRUE(hevc_sps_size(assembled_sps(0, 640, 480, true, 3, 4), size));
  EXPECT_EQ(size.width, 637u);  // monochrome: offsets in luma samples
  EXPECT_EQ(size.height, 476u);
  ASSERT_TRUE(hevc_sps_size(assembled_sps(3, 3840, 2160, false, 0, 0), size));
  EXPECT_EQ(size.width, 3840u);
  EXPECT_EQ(size.height, 2160u);
}

TEST(hevc_sps, rejects_nonsense) {
  video_size size;
  EXPECT_FALSE(hevc_sps_size(assembled_sps(1, 0, 720, false, 0, 0), size));       // zero width
  EXPECT_FALSE(hevc_sps_size(assembled_sps(1, 64, 64, true, 32, 0), size));       // window eats the picture
  EXPECT_FALSE(hevc_sps_size(assembled_sps(5, 64, 64, false, 0, 0), size));       // chroma_format_idc > 3
  bytes not_sps = assembled_sps(1, 64, 64, false, 0, 0);
  not_sps[0] = 0x40;  // type 32 (VPS)
  EXPECT_FALSE(hevc_sps_size(not_sps, size));
  EXPECT_FALSE(hevc_sps_size({}, size));
}

TEST(hevc_config, every_truncation_fails_cleanly) {
  const bytes full = ertmp::hvcc_1278x718();
  // Cut anywhere before the end of the SPS, nothing parses (and nothing
  // reads out of bounds: ASan runs this too).
  const std::size_t sps_end = 23 + 5 + 24 + 5 + 44;
  for (std::size_t n = 0; n < sps_end; ++n) {
    video_size size;
    EXPECT_FALSE(hevc_config_size(std::span<const std::uint8_t>(full.data(), n), size)) << n;
  }
  video_size size;
  EXPECT_TRUE(hevc_config_size(std::span<const std::uint8_t>(full.data(), sps_end), size));
}

TEST(hevc_config, hostile_counts) {
  bytes rec = ertmp::hvcc_1278x718();
  rec.resize(23);
  rec[22] = 0xff;  // 255 arrays announced, none present
  video_size size;
  EXPECT_FALSE(hevc_config_size(rec, size));
  rec.insert(rec.end(), {0x21, 0xff, 0xff, 0xff, 0xff});  // 65535 SPSs of 65535 bytes, none present
  EXPECT_FALSE(hevc_config_size(rec, size));
}

// --- AV1 ----------------------------------------------------------------------------

TEST(av1_config, real_libaom_record) {
  video_size size;
  ASSERT_TRUE(av1_config_size(ertmp::av1c_642x362(), size));
  EXPECT_EQ(size.width, 642u);
  EXPECT_EQ(size.height, 362u);
}

// sequence_header_obu() with timing info, a decoder model and two operating
// points (AV1 spec 5.5.1-5.5.5), 3840x2160.
bytes assembled_av1_sequence_header() {
  bit_writer w;
  w.bits(0, 3);   // seq_profile
  w.bits(0, 1);   // still_picture
  w.bits(0, 1);   // reduced_still_picture_header
  w.bits(1, 1);   // timing_info_present_flag
  w.bits(1001, 32);   // num_units_in_display_tick
  w.bits(60000, 32);  // time_scale
  w.bits(1, 1);       // equal_picture_interval
  w.bits(0b010, 3);   // num_ticks_per_picture_minus_1 uvlc = 1
  w.bits(1, 1);       // decoder_model_info_present_flag
  w.bits(9, 5);       // buffer_delay_length_minus_1 -> 10-bit delays
  w.bits(1001, 32);   // num_units_in_decoding_tick
  w.bits(4, 5);       // buffer_removal_time_length_minus_1
  w.bits(4, 5);       // frame_presentation_time_length_minus_1
  w.bits(1, 1);       // initial_display_delay_present_flag
  w.bits(1, 5);       // operating_points_cnt_minus_1 -> 2 points
  // point 0: idc, level 12 (> 7: has a tier), decoder model, display delay
  w.bits(0x103, 12);
  w.bits(12, 5);
  w.bits(1, 1);  // seq_tier
  w.bits(1, 1);  // decoder_model_present_for_this_op
  w.bits(300, 10);
  w.bits(200, 10);
  w.bits(0, 1);  // low_delay_mode_flag
  w.bits(1, 1);  // initial_display_delay_present_for_this_op
  w.bits(9, 4);  // initial_display_delay_minus_1
  // point 1: level 5 (no tier), no model, no delay
  w.bits(0x101, 12);
  w.bits(5, 5);
  w.bits(0, 1);
  w.bits(0, 1);
  w.bits(11, 4);  // frame_width_bits_minus_1 -> 12 bits
  w.bits(11, 4);  // frame_height_bits_minus_1 -> 12 bits
  w.bits(3839, 12);
  w.bits(2159, 12);
  w.bits(0, 1);  // frame_id_numbers_present_flag ...
  return w.finish();
}

TEST(av1_sequence_header, assembled_with_timing_and_decoder_model) {
  video_size size;
  const bytes payload = assembled_av1_sequence_header();
  ASSERT_TRUE(av1_sequence_header_size(payload, size));
  EXPECT_EQ(size.width, 3840u);
  EXPECT_EQ(size.height, 2160u);
  // The same OBU inside an av1C, without obu_size (the last OBU may omit it)
  // and behind a temporal delimiter with an extension byte.
  bytes rec{0x81, 0x09, 0x0c, 0x00,
            0x16, 0x00, 0x00,  // OBU_TEMPORAL_DELIMITER (2), extension, size 0
            0x08};             // OBU_SEQUENCE_HEADER, no size field: the rest
  rec.insert(rec.end(), payload.begin(), payload.end());
  ASSERT_TRUE(av1_config_size(rec, size));
  EXPECT_EQ(size.width, 3840u);
}

TEST(av1_sequence_header, reduced_still_picture) {
  bit_writer w;
  w.bits(0, 3);
  w.bits(1, 1);   // still_picture
  w.bits(1, 1);   // reduced_still_picture_header
  w.bits(8, 5);   // seq_level_idx[0]
  w.bits(7, 4);   // 8-bit width
  w.bits(6, 4);   // 7-bit height
  w.bits(199, 8);
  w.bits(99, 7);
  video_size size;
  ASSERT_TRUE(av1_sequence_header_size(w.finish(), size));
  EXPECT_EQ(size.width, 200u);
  EXPECT_EQ(size.height, 100u);
}

TEST(av1_config, truncations_and_bad_records) {
  const bytes full = ertmp::av1c_642x362();
  for (std::size_t n = 0; n + 3 < full.size(); ++n) {  // up to and inside the size fields
    video_size size;
    EXPECT_FALSE(av1_config_size(std::span<const std::uint8_t>(full.data(), n), size)) << n;
  }
  video_size size;
  bytes bad_marker = full;
  bad_marker[0] = 0x01;
  EXPECT_FALSE(av1_config_size(bad_marker, size));
  bytes long_size = full;
  long_size[5] = 0x7f;  // obu_size 127 > what is left
  EXPECT_FALSE(av1_config_size(long_size, size));
  bytes endless_leb{0x81, 0x01, 0x0c, 0x00, 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  EXPECT_FALSE(av1_config_size(endless_leb, size));  // leb128 over 8 bytes
  bytes no_sequence_header{0x81, 0x01, 0x0c, 0x00, 0x12, 0x00};  // a temporal delimiter only
  EXPECT_FALSE(av1_config_size(no_sequence_header, size));
}

// --- whole tag bodies ----------------------------------------------------------------

TEST(describe_video_config, enhanced_hevc_av1_vp9) {
  auto hevc = describe_video_config(ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "hvc1",
                                                     ertmp::hvcc_1278x718()));
  EXPECT_EQ(hevc.codec, "HEVC");
  ASSERT_TRUE(hevc.has_size);
  EXPECT_EQ(hevc.size.width, 1278u);
  EXPECT_EQ(hevc.size.height, 718u);

  auto av1 = describe_video_config(ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "av01",
                                                    ertmp::av1c_642x362()));
  EXPECT_EQ(av1.codec, "AV1");
  ASSERT_TRUE(av1.has_size);
  EXPECT_EQ(av1.size.width, 642u);
  EXPECT_EQ(av1.size.height, 362u);

  auto vp9 = describe_video_config(ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "vp09", ertmp::vpcc()));
  EXPECT_EQ(vp9.codec, "VP9");
  EXPECT_FALSE(vp9.has_size);  // vpcC has no size: the API falls back to onMetaData
}

TEST(describe_video_config, legacy_hevc_and_avc) {
  bytes legacy_hevc{0x1c, 0x00, 0x00, 0x00, 0x00};  // key, CodecID 12, AVCPacketType 0, CTS 0
  const bytes rec = ertmp::hvcc_1278x718();
  legacy_hevc.insert(legacy_hevc.end(), rec.begin(), rec.end());
  auto hevc = describe_video_config(legacy_hevc);
  EXPECT_EQ(hevc.codec, "HEVC");
  EXPECT_TRUE(hevc.has_size);
  EXPECT_EQ(hevc.size.width, 1278u);

  auto avc = describe_video_config(bytes{0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f});
  EXPECT_EQ(avc.codec, "H264");
  EXPECT_FALSE(avc.has_size);
}

TEST(describe_video_config, coded_frames_give_codec_only) {
  auto info = describe_video_config(ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames, "hvc1",
                                                     ertmp::hvcc_1278x718()));
  EXPECT_EQ(info.codec, "HEVC");
  EXPECT_FALSE(info.has_size);
}

TEST(describe_video_config, multitrack_uses_the_lowest_track) {
  // ManyTracksManyCodecs: track 1 AV1 first on the wire, track 0 HEVC second.
  const bytes tag = ertmp::multitrack_video_tag(
      ertmp::key_frame, ertmp::sequence_start, ertmp::many_tracks_many_codecs, nullptr,
      {{1, "av01", ertmp::av1c_642x362()}, {0, "hvc1", ertmp::hvcc_1278x718()}});
  auto info = describe_video_config(tag);
  EXPECT_EQ(info.codec, "HEVC");
  ASSERT_TRUE(info.has_size);
  EXPECT_EQ(info.size.width, 1278u);
}

TEST(describe_video_config, every_truncation_is_safe) {
  const bytes tag = ertmp::multitrack_video_tag(
      ertmp::key_frame, ertmp::sequence_start, ertmp::many_tracks, "hvc1",
      {{0, nullptr, ertmp::hvcc_1278x718()}, {1, nullptr, ertmp::hvcc_1278x718()}});
  for (std::size_t n = 0; n <= tag.size(); ++n) {
    (void)describe_video_config(std::span<const std::uint8_t>(tag.data(), n));
  }
  EXPECT_TRUE(describe_video_config(tag).has_size);
}

}  // namespace
