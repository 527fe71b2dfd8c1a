// proto_bench: Google Benchmark microbenchmarks of the protocol hot paths.
//
// What is measured (see docs/performance.md for the numbers and the command):
// * AMF0 encode/decode of the two AMF payloads every publish carries: the
//   client's `connect` command and the `onMetaData` ECMA array, shaped like
//   the ones ffmpeg 5.1 sends (tests/data/captures/ffmpeg-publish.c2s.bin);
// * chunk encode (chunk_writer::write into a reused vector, and
//   encode_standalone, the hub's encode-once path) and chunk decode
//   (chunk_reader::feed + next) at chunk sizes 128 and 4096 for 1 KB, 10 KB
//   and 100 KB messages, as payload bytes per second;
// * memcpy over the same number of bytes: the reference line. A chunk decode
//   copies every payload byte once, so memcpy is its ceiling;
// * hub::make_packet (classify + encode once) for a 10 KB video message.
//
// No timing is asserted anywhere; ctest only runs one case to prove the
// program works (see bench/CMakeLists.txt).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "rtmp/hub/media_packet.hpp"
#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/proto/amf0_value.hpp"
#include "rtmp/proto/chunk_reader.hpp"
#include "rtmp/proto/chunk_writer.hpp"
#include "rtmp/proto/command.hpp"
#include "rtmp/proto/control_message.hpp"
#include "rtmp/proto/message.hpp"
#include "rtmp/proto/shared_bytes.hpp"

namespace {

namespace amf0 = rtmp::proto::amf0;
using rtmp::proto::message;
using rtmp::proto::shared_bytes;

// Chunk stream the hub uses for video (rtmp::proto::server_csid::video).
constexpr std::uint32_t video_csid = 6;
// Bytes per socket read in the server and the client (read_buffer_size):
// the decode benchmark feeds the reader in slices of this size, as a session does.
constexpr std::size_t socket_read_size = 64 * 1024;

// --- test data ---------------------------------------------------------------

// Deterministic incompressible-looking bytes (xorshift), so nothing in the
// path can take a shortcut on zeros.
std::vector<std::uint8_t> pseudo_random_bytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  std::uint32_t x = 0x9E3779B9u;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return out;
}

// A video message of `size` bytes (>= 5) that looks like an AVC inter frame:
// FLV VideoTagHeader 0x27 (inter frame, AVC), AVCPacketType 1 (NALUs),
// composition time 0, then NALU bytes.
message video_message(std::size_t size) {
  std::vector<std::uint8_t> body = pseudo_random_bytes(size);
  const std::uint8_t tag_header[5] = {0x27, 0x01, 0x00, 0x00, 0x00};
  std::memcpy(body.data(), tag_header, sizeof tag_header);
  message msg;
  msg.type = static_cast<std::uint8_t>(rtmp::proto::message_type::video);
  msg.timestamp = 1000;
  msg.stream_id = 1;
  msg.payload = shared_bytes::copy_of(body);
  return msg;
}

// The `connect` command as ffmpeg 5.1 sends it, built with connect_command
// (which also writes the play-side properties fpad, capabilities, audioCodecs,
// videoCodecs, videoFunction and objectEncoding that ffmpeg sends when playing).
rtmp::proto::command ffmpeg_connect() {
  rtmp::proto::connect_params params;
  params.app = "live";
  params.tc_url = "rtmp://127.0.0.1:1935/live";
  params.flash_ver = "FMLE/3.0 (compatible; Lavf59.27.100)";
  return rtmp::proto::connect_command(1, params);
}

// onMetaData as ffmpeg 5.1's FLV muxer writes it for an H.264 + AAC stream
// copied from an MP4 file (the property order of the capture, plus the
// MP4 brand tags ffmpeg carries over from the input): 16 properties.
amf0::value ffmpeg_metadata() {
  return amf0::ecma_array{
      {"duration", 0.0},
      {"width", 1280.0},
      {"height", 720.0},
      {"videodatarate", 2441.40625},
      {"framerate", 30.0},
      {"videocodecid", 7.0},
      {"audiodatarate", 125.0},
      {"audiosamplerate", 48000.0},
      {"audiosamplesize", 16.0},
      {"stereo", true},
      {"audiocodecid", 10.0},
      {"major_brand", "isom"},
      {"minor_version", "512"},
      {"compatible_brands", "isomiso2avc1mp41"},
      {"encoder", "Lavf59.27.100"},
      {"filesize", 0.0},
  };
}

