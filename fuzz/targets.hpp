#pragma once
/// @file targets.hpp
/// The bodies of the libFuzzer targets in fuzz/, one `run_*` function per
/// target. Each fuzzer .cpp file is a one-line `LLVMFuzzerTestOneInput` that
/// calls its function here, and tests/fuzz_regressions_test.cpp replays the
/// committed crash files (fuzz/regressions/<target>/) and seed corpora
/// (fuzz/corpus/<target>/) through the very same functions, so the g++ test
/// build and the clang fuzz build run identical entry logic.
///
/// Besides "no sanitizer report", every target checks properties that must
/// hold for any input; a violation prints the property and calls
/// `std::abort()`, which libFuzzer reports as a crash:
/// * amf0: decode -> encode -> decode -> encode is stable (the two encodings
///   are byte-equal) for decode_all, parse_command and strip_set_data_frame.
/// * chunk_reader: feeding in splits and feeding at once give the same
///   messages and the same error; the messages re-encoded with chunk_writer
///   (at another chunk size, on other chunk stream ids) decode to the same
///   messages.
/// * handshake: consume() takes exactly C0+C1+C2 (or S0+S1+S2) and no more;
///   the output is S0S1S2 (C0C1 + C2) of the right size; a plain S2 echoes C1.
/// * flv_reader: split feeding equals whole feeding; tags written back with
///   flv_writer read back identically.
/// * proxy_header: a header is never complete before its last byte (every
///   shorter prefix needs more), is no longer than max_proxy_header, and
///   parses the same with whatever follows it; a refusal stays a refusal
///   whatever follows.
/// * hls_segmenter: kept bytes stay bounded; every listed segment is served
///   and whole; the playlist renders; with LL-HLS parts, the parts tile
///   their segment, has() and version() agree with what is kept, and the
///   playlist lists exactly the kept parts.
/// * ts_muxer: a refused tag writes nothing; everything written is whole
///   188-byte packets with the sync byte, continuity counters that run on per
///   PID across calls, PAT/PMT sections with a good CRC naming exactly the
///   configured streams, and PES packets that start where a unit starts (an
///   access unit delimiter first for video, PES_packet_length exact and an
///   ADTS header for audio, random_access_indicator on keyframes).
/// * server_session / client_session: everything the session sends is a
///   valid chunk stream whose commands parse; media events only come for
///   publishes the owner accepted (server) or while playing (client); a
///   client that is starting, publishing or playing has a stream id from
///   createStream (never 0).
///
/// Everything is deterministic (split plans are derived from the input, the
/// handshake random source and clock are fixed), so a crash file replays.
/// No exceptions are thrown or caught here.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "rtmp/hls/segmenter.hpp"
#include "rtmp/hls/ts_muxer.hpp"
#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/proto/byte_order.hpp"
#include "rtmp/proto/chunk_reader.hpp"
#include "rtmp/proto/chunk_writer.hpp"
#include "rtmp/proto/client_session.hpp"
#include "rtmp/proto/codec_config.hpp"
#include "rtmp/proto/command.hpp"
#include "rtmp/proto/control_message.hpp"
#include "rtmp/proto/flv_reader.hpp"
#include "rtmp/proto/flv_writer.hpp"
#include "rtmp/proto/handshake.hpp"
#include "rtmp/proto/media_info.hpp"
#include "rtmp/proto/message.hpp"
#include "rtmp/proto/proxy_header.hpp"
#include "rtmp/proto/server_session.hpp"

