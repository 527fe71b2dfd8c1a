// The fragmented MP4 muxer (ISO/IEC 14496-12 boxes): its output parsed back
// with the small box parser below: box tree and sizes, ftyp/styp brands,
// the moov of each codec (avc1/avcC, hvc1/hvcC, av01/av1C, mp4a/esds),
// mvex/trex, moof sequence numbers, tfdt, trun entries and data offsets,
// codecs strings, and what is refused.
#include "rtmp/hls/fmp4_muxer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rtmp/proto/flv_reader.hpp"
#include "support/ertmp_samples.hpp"
#include "support/files.hpp"
#include "support/media.hpp"

namespace rtmp::hls {
namespace {

using bytes = std::vector<std::uint8_t>;
namespace ertmp = rtmp::test::ertmp;

// ---------------------------------------------------------------------------
// A box parser for the checks.

std::uint16_t be16(const bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>((b.at(at) << 8) | b.at(at + 1));
}
std::uint32_t be32(const bytes& b, std::size_t at) {
  return (std::uint32_t{b.at(at)} << 24) | (std::uint32_t{b.at(at + 1)} << 16) | (std::uint32_t{b.at(at + 2)} << 8) |
         b.at(at + 3);
}
std::uint64_t be64(const bytes& b, std::size_t at) { return (std::uint64_t{be32(b, at)} << 32) | be32(b, at + 4); }
std::string cc(const bytes& b, std::size_t at) {
  return std::string(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + 4));
}

struct box {
  std::string type;
  std::size_t offset = 0;  // of the box header in the parsed buffer
  std::size_t size = 0;
  bytes body;  // after the 8-byte header
  std::vector<box> children;

