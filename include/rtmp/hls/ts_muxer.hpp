#pragma once
/// @file ts_muxer.hpp
/// An MPEG-2 transport stream writer for HLS (RFC 8216 section 3.2): one
/// program of H.264 video and AAC audio, written from FLV tag bodies as
/// RTMP carries them (ISO/IEC 13818-1 for the transport stream; ISO/IEC
/// 14496-15 for AVC in FLV; ISO/IEC 14496-3 / ADTS for AAC). Sans-I/O:
/// bytes in, 188-byte packets out; nothing here reads a socket or a file.
///
/// Everything here reads untrusted bytes: a short or malformed tag is
/// refused (false, nothing written), never a crash or an out-of-bounds read.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace rtmp::hls {

/// Size of one transport stream packet.
inline constexpr std::size_t ts_packet_size = 188;

/// The PIDs of the program (defaults as most HLS packagers use them). PIDs
/// are 13 bits: higher bits are ignored.
struct ts_pids {
  std::uint16_t pmt = 0x1000;    ///< Program map table.
  std::uint16_t video = 0x100;   ///< H.264 elementary stream (also carries the PCR).
  std::uint16_t audio = 0x101;   ///< AAC (ADTS) elementary stream.
};

/// Writes one transport stream across segments: the continuity counters run
/// on from one segment to the next, and the codec configuration (SPS/PPS,
/// AudioSpecificConfig) is remembered from the sequence headers.
///
/// Timestamps: FLV milliseconds become 90 kHz PTS/DTS (DTS = timestamp,
/// PTS = timestamp + composition time) plus a fixed offset of
/// `timestamp_offset_90k` so that PTS stays positive; the PCR (on the video
/// PID, or on the audio PID for an audio-only program) is the DTS minus that
/// offset. Values are taken modulo 2^33 as the standard wants.
class ts_muxer {
 public:
  /// 0.7 s, as ffmpeg's mpegts muxer does by default.
  static constexpr std::uint64_t timestamp_offset_90k = 63'000;

  explicit ts_muxer(ts_pids pids = {}) : pids_(pids) {}

  /// An FLV video tag body (first byte FrameType << 4 | CodecID). Only
  /// legacy AVC (CodecID 7) is used:
  /// * AVCPacketType 0 (sequence header): the AVCDecoderConfigurationRecord
  ///   is parsed and its SPS/PPS kept; writes nothing; true when it parsed.
  /// * AVCPacketType 1 (NAL units, length-prefixed as the record says):
  ///   written as one PES packet in Annex B form, with an access unit
  ///   delimiter first and, on a keyframe, the SPS and PPS before the
  ///   picture (right after the delimiter), unless the frame carries both
  ///   itself. The first TS packet of the PES carries the PCR and, on a
  ///   keyframe (FrameType 1), the random_access_indicator. False (nothing
  ///   written) before a sequence header, for a malformed length prefix, for
  ///   a frame without NAL units, or for another codec.
  /// * AVCPacketType 2 (end of sequence), or FrameType 5 (a video
  ///   info/command frame): nothing written, true.
  ///
  /// On success the packets are appended to `out`; on failure `out` is left
  /// as it was. A sequence header that does not parse keeps the previous one.
  bool video_tag(std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms, std::vector<std::uint8_t>& out);

  /// An FLV audio tag body. Only AAC (SoundFormat 10) is used:
  /// AACPacketType 0 (AudioSpecificConfig: object type, sampling frequency
  /// index, channel configuration) is kept and writes nothing; type 1 (a
  /// raw frame) is written as one PES packet with a 7-byte ADTS header (for
  /// an audio-only program its first TS packet carries the PCR and the
  /// random_access_indicator: a segment may begin at any frame). False
  /// (nothing written) before the config, for a config ADTS cannot express
  /// (explicit 24-bit frequency, object type above 4 or channel
  /// configuration 0), for an empty frame or one too long for ADTS, or for
  /// another format. A config that is refused keeps the previous one.
  bool audio_tag(std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms, std::vector<std::uint8_t>& out);

  /// Writes the PAT and the PMT (one packet each) naming the streams whose
  /// configuration has been seen (H.264: stream_type 0x1B, AAC: 0x0F). A
  /// segment starts with them so that it decodes on its own. The PCR_PID is
  /// the video PID once video is configured, else the audio PID (0x1FFF
  /// before either); the PMT's version_number changes when the list of
  /// streams changed since the previous call.
  void write_tables(std::vector<std::uint8_t>& out);

  /// True once an AVC sequence header was accepted.
  bool has_video() const noexcept { return !sps_.empty(); }
  /// True once an AAC AudioSpecificConfig was accepted.
  bool has_audio() const noexcept { return audio_config_ok_; }

  /// True when `payload` is an FLV video tag of an AVC keyframe (FrameType 1)
  /// carrying NAL units (AVCPacketType 1, at least one byte after the
  /// composition time): a segment may begin there.
  static bool is_avc_keyframe(std::span<const std::uint8_t> payload) noexcept;

 private:
  /// What the first TS packet of a PES carries in its adaptation field.
  struct pes_marks {
    bool pcr = false;            ///< Carry a PCR of `pcr_base` (extension 0).
    std::uint64_t pcr_base = 0;  ///< 90 kHz, modulo 2^33.
    bool random_access = false;  ///< Set random_access_indicator.
  };

  bool read_avc_config(std::span<const std::uint8_t> record);
  bool read_aac_config(std::span<const std::uint8_t> config);
  bool build_video_pes(std::span<const std::uint8_t> nal_units, bool keyframe, std::uint64_t pts, std::uint64_t dts);
  void append_parameter_sets();
  void write_pes(std::uint16_t pid, const pes_marks& marks, std::vector<std::uint8_t>& out);
  void write_section(std::uint16_t pid, std::span<const std::uint8_t> section, std::vector<std::uint8_t>& out);
  std::uint8_t next_counter(std::uint16_t pid) noexcept;

  ts_pids pids_;
  std::array<std::uint8_t, 8192> pid_counters_{};  // continuity counter per PID (13 bits)
  std::vector<std::vector<std::uint8_t>> sps_;     // from the AVC sequence header
  std::vector<std::vector<std::uint8_t>> pps_;
  std::uint8_t nal_length_size_ = 4;
  bool audio_config_ok_ = false;
  std::uint8_t aac_object_type_ = 2;   // AAC LC
  std::uint8_t aac_frequency_index_ = 4;
  std::uint8_t aac_channels_ = 2;
  std::uint8_t pmt_version_ = 0;       // version_number, bumped when the stream list changes
  std::uint8_t pmt_streams_ = 0xFF;    // streams (1 video, 2 audio) of the last PMT written; 0xFF: none yet
  std::vector<std::uint8_t> pes_;      // scratch: the PES being packetized (reused)
};

}  // namespace rtmp::hls