namespace rtmp::fuzz {

using bytes_view = std::span<const std::uint8_t>;
using byte_vector = std::vector<std::uint8_t>;

/// Reports a violated property and aborts (libFuzzer saves the input).
[[noreturn]] inline void property_failed(const char* function, int line, const char* what) {
  std::fprintf(stderr, "fuzz property violated in %s (targets.hpp:%d): %s\n", function, line, what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace rtmp::fuzz

/// Checks a property of the code under test; aborts when it does not hold.
#define RTMP_FUZZ_CHECK(cond) ((cond) ? (void)0 : ::rtmp::fuzz::property_failed(__func__, __LINE__, #cond))

namespace rtmp::fuzz {

namespace proto = rtmp::proto;
namespace amf0 = rtmp::proto::amf0;

// ---------------------------------------------------------------------------
// Helpers shared by the targets.

/// Bytes of the RTMP handshake in one direction: C0 (or S0) + C1 + C2.
inline constexpr std::size_t handshake_bytes = 1 + 2 * proto::handshake_block_size;

/// A seed for split plans taken from the input itself (its size and its last
/// bytes), so the fuzzer varies the splits by mutating the input and a crash
/// file replays with the same splits.
inline std::uint32_t seed_of(bytes_view in) noexcept {
  std::uint32_t h = 2166136261u ^ static_cast<std::uint32_t>(in.size());
  const std::size_t tail = std::min<std::size_t>(in.size(), 8);
  for (std::size_t i = in.size() - tail; i < in.size(); ++i) h = (h ^ in[i]) * 16777619u;
  return h;
}

/// Piece sizes for feeding an input in several calls. Modes by `seed`:
/// 0 mod 8: everything at once; 1 mod 8: one byte at a time; otherwise
/// pseudo-random pieces of 1..`max_piece` bytes (xorshift32 from the seed).
class split_plan {
 public:
  /// A plan for `seed` with pieces of at most `max_piece` bytes.
  split_plan(std::uint32_t seed, std::size_t max_piece) noexcept
      : mode_(seed % 8), state_(seed | 1u), max_piece_(std::max<std::size_t>(1, max_piece)) {}

  /// Size of the next piece, 1..`remaining` (`remaining` must be > 0).
  std::size_t next(std::size_t remaining) noexcept {
    if (mode_ == 0) return remaining;
    if (mode_ == 1) return 1;
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return std::min<std::size_t>(remaining, 1 + state_ % max_piece_);
  }

 private:
  std::uint32_t mode_;
  std::uint32_t state_;
  std::size_t max_piece_;
};

/// Feeds `in` piece by piece to `feed(bytes_view) -> bool`; stops early when
/// `feed` returns false (an error). Returns false when it stopped early.
template <class Feed>
bool feed_in_pieces(bytes_view in, split_plan plan, Feed&& feed) {
  std::size_t pos = 0;
  while (pos < in.size()) {
    const std::size_t n = plan.next(in.size() - pos);
    if (!feed(in.subspan(pos, n))) return false;
    pos += n;
  }
  return true;
}

/// A fixed handshake random source: reproducible S1/C1 blocks.
inline void fixed_random(std::span<std::uint8_t> out) noexcept { std::fill(out.begin(), out.end(), 0x5A); }

/// A fixed handshake clock.
inline std::uint32_t fixed_clock() noexcept { return 0x01020304u; }

/// True when two messages have the same type, timestamp, stream id and payload.
inline bool same_message(const proto::message& a, const proto::message& b) noexcept {
  return a.type == b.type && a.timestamp == b.timestamp && a.stream_id == b.stream_id &&
         std::ranges::equal(a.payload.span(), b.payload.span());
}

/// Pops every ready message of `reader` into `out`.
inline void drain_reader(proto::chunk_reader& reader, std::vector<proto::message>& out) {
  proto::message m;
  while (reader.next(m)) out.push_back(std::move(m));
}

/// Runs the media classifiers the hub applies to published audio/video.
inline void describe_media(std::uint8_t type, bytes_view payload) noexcept {
  if (type == static_cast<std::uint8_t>(proto::message_type::video)) {
    (void)proto::describe_video_tag(payload);
    (void)proto::is_video_keyframe(payload);
    (void)proto::is_video_sequence_header(payload);
    (void)proto::video_codec_name(payload);
    (void)proto::is_sequence_end(payload, true);
    (void)proto::describe_video_config(payload);  // hvcC / av1C: SPS and sequence header bit parsing
    std::array<proto::media_track, 4> tracks{};
    const std::size_t n = proto::split_video_tracks(payload, tracks);
    RTMP_FUZZ_CHECK(n <= tracks.size());
    for (std::size_t i = 0; i < n; ++i) {  // every track's body lies inside the payload
      if (tracks[i].body.empty()) continue;
      RTMP_FUZZ_CHECK(tracks[i].body.data() >= payload.data() &&
                      tracks[i].body.data() + tracks[i].body.size() <= payload.data() + payload.size());
    }
  } else if (type == static_cast<std::uint8_t>(proto::message_type::audio)) {
    (void)proto::describe_audio_tag(payload);
    (void)proto::is_audio_sequence_header(payload);
    (void)proto::audio_codec_name(payload);
    (void)proto::is_sequence_end(payload, false);
    std::array<proto::media_track, 4> tracks{};
    RTMP_FUZZ_CHECK(proto::split_audio_tracks(payload, tracks) <= tracks.size());
  }
}

/// Decodes what a session sends: skips the handshake bytes, then checks that
/// the rest is a valid chunk stream (at whatever chunk size the session
/// announces) whose command messages parse and whose data messages are AMF0.
class output_checker {
 public:
  output_checker() : reader_(limits()) {}

  /// Checks the next bytes the session sent.
  void feed(bytes_view out) {
    const std::size_t skip = std::min(out.size(), handshake_left_);
    handshake_left_ -= skip;
    out = out.subspan(skip);
    if (out.empty()) return;
    RTMP_FUZZ_CHECK(!reader_.feed(out));
    proto::message m;
    while (reader_.next(m)) {
      ++messages_;
      if (m.kind() == proto::message_type::command_amf0) {
        RTMP_FUZZ_CHECK(proto::parse_command(m.payload.span()).ok());
      } else if (m.kind() == proto::message_type::data_amf0) {
        std::vector<amf0::value> values;
        RTMP_FUZZ_CHECK(proto::parse_data_message(m.payload.span(), values).ok());
      }
    }
  }

  /// Messages decoded so far.
  std::size_t messages() const noexcept { return messages_; }

 private:
  static proto::chunk_reader_limits limits() noexcept {
    proto::chunk_reader_limits l;
    l.min_chunk_size = 1;
    l.max_command_size = l.max_message_size;
    l.max_data_size = l.max_message_size;
    l.split_aggregates = false;
    return l;
  }

  std::size_t handshake_left_ = handshake_bytes;
  proto::chunk_reader reader_;
  std::size_t messages_ = 0;
};

// ---------------------------------------------------------------------------
// fuzz_amf0

/// decode_all -> encode_all -> decode_all -> encode_all: the re-decode must
/// succeed under the same limits and the two encodings must be equal.
inline void amf0_round_trip(bytes_view in, const amf0::decode_limits& limits) {
  std::vector<amf0::value> values;
  const amf0::decode_result r = amf0::decode_all(in, values, limits);
  RTMP_FUZZ_CHECK(r.offset <= in.size());
  if (!r.ok()) return;
  RTMP_FUZZ_CHECK(r.offset == in.size());
  byte_vector once;
  RTMP_FUZZ_CHECK(!amf0::encode_all(values, once));
  std::vector<amf0::value> again;
  RTMP_FUZZ_CHECK(amf0::decode_all(once, again, limits).ok());
  RTMP_FUZZ_CHECK(again.size() == values.size());
  byte_vector twice;
  RTMP_FUZZ_CHECK(!amf0::encode_all(again, twice));
  RTMP_FUZZ_CHECK(twice == once);
}

/// parse_command, the command readers, and encode -> parse -> encode stability.
inline void amf0_command(bytes_view in, bool amf3_message) {
  const auto limits = amf0::command_limits();
  const proto::command_parse_result p = proto::parse_command(in, amf3_message, limits);
  if (!p.ok()) {
    RTMP_FUZZ_CHECK(p.offset <= in.size());
    return;
  }
  const proto::command& c = p.cmd;
  proto::connect_request connect;
  (void)proto::read_connect(c, connect);
  proto::publish_request publish;
  (void)proto::read_publish(c, publish);
  proto::play_request play;
  (void)proto::read_play(c, play);
  (void)proto::read_status(c);
  (void)proto::string_argument(c, 0);
  (void)proto::number_argument(c, 1);

  byte_vector once;
  RTMP_FUZZ_CHECK(!proto::encode_command(c, once));
  const proto::command_parse_result again = proto::parse_command(once, false, limits);
  RTMP_FUZZ_CHECK(again.ok());
  RTMP_FUZZ_CHECK(again.cmd.name == c.name);
  RTMP_FUZZ_CHECK(again.cmd.arguments.size() == c.arguments.size());
  byte_vector twice;
  RTMP_FUZZ_CHECK(!proto::encode_command(again.cmd, twice));
  RTMP_FUZZ_CHECK(twice == once);
}

/// strip_set_data_frame: its payload must decode to its values and re-encode
/// to itself.
inline void amf0_set_data_frame(bytes_view in) {
  const auto limits = amf0::metadata_limits();
  const proto::set_data_frame_result r = proto::strip_set_data_frame(in, limits);
  if (!r.ok()) return;
  std::vector<amf0::value> values;
  RTMP_FUZZ_CHECK(proto::parse_data_message(r.payload, values, limits).ok());
  RTMP_FUZZ_CHECK(values.size() == r.values.size());
  byte_vector again;
  RTMP_FUZZ_CHECK(!amf0::encode_all(values, again));
  RTMP_FUZZ_CHECK(again == r.payload);
}

/// Target fuzz_amf0: the input is one command or data message payload.
inline void run_amf0(bytes_view in) {
  amf0_round_trip(in, amf0::command_limits());
  amf0_round_trip(in, amf0::metadata_limits());
  amf0_command(in, false);
  amf0_command(in, true);
  amf0_set_data_frame(in);
  // The decoder walked value by value must agree with decode_all.
  amf0::decoder d(in, amf0::command_limits());
  std::vector<amf0::value> all;
  const amf0::decode_result whole = amf0::decode_all(in, all, amf0::command_limits());
  std::size_t count = 0;
  while (!d.at_end()) {
    amf0::value v;
    if (!d.next(v).ok()) break;
    ++count;
  }
  RTMP_FUZZ_CHECK(!whole.ok() || (d.at_end() && count == all.size()));
}

// ---------------------------------------------------------------------------
// fuzz_chunk_reader

/// Picks the initial payload allocation of a chunk reader from `selector`:
/// one time in four the default (1 MiB: a message below that is allocated
/// once at its declared length), otherwise 64 bytes, so that buffers grow by
/// doubling as bytes arrive (a path inputs under 1 MiB never reach with the
/// default) and runs stay fast (a 1 MiB allocation per hostile header costs
/// ASan an mmap and page faults, which cut the exec rate by 5x).
inline std::size_t initial_allocation_for(std::uint32_t selector) noexcept {
  return selector % 4 == 0 ? proto::chunk_reader_limits{}.initial_payload_allocation : 64;
}

/// Limits of the reader under test: the defaults, but chunk sizes down to 1
/// so that Set Chunk Size / Abort interleaving is reachable.
inline proto::chunk_reader_limits fuzz_chunk_limits(std::uint32_t selector) noexcept {
  proto::chunk_reader_limits l;
  l.min_chunk_size = 1;
  l.initial_payload_allocation = initial_allocation_for(selector);
  return l;
}

/// Re-encodes `messages` with a chunk_writer at `chunk_size`, spreading them
/// over chunk stream ids of every basic-header form, and checks that a fresh
/// reader decodes exactly the same messages. Set Chunk Size and Abort are
/// left out: they would change how the re-encoded stream parses.
inline void chunk_re_encode(const std::vector<proto::message>& messages, std::uint32_t chunk_size) {
  static constexpr std::uint32_t csids[] = {3, 4, 63, 64, 319, 320, 65599};
  proto::chunk_writer writer;
  byte_vector wire;
  if (chunk_size != 128) {
    writer.write(2, proto::make_set_chunk_size(chunk_size), wire);
    writer.set_chunk_size(chunk_size);
  }
  std::vector<const proto::message*> sent;
  std::size_t i = 0;
  for (const proto::message& m : messages) {
    if (m.kind() == proto::message_type::set_chunk_size || m.kind() == proto::message_type::abort) continue;
    writer.write(csids[(i * 5 + m.type) % std::size(csids)], m, wire);
    sent.push_back(&m);
    ++i;
  }

  // Everything the first reader accepted must fit in the second one.
  proto::chunk_reader_limits l = fuzz_chunk_limits(1);
  l.max_control_size = l.max_message_size;
  l.max_command_size = l.max_message_size;
  l.max_data_size = l.max_message_size;
  l.split_aggregates = false;  // sub-messages may themselves say "aggregate"
  l.max_chunk_streams = std::size(csids) + 1;
  proto::chunk_reader reader(l);
  RTMP_FUZZ_CHECK(!reader.feed(wire));
  std::vector<proto::message> decoded;
  drain_reader(reader, decoded);
  std::erase_if(decoded, [](const proto::message& m) { return m.kind() == proto::message_type::set_chunk_size; });
  RTMP_FUZZ_CHECK(decoded.size() == sent.size());
  for (std::size_t k = 0; k < decoded.size(); ++k) RTMP_FUZZ_CHECK(same_message(decoded[k], *sent[k]));
  RTMP_FUZZ_CHECK(reader.partial_bytes() == 0);
}

/// Target fuzz_chunk_reader. Input: byte 0 chooses the split plan, byte 1 the
/// chunk size of the re-encoding; the rest is a chunk stream (the bytes after
/// the handshake).
inline void run_chunk_reader(bytes_view in) {
  if (in.size() < 2) return;
  const std::uint8_t split_byte = in[0];
  const std::uint8_t size_byte = in[1];
  const bytes_view stream = in.subspan(2);

  // Reader under test, fed in splits.
  proto::chunk_reader split_reader(fuzz_chunk_limits(size_byte >> 4));
  std::vector<proto::message> split_messages;
  const split_plan plan(split_byte * 2654435761u, 1 + split_byte % 64 * 8);
  feed_in_pieces(stream, plan, [&](bytes_view piece) {
    const std::error_code ec = split_reader.feed(piece);
    drain_reader(split_reader, split_messages);
    return !ec;
  });
  // Sticky errors.
  if (split_reader.error()) {
    RTMP_FUZZ_CHECK(split_reader.feed(stream.first(std::min<std::size_t>(stream.size(), 1))) == split_reader.error());
  }

  // The same bytes at once.
  proto::chunk_reader whole_reader(fuzz_chunk_limits(size_byte >> 4));
  const std::error_code whole_ec = whole_reader.feed(stream);
  std::vector<proto::message> whole_messages;
  drain_reader(whole_reader, whole_messages);
  RTMP_FUZZ_CHECK(whole_ec == split_reader.error());
  RTMP_FUZZ_CHECK(whole_messages.size() == split_messages.size());
  for (std::size_t k = 0; k < whole_messages.size(); ++k) {
    RTMP_FUZZ_CHECK(same_message(whole_messages[k], split_messages[k]));
  }
  RTMP_FUZZ_CHECK(whole_reader.chunk_size() == split_reader.chunk_size());
  // (partial_bytes() itself may differ: buffers grow as the pieces arrive.)
  RTMP_FUZZ_CHECK(whole_reader.partial_bytes() <= whole_reader.limits().max_partial_bytes);
  RTMP_FUZZ_CHECK(split_reader.partial_bytes() <= split_reader.limits().max_partial_bytes);

  // Round trip through the writer: small sizes stress the chunking, large
  // ones the single-chunk path.
  const std::uint32_t chunk_size =
      (size_byte & 0x80) != 0 ? (128u << (size_byte & 0x0F)) : 1u + (size_byte & 0x7F);
  chunk_re_encode(whole_messages, chunk_size);
}

// ---------------------------------------------------------------------------
// fuzz_handshake

/// Feeds `in` to a server handshake in pieces, sending its output in halves.
inline void handshake_server(bytes_view in, std::uint32_t seed) {
  proto::server_handshake_config config;
  config.random = fixed_random;
  config.clock = fixed_clock;
  proto::server_handshake hs(config);
  byte_vector out;
  std::size_t taken = 0;
  feed_in_pieces(in, split_plan(seed, 1600), [&](bytes_view piece) {
    const std::size_t n = hs.consume(piece);
    RTMP_FUZZ_CHECK(n <= piece.size());
    taken += n;
    // Take the output in two steps: output_sent() must advance exactly.
    auto pending = hs.pending_output();
    const std::size_t half = pending.size() / 2;
    out.insert(out.end(), pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(half));
    hs.output_sent(half);
    pending = hs.pending_output();
    out.insert(out.end(), pending.begin(), pending.end());
    hs.output_sent(pending.size() + 7);  // clamped
    RTMP_FUZZ_CHECK(hs.pending_output().empty());
    if (hs.error() || hs.done()) {
      RTMP_FUZZ_CHECK(hs.consume(piece) == 0);
      return false;
    }
    RTMP_FUZZ_CHECK(n == piece.size());
    return true;
  });

  if (hs.error()) {
    RTMP_FUZZ_CHECK(!in.empty() && in[0] != proto::rtmp_version && taken == 1);
    RTMP_FUZZ_CHECK(out.empty());
    return;
  }
  if (hs.done()) {
    RTMP_FUZZ_CHECK(taken == handshake_bytes);
  } else {
    RTMP_FUZZ_CHECK(taken == in.size() && in.size() < handshake_bytes);
  }
  if (in.size() < 1 + proto::handshake_block_size) {
    RTMP_FUZZ_CHECK(out.empty());
    return;
  }
  RTMP_FUZZ_CHECK(out.size() == handshake_bytes);
  RTMP_FUZZ_CHECK(out[0] == proto::rtmp_version);
  const bytes_view c1 = in.subspan(1, proto::handshake_block_size);
  const bytes_view s1 = bytes_view(out).subspan(1, proto::handshake_block_size);
  const bytes_view s2 = bytes_view(out).subspan(1 + proto::handshake_block_size);
  RTMP_FUZZ_CHECK(s1[0] == 0x01 && s1[1] == 0x02 && s1[2] == 0x03 && s1[3] == 0x04);  // our clock
  if (hs.scheme() == proto::handshake_scheme::plain) {
    RTMP_FUZZ_CHECK(s1[4] == 0 && s1[5] == 0 && s1[6] == 0 && s1[7] == 0);
    RTMP_FUZZ_CHECK(std::ranges::equal(s2, c1));  // write_time2 off: an exact echo
  } else {
    RTMP_FUZZ_CHECK(hs.peer().digest_valid);
    RTMP_FUZZ_CHECK(std::ranges::equal(s1.subspan(4, 4), config.digest_version));
  }
}

/// Feeds `in` (as S0S1S2 and beyond) to a client handshake in pieces.
inline void handshake_client(bytes_view in, std::uint32_t seed, bool digest) {
  proto::client_handshake_config config;
  config.use_digest = digest;
  config.strict_s2 = !digest;
  config.write_time2 = digest;
  config.random = fixed_random;
  config.clock = fixed_clock;
  proto::client_handshake hs(config);
  byte_vector out;
  {
    const auto pending = hs.pending_output();
    RTMP_FUZZ_CHECK(pending.size() == 1 + proto::handshake_block_size);
    out.assign(pending.begin(), pending.end());
    hs.output_sent(pending.size());
  }
  std::size_t taken = 0;
  feed_in_pieces(in, split_plan(seed >> 3, 1600), [&](bytes_view piece) {
    const std::size_t n = hs.consume(piece);
    RTMP_FUZZ_CHECK(n <= piece.size());
    taken += n;
    const auto pending = hs.pending_output();
    out.insert(out.end(), pending.begin(), pending.end());
    hs.output_sent(pending.size());
    if (hs.error() || hs.done()) {
      RTMP_FUZZ_CHECK(hs.consume(piece) == 0);
      return false;
    }
    RTMP_FUZZ_CHECK(n == piece.size());
    return true;
  });
  if (hs.error() == make_error_code(errc::handshake_unsupported_version)) {
    RTMP_FUZZ_CHECK(taken == 1 && in[0] != proto::rtmp_version);
    return;
  }
  if (hs.done() || hs.error()) RTMP_FUZZ_CHECK(taken == handshake_bytes);
  if (taken >= 1 + proto::handshake_block_size) {
    RTMP_FUZZ_CHECK(out.size() == handshake_bytes);  // C0 C1 C2
    if (hs.c2_scheme() == proto::handshake_scheme::plain && !config.write_time2) {
      RTMP_FUZZ_CHECK(std::ranges::equal(bytes_view(out).subspan(1 + proto::handshake_block_size),
                                         in.subspan(1, proto::handshake_block_size)));
    }
  } else {
    RTMP_FUZZ_CHECK(out.size() == 1 + proto::handshake_block_size);
  }
}

/// Target fuzz_handshake: the input is what the peer sends from its first
/// byte (C0 for the server; the same bytes as S0 for two clients).
inline void run_handshake(bytes_view in) {
  const std::uint32_t seed = seed_of(in);
  handshake_server(in, seed);
  handshake_client(in, seed, true);
  handshake_client(in, seed, false);
}

// ---------------------------------------------------------------------------
// fuzz_flv_reader

/// The observable result of reading one FLV input.
struct flv_result {
  std::vector<proto::flv_tag> tags;
  std::error_code feed_error;
  std::error_code finish_error;
};

/// Reads `in` with `limits`, in pieces per `plan`.
inline flv_result read_flv(bytes_view in, const proto::flv_reader_limits& limits, split_plan plan) {
  proto::flv_reader reader(limits);
  flv_result r;
  feed_in_pieces(in, plan, [&](bytes_view piece) {
    const std::error_code ec = reader.feed(piece);
    proto::flv_tag tag;
    while (reader.next(tag)) r.tags.push_back(std::move(tag));
    return !ec;
  });
  r.feed_error = reader.error();
  r.finish_error = reader.finish();
  RTMP_FUZZ_CHECK(reader.bytes_consumed() <= in.size());
  RTMP_FUZZ_CHECK(reader.tags_read() == r.tags.size());
  return r;
}

/// True when two tag lists are equal.
inline bool same_tags(const std::vector<proto::flv_tag>& a, const std::vector<proto::flv_tag>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].type != b[i].type || a[i].timestamp != b[i].timestamp ||
        !std::ranges::equal(a[i].payload.span(), b[i].payload.span())) {
      return false;
    }
  }
  return true;
}

/// Target fuzz_flv_reader: the input is an FLV file or stream.
inline void run_flv_reader(bytes_view in) {
  const std::uint32_t seed = seed_of(in);
  proto::flv_reader_limits limits;
  limits.accept_unknown_tag_types = seed % 3 == 0;
  // The payload buffer is allocated at the declared DataSize: the default
  // (16 MiB) one time in four, else smaller bounds (faster under ASan, and
  // the flv_tag_too_large path).
  const std::uint32_t size_choice = (seed >> 4) % 4;
  if (size_choice == 1) limits.max_tag_size = 4096;
  if (size_choice >= 2) limits.max_tag_size = 256 * 1024;

  const flv_result split = read_flv(in, limits, split_plan(seed >> 2, 700));
  const flv_result whole = read_flv(in, limits, split_plan(0, 1));
  RTMP_FUZZ_CHECK(split.feed_error == whole.feed_error);
  RTMP_FUZZ_CHECK(split.finish_error == whole.finish_error);
  RTMP_FUZZ_CHECK(same_tags(split.tags, whole.tags));
  if (!whole.feed_error && !whole.finish_error) RTMP_FUZZ_CHECK(!in.empty());

  // What the reader delivered, written back, must read back the same.
  proto::flv_writer writer;
  byte_vector file;
  writer.write_header(file);
  for (const proto::flv_tag& tag : whole.tags) {
    RTMP_FUZZ_CHECK(!writer.write_tag(tag, file));
    describe_media(tag.type, tag.payload.span());
  }
  const flv_result back = read_flv(file, limits, split_plan(seed >> 5, 300));
  RTMP_FUZZ_CHECK(!back.feed_error && !back.finish_error);
  RTMP_FUZZ_CHECK(same_tags(back.tags, whole.tags));
}

// ---------------------------------------------------------------------------
// fuzz_server_session

/// Target fuzz_server_session: a valid plain handshake (C0 = 3, C1 and C2 all
/// zero) is prepended; the input is the chunk stream that follows. Every
/// publish and play is accepted; published media is relayed back to this
/// connection's players the way the hub does (encode_standalone on the media
/// chunk streams), and all output must decode. With one seed bit set, the
/// connect is held for an on-connect decision: another bit accepts or
/// refuses it.
inline void run_server_session(bytes_view in) {
  byte_vector wire(handshake_bytes, 0);
  wire[0] = proto::rtmp_version;
  wire.insert(wire.end(), in.begin(), in.end());

  proto::server_session_config config;
  config.chunk_limits.initial_payload_allocation = initial_allocation_for(seed_of(in) >> 8);
  config.handshake.random = fixed_random;
  config.handshake.clock = fixed_clock;
  config.hold_connect = ((seed_of(in) >> 20) & 1) != 0;
  const bool refuse_connect = ((seed_of(in) >> 21) & 1) != 0;
  proto::server_session session(config);
  output_checker checker;
  std::vector<std::uint32_t> accepted_publish;
  std::vector<std::uint32_t> playing;
  byte_vector out;
  const auto contains = [](const std::vector<std::uint32_t>& v, std::uint32_t id) {
    return std::find(v.begin(), v.end(), id) != v.end();
  };

  const auto drain = [&] {
    for (;;) {
      session.take_output(out);
      checker.feed(out);
      proto::session_event ev;
      if (!session.next_event(ev)) {
        if (!session.has_output()) return;
        continue;
      }
      switch (ev.type) {
        case proto::session_event::kind::connect_request:
          RTMP_FUZZ_CHECK(config.hold_connect);
          if (refuse_connect) {
            // (A session closed by what followed the connect in the same read ignores the answer.)
            const bool pending = session.current_phase() == proto::server_session::phase::connect_pending;
            session.reject_connect("refused");
            RTMP_FUZZ_CHECK(!pending || session.close_requested());
          } else {
            (void)session.accept_connect();  // an error closes the session: the next read says so
          }
          break;
        case proto::session_event::kind::publish:
          session.accept_publish(ev.stream_id);
          accepted_publish.push_back(ev.stream_id);
          break;
        case proto::session_event::kind::play:
          session.accept_play(ev.stream_id);
          playing.push_back(ev.stream_id);
          break;
        case proto::session_event::kind::stop_play:
          std::erase(playing, ev.stream_id);
          break;
        case proto::session_event::kind::media: {
          // T-34: nothing is relayed before the owner accepted the publish.
          RTMP_FUZZ_CHECK(contains(accepted_publish, ev.stream_id));
          RTMP_FUZZ_CHECK(ev.msg.stream_id == ev.stream_id);
          const std::uint8_t type = ev.msg.type;
          RTMP_FUZZ_CHECK(type == 8 || type == 9 || type == 18);
          describe_media(type, ev.msg.payload.span());
          session.take_output(out);  // what the session queued comes first on the wire
          checker.feed(out);
          for (std::uint32_t id : playing) {
            proto::message relay = ev.msg;
            relay.stream_id = id;
            const std::uint32_t csid = type == 8   ? proto::server_csid::audio
                                       : type == 9 ? proto::server_csid::video
                                                   : proto::server_csid::data;
            checker.feed(proto::encode_standalone(csid, relay, session.chunk_size()).span());
          }
          break;
        }
        default:
          break;
      }
    }
  };

  std::error_code failure;
  feed_in_pieces(wire, split_plan(seed_of(in), 4096), [&](bytes_view piece) {
    failure = session.on_bytes(piece);
    drain();
    return !failure;
  });
  if (failure) {
    RTMP_FUZZ_CHECK(session.current_phase() == proto::server_session::phase::closed);
    RTMP_FUZZ_CHECK(session.on_bytes(wire) == make_error_code(errc::peer_closed));
    return;
  }
  RTMP_FUZZ_CHECK(session.current_phase() != proto::server_session::phase::handshake);

  // What the owner does later in a session's life.
  session.send_ping(0x12345678u);
  for (std::uint32_t id : playing) {
    session.notify_unpublished(id);
    session.notify_published(id);
    session.notify_play_stopped(id, "Stopped by the fuzzer.");
  }
  for (std::uint32_t id : accepted_publish) session.notify_publish_stopped(id, "Stopped by the fuzzer.");
  drain();
}

// ---------------------------------------------------------------------------
// fuzz_client_session

/// A small `onMetaData` script tag body, as an FLV file carries it.
inline byte_vector sample_metadata() {
  byte_vector out;
  amf0::ecma_array meta;
  meta.push_back("width", 1280.0);
  meta.push_back("height", 720.0);
  (void)amf0::encode(amf0::value("onMetaData"), out);
  (void)amf0::encode(amf0::value(std::move(meta)), out);
  return out;
}

/// Publishes a few messages once the server accepted the publish. Media is
/// refused (command_out_of_order) unless the session is publishing: the
/// publish_started event may be handled after a later error in the same
/// read closed the session.
inline void client_send_media(proto::client_session& client) {
  static constexpr std::uint8_t aac_header[] = {0xAF, 0x00, 0x11, 0x90};
  static constexpr std::uint8_t avc_keyframe[] = {0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x65, 0x88};
  const bool allowed = client.current_phase() == proto::client_session::phase::publishing;
  const auto sent = [allowed](std::error_code ec) {
    return allowed ? !ec : ec == make_error_code(errc::command_out_of_order);
  };
  RTMP_FUZZ_CHECK(sent(client.send_script_data(sample_metadata(), 0)));
  proto::message audio;
  audio.type = 8;
  audio.payload = proto::shared_bytes::copy_of(aac_header);
  RTMP_FUZZ_CHECK(sent(client.send_media(audio)));
  proto::message video;
  video.type = 9;
  video.timestamp = 40;
  video.payload = proto::shared_bytes::copy_of(avc_keyframe);
  RTMP_FUZZ_CHECK(sent(client.send_media(video)));
}

/// One client (publisher or player) against the hostile server bytes.
inline void client_session_run(bytes_view in, bool publisher) {
  // S0 = 3; S1 with a zero version field (plain); S2 is not checked (strict_s2 off).
  byte_vector wire(handshake_bytes, 0);
  wire[0] = proto::rtmp_version;
  wire.insert(wire.end(), in.begin(), in.end());

  proto::client_session_config config;
  config.chunk_limits.initial_payload_allocation = initial_allocation_for(seed_of(in) >> 8);
  config.connect.app = "live";
  config.connect.tc_url = "rtmp://127.0.0.1:1935/live";
  config.handshake.random = fixed_random;
  config.handshake.clock = fixed_clock;
  proto::client_session client(config);
  RTMP_FUZZ_CHECK(publisher ? !client.publish("demo?key=1") : !client.play("demo", -1000));
  output_checker checker;
  byte_vector out;
  bool started = false;

  const auto drain = [&] {
    for (;;) {
      client.take_output(out);
      checker.feed(out);
      proto::client_event ev;
      if (!client.next_event(ev)) {
        if (!client.has_output()) return;
        continue;
      }
      switch (ev.type) {
        case proto::client_event::kind::publish_started:
          RTMP_FUZZ_CHECK(publisher && !started);
          started = true;
          client_send_media(client);
          break;
        case proto::client_event::kind::play_started:
          RTMP_FUZZ_CHECK(!publisher && !started);
          started = true;
          break;
        case proto::client_event::kind::media:
          RTMP_FUZZ_CHECK(!publisher);
          describe_media(ev.msg.type, ev.msg.payload.span());
          break;
        default:
          break;
      }
    }
  };

  std::error_code failure;
  feed_in_pieces(wire, split_plan(seed_of(in) >> (publisher ? 0 : 3), 4096), [&](bytes_view piece) {
    failure = client.on_bytes(piece);
    // Once createStream was answered, the stream id is a real one (1..2^32-1);
    // also catches a NaN id cast where g++'s UBSan has no float-cast check.
    const auto phase = client.current_phase();
    if (phase == proto::client_session::phase::starting || phase == proto::client_session::phase::publishing ||
        phase == proto::client_session::phase::playing) {
      RTMP_FUZZ_CHECK(client.stream_id() != 0);
    }
    drain();
    return !failure;
  });
  if (failure) {
    RTMP_FUZZ_CHECK(client.current_phase() == proto::client_session::phase::closed);
    RTMP_FUZZ_CHECK(client.error() == failure);
    RTMP_FUZZ_CHECK(client.on_bytes(wire) == failure);  // sticky
    return;
  }
  if (started && publisher) client_send_media(client);
  client.finish();
  drain();
  RTMP_FUZZ_CHECK(client.current_phase() == proto::client_session::phase::finished);
}

/// Target fuzz_client_session: the input is what a hostile server sends after
/// S0S1S2 (which the harness supplies); run for a publisher and a player.
inline void run_client_session(bytes_view in) {
  client_session_run(in, true);
  client_session_run(in, false);
}

// ---------------------------------------------------------------------------
// proxy_header

inline bool same_source(const proto::proxy_source& a, const proto::proxy_source& b) {
  return a.relayed == b.relayed && a.address == b.address && a.port == b.port;
}

/// Target fuzz_proxy_header: the first bytes of a connection on a
/// PROXY-protocol listener.
inline void run_proxy_header(bytes_view in) {
  const proto::proxy_parse_result whole = proto::parse_proxy_header(in);
  if (whole.status == proto::proxy_status::done) {
    RTMP_FUZZ_CHECK(whole.used > 0 && whole.used <= in.size());
    RTMP_FUZZ_CHECK(whole.used <= proto::max_proxy_header);
    if (whole.source.relayed) RTMP_FUZZ_CHECK(!whole.source.address.empty());
    // Exactly the header: the same answer; one byte less: not complete.
    const proto::proxy_parse_result exact = proto::parse_proxy_header(in.first(whole.used));
    RTMP_FUZZ_CHECK(exact.status == proto::proxy_status::done && exact.used == whole.used);
    RTMP_FUZZ_CHECK(same_source(exact.source, whole.source));
    RTMP_FUZZ_CHECK(proto::parse_proxy_header(in.first(whole.used - 1)).status == proto::proxy_status::need_more);
  } else if (whole.status == proto::proxy_status::invalid) {
    RTMP_FUZZ_CHECK(whole.why != nullptr && *whole.why != '\0');
    // Whatever follows does not make it valid.
    byte_vector longer(in.begin(), in.end());
    longer.insert(longer.end(), {'\r', '\n', 0, 0, 0, 0});
    RTMP_FUZZ_CHECK(proto::parse_proxy_header(longer).status == proto::proxy_status::invalid);
  } else {
    RTMP_FUZZ_CHECK(in.size() < proto::max_proxy_header);  // a header cannot need more than that
  }
}

// ---------------------------------------------------------------------------
// fuzz_ts_muxer

/// The MPEG-2 CRC32 (ISO/IEC 13818-1 Annex A), bit by bit: over a section
/// including its CRC_32 field it is 0.
inline std::uint32_t mpeg_crc32(bytes_view data) noexcept {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const std::uint8_t b : data) {
    for (int bit = 7; bit >= 0; --bit) {
      const bool in = (((b >> bit) ^ (crc >> 31)) & 1) != 0;
      crc <<= 1;
      if (in) crc ^= 0x04C11DB7u;
    }
  }
  return crc;
}

