// The MPEG-2 transport stream muxer (ISO/IEC 13818-1): its output parsed back
// packet by packet with the small parser below: packet structure, continuity
// counters, PAT/PMT and their CRC, PES headers and timestamps, the PCR,
// Annex B conversion of AVC, ADTS headers of AAC, and what is refused.
#include "rtmp/hls/ts_muxer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace rtmp::hls {
namespace {

using bytes = std::vector<std::uint8_t>;

// ---------------------------------------------------------------------------
// A transport stream parser for the checks.

struct ts_packet {
  std::uint16_t pid = 0;
  bool unit_start = false;
  std::uint8_t cc = 0;
  bool has_adaptation = false;
  std::size_t adaptation_length = 0;  // adaptation_field_length
  std::uint8_t adaptation_flags = 0;  // 0 when the field is a single length byte
  bytes stuffing;                     // what follows the flags and the PCR
  std::optional<std::uint64_t> pcr_base;
  std::uint16_t pcr_extension = 0;
  bytes payload;
};

std::vector<ts_packet> parse_ts(const bytes& ts) {
  std::vector<ts_packet> out;
  EXPECT_EQ(ts.size() % ts_packet_size, 0u) << "not a whole number of packets";
  for (std::size_t at = 0; at + ts_packet_size <= ts.size(); at += ts_packet_size) {
    const std::uint8_t* p = ts.data() + at;
    EXPECT_EQ(p[0], 0x47) << "sync byte of the packet at " << at;
    ts_packet k;
    k.unit_start = (p[1] & 0x40) != 0;
    k.pid = static_cast<std::uint16_t>(((p[1] & 0x1F) << 8) | p[2]);
    EXPECT_EQ((p[1] & 0x80) | (p[3] & 0xC0), 0) << "transport_error_indicator or scrambling_control";
    const int control = (p[3] >> 4) & 3;
    EXPECT_TRUE(control & 1) << "every packet we write carries payload";
    k.cc = p[3] & 0x0F;
    std::size_t pos = 4;
    if (control & 2) {
      k.has_adaptation = true;
      k.adaptation_length = p[4];
      EXPECT_LE(k.adaptation_length, 182u);  // with payload (2.4.3.5)
      const std::size_t end = 5 + k.adaptation_length;
      if (k.adaptation_length > 0) {
        k.adaptation_flags = p[5];
        std::size_t f = 6;
        if (p[5] & 0x10) {
          k.pcr_base = (std::uint64_t{p[6]} << 25) | (std::uint64_t{p[7]} << 17) | (std::uint64_t{p[8]} << 9) |
                       (std::uint64_t{p[9]} << 1) | (p[10] >> 7);
          EXPECT_EQ(p[10] & 0x7E, 0x7E) << "PCR reserved bits";
          k.pcr_extension = static_cast<std::uint16_t>(((p[10] & 1) << 8) | p[11]);
          f += 6;
        }
        k.stuffing.assign(p + f, p + end);
      }
      pos = end;
    }
    k.payload.assign(p + pos, p + ts_packet_size);
    out.push_back(std::move(k));
  }
  return out;
}

// The PES packets of `pid`: payloads from one unit start to the next.
std::vector<bytes> pes_of(const std::vector<ts_packet>& all, std::uint16_t pid) {
  std::vector<bytes> out;
  for (const auto& k : all) {
    if (k.pid != pid) continue;
    EXPECT_TRUE(k.unit_start || !out.empty()) << "PES continuation without a start";
    if (k.unit_start || out.empty()) out.emplace_back();
    out.back().insert(out.back().end(), k.payload.begin(), k.payload.end());
  }
  return out;
}

struct pes_packet {
  std::uint8_t stream_id = 0;
  std::uint16_t packet_length = 0;
  std::uint8_t flags = 0;  // PTS_DTS_flags << 6 | ...
  std::uint8_t header_data_length = 0;
  std::optional<std::uint64_t> pts;
  std::optional<std::uint64_t> dts;
  bytes data;  // the elementary stream bytes
};

std::uint64_t read_timestamp(const std::uint8_t* p, std::uint8_t prefix) {
  EXPECT_EQ(p[0] >> 4, prefix);
  EXPECT_TRUE((p[0] & 1) && (p[2] & 1) && (p[4] & 1)) << "marker bits";
  return (std::uint64_t{p[0] & 0x0Eu} << 29) | (std::uint64_t{p[1]} << 22) | (std::uint64_t{p[2] & 0xFEu} << 14) |
         (std::uint64_t{p[3]} << 7) | (p[4] >> 1);
}

pes_packet parse_pes(const bytes& b) {
  pes_packet pes;
  if (b.size() < 9) {
    ADD_FAILURE() << "PES shorter than its header";
    return pes;
  }
  EXPECT_EQ(bytes(b.begin(), b.begin() + 3), (bytes{0x00, 0x00, 0x01})) << "packet_start_code_prefix";
  pes.stream_id = b[3];
  pes.packet_length = static_cast<std::uint16_t>((b[4] << 8) | b[5]);
  EXPECT_EQ(b[6] & 0xC0, 0x80) << "'10' marker";
  pes.flags = b[7];
  pes.header_data_length = b[8];
  const int pts_dts = b[7] >> 6;
  if (pts_dts == 2) pes.pts = read_timestamp(b.data() + 9, 2);
  if (pts_dts == 3) {
    pes.pts = read_timestamp(b.data() + 9, 3);
    pes.dts = read_timestamp(b.data() + 14, 1);
  }
  pes.data.assign(b.begin() + 9 + pes.header_data_length, b.end());
  return pes;
}

// An independent CRC32/MPEG-2: bit by bit, MSB first, init 0xFFFFFFFF, no final xor.
std::uint32_t crc32_bitwise(const std::uint8_t* p, std::size_t n) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) {
    for (int bit = 7; bit >= 0; --bit) {
      const bool in = ((p[i] >> bit) & 1) != ((crc >> 31) & 1);
      crc <<= 1;
      if (in) crc ^= 0x04C11DB7u;
    }
  }
  return crc;
}

