// The sans-I/O pieces of `rtmp-client bench` that --streams and --http-flv
// add (apps/rtmp-client/bench_names and bench_http_flv): the stream names
// and the spread of players over them, the HTTP-FLV request, the chunked
// body decoder, and the response reader fed the synthetic stream as
// rtmp-server frames it (chunk per tag), as a plain body and with a
// Content-Length, split at every byte, plus broken and refused responses.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "bench_detail.hpp"
#include "bench_http_flv.hpp"
#include "bench_names.hpp"
#include "rtmp/error.hpp"
#include "rtmp/proto/flv_writer.hpp"

namespace {

using namespace rtmp::bench;
using bytes = std::vector<std::uint8_t>;

// `s` as a span of bytes.
std::span<const std::uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// --- names -------------------------------------------------------------------------------------

TEST(bench_names, one_stream_keeps_the_urls_name) {
  EXPECT_EQ(stream_name("cam", 1, 0), "cam");
  EXPECT_EQ(stream_name("cam?token=t", 1, 0), "cam?token=t");
}

TEST(bench_names, several_streams_get_a_suffix_before_the_query) {
  EXPECT_EQ(stream_name("cam", 3, 0), "cam-0");
  EXPECT_EQ(stream_name("cam", 3, 2), "cam-2");
  EXPECT_EQ(stream_name("cam", 500, 499), "cam-499");
  EXPECT_EQ(stream_name("cam?token=t&x=1", 2, 1), "cam-1?token=t&x=1");
}

TEST(bench_names, players_spread_round_robin_and_evenly) {
  std::map<std::size_t, int> per_stream;
  for (std::size_t p = 0; p < 6; ++p) ++per_stream[stream_of_player(p, 3)];
  EXPECT_EQ(per_stream, (std::map<std::size_t, int>{{0, 2}, {1, 2}, {2, 2}}));
  // The first N players cover the N streams; fewer players than streams leave the last ones empty.
  EXPECT_EQ(stream_of_player(0, 3), 0u);
  EXPECT_EQ(stream_of_player(1, 3), 1u);
  EXPECT_EQ(stream_of_player(3, 3), 0u);
  EXPECT_EQ(stream_of_player(7, 1), 0u);
  EXPECT_EQ(stream_of_player(7, 0), 0u);
}

TEST(bench_names, http_flv_request_is_a_get_of_app_stream_flv_with_the_query) {
  EXPECT_EQ(http_flv_target("live", "cam-1"), "/live/cam-1.flv");
  EXPECT_EQ(http_flv_target("live", "cam-1?token=a b"), "/live/cam-1.flv?token=a b");
  EXPECT_EQ(http_flv_target("app/inst", "my cam%"), "/app/inst/my%20cam%25.flv");
  EXPECT_EQ(host_header("127.0.0.1", false, 8080), "127.0.0.1:8080");
  EXPECT_EQ(host_header("::1", true, 8080), "[::1]:8080");
  EXPECT_EQ(http_flv_request("127.0.0.1:8080", "live", "cam?token=t"),
            "GET /live/cam.flv?token=t HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: rtmp-client-bench\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n");
}

// --- chunked_decoder ---------------------------------------------------------------------------

// Feeds `input` split into pieces of `step` bytes (the last may be shorter);
// returns the data and the first error.
std::pair<std::string, std::error_code> dechunk(chunked_decoder& d, const std::string& input, std::size_t step) {
  std::string data;
  for (std::size_t at = 0; at < input.size(); at += step) {
    auto in = span_of(input).subspan(at, std::min(step, input.size() - at));
    while (!in.empty()) {
      std::span<const std::uint8_t> piece;
      std::error_code ec;
      const std::size_t used = d.step(in, piece, ec);
      if (ec) return {data, ec};
      EXPECT_GT(used, 0u);
      data.append(reinterpret_cast<const char*>(piece.data()), piece.size());
      in = in.subspan(used);
    }
  }
  return {data, {}};
}

TEST(bench_chunked, decodes_sizes_extensions_and_trailers_split_anywhere) {
  const std::string body =
      "5\r\nhello\r\n"
      "1A;name=value;x\r\nabcdefghijklmnopqrstuvwxyz\r\n"
      "3 ; ext\r\n123\r\n"
      "0\r\nTrailer: yes\r\nOther: 1\r\n\r\n";
  for (std::size_t step = 1; step <= body.size(); ++step) {
    SCOPED_TRACE(step);
    chunked_decoder d;
    const auto [data, ec] = dechunk(d, body, step);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(data, "helloabcdefghijklmnopqrstuvwxyz123");
    EXPECT_TRUE(d.done());
    EXPECT_EQ(d.data_bytes(), 34u);
  }
}

TEST(bench_chunked, accepts_bare_lf_and_ignores_what_follows_the_last_chunk) {
  chunked_decoder d;
  const auto [data, ec] = dechunk(d, "2\nab\n0\n\nGARBAGE after the end", 4);
  EXPECT_FALSE(ec);
  EXPECT_EQ(data, "ab");
  EXPECT_TRUE(d.done());
}

TEST(bench_chunked, is_not_done_before_the_blank_line_after_the_last_chunk) {
  chunked_decoder d;
  const auto [data, ec] = dechunk(d, "2\r\nab\r\n0\r\nTrailer: 1\r\n", 100);
  EXPECT_FALSE(ec);
  EXPECT_EQ(data, "ab");
  EXPECT_FALSE(d.done());
}

TEST(bench_chunked, malformed_framing_is_a_sticky_error) {
  const std::vector<std::string> broken = {
      "\r\nab\r\n",                           // no size
      "g\r\n",                                // not hex
      "2\r\nabX\r\n",                         // no CRLF after the data
      "2\r\nab\rX",                           // CR without LF
      "1234567890abcdef0\r\n",                // 17 hex digits
      "2;" + std::string(5000, 'e') + "\r\n", // an endless extension
      "0\r\nT: " + std::string(5000, 't'),    // an endless trailer line
      "0\r\n\rX",                             // the final CR without LF
  };
  for (const auto& input : broken) {
    SCOPED_TRACE(input.substr(0, 40));
    chunked_decoder d;
    const auto [data, ec] = dechunk(d, input, input.size());
    EXPECT_EQ(ec, make_error_code(http_flv_errc::malformed_chunk));
    std::span<const std::uint8_t> piece;
    std::error_code again;
    const std::string more = "2\r\nab\r\n";
    EXPECT_EQ(d.step(span_of(more), piece, again), more.size());
    EXPECT_EQ(again, make_error_code(http_flv_errc::malformed_chunk));
    EXPECT_TRUE(piece.empty());
  }
}

// --- http_flv_reader ---------------------------------------------------------------------------

// The synthetic stream's first tags as FLV tags: metadata, the video
// sequence header, then `frames` stamped video frames with audio between.
std::vector<rtmp::proto::flv_tag> synthetic_tags(std::size_t frames) {
  const synthetic_stream s(300'000, 64'000);
  std::vector<rtmp::proto::flv_tag> tags;
  const auto add = [&tags](std::uint8_t type, std::uint32_t ts, std::span<const std::uint8_t> payload) {
    tags.push_back({type, ts, rtmp::proto::shared_bytes::copy_of(payload)});
  };
  const auto meta = s.metadata();
  add(18, 0, meta);
  const auto vsh = s.video_sequence_header();
  add(9, 0, vsh.payload.span());
  const auto ash = s.audio_sequence_header();
  add(8, 0, ash.payload.span());
  for (std::size_t i = 0; i < frames; ++i) {
    const auto v = s.video_frame(i, i, 1'000'000 + i);
    add(9, v.timestamp, v.payload.span());
    const auto a = s.audio_frame(i);
    add(8, a.timestamp, a.payload.span());
  }
  return tags;
}

// The FLV stream of `tags`, one string per piece as rtmp-server writes
// them: the 13-byte file header, then each tag with its PreviousTagSize.
std::vector<std::string> flv_pieces(const std::vector<rtmp::proto::flv_tag>& tags) {
  const auto header = rtmp::proto::flv_file_header({true, true});
  std::vector<std::string> pieces{std::string(header.begin(), header.end())};
  for (const auto& tag : tags) {
    rtmp::proto::flv_writer w;
    bytes out;
    w.write_tag(tag, out);
    pieces.emplace_back(out.begin() + 13, out.end());  // without the file header the writer adds
  }
  return pieces;
}

// A 200 response carrying `pieces` chunked (a chunk each, then the last chunk).
std::string chunked_response(const std::vector<std::string>& pieces) {
  std::string r =
      "HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
      "Cache-Control: no-store\r\n\r\n";
  char line[32];
  for (const auto& p : pieces) {
    std::snprintf(line, sizeof line, "%zx\r\n", p.size());
    r += line + p + "\r\n";
  }
  return r + "0\r\n\r\n";
}

// Feeds `response` to `reader` in pieces of `step` bytes; returns the first error and collects the tags.
std::error_code read_response(http_flv_reader& reader, const std::string& response, std::size_t step,
                              std::vector<rtmp::proto::flv_tag>& tags) {
  for (std::size_t at = 0; at < response.size(); at += step) {
    const auto ec = reader.feed(span_of(response).subspan(at, std::min(step, response.size() - at)));
    rtmp::proto::flv_tag tag;
    while (reader.next(tag)) tags.push_back(std::move(tag));
    if (ec) return ec;
  }
  return {};
}

// The tags read back are the tags sent, and the stamps read back are the ones written.
void expect_same_tags(const std::vector<rtmp::proto::flv_tag>& got, const std::vector<rtmp::proto::flv_tag>& sent) {
  ASSERT_EQ(got.size(), sent.size());
  std::uint64_t stamped = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].type, sent[i].type) << i;
    EXPECT_EQ(got[i].timestamp, sent[i].timestamp) << i;
    ASSERT_EQ(got[i].payload.size(), sent[i].payload.size()) << i;
    EXPECT_TRUE(std::equal(got[i].payload.span().begin(), got[i].payload.span().end(), sent[i].payload.span().begin()));
    if (got[i].type != 9) continue;
    if (const auto stamp = read_stamp(got[i].payload.span())) {
      EXPECT_EQ(stamp->sequence, stamped);
      EXPECT_EQ(stamp->send_ns, 1'000'000 + stamped);
      ++stamped;
    }
  }
  EXPECT_EQ(stamped, 12u);
}

