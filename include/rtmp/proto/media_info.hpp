#pragma once
/// @file media_info.hpp
/// Classifies the body of an audio or video tag (an FLV tag payload, which is
/// also the payload of an RTMP audio/video message): keyframe, sequence
/// header, codec. Both the legacy FLV headers (FLV spec, Adobe Video File
/// Format Spec v10.1, annex E.4.2 / E.4.3) and the Enhanced RTMP v2 headers
/// (ExAudioTagHeader / ExVideoTagHeader: FourCC, ModEx, multitrack) are
/// understood.
///
/// Every function takes a view of the payload, reads only inside it (short or
/// empty payloads are safe and classify as "not a keyframe / not a sequence
/// header / unknown"), keeps no reference to it and never fails otherwise.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace rtmp::proto {

/// Packs a four-character code as Enhanced RTMP puts it on the wire (big-endian).
constexpr std::uint32_t make_fourcc(const char (&s)[5]) noexcept {
  return (std::uint32_t{static_cast<std::uint8_t>(s[0])} << 24) |
         (std::uint32_t{static_cast<std::uint8_t>(s[1])} << 16) |
         (std::uint32_t{static_cast<std::uint8_t>(s[2])} << 8) |
         std::uint32_t{static_cast<std::uint8_t>(s[3])};
}

/// Value of `packet_type` when the header defines none (legacy codecs other
/// than AVC/HEVC/AAC).
inline constexpr std::uint8_t no_packet_type = 0xff;

/// What the header of a video tag body says.
struct video_tag_info {
  /// False when the payload is shorter than the header it announces (then the
  /// other fields hold whatever could be read).
  bool valid = false;
  /// Enhanced RTMP ExVideoTagHeader (bit 7 of byte 0 set).
  bool enhanced = false;
  /// Legacy: 4-bit FrameType; enhanced: 3-bit VideoFrameType. 1 key,
  /// 2 inter, 3 disposable inter, 4 generated key, 5 video info/command.
  std::uint8_t frame_type = 0;
  /// Legacy CodecID (2 Sorenson H.263 ... 7 AVC, 12 HEVC); 0 when enhanced.
  std::uint8_t codec_id = 0;
  /// Legacy AVC/HEVC: AVCPacketType (0 sequence header, 1 NALU, 2 end of
  /// sequence). Enhanced: the VideoPacketType that applies to the body, after
  /// skipping ModEx (7) prefixes and unwrapping Multitrack (6): 0
  /// SequenceStart, 1 CodedFrames, 2 SequenceEnd, 3 CodedFramesX, 4 Metadata,
  /// 5 MPEG2TSSequenceStart. `no_packet_type` for other legacy codecs.
  std::uint8_t packet_type = no_packet_type;
  /// Enhanced: the FourCC (see `make_fourcc`); for a ManyTracksManyCodecs
  /// multitrack body, the first track's. 0 when absent (legacy, command frame).
  std::uint32_t fourcc = 0;
  /// Enhanced: the body is Multitrack (Enhanced RTMP v2).
  bool multitrack = false;
};

/// What the header of an audio tag body says.
struct audio_tag_info {
  /// False when the payload is shorter than the header it announces.
  bool valid = false;
  /// Enhanced RTMP ExAudioTagHeader (SoundFormat 9 = ExHeader).
  bool enhanced = false;
  /// The 4-bit SoundFormat (2 MP3, 10 AAC, 11 Speex, 9 ExHeader, ...).
  std::uint8_t sound_format = 0;
  /// Legacy AAC: AACPacketType (0 sequence header, 1 raw). Enhanced: the
  /// AudioPacketType after ModEx (7) / Multitrack (5): 0 SequenceStart,
  /// 1 CodedFrames, 2 SequenceEnd, 4 MultichannelConfig. `no_packet_type` for
  /// other legacy formats.
  std::uint8_t packet_type = no_packet_type;
  /// Enhanced: the FourCC ("mp4a", "Opus", ".mp3", "fLaC", "ac-3", "ec-3").
  std::uint32_t fourcc = 0;
  /// Enhanced: the body is Multitrack.
  bool multitrack = false;
};

