// The report of `rtmp-client bench` (see bench_report.hpp): the JSON object
// built from the run's figures, and its readable table.
#include "bench_report.hpp"

#include <spdlog/fmt/fmt.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_cpu.hpp"
#include "rtmp/version.hpp"

namespace rtmp::bench {

namespace {

// Nearest-rank percentile of sorted values (p in 0..100); 0 when empty.
double percentile_of(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const auto i = static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(sorted.size()))) - 1;
  return sorted[i];
}

// `v` rounded to `decimals` decimal places.
double round_to(double v, int decimals) {
  const double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

// Count, p50, p99 and max of `v`, rounded to `decimals`.
nlohmann::ordered_json distribution(std::vector<double> v, int decimals) {
  std::sort(v.begin(), v.end());
  nlohmann::ordered_json j;
  j["count"] = v.size();
  j["p50"] = round_to(percentile_of(v, 50), decimals);
  j["p99"] = round_to(percentile_of(v, 99), decimals);
  j["max"] = round_to(v.empty() ? 0 : v.back(), decimals);
  return j;
}

// `bps` as megabits per second, for the table.
std::string mbit(double bps) { return fmt::format("{:.3f} Mbit/s", bps / 1e6); }

// Median, p99 and max of a histogram of microseconds, in milliseconds.
nlohmann::ordered_json ms_figures(const histogram& us) {
  return {{"samples", us.count()},
          {"p50", round_to(static_cast<double>(us.percentile(50)) / 1000, 3)},
          {"p99", round_to(static_cast<double>(us.percentile(99)) / 1000, 3)},
          {"max", round_to(static_cast<double>(us.max()) / 1000, 3)}};
}

// The "publisher" object: the mode and the number of streams, what was sent
// in total, the bitrate per stream, how late frames left, and why a
// publisher failed.
nlohmann::ordered_json publisher_report(const bench_options& options, const run_outcome& outcome) {
  nlohmann::ordered_json publisher;
  publisher["mode"] = !outcome.publishing ? "none" : (options.publish == "synthetic" ? "synthetic" : "file");
  publisher["streams"] = outcome.publishers.size();
  publisher["target_bitrate_bps"] = options.publish == "synthetic" ? options.bitrate : 0;
  publisher["audio_bitrate_bps"] = options.publish == "synthetic" ? options.audio_bitrate : 0;
  publisher["started"] = outcome.publishing && !outcome.publisher_failed;
  std::uint64_t video_frames = 0, audio_frames = 0, skipped_frames = 0, bytes = 0, published = 0, failed = 0;
  double rate_sum = 0;
  std::string error;
  for (const publisher_stats* stats : outcome.publishers) {
    video_frames += stats->video_frames;
    audio_frames += stats->audio_frames;
    skipped_frames += stats->skipped_frames;
    bytes += stats->media_bytes;
    const bool started = stats->started != clock_type::time_point{};
    if (started) ++published;
    std::string why = stats->failure;
    if (why.empty() && outcome.publisher_failed && !started) why = "no NetStream.Publish.Start within the timeout";
    if (!why.empty() && failed++ == 0) {
      error = outcome.publishers.size() > 1 ? stats->stream + ": " + why : why;
    }
    const double secs = started ? seconds_between(stats->started, stats->ended) : 0;
    rate_sum += secs > 0 ? static_cast<double>(stats->media_bytes) * 8 / secs : 0;
  }
  if (failed > 1) error += fmt::format(" (and {} more)", failed - 1);
  const double rate = outcome.publishers.empty() ? 0 : rate_sum / static_cast<double>(outcome.publishers.size());
  publisher["publishing"] = published;
  publisher["video_frames"] = video_frames;
  publisher["audio_frames"] = audio_frames;
  publisher["skipped_frames"] = skipped_frames;
  publisher["bytes"] = bytes;
  publisher["bitrate_bps"] = static_cast<std::uint64_t>(std::llround(rate));  // per stream
  publisher["late_ms"] = ms_figures(outcome.publisher_lateness_us ? *outcome.publisher_lateness_us : histogram());
  publisher["error"] = error;
  return publisher;
}

// The "threads_cpu" object: the busiest player thread's share of the wall
// time, the mean, and the publishers' thread's (null without publishers).
nlohmann::ordered_json threads_cpu_report(const run_outcome& outcome) {
  const auto& shares = outcome.player_thread_shares;
  double max = 0, sum = 0;
  for (double s : shares) {
    max = std::max(max, s);
    sum += s;
  }
  nlohmann::ordered_json j;
  j["player_max_percent"] = round_to(max * 100, 1);
  j["player_mean_percent"] = round_to(shares.empty() ? 0 : sum / static_cast<double>(shares.size()) * 100, 1);
  j["publisher_percent"] = outcome.publisher_thread_share
                               ? nlohmann::ordered_json(round_to(*outcome.publisher_thread_share * 100, 1))
                               : nlohmann::ordered_json(nullptr);
  return j;
}

// True when one of the tool's threads used more than saturated_share of the wall time.
bool tool_saturated(const run_outcome& outcome) {
  const auto& shares = outcome.player_thread_shares;
  return std::any_of(shares.begin(), shares.end(), [](double s) { return s > saturated_share; }) ||
         outcome.publisher_thread_share.value_or(0) > saturated_share;
}

// The "delivered" object: what the players received, and the median
// per-player bitrate against the bitrate of `publisher` (its report).
nlohmann::ordered_json delivered_report(const player_totals& players, const nlohmann::ordered_json& publisher) {
  const auto& rates = players.bitrates_bps;
  nlohmann::ordered_json delivered;
  delivered["bytes"] = players.media_bytes;
  delivered["wire_bytes"] = players.wire_bytes;
  delivered["messages"] = players.messages;
  delivered["video_messages"] = players.video;
  delivered["audio_messages"] = players.audio;
  delivered["keyframes"] = players.keyframes;
  delivered["min_player_bytes"] = players.min_player_bytes;
  delivered["min_player_keyframes"] = players.min_player_keyframes;
  double mean = 0;
  for (double v : rates) mean += v;
  if (!rates.empty()) mean /= static_cast<double>(rates.size());
  delivered["bitrate_bps"] = {{"min", std::llround(rates.empty() ? 0 : rates.front())},
                              {"p1", std::llround(percentile_of(rates, 1))},
                              {"median", std::llround(percentile_of(rates, 50))},
                              {"mean", std::llround(mean)},
                              {"max", std::llround(rates.empty() ? 0 : rates.back())}};
  const double pub_rate = publisher["bitrate_bps"].get<double>();
  delivered["median_to_published"] = pub_rate > 0 ? round_to(percentile_of(rates, 50) / pub_rate, 4) : 0.0;
  return delivered;
}

// The "cpu" object: the CPU time the run used, and its share of the wall time since `started`.
nlohmann::ordered_json cpu_report(const cpu_times& before, const cpu_times& after, clock_type::time_point started) {
  const double user = after.user_s - before.user_s;
  const double sys = after.system_s - before.system_s;
  const double wall = seconds_between(started, clock_type::now());
  return {{"user_s", round_to(user, 3)},
          {"system_s", round_to(sys, 3)},
          {"total_s", round_to(user + sys, 3)},
          {"percent_of_one_core", round_to(wall > 0 ? (user + sys) / wall * 100 : 0, 1)}};
}

}  // namespace