  // The first descendant at a '/'-separated path ("moov/trak/tkhd"); ASSERT-friendly nullptr when absent.
  const box* find(const std::string& path) const {
    const auto slash = path.find('/');
    const std::string head = path.substr(0, slash);
    for (const auto& c : children) {
      if (c.type != head) continue;
      if (slash == std::string::npos) return &c;
      if (const box* found = c.find(path.substr(slash + 1))) return found;
    }
    return nullptr;
  }
  std::vector<const box*> all(const std::string& type) const {
    std::vector<const box*> out;
    for (const auto& c : children) {
      if (c.type == type) out.push_back(&c);
    }
    return out;
  }
};

// Where the children of a box begin in its body (0: not a container).
std::size_t children_at(const std::string& type) {
  static const std::vector<std::string> containers = {"moov", "trak", "mdia", "minf", "dinf",
                                                      "stbl", "mvex", "moof", "traf"};
  if (std::find(containers.begin(), containers.end(), type) != containers.end()) return 0;
  if (type == "stsd" || type == "dref") return 8;                     // full box header, entry_count
  if (type == "avc1" || type == "hvc1" || type == "av01") return 78;  // VisualSampleEntry fields
  if (type == "mp4a") return 28;                                      // AudioSampleEntry fields
  return std::string::npos;
}

std::vector<box> parse_boxes(const bytes& data, std::size_t from, std::size_t to, std::size_t base) {
  std::vector<box> out;
  std::size_t at = from;
  while (at < to) {
    EXPECT_GE(to - at, 8u) << "a box header cut short at " << base + at;
    if (to - at < 8) break;
    box b;
    b.offset = base + at;
    b.size = be32(data, at);
    b.type = cc(data, at + 4);
    EXPECT_GE(b.size, 8u) << b.type;
    EXPECT_LE(b.size, to - at) << b.type << " runs past its parent";
    if (b.size < 8 || b.size > to - at) break;
    b.body.assign(data.begin() + static_cast<long>(at + 8), data.begin() + static_cast<long>(at + b.size));
    const std::size_t inner = children_at(b.type);
    if (inner != std::string::npos) b.children = parse_boxes(b.body, inner, b.body.size(), b.offset + 8);
    at += b.size;
    out.push_back(std::move(b));
  }
  EXPECT_EQ(at, to) << "boxes do not fill their parent exactly";
  return out;
}

box parse(const bytes& data) {
  box root;
  root.children = parse_boxes(data, 0, data.size(), 0);
  return root;
}

std::vector<std::string> types(const std::vector<box>& boxes) {
  std::vector<std::string> out;
  out.reserve(boxes.size());
  for (const auto& b : boxes) out.push_back(b.type);
  return out;
}

struct trun_entry {
  std::uint32_t duration, size, flags;
  std::int32_t cts;
};

struct parsed_trun {
  std::uint8_t version = 0;
  std::uint32_t flags = 0;
  std::int32_t data_offset = 0;
  std::vector<trun_entry> entries;
};

parsed_trun read_trun(const box& trun) {
  parsed_trun t;
  const bytes& b = trun.body;
  t.version = b.at(0);
  t.flags = be32(b, 0) & 0xFFFFFF;
  EXPECT_EQ(t.flags & 0xF01, t.flags) << "only the fields the muxer writes";
  EXPECT_TRUE(t.flags & 0x001) << "data_offset present";
  const std::uint32_t count = be32(b, 4);
  t.data_offset = static_cast<std::int32_t>(be32(b, 8));
  std::size_t at = 12;
  for (std::uint32_t i = 0; i < count; ++i) {
    trun_entry e{};
    e.duration = be32(b, at);
    e.size = be32(b, at + 4);
    e.flags = be32(b, at + 8);
    at += 12;
    if (t.flags & 0x800) {
      e.cts = static_cast<std::int32_t>(be32(b, at));
      at += 4;
    }
    t.entries.push_back(e);
  }
  EXPECT_EQ(at, b.size()) << "trun size";
  return t;
}

// The traf of `track_id` in a moof.
const box* traf_of(const box& moof, std::uint32_t track_id) {
  for (const box* traf : moof.all("traf")) {
    const box* tfhd = traf->find("tfhd");
    if (tfhd != nullptr && be32(tfhd->body, 4) == track_id) return traf;
  }
  return nullptr;
}

std::uint64_t tfdt_of(const box& traf) {
  const box* tfdt = traf.find("tfdt");
  EXPECT_NE(tfdt, nullptr);
  if (tfdt == nullptr) return ~0ull;
  EXPECT_EQ(tfdt->body.at(0), 1) << "tfdt version 1";
  return be64(tfdt->body, 4);
}

// The trak whose tkhd says `track_id`.
const box* trak_of(const box& moov, std::uint32_t track_id) {
  for (const box* trak : moov.all("trak")) {
    const box* tkhd = trak->find("tkhd");
    if (tkhd != nullptr && be32(tkhd->body, 12) == track_id) return trak;
  }
  return nullptr;
}

const box* sample_entry(const box& trak) {
  const box* stsd = trak.find("mdia/minf/stbl/stsd");
  if (stsd == nullptr || stsd->children.size() != 1) return nullptr;
  EXPECT_EQ(be32(stsd->body, 4), 1u) << "entry_count";
  return &stsd->children[0];
}

// ---------------------------------------------------------------------------
// Test material.

// A legacy AVC NALU tag: header with composition time `cts_ms`, one 4-byte
// length-prefixed NAL unit of `size` bytes filled with `fill`.
bytes avc_frame(bool key, std::int32_t cts_ms, std::size_t size, std::uint8_t fill) {
  const auto c = static_cast<std::uint32_t>(cts_ms) & 0xFFFFFF;
  bytes b{static_cast<std::uint8_t>(key ? 0x17 : 0x27), 0x01, static_cast<std::uint8_t>(c >> 16),
          static_cast<std::uint8_t>(c >> 8), static_cast<std::uint8_t>(c)};
  b.push_back(static_cast<std::uint8_t>(size >> 24));
  b.push_back(static_cast<std::uint8_t>(size >> 16));
  b.push_back(static_cast<std::uint8_t>(size >> 8));
  b.push_back(static_cast<std::uint8_t>(size));
  b.push_back(key ? 0x65 : 0x41);
  b.resize(b.size() + size - 1, fill);
  return b;
}

bytes tail(const bytes& b, std::size_t from) { return bytes(b.begin() + static_cast<long>(from), b.end()); }

// The avcC record of the sample FLV's sequence header (its SPS codes 320x240).
bytes sample_avc_sequence_header() {
  const auto flv = rtmp::test::read_binary(std::string(RTMP_CAPTURES_DIR) + "/../flv/h264_aac.flv");
  rtmp::proto::flv_reader reader;
  EXPECT_FALSE(reader.feed(flv));
  rtmp::proto::flv_tag tag;
  while (reader.next(tag)) {
    const auto body = tag.payload.span();
    if (tag.type == 9 && body.size() > 5 && body[0] == 0x17 && body[1] == 0) return bytes(body.begin(), body.end());
  }
  ADD_FAILURE() << "no AVC sequence header in the sample file";
  return {};
}

bytes init_of(fmp4_muxer& m) {
  bytes out;
  m.init_segment(out);
  return out;
}

// ---------------------------------------------------------------------------
// Init segments.

TEST(fmp4_muxer, avc_and_aac_init_segment) {
  fmp4_muxer m;
  EXPECT_FALSE(m.has_video());
  EXPECT_EQ(m.codecs(), "");
  const auto avc = rtmp::test::avc_sequence_header();
  ASSERT_TRUE(m.video_tag(avc, 0));
  ASSERT_TRUE(m.audio_tag(rtmp::test::aac_sequence_header(), 0));
  EXPECT_TRUE(m.has_video());
  EXPECT_TRUE(m.has_audio());
  EXPECT_EQ(m.video_codec(), "avc1");
  EXPECT_EQ(m.codecs(), "avc1.64001f,mp4a.40.2");
  EXPECT_TRUE(m.config_changed());
  const bytes init = init_of(m);
  EXPECT_FALSE(m.config_changed());

  const box root = parse(init);
  EXPECT_EQ(types(root.children), (std::vector<std::string>{"ftyp", "moov"}));
  const box* ftyp = root.find("ftyp");
  ASSERT_NE(ftyp, nullptr);
  EXPECT_EQ(cc(ftyp->body, 0), "iso6");
  EXPECT_EQ(be32(ftyp->body, 4), 0u);
  std::vector<std::string> brands;
  for (std::size_t at = 8; at + 4 <= ftyp->body.size(); at += 4) brands.push_back(cc(ftyp->body, at));
  EXPECT_NE(std::find(brands.begin(), brands.end(), "iso6"), brands.end());

  const box* moov = root.find("moov");
  ASSERT_NE(moov, nullptr);
  EXPECT_EQ(types(moov->children), (std::vector<std::string>{"mvhd", "trak", "trak", "mvex"}));
  EXPECT_EQ(be32(moov->find("mvhd")->body, 96), 3u) << "next_track_ID";
  const auto trex = moov->find("mvex")->all("trex");
  ASSERT_EQ(trex.size(), 2u);
  EXPECT_EQ(be32(trex[0]->body, 4), 1u);
  EXPECT_EQ(be32(trex[1]->body, 4), 2u);
  EXPECT_EQ(be32(trex[0]->body, 8), 1u) << "default_sample_description_index";

  const box* video = trak_of(*moov, 1);
  ASSERT_NE(video, nullptr);
  EXPECT_EQ(be32(video->find("mdia/mdhd")->body, 12), 90'000u) << "video timescale";
  EXPECT_EQ(cc(video->find("mdia/hdlr")->body, 8), "vide");
  EXPECT_NE(video->find("mdia/minf/vmhd"), nullptr);
  EXPECT_NE(video->find("mdia/minf/dinf/dref/url "), nullptr);
  for (const char* t : {"stts", "stsc", "stsz", "stco"})
    EXPECT_NE(video->find(std::string("mdia/minf/stbl/") + t), nullptr) << t;
  const box* avc1 = sample_entry(*video);
  ASSERT_NE(avc1, nullptr);
  EXPECT_EQ(avc1->type, "avc1");
  EXPECT_EQ(be16(avc1->body, 6), 1) << "data_reference_index";
  // This record's SPS is cut short: the size cannot be read and is 0x0.
  EXPECT_EQ(be16(avc1->body, 24), 0);
  EXPECT_EQ(be16(avc1->body, 26), 0);
  ASSERT_NE(avc1->find("avcC"), nullptr);
  EXPECT_EQ(avc1->find("avcC")->body, tail(avc, 5));

  const box* audio = trak_of(*moov, 2);
  ASSERT_NE(audio, nullptr);
  EXPECT_EQ(be32(audio->find("mdia/mdhd")->body, 12), 44'100u) << "audio timescale: the AAC sample rate";
  EXPECT_EQ(cc(audio->find("mdia/hdlr")->body, 8), "soun");
  EXPECT_NE(audio->find("mdia/minf/smhd"), nullptr);
  const box* mp4a = sample_entry(*audio);
  ASSERT_NE(mp4a, nullptr);
  EXPECT_EQ(mp4a->type, "mp4a");
  EXPECT_EQ(be16(mp4a->body, 16), 2) << "channelcount";
  EXPECT_EQ(be16(mp4a->body, 18), 16) << "samplesize";
  EXPECT_EQ(be32(mp4a->body, 24), 44'100u << 16) << "samplerate";
  const box* esds = mp4a->find("esds");
  ASSERT_NE(esds, nullptr);
  // ES_Descriptor(3) { ES_ID, flags, DecoderConfigDescriptor(4) { 0x40, 0x15,
  // ..., DecoderSpecificInfo(5) { ASC } }, SLConfigDescriptor(6) { 2 } }.
  const bytes expected = {0,    0,  0,    0,                    // version, flags
                          0x03, 25, 0,    0,    0,              // ES_ID 0, flags 0
                          0x04, 17, 0x40, 0x15, 0,    0, 0,     // bufferSizeDB 0
                          0,    0,  0,    0,    0,    0, 0, 0,  // maxBitrate, avgBitrate
                          0x05, 2,  0x12, 0x10, 0x06, 1, 2};
  EXPECT_EQ(esds->body, expected);
}

TEST(fmp4_muxer, avc_size_is_read_from_the_sps) {
  fmp4_muxer m;
  ASSERT_TRUE(m.video_tag(sample_avc_sequence_header(), 0));
  EXPECT_EQ(m.codecs(), "avc1.64000d");
  const box root = parse(init_of(m));
  const box* trak = trak_of(*root.find("moov"), 1);
  ASSERT_NE(trak, nullptr);
  const box* avc1 = sample_entry(*trak);
  ASSERT_NE(avc1, nullptr);
  EXPECT_EQ(be16(avc1->body, 24), 320);
  EXPECT_EQ(be16(avc1->body, 26), 240);
  const box* tkhd = trak->find("tkhd");
  EXPECT_EQ(be32(tkhd->body, 76), 320u << 16) << "tkhd width 16.16";
  EXPECT_EQ(be32(tkhd->body, 80), 240u << 16);
  EXPECT_EQ(trak_of(*root.find("moov"), 2), nullptr) << "no audio track without an audio config";
  EXPECT_EQ(root.find("moov/mvex")->all("trex").size(), 1u);
}

TEST(fmp4_muxer, enhanced_hevc_init_segment) {
  fmp4_muxer m;
  const auto hvcc = ertmp::hvcc_1278x718();
  ASSERT_TRUE(m.video_tag(ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "hvc1", hvcc), 0));
  EXPECT_EQ(m.video_codec(), "hvc1");
  // Profile 1 (Main), compatibility 0x60000000 bit-reversed 0x6, Main tier
  // level 93, constraint bytes 90 00 00 00 00 00 (trailing zeros left out).
  EXPECT_EQ(m.codecs(), "hvc1.1.6.L93.90");
  const box root = parse(init_of(m));
  const box* trak = trak_of(*root.find("moov"), 1);
  ASSERT_NE(trak, nullptr);
  const box* hvc1 = sample_entry(*trak);
  ASSERT_NE(hvc1, nullptr);
  EXPECT_EQ(hvc1->type, "hvc1");
  EXPECT_EQ(be16(hvc1->body, 24), 1278) << "the size after the conformance window";
  EXPECT_EQ(be16(hvc1->body, 26), 718);
  ASSERT_NE(hvc1->find("hvcC"), nullptr);
  EXPECT_EQ(hvc1->find("hvcC")->body, hvcc);
}

TEST(fmp4_muxer, enhanced_av1_init_segment) {
  fmp4_muxer m;
  const auto av1c = ertmp::av1c_642x362();
  ASSERT_TRUE(m.video_tag(ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "av01", av1c), 0));
  EXPECT_EQ(m.video_codec(), "av01");
  EXPECT_EQ(m.codecs(), "av01.0.01M.08");
  const box root = parse(init_of(m));
  const box* trak = trak_of(*root.find("moov"), 1);
  ASSERT_NE(trak, nullptr);
  const box* av01 = sample_entry(*trak);
  ASSERT_NE(av01, nullptr);
  EXPECT_EQ(av01->type, "av01");
  EXPECT_EQ(be16(av01->body, 24), 642);
  EXPECT_EQ(be16(av01->body, 26), 362);
  ASSERT_NE(av01->find("av1C"), nullptr);
  EXPECT_EQ(av01->find("av1C")->body, av1c);
}

TEST(fmp4_muxer, codecs_strings_follow_the_records) {
  fmp4_muxer m;
  // Enhanced mp4a with HE-AAC (object type 5), 48 kHz index 3, mono.
  bytes asc_tag{0x90};  // SoundFormat 9 (ExHeader), AudioPacketType 0 (SequenceStart)
  for (char c : std::string("mp4a")) asc_tag.push_back(static_cast<std::uint8_t>(c));
  asc_tag.push_back(0x29);  // 00101 0011 0001 000: object type 5, index 3, channels 1
  asc_tag.push_back(0x88);
  ASSERT_TRUE(m.audio_tag(asc_tag, 0));
  EXPECT_EQ(m.codecs(), "mp4a.40.5");
  // HEVC: profile space 1, high tier, profile 2, compatibility 0x20000000 (bit 2 -> 0x4), level 120, no constraints.
  auto hvcc = ertmp::hvcc_1278x718();
  hvcc[1] = 0x40 | 0x20 | 0x02;
  hvcc[2] = 0x20;
  hvcc[3] = hvcc[4] = hvcc[5] = 0;
  std::fill(hvcc.begin() + 6, hvcc.begin() + 12, 0);
  hvcc[12] = 120;
  ASSERT_TRUE(m.video_tag(ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "hvc1", hvcc), 0));
  EXPECT_EQ(m.codecs(), "hvc1.A2.4.H120,mp4a.40.5");
  // AV1: profile 1, level 13, high tier, 10-bit.
  auto av1c = ertmp::av1c_642x362();
  av1c[1] = static_cast<std::uint8_t>((1 << 5) | 13);
  av1c[2] = 0x80 | 0x40;
  ASSERT_TRUE(m.video_tag(ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "av01", av1c), 0));
  EXPECT_EQ(m.codecs(), "av01.1.13H.10,mp4a.40.5");
}

