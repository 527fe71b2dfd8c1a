// The synthetic stream and the histogram of `rtmp-client bench` (see bench_detail.hpp).
#include <algorithm>
#include <bit>
#include <cstring>

#include "bench_detail.hpp"
#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/proto/amf0_value.hpp"

namespace rtmp::bench {

namespace {

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

// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.2.4.1) of a Baseline
// level 1.3 320x240 stream: version 1, profile 66, compatibility 0xC0,
// level 13, 4-byte NALU lengths, one SPS, one PPS.
constexpr std::uint8_t avc_config[] = {
    0x01, 0x42, 0xc0, 0x0d, 0xff, 0xe1,
    0x00, 0x18,  // SPS length 24
    0x67, 0x42, 0xc0, 0x0d, 0xd9, 0x01, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00,
    0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0xa4, 0x80,
    0x01,        // one PPS
    0x00, 0x05,  // PPS length 5
    0x68, 0xcb, 0x83, 0xcb, 0x20,
};

// AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1): AAC LC (2), 44.1 kHz (index 4), 2 channels.
constexpr std::uint8_t aac_config[] = {0x12, 0x10};

proto::message make_message(std::uint8_t type, std::uint32_t timestamp, std::span<const std::uint8_t> body) {
  proto::message m;
  m.type = type;
  m.timestamp = timestamp;
  m.payload = proto::shared_bytes::copy_of(body);
  return m;
}

}  // namespace

void write_stamp(std::span<std::uint8_t> payload, const frame_stamp& stamp) noexcept {
  if (payload.size() < avc_header_size + stamp_size) return;
  std::uint8_t* p = payload.data() + avc_header_size;
  std::memcpy(p, stamp_magic.data(), stamp_magic.size());
  put_u64(p + 8, stamp.sequence);
  put_u64(p + 16, stamp.send_ns);
}

std::optional<frame_stamp> read_stamp(std::span<const std::uint8_t> payload) noexcept {
  if (payload.size() < avc_header_size + stamp_size) return std::nullopt;
  const std::uint8_t* p = payload.data() + avc_header_size;
  if (std::memcmp(p, stamp_magic.data(), stamp_magic.size()) != 0) return std::nullopt;
  return frame_stamp{get_u64(p + 8), get_u64(p + 16)};
}

// --- synthetic_stream ----------------------------------------------------------------------

synthetic_stream::synthetic_stream(std::uint64_t video_bps, std::uint64_t audio_bps)
    : video_bps_(video_bps), audio_bps_(audio_bps) {
  // One GOP (2 s) carries bitrate * 2 / 8 bytes in 49 inter frames and one
  // keyframe of keyframe_weight inter frames.
  const std::uint64_t gop_bytes = video_bps * gop / fps / 8;
  const std::uint64_t inter = gop_bytes / (gop - 1 + keyframe_weight);
  const std::size_t floor = avc_header_size + stamp_size;
  inter_bytes_ = std::max<std::size_t>(floor, static_cast<std::size_t>(inter));
  keyframe_bytes_ = std::max<std::size_t>(floor, static_cast<std::size_t>(inter * keyframe_weight));
  if (audio_bps > 0) {
    const std::uint64_t bytes = audio_bps * audio_frame_samples / audio_rate / 8;
    audio_frame_bytes_ = std::max<std::size_t>(4, static_cast<std::size_t>(bytes));
  }
}

std::vector<std::uint8_t> synthetic_stream::metadata() const {
  namespace amf0 = proto::amf0;
  amf0::ecma_array props{
      {"duration", 0},
      {"width", 320},
      {"height", 240},
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
  body.insert(body.end(), std::begin(avc_config), std::end(avc_config));
  return make_message(9, 0, body);
}

proto::message synthetic_stream::audio_sequence_header() const {
  const std::uint8_t body[] = {0xaf, 0x00, aac_config[0], aac_config[1]};
  return make_message(8, 0, body);
}

proto::message synthetic_stream::video_frame(std::uint64_t index, std::uint64_t sequence,
                                             std::uint64_t send_ns) const {
  const bool key = index % gop == 0;
  const std::size_t size = key ? keyframe_bytes_ : inter_bytes_;
  proto::writable_bytes body(size);
  std::uint8_t* p = body.data();
  p[0] = key ? 0x17 : 0x27;  // FrameType 1/2, CodecID 7 (AVC)
  p[1] = 0x01;               // AVCPacketType: NALU
  p[2] = p[3] = p[4] = 0;    // CompositionTime 0
  write_stamp(body.span(), frame_stamp{sequence, send_ns});
  const std::size_t filler = avc_header_size + stamp_size;
  std::memset(p + filler, 0x5a, size - filler);
  proto::message m;
  m.type = 9;
  m.timestamp = static_cast<std::uint32_t>(video_time_ms(index));
  m.payload = std::move(body).freeze();
  return m;
}

proto::message synthetic_stream::audio_frame(std::uint64_t index) const {
  proto::writable_bytes body(audio_frame_bytes_);
  std::uint8_t* p = body.data();
  p[0] = 0xaf;  // SoundFormat 10 (AAC), 44 kHz, 16 bit, stereo
  p[1] = 0x01;  // AACPacketType: raw
  std::memset(p + 2, 0x21, audio_frame_bytes_ - 2);
  proto::message m;
  m.type = 8;
  m.timestamp = static_cast<std::uint32_t>(audio_time_us(index) / 1000);
  m.payload = std::move(body).freeze();
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
