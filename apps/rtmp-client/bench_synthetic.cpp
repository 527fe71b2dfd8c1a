// The synthetic stream and the histogram of `rtmp-client bench` (see bench_detail.hpp).
#include <algorithm>
#include <bit>
#include <cstring>

#include "bench_detail.hpp"
#include "bench_h264.hpp"
#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/proto/amf0_value.hpp"

namespace rtmp::bench {

namespace {

void put_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  for (int i = 3; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

std::uint32_t get_u32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void put_u64(std::uint8_t* p, std::uint64_t v) noexcept {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

std::uint64_t get_u64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1): AAC LC (2), 44.1 kHz (index 4), 2 channels.
constexpr std::uint8_t aac_config[] = {0x12, 0x10};

// Fills `out` (at least 7 bytes) with one raw_data_block (ISO/IEC 14496-3
// 4.4.2.1) of exactly its size that decodes to 1024 samples of stereo
// silence: a channel_pair_element whose two individual_channel_streams code
// no scale factor band (max_sfb 0: no section, scale factor or spectral
// data), fill_elements up to the size, ID_END, zero bits to the byte.
void write_silent_aac(std::span<std::uint8_t> out) {
  bit_writer w;
  w.bits(1, 3);  // id_syn_ele ID_CPE
  w.bits(0, 4);  // element_instance_tag
  w.bit(false);  // common_window 0: each channel carries its own ics_info
  for (int channel = 0; channel < 2; ++channel) {
    w.bits(0, 8);  // individual_channel_stream: global_gain (no band uses it)
    w.bit(false);  // ics_info: ics_reserved_bit
    w.bits(0, 2);  //   window_sequence ONLY_LONG_SEQUENCE
    w.bit(false);  //   window_shape
    w.bits(0, 6);  //   max_sfb
    w.bit(false);  //   predictor_data_present
    w.bit(false);  // pulse_data_present
    w.bit(false);  // tns_data_present
    w.bit(false);  // gain_control_data_present
  }
  // fill_element (ISO/IEC 14496-3 4.4.2): ID_FIL, cnt u(4) (15: cnt +=
  // esc_count u(8) - 1), then cnt bytes of extension_payload: extension_type
  // EXT_FILL '0000', fill_nibble '0000', cnt - 1 fill_bytes '10100101'. An
  // element is 7 + 8 cnt bits (cnt < 15) or 15 + 8 cnt bits (15 <= cnt <=
  // 269): each takes as much of what is left as it can until less than a
  // byte is left for the alignment.
  const std::size_t end_bits = 3;
  std::size_t left = out.size() * 8 - w.bit_count() - end_bits;
  while (left >= 8) {
    const std::size_t cnt = left >= 15 + 8 * 15 ? std::min<std::size_t>(269, (left - 15) / 8)
                                                : std::min<std::size_t>(14, (left - 7) / 8);
    w.bits(6, 3);  // id_syn_ele ID_FIL
    if (cnt < 15) {
      w.bits(cnt, 4);
    } else {
      w.bits(15, 4);
      w.bits(cnt - 14, 8);  // esc_count
    }
    if (cnt > 0) {
      w.bits(0, 4);  // extension_type EXT_FILL
      w.bits(0, 4);  // fill_nibble
      for (std::size_t i = 1; i < cnt; ++i) w.bits(0xA5, 8);
    }
    left -= (cnt < 15 ? 7 : 15) + 8 * cnt;
  }
  w.bits(7, 3);  // id_syn_ele ID_END
  w.align_zero();
  std::memcpy(out.data(), w.bytes().data(), std::min(out.size(), w.bytes().size()));
}

proto::message make_message(std::uint8_t type, std::uint32_t timestamp, std::span<const std::uint8_t> body) {
  proto::message m;
  m.type = type;
  m.timestamp = timestamp;
  m.payload = proto::shared_bytes::copy_of(body);
  return m;
}

// The stamp in the RBSP of an SEI NAL unit (the bytes after its header),
// when one of its sei_messages (H.264 7.3.2.3.1) is our user data.
std::optional<frame_stamp> stamp_in_sei(std::span<const std::uint8_t> nal_bytes) noexcept {
  rbsp_reader r(nal_bytes);
  std::uint8_t b = 0;
  while (r.next(b)) {
    if (b == 0x80 && r.at_end()) break;  // rbsp_trailing_bits
    std::uint64_t type = b;  // payloadType: 0xFF bytes, then the last byte
    while (b == 0xFF) {
      if (!r.next(b)) return std::nullopt;
      type += b;
    }
    std::uint64_t size = 0;  // payloadSize, coded alike
    do {
      if (!r.next(b)) return std::nullopt;
      size += b;
    } while (b == 0xFF);
    std::array<std::uint8_t, stamp_uuid.size() + stamp_size> head{};
    if (type == 5 && size >= head.size()) {  // user_data_unregistered
      for (auto& x : head) {
        if (!r.next(x)) return std::nullopt;
      }
      const std::uint8_t* stamp = head.data() + stamp_uuid.size();
      if (std::equal(stamp_uuid.begin(), stamp_uuid.end(), head.begin()) &&
          std::equal(stamp_magic.begin(), stamp_magic.end(), stamp)) {
        return frame_stamp{get_u64(stamp + 8), get_u64(stamp + 16)};
      }
      size -= head.size();
    }
    if (!r.skip(size)) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

void write_stamp(std::vector<std::uint8_t>& out, const frame_stamp& stamp, std::size_t padding) {
  std::vector<std::uint8_t> data(stamp_size + padding, 0xFF);
  std::memcpy(data.data(), stamp_magic.data(), stamp_magic.size());
  put_u64(data.data() + 8, stamp.sequence);
  put_u64(data.data() + 16, stamp.send_ns);
  const auto nal = h264::user_data_sei(stamp_uuid, data);
  const std::size_t at = out.size();
  out.resize(at + h264::nal_length_size);
  put_u32(out.data() + at, static_cast<std::uint32_t>(nal.size()));
  out.insert(out.end(), nal.begin(), nal.end());
}

std::optional<frame_stamp> read_stamp(std::span<const std::uint8_t> payload) noexcept {
  // CodecID 7 (AVC), AVCPacketType 1 (NAL units).
  if (payload.size() < avc_header_size || (payload[0] & 0x0F) != 7 || payload[1] != 1) return std::nullopt;
  std::size_t pos = avc_header_size;
  while (payload.size() - pos >= h264::nal_length_size) {
    const std::uint32_t length = get_u32(payload.data() + pos);
    pos += h264::nal_length_size;
    if (length > payload.size() - pos) return std::nullopt;
    const auto nal = payload.subspan(pos, length);
    pos += length;
    if (!nal.empty() && (nal[0] & 0x1F) == h264::nal_sei) {
      if (auto stamp = stamp_in_sei(nal.subspan(1))) return stamp;
    }
  }
  return std::nullopt;
}

// --- synthetic_stream ----------------------------------------------------------------------

synthetic_stream::synthetic_stream(std::uint64_t video_bps, std::uint64_t audio_bps)
    : video_bps_(video_bps),
      audio_bps_(audio_bps),
      sps_(h264::sequence_parameter_set(h264::level_for_bitrate(video_bps))),
      pps_(h264::picture_parameter_set()),
      idr_slices_{h264::idr_slice(0), h264::idr_slice(1)},
      p_slices_(gop) {
  for (std::uint32_t i = 1; i < gop; ++i) p_slices_[i] = h264::skipped_p_slice(i);
  // The largest frames the pictures and stamps make without filler.
  const std::size_t fixed = avc_header_size + max_stamp_unit_size + h264::nal_length_size;
  const std::size_t key_floor = fixed + std::max(idr_slices_[0].size(), idr_slices_[1].size());
  std::size_t inter_floor = 0;
  for (std::uint32_t i = 1; i < gop; ++i) inter_floor = std::max(inter_floor, fixed + p_slices_[i].size());
  // One GOP (2 s) carries bitrate * 2 / 8 bytes: 49 inter frames, and a
  // keyframe of about keyframe_weight inter frames with the rest.
  const std::uint64_t gop_bytes = video_bps * gop / fps / 8;
  inter_bytes_ = std::max<std::size_t>(inter_floor, gop_bytes / (gop - 1 + keyframe_weight));
  const std::uint64_t inters = std::uint64_t{inter_bytes_} * (gop - 1);
  keyframe_bytes_ = std::max<std::size_t>(key_floor, gop_bytes > inters ? gop_bytes - inters : 0);
  if (audio_bps > 0) {
    const std::uint64_t bytes = audio_bps * audio_frame_samples / audio_rate / 8;
    audio_frame_bytes_ = std::max<std::size_t>(min_audio_frame_bytes, static_cast<std::size_t>(bytes));
    proto::writable_bytes body(audio_frame_bytes_);
    body.data()[0] = 0xaf;  // SoundFormat 10 (AAC), 44 kHz, 16 bit, stereo
    body.data()[1] = 0x01;  // AACPacketType: raw
    write_silent_aac(body.span().subspan(2));
    audio_payload_ = std::move(body).freeze();
  }
}

std::vector<std::uint8_t> synthetic_stream::metadata() const {
  namespace amf0 = proto::amf0;
  amf0::ecma_array props{
      {"duration", 0},
      {"width", static_cast<double>(h264::width)},
      {"height", static_cast<double>(h264::height)},
      {"videodatarate", static_cast<double>(video_bps_) / 1000},
      {"framerate", static_cast<double>(fps)},
      {"videocodecid", 7},
      {"encoder", "rtmp-client bench"},
  };
  if (has_audio()) {
    props.push_back("audiodatarate", static_cast<double>(audio_bps_) / 1000);
    props.push_back("audiosamplerate", static_cast<double>(audio_rate));
    props.push_back("audiosamplesize", 16);
    props.push_back("stereo", true);
    props.push_back("audiocodecid", 10);
  }
  const amf0::value values[] = {"onMetaData", std::move(props)};
  std::vector<std::uint8_t> out;
  (void)amf0::encode_all(values, out);  // cannot fail: small, well-formed values
  return out;
}

proto::message synthetic_stream::video_sequence_header() const {
  std::vector<std::uint8_t> body = {0x17, 0x00, 0x00, 0x00, 0x00};
  const auto config = h264::decoder_configuration(sps_, pps_);
  body.insert(body.end(), config.begin(), config.end());
  return make_message(9, 0, body);
}

proto::message synthetic_stream::audio_sequence_header() const {
  const std::uint8_t body[] = {0xaf, 0x00, aac_config[0], aac_config[1]};
  return make_message(8, 0, body);
}

proto::message synthetic_stream::video_frame(std::uint64_t index, std::uint64_t sequence,
                                             std::uint64_t send_ns) const {
  const bool key = index % gop == 0;
  const auto& slice = key ? idr_slices_[(index / gop) % 2] : p_slices_[index % gop];
  const std::size_t target = key ? keyframe_bytes_ : inter_bytes_;
  const frame_stamp stamp{sequence, send_ns};
  // FrameType 1/2 with CodecID 7 (AVC), AVCPacketType 1 (NALU), CompositionTime 0; the stamp.
  std::vector<std::uint8_t> head = {static_cast<std::uint8_t>(key ? 0x17 : 0x27), 0x01, 0x00, 0x00, 0x00};
  write_stamp(head, stamp);
  std::size_t used = head.size() + h264::nal_length_size + slice.size();
  // A filler unit takes at least 6 bytes (length, header, trailing bits): a
  // shorter remainder pads the stamp's user data instead.
  const std::size_t min_filler_unit = h264::nal_length_size + h264::min_filler_size;
  if (used < target && target - used < min_filler_unit) {
    head.resize(avc_header_size);
    write_stamp(head, stamp, target - used);
    used = head.size() + h264::nal_length_size + slice.size();
  }
  // The constructor sized frames for the largest stamp: a frame is smaller
  // than its target by nothing or by room for a filler unit.
  const std::size_t size = std::max(target, used);
  proto::writable_bytes body(size);
  std::uint8_t* p = body.data();
  std::memcpy(p, head.data(), head.size());
  p += head.size();
  put_u32(p, static_cast<std::uint32_t>(slice.size()));
  std::memcpy(p + h264::nal_length_size, slice.data(), slice.size());
  p += h264::nal_length_size + slice.size();
  if (size - used >= min_filler_unit) {
    const std::size_t filler = size - used - h264::nal_length_size;
    put_u32(p, static_cast<std::uint32_t>(filler));
    h264::write_filler(std::span<std::uint8_t>(p + h264::nal_length_size, filler));
  }
  proto::message m;
  m.type = 9;
  m.timestamp = static_cast<std::uint32_t>(video_time_ms(index));
  m.payload = std::move(body).freeze();
  return m;
}

proto::message synthetic_stream::audio_frame(std::uint64_t index) const {
  proto::message m;
  m.type = 8;
  m.timestamp = static_cast<std::uint32_t>(audio_time_us(index) / 1000);
  m.payload = audio_payload_;
  return m;
}

// --- histogram -----------------------------------------------------------------------------

namespace {

constexpr unsigned sub_bits = 6;  // 64 buckets per power of two
constexpr std::uint64_t sub_count = 1u << sub_bits;
constexpr std::size_t bucket_count = sub_count + (64 - sub_bits) * sub_count;

std::size_t bucket_of(std::uint64_t v) noexcept {
  if (v < sub_count) return static_cast<std::size_t>(v);
  const unsigned e = static_cast<unsigned>(std::bit_width(v)) - 1;  // >= sub_bits
  const std::uint64_t sub = (v >> (e - sub_bits)) & (sub_count - 1);
  return static_cast<std::size_t>(sub_count + (e - sub_bits) * sub_count + sub);
}

// The middle of bucket `b`.
std::uint64_t value_of(std::size_t b) noexcept {
  if (b < sub_count) return b;
  const std::uint64_t e = (b - sub_count) / sub_count + sub_bits;
  const std::uint64_t sub = (b - sub_count) % sub_count;
  const std::uint64_t width = std::uint64_t{1} << (e - sub_bits);
  const std::uint64_t low = (std::uint64_t{1} << e) + sub * width;
  return low + width / 2;
}

}  // namespace

histogram::histogram() : buckets_(bucket_count, 0) {}

void histogram::record(std::uint64_t value) noexcept {
  ++buckets_[bucket_of(value)];
  ++count_;
  max_ = std::max(max_, value);
}

void histogram::merge(const histogram& other) noexcept {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

std::uint64_t histogram::percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // The smallest value with at least p % of the samples at or below it.
  auto rank = static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(count_) + 0.999999);
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank) return std::min(value_of(b), max_);
  }
  return max_;
}

}  // namespace rtmp::bench