TEST(fmp4_muxer, config_changed_only_for_a_new_configuration) {
  fmp4_muxer m;
  ASSERT_TRUE(m.video_tag(rtmp::test::avc_sequence_header(), 0));
  init_of(m);
  ASSERT_TRUE(m.video_tag(rtmp::test::avc_sequence_header(), 40));
  EXPECT_FALSE(m.config_changed()) << "the same record again";
  ASSERT_TRUE(m.audio_tag(rtmp::test::aac_sequence_header(), 40));
  EXPECT_TRUE(m.config_changed()) << "a new track";
  init_of(m);
  ASSERT_TRUE(
      m.video_tag(ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "hvc1", ertmp::hvcc_1278x718()), 80));
  EXPECT_TRUE(m.config_changed()) << "another codec";
  EXPECT_EQ(m.video_codec(), "hvc1");
}

// ---------------------------------------------------------------------------
// Fragments.

struct fragment {
  box root;
  bytes raw;
};

fragment flush(fmp4_muxer& m, bool final = false) {
  fragment f;
  m.flush_fragment(f.raw, final);
  f.root = parse(f.raw);
  return f;
}

// The bytes of `size` at `offset` from the start of the moof.
bytes at_offset(const fragment& f, std::int32_t offset, std::size_t size) {
  const box* moof = f.root.find("moof");
  const std::size_t at = moof->offset + static_cast<std::size_t>(offset);
  if (at + size > f.raw.size()) return {};
  return bytes(f.raw.begin() + static_cast<long>(at), f.raw.begin() + static_cast<long>(at + size));
}