cpu_times process_cpu() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  const auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return {secs(ru.ru_utime), secs(ru.ru_stime)};
}

nlohmann::ordered_json build_report(const bench_options& options, const run_outcome& outcome,
                                    const player_totals& players) {
  const auto& timeline = outcome.timeline;
  nlohmann::ordered_json report;
  report["tool"] = "rtmp-client bench";
  report["version"] = rtmp::version_line();
  report["url"] = options.url;
  report["transport"] = outcome.tls ? "rtmps" : "rtmp";  // of the RTMP connections, publishers' included
  report["streams"] = options.streams;
  report["player_protocol"] = options.http_flv_port != 0 ? "http-flv" : "rtmp";
  report["http_flv_port"] = options.http_flv_port;
  report["threads"] = outcome.threads;
  report["duration_s"] = options.duration_s;
  report["ramp_per_s"] = options.ramp;
  report["elapsed_s"] = round_to(seconds_between(timeline.started, timeline.stopped), 3);
  report["measured_s"] = round_to(seconds_between(timeline.ramp_ended, timeline.stopped), 3);
  report["bitrate_window_s"] = round_to(seconds_between(timeline.window_opened, timeline.stopped), 3);
  report["players"] = {{"requested", options.players},
                       {"connected", players.connected},
                       {"failed", players.failed},
                       {"disconnected", players.disconnected},
                       {"with_media", players.with_media},
                       {"with_keyframe", players.with_keyframe},
                       {"stream_ended_events", players.stream_ends},
                       {"failures", players.failures}};
  report["publisher"] = publisher_report(options, outcome);
  report["delivered"] = delivered_report(players, report["publisher"]);
  report["first_keyframe_ms"] = distribution(players.first_keyframe_ms, 2);
  report["connect_ms"] = distribution(players.connect_ms, 2);
  report["delay_ms"] = ms_figures(players.delay_us);
  report["gaps"] = {{"gaps", players.gaps},
                    {"dropped_messages", players.dropped},
                    {"reordered", players.reordered},
                    {"stamped_messages", players.stamped}};
  report["cpu"] = cpu_report(outcome.cpu_at_start, outcome.cpu_at_end, timeline.started);
  report["threads_cpu"] = threads_cpu_report(outcome);
  report["tool_saturated"] = tool_saturated(outcome);
  return report;
}

