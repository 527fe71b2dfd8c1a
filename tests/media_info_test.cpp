#include "rtmp/proto/media_info.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace rtmp::proto;
using bytes = std::vector<std::uint8_t>;

// Enhanced video byte 0: IsExHeader | VideoFrameType << 4 | VideoPacketType.
constexpr std::uint8_t ex_video(std::uint8_t frame_type, std::uint8_t packet_type) {
  return static_cast<std::uint8_t>(0x80 | (frame_type << 4) | packet_type);
}
// Enhanced audio byte 0: SoundFormat 9 (ExHeader) << 4 | AudioPacketType.
constexpr std::uint8_t ex_audio(std::uint8_t packet_type) {
  return static_cast<std::uint8_t>(0x90 | packet_type);
}

bytes with_fourcc(bytes prefix, const char (&cc)[5], bytes suffix = {}) {
  prefix.insert(prefix.end(), cc, cc + 4);
  prefix.insert(prefix.end(), suffix.begin(), suffix.end());
  return prefix;
}

// --- legacy video (FLV spec annex E.4.3) ---------------------------------------

TEST(media_info, legacy_avc) {
  EXPECT_TRUE(is_video_sequence_header(bytes{0x17, 0x00, 0, 0, 0, 1}));
  EXPECT_FALSE(is_video_keyframe(bytes{0x17, 0x00, 0, 0, 0, 1}));
  EXPECT_TRUE(is_video_keyframe(bytes{0x17, 0x01, 0, 0, 0}));
  EXPECT_FALSE(is_video_sequence_header(bytes{0x17, 0x01, 0, 0, 0}));
  EXPECT_FALSE(is_video_keyframe(bytes{0x27, 0x01, 0, 0, 0}));  // inter frame
  EXPECT_FALSE(is_video_sequence_header(bytes{0x27, 0x01, 0, 0, 0}));
  // End of sequence: frame type 1 but neither a picture nor a configuration.
  EXPECT_FALSE(is_video_keyframe(bytes{0x17, 0x02, 0, 0, 0}));
  EXPECT_FALSE(is_video_sequence_header(bytes{0x17, 0x02, 0, 0, 0}));
  // Video info/command frame (FrameType 5).
  EXPECT_FALSE(is_video_sequence_header(bytes{0x57, 0x00, 0, 0, 0, 0}));
  EXPECT_FALSE(is_video_keyframe(bytes{0x57, 0x01, 0, 0, 0, 0}));
  EXPECT_EQ(video_codec_name(bytes{0x27, 0x01}), "H264");

  const auto info = describe_video_tag(bytes{0x27, 0x01, 0, 0, 0});
  EXPECT_TRUE(info.valid);
  EXPECT_FALSE(info.enhanced);
  EXPECT_EQ(info.frame_type, 2);
  EXPECT_EQ(info.codec_id, 7);
  EXPECT_EQ(info.packet_type, 1);
  EXPECT_EQ(info.fourcc, 0u);
}

TEST(media_info, legacy_hevc_codec_12) {
  EXPECT_TRUE(is_video_sequence_header(bytes{0x1c, 0x00, 0, 0, 0}));
  EXPECT_TRUE(is_video_keyframe(bytes{0x1c, 0x01, 0, 0, 0}));
  EXPECT_FALSE(is_video_keyframe(bytes{0x2c, 0x01, 0, 0, 0}));
  EXPECT_EQ(video_codec_name(bytes{0x1c, 0x00}), "HEVC");
}

TEST(media_info, legacy_other_codecs) {
  EXPECT_TRUE(is_video_keyframe(bytes{0x12, 0xAA}));  // Sorenson H.263 key frame
  EXPECT_FALSE(is_video_keyframe(bytes{0x22, 0xAA}));
  EXPECT_FALSE(is_video_sequence_header(bytes{0x12, 0x00}));
  EXPECT_EQ(describe_video_tag(bytes{0x12}).packet_type, no_packet_type);
  EXPECT_EQ(video_codec_name(bytes{0x12}), "H263");
  EXPECT_EQ(video_codec_name(bytes{0x13}), "ScreenVideo");
  EXPECT_EQ(video_codec_name(bytes{0x14}), "VP6");
  EXPECT_EQ(video_codec_name(bytes{0x15}), "VP6A");
  EXPECT_EQ(video_codec_name(bytes{0x16}), "ScreenVideo2");
  EXPECT_EQ(video_codec_name(bytes{0x1f}), "unknown");
}