/// What run_ts_muxer follows across calls.
struct ts_state {
  std::array<int, 8192> counters;  // last continuity_counter per PID, -1 before any packet
  hls::ts_pids pids;
  ts_state() { counters.fill(-1); }
};

/// One 188-byte packet: its header fields and payload.
struct ts_view {
  int pid = 0;
  bool unit_start = false;
  std::uint8_t flags = 0;  // adaptation field flags, 0 without them
  bytes_view payload;
};

/// Checks the packet at `p` (sync byte, payload present, adaptation field
/// length, continuity counter) and returns its fields.
inline ts_view check_ts_packet(const std::uint8_t* p, ts_state& state) {
  RTMP_FUZZ_CHECK(p[0] == 0x47);
  RTMP_FUZZ_CHECK((p[1] & 0x80) == 0 && (p[3] & 0xC0) == 0);  // no error, not scrambled
  ts_view v;
  v.pid = ((p[1] & 0x1F) << 8) | p[2];
  v.unit_start = (p[1] & 0x40) != 0;
  const int control = (p[3] >> 4) & 3;
  RTMP_FUZZ_CHECK((control & 1) != 0);  // every packet written carries payload
  std::size_t pos = 4;
  if ((control & 2) != 0) {
    RTMP_FUZZ_CHECK(p[4] <= 182);
    if (p[4] > 0) v.flags = p[5];
    pos = 5 + std::size_t{p[4]};
  }
  v.payload = bytes_view(p + pos, hls::ts_packet_size - pos);
  int& last = state.counters[static_cast<std::size_t>(v.pid)];
  RTMP_FUZZ_CHECK(last < 0 || (p[3] & 0x0F) == ((last + 1) & 0x0F));
  last = p[3] & 0x0F;
  return v;
}