std::string format_table(const nlohmann::ordered_json& report) {
  const auto& pl = report["players"];
  const auto& pub = report["publisher"];
  const auto& del = report["delivered"];
  const auto& br = del["bitrate_bps"];
  const auto& fk = report["first_keyframe_ms"];
  const auto& cn = report["connect_ms"];
  const auto& dl = report["delay_ms"];
  const auto& gp = report["gaps"];
  const auto& cpu = report["cpu"];
  std::string out;
  const auto& tc = report["threads_cpu"];
  const auto streams = report["streams"].get<std::uint64_t>();
  const bool http_flv = report["player_protocol"] == "http-flv";
  const bool tls = report.value("transport", std::string("rtmp")) == "rtmps";
  out += fmt::format("rtmp-client bench: {}{}{}{}\n", report["url"].get<std::string>(),
                     tls ? " (RTMP inside TLS)" : "", streams > 1 ? fmt::format(", {} streams", streams) : "",
                     http_flv ? fmt::format(", players over HTTP-FLV (port {})", report["http_flv_port"].get<int>()) : "");
  out += fmt::format("  {} player threads, ran {:.1f} s ({:.1f} s after the last player started)\n",
                     report["threads"].get<std::uint64_t>(), report["elapsed_s"].get<double>(),
                     report["measured_s"].get<double>());
  out += fmt::format("| {:<22} | {} |\n|{:-<24}|{:-<60}|\n", "what", "value", "", "");
  const auto row = [&out](const std::string& what, const std::string& value) {
    out += fmt::format("| {:<22} | {} |\n", what, value);
  };
  row("players", fmt::format("{} requested, {} connected, {} failed, {} disconnected",
                             pl["requested"].get<std::uint64_t>(), pl["connected"].get<std::uint64_t>(),
                             pl["failed"].get<std::uint64_t>(), pl["disconnected"].get<std::uint64_t>()));
  for (const auto& [reason, count] : pl["failures"].items()) {
    row("  failure", fmt::format("{} x {}", count.get<std::uint64_t>(), reason));
  }
  if (pub["mode"] != "none") {
    row("publisher", fmt::format("{}{}, {} sent{}, {} video / {} audio frames, {} skipped{}",
                                 pub["mode"].get<std::string>(),
                                 streams > 1 ? fmt::format(" x {} streams", pub["streams"].get<std::uint64_t>()) : "",
                                 mbit(pub["bitrate_bps"].get<double>()), streams > 1 ? " per stream" : "",
                                 pub["video_frames"].get<std::uint64_t>(), pub["audio_frames"].get<std::uint64_t>(),
                                 pub["skipped_frames"].get<std::uint64_t>(),
                                 pub["error"].get<std::string>().empty() ? "" : ", error: " + pub["error"].get<std::string>()));
    const auto& late = pub["late_ms"];
    row("publisher pacing", fmt::format("frames left p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms after due",
                                        late["p50"].get<double>(), late["p99"].get<double>(),
                                        late["max"].get<double>()));
  }
  row("delivered per player", fmt::format("min {}, p1 {}, median {}, max {}", mbit(br["min"].get<double>()),
                                          mbit(br["p1"].get<double>()), mbit(br["median"].get<double>()),
                                          mbit(br["max"].get<double>())));
  row("delivered in total", fmt::format("{:.1f} MB media, {:.1f} MB on the wire, {} messages, {} keyframes",
                                        del["bytes"].get<double>() / 1e6, del["wire_bytes"].get<double>() / 1e6,
                                        del["messages"].get<std::uint64_t>(), del["keyframes"].get<std::uint64_t>()));
  row("first keyframe", fmt::format("p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms ({} players)", fk["p50"].get<double>(),
                                    fk["p99"].get<double>(), fk["max"].get<double>(), fk["count"].get<std::uint64_t>()));
  row("connect to Play.Start", fmt::format("p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms", cn["p50"].get<double>(),
                                           cn["p99"].get<double>(), cn["max"].get<double>()));
  row("end-to-end delay", fmt::format("p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms ({} samples)",
                                      dl["p50"].get<double>(), dl["p99"].get<double>(), dl["max"].get<double>(),
                                      dl["samples"].get<std::uint64_t>()));
  row("gaps", fmt::format("{} gaps, {} frames missing, {} out of order ({} stamped frames)",
                          gp["gaps"].get<std::uint64_t>(), gp["dropped_messages"].get<std::uint64_t>(),
                          gp["reordered"].get<std::uint64_t>(), gp["stamped_messages"].get<std::uint64_t>()));
  row("tool CPU", fmt::format("user {:.2f} s, system {:.2f} s ({:.0f} % of one core)", cpu["user_s"].get<double>(),
                              cpu["system_s"].get<double>(), cpu["percent_of_one_core"].get<double>()));
  row("tool threads", fmt::format("busiest player thread {:.0f} %, mean {:.0f} % of a core{}",
                                  tc["player_max_percent"].get<double>(), tc["player_mean_percent"].get<double>(),
                                  tc["publisher_percent"].is_null()
                                      ? ""
                                      : fmt::format(", publishers' thread {:.0f} %",
                                                    tc["publisher_percent"].get<double>())));
  if (report["tool_saturated"].get<bool>()) {
    row("WARNING", fmt::format("the tool was saturated (a thread above {:.0f} % of a core): figures may show its "
                               "limit, not the server's; try more --threads or a second machine",
                               saturated_share * 100));
  }
  return out;
}

void print_table(const nlohmann::ordered_json& report) {
  std::fputs(format_table(report).c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace rtmp::bench
