#pragma once
// Bounded reads and writes on a test_client: what a publisher sends first,
// media until a count or a condition, predicates on synthetic frames tagged
// at payload byte 2 (see media.hpp's fill byte), the reply that tells a
// request's outcome, and writes of hand-built bytes that a server which
// stops reading cannot hang.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rtmp/proto/amf0_value.hpp"
#include "rtmp/proto/command.hpp"
#include "media.hpp"
#include "raw_socket.hpp"
#include "test_client.hpp"

namespace rtmp::test {

/// True for audio (8) and video (9) messages.
inline bool is_media(const proto::message& m) { return m.type == 8 || m.type == 9; }

/// onMetaData properties of a `width` x `height` picture (push more as needed).
inline proto::amf0::ecma_array picture_metadata(double width, double height) {
  proto::amf0::ecma_array meta;
  meta.push_back("width", width);
  meta.push_back("height", height);
  return meta;
}

/// Sends @setDataFrame onMetaData with `meta` at timestamp `ts`.
inline void send_metadata(test_client& pub, const proto::amf0::ecma_array& meta, std::uint32_t ts = 0) {
  pub.send_media(18, ts, proto::set_data_frame_message(meta));
}

/// Sends what a publisher starts with, at timestamp 0: the metadata `meta`,
/// the AVC sequence header `video`, then an AAC sequence header.
inline void send_stream_start(test_client& pub, const proto::amf0::ecma_array& meta,
                              const std::vector<std::uint8_t>& video = avc_sequence_header()) {
  send_metadata(pub, meta);
  pub.send_media(9, 0, video);
  pub.send_media(8, 0, aac_sequence_header());
}

/// Writes `b` on `c`'s socket within `timeout` (see send_bounded).
inline send_result send_bounded(test_client& c, const std::vector<std::uint8_t>& b,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  return send_bounded(c.socket().native_handle(), b, timeout);
}

/// Media (8, 9) and data (18) messages, those `c` skipped earlier first,
/// until `count` arrived or `timeout` passed.
inline std::vector<proto::message> read_media(test_client& c, std::size_t count,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  std::vector<proto::message> out;
  for (auto& m : c.skipped) {
    if (m.type == 8 || m.type == 9 || m.type == 18) out.push_back(m);
  }
  c.skipped.clear();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto m = c.next(std::chrono::milliseconds(50));
    if (m && (m->type == 8 || m->type == 9 || m->type == 18)) out.push_back(*m);
  }
  return out;
}

/// Media and data messages until one satisfies `done` (inclusive) or `timeout` passes.
inline std::vector<proto::message> read_until(test_client& c, const std::function<bool(const proto::message&)>& done,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  std::vector<proto::message> out;
  auto take = [&](const proto::message& m) {
    if (m.type != 8 && m.type != 9 && m.type != 18) return false;
    out.push_back(m);
    return done(m);
  };
  bool finished = false;
  std::vector<proto::message> earlier;
  earlier.swap(c.skipped);
  for (const auto& m : earlier) {
    if (!finished) finished = take(m);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!finished && std::chrono::steady_clock::now() < deadline) {
    auto m = c.next(std::chrono::milliseconds(50));
    if (m) finished = take(*m);
  }
  return out;
}

/// A predicate: video whose payload byte 2 (the tag) is `tag`.
inline std::function<bool(const proto::message&)> video_tagged(std::uint8_t tag) {
  return [tag](const proto::message& m) { return m.type == 9 && m.payload.size() >= 3 && m.payload[2] == tag; };
}

/// A predicate: true from the `n`-th coded video frame on.
inline std::function<bool(const proto::message&)> nth_video(std::size_t n) {
  auto seen = std::make_shared<std::size_t>(0);
  return [seen, n](const proto::message& m) {
    return m.type == 9 && m.payload.size() >= 2 && m.payload[1] == 1 && ++*seen >= n;
  };
}

/// The coded video frames of `in` (no sequence headers, audio or data).
inline std::vector<proto::message> only_video(const std::vector<proto::message>& in) {
  std::vector<proto::message> out;
  for (const auto& m : in) {
    if (m.type == 9 && m.payload.size() >= 2 && m.payload[1] == 1) out.push_back(m);
  }
  return out;
}

/// The first reply that tells the outcome of a request: the onStatus code,
/// "_result", "_error", or "" when the connection closed or nothing came.
inline std::string wait_reply(test_client& c, std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto m = c.next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    if (!m) return "";
    if (m->type != 20) {
      c.skipped.push_back(*m);
      continue;
    }
    auto r = proto::parse_command(m->payload.span());
    if (!r.ok()) continue;
    if (r.cmd.name == "_result" || r.cmd.name == "_error") return r.cmd.name;
    if (r.cmd.name == "onStatus") {
      auto info = proto::read_status(r.cmd);
      if (info) return info->code;
    }
  }
  return "";
}

/// Connects `c` to `app`; false when refused or closed.
inline bool connect_ok(test_client& c, const std::string& app = "live") {
  try {
    c.connect(app);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace rtmp::test