/// Checks a PAT or PMT packet: pointer_field 0, CRC, and the PMT's streams.
inline void check_ts_section(const ts_view& v, const hls::ts_muxer& muxer, const ts_state& state) {
  RTMP_FUZZ_CHECK(v.unit_start && v.payload[0] == 0);
  const bytes_view s = v.payload.subspan(1);
  const std::size_t length = (std::size_t{s[1] & 0x0Fu} << 8) | s[2];
  RTMP_FUZZ_CHECK(length >= 9 && 3 + length <= s.size());
  RTMP_FUZZ_CHECK(mpeg_crc32(s.first(3 + length)) == 0);
  if (v.pid == 0) {
    RTMP_FUZZ_CHECK(s[0] == 0x00 && length == 13);
    RTMP_FUZZ_CHECK((((s[10] & 0x1F) << 8) | s[11]) == state.pids.pmt);
    return;
  }
  RTMP_FUZZ_CHECK(s[0] == 0x02);
  const std::size_t streams = (muxer.has_video() ? 1 : 0) + (muxer.has_audio() ? 1 : 0);
  RTMP_FUZZ_CHECK(length == 13 + 5 * streams);
  if (muxer.has_video()) RTMP_FUZZ_CHECK(s[12] == 0x1B);
  if (muxer.has_audio()) RTMP_FUZZ_CHECK(s[12 + 5 * (streams - 1)] == 0x0F);
}