// The section a PSI packet carries (checked: pointer_field 0, CRC, 0xFF after it).
bytes section_of(const ts_packet& k) {
  EXPECT_TRUE(k.unit_start);
  EXPECT_EQ(k.payload.at(0), 0) << "pointer_field";
  const std::size_t length = ((k.payload.at(2) & 0x0F) << 8) | k.payload.at(3);
  EXPECT_EQ(k.payload.at(2) & 0xC0, 0x80) << "section_syntax_indicator 1, '0'";
  const bytes section(k.payload.begin() + 1, k.payload.begin() + 4 + static_cast<std::ptrdiff_t>(length));
  const std::size_t n = section.size() - 4;
  const std::uint32_t stored = (std::uint32_t{section[n]} << 24) | (section[n + 1] << 16) | (section[n + 2] << 8) |
                               section[n + 3];
  EXPECT_EQ(stored, crc32_bitwise(section.data(), n)) << "CRC_32";
  for (std::size_t i = 1 + section.size(); i < k.payload.size(); ++i) EXPECT_EQ(k.payload[i], 0xFF);
  return section;
}

struct pmt_info {
  std::uint8_t version = 0;
  std::uint16_t pcr_pid = 0;
  std::vector<std::pair<std::uint8_t, std::uint16_t>> streams;  // stream_type, elementary_PID
};

pmt_info parse_pmt(const bytes& s) {
  pmt_info info;
  EXPECT_EQ(s.at(0), 0x02) << "table_id";
  EXPECT_EQ((s[3] << 8) | s[4], 1) << "program_number";
  info.version = (s[5] >> 1) & 0x1F;
  info.pcr_pid = static_cast<std::uint16_t>(((s[8] & 0x1F) << 8) | s[9]);
  std::size_t pos = 12 + (((s[10] & 0x0F) << 8) | s[11]);
  while (pos + 5 <= s.size() - 4) {
    info.streams.emplace_back(s[pos], static_cast<std::uint16_t>(((s[pos + 1] & 0x1F) << 8) | s[pos + 2]));
    pos += 5 + (((s[pos + 3] & 0x0F) << 8) | s[pos + 4]);
  }
  return info;
}

// ---------------------------------------------------------------------------
// FLV tag bodies.

const bytes sps = {0x67, 0x42, 0xC0, 0x1E, 0xDA, 0x02, 0x80, 0xBF};
const bytes pps = {0x68, 0xCE, 0x3C, 0x80};
const bytes idr = {0x65, 0x88, 0x84, 0x00, 0x33, 0xFF};
const bytes slice = {0x41, 0x9A, 0x02, 0x0C};
const bytes sei = {0x06, 0x05, 0x01, 0x00, 0x80};
const bytes aud = {0x09, 0xF0};
const bytes aac_lc_44100_stereo = {0x12, 0x10};

bytes avc_sequence_header(std::uint8_t length_size = 4, std::uint8_t version = 1) {
  // version, profile, compatibility, level, lengthSizeMinusOne, one SPS, one PPS
  bytes b = {0x17, 0x00, 0x00, 0x00, 0x00, version, 0x42, 0xC0, 0x1E, static_cast<std::uint8_t>(0xFC | (length_size - 1)),
             0xE1, 0x00, static_cast<std::uint8_t>(sps.size())};
  b.insert(b.end(), sps.begin(), sps.end());
  b.insert(b.end(), {0x01, 0x00, static_cast<std::uint8_t>(pps.size())});
  b.insert(b.end(), pps.begin(), pps.end());
  return b;
}

bytes avc_frame(std::uint8_t frame_type, std::int32_t cts, const std::vector<bytes>& nals, std::size_t length_size = 4) {
  bytes b = {static_cast<std::uint8_t>((frame_type << 4) | 7), 0x01, static_cast<std::uint8_t>(cts >> 16),
             static_cast<std::uint8_t>(cts >> 8), static_cast<std::uint8_t>(cts)};
  for (const auto& nal : nals) {
    for (std::size_t i = length_size; i-- > 0;) b.push_back(static_cast<std::uint8_t>(nal.size() >> (8 * i)));
    b.insert(b.end(), nal.begin(), nal.end());
  }
  return b;
}

