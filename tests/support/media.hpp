#pragma once
// Audio and video tag bodies for tests that publish: AVC and AAC sequence
// headers and frames of a chosen size and fill byte (FLV spec, annex E.4.2
// and E.4.3: the first bytes say codec, frame type and packet type).

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rtmp::test {

/// An AVC sequence header: an AVCDecoderConfigurationRecord, High profile,
/// one SPS and one PPS (well-formed enough for ffprobe and our parsers).
inline std::vector<std::uint8_t> avc_sequence_header() {
  return {0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x64, 0x00, 0x1f,
          0x01, 0x00, 0x02, 0x68, 0xee};
}

/// A minimal AVC sequence header: the record's first bytes only (enough to
/// be classified as a sequence header).
inline std::vector<std::uint8_t> short_avc_sequence_header() { return {0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f}; }

/// An AAC sequence header: AAC LC, 44.1 kHz, stereo.
inline std::vector<std::uint8_t> aac_sequence_header() { return {0xAF, 0x00, 0x12, 0x10}; }

/// An AVC NALU tag body of `size` bytes (at least 2): a keyframe or an
/// inter frame, the rest `fill`.
inline std::vector<std::uint8_t> video_frame(bool key, std::size_t size, std::uint8_t fill = 0x11) {
  std::vector<std::uint8_t> b(size, fill);
  b[0] = key ? 0x17 : 0x27;
  b[1] = 0x01;
  return b;
}

/// A raw AAC frame tag body of `size` bytes (at least 2), the rest `fill`.
inline std::vector<std::uint8_t> audio_frame(std::size_t size, std::uint8_t fill = 0x22) {
  std::vector<std::uint8_t> b(size, fill);
  b[0] = 0xAF;
  b[1] = 0x01;
  return b;
}

}  // namespace rtmp::test
