// ISO/IEC 14496-12 4.2 (box and full box headers), 8.x (the boxes of an
// fMP4 init segment), 12.1.3 / 12.2.3 (visual and audio sample entries);
// ISO/IEC 14496-14 5.6 (esds) and 14496-1 7.2.6 / 8.3.3 (descriptors).
#include "mp4_boxes.hpp"

#include <algorithm>

#include "rtmp/proto/byte_order.hpp"

namespace rtmp::hls::mp4 {

std::size_t box_writer::begin(std::string_view type) {
  const std::size_t at = out_.size();
  u32(0);  // size, written by end()
  fourcc(type);
  return at;
}

std::size_t box_writer::begin_full(std::string_view type, std::uint8_t version, std::uint32_t flags) {
  const std::size_t at = begin(type);
  u8(version);
  u24(flags);
  return at;
}

void box_writer::end(std::size_t at) noexcept { patch_u32(at, static_cast<std::uint32_t>(out_.size() - at)); }

void box_writer::u16(std::uint16_t v) {
  out_.push_back(static_cast<std::uint8_t>(v >> 8));
  out_.push_back(static_cast<std::uint8_t>(v));
}

void box_writer::u24(std::uint32_t v) {
  out_.push_back(static_cast<std::uint8_t>(v >> 16));
  out_.push_back(static_cast<std::uint8_t>(v >> 8));
  out_.push_back(static_cast<std::uint8_t>(v));
}

void box_writer::u32(std::uint32_t v) {
  u16(static_cast<std::uint16_t>(v >> 16));
  u16(static_cast<std::uint16_t>(v));
}

void box_writer::u64(std::uint64_t v) {
  u32(static_cast<std::uint32_t>(v >> 32));
  u32(static_cast<std::uint32_t>(v));
}

void box_writer::fourcc(std::string_view type) {
  for (std::size_t i = 0; i < 4; ++i) out_.push_back(i < type.size() ? static_cast<std::uint8_t>(type[i]) : ' ');
}

void box_writer::bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }

void box_writer::zeros(std::size_t n) { out_.resize(out_.size() + n, 0); }