bytes aac_config(const bytes& asc) {
  bytes b = {0xAF, 0x00};
  b.insert(b.end(), asc.begin(), asc.end());
  return b;
}

bytes aac_frame(std::size_t size) {
  bytes b = {0xAF, 0x01};
  for (std::size_t i = 0; i < size; ++i) b.push_back(static_cast<std::uint8_t>(i * 7 + 1));
  return b;
}

// Annex B: the NAL units, each after a 4-byte start code.
bytes annex_b(const std::vector<bytes>& nals) {
  bytes b;
  for (const auto& nal : nals) {
    b.insert(b.end(), {0x00, 0x00, 0x00, 0x01});
    b.insert(b.end(), nal.begin(), nal.end());
  }
  return b;
}

constexpr std::uint64_t offset = ts_muxer::timestamp_offset_90k;
const ts_pids pids{};

// A muxer with video (length size `length_size`) and AAC LC 44.1 kHz stereo configured.
ts_muxer configured(std::uint8_t length_size = 4) {
  ts_muxer m;
  bytes out;
  EXPECT_TRUE(m.video_tag(avc_sequence_header(length_size), 0, out));
  EXPECT_TRUE(m.audio_tag(aac_config(aac_lc_44100_stereo), 0, out));
  EXPECT_TRUE(out.empty()) << "configuration writes nothing";
  return m;
}

// The single video PES `video_tag` writes, parsed; and its elementary stream bytes.
pes_packet video_pes(ts_muxer& m, const bytes& tag, std::uint32_t ts = 0) {
  bytes out;
  EXPECT_TRUE(m.video_tag(tag, ts, out));
  const auto pes = pes_of(parse_ts(out), pids.video);
  EXPECT_EQ(pes.size(), 1u);
  return pes.empty() ? pes_packet{} : parse_pes(pes[0]);
}
bytes video_es(ts_muxer& m, const bytes& tag) { return video_pes(m, tag).data; }

TEST(ts_muxer, every_packet_is_188_bytes_and_starts_with_the_sync_byte) {
  ts_muxer m = configured();
  bytes out;
  m.write_tables(out);
  ASSERT_TRUE(m.video_tag(avc_frame(1, 0, {sei, bytes(5000, 0x65)}), 0, out));
  ASSERT_TRUE(m.audio_tag(aac_frame(300), 10, out));
  ASSERT_TRUE(m.video_tag(avc_frame(2, 40, {slice}), 40, out));
  ASSERT_EQ(out.size() % ts_packet_size, 0u);
  EXPECT_GT(parse_ts(out).size(), 30u);
  for (std::size_t at = 0; at < out.size(); at += ts_packet_size) EXPECT_EQ(out[at], 0x47);
}

TEST(ts_muxer, continuity_counters_increment_per_pid_across_calls_and_tables) {
  ts_muxer m = configured();
  bytes stream;
  const auto append = [&stream](const bytes& b) { stream.insert(stream.end(), b.begin(), b.end()); };
  for (int segment = 0; segment < 3; ++segment) {
    bytes out;  // a fresh buffer per call, as segments are
    m.write_tables(out);
    append(out);
    for (std::uint32_t i = 0; i < 7; ++i) {
      out.clear();
      ASSERT_TRUE(m.video_tag(avc_frame(i == 0 ? 1 : 2, 0, {bytes(400 + 97 * i, 0x41)}), i * 40, out));
      ASSERT_TRUE(m.audio_tag(aac_frame(200 + i), i * 23, out));
      append(out);
    }
  }
  std::map<std::uint16_t, int> last;
  std::map<std::uint16_t, int> seen;
  for (const auto& k : parse_ts(stream)) {
    if (last.count(k.pid) == 0) {
      EXPECT_EQ(k.cc, 0) << "first packet of PID " << k.pid;
    } else {
      EXPECT_EQ(k.cc, (last[k.pid] + 1) % 16) << "PID " << k.pid << " packet " << seen[k.pid];
    }
    last[k.pid] = k.cc;
    ++seen[k.pid];
  }
  EXPECT_EQ(seen[0], 3);
  EXPECT_EQ(seen[pids.pmt], 3);
  EXPECT_GT(seen[pids.video], 40) << "the video counter wraps several times";
  EXPECT_GT(seen[pids.audio], 16);
}

