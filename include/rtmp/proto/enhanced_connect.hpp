#pragma once
/// @file enhanced_connect.hpp
/// Enhanced RTMP capability negotiation in the `connect` command (E-RTMP v1
/// "Extending NetConnection connect Command": fourCcList; E-RTMP v2
/// "Enhancing NetConnection connect Command": videoFourCcInfoMap,
/// audioFourCcInfoMap, capsEx). The client lists what it supports in the
/// connect command object; the server states its own support in the
/// properties object of its `_result`.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rtmp/proto/amf0_value.hpp"

namespace rtmp::proto {

/// FourCcInfoMask (E-RTMP v2): what a peer can do with a codec.
namespace fourcc_info_mask {
inline constexpr std::uint32_t can_decode = 0x01;   ///< CanDecode.
inline constexpr std::uint32_t can_encode = 0x02;   ///< CanEncode.
inline constexpr std::uint32_t can_forward = 0x04;  ///< CanForward.
}  // namespace fourcc_info_mask

/// CapsExMask (E-RTMP v2): extended capabilities.
namespace caps_ex_mask {
inline constexpr std::uint32_t reconnect = 0x01;              ///< Reconnect Request.
inline constexpr std::uint32_t multitrack = 0x02;             ///< Multitrack audio/video.
inline constexpr std::uint32_t mod_ex = 0x04;                 ///< Can parse the ModEx signal.
inline constexpr std::uint32_t timestamp_nano_offset = 0x08;  ///< Nanosecond timestamp offsets.
}  // namespace caps_ex_mask

/// Most entries kept from a peer's fourCcList or one of its info maps;
/// further entries are ignored (a connect command is small; this bounds
/// what a hostile client can make us store).
inline constexpr std::size_t max_fourcc_entries = 32;

/// One entry of a [audio|video]FourCcInfoMap.
struct fourcc_info {
  std::string fourcc;       ///< Four characters, or "*" (any codec).
  std::uint32_t flags = 0;  ///< `fourcc_info_mask` bits.

  /// Same FourCC and flags.
  friend bool operator==(const fourcc_info&, const fourcc_info&) = default;
};

/// What a peer declared in its connect command object (or `_result`).
struct enhanced_capabilities {
  /// At least one of the properties below was present with a usable type:
  /// the peer speaks Enhanced RTMP.
  bool enhanced = false;
  std::vector<std::string> fourcc_list;         ///< fourCcList (v1): four-character codes or "*".
  std::vector<fourcc_info> video_fourcc_info;   ///< videoFourCcInfoMap (v2), in wire order.
  std::vector<fourcc_info> audio_fourcc_info;   ///< audioFourCcInfoMap (v2), in wire order.
  bool has_caps_ex = false;                     ///< capsEx was a number.
  std::uint32_t caps_ex = 0;                    ///< capsEx (`caps_ex_mask` bits) when `has_caps_ex`.
};

/// Reads the Enhanced RTMP properties of a connect command object (an
/// Object or ECMA Array; anything else gives a non-enhanced result).
/// Properties of the wrong type are ignored, as are list entries that are
/// not strings of 4 bytes or "*", map values that are not numbers in
/// [0, 2^32) and entries past `max_fourcc_entries`.
enhanced_capabilities read_enhanced_capabilities(const amf0::value& command_object);

/// FourCCs this server recognises (and so names in its answer), video first.
std::span<const std::string_view> known_video_fourccs() noexcept;
/// Audio FourCCs this server recognises.
std::span<const std::string_view> known_audio_fourccs() noexcept;

/// What this server supports: it relays media without decoding it, so every
/// codec is CanForward ("*", plus each recognised FourCC by name), and it
/// passes Multitrack and ModEx bodies through intact (capsEx Multitrack |
/// ModEx). No Reconnect: the server never sends a Reconnect Request.
enhanced_capabilities server_capabilities();

/// Adds `caps` to the properties object of a connect `_result` as
/// videoFourCcInfoMap, audioFourCcInfoMap (Objects of numbers) and capsEx
/// (a number); fourCcList too when non-empty. Nothing is added when
/// `caps.enhanced` is false.
void add_enhanced_capabilities(amf0::object& properties, const enhanced_capabilities& caps);

}  // namespace rtmp::proto