TEST(media_info, short_and_empty_payloads_are_safe) {
  EXPECT_FALSE(is_video_keyframe({}));
  EXPECT_FALSE(is_video_sequence_header({}));
  EXPECT_FALSE(is_audio_sequence_header({}));
  EXPECT_EQ(video_codec_name({}), "unknown");
  EXPECT_EQ(audio_codec_name({}), "unknown");
  EXPECT_FALSE(describe_video_tag({}).valid);
  EXPECT_FALSE(describe_audio_tag({}).valid);
  // AVC/AAC header without its packet type byte.
  EXPECT_FALSE(is_video_keyframe(bytes{0x17}));
  EXPECT_FALSE(is_video_sequence_header(bytes{0x17}));
  EXPECT_FALSE(describe_video_tag(bytes{0x17}).valid);
  EXPECT_FALSE(is_audio_sequence_header(bytes{0xAF}));
  EXPECT_EQ(audio_codec_name(bytes{0xAF}), "AAC");  // byte 0 is enough for the name
}

// --- enhanced video (Enhanced RTMP v2, ExVideoTagHeader) --------------------------

TEST(media_info, enhanced_video_packet_types) {
  const bytes seq = with_fourcc({ex_video(1, 0)}, "hvc1", {1, 2, 3});
  EXPECT_TRUE(is_video_sequence_header(seq));
  EXPECT_FALSE(is_video_keyframe(seq));
  EXPECT_EQ(video_codec_name(seq), "HEVC");

  const bytes key = with_fourcc({ex_video(1, 1)}, "hvc1", {0, 0, 0, 9});
  EXPECT_TRUE(is_video_keyframe(key));
  EXPECT_FALSE(is_video_sequence_header(key));

  const bytes key_x = with_fourcc({ex_video(1, 3)}, "av01", {9});  // CodedFramesX
  EXPECT_TRUE(is_video_keyframe(key_x));
  EXPECT_EQ(video_codec_name(key_x), "AV1");

  const bytes inter = with_fourcc({ex_video(2, 1)}, "vp09", {0, 0, 0});
  EXPECT_FALSE(is_video_keyframe(inter));
  EXPECT_EQ(video_codec_name(inter), "VP9");

  EXPECT_FALSE(is_video_keyframe(with_fourcc({ex_video(1, 2)}, "avc1")));  // SequenceEnd
  EXPECT_FALSE(is_video_sequence_header(with_fourcc({ex_video(1, 2)}, "avc1")));
  EXPECT_FALSE(is_video_keyframe(with_fourcc({ex_video(1, 4)}, "avc1")));  // Metadata
  EXPECT_FALSE(is_video_sequence_header(with_fourcc({ex_video(1, 4)}, "avc1")));
  // MPEG2TSSequenceStart (AV1 video descriptor) is decoder configuration too.
  EXPECT_TRUE(is_video_sequence_header(with_fourcc({ex_video(1, 5)}, "av01")));
  EXPECT_EQ(video_codec_name(with_fourcc({ex_video(1, 1)}, "avc1")), "H264");
  EXPECT_EQ(video_codec_name(with_fourcc({ex_video(1, 1)}, "vp08")), "VP8");
  EXPECT_EQ(video_codec_name(with_fourcc({ex_video(1, 1)}, "zzzz")), "unknown");

  const auto info = describe_video_tag(key);
  EXPECT_TRUE(info.valid);
  EXPECT_TRUE(info.enhanced);
  EXPECT_EQ(info.frame_type, 1);
  EXPECT_EQ(info.packet_type, 1);
  EXPECT_EQ(info.fourcc, make_fourcc("hvc1"));
  EXPECT_FALSE(info.multitrack);
}