void box_writer::unity_matrix() {
  // { 1, 0, 0,  0, 1, 0,  0, 0, 1 } in 16.16 (2.30 for the last column).
  const std::uint32_t m[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
  for (const std::uint32_t v : m) u32(v);
}

std::size_t descriptor_header_size(std::size_t size) noexcept {
  std::size_t n = 1;
  while (size >= 0x80) {
    size >>= 7;
    ++n;
  }
  return 1 + n;
}

void box_writer::descriptor(std::uint8_t tag, std::size_t size) {
  u8(tag);
  const std::size_t n = descriptor_header_size(size) - 1;
  for (std::size_t i = n; i-- > 0;) {
    out_.push_back(static_cast<std::uint8_t>(((size >> (7 * i)) & 0x7F) | (i > 0 ? 0x80 : 0x00)));
  }
}

void box_writer::patch_u32(std::size_t at, std::uint32_t v) noexcept { proto::store_be32(out_.data() + at, v); }

// ---------------------------------------------------------------------------
// Init segment boxes.

namespace {

void write_tkhd(box_writer& w, const track_header& t) {
  const std::size_t at = w.begin_full("tkhd", 0, 0x000003);  // track_enabled | track_in_movie
  w.u32(0);                                                  // creation_time
  w.u32(0);                                                  // modification_time
  w.u32(t.id);
  w.u32(0);  // reserved
  w.u32(0);  // duration
  w.zeros(8);
  w.u16(0);                     // layer
  w.u16(0);                     // alternate_group
  w.u16(t.video ? 0 : 0x0100);  // volume
  w.u16(0);                     // reserved
  w.unity_matrix();
  w.u32(std::min<std::uint32_t>(t.width, 0xFFFF) << 16);  // 16.16
  w.u32(std::min<std::uint32_t>(t.height, 0xFFFF) << 16);
  w.end(at);
}

void write_mdhd_hdlr(box_writer& w, const track_header& t) {
  std::size_t at = w.begin_full("mdhd", 0, 0);
  w.u32(0);
  w.u32(0);
  w.u32(t.timescale);
  w.u32(0);       // duration
  w.u16(0x55C4);  // language "und" (ISO-639-2/T, 5 bits a letter)
  w.u16(0);
  w.end(at);
  at = w.begin_full("hdlr", 0, 0);
  w.u32(0);  // pre_defined
  w.fourcc(t.video ? "vide" : "soun");
  w.zeros(12);
  const std::string_view name = t.video ? "VideoHandler" : "SoundHandler";
  w.bytes({reinterpret_cast<const std::uint8_t*>(name.data()), name.size()});
  w.u8(0);
  w.end(at);
}

// minf up to stsd; the caller writes the sample entry, then `finish_minf`.
std::size_t begin_minf(box_writer& w, bool video, std::size_t& stbl_at, std::size_t& stsd_at) {
  const std::size_t minf = w.begin("minf");
  std::size_t at = 0;
  if (video) {
    at = w.begin_full("vmhd", 0, 1);
    w.zeros(8);  // graphicsmode, opcolor
  } else {
    at = w.begin_full("smhd", 0, 0);
    w.zeros(4);  // balance, reserved
  }
  w.end(at);
  const std::size_t dinf = w.begin("dinf");
  const std::size_t dref = w.begin_full("dref", 0, 0);
  w.u32(1);
  w.end(w.begin_full("url ", 0, 1));  // media data in this file
  w.end(dref);
  w.end(dinf);
  stbl_at = w.begin("stbl");
  stsd_at = w.begin_full("stsd", 0, 0);
  w.u32(1);  // entry_count
  return minf;
}

void finish_minf(box_writer& w, std::size_t minf, std::size_t stbl, std::size_t stsd) {
  w.end(stsd);
  for (const char* type : {"stts", "stsc", "stco"}) {
    const std::size_t at = w.begin_full(type, 0, 0);
    w.u32(0);  // entry_count: samples are in the fragments
    w.end(at);
  }
  const std::size_t stsz = w.begin_full("stsz", 0, 0);
  w.u32(0);  // sample_size
  w.u32(0);  // sample_count
  w.end(stsz);
  w.end(stbl);
  w.end(minf);
}

}  // namespace

void write_ftyp(box_writer& w) {
  const std::size_t at = w.begin("ftyp");
  w.fourcc("iso6");  // major_brand: tfdt and trun version 1
  w.u32(0);          // minor_version
  for (const char* brand : {"iso6", "mp41"}) w.fourcc(brand);
  w.end(at);
}

void write_mvhd(box_writer& w, std::uint32_t next_track_id) {
  const std::size_t at = w.begin_full("mvhd", 0, 0);
  w.u32(0);           // creation_time
  w.u32(0);           // modification_time
  w.u32(1000);        // timescale
  w.u32(0);           // duration: fragmented, unknown
  w.u32(0x00010000);  // rate 1.0
  w.u16(0x0100);      // volume 1.0
  w.zeros(10);        // reserved
  w.unity_matrix();
  w.zeros(24);  // pre_defined
  w.u32(next_track_id);
  w.end(at);
}

trak_boxes begin_trak(box_writer& w, const track_header& t) {
  trak_boxes at{};  // trak, mdia, minf, stbl, stsd
  at[0] = w.begin("trak");
  write_tkhd(w, t);
  at[1] = w.begin("mdia");
  write_mdhd_hdlr(w, t);
  at[2] = begin_minf(w, t.video, at[3], at[4]);
  return at;
}

void end_trak(box_writer& w, const trak_boxes& at) {
  finish_minf(w, at[2], at[3], at[4]);
  w.end(at[1]);
  w.end(at[0]);
}

void write_visual_entry(box_writer& w, std::string_view codec, std::string_view config_box,
                        std::span<const std::uint8_t> record, std::uint32_t width, std::uint32_t height) {
  const std::size_t at = w.begin(codec);
  w.zeros(6);   // reserved
  w.u16(1);     // data_reference_index
  w.zeros(16);  // pre_defined, reserved, pre_defined[3]
  w.u16(static_cast<std::uint16_t>(std::min<std::uint32_t>(width, 0xFFFF)));
  w.u16(static_cast<std::uint16_t>(std::min<std::uint32_t>(height, 0xFFFF)));
  w.u32(0x00480000);  // 72 dpi
  w.u32(0x00480000);
  w.u32(0);       // reserved
  w.u16(1);       // frame_count
  w.zeros(32);    // compressorname
  w.u16(0x0018);  // depth
  w.u16(0xFFFF);  // pre_defined -1
  const std::size_t box = w.begin(config_box);
  w.bytes(record);
  w.end(box);
  w.end(at);
}

void write_mp4a_entry(box_writer& w, std::span<const std::uint8_t> asc, std::uint32_t rate, std::uint8_t channels) {
  const std::size_t at = w.begin("mp4a");
  w.zeros(6);
  w.u16(1);  // data_reference_index
  w.zeros(8);
  w.u16(channels);
  w.u16(16);  // samplesize
  w.zeros(4);
  w.u32(rate <= 0xFFFF ? rate << 16 : 0);  // samplerate 16.16
  const std::size_t esds = w.begin_full("esds", 0, 0);
  const std::size_t dsi = descriptor_header_size(asc.size()) + asc.size();
  const std::size_t dcd = 13 + dsi;
  const std::size_t sl = descriptor_header_size(1) + 1;
  const std::size_t es = 3 + descriptor_header_size(dcd) + dcd + sl;
  w.descriptor(0x03, es);          // ES_Descriptor
  w.u16(0);                        // ES_ID
  w.u8(0);                         // no dependency, URL or OCR stream
  w.descriptor(0x04, dcd);         // DecoderConfigDescriptor
  w.u8(0x40);                      // objectTypeIndication: Audio ISO/IEC 14496-3
  w.u8(0x15);                      // streamType 5 (audio) << 2, upStream 0, reserved 1
  w.u24(0);                        // bufferSizeDB
  w.u32(0);                        // maxBitrate
  w.u32(0);                        // avgBitrate
  w.descriptor(0x05, asc.size());  // DecoderSpecificInfo
  w.bytes(asc);
  w.descriptor(0x06, 1);  // SLConfigDescriptor
  w.u8(2);                // predefined: reserved for use in MP4 files
  w.end(esds);
  w.end(at);
}

}  // namespace rtmp::hls::mp4
