#include "rtmp/hls/playlist.hpp"

#include <ctime>
#include <cstdio>

namespace rtmp::hls {

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
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(p.segments.empty() ? 0 : p.segments.front().sequence) + "\n";
  // RFC 8216 section 4.3.3.3: only needed once a discontinuity left the window.
  if (p.discontinuity_sequence > 0) {
    out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(p.discontinuity_sequence) + "\n";
  }
  char extinf[48];
  const std::string* map = nullptr;
  for (const auto& s : p.segments) {
    if (s.discontinuity) out += "#EXT-X-DISCONTINUITY\n";
    if (!s.map_uri.empty() && (map == nullptr || *map != s.map_uri)) {
      out += "#EXT-X-MAP:URI=\"" + s.map_uri + "\"\n";
      map = &s.map_uri;
    }
    out += "#EXT-X-PROGRAM-DATE-TIME:" + iso8601_ms(s.program_date_ms) + "\n";
    std::snprintf(extinf, sizeof extinf, "#EXTINF:%u.%03u,\n", s.duration_ms / 1000, s.duration_ms % 1000);
    out += extinf;
    out += s.uri;
    out += '\n';
  }
  if (p.ended) out += "#EXT-X-ENDLIST\n";
  return out;
}

}  // namespace rtmp::hls