TEST(fmp4_muxer, fragments_of_avc_and_aac) {
  fmp4_muxer m;
  ASSERT_TRUE(m.video_tag(rtmp::test::avc_sequence_header(), 0));
  ASSERT_TRUE(m.audio_tag(rtmp::test::aac_sequence_header(), 0));
  // Decode order I P B B with composition times 80, 160, 0, -40 ms.
  const std::vector<bytes> video = {avc_frame(true, 80, 100, 0xA1), avc_frame(false, 160, 50, 0xA2),
                                    avc_frame(false, 0, 30, 0xA3), avc_frame(false, -40, 20, 0xA4)};
  for (std::size_t i = 0; i < video.size(); ++i) ASSERT_TRUE(m.video_tag(video[i], static_cast<std::uint32_t>(40 * i)));
  const std::vector<bytes> audio = {rtmp::test::audio_frame(10, 0xB1), rtmp::test::audio_frame(12, 0xB2),
                                    rtmp::test::audio_frame(14, 0xB3)};
  for (std::size_t i = 0; i < audio.size(); ++i) ASSERT_TRUE(m.audio_tag(audio[i], static_cast<std::uint32_t>(23 * i)));

  const fragment f = flush(m);
  EXPECT_EQ(types(f.root.children), (std::vector<std::string>{"styp", "moof", "mdat"}));
  EXPECT_EQ(cc(f.root.find("styp")->body, 0), "msdh");
  const box* moof = f.root.find("moof");
  ASSERT_NE(moof, nullptr);
  EXPECT_EQ(types(moof->children), (std::vector<std::string>{"mfhd", "traf", "traf"}));
  EXPECT_EQ(be32(moof->find("mfhd")->body, 4), 1u) << "sequence_number";

  const box* vtraf = traf_of(*moof, 1);
  ASSERT_NE(vtraf, nullptr);
  EXPECT_EQ(be32(vtraf->find("tfhd")->body, 0) & 0xFFFFFF, 0x020000u) << "default-base-is-moof";
  EXPECT_EQ(tfdt_of(*vtraf), 0u);
  const auto vt = read_trun(*vtraf->find("trun"));
  EXPECT_EQ(vt.version, 1) << "signed composition offsets";
  ASSERT_EQ(vt.entries.size(), 3u) << "the last frame waits for its duration";
  const std::int32_t cts[] = {7200, 14400, 0};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(vt.entries[i].duration, 3600u) << i;
    EXPECT_EQ(vt.entries[i].size, video[i].size() - 5) << i;
    EXPECT_EQ(vt.entries[i].cts, cts[i]) << i;
    EXPECT_EQ(vt.entries[i].flags, i == 0 ? 0x02000000u : 0x01010000u) << i;
  }
  // The first sample byte in mdat.
  const box* mdat = f.root.find("mdat");
  ASSERT_NE(mdat, nullptr);
  EXPECT_EQ(static_cast<std::size_t>(vt.data_offset), mdat->offset + 8 - moof->offset);
  EXPECT_EQ(at_offset(f, vt.data_offset, video[0].size() - 5), tail(video[0], 5));

  const box* atraf = traf_of(*moof, 2);
  ASSERT_NE(atraf, nullptr);
  EXPECT_EQ(tfdt_of(*atraf), 0u);
  const auto at = read_trun(*atraf->find("trun"));
  ASSERT_EQ(at.entries.size(), 2u);
  EXPECT_EQ(at.entries[0].duration, 1014u) << "23 ms at 44.1 kHz";
  EXPECT_EQ(at.entries[1].duration, 1015u) << "46 ms is sample 2029";
  EXPECT_EQ(at.entries[0].flags, 0x02000000u);
  EXPECT_EQ(at.entries[1].size, 10u);
  // Audio after video in mdat.
  EXPECT_EQ(static_cast<std::size_t>(at.data_offset), static_cast<std::size_t>(vt.data_offset) + 104 + 54 + 34);
  EXPECT_EQ(at_offset(f, at.data_offset, 8), tail(audio[0], 2));
  EXPECT_EQ(mdat->body.size(), 104u + 54 + 34 + 8 + 10);

  // Second fragment: the held-back samples first.
  ASSERT_TRUE(m.video_tag(avc_frame(true, 40, 60, 0xA5), 160));
  ASSERT_TRUE(m.video_tag(avc_frame(false, 40, 60, 0xA6), 200));
  ASSERT_TRUE(m.audio_tag(rtmp::test::audio_frame(16, 0xB4), 69));
  const fragment g = flush(m);
  const box* moof2 = g.root.find("moof");
  ASSERT_NE(moof2, nullptr);
  EXPECT_EQ(be32(moof2->find("mfhd")->body, 4), 2u);
  EXPECT_EQ(tfdt_of(*traf_of(*moof2, 1)), 3u * 3600);
  EXPECT_EQ(tfdt_of(*traf_of(*moof2, 2)), 2029u);
  const auto vt2 = read_trun(*traf_of(*moof2, 1)->find("trun"));
  ASSERT_EQ(vt2.entries.size(), 2u);
  EXPECT_EQ(vt2.entries[0].cts, -3600) << "a negative composition offset";
  EXPECT_EQ(vt2.entries[0].size, 24u);
  EXPECT_EQ(vt2.entries[1].flags, 0x02000000u) << "a keyframe";
  EXPECT_EQ(at_offset(g, vt2.data_offset, 24), tail(video[3], 5));

  // Final fragment: everything, the last sample with the previous duration.
  const fragment h = flush(m, true);
  const box* moof3 = h.root.find("moof");
  ASSERT_NE(moof3, nullptr);
  EXPECT_EQ(be32(moof3->find("mfhd")->body, 4), 3u);
  EXPECT_EQ(tfdt_of(*traf_of(*moof3, 1)), 5u * 3600);
  const auto vt3 = read_trun(*traf_of(*moof3, 1)->find("trun"));
  ASSERT_EQ(vt3.entries.size(), 1u);
  EXPECT_EQ(vt3.entries[0].duration, 3600u);
  const auto at3 = read_trun(*traf_of(*moof3, 2)->find("trun"));
  ASSERT_EQ(at3.entries.size(), 1u);
  EXPECT_EQ(at3.entries[0].duration, 1014u) << "69 ms is sample 3043";

  bytes nothing;
  m.flush_fragment(nothing, true);
  EXPECT_TRUE(nothing.empty()) << "nothing buffered";
}