TEST(bench_http_flv_reader, reads_the_chunked_body_rtmp_server_sends_split_anywhere) {
  const auto tags = synthetic_tags(12);
  const std::string response = chunked_response(flv_pieces(tags));
  for (const std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}, std::size_t{100},
                                 std::size_t{1460}, std::size_t{65536}}) {
    SCOPED_TRACE(step);
    http_flv_reader reader;
    std::vector<rtmp::proto::flv_tag> got;
    ASSERT_FALSE(read_response(reader, response, step, got));
    EXPECT_TRUE(reader.head_complete());
    EXPECT_EQ(reader.status(), 200);
    EXPECT_EQ(reader.body_framing(), http_flv_reader::framing::chunked);
    EXPECT_TRUE(reader.body_complete());
    EXPECT_TRUE(reader.ended_cleanly());
    expect_same_tags(got, tags);
  }
}

TEST(bench_http_flv_reader, the_body_is_incomplete_until_the_last_chunk) {
  const std::string response = chunked_response(flv_pieces(synthetic_tags(12)));
  http_flv_reader reader;
  std::vector<rtmp::proto::flv_tag> got;
  ASSERT_FALSE(read_response(reader, response.substr(0, response.size() - 5), 4096, got));
  EXPECT_EQ(got.size(), 27u);
  EXPECT_FALSE(reader.body_complete());
  EXPECT_FALSE(reader.ended_cleanly()) << "a chunked body cut before its last chunk was cut";
}