TEST(media_info, enhanced_video_command_frame_has_no_fourcc) {
  const bytes cmd = {ex_video(5, 1), 0x00};  // VideoCommand StartSeek
  EXPECT_FALSE(is_video_keyframe(cmd));
  EXPECT_FALSE(is_video_sequence_header(bytes{ex_video(5, 0), 0x01}));
  EXPECT_EQ(video_codec_name(cmd), "unknown");
  const auto info = describe_video_tag(cmd);
  EXPECT_TRUE(info.valid);
  EXPECT_EQ(info.fourcc, 0u);
  EXPECT_FALSE(describe_video_tag(bytes{ex_video(5, 1)}).valid);  // command byte missing
}

TEST(media_info, enhanced_video_multitrack) {
  // Multitrack (VideoPacketType 6); next byte: AvMultitrackType << 4 | real packet type.
  const bytes one_track_seq = with_fourcc({ex_video(1, 6), 0x00}, "av01", {0, 1, 2});
  EXPECT_TRUE(is_video_sequence_header(one_track_seq));
  EXPECT_FALSE(is_video_keyframe(one_track_seq));
  EXPECT_EQ(video_codec_name(one_track_seq), "AV1");
  EXPECT_TRUE(describe_video_tag(one_track_seq).multitrack);

  const bytes many_tracks_key = with_fourcc({ex_video(1, 6), 0x11}, "avc1", {0, 0, 0, 5});
  EXPECT_TRUE(is_video_keyframe(many_tracks_key));
  EXPECT_EQ(video_codec_name(many_tracks_key), "H264");

  // ManyTracksManyCodecs: the first track's FourCC follows directly.
  const bytes many_codecs = with_fourcc({ex_video(2, 6), 0x21}, "hvc1", {0, 0, 0, 5});
  EXPECT_FALSE(is_video_keyframe(many_codecs));
  EXPECT_EQ(video_codec_name(many_codecs), "HEVC");

  EXPECT_FALSE(describe_video_tag(bytes{ex_video(1, 6)}).valid);
  EXPECT_FALSE(is_video_sequence_header(bytes{ex_video(1, 6), 0x00, 'a', 'v'}));
}

TEST(media_info, enhanced_video_mod_ex_prefixes_are_skipped) {
  // ModEx (7): modExDataSize - 1 = 2 -> 3 bytes of data, then
  // VideoPacketModExType << 4 | next packet type (1 CodedFrames).
  const bytes mod_ex = with_fourcc({ex_video(1, 7), 0x02, 0xA, 0xB, 0xC, 0x01}, "avc1", {0, 0, 0});
  EXPECT_TRUE(is_video_keyframe(mod_ex));
  EXPECT_EQ(video_codec_name(mod_ex), "H264");
  EXPECT_EQ(describe_video_tag(mod_ex).packet_type, 1);

  // The UI16 escape: UI8 255 means "size is UI16 + 1"; 0x0000 -> 1 byte. Then a
  // second ModEx (0x07) of 1 byte, then SequenceStart.
  const bytes chained =
      with_fourcc({ex_video(1, 7), 0xFF, 0x00, 0x00, 0xD1, 0x07, 0x00, 0xD2, 0x00}, "hvc1", {1});
  EXPECT_TRUE(is_video_sequence_header(chained));
  EXPECT_EQ(video_codec_name(chained), "HEVC");

  // ModEx, then multitrack.
  const bytes then_multitrack =
      with_fourcc({ex_video(1, 7), 0x00, 0xEE, 0x06, 0x01}, "av01", {0, 0, 0, 1});
  EXPECT_TRUE(is_video_keyframe(then_multitrack));
  EXPECT_TRUE(describe_video_tag(then_multitrack).multitrack);

  // ModEx data running past the end.
  EXPECT_FALSE(describe_video_tag(bytes{ex_video(1, 7), 0x05, 1, 2}).valid);
  EXPECT_FALSE(describe_video_tag(bytes{ex_video(1, 7), 0xFF, 0x01}).valid);
  EXPECT_FALSE(is_video_keyframe(bytes{ex_video(1, 7)}));
}