// The type-18 payload `"onMetaData", {...}` as a server stores and relays it.
std::vector<std::uint8_t> metadata_payload() {
  const amf0::value values[] = {"onMetaData", ffmpeg_metadata()};
  std::vector<std::uint8_t> out;
  if (amf0::encode_all(values, out)) return {};
  return out;
}

void set_bytes(benchmark::State& state, std::size_t bytes_per_iteration) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(bytes_per_iteration));
}

// --- AMF0 ----------------------------------------------------------------------

// connect: encode_command into a reused vector (no allocation once warm).
void bm_amf0_encode_connect(benchmark::State& state) {
  const rtmp::proto::command cmd = ffmpeg_connect();
  std::vector<std::uint8_t> out;
  for (auto _ : state) {
    out.clear();
    if (rtmp::proto::encode_command(cmd, out)) {
      state.SkipWithError("encode_command failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, out.size());
  state.counters["payload_bytes"] = static_cast<double>(out.size());
}
BENCHMARK(bm_amf0_encode_connect);

// connect: parse_command, what the server session runs on a type-20 message
// (builds the full value tree: strings and property vectors are allocated).
void bm_amf0_decode_connect(benchmark::State& state) {
  const std::vector<std::uint8_t> payload = rtmp::proto::encode_command(ffmpeg_connect());
  for (auto _ : state) {
    auto result = rtmp::proto::parse_command(payload);
    if (!result.ok()) {
      state.SkipWithError("parse_command failed");
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  set_bytes(state, payload.size());
  state.counters["payload_bytes"] = static_cast<double>(payload.size());
}
BENCHMARK(bm_amf0_decode_connect);

// onMetaData: encode_all of {"onMetaData", ecma_array} into a reused vector.
void bm_amf0_encode_metadata(benchmark::State& state) {
  const amf0::value values[] = {"onMetaData", ffmpeg_metadata()};
  std::vector<std::uint8_t> out;
  for (auto _ : state) {
    out.clear();
    if (amf0::encode_all(values, out)) {
      state.SkipWithError("encode_all failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, out.size());
  state.counters["payload_bytes"] = static_cast<double>(out.size());
}
BENCHMARK(bm_amf0_encode_metadata);

// onMetaData: parse_data_message with the metadata limits, into a reused vector.
void bm_amf0_decode_metadata(benchmark::State& state) {
  const std::vector<std::uint8_t> payload = metadata_payload();
  std::vector<amf0::value> values;
  for (auto _ : state) {
    auto result = rtmp::proto::parse_data_message(payload, values);
    if (!result.ok()) {
      state.SkipWithError("parse_data_message failed");
      break;
    }
    benchmark::DoNotOptimize(values.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, payload.size());
  state.counters["payload_bytes"] = static_cast<double>(payload.size());
}
BENCHMARK(bm_amf0_decode_metadata);

// What the server does once per publish with `@setDataFrame onMetaData`:
// decode, unwrap and re-encode (strip_set_data_frame).
void bm_amf0_strip_set_data_frame(benchmark::State& state) {
  const std::vector<std::uint8_t> payload = rtmp::proto::set_data_frame_message(ffmpeg_metadata());
  for (auto _ : state) {
    auto result = rtmp::proto::strip_set_data_frame(payload);
    if (!result.ok()) {
      state.SkipWithError("strip_set_data_frame failed");
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  set_bytes(state, payload.size());
  state.counters["payload_bytes"] = static_cast<double>(payload.size());
}
BENCHMARK(bm_amf0_strip_set_data_frame);

// --- chunk stream ------------------------------------------------------------

// The reference line: one memcpy of the message size between two warm buffers.
void bm_memcpy(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<std::uint8_t> src = pseudo_random_bytes(n);
  std::vector<std::uint8_t> dst(n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n);
}
BENCHMARK(bm_memcpy)->ArgName("bytes")->Arg(1024)->Arg(10 * 1024)->Arg(100 * 1024);

// Chunk sizes x message sizes for the chunk benchmarks.
void chunk_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"chunk", "bytes"});
  for (std::int64_t chunk : {128, 4096}) {
    for (std::int64_t bytes : {1024, 10 * 1024, 100 * 1024}) b->Args({chunk, bytes});
  }
}

// chunk_writer::write into a reused vector: one video stream with a steady
// 33 ms delta, so after the first message every header is compressed (fmt 3),
// as in a live session. Bytes are payload bytes.
void bm_chunk_write(benchmark::State& state) {
  const auto chunk_size = static_cast<std::uint32_t>(state.range(0));
  const auto n = static_cast<std::size_t>(state.range(1));
  message msg = video_message(n);
  rtmp::proto::chunk_writer writer;
  writer.set_chunk_size(chunk_size);
  std::vector<std::uint8_t> out;
  for (auto _ : state) {
    out.clear();
    writer.write(video_csid, msg, out);
    msg.timestamp += 33;
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n);
  state.counters["wire_bytes"] = static_cast<double>(out.size());
}
BENCHMARK(bm_chunk_write)->Apply(chunk_args);

// encode_standalone: a fresh immutable buffer per message (one allocation +
// one copy), what hub::make_packet does once per published message.
void bm_chunk_encode_standalone(benchmark::State& state) {
  const auto chunk_size = static_cast<std::uint32_t>(state.range(0));
  const auto n = static_cast<std::size_t>(state.range(1));
  const message msg = video_message(n);
  for (auto _ : state) {
    shared_bytes wire = rtmp::proto::encode_standalone(video_csid, msg, chunk_size);
    benchmark::DoNotOptimize(wire.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n);
}
BENCHMARK(bm_chunk_encode_standalone)->Apply(chunk_args);

// chunk_reader::feed of pre-encoded bytes (fmt 0 + fmt 3 chunks of one
// message), in slices of the sessions' socket read size, popping every
// message with next(). Bytes are payload bytes, so the figure compares
// directly with bm_memcpy of the same size.
void bm_chunk_decode(benchmark::State& state) {
  const auto chunk_size = static_cast<std::uint32_t>(state.range(0));
  const auto n = static_cast<std::size_t>(state.range(1));
  rtmp::proto::chunk_reader reader;
  message out;
  if (chunk_size != 128) {
    // The peer announces its chunk size first (at the initial 128).
    const shared_bytes set = rtmp::proto::encode_standalone(
        2, rtmp::proto::make_set_chunk_size(chunk_size), 128);
    if (reader.feed(set.span()) || !reader.next(out) || reader.chunk_size() != chunk_size) {
      state.SkipWithError("set chunk size failed");
      return;
    }
  }
  const shared_bytes wire = rtmp::proto::encode_standalone(video_csid, video_message(n), chunk_size);
  const std::span<const std::uint8_t> bytes = wire.span();
  std::size_t messages = 0;
  for (auto _ : state) {
    for (std::size_t at = 0; at < bytes.size(); at += socket_read_size) {
      if (reader.feed(bytes.subspan(at, std::min(socket_read_size, bytes.size() - at)))) break;
    }
    while (reader.next(out)) {
      benchmark::DoNotOptimize(out.payload.data());
      ++messages;
    }
    if (reader.error()) {
      state.SkipWithError("chunk_reader::feed failed");
      break;
    }
  }
  if (messages != static_cast<std::size_t>(state.iterations())) state.SkipWithError("wrong number of messages decoded");
  set_bytes(state, n);
  state.counters["wire_bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(bm_chunk_decode)->Apply(chunk_args);

// --- hub -------------------------------------------------------------------------

// hub::make_packet for a 10 KB video inter frame at the server's default
// outbound chunk size: classify + allocate the packet + encode once.
void bm_hub_make_packet(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const message msg = video_message(n);
  for (auto _ : state) {
    auto packet = rtmp::hub::make_packet(msg, 4096, false);
    benchmark::DoNotOptimize(packet.get());
    benchmark::ClobberMemory();
  }
  set_bytes(state, n);
}
BENCHMARK(bm_hub_make_packet)->ArgName("bytes")->Arg(10 * 1024);

}  // namespace

BENCHMARK_MAIN();