TEST(bench_http_flv_reader, reads_a_body_that_runs_until_the_close) {
  const auto tags = synthetic_tags(12);
  std::string body;
  for (const auto& p : flv_pieces(tags)) body += p;
  const std::string response = "HTTP/1.0 200 OK\r\nContent-Type: video/x-flv\r\n\r\n" + body;
  for (const std::size_t step : {std::size_t{1}, std::size_t{5}, std::size_t{4096}}) {
    SCOPED_TRACE(step);
    http_flv_reader reader;
    std::vector<rtmp::proto::flv_tag> got;
    ASSERT_FALSE(read_response(reader, response, step, got));
    EXPECT_EQ(reader.body_framing(), http_flv_reader::framing::until_close);
    EXPECT_FALSE(reader.body_complete()) << "only the close ends it";
    EXPECT_TRUE(reader.ended_cleanly()) << "at a tag boundary";
    EXPECT_EQ(reader.body_bytes(), body.size());
    expect_same_tags(got, tags);
  }
  http_flv_reader cut;
  std::vector<rtmp::proto::flv_tag> got;
  ASSERT_FALSE(read_response(cut, response.substr(0, response.size() - 10), 4096, got));
  EXPECT_FALSE(cut.ended_cleanly()) << "cut inside a tag";
}