TEST(media_info, every_prefix_of_a_header_is_safe_and_incomplete) {
  // Each prefix is copied into an exactly sized heap block, so a read past
  // its end is caught by AddressSanitizer.
  struct header {
    bool video;
    bytes full;
  };
  const std::vector<header> headers = {
      {true, with_fourcc({ex_video(1, 7), 0xFF, 0x00, 0x01, 0xD1, 0xD2, 0x06, 0x20}, "hvc1")},
      {true, with_fourcc({ex_video(1, 6), 0x00}, "av01")},
      {true, with_fourcc({ex_video(1, 0)}, "vp09")},
      {true, bytes{0x17, 0x01}},
      {false, with_fourcc({ex_audio(7), 0x01, 0xA, 0xB, 0x05, 0x00}, "Opus")},
      {false, with_fourcc({ex_audio(0)}, "fLaC")},
      {false, bytes{0xAF, 0x00}},
  };
  for (const auto& [video, full] : headers) {
    for (std::size_t n = 0; n <= full.size(); ++n) {
      auto block = std::make_unique<std::uint8_t[]>(n ? n : 1);
      std::copy(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n), block.get());
      const std::span<const std::uint8_t> p(block.get(), n);
      if (video) {
        EXPECT_EQ(describe_video_tag(p).valid, n == full.size()) << n;
        (void)is_video_keyframe(p);
        (void)is_video_sequence_header(p);
        (void)video_codec_name(p);
      } else {
        EXPECT_EQ(describe_audio_tag(p).valid, n == full.size()) << n;
        (void)is_audio_sequence_header(p);
        (void)audio_codec_name(p);
      }
    }
  }
}

// --- audio (annex E.4.2 and Enhanced RTMP v2 ExAudioTagHeader) ----------------------

TEST(media_info, legacy_audio) {
  EXPECT_TRUE(is_audio_sequence_header(bytes{0xAF, 0x00, 0x12, 0x10}));
  EXPECT_FALSE(is_audio_sequence_header(bytes{0xAF, 0x01, 0x21}));
  EXPECT_FALSE(is_audio_sequence_header(bytes{0x2F, 0x00}));  // MP3: no packet type
  EXPECT_EQ(audio_codec_name(bytes{0xAF, 0x01}), "AAC");
  EXPECT_EQ(audio_codec_name(bytes{0x2F, 0xFF}), "MP3");
  EXPECT_EQ(audio_codec_name(bytes{0xE2}), "MP3");  // MP3 8 kHz
  EXPECT_EQ(audio_codec_name(bytes{0xB6}), "Speex");
  EXPECT_EQ(audio_codec_name(bytes{0x72}), "G711A");
  EXPECT_EQ(audio_codec_name(bytes{0x82}), "G711U");
  EXPECT_EQ(audio_codec_name(bytes{0x3E}), "PCM");
  EXPECT_EQ(audio_codec_name(bytes{0x6E}), "Nellymoser");
  EXPECT_EQ(audio_codec_name(bytes{0xC0}), "unknown");  // 12: not defined
  const auto info = describe_audio_tag(bytes{0xAF, 0x01});
  EXPECT_TRUE(info.valid);
  EXPECT_FALSE(info.enhanced);
  EXPECT_EQ(info.sound_format, 10);
  EXPECT_EQ(info.packet_type, 1);
  EXPECT_EQ(describe_audio_tag(bytes{0x2F}).packet_type, no_packet_type);
}

