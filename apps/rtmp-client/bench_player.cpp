// The players of `rtmp-client bench` (see bench_player.hpp): what each one
// counts as the stream arrives, the RTMP player, the deadline sweep of their
// threads, and the sum of their figures after the run.
#include "bench_player.hpp"

#include <algorithm>

#include "rtmp/error.hpp"
#include "rtmp/proto/media_info.hpp"

namespace rtmp::bench {

namespace {

using namespace std::chrono_literals;

// How often each thread checks negotiation deadlines.
constexpr auto sweep_interval = 250ms;

}  // namespace

void player::note_playing(clock_type::time_point now) {
  if (stats_.playing) return;
  stats_.playing = true;
  stats_.playing_at = now;
  thread_.playing.fetch_add(1, std::memory_order_relaxed);
}

void player::note_closed(clock_type::time_point now) {
  stats_.ended = now;
  if (!stats_.playing) thread_.failed.fetch_add(1, std::memory_order_relaxed);
}

void player::note_media(std::uint8_t type, std::span<const std::uint8_t> payload, clock_type::time_point now) {
  ++stats_.messages;
  stats_.media_bytes += payload.size();
  if (thread_.measuring) {
    if (stats_.window_bytes == 0 && stats_.window_from == clock_type::time_point{}) {
      stats_.window_from = std::max(thread_.measure_from, stats_.playing_at);
    }
    stats_.window_bytes += payload.size();
  }
  if (type == 8) {
    ++stats_.audio;
    return;
  }
  if (type != 9) return;
  ++stats_.video;
  if (proto::is_video_keyframe(payload)) {
    ++stats_.keyframes;
    if (!stats_.have_keyframe) {
      stats_.have_keyframe = true;
      stats_.first_keyframe = now;
      thread_.keyed.fetch_add(1, std::memory_order_relaxed);
    }
  }
  const auto stamp = read_stamp(payload);
  if (!stamp) return;
  ++stats_.stamped;
  if (!stats_.have_seq) {
    stats_.have_seq = true;
    stats_.last_seq = stamp->sequence;
  } else if (stamp->sequence == stats_.last_seq + 1) {
    stats_.last_seq = stamp->sequence;
  } else if (stamp->sequence > stats_.last_seq + 1) {
    ++stats_.gaps;
    stats_.dropped += stamp->sequence - stats_.last_seq - 1;
    stats_.last_seq = stamp->sequence;
  } else {
    ++stats_.reordered;  // a duplicate or an older frame
  }
  // Frames sent before this player was playing came from a cache (a GOP
  // replayed to a late joiner): their age is not the live delay.
  const std::uint64_t now_ns = ns_of(now);
  if (stamp->send_ns >= ns_of(stats_.playing_at) && now_ns >= stamp->send_ns && stats_.playing) {
    thread_.delay_us.record((now_ns - stamp->send_ns) / 1000);
  }
}

rtmp_player::rtmp_player(player_thread& thread, const proto::client_session_config& config,
                         std::chrono::milliseconds timeout)
    : connection(thread.io, thread.read_buffer, config), player(thread, timeout) {}

void rtmp_player::begin(const std::string& stream, const tcp::endpoint& endpoint) {
  note_started();
  (void)session_.play(stream);  // goes out as soon as the connection is up
  start(endpoint);
}

void rtmp_player::on_event(proto::client_event& ev, clock_type::time_point now) {
  using kind = proto::client_event::kind;
  switch (ev.type) {
    case kind::play_started:
      note_playing(now);
      break;
    case kind::media:
      note_media(ev.msg.type, ev.msg.payload.span(), now);
      break;
    case kind::stream_ended:
      note_stream_end();
      break;
    default:
      break;
  }
}

void schedule_deadline_sweep(player_thread& thread) {
  thread.sweep.expires_after(sweep_interval);
  thread.sweep.async_wait([&thread](std::error_code ec) {
    if (ec || thread.stopping) return;
    const auto now = clock_type::now();
    for (auto& p : thread.players) p->check_deadline(now);
    schedule_deadline_sweep(thread);
  });
}

player_totals total_player_stats(const std::vector<std::unique_ptr<player_thread>>& threads,
                                 std::size_t requested) {
  player_totals totals;
  bool first_player = true;
  std::uint64_t started_players = 0;
  for (const auto& thread : threads) {
    totals.delay_us.merge(thread->delay_us);
    for (const auto& p : thread->players) {
      ++started_players;
      const auto& s = p->stats();
      totals.wire_bytes += p->wire_bytes();
      totals.media_bytes += s.media_bytes;
      totals.messages += s.messages;
      totals.video += s.video;
      totals.audio += s.audio;
      totals.keyframes += s.keyframes;
      totals.stamped += s.stamped;
      totals.gaps += s.gaps;
      totals.dropped += s.dropped;
      totals.reordered += s.reordered;
      totals.stream_ends += s.stream_ends;
      if (!s.playing) {
        ++totals.failed;
        ++totals.failures[p->failure() ? p->failure().message() : "not playing when the run ended"];
        continue;
      }
      ++totals.connected;
      if (p->failure()) {
        ++totals.disconnected;
        ++totals.failures["disconnected: " + p->failure().message()];
      }
      if (s.media_bytes > 0) ++totals.with_media;
      if (s.have_keyframe) {
        ++totals.with_keyframe;
        totals.first_keyframe_ms.push_back(ms_between(s.started, s.first_keyframe));
      }
      totals.connect_ms.push_back(ms_between(s.started, s.playing_at));
      // Delivered bitrate over the measured window (after the ramp), so that a
      // late joiner's burst of cached GOP does not count as throughput.
      const double secs = s.window_from != clock_type::time_point{} ? seconds_between(s.window_from, s.ended) : 0;
      totals.bitrates_bps.push_back(secs > 0 ? static_cast<double>(s.window_bytes) * 8 / secs : 0);
      totals.min_player_bytes = first_player ? s.media_bytes : std::min(totals.min_player_bytes, s.media_bytes);
      totals.min_player_keyframes = first_player ? s.keyframes : std::min(totals.min_player_keyframes, s.keyframes);
      first_player = false;
    }
  }
  // Players never started (a signal during the ramp) count as failed too.
  if (started_players < requested) {
    totals.failed += requested - started_players;
    totals.failures["not started (stopped)"] += requested - started_players;
  }
  std::sort(totals.bitrates_bps.begin(), totals.bitrates_bps.end());
  return totals;
}

}  // namespace rtmp::bench