/// Checks the start of a PES: the stream id, the random_access_indicator
/// (keyframes; every audio frame of an audio-only program), and the start of
/// the elementary stream (an access unit delimiter, or an ADTS sync word).
/// Returns PES_packet_length.
inline std::size_t check_pes_start(const ts_view& v, bool video, bool random_access) {
  const bytes_view pes = v.payload;
  RTMP_FUZZ_CHECK(pes.size() >= 9 + 5 && pes[0] == 0 && pes[1] == 0 && pes[2] == 1);
  RTMP_FUZZ_CHECK(pes[3] == (video ? 0xE0 : 0xC0));
  RTMP_FUZZ_CHECK(((v.flags & 0x40) != 0) == random_access);
  RTMP_FUZZ_CHECK(9 + std::size_t{pes[8]} <= pes.size());
  const bytes_view es = pes.subspan(9 + std::size_t{pes[8]});
  static constexpr std::uint8_t start_code[] = {0, 0, 0, 1};
  static constexpr std::uint8_t adts_sync[] = {0xFF, 0xF1};
  if (video) {  // nal_unit_type 9, the frame's own delimiter or 09 F0
    RTMP_FUZZ_CHECK(es.size() >= 5 && std::equal(es.begin(), es.begin() + 4, start_code) && (es[4] & 0x1F) == 9);
  } else {
    RTMP_FUZZ_CHECK(es.size() >= 2 && std::equal(es.begin(), es.begin() + 2, adts_sync));
  }
  return (std::size_t{pes[4]} << 8) | pes[5];
}