TEST(media_info, enhanced_audio) {
  const bytes opus_seq = with_fourcc({ex_audio(0)}, "Opus", {'O', 'p', 'u', 's', 'H'});
  EXPECT_TRUE(is_audio_sequence_header(opus_seq));
  EXPECT_EQ(audio_codec_name(opus_seq), "Opus");
  const bytes aac_frame = with_fourcc({ex_audio(1)}, "mp4a", {0x21});
  EXPECT_FALSE(is_audio_sequence_header(aac_frame));
  EXPECT_EQ(audio_codec_name(aac_frame), "AAC");
  EXPECT_EQ(audio_codec_name(with_fourcc({ex_audio(1)}, ".mp3")), "MP3");
  EXPECT_EQ(audio_codec_name(with_fourcc({ex_audio(1)}, "ac-3")), "AC3");
  EXPECT_EQ(audio_codec_name(with_fourcc({ex_audio(1)}, "ec-3")), "EAC3");
  EXPECT_EQ(audio_codec_name(with_fourcc({ex_audio(1)}, "abcd")), "unknown");
  EXPECT_FALSE(is_audio_sequence_header(with_fourcc({ex_audio(4)}, "Opus")));  // MultichannelConfig

  // Multitrack (AudioPacketType 5): AvMultitrackType << 4 | real packet type.
  const bytes multitrack = with_fourcc({ex_audio(5), 0x10}, "fLaC", {0, 0, 0, 1});
  EXPECT_TRUE(is_audio_sequence_header(multitrack));
  EXPECT_EQ(audio_codec_name(multitrack), "FLAC");
  EXPECT_TRUE(describe_audio_tag(multitrack).multitrack);
  // ModEx (7) then SequenceStart.
  const bytes mod_ex = with_fourcc({ex_audio(7), 0x01, 0xA, 0xB, 0x00}, "ac-3");
  EXPECT_TRUE(is_audio_sequence_header(mod_ex));
  EXPECT_EQ(audio_codec_name(mod_ex), "AC3");
  // Truncated FourCC.
  EXPECT_FALSE(is_audio_sequence_header(bytes{ex_audio(0), 'O', 'p'}));
  EXPECT_EQ(audio_codec_name(bytes{ex_audio(0), 'O', 'p'}), "unknown");
}

TEST(media_info, make_fourcc_is_big_endian) {
  EXPECT_EQ(make_fourcc("hvc1"), 0x68766331u);
  static_assert(make_fourcc("av01") == 0x61763031u);
}

// --- track splitting (Enhanced RTMP v2 multitrack) ---------------------------------

// Byte 1 of a multitrack body: AvMultitrackType << 4 | packet type.
constexpr std::uint8_t mt(std::uint8_t multitrack_type, std::uint8_t packet_type) {
  return static_cast<std::uint8_t>((multitrack_type << 4) | packet_type);
}

TEST(media_info, split_non_multitrack_bodies) {
  std::array<media_track, 4> t{};
  // Legacy AVC: body after the 5-byte header.
  // (Named buffers: the spans point into them.)
  const bytes avc{0x17, 0x00, 0, 0, 0, 0xAA};
  ASSERT_EQ(split_video_tracks(avc, t), 1u);
  EXPECT_EQ(t[0].track_id, 0);
  EXPECT_EQ(t[0].fourcc, 0u);
  EXPECT_EQ(bytes(t[0].body.begin(), t[0].body.end()), bytes{0xAA});
  EXPECT_EQ(split_video_tracks(bytes{0x17, 0x00, 0}, t), 0u);  // short legacy AVC header
  // Legacy AAC: after 2 bytes; MP3: after 1.
  ASSERT_EQ(split_audio_tracks(bytes{0xAF, 0x00, 0x12, 0x10}, t), 1u);
  EXPECT_EQ(t[0].body.size(), 2u);
  ASSERT_EQ(split_audio_tracks(bytes{0x2F, 0x01}, t), 1u);
  EXPECT_EQ(t[0].body.size(), 1u);
  // Enhanced: after the FourCC, track 0.
  ASSERT_EQ(split_video_tracks(with_fourcc({ex_video(1, 0)}, "hvc1", {1, 2, 3}), t), 1u);
  EXPECT_EQ(t[0].fourcc, make_fourcc("hvc1"));
  EXPECT_EQ(t[0].body.size(), 3u);
  // Command frames carry no tracks.
  EXPECT_EQ(split_video_tracks(bytes{ex_video(5, 0), 0x01}, t), 0u);
  EXPECT_EQ(split_video_tracks(bytes{}, t), 0u);
}