TEST(fmp4_muxer, a_fragment_without_styp_is_moof_and_mdat) {
  fmp4_muxer m;
  ASSERT_TRUE(m.video_tag(rtmp::test::avc_sequence_header(), 0));
  for (std::uint32_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(m.video_tag(avc_frame(i == 0, 0, 10, static_cast<std::uint8_t>(0xC0 + i)), 40 * i));
  }
  bytes first;
  m.flush_fragment(first);
  EXPECT_EQ(types(parse(first).children), (std::vector<std::string>{"styp", "moof", "mdat"}));
  ASSERT_TRUE(m.video_tag(avc_frame(false, 0, 10, 1), 120));
  fragment f;
  m.flush_fragment(f.raw, false, false);  // an LL-HLS part after the first of its segment
  f.root = parse(f.raw);
  EXPECT_EQ(types(f.root.children), (std::vector<std::string>{"moof", "mdat"}));
  const box* moof = f.root.find("moof");
  ASSERT_NE(moof, nullptr);
  EXPECT_EQ(moof->offset, 0u);
  EXPECT_EQ(be32(moof->find("mfhd")->body, 4), 2u) << "the sequence number runs on";
  const auto t = read_trun(*traf_of(*moof, 1)->find("trun"));
  ASSERT_EQ(t.entries.size(), 1u);
  EXPECT_EQ(at_offset(f, t.data_offset, 14), tail(avc_frame(false, 0, 10, 0xC2), 5))
      << "the held-back frame, its data offset from the moof";
  EXPECT_EQ(f.root.find("mdat")->body.size(), 14u);
}