/// What one call wrote, checked.
enum class ts_written { video, audio, tables };

/// Checks the packets one call wrote: the tables (PAT then PMT) or one PES
/// (its packets on one PID, a unit start on the first only; an audio PES
/// declares its exact length).
inline void check_ts_output(bytes_view ts, ts_written what, bool keyframe, const hls::ts_muxer& muxer,
                            ts_state& state) {
  RTMP_FUZZ_CHECK(!ts.empty() && ts.size() % hls::ts_packet_size == 0);
  const std::size_t packets = ts.size() / hls::ts_packet_size;
  const bool video = what == ts_written::video;
  std::size_t pes_bytes = 0;
  std::size_t declared = 0;
  for (std::size_t i = 0; i < packets; ++i) {
    const ts_view v = check_ts_packet(ts.data() + i * hls::ts_packet_size, state);
    if (what == ts_written::tables) {
      RTMP_FUZZ_CHECK(packets == 2 && v.pid == (i == 0 ? 0 : state.pids.pmt));
      check_ts_section(v, muxer, state);
      continue;
    }
    RTMP_FUZZ_CHECK(v.pid == (video ? state.pids.video : state.pids.audio));
    RTMP_FUZZ_CHECK(v.unit_start == (i == 0));
    pes_bytes += v.payload.size();
    if (i == 0) declared = check_pes_start(v, video, video ? keyframe : !muxer.has_video());
  }
  if (what == ts_written::audio) RTMP_FUZZ_CHECK(declared + 6 == pes_bytes);
  if (video) RTMP_FUZZ_CHECK(declared == 0);
}

