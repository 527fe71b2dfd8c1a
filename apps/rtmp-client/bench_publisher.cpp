// The publisher of `rtmp-client bench` (see bench_publisher.hpp): its
// pacing of the synthetic stream and of a looped FLV file, and the loading
// of that file.
#include "bench_publisher.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <utility>

#include "rtmp/error.hpp"
#include "rtmp/proto/media_info.hpp"

namespace rtmp::bench {

namespace {

using namespace std::chrono_literals;

// The publisher skips frames (and says so) rather than queue more than this.
constexpr std::size_t max_publisher_backlog = 8 * 1024 * 1024;

// True when a script tag is onMetaData.
bool is_metadata(const proto::flv_tag& tag) {
  static constexpr std::uint8_t prefix[] = {0x02, 0x00, 0x0A, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'};
  const auto p = tag.payload.span();
  return p.size() >= sizeof(prefix) && std::memcmp(p.data(), prefix, sizeof(prefix)) == 0;
}

}  // namespace

publisher::publisher(asio::io_context& io, std::vector<std::uint8_t>& buffer,
                     const proto::client_session_config& config, const bench_options& options,
                     const std::vector<proto::flv_tag>& file_tags, histogram& lateness_us)
    : connection(io, buffer, config),
      synthetic_(options.bitrate, options.audio_bitrate),
      file_tags_(file_tags),
      lateness_us_(lateness_us),
      use_file_(options.publish != "synthetic"),
      timer_(io) {}

void publisher::begin(const std::string& stream, const tcp::endpoint& endpoint, clock_type::duration phase) {
  stats_.stream = stream;
  phase_ = phase;
  (void)session_.publish(stream);
  start(endpoint);
}

void publisher::stop() {
  timer_.cancel();
  close({});
}

void publisher::on_event(proto::client_event& ev, clock_type::time_point now) {
  using kind = proto::client_event::kind;
  if (ev.type == kind::publish_started) {
    stats_.started = now;
    state_.store(state::publishing);
    send_headers();
    tick();
  } else if (ev.type == kind::stream_ended) {
    stats_.failure = "the server stopped the stream: " + ev.reason;
    close(errc::peer_closed);
  }
}

void publisher::on_close(clock_type::time_point now) {
  stats_.ended = now;
  timer_.cancel();
  if (error()) {
    if (stats_.failure.empty()) {
      const auto& st = session_.last_error_status();
      stats_.failure = error().message() + (st.code.empty() ? "" : " (" + st.code + ")");
    }
    if (state_.load() == state::connecting) state_.store(state::failed);
  }
}

void publisher::send_headers() {
  if (use_file_) {
    for (const auto& tag : file_tags_) {
      if (tag.type == 18 && is_metadata(tag)) {
        (void)session_.send_script_data(tag.payload.span(), 0);
        break;
      }
    }
  } else {
    const auto meta = synthetic_.metadata();
    (void)session_.send_script_data(meta, 0);
    (void)session_.send_media(synthetic_.video_sequence_header());
    if (synthetic_.has_audio()) (void)session_.send_media(synthetic_.audio_sequence_header());
  }
  flush();
}

bool publisher::backlogged() const noexcept { return queued_bytes() > max_publisher_backlog; }

void publisher::send(const proto::message& m, clock_type::time_point due) {
  if (session_.send_media(m)) return;
  const auto now = clock_type::now();
  lateness_us_.record(now > due ? static_cast<std::uint64_t>(
                                      std::chrono::duration_cast<std::chrono::microseconds>(now - due).count())
                                : 0);
  stats_.media_bytes += m.payload.size();
  if (m.type == 9) ++stats_.video_frames;
  if (m.type == 8) ++stats_.audio_frames;
}

void publisher::tick() {
  if (closed()) return;
  const auto now = clock_type::now();
  clock_type::time_point next = use_file_ ? tick_file(now) : tick_synthetic(now);
  flush();
  timer_.expires_at(next);
  timer_.async_wait([this](std::error_code ec) {
    if (!ec) tick();
  });
}

clock_type::time_point publisher::tick_synthetic(clock_type::time_point now) {
  const auto t0 = stats_.started + phase_;
  for (;;) {
    const auto video_due = t0 + std::chrono::milliseconds(synthetic_stream::video_time_ms(video_index_));
    const auto audio_due = t0 + std::chrono::microseconds(synthetic_stream::audio_time_us(audio_index_));
    const bool audio_first = synthetic_.has_audio() && audio_due < video_due;
    const auto due = audio_first ? audio_due : video_due;
    if (due > now) return due;
    if (audio_first) {
      if (backlogged()) {
        ++stats_.skipped_frames;
      } else {
        send(synthetic_.audio_frame(audio_index_), due);
      }
      ++audio_index_;
      continue;
    }
    if (backlogged()) {
      ++stats_.skipped_frames;  // the sequence number does not advance: players see no gap for it
    } else {
      send(synthetic_.video_frame(video_index_, sequence_++, ns_of(clock_type::now())), due);
    }
    ++video_index_;
  }
}

clock_type::time_point publisher::tick_file(clock_type::time_point now) {
  if (file_tags_.empty()) return now + 1h;
  const std::uint32_t first = file_tags_.front().timestamp;
  for (;;) {
    if (file_pos_ == file_tags_.size()) {
      // Next loop starts one frame interval after this one's last timestamp.
      const std::uint32_t last = file_tags_.back().timestamp;
      loop_offset_ms_ += (last >= first ? last - first : 0) + 40;
      file_pos_ = 0;
      ++loops_;
    }
    const auto& tag = file_tags_[file_pos_];
    const std::uint64_t rel = (tag.timestamp >= first ? tag.timestamp - first : 0) + loop_offset_ms_;
    const auto due = stats_.started + phase_ + std::chrono::milliseconds(rel);
    if (due > now) return due;
    ++file_pos_;
    if (tag.type != 8 && tag.type != 9) continue;  // metadata went out once at the start
    if (loops_ > 0 && (proto::is_video_sequence_header(tag.payload.span()) ||
                       (tag.type == 8 && proto::is_audio_sequence_header(tag.payload.span())))) {
      continue;
    }
    if (backlogged()) {
      ++stats_.skipped_frames;
      continue;
    }
    proto::message m;
    m.type = tag.type;
    m.timestamp = static_cast<std::uint32_t>(rel);
    m.payload = tag.payload;
    send(m, due);
  }
}

std::error_code load_flv(const std::string& path, std::vector<proto::flv_tag>& tags) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {errno, std::generic_category()};
  proto::flv_reader reader;
  std::vector<std::uint8_t> block(256 * 1024);
  std::error_code result;
  for (;;) {
    const ssize_t n = ::read(fd, block.data(), block.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      result = {errno, std::generic_category()};
      break;
    }
    if (n == 0) {
      const auto ec = reader.finish();
      if (ec && !(ec == errc::flv_truncated && reader.tags_read() > 0)) result = ec;
      break;
    }
    if (auto ec = reader.feed(std::span<const std::uint8_t>(block.data(), static_cast<std::size_t>(n)))) {
      result = ec;
      break;
    }
    proto::flv_tag tag;
    while (reader.next(tag)) tags.push_back(std::move(tag));
  }
  ::close(fd);
  if (!result && tags.empty()) result = errc::flv_malformed;
  return result;
}

}  // namespace rtmp::bench