TEST(bench_http_flv_reader, reads_a_content_length_body_and_ignores_what_follows) {
  const auto tags = synthetic_tags(12);
  std::string body;
  for (const auto& p : flv_pieces(tags)) body += p;
  const std::string response = "HTTP/1.1 200 OK\r\ncontent-length:  " + std::to_string(body.size()) +
                               " \r\nX-Other: a:b\r\n\r\n" + body + "trailing junk";
  http_flv_reader reader;
  std::vector<rtmp::proto::flv_tag> got;
  ASSERT_FALSE(read_response(reader, response, 3, got));
  EXPECT_EQ(reader.body_framing(), http_flv_reader::framing::content_length);
  EXPECT_TRUE(reader.body_complete());
  EXPECT_EQ(reader.body_bytes(), body.size());
  expect_same_tags(got, tags);
}

TEST(bench_http_flv_reader, a_status_other_than_200_is_an_error_named_by_its_status) {
  http_flv_reader reader;
  std::vector<rtmp::proto::flv_tag> got;
  const auto ec = read_response(
      reader, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", 1, got);
  EXPECT_EQ(ec, http_status_error(404));
  EXPECT_EQ(ec.message(), "HTTP status 404");
  EXPECT_TRUE(reader.head_complete());
  EXPECT_EQ(reader.status(), 404);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(reader.feed(span_of("more")), http_status_error(404)) << "sticky";
}

TEST(bench_http_flv_reader, refuses_broken_heads_codings_and_bodies) {
  const auto expect_error = [](const std::string& response, std::error_code want) {
    SCOPED_TRACE(response.substr(0, 60));
    http_flv_reader reader(256);
    std::vector<rtmp::proto::flv_tag> got;
    EXPECT_EQ(read_response(reader, response, response.size(), got), want);
  };
  const auto malformed = make_error_code(http_flv_errc::malformed_head);
  expect_error("HTTP/2 200 OK\r\n\r\n", malformed);
  expect_error("ICY 200 OK\r\n\r\n", malformed);
  expect_error("HTTP/1.1 2x0 OK\r\n\r\n", malformed);
  expect_error("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", malformed);
  expect_error("HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n", malformed);
  expect_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", malformed);
  expect_error("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", malformed);
  expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
               make_error_code(http_flv_errc::unsupported_transfer_coding));
  expect_error("HTTP/1.1 200 OK\r\nX: " + std::string(300, 'x') + "\r\n\r\n",
               make_error_code(http_flv_errc::head_too_large));
  expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
               make_error_code(http_flv_errc::malformed_chunk));
  expect_error("HTTP/1.1 200 OK\r\n\r\nNOT FLV AT ALL", rtmp::errc::flv_malformed);
}

TEST(bench_http_flv_reader, a_head_split_across_reads_is_found) {
  // The blank line straddles two reads; the body's first bytes come in the second.
  const auto tags = synthetic_tags(12);
  const std::string response = chunked_response(flv_pieces(tags));
  const auto blank = response.find("\r\n\r\n");
  http_flv_reader reader;
  std::vector<rtmp::proto::flv_tag> got;
  ASSERT_FALSE(read_response(reader, response.substr(0, blank + 2), 1 << 20, got));
  EXPECT_FALSE(reader.head_complete());
  ASSERT_FALSE(read_response(reader, response.substr(blank + 2), 1 << 20, got));
  EXPECT_TRUE(reader.head_complete());
  expect_same_tags(got, tags);
}

}  // namespace