TEST(ts_muxer, pat_and_pmt_have_correct_crc_and_list_exactly_the_configured_streams) {
  struct variant {
    bool video, audio;
    std::uint16_t pcr_pid;
  };
  for (const variant v : {variant{false, false, 0x1FFF}, variant{true, false, 0x100}, variant{false, true, 0x101},
                          variant{true, true, 0x100}}) {
    SCOPED_TRACE(testing::Message() << "video " << v.video << " audio " << v.audio);
    ts_muxer m;
    bytes out;
    if (v.video) {
      ASSERT_TRUE(m.video_tag(avc_sequence_header(), 0, out));
    }
    if (v.audio) {
      ASSERT_TRUE(m.audio_tag(aac_config(aac_lc_44100_stereo), 0, out));
    }
    EXPECT_EQ(m.has_video(), v.video);
    EXPECT_EQ(m.has_audio(), v.audio);
    m.write_tables(out);
    const auto all = parse_ts(out);
    ASSERT_EQ(all.size(), 2u);
    ASSERT_EQ(all[0].pid, 0);
    const bytes pat = section_of(all[0]);
    ASSERT_EQ(pat.size(), 16u);
    EXPECT_EQ(pat[0], 0x00) << "table_id";
    EXPECT_EQ((pat[8] << 8) | pat[9], 1) << "program_number";
    EXPECT_EQ(((pat[10] & 0x1F) << 8) | pat[11], pids.pmt);
    ASSERT_EQ(all[1].pid, pids.pmt);
    const pmt_info pmt = parse_pmt(section_of(all[1]));
    EXPECT_EQ(pmt.pcr_pid, v.pcr_pid);
    std::vector<std::pair<std::uint8_t, std::uint16_t>> want;
    if (v.video) want.emplace_back(0x1B, pids.video);
    if (v.audio) want.emplace_back(0x0F, pids.audio);
    EXPECT_EQ(pmt.streams, want);
  }
}

TEST(ts_muxer, tables_use_the_configured_pids) {
  ts_muxer m(ts_pids{0x20, 0x31, 0x42});
  bytes out;
  ASSERT_TRUE(m.video_tag(avc_sequence_header(), 0, out));
  ASSERT_TRUE(m.audio_tag(aac_config(aac_lc_44100_stereo), 0, out));
  m.write_tables(out);
  ASSERT_TRUE(m.video_tag(avc_frame(1, 0, {idr}), 0, out));
  ASSERT_TRUE(m.audio_tag(aac_frame(10), 0, out));
  const auto all = parse_ts(out);
  ASSERT_EQ(all.size(), 4u);
  const bytes pat = section_of(all[0]);
  EXPECT_EQ(((pat[10] & 0x1F) << 8) | pat[11], 0x20);
  const pmt_info pmt = parse_pmt(section_of(all[1]));
  EXPECT_EQ(pmt.pcr_pid, 0x31);
  EXPECT_EQ(pmt.streams, (std::vector<std::pair<std::uint8_t, std::uint16_t>>{{0x1B, 0x31}, {0x0F, 0x42}}));
  EXPECT_EQ(std::vector<int>({all[1].pid, all[2].pid, all[3].pid}), std::vector<int>({0x20, 0x31, 0x42}));
}

TEST(ts_muxer, pmt_version_changes_only_when_the_stream_list_does) {
  ts_muxer m;
  bytes out;
  const auto version = [&m] {
    bytes tables;
    m.write_tables(tables);
    return parse_pmt(section_of(parse_ts(tables).at(1))).version;
  };
  ASSERT_TRUE(m.audio_tag(aac_config(aac_lc_44100_stereo), 0, out));
  EXPECT_EQ(version(), 0);
  EXPECT_EQ(version(), 0);
  ASSERT_TRUE(m.video_tag(avc_sequence_header(), 0, out));
  EXPECT_EQ(version(), 1);
  ASSERT_TRUE(m.video_tag(avc_sequence_header(), 0, out));  // the same streams again
  EXPECT_EQ(version(), 1);
}

TEST(ts_muxer, video_pes_carries_pts_and_dts_for_a_composition_time_of_40_ms_and_of_minus_40) {
  ts_muxer m = configured();
  const pes_packet p = video_pes(m, avc_frame(2, 40, {slice}), 1000);
  EXPECT_EQ(p.stream_id, 0xE0);
  EXPECT_EQ(p.packet_length, 0) << "unbounded for video";
  EXPECT_EQ(p.flags >> 6, 3) << "PTS and DTS";
  EXPECT_EQ(p.header_data_length, 10);
  EXPECT_EQ(p.dts, 1000 * 90 + offset);
  EXPECT_EQ(p.pts, 1040 * 90 + offset);
  // CompositionTime is signed (SI24).
  const pes_packet q = video_pes(m, avc_frame(2, -40, {slice}), 1000);
  EXPECT_EQ(q.pts, 960 * 90 + offset);
  EXPECT_EQ(q.dts, 1000 * 90 + offset);
}

TEST(ts_muxer, video_pes_carries_pts_only_when_it_equals_dts) {
  ts_muxer m = configured();
  const pes_packet p = video_pes(m, avc_frame(1, 0, {idr}), 2000);
  EXPECT_EQ(p.flags >> 6, 2);
  EXPECT_EQ(p.header_data_length, 5);
  EXPECT_EQ(p.pts, 2000 * 90 + offset);
  EXPECT_FALSE(p.dts);
}