/// Target fuzz_ts_muxer. The input is a list of records: a kind byte, a
/// timestamp step byte, a 16-bit big-endian length and that many body bytes
/// (fewer at the end of the input). Kind & 3: 0 an FLV video tag body, 1 an
/// audio tag body, 2 write_tables, 3 a video tag body preceded by
/// write_tables when it is a keyframe (as a segmenter does). The timestamp
/// (ms) starts at 0 and grows by the step; kind bit 7 makes it go back
/// instead.
inline void run_ts_muxer(bytes_view in) {
  hls::ts_muxer muxer;
  ts_state state;
  static constexpr std::uint8_t sentinel[] = {0xDE, 0xAD};
  byte_vector out;
  std::uint32_t timestamp = 0;
  const auto tables = [&] {
    out.assign(std::begin(sentinel), std::end(sentinel));
    muxer.write_tables(out);
    check_ts_output(bytes_view(out).subspan(2), ts_written::tables, false, muxer, state);
  };
  std::size_t pos = 0;
  while (in.size() - pos >= 4) {
    const std::uint8_t kind = in[pos];
    timestamp = (kind & 0x80) != 0 ? timestamp - in[pos + 1] : timestamp + in[pos + 1];
    const std::size_t length = std::min<std::size_t>(proto::load_be16(in.data() + pos + 2), in.size() - pos - 4);
    const bytes_view body = in.subspan(pos + 4, length);
    pos += 4 + length;
    if ((kind & 3) == 2) {
      tables();
      continue;
    }
    const bool video = (kind & 3) != 1;
    const bool keyframe = video && hls::ts_muxer::is_avc_keyframe(body);
    if ((kind & 3) == 3 && keyframe) tables();
    const bool had_config = video ? muxer.has_video() : muxer.has_audio();
    out.assign(std::begin(sentinel), std::end(sentinel));
    const bool ok = video ? muxer.video_tag(body, timestamp, out) : muxer.audio_tag(body, timestamp, out);
    // A sequence header or AudioSpecificConfig (a video command frame is neither).
    const bool config = body.size() >= 2 && body[1] == 0 && (!video || (body[0] >> 4) != 5);
    if (!ok || config || out.size() == 2) {
      RTMP_FUZZ_CHECK(out.size() == 2 && out[0] == sentinel[0] && out[1] == sentinel[1]);  // nothing written
      const bool has_config = video ? muxer.has_video() : muxer.has_audio();
      RTMP_FUZZ_CHECK(!ok || !config || has_config);  // an accepted config is kept
      RTMP_FUZZ_CHECK(ok || has_config == had_config);  // a refused one changes nothing
      continue;
    }
    check_ts_output(bytes_view(out).subspan(2), video ? ts_written::video : ts_written::audio, keyframe, muxer, state);
  }
}

// ---------------------------------------------------------------------------
// fuzz_hls_segmenter

/// The top-level boxes of an fMP4 segment tile it exactly (each size at
/// least 8 and within what is left).
inline bool boxes_tile(bytes_view b) noexcept {
  std::size_t pos = 0;
  while (pos < b.size()) {
    if (b.size() - pos < 8) return false;
    const std::uint32_t size = proto::load_be32(b.data() + pos);
    if (size < 8 || size > b.size() - pos) return false;
    pos += size;
  }
  return true;
}

/// Feeds the records of `in` to `seg` (kind byte, timestamp step byte,
/// 16-bit length, body: kind & 1 selects audio, kind & 0x80 steps the
/// timestamp back, kind & 0x40 ends the publish after the record, kind &
/// 0x20 restarts it) and calls `check()` after each, once the bounds every
/// segmenter keeps (bytes, segments) were checked.
template <typename Check>
void feed_hls_records(bytes_view in, hls::segmenter& seg, const hls::segmenter_config& cfg, Check check) {
  std::uint32_t timestamp = 0;
  std::int64_t wall = 0;
  std::size_t pos = 0;
  while (in.size() - pos >= 4) {
    const std::uint8_t kind = in[pos];
    timestamp = (kind & 0x80) != 0 ? timestamp - in[pos + 1] : timestamp + in[pos + 1];
    wall += in[pos + 1];
    const std::size_t length = std::min<std::size_t>(proto::load_be16(in.data() + pos + 2), in.size() - pos - 4);
    seg.on_media((kind & 1) != 0 ? 8 : 9, in.subspan(pos + 4, length), timestamp, wall);
    pos += 4 + length;
    if ((kind & 0x40) != 0) seg.end();
    if ((kind & 0x20) != 0) seg.restart();
    RTMP_FUZZ_CHECK(seg.bytes() <= 2 * cfg.max_bytes + 4096);
    RTMP_FUZZ_CHECK(seg.segments() <= cfg.window + cfg.kept_past_window);
    check();
  }
}

/// The records of fuzz_ts_muxer (feed_hls_records) fed to a segmenter, TS
/// or fMP4 by one seed bit, with a small byte bound. After each record: the
/// kept bytes stay within twice the bound, every listed
/// segment is served and whole (188-byte packets starting 0x47, or boxes
/// that tile it), and the playlist renders.
inline void run_hls_segmenter(bytes_view in) {
  hls::segmenter_config cfg;
  cfg.format = (seed_of(in) & 1) != 0 ? hls::segment_format::fmp4 : hls::segment_format::ts;
  cfg.segment_duration = std::chrono::milliseconds(300);
  cfg.max_segment_duration = std::chrono::milliseconds(2000);
  cfg.window = 3;
  cfg.max_bytes = 64 * 1024;
  hls::segmenter seg(cfg);
  feed_hls_records(in, seg, cfg, [&] {
    const std::string playlist = seg.playlist("?t=1");
    RTMP_FUZZ_CHECK(playlist.empty() == (seg.segments() == 0));
    if (seg.segments() == 0) return;
    for (std::uint64_t n = seg.next_sequence() - seg.segments(); n < seg.next_sequence(); ++n) {
      const auto s = seg.find(n);
      RTMP_FUZZ_CHECK(s != nullptr && s->bytes.size() > 0);
      const bytes_view b = s->bytes.span();
      if (cfg.format == hls::segment_format::ts) {
        RTMP_FUZZ_CHECK(b.size() % hls::ts_packet_size == 0);
        for (std::size_t p = 0; p < b.size(); p += hls::ts_packet_size) RTMP_FUZZ_CHECK(b[p] == 0x47);
      } else {
        RTMP_FUZZ_CHECK(boxes_tile(b));
        RTMP_FUZZ_CHECK(seg.find_init(s->init).size() > 0 && boxes_tile(seg.find_init(s->init).span()));
      }
    }
  });
}

// The LL-HLS part of fuzz_hls_segmenter: the input also picks a part
// duration (seed bits): 0 runs run_hls_segmenter as is; 1..2000 ms runs an
// fMP4 segmenter with partial segments through the same records and checks,
// and the LL-HLS ones of check_low_latency.