TEST(media_info, split_many_tracks) {
  // ManyTracks, shared FourCC; tracks 2 (3 bytes) and 0 (1 byte).
  const bytes tag = with_fourcc({ex_video(1, 6), mt(1, 0)}, "av01",
                                {2, 0, 0, 3, 0xA, 0xB, 0xC, 0, 0, 0, 1, 0xD});
  std::array<media_track, 4> t{};
  ASSERT_EQ(split_video_tracks(tag, t), 2u);
  EXPECT_EQ(t[0].track_id, 2);
  EXPECT_EQ(t[0].fourcc, make_fourcc("av01"));
  EXPECT_EQ(bytes(t[0].body.begin(), t[0].body.end()), (bytes{0xA, 0xB, 0xC}));
  EXPECT_EQ(t[1].track_id, 0);
  EXPECT_EQ(bytes(t[1].body.begin(), t[1].body.end()), bytes{0xD});
  // Room for one: the first only.
  std::array<media_track, 1> one{};
  EXPECT_EQ(split_video_tracks(tag, one), 1u);
  // A second track whose size runs past the end is dropped; the first stays.
  bytes cut = tag;
  cut.pop_back();
  EXPECT_EQ(split_video_tracks(cut, t), 1u);
  // Every prefix is safe.
  for (std::size_t n = 0; n <= tag.size(); ++n) {
    (void)split_video_tracks(std::span<const std::uint8_t>(tag.data(), n), t);
  }
}

TEST(media_info, split_many_codecs_and_one_track) {
  // ManyTracksManyCodecs: a FourCC per track.
  bytes tag{ex_video(1, 6), mt(2, 0)};
  tag = with_fourcc(tag, "hvc1", {0, 0, 0, 1, 0x11});
  tag = with_fourcc(tag, "vp09", {1, 0, 0, 2, 0x22, 0x23});
  std::array<media_track, 4> t{};
  ASSERT_EQ(split_video_tracks(tag, t), 2u);
  EXPECT_EQ(t[0].fourcc, make_fourcc("hvc1"));
  EXPECT_EQ(t[1].fourcc, make_fourcc("vp09"));
  EXPECT_EQ(t[1].track_id, 1);
  EXPECT_EQ(t[1].body.size(), 2u);
  // OneTrack: no size, the rest is the body.
  const bytes one = with_fourcc({ex_video(2, 6), mt(0, 1)}, "hvc1", {7, 0xAA, 0xBB});
  ASSERT_EQ(split_video_tracks(one, t), 1u);
  EXPECT_EQ(t[0].track_id, 7);
  EXPECT_EQ(t[0].body.size(), 2u);
  // Reserved multitrack type 3.
  EXPECT_EQ(split_video_tracks(with_fourcc({ex_video(1, 6), mt(3, 0)}, "hvc1", {0, 0, 0, 0}), t), 0u);
  // Audio multitrack (AudioPacketType 5).
  const bytes audio = with_fourcc({ex_audio(5), mt(1, 0)}, "Opus", {0, 0, 0, 1, 0x1, 3, 0, 0, 1, 0x3});
  ASSERT_EQ(split_audio_tracks(audio, t), 2u);
  EXPECT_EQ(t[1].track_id, 3);
  EXPECT_EQ(t[1].fourcc, make_fourcc("Opus"));
}

TEST(media_info, many_tracks_are_capped_by_the_output) {
  bytes tag = with_fourcc({ex_video(1, 6), mt(1, 0)}, "hvc1");
  for (int id = 0; id < 255; ++id) tag.insert(tag.end(), {static_cast<std::uint8_t>(id), 0, 0, 0});
  std::array<media_track, max_tracks_per_message> t{};
  EXPECT_EQ(split_video_tracks(tag, t), max_tracks_per_message);
}

TEST(media_info, sequence_end) {
  EXPECT_TRUE(is_sequence_end(with_fourcc({ex_video(1, 2)}, "hvc1"), true));
  EXPECT_TRUE(is_sequence_end(with_fourcc({ex_video(1, 6), mt(1, 2)}, "hvc1", {0, 0, 0, 0}), true));
  EXPECT_TRUE(is_sequence_end(with_fourcc({ex_audio(2)}, "Opus"), false));
  EXPECT_FALSE(is_sequence_end(bytes{0x17, 0x02, 0, 0, 0}, true));  // legacy AVC end of sequence
  EXPECT_FALSE(is_sequence_end(with_fourcc({ex_video(1, 0)}, "hvc1"), true));
  EXPECT_FALSE(is_sequence_end(bytes{ex_video(5, 2), 0}, true));  // a command frame
  EXPECT_FALSE(is_sequence_end(bytes{}, false));
}

}  // namespace