TEST(ts_muxer, timestamps_are_taken_modulo_2_to_the_33) {
  ts_muxer m = configured();
  bytes out;
  const std::uint32_t ts = 0xFFFFFFF0u;
  ASSERT_TRUE(m.video_tag(avc_frame(1, 0, {idr}), ts, out));
  const auto all = parse_ts(out);
  const pes_packet p = parse_pes(pes_of(all, pids.video).at(0));
  const std::uint64_t mask = (std::uint64_t{1} << 33) - 1;
  EXPECT_EQ(p.pts, (std::uint64_t{ts} * 90 + offset) & mask);
  EXPECT_EQ(all.at(0).pcr_base, (std::uint64_t{ts} * 90) & mask);
}

TEST(ts_muxer, pcr_is_dts_minus_the_offset_in_the_first_packet_of_each_video_pes) {
  ts_muxer m = configured();
  for (std::uint32_t ts : {0u, 40u, 80u}) {
    bytes out;
    ASSERT_TRUE(m.video_tag(avc_frame(2, 80, {bytes(1000, 0x41)}), ts, out));
    const auto all = parse_ts(out);
    ASSERT_GT(all.size(), 5u);
    ASSERT_TRUE(all[0].pcr_base);
    EXPECT_EQ(*all[0].pcr_base, ts * 90u);
    EXPECT_EQ(all[0].pcr_extension, 0);
    for (std::size_t i = 1; i < all.size(); ++i) EXPECT_FALSE(all[i].pcr_base) << "packet " << i;
  }
}

TEST(ts_muxer, random_access_indicator_marks_keyframes_only) {
  ts_muxer m = configured();
  bytes key;
  bytes inter;
  ASSERT_TRUE(m.video_tag(avc_frame(1, 0, {bytes(500, 0x65)}), 0, key));
  ASSERT_TRUE(m.video_tag(avc_frame(2, 0, {bytes(500, 0x41)}), 40, inter));
  const auto k = parse_ts(key);
  EXPECT_EQ(k.at(0).adaptation_flags & 0x40, 0x40);
  for (std::size_t i = 1; i < k.size(); ++i) EXPECT_EQ(k[i].adaptation_flags & 0x40, 0);
  for (const auto& p : parse_ts(inter)) EXPECT_EQ(p.adaptation_flags & 0x40, 0);
}

TEST(ts_muxer, pes_tails_are_stuffed_with_the_adaptation_field_and_reassemble_exactly) {
  // Audio (no PCR: video is configured) and video (PCR) of every size around
  // the packet boundaries: the payload is exactly the PES, the stuffing is
  // adaptation field bytes 0xFF (a single stuffing byte is an empty field).
  ts_muxer m = configured();
  for (std::size_t n = 140; n < 420; ++n) {
    SCOPED_TRACE(n);
    bytes out;
    ASSERT_TRUE(m.audio_tag(aac_frame(n), 0, out));
    ASSERT_TRUE(m.video_tag(avc_frame(2, 0, {bytes(n, 0x41)}), 0, out));
    const auto all = parse_ts(out);
    for (const auto& k : all) {
      for (const auto b : k.stuffing) EXPECT_EQ(b, 0xFF);
      if (k.has_adaptation && k.adaptation_length > 0 && !k.pcr_base) {
        EXPECT_EQ(k.adaptation_flags, 0);
      }
    }
    const auto audio = pes_of(all, pids.audio);
    ASSERT_EQ(audio.size(), 1u);
    EXPECT_EQ(audio[0].size(), 9 + 5 + 7 + n) << "no padding in the payload";
    const pes_packet a = parse_pes(audio[0]);
    EXPECT_EQ(a.packet_length, audio[0].size() - 6);
    const bytes tag = aac_frame(n);
    EXPECT_EQ(bytes(a.data.begin() + 7, a.data.end()), bytes(tag.begin() + 2, tag.end()));
    const auto video = pes_of(all, pids.video);
    ASSERT_EQ(video.size(), 1u);
    EXPECT_EQ(parse_pes(video[0]).data, annex_b({aud, bytes(n, 0x41)}));
  }
}

TEST(ts_muxer, annex_b_conversion_of_two_nal_units_with_four_two_and_one_byte_lengths) {
  const bytes big(300, 0x41);  // a length that needs both bytes of a 2-byte prefix
  for (const std::uint8_t length_size : {4, 2, 1}) {
    SCOPED_TRACE(testing::Message() << "lengthSize " << int{length_size});
    ts_muxer m = configured(length_size);
    EXPECT_EQ(video_es(m, avc_frame(2, 0, {sei, slice}, length_size)), annex_b({aud, sei, slice}));
    if (length_size > 1) {
      EXPECT_EQ(video_es(m, avc_frame(2, 0, {sei, big}, length_size)), annex_b({aud, sei, big}));
    }
  }
}

TEST(ts_muxer, an_access_unit_delimiter_in_the_frame_is_not_repeated) {
  ts_muxer m = configured();
  EXPECT_EQ(video_es(m, avc_frame(2, 0, {aud, slice})), annex_b({aud, slice}));
  EXPECT_EQ(video_es(m, avc_frame(1, 0, {aud, idr})), annex_b({aud, sps, pps, idr}));
}

