// MPEG-2 transport stream muxer for HLS: H.264 and AAC from FLV tag bodies.
// Transport stream, PSI and PES: ISO/IEC 13818-1 (sections 2.4.3 and 2.4.4).
// AVC in FLV: ISO/IEC 14496-15 5.2.4.1 (AVCDecoderConfigurationRecord) and
// H.264 (Annex B byte stream, 7.4.1.2.3 NAL unit order). AAC: ISO/IEC
// 14496-3 1.6.2.1 (AudioSpecificConfig) and 1.A.2.2 (ADTS).
#include "rtmp/hls/ts_muxer.hpp"

#include <algorithm>
#include <cstring>

#include "rtmp/proto/byte_order.hpp"

namespace rtmp::hls {

namespace {

using bytes_view = std::span<const std::uint8_t>;

constexpr std::uint8_t sync_byte = 0x47;
constexpr std::uint16_t pat_pid = 0x0000;
constexpr std::uint16_t no_pcr_pid = 0x1FFF;  // 2.4.4.9: "no PCR" for the PCR_PID field
constexpr std::uint16_t pid_mask = 0x1FFF;
constexpr std::size_t ts_header_size = 4;
constexpr std::size_t ts_payload_size = ts_packet_size - ts_header_size;
constexpr std::uint64_t ts_mask = (std::uint64_t{1} << 33) - 1;  // PTS, DTS and PCR base are 33 bits

constexpr std::uint16_t program_number = 1;
constexpr std::uint16_t transport_stream_id = 1;
constexpr std::uint8_t table_id_pat = 0x00;
constexpr std::uint8_t table_id_pmt = 0x02;
constexpr std::uint8_t stream_type_h264 = 0x1B;  // Table 2-34: AVC video
constexpr std::uint8_t stream_type_adts = 0x0F;  // Table 2-34: ISO/IEC 13818-7 audio with ADTS
constexpr std::uint8_t stream_id_video = 0xE0;
constexpr std::uint8_t stream_id_audio = 0xC0;

// FLV tag fields (FLV spec v10.1 annex E.4.2 and E.4.3).
constexpr std::uint8_t flv_codec_avc = 7;
constexpr std::uint8_t flv_sound_format_aac = 10;
constexpr std::uint8_t flv_frame_key = 1;
constexpr std::uint8_t flv_frame_command = 5;
constexpr std::size_t flv_video_header_size = 5;  // byte0, AVCPacketType, CompositionTime
constexpr std::size_t flv_audio_header_size = 2;  // byte0, AACPacketType

// H.264 Table 7-1 nal_unit_type values.
constexpr std::uint8_t nal_sps = 7;
constexpr std::uint8_t nal_pps = 8;
constexpr std::uint8_t nal_aud = 9;
constexpr std::uint8_t start_code[] = {0x00, 0x00, 0x00, 0x01};
// Access unit delimiter: primary_pic_type 7 (any slice type) + rbsp trailing bits.
constexpr std::uint8_t aud_nal[] = {0x09, 0xF0};

constexpr std::size_t adts_header_size = 7;
constexpr std::size_t adts_max_frame_length = 0x1FFF;  // 13-bit aac_frame_length, header included

// The MPEG-2 CRC32 of PSI sections (Annex A): polynomial 0x04C11DB7, initial
// value 0xFFFFFFFF, MSB first, no final xor.
constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i << 24;
    for (int bit = 0; bit < 8; ++bit) c = (c & 0x80000000u) != 0 ? (c << 1) ^ 0x04C11DB7u : c << 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> crc_table = make_crc_table();

std::uint32_t crc32_mpeg(bytes_view data) noexcept {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const std::uint8_t b : data) crc = (crc << 8) ^ crc_table[((crc >> 24) ^ b) & 0xFF];
  return crc;
}

// FLV milliseconds to 90 kHz with the muxer's offset, modulo 2^33.
std::uint64_t to_90k(std::int64_t ms) noexcept {
  return static_cast<std::uint64_t>(ms * 90 + static_cast<std::int64_t>(ts_muxer::timestamp_offset_90k)) & ts_mask;
}

// Most significant bits first, never past the end.
class bit_reader {
 public:
  explicit bit_reader(bytes_view data) noexcept : data_(data) {}