TEST(fmp4_muxer, nothing_written_until_a_duration_is_known) {
  fmp4_muxer m;
  ASSERT_TRUE(m.video_tag(rtmp::test::avc_sequence_header(), 0));
  bytes out;
  m.flush_fragment(out);
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(m.video_tag(avc_frame(true, 0, 10, 1), 0));
  m.flush_fragment(out);
  EXPECT_TRUE(out.empty()) << "one sample, no duration yet";
  const fragment f = flush(m, true);
  const box* moof = f.root.find("moof");
  ASSERT_NE(moof, nullptr);
  EXPECT_EQ(be32(moof->find("mfhd")->body, 4), 1u) << "empty flushes do not count";
  EXPECT_EQ(moof->all("traf").size(), 1u) << "no traf for a track without samples";
  const auto t = read_trun(*traf_of(*moof, 1)->find("trun"));
  ASSERT_EQ(t.entries.size(), 1u);
  EXPECT_EQ(t.entries[0].duration, 3000u) << "a final lone sample: 1/30 s";
}

TEST(fmp4_muxer, enhanced_hevc_and_av1_frames) {
  fmp4_muxer m;
  ASSERT_TRUE(
      m.video_tag(ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "hvc1", ertmp::hvcc_1278x718()), 0));
  ASSERT_TRUE(
      m.video_tag(ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames, "hvc1", ertmp::hevc_frame(true, 1)), 1000));
  // CodedFrames with composition time -1 ms.
  auto frame = ertmp::hevc_frame(false, 2);
  frame[0] = frame[1] = frame[2] = 0xFF;
  ASSERT_TRUE(m.video_tag(ertmp::video_tag(ertmp::inter_frame, ertmp::coded_frames, "hvc1", frame), 1040));
  // CodedFramesX: no composition time field.
  const auto x = tail(ertmp::hevc_frame(false, 3), 3);
  ASSERT_TRUE(m.video_tag(ertmp::video_tag(ertmp::inter_frame, ertmp::coded_frames_x, "hvc1", x), 1080));
  const fragment f = flush(m, true);
  const box* moof = f.root.find("moof");
  ASSERT_NE(moof, nullptr);
  EXPECT_EQ(tfdt_of(*traf_of(*moof, 1)), 90'000u);
  const auto t = read_trun(*traf_of(*moof, 1)->find("trun"));
  ASSERT_EQ(t.entries.size(), 3u);
  EXPECT_EQ(t.entries[0].size, 68u);
  EXPECT_EQ(t.entries[0].flags, 0x02000000u);
  EXPECT_EQ(t.entries[1].cts, -90);
  EXPECT_EQ(t.entries[2].cts, 0);
  EXPECT_EQ(t.entries[2].flags, 0x01010000u);
  EXPECT_EQ(at_offset(f, t.data_offset, 68), tail(ertmp::hevc_frame(true, 1), 3));

  fmp4_muxer a;
  ASSERT_TRUE(a.video_tag(ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "av01", ertmp::av1c_642x362()), 0));
  const bytes obus = {0x12, 0x00, 0x32, 0x03, 0x10, 0x20, 0x30};  // temporal delimiter, frame OBU
  ASSERT_TRUE(a.video_tag(ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames, "av01", obus), 0));
  ASSERT_TRUE(a.video_tag(ertmp::video_tag(ertmp::inter_frame, ertmp::coded_frames, "av01", obus), 33));
  const fragment g = flush(a, true);
  const auto u = read_trun(*traf_of(*g.root.find("moof"), 1)->find("trun"));
  ASSERT_EQ(u.entries.size(), 2u);
  EXPECT_EQ(u.entries[0].size, obus.size()) << "AV1 CodedFrames carry no composition time";
  EXPECT_EQ(u.entries[0].duration, 2970u);
  EXPECT_EQ(at_offset(g, u.data_offset, obus.size()), obus);
}

