#include "rtmp/hls/playlist.hpp"

#include <ctime>
#include <cstdio>

namespace rtmp::hls {

namespace {

// `ms` as decimal seconds with millisecond precision ("1.040").
std::string seconds(std::uint64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%llu.%03u", static_cast<unsigned long long>(ms / 1000),
                static_cast<unsigned>(ms % 1000));
  return text;
}

}  // namespace

std::string iso8601_ms(std::int64_t ms) {
  const std::int64_t seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const auto millis = static_cast<int>(ms - seconds * 1000);
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char text[96];  // room for any int the format could be given
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  return text;
}

std::string render(const media_playlist& p) {
  std::string out;
  out.reserve(160 + p.segments.size() * 96);
  out += "#EXTM3U\n#EXT-X-VERSION:" + std::to_string(p.version) + "\n";
  out += "#EXT-X-TARGETDURATION:" + std::to_string(p.target_duration_s) + "\n";
  if (p.part_target_ms > 0) {
    // RFC 8216bis 4.4.3.8: PART-HOLD-BACK is required with EXT-X-PART-INF,
    // at least twice the part target, and should be three times it. Four:
    // hls.js plays that far behind the live edge, and with three it stalled
    // about one run in four on this 2-core machine (encoder, browser and
    // server side by side), with four in none of six.
    out += "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=" +
           seconds(std::uint64_t{p.part_target_ms} * 4) + "\n";
    out += "#EXT-X-PART-INF:PART-TARGET=" + seconds(p.part_target_ms) + "\n";  // 4.4.3.7
  }
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(p.segments.empty() ? 0 : p.segments.front().sequence) + "\n";
  // RFC 8216 section 4.3.3.3: only needed once a discontinuity left the window.
  if (p.discontinuity_sequence > 0) {
    out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(p.discontinuity_sequence) + "\n";
  }
  const std::string* map = nullptr;
  for (const auto& s : p.segments) {
    if (s.discontinuity) out += "#EXT-X-DISCONTINUITY\n";
    if (!s.map_uri.empty() && (map == nullptr || *map != s.map_uri)) {
      out += "#EXT-X-MAP:URI=\"" + s.map_uri + "\"\n";
      map = &s.map_uri;
    }
    out += "#EXT-X-PROGRAM-DATE-TIME:" + iso8601_ms(s.program_date_ms) + "\n";
    // RFC 8216bis 4.4.4.9: the segment's tags above come before its first EXT-X-PART.
    for (const auto& part : s.parts) {
      out += "#EXT-X-PART:DURATION=" + seconds(part.duration_ms) + ",URI=\"" + part.uri + "\"";
      out += part.independent ? ",INDEPENDENT=YES\n" : "\n";
    }
    if (!s.complete) continue;  // still being written: its parts only
    out += "#EXTINF:" + seconds(s.duration_ms) + ",\n";
    out += s.uri;
    out += '\n';
  }
  // RFC 8216bis 4.4.5.3: a playlist with EXT-X-ENDLIST has no preload hint.
  if (!p.preload_hint_uri.empty() && !p.ended) {
    out += "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"" + p.preload_hint_uri + "\"\n";
  }
  if (p.ended) out += "#EXT-X-ENDLIST\n";
  return out;
}

}  // namespace rtmp::hls