  bool read(unsigned bits, std::uint32_t& value) noexcept {
    if (bits > data_.size() * 8 - pos_) return false;
    value = 0;
    for (unsigned i = 0; i < bits; ++i, ++pos_) value = (value << 1) | ((data_[pos_ / 8] >> (7 - pos_ % 8)) & 1u);
    return true;
  }

 private:
  bytes_view data_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// Transport stream packets (2.4.3.2, 2.4.3.4).

// A PCR (2.4.3.5): 33-bit base, 6 reserved bits, 9-bit extension (0 here).
void put_pcr(std::uint8_t* p, std::uint64_t base) noexcept {
  p[0] = static_cast<std::uint8_t>(base >> 25);
  p[1] = static_cast<std::uint8_t>(base >> 17);
  p[2] = static_cast<std::uint8_t>(base >> 9);
  p[3] = static_cast<std::uint8_t>(base >> 1);
  p[4] = static_cast<std::uint8_t>(((base & 1) << 7) | 0x7E);
  p[5] = 0x00;
}

// The 4-byte packet header (adaptation_field_control: 01 payload only, 11 both).
void put_ts_header(std::uint8_t* p, std::uint16_t pid, bool unit_start, bool adaptation, std::uint8_t cc) noexcept {
  p[0] = sync_byte;
  p[1] = static_cast<std::uint8_t>((unit_start ? 0x40 : 0x00) | ((pid >> 8) & 0x1F));
  p[2] = static_cast<std::uint8_t>(pid);
  p[3] = static_cast<std::uint8_t>((adaptation ? 0x30 : 0x10) | (cc & 0x0F));
}

// Appends one packet carrying as much of `payload` (not empty) as fits; a
// packet that is not full is completed with adaptation field stuffing
// (2.4.3.5: a one-byte field is just adaptation_field_length 0). Returns the
// payload bytes taken.
std::size_t put_pes_packet(std::vector<std::uint8_t>& out, std::uint16_t pid, std::uint8_t cc, bool unit_start,
                           bool pcr, std::uint64_t pcr_base, bool random_access, bytes_view payload) {
  const std::size_t fields = (pcr || random_access) ? 2 + (pcr ? 6 : 0) : 0;
  const std::size_t take = std::min(ts_payload_size - fields, payload.size());
  const std::size_t adaptation_size = ts_payload_size - take;  // with its length byte
  const std::size_t at = out.size();
  out.resize(at + ts_packet_size);
  std::uint8_t* p = out.data() + at;
  put_ts_header(p, pid, unit_start, adaptation_size > 0, cc);
  if (adaptation_size > 0) {
    p[4] = static_cast<std::uint8_t>(adaptation_size - 1);
    if (adaptation_size > 1) {
      p[5] = static_cast<std::uint8_t>((random_access ? 0x40 : 0x00) | (pcr ? 0x10 : 0x00));
      std::uint8_t* q = p + 6;
      if (pcr) {
        put_pcr(q, pcr_base);
        q += 6;
      }
      std::fill(q, p + ts_header_size + adaptation_size, std::uint8_t{0xFF});  // stuffing_byte
    }
  }
  std::memcpy(p + ts_header_size + adaptation_size, payload.data(), take);
  return take;
}

// ---------------------------------------------------------------------------
// PES (2.4.3.6, 2.4.3.7).

// A PTS or DTS field: 4-bit prefix, then 3 + 15 + 15 bits, each followed by a marker bit.
void put_timestamp(std::uint8_t* p, std::uint8_t prefix, std::uint64_t ts) noexcept {
  p[0] = static_cast<std::uint8_t>((prefix << 4) | ((ts >> 29) & 0x0E) | 1);
  p[1] = static_cast<std::uint8_t>(ts >> 22);
  p[2] = static_cast<std::uint8_t>(((ts >> 14) & 0xFE) | 1);
  p[3] = static_cast<std::uint8_t>(ts >> 7);
  p[4] = static_cast<std::uint8_t>(((ts << 1) & 0xFE) | 1);
}

// Appends a PES header with PTS (and DTS when it differs). `payload_size` is
// what follows the header; PES_packet_length is 0 (unbounded, allowed for
// video only) when `bounded` is false or the length does not fit in 16 bits.
void append_pes_header(std::vector<std::uint8_t>& pes, std::uint8_t stream_id, std::uint64_t pts, std::uint64_t dts,
                       bool bounded, std::size_t payload_size) {
  const bool with_dts = pts != dts;
  const std::size_t header_data = with_dts ? 10 : 5;
  const std::size_t length = 3 + header_data + payload_size;
  std::uint8_t h[19] = {0x00, 0x00, 0x01, stream_id};
  proto::store_be16(h + 4, bounded && length <= 0xFFFF ? static_cast<std::uint16_t>(length) : 0);
  h[6] = 0x84;  // '10', not scrambled, data_alignment_indicator: an access unit or ADTS frame starts here
  h[7] = with_dts ? 0xC0 : 0x80;  // PTS_DTS_flags '11' or '10'
  h[8] = static_cast<std::uint8_t>(header_data);
  put_timestamp(h + 9, with_dts ? 0x3 : 0x2, pts);
  if (with_dts) put_timestamp(h + 14, 0x1, dts);
  pes.insert(pes.end(), h, h + 9 + header_data);
}

// The 7-byte ADTS header without CRC (14496-3 1.A.2.2.1): MPEG-4 ID,
// protection_absent 1, VBR buffer fullness 0x7FF, one raw data block.
void append_adts_header(std::vector<std::uint8_t>& pes, std::uint8_t object_type, std::uint8_t frequency_index,
                        std::uint8_t channels, std::size_t frame_length) {
  const std::uint8_t h[adts_header_size] = {
      0xFF,
      0xF1,
      static_cast<std::uint8_t>(((object_type - 1) << 6) | (frequency_index << 2) | ((channels >> 2) & 1)),
      static_cast<std::uint8_t>(((channels & 3) << 6) | ((frame_length >> 11) & 3)),
      static_cast<std::uint8_t>(frame_length >> 3),
      static_cast<std::uint8_t>(((frame_length & 7) << 5) | 0x1F),
      0xFC,
  };
  pes.insert(pes.end(), h, h + adts_header_size);
}

// ---------------------------------------------------------------------------
// AVC: length-prefixed NAL units (14496-15 5.3.4.2).

// Calls `f(nal)` for each NAL unit of `data` (`length_size` byte prefixes).
// False when a length or a prefix runs past the end (units before it were
// already passed to `f`, so callers validate in a first pass).
template <class F>
bool for_each_nal(bytes_view data, std::size_t length_size, F&& f) {
  std::size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < length_size) return false;
    std::size_t length = 0;
    for (std::size_t i = 0; i < length_size; ++i) length = (length << 8) | data[pos + i];
    pos += length_size;
    if (length > data.size() - pos) return false;
    f(data.subspan(pos, length));
    pos += length;
  }
  return true;
}