/// One track of an audio or video tag body. Enhanced RTMP v2 multitrack
/// bodies ("Multitrack Streaming via Enhanced RTMP") carry several; every
/// other body is one track, id 0 (the spec's default track).
struct media_track {
  std::uint8_t track_id = 0;  ///< trackId (UI8); 0 for a body that is not multitrack.
  std::uint32_t fourcc = 0;   ///< The track's FourCC; 0 for legacy headers.
  /// The track's body after every header field: legacy AVC/HEVC after the
  /// 5-byte header (AVCPacketType, CompositionTime), legacy AAC after 2
  /// bytes, other legacy formats after 1; enhanced after the FourCC (and, in
  /// multitrack bodies, after trackId and sizeOfTrack). For enhanced
  /// CodedFrames of avc1/hvc1 it still starts with the SI24 composition time.
  std::span<const std::uint8_t> body;
};

/// Upper bound of tracks a caller needs to look at in one message; a hostile
/// body listing more is cut there (trackId is a UI8, so 256 distinct ids
/// could be named).
inline constexpr std::size_t max_tracks_per_message = 16;

/// Parses the header of a video tag body (see `video_tag_info`).
video_tag_info describe_video_tag(std::span<const std::uint8_t> payload) noexcept;

/// Parses the header of an audio tag body (see `audio_tag_info`).
audio_tag_info describe_audio_tag(std::span<const std::uint8_t> payload) noexcept;

/// Splits a video tag body into its tracks, in wire order, writing at most
/// `out.size()` of them. Returns how many were written: 0 for an invalid or
/// truncated header, a command frame or a multitrack body whose first track
/// is cut short; a multitrack body whose later track is cut short yields the
/// complete tracks before it. The spans point into `payload`.
std::size_t split_video_tracks(std::span<const std::uint8_t> payload, std::span<media_track> out) noexcept;

/// Splits an audio tag body into its tracks (as `split_video_tracks`).
std::size_t split_audio_tracks(std::span<const std::uint8_t> payload, std::span<media_track> out) noexcept;

/// True for an enhanced VideoPacketType / AudioPacketType SequenceEnd (2):
/// the end of a track's sequence, after which its configuration is stale.
/// Legacy AVC end-of-sequence (AVCPacketType 2) is not included.
bool is_sequence_end(std::span<const std::uint8_t> payload, bool video) noexcept;

/// True for a coded keyframe: frame type 1 on a body that carries coded
/// frames. Legacy: FrameType (byte0 >> 4) == 1, and for AVC/HEVC also
/// AVCPacketType 1 (NALUs). Enhanced: VideoFrameType ((byte0 >> 4) & 7) == 1
/// with VideoPacketType CodedFrames or CodedFramesX. Sequence headers and
/// end-of-sequence tags also carry frame type 1 but are *not* keyframes here
/// (test them with `is_video_sequence_header`), so "resume at a keyframe"
/// lands on a picture.
bool is_video_keyframe(std::span<const std::uint8_t> payload) noexcept;

/// True for a video decoder configuration. Legacy: CodecID 7 (AVC) or 12
/// (HEVC) with AVCPacketType 0. Enhanced: VideoPacketType SequenceStart (0),
/// or MPEG2TSSequenceStart (5, an AV1 video descriptor, which is the
/// configuration a late joiner needs too); command frames never are.
bool is_video_sequence_header(std::span<const std::uint8_t> payload) noexcept;

/// True for an audio decoder configuration. Legacy: SoundFormat 10 (AAC) with
/// AACPacketType 0 (AudioSpecificConfig). Enhanced: SoundFormat 9 (ExHeader)
/// with AudioPacketType SequenceStart (0).
bool is_audio_sequence_header(std::span<const std::uint8_t> payload) noexcept;

/// Codec name of an Enhanced RTMP video FourCC ("H264", "HEVC", "AV1",
/// "VP9", "VP8"; "unknown" otherwise). The text is static.
std::string_view video_fourcc_name(std::uint32_t fourcc) noexcept;

/// Codec name of a video tag body: "H264", "HEVC", "AV1", "VP9", "VP8",
/// "H263", "VP6", "VP6A", "ScreenVideo", "ScreenVideo2"; "unknown" for an
/// empty payload, an enhanced header too short to hold its FourCC, a command
/// frame (no FourCC) or an unknown codec. A legacy header needs only byte 0.
/// The text is static.
std::string_view video_codec_name(std::span<const std::uint8_t> payload) noexcept;

/// Codec name of an audio tag body: "AAC", "MP3", "Opus", "FLAC", "AC3",
/// "EAC3", "PCM", "ADPCM", "Nellymoser", "G711A", "G711U", "Speex",
/// "Device"; "unknown" as for video (a legacy header needs only byte 0).
/// The text is static.
std::string_view audio_codec_name(std::span<const std::uint8_t> payload) noexcept;

}  // namespace rtmp::proto