TEST(ts_muxer, sps_and_pps_go_before_the_idr_on_keyframes_only) {
  ts_muxer m = configured();
  EXPECT_EQ(video_es(m, avc_frame(1, 0, {idr})), annex_b({aud, sps, pps, idr}));
  EXPECT_EQ(video_es(m, avc_frame(1, 0, {sei, idr})), annex_b({aud, sps, pps, sei, idr}))
      << "parameter sets before the SEI that may refer to them";
  EXPECT_EQ(video_es(m, avc_frame(2, 0, {idr})), annex_b({aud, idr})) << "FrameType 2: no parameter sets";
  EXPECT_EQ(video_es(m, avc_frame(2, 0, {slice})), annex_b({aud, slice}));
}

TEST(ts_muxer, a_keyframe_carrying_sps_and_pps_does_not_get_them_twice) {
  ts_muxer m = configured();
  const bytes other_sps = {0x67, 0x64, 0x00, 0x1F};
  EXPECT_EQ(video_es(m, avc_frame(1, 0, {other_sps, pps, idr})), annex_b({aud, other_sps, pps, idr}));
  // Only one of them: both are inserted.
  EXPECT_EQ(video_es(m, avc_frame(1, 0, {pps, idr})), annex_b({aud, sps, pps, pps, idr}));
}

TEST(ts_muxer, zero_length_nal_units_are_skipped) {
  ts_muxer m = configured();
  EXPECT_EQ(video_es(m, avc_frame(2, 0, {bytes{}, slice, bytes{}})), annex_b({aud, slice}));
}

// The ADTS fields (14496-3 1.A.2.2) of the single audio PES in `out`.
struct adts_fields {
  int id, layer, protection_absent, profile, frequency_index, channels, frame_length, fullness, blocks;
};

adts_fields adts_of(const bytes& out) {
  const auto pes = pes_of(parse_ts(out), pids.audio);
  EXPECT_EQ(pes.size(), 1u);
  const bytes h = pes.empty() ? bytes(7) : parse_pes(pes[0]).data;
  EXPECT_EQ((h.at(0) << 4) | (h.at(1) >> 4), 0xFFF) << "syncword";
  return {(h[1] >> 3) & 1, (h[1] >> 1) & 3, h[1] & 1, h[2] >> 6, (h[2] >> 2) & 0x0F, ((h[2] & 1) << 2) | (h[3] >> 6),
          ((h[3] & 3) << 11) | (h[4] << 3) | (h[5] >> 5), ((h[5] & 0x1F) << 6) | (h[6] >> 2), h[6] & 3};
}

TEST(ts_muxer, adts_header_fields_follow_the_audio_specific_config) {
  struct variant {
    bytes asc;
    int profile, frequency_index, channels;
  };
  // AAC LC 44.1 kHz stereo; AAC LC 48 kHz mono; HE-AAC with explicit SBR
  // (object type 5, 24 kHz core, 48 kHz extension, core AAC LC): ADTS
  // carries the core; AAC Main 22.05 kHz mono; AAC LC 48 kHz 5.1.
  for (const variant& v : {variant{{0x12, 0x10}, 1, 4, 2}, variant{{0x11, 0x88}, 1, 3, 1},
                           variant{{0x2B, 0x11, 0x88}, 1, 6, 2}, variant{{0x0B, 0x8C}, 0, 7, 1},
                           variant{{0x11, 0xB0}, 1, 3, 6}}) {
    SCOPED_TRACE(testing::Message() << "profile " << v.profile << " index " << v.frequency_index);
    ts_muxer m;
    bytes out;
    ASSERT_TRUE(m.audio_tag(aac_config(v.asc), 0, out));
    ASSERT_TRUE(m.audio_tag(aac_frame(371), 0, out));
    const adts_fields f = adts_of(out);
    EXPECT_EQ(f.id, 0) << "MPEG-4";
    EXPECT_EQ(f.layer, 0);
    EXPECT_EQ(f.protection_absent, 1);
    EXPECT_EQ(f.profile, v.profile);
    EXPECT_EQ(f.frequency_index, v.frequency_index);
    EXPECT_EQ(f.channels, v.channels);
    EXPECT_EQ(f.frame_length, 7 + 371);
    EXPECT_EQ(f.fullness, 0x7FF) << "VBR";
    EXPECT_EQ(f.blocks, 0) << "one raw data block";
  }
}

TEST(ts_muxer, audio_pes_has_its_length_and_a_pts) {
  ts_muxer m = configured();
  bytes out;
  ASSERT_TRUE(m.audio_tag(aac_frame(50), 1234, out));
  const pes_packet p = parse_pes(pes_of(parse_ts(out), pids.audio).at(0));
  EXPECT_EQ(p.stream_id, 0xC0);
  EXPECT_EQ(p.packet_length, 3 + 5 + 7 + 50);
  EXPECT_EQ(p.flags >> 6, 2);
  EXPECT_EQ(p.pts, 1234 * 90 + offset);
}