// 0 for half of the inputs, else 1..2000 ms.
inline std::chrono::milliseconds part_duration_of(bytes_view in) noexcept {
  const std::uint32_t seed = seed_of(in);
  if ((seed & 2) == 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(1 + (seed >> 8) % 2000);
}

inline std::size_t occurrences(const std::string& text, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The fourcc of the first box of `b`.
inline std::string_view first_box(bytes_view b) noexcept {
  return b.size() < 8 ? std::string_view() : std::string_view(reinterpret_cast<const char*>(b.data() + 4), 4);
}

// What the previous record left, to see what changed.
struct last_state {
  std::uint64_t version = 0;
  std::uint64_t next_sequence = 0;
  std::uint32_t open_parts = 0;
  bool ended = false;
};

// The LL-HLS properties after a record:
// * version() never goes back, and moves whenever a part or segment
//   finished or the publish ended or restarted;
// * the open segment's parts are found (and no further one), each whole
//   boxes, the first one beginning with the styp, the later ones with moof;
// * the newest min(parts_kept_segments, segments()) finished segments have
//   their parts, which concatenate to exactly the segment; older ones none;
// * has() agrees with next_sequence(), open_parts() and ended();
// * bytes() is exactly the kept segments plus the open parts;
// * the playlist is empty only before a segment is finished, and lists the part target, the kept parts, the preload hint unless ended.
inline void check_low_latency(const hls::segmenter& seg, const hls::segmenter_config& cfg, last_state& last) {
  const std::uint64_t next = seg.next_sequence();
  const std::uint32_t open = seg.open_parts();
  RTMP_FUZZ_CHECK(seg.version() >= last.version);
  if (next != last.next_sequence || open != last.open_parts || seg.ended() != last.ended) {
    RTMP_FUZZ_CHECK(seg.version() > last.version);
  }
  last = {seg.version(), next, open, seg.ended()};

  std::size_t expected_bytes = 0;
  for (std::uint32_t i = 0; i < open; ++i) {
    const auto p = seg.find_part(next, i);
    RTMP_FUZZ_CHECK(p != nullptr && p->sequence == next && p->index == i && p->duration_ms > 0);
    RTMP_FUZZ_CHECK(boxes_tile(p->bytes.span()));
    RTMP_FUZZ_CHECK(first_box(p->bytes.span()) == (i == 0 ? "styp" : "moof"));
    expected_bytes += p->bytes.size();
  }
  RTMP_FUZZ_CHECK(seg.find_part(next, open) == nullptr);
  RTMP_FUZZ_CHECK(seg.has(next, open) == seg.ended() && seg.has(next) == seg.ended());
  if (open > 0) RTMP_FUZZ_CHECK(seg.has(next, open - 1));
  if (next > cfg.first_sequence) RTMP_FUZZ_CHECK(seg.has(next - 1, 1000));

  const std::size_t with_parts = std::min(cfg.parts_kept_segments, seg.segments());
  const std::size_t listed = std::min(cfg.window, seg.segments());
  std::size_t listed_parts = 0;
  for (std::uint64_t n = next - seg.segments(); n < next; ++n) {
    const auto s = seg.find(n);
    RTMP_FUZZ_CHECK(s != nullptr);
    expected_bytes += s->bytes.size();
    std::size_t offset = 0;
    std::uint32_t i = 0;
    for (; const auto p = seg.find_part(n, i); ++i) {
      RTMP_FUZZ_CHECK(p->sequence == n && p->index == i && p->duration_ms > 0);
      RTMP_FUZZ_CHECK(p->bytes.size() <= s->bytes.size() - offset);
      RTMP_FUZZ_CHECK(std::equal(p->bytes.data(), p->bytes.data() + p->bytes.size(), s->bytes.data() + offset));
      offset += p->bytes.size();
    }
    RTMP_FUZZ_CHECK((i > 0) == (n >= next - with_parts));
    RTMP_FUZZ_CHECK(i == 0 || offset == s->bytes.size());
    if (n >= next - listed) listed_parts += i;
  }
  RTMP_FUZZ_CHECK(seg.bytes() == expected_bytes);

  const std::string playlist = seg.playlist("?t=1");
  const bool open_listed = open > 0 && !seg.ended();
  RTMP_FUZZ_CHECK(playlist.empty() == (seg.segments() == 0));  // players want a whole segment
  if (playlist.empty()) return;
  RTMP_FUZZ_CHECK(playlist.find("#EXT-X-PART-INF:PART-TARGET=") != std::string::npos);
  RTMP_FUZZ_CHECK(occurrences(playlist, "#EXT-X-PART:") == listed_parts + (open_listed ? open : 0));
  RTMP_FUZZ_CHECK(occurrences(playlist, "#EXT-X-PRELOAD-HINT:") == (seg.ended() ? 0u : 1u));
  RTMP_FUZZ_CHECK(occurrences(playlist, "#EXTINF:") == listed);
  RTMP_FUZZ_CHECK((playlist.find("#EXT-X-ENDLIST") != std::string::npos) == seg.ended());
}

// The records of run_hls_segmenter into an LL-HLS fMP4 segmenter: its
// checks (bounded bytes, served whole segments, init segments) and the
// ones above.
inline void run_hls_low_latency(bytes_view in, std::chrono::milliseconds part) {
  hls::segmenter_config cfg;
  cfg.format = hls::segment_format::fmp4;
  cfg.segment_duration = std::chrono::milliseconds(300);
  cfg.max_segment_duration = std::chrono::milliseconds(2000);
  cfg.window = 3;
  cfg.max_bytes = 64 * 1024;
  cfg.part_duration = part;
  cfg.parts_kept_segments = 2;
  hls::segmenter seg(cfg);
  RTMP_FUZZ_CHECK(seg.low_latency());
  last_state last{seg.version(), seg.next_sequence(), 0, false};
  feed_hls_records(in, seg, cfg, [&] {
    for (std::uint64_t n = seg.next_sequence() - seg.segments(); n < seg.next_sequence(); ++n) {
      const auto s = seg.find(n);
      RTMP_FUZZ_CHECK(s != nullptr && s->bytes.size() > 0 && boxes_tile(s->bytes.span()));
      RTMP_FUZZ_CHECK(first_box(s->bytes.span()) == "styp");
      const auto init = seg.find_init(s->init);
      RTMP_FUZZ_CHECK(init.size() > 0 && boxes_tile(init.span()));
    }
    check_low_latency(seg, cfg, last);
  });
}

/// Target fuzz_hls_segmenter: run_hls_segmenter, or with a part duration
/// from the seed, run_hls_low_latency.
inline void run_hls_segmenter_target(bytes_view in) {
  const auto part = part_duration_of(in);
  if (part.count() == 0) {
    run_hls_segmenter(in);
  } else {
    run_hls_low_latency(in, part);
  }
}

// ---------------------------------------------------------------------------

/// A target's name (its folder under fuzz/corpus and fuzz/regressions) and body.
struct target {
  const char* name;
  void (*run)(bytes_view);
};

/// Every target, for the regression test.
inline constexpr target all_targets[] = {
    {"fuzz_amf0", run_amf0},
    {"fuzz_chunk_reader", run_chunk_reader},
    {"fuzz_handshake", run_handshake},
    {"fuzz_flv_reader", run_flv_reader},
    {"fuzz_server_session", run_server_session},
    {"fuzz_client_session", run_client_session},
    {"fuzz_proxy_header", run_proxy_header},
    {"fuzz_ts_muxer", run_ts_muxer},
    {"fuzz_hls_segmenter", run_hls_segmenter_target},
};

}  // namespace rtmp::fuzz