// ---------------------------------------------------------------------------
// Refusals.

// Everything a muxer writes from here on: an init segment and a final fragment.
bytes output_of(fmp4_muxer& m) {
  bytes out;
  m.init_segment(out);
  m.flush_fragment(out, true);
  return out;
}

TEST(fmp4_muxer, frames_before_a_configuration_are_refused) {
  fmp4_muxer m;
  EXPECT_FALSE(m.video_tag(avc_frame(true, 0, 10, 1), 0));
  EXPECT_FALSE(m.audio_tag(rtmp::test::audio_frame(10), 0));
  EXPECT_FALSE(
      m.video_tag(ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames, "hvc1", ertmp::hevc_frame(true, 1)), 0));
  EXPECT_FALSE(m.has_video());
  EXPECT_FALSE(m.has_audio());
  EXPECT_FALSE(m.config_changed());
  EXPECT_TRUE(output_of(m).empty());
}

TEST(fmp4_muxer, malformed_and_foreign_tags_change_nothing) {
  auto configured = [] {
    fmp4_muxer m;
    EXPECT_TRUE(m.video_tag(rtmp::test::avc_sequence_header(), 0));
    EXPECT_TRUE(m.audio_tag(rtmp::test::aac_sequence_header(), 0));
    EXPECT_TRUE(m.video_tag(avc_frame(true, 0, 10, 1), 0));
    EXPECT_TRUE(m.audio_tag(rtmp::test::audio_frame(10), 0));
    bytes init;
    m.init_segment(init);
    return m;
  };
  fmp4_muxer reference = configured();
  fmp4_muxer m = configured();

  auto hvcc_cut = ertmp::hvcc_1278x718();
  hvcc_cut.resize(40);  // inside the VPS array
  auto av1c_bad = ertmp::av1c_642x362();
  av1c_bad[0] = 0x01;  // marker bit clear
  auto bad_nal = avc_frame(false, 0, 10, 1);
  bad_nal[8] = 11;  // length past the end
  const std::vector<bytes> video = {
      {},
      {0x17},
      rtmp::test::short_avc_sequence_header(),
      {0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x10, 0x67},  // SPS past the end
      {0x17, 0x01, 0, 0},                                                           // cut in the composition time
      {0x17, 0x01, 0, 0, 0},                                                        // no NAL unit
      bad_nal,
      ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "hvc1", hvcc_cut),
      ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "av01", av1c_bad),
      ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames, "hvc1",
                       ertmp::hevc_frame(true, 1)),  // not the codec configured
      ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "vp09", ertmp::vpcc()),
      {0x14, 0x00, 0x01, 0x02},     // legacy VP6
      {0x1C, 0x00, 0, 0, 0, 0x01},  // legacy HEVC (CodecID 12)
      ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::sequence_start, ertmp::one_track, "hvc1",
                                  {{0, nullptr, ertmp::hvcc_1278x718()}}),
      ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::coded_frames, ertmp::many_tracks, "avc1",
                                  {{0, nullptr, tail(avc_frame(true, 0, 10, 1), 2)}}),
  };
  for (std::size_t i = 0; i < video.size(); ++i) EXPECT_FALSE(m.video_tag(video[i], 40)) << "video " << i;
  const std::vector<bytes> audio = {
      {},
      {0xAF},
      {0xAF, 0x00},                                        // empty AudioSpecificConfig
      {0xAF, 0x00, 0x12},                                  // cut in the channel configuration
      {0xAF, 0x00, 0x17, 0x10},                            // sampling frequency index 14 (reserved)
      {0xAF, 0x01},                                        // an empty frame
      {0x2F, 0x01, 0x02},                                  // MP3
      {0x90, 'O', 'p', 'u', 's', 0x01},                    // Enhanced Opus
      {0x95, 0x00, 'm', 'p', '4', 'a', 0x00, 0x12, 0x10},  // multitrack mp4a
  };
  for (std::size_t i = 0; i < audio.size(); ++i) EXPECT_FALSE(m.audio_tag(audio[i], 40)) << "audio " << i;
  EXPECT_FALSE(m.config_changed());
  EXPECT_EQ(m.codecs(), reference.codecs());
  EXPECT_EQ(m.video_codec(), "avc1");
  EXPECT_EQ(output_of(m), output_of(reference));
}