TEST(ts_muxer, audio_carries_the_pcr_only_without_video) {
  ts_muxer audio_only;
  bytes out;
  ASSERT_TRUE(audio_only.audio_tag(aac_config(aac_lc_44100_stereo), 0, out));
  ASSERT_TRUE(audio_only.audio_tag(aac_frame(100), 500, out));
  const auto all = parse_ts(out);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].pcr_base, 500u * 90);
  EXPECT_EQ(all[0].adaptation_flags & 0x40, 0x40) << "an audio-only segment may start at any frame";

  ts_muxer both = configured();
  out.clear();
  ASSERT_TRUE(both.audio_tag(aac_frame(100), 500, out));
  EXPECT_FALSE(parse_ts(out).at(0).pcr_base);
}

TEST(ts_muxer, the_largest_adts_frame_fits_and_a_larger_one_is_refused) {
  ts_muxer m = configured();
  bytes out = {1, 2, 3};
  EXPECT_FALSE(m.audio_tag(aac_frame(8191 - 7 + 1), 0, out));
  EXPECT_EQ(out, (bytes{1, 2, 3}));
  ASSERT_TRUE(m.audio_tag(aac_frame(8191 - 7), 0, out));
  EXPECT_EQ(adts_of(bytes(out.begin() + 3, out.end())).frame_length, 8191);
}

// --- what is refused: false, and `out` exactly as it was ---

class ts_muxer_refuses : public ::testing::Test {
 protected:
  const bytes before = {0xDE, 0xAD, 0xBE, 0xEF};
  bytes out = before;
};

TEST_F(ts_muxer_refuses, every_truncation_of_a_sequence_header) {
  const bytes full = avc_sequence_header();
  for (std::size_t n = 0; n < full.size(); ++n) {
    ts_muxer m;
    EXPECT_FALSE(m.video_tag(bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)), 0, out)) << n;
    EXPECT_FALSE(m.has_video()) << n;
  }
  EXPECT_EQ(out, before);
}

TEST_F(ts_muxer_refuses, sequence_headers_the_record_does_not_allow) {
  ts_muxer m;
  EXPECT_FALSE(m.video_tag(avc_sequence_header(3), 0, out)) << "lengthSizeMinusOne 2";
  EXPECT_FALSE(m.video_tag(avc_sequence_header(4, 0), 0, out)) << "configurationVersion 0";
  bytes no_sps = {0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x42, 0xC0, 0x1E, 0xFF, 0xE0, 0x01, 0x00, 0x04};
  no_sps.insert(no_sps.end(), pps.begin(), pps.end());
  EXPECT_FALSE(m.video_tag(no_sps, 0, out)) << "no SPS";
  bytes swapped = avc_sequence_header();
  swapped[13] = 0x68;  // the "SPS" is a PPS
  EXPECT_FALSE(m.video_tag(swapped, 0, out));
  EXPECT_FALSE(m.has_video());
  EXPECT_EQ(out, before);
}

TEST_F(ts_muxer_refuses, a_bad_sequence_header_keeps_the_previous_one) {
  ts_muxer m = configured();
  EXPECT_FALSE(m.video_tag(avc_sequence_header(3), 0, out));
  EXPECT_TRUE(m.has_video());
  EXPECT_EQ(video_es(m, avc_frame(1, 0, {idr})), annex_b({aud, sps, pps, idr})) << "still 4-byte lengths";
}

TEST_F(ts_muxer_refuses, a_nal_length_past_the_end) {
  ts_muxer m = configured();
  bytes tag = avc_frame(1, 0, {sei, idr});
  tag.pop_back();  // the IDR's length now runs one byte past the end
  EXPECT_FALSE(m.video_tag(tag, 0, out));
  bytes partial_prefix = avc_frame(2, 0, {slice});
  partial_prefix.insert(partial_prefix.end(), {0x00, 0x00});  // half a length
  EXPECT_FALSE(m.video_tag(partial_prefix, 0, out));
  bytes huge = avc_frame(2, 0, {slice});
  huge.insert(huge.end(), {0xFF, 0xFF, 0xFF, 0xFF, 0x41});
  EXPECT_FALSE(m.video_tag(huge, 0, out));
  EXPECT_EQ(out, before);
}

TEST_F(ts_muxer_refuses, video_before_its_sequence_header_and_audio_before_its_config) {
  ts_muxer m;
  EXPECT_FALSE(m.video_tag(avc_frame(1, 0, {idr}), 0, out) || m.audio_tag(aac_frame(10), 0, out));
  EXPECT_EQ(out, before);
}