struct nal_scan {
  std::size_t units = 0;     // non-empty NAL units
  bool starts_with_aud = false;
  bool has_sps = false;
  bool has_pps = false;
};

bool scan_nals(bytes_view data, std::size_t length_size, nal_scan& scan) {
  return for_each_nal(data, length_size, [&scan](bytes_view nal) {
    if (nal.empty()) return;  // carries nothing: skipped
    const std::uint8_t type = nal[0] & 0x1F;
    if (scan.units++ == 0) scan.starts_with_aud = type == nal_aud;
    scan.has_sps = scan.has_sps || type == nal_sps;
    scan.has_pps = scan.has_pps || type == nal_pps;
  });
}

void append_nal(std::vector<std::uint8_t>& pes, bytes_view nal) {
  pes.insert(pes.end(), std::begin(start_code), std::end(start_code));
  pes.insert(pes.end(), nal.begin(), nal.end());
}

// numOf...ParameterSets entries of the record at `pos`: a 16-bit length and a
// NAL unit of `nal_type` each (14496-15 5.2.4.1.1).
bool read_parameter_sets(bytes_view record, std::size_t& pos, std::size_t count, std::uint8_t nal_type,
                         std::vector<std::vector<std::uint8_t>>& out) {
  for (std::size_t i = 0; i < count; ++i) {
    if (record.size() - pos < 2) return false;
    const std::size_t length = proto::load_be16(record.data() + pos);
    pos += 2;
    if (length == 0 || length > record.size() - pos || (record[pos] & 0x1F) != nal_type) return false;
    out.emplace_back(record.begin() + static_cast<std::ptrdiff_t>(pos),
                     record.begin() + static_cast<std::ptrdiff_t>(pos + length));
    pos += length;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------
// ts_muxer

std::uint8_t ts_muxer::next_counter(std::uint16_t pid) noexcept {
  std::uint8_t& counter = pid_counters_[pid & pid_mask];
  const std::uint8_t value = counter;
  counter = static_cast<std::uint8_t>((counter + 1) & 0x0F);  // continuity_counter: 4 bits
  return value;
}

bool ts_muxer::is_avc_keyframe(std::span<const std::uint8_t> payload) noexcept {
  return payload.size() > flv_video_header_size && payload[0] == ((flv_frame_key << 4) | flv_codec_avc) &&
         payload[1] == 1;
}

bool ts_muxer::video_tag(std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms,
                         std::vector<std::uint8_t>& out) {
  // Bit 7 set is an Enhanced RTMP header (FourCC codecs): not legacy AVC.
  if (payload.empty() || (payload[0] & 0x80) != 0 || (payload[0] & 0x0F) != flv_codec_avc) return false;
  const std::uint8_t frame_type = payload[0] >> 4;
  if (frame_type == 0 || frame_type > flv_frame_command) return false;
  if (frame_type == flv_frame_command) return true;  // a video info/command frame: no picture
  if (payload.size() < flv_video_header_size) return false;
  switch (payload[1]) {
    case 0:
      return read_avc_config(payload.subspan(flv_video_header_size));
    case 1:
      break;
    case 2:
      return true;  // end of sequence
    default:
      return false;
  }
  if (!has_video()) return false;
  // CompositionTime is SI24: sign-extend it.
  const std::int32_t cts = static_cast<std::int32_t>(proto::load_be24(payload.data() + 2) << 8) >> 8;
  const std::uint64_t dts = to_90k(timestamp_ms);
  const std::uint64_t pts = to_90k(std::int64_t{timestamp_ms} + cts);
  const bool keyframe = frame_type == flv_frame_key;
  if (!build_video_pes(payload.subspan(flv_video_header_size), keyframe, pts, dts)) return false;
  pes_marks marks;
  marks.pcr = true;
  marks.pcr_base = (std::uint64_t{timestamp_ms} * 90) & ts_mask;  // DTS minus the offset
  marks.random_access = keyframe;
  write_pes(pids_.video, marks, out);
  return true;
}

// 14496-15 5.2.4.1.1: configurationVersion, profile, compatibility, level,
// 6 reserved bits + lengthSizeMinusOne, 3 reserved bits + numOfSequenceParameterSets,
// the SPS, numOfPictureParameterSets, the PPS (then, for some profiles, an
// extension that is ignored here). Nothing changes unless it all parses.
bool ts_muxer::read_avc_config(std::span<const std::uint8_t> record) {
  // "Readers shall not attempt to decode this record [...] if the version number is unrecognised."
  if (record.size() < 6 || record[0] != 1) return false;
  const std::uint8_t length_size = static_cast<std::uint8_t>((record[4] & 0x03) + 1);
  if (length_size == 3) return false;  // lengthSizeMinusOne "shall be one of 0, 1, or 3"
  std::vector<std::vector<std::uint8_t>> sps;
  std::vector<std::vector<std::uint8_t>> pps;
  std::size_t pos = 6;
  if (!read_parameter_sets(record, pos, record[5] & 0x1F, nal_sps, sps) || pos >= record.size()) return false;
  const std::size_t pps_count = record[pos++];
  if (!read_parameter_sets(record, pos, pps_count, nal_pps, pps)) return false;
  if (sps.empty() || pps.empty()) return false;  // nothing could be decoded
  sps_ = std::move(sps);
  pps_ = std::move(pps);
  nal_length_size_ = length_size;
  return true;
}

void ts_muxer::append_parameter_sets() {
  for (const auto& sps : sps_) append_nal(pes_, sps);
  for (const auto& pps : pps_) append_nal(pes_, pps);
}

// The PES of one access unit in Annex B form: an access unit delimiter first
// (unless the frame starts with one), then, on a keyframe that does not carry
// both itself, the SPS and PPS right after it, before any SEI or slice
// (H.264 7.4.1.2.3 orders them so), then the frame's NAL units.
bool ts_muxer::build_video_pes(std::span<const std::uint8_t> nal_units, bool keyframe, std::uint64_t pts,
                               std::uint64_t dts) {
  nal_scan scan;
  if (!scan_nals(nal_units, nal_length_size_, scan) || scan.units == 0) return false;
  pes_.clear();
  append_pes_header(pes_, stream_id_video, pts, dts, false, 0);
  if (!scan.starts_with_aud) append_nal(pes_, aud_nal);
  bool parameter_sets_due = keyframe && !(scan.has_sps && scan.has_pps);
  for_each_nal(nal_units, nal_length_size_, [&](bytes_view nal) {
    if (nal.empty()) return;
    if (parameter_sets_due && (nal[0] & 0x1F) != nal_aud) {
      append_parameter_sets();
      parameter_sets_due = false;
    }
    append_nal(pes_, nal);
  });
  return true;
}

bool ts_muxer::audio_tag(std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms,
                         std::vector<std::uint8_t>& out) {
  if (payload.size() < flv_audio_header_size || (payload[0] >> 4) != flv_sound_format_aac) return false;
  if (payload[1] == 0) return read_aac_config(payload.subspan(flv_audio_header_size));
  if (payload[1] != 1 || !audio_config_ok_) return false;
  const bytes_view frame = payload.subspan(flv_audio_header_size);
  if (frame.empty() || frame.size() > adts_max_frame_length - adts_header_size) return false;
  const std::uint64_t pts = to_90k(timestamp_ms);
  pes_.clear();
  append_pes_header(pes_, stream_id_audio, pts, pts, true, adts_header_size + frame.size());
  append_adts_header(pes_, aac_object_type_, aac_frequency_index_, aac_channels_, adts_header_size + frame.size());
  pes_.insert(pes_.end(), frame.begin(), frame.end());
  // Without video, the audio PID carries the PCR, and every AAC frame is a
  // place to start decoding.
  pes_marks marks;
  marks.pcr = !has_video();
  marks.pcr_base = (std::uint64_t{timestamp_ms} * 90) & ts_mask;
  marks.random_access = marks.pcr;
  write_pes(pids_.audio, marks, out);
  return true;
}

// 14496-3 1.6.2.1 AudioSpecificConfig: audioObjectType (5 bits),
// samplingFrequencyIndex (4), channelConfiguration (4); with explicit SBR/PS
// signalling (object type 5 or 29) the extension frequency and the core
// object type follow, and ADTS carries the core (HE-AAC is decoded from it).
// ADTS can say only what fits its fields: profile = object type - 1 in 2
// bits (types 1..4), a frequency index (not 15, the explicit 24-bit
// frequency) and a channel configuration of 1..7 (0 needs a PCE).
bool ts_muxer::read_aac_config(std::span<const std::uint8_t> config) {
  bit_reader bits(config);
  std::uint32_t object_type = 0;
  std::uint32_t frequency_index = 0;
  std::uint32_t channels = 0;
  if (!bits.read(5, object_type) || !bits.read(4, frequency_index) || frequency_index == 15) return false;
  if (!bits.read(4, channels)) return false;
  if (object_type == 5 || object_type == 29) {
    std::uint32_t extension_index = 0;
    std::uint32_t extension_frequency = 0;
    if (!bits.read(4, extension_index)) return false;
    if (extension_index == 15 && !bits.read(24, extension_frequency)) return false;
    if (!bits.read(5, object_type)) return false;
  }
  if (object_type < 1 || object_type > 4 || frequency_index > 12 || channels < 1 || channels > 7) return false;
  aac_object_type_ = static_cast<std::uint8_t>(object_type);
  aac_frequency_index_ = static_cast<std::uint8_t>(frequency_index);
  aac_channels_ = static_cast<std::uint8_t>(channels);
  audio_config_ok_ = true;
  return true;
}

void ts_muxer::write_pes(std::uint16_t pid, const pes_marks& marks, std::vector<std::uint8_t>& out) {
  pid &= pid_mask;
  bytes_view rest(pes_);
  bool first = true;
  while (!rest.empty()) {
    const std::size_t taken = put_pes_packet(out, pid, next_counter(pid), first, first && marks.pcr, marks.pcr_base,
                                             first && marks.random_access, rest);
    rest = rest.subspan(taken);
    first = false;
  }
}

// One section in one packet: pointer_field 0, the section, 0xFF stuffing
// bytes after it (2.4.4.1).
void ts_muxer::write_section(std::uint16_t pid, std::span<const std::uint8_t> section,
                             std::vector<std::uint8_t>& out) {
  pid &= pid_mask;
  const std::size_t at = out.size();
  out.resize(at + ts_packet_size, 0xFF);
  std::uint8_t* p = out.data() + at;
  put_ts_header(p, pid, true, false, next_counter(pid));
  p[ts_header_size] = 0;  // pointer_field
  std::memcpy(p + ts_header_size + 1, section.data(), section.size());
}

// PAT (2.4.4.3) and PMT (2.4.4.8), one section each, version_number of the
// PMT bumped when its stream list changed since the last one written.
void ts_muxer::write_tables(std::vector<std::uint8_t>& out) {
  const std::uint16_t pmt_pid = pids_.pmt & pid_mask;
  std::array<std::uint8_t, 16> pat = {table_id_pat, 0xB0, 13};  // section_syntax_indicator 1, section_length 13
  proto::store_be16(pat.data() + 3, transport_stream_id);
  pat[5] = 0xC1;  // reserved, version 0, current_next_indicator 1
  proto::store_be16(pat.data() + 8, program_number);
  proto::store_be16(pat.data() + 10, static_cast<std::uint16_t>(0xE000 | pmt_pid));
  proto::store_be32(pat.data() + 12, crc32_mpeg(bytes_view(pat.data(), 12)));
  write_section(pat_pid, pat, out);

  const std::uint8_t streams = static_cast<std::uint8_t>((has_video() ? 1 : 0) | (has_audio() ? 2 : 0));
  if (pmt_streams_ != 0xFF && pmt_streams_ != streams) pmt_version_ = (pmt_version_ + 1) & 0x1F;
  pmt_streams_ = streams;
  const std::uint16_t pcr_pid = has_video() ? pids_.video & pid_mask : has_audio() ? pids_.audio & pid_mask : no_pcr_pid;

  std::array<std::uint8_t, 3 + 9 + 2 * 5 + 4> pmt{};
  std::size_t n = 12;
  const auto add_stream = [&](std::uint8_t type, std::uint16_t pid) {
    pmt[n] = type;
    proto::store_be16(pmt.data() + n + 1, static_cast<std::uint16_t>(0xE000 | (pid & pid_mask)));
    proto::store_be16(pmt.data() + n + 3, 0xF000);  // reserved, ES_info_length 0
    n += 5;
  };
  if (has_video()) add_stream(stream_type_h264, pids_.video);
  if (has_audio()) add_stream(stream_type_adts, pids_.audio);
  pmt[0] = table_id_pmt;
  proto::store_be16(pmt.data() + 1, static_cast<std::uint16_t>(0xB000 | (n + 4 - 3)));  // section_length
  proto::store_be16(pmt.data() + 3, program_number);
  pmt[5] = static_cast<std::uint8_t>(0xC1 | (pmt_version_ << 1));
  proto::store_be16(pmt.data() + 8, static_cast<std::uint16_t>(0xE000 | pcr_pid));
  proto::store_be16(pmt.data() + 10, 0xF000);  // reserved, program_info_length 0
  proto::store_be32(pmt.data() + n, crc32_mpeg(bytes_view(pmt.data(), n)));
  write_section(pmt_pid, bytes_view(pmt.data(), n + 4), out);
}

}  // namespace rtmp::hls