TEST(fmp4_muxer, end_of_sequence_and_command_frames_write_nothing) {
  fmp4_muxer m;
  ASSERT_TRUE(m.video_tag(rtmp::test::avc_sequence_header(), 0));
  EXPECT_TRUE(m.video_tag(bytes{0x17, 0x02, 0, 0, 0}, 0));  // AVC end of sequence
  EXPECT_TRUE(m.video_tag(bytes{0x50, 0x00}, 0));           // legacy video info/command frame
  EXPECT_TRUE(m.video_tag(ertmp::video_tag(ertmp::key_frame, ertmp::sequence_end, "avc1", {}), 0));
  bytes out;
  m.flush_fragment(out, true);
  EXPECT_TRUE(out.empty());
}

TEST(fmp4_muxer, keyframes) {
  EXPECT_TRUE(fmp4_muxer::is_keyframe(avc_frame(true, 0, 10, 1)));
  EXPECT_FALSE(fmp4_muxer::is_keyframe(avc_frame(false, 0, 10, 1)));
  EXPECT_FALSE(fmp4_muxer::is_keyframe(rtmp::test::avc_sequence_header()));
  EXPECT_FALSE(fmp4_muxer::is_keyframe(bytes{0x17, 0x01, 0, 0, 0}));  // no data
  EXPECT_TRUE(fmp4_muxer::is_keyframe(
      ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames, "hvc1", ertmp::hevc_frame(true, 1))));
  EXPECT_FALSE(fmp4_muxer::is_keyframe(ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames, "hvc1", {0, 0, 0})));
  EXPECT_TRUE(fmp4_muxer::is_keyframe(ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames_x, "hvc1", {0, 0, 0})));
  EXPECT_TRUE(fmp4_muxer::is_keyframe(ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames, "av01", {0x12, 0x00})));
  EXPECT_FALSE(
      fmp4_muxer::is_keyframe(ertmp::video_tag(ertmp::inter_frame, ertmp::coded_frames, "av01", {0x12, 0x00})));
  EXPECT_FALSE(fmp4_muxer::is_keyframe(ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames, "vp09", {1, 2, 3})));
  EXPECT_FALSE(fmp4_muxer::is_keyframe(bytes{0x14, 0x00, 0x01}));  // VP6
  EXPECT_FALSE(fmp4_muxer::is_keyframe(bytes{}));
}

}  // namespace
}  // namespace rtmp::hls