TEST_F(ts_muxer_refuses, audio_configs_adts_cannot_carry) {
  ts_muxer m;
  EXPECT_FALSE(m.audio_tag(aac_config({0x17, 0x80, 0x00, 0xBB, 0x80}), 0, out)) << "frequency index 15";
  EXPECT_FALSE(m.audio_tag(aac_config({0x17, 0x80}), 0, out)) << "index 15, truncated";
  EXPECT_FALSE(m.audio_tag(aac_config({0x12}), 0, out)) << "truncated";
  EXPECT_FALSE(m.audio_tag(aac_config({0x12, 0x00}), 0, out)) << "channel configuration 0";
  EXPECT_FALSE(m.audio_tag(aac_config({0x2A, 0x10}), 0, out)) << "object type 5 without its extension";
  EXPECT_FALSE(m.audio_tag(aac_config({0x3A, 0x10}), 0, out)) << "object type 7 (TwinVQ)";
  EXPECT_FALSE(m.audio_tag(aac_config({0x16, 0x90}), 0, out)) << "frequency index 13 (reserved)";
  EXPECT_FALSE(m.has_audio());
  // A refused config keeps the accepted one.
  ASSERT_TRUE(m.audio_tag(aac_config({0x11, 0x88}), 0, out));
  EXPECT_FALSE(m.audio_tag(aac_config({0x17, 0x80, 0x00, 0xBB, 0x80}), 0, out));
  EXPECT_EQ(out, before);
  bytes frame;
  ASSERT_TRUE(m.audio_tag(aac_frame(20), 0, frame));
  EXPECT_EQ(adts_of(frame).frequency_index, 3);
}

TEST_F(ts_muxer_refuses, empty_payloads) {
  ts_muxer m = configured();
  EXPECT_FALSE(m.video_tag({}, 0, out));
  EXPECT_FALSE(m.audio_tag({}, 0, out));
  EXPECT_FALSE(m.video_tag(bytes{0x17}, 0, out));
  EXPECT_FALSE(m.video_tag(bytes{0x17, 0x01, 0x00, 0x00}, 0, out)) << "no composition time";
  EXPECT_FALSE(m.video_tag(avc_frame(1, 0, {}), 0, out)) << "no NAL unit";
  EXPECT_FALSE(m.video_tag(avc_frame(1, 0, {bytes{}, bytes{}}), 0, out)) << "only empty NAL units";
  EXPECT_FALSE(m.audio_tag(bytes{0xAF}, 0, out));
  EXPECT_FALSE(m.audio_tag(bytes{0xAF, 0x01}, 0, out)) << "no AAC frame";
  EXPECT_FALSE(m.audio_tag(bytes{0xAF, 0x00}, 0, out)) << "no AudioSpecificConfig";
  EXPECT_EQ(out, before);
}

TEST_F(ts_muxer_refuses, other_codecs_and_packet_types) {
  ts_muxer m = configured();
  EXPECT_FALSE(m.video_tag(bytes{0x12, 0x00, 0x00, 0x00, 0x00, 0x01}, 0, out)) << "Sorenson H.263";
  EXPECT_FALSE(m.video_tag(bytes{0x91, 'a', 'v', 'c', '1', 0x00}, 0, out)) << "Enhanced RTMP";
  EXPECT_FALSE(m.video_tag(bytes{0x17, 0x03, 0x00, 0x00, 0x00, 0x01}, 0, out)) << "AVCPacketType 3";
  EXPECT_FALSE(m.video_tag(bytes{0x07, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x41}, 0, out))
      << "FrameType 0";
  EXPECT_FALSE(m.audio_tag(bytes{0x2F, 0xFF, 0xFB}, 0, out)) << "MP3";
  EXPECT_FALSE(m.audio_tag(bytes{0xAF, 0x02, 0x00}, 0, out)) << "AACPacketType 2";
  EXPECT_EQ(out, before);
}

TEST(ts_muxer, end_of_sequence_and_command_frames_write_nothing) {
  ts_muxer m = configured();
  bytes out;
  EXPECT_TRUE(m.video_tag(bytes{0x17, 0x02, 0x00, 0x00, 0x00}, 0, out));
  EXPECT_TRUE(m.video_tag(bytes{0x57, 0x00}, 0, out));
  EXPECT_TRUE(out.empty());
}

TEST(ts_muxer, is_avc_keyframe_is_true_for_keyframes_with_nal_units_only) {
  EXPECT_TRUE(ts_muxer::is_avc_keyframe(avc_frame(1, 0, {idr})));
  EXPECT_FALSE(ts_muxer::is_avc_keyframe(avc_frame(2, 0, {slice})));
  EXPECT_FALSE(ts_muxer::is_avc_keyframe(avc_sequence_header()));
  EXPECT_FALSE(ts_muxer::is_avc_keyframe(bytes{0x17, 0x02, 0x00, 0x00, 0x00}));
  EXPECT_FALSE(ts_muxer::is_avc_keyframe(bytes{0x17, 0x01, 0x00, 0x00, 0x00})) << "no NAL data";
  EXPECT_FALSE(ts_muxer::is_avc_keyframe(bytes{0x14, 0x01, 0x00, 0x00, 0x00, 0x00})) << "VP6";
  EXPECT_FALSE(ts_muxer::is_avc_keyframe({}));
}

}  // namespace
}  // namespace rtmp::hls
