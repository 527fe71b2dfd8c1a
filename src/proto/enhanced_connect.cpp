#include "rtmp/proto/enhanced_connect.hpp"

#include <array>
#include <cmath>

namespace rtmp::proto {
namespace {

constexpr std::string_view wildcard = "*";

// FourCC values from the Enhanced RTMP v2 VideoFourCc / AudioFourCc enums.
constexpr std::array<std::string_view, 5> video_fourccs = {"avc1", "hvc1", "av01", "vp09", "vp08"};
constexpr std::array<std::string_view, 6> audio_fourccs = {"mp4a", "Opus", ".mp3", "fLaC", "ac-3", "ec-3"};

bool usable_fourcc(std::string_view s) noexcept { return s.size() == 4 || s == wildcard; }

// A FourCcInfoMask value: a whole number in [0, 2^32).
bool read_flags(const amf0::value& v, std::uint32_t& out) noexcept {
  if (!v.is_number()) return false;
  const double d = v.as_number();
  if (!(d >= 0 && d <= 4294967295.0) || std::floor(d) != d) return false;
  out = static_cast<std::uint32_t>(d);
  return true;
}

bool read_info_map(const amf0::value* map, std::vector<fourcc_info>& out) {
  if (map == nullptr || !map->is_object_like()) return false;
  for (const auto& prop : *map->properties()) {
    if (out.size() >= max_fourcc_entries) break;
    std::uint32_t flags = 0;
    if (!usable_fourcc(prop.key) || !read_flags(prop.val, flags)) continue;
    out.push_back(fourcc_info{prop.key, flags});
  }
  return true;
}

amf0::object info_map_object(const std::vector<fourcc_info>& entries) {
  amf0::object o;
  for (const auto& e : entries) o.push_back(e.fourcc, static_cast<double>(e.flags));
  return o;
}

}  // namespace

enhanced_capabilities read_enhanced_capabilities(const amf0::value& obj) {
  enhanced_capabilities caps;
  if (!obj.is_object_like()) return caps;
  if (const amf0::value* list = obj.get("fourCcList"); list != nullptr && list->is_strict_array()) {
    caps.enhanced = true;
    for (const auto& item : list->as_strict_array()->items()) {
      if (caps.fourcc_list.size() >= max_fourcc_entries) break;
      if (item.is_string() && usable_fourcc(item.as_string())) caps.fourcc_list.emplace_back(item.as_string());
    }
  }
  if (read_info_map(obj.get("videoFourCcInfoMap"), caps.video_fourcc_info)) caps.enhanced = true;
  if (read_info_map(obj.get("audioFourCcInfoMap"), caps.audio_fourcc_info)) caps.enhanced = true;
  if (const amf0::value* ex = obj.get("capsEx"); ex != nullptr && read_flags(*ex, caps.caps_ex)) {
    caps.has_caps_ex = true;
    caps.enhanced = true;
  }
  return caps;
}

std::span<const std::string_view> known_video_fourccs() noexcept { return video_fourccs; }

std::span<const std::string_view> known_audio_fourccs() noexcept { return audio_fourccs; }

enhanced_capabilities server_capabilities() {
  enhanced_capabilities caps;
  caps.enhanced = true;
  // "*" acts as a catch-all that overrides per-codec flags (v2, FourCcInfoMap);
  // the named entries say which codecs we recognise (codec names in the API,
  // keyframes and sequence headers for fast start).
  caps.video_fourcc_info.push_back({std::string(wildcard), fourcc_info_mask::can_forward});
  for (auto f : video_fourccs) caps.video_fourcc_info.push_back({std::string(f), fourcc_info_mask::can_forward});
  caps.audio_fourcc_info.push_back({std::string(wildcard), fourcc_info_mask::can_forward});
  for (auto f : audio_fourccs) caps.audio_fourcc_info.push_back({std::string(f), fourcc_info_mask::can_forward});
  caps.has_caps_ex = true;
  caps.caps_ex = caps_ex_mask::multitrack | caps_ex_mask::mod_ex;
  return caps;
}

void add_enhanced_capabilities(amf0::object& properties, const enhanced_capabilities& caps) {
  if (!caps.enhanced) return;
  if (!caps.fourcc_list.empty()) {
    amf0::strict_array list;
    for (const auto& f : caps.fourcc_list) list.push_back(f);
    properties.set("fourCcList", std::move(list));
  }
  if (!caps.video_fourcc_info.empty()) properties.set("videoFourCcInfoMap", info_map_object(caps.video_fourcc_info));
  if (!caps.audio_fourcc_info.empty()) properties.set("audioFourCcInfoMap", info_map_object(caps.audio_fourcc_info));
  if (caps.has_caps_ex) properties.set("capsEx", static_cast<double>(caps.caps_ex));
}

}  // namespace rtmp::proto
