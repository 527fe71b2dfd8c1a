// AMF0 encoder: deterministic, appends to a caller-owned vector.

#include <bit>
#include <limits>

#include "rtmp/proto/amf0_codec.hpp"

namespace rtmp::proto::amf0 {
namespace {

constexpr std::size_t max_u16 = std::numeric_limits<std::uint16_t>::max();
constexpr std::size_t max_u32 = std::numeric_limits<std::uint32_t>::max();

class writer {
 public:
  explicit writer(std::vector<std::uint8_t>& out) noexcept : out_(out) {}

  std::error_code write(const value& v) {
    switch (v.kind()) {
      case type::null:
        put_marker(marker::null);
        return {};
      case type::undefined:
        put_marker(marker::undefined);
        return {};
      case type::number:
        put_marker(marker::number);
        put_double(v.as_number());
        return {};
      case type::boolean:
        put_marker(marker::boolean);
        out_.push_back(v.as_bool() ? 1 : 0);
        return {};
      case type::string:
        return write_string(v.as_string());
      case type::object:
        return write_object(*v.as_object());
      case type::ecma_array:
        return write_ecma_array(*v.as_ecma_array());
      case type::strict_array:
        return write_strict_array(*v.as_strict_array());
      case type::date: {
        const date& d = *v.as_date();
        put_marker(marker::date);  // AMF0 spec section 2.13
        put_double(d.milliseconds);
        put_u16(static_cast<std::uint16_t>(d.timezone));
        return {};
      }
    }
    return make_error_code(errc::amf_unexpected_type);  // unreachable: all types handled
  }

 private:
  // AMF0 spec sections 2.4 / 2.14: String has a 16-bit length; anything
  // longer must be a Long String with a 32-bit length.
  std::error_code write_string(std::string_view s) {
    if (s.size() <= max_u16) {
      put_marker(marker::string);
      put_u16(static_cast<std::uint16_t>(s.size()));
    } else if (s.size() <= max_u32) {
      put_marker(marker::long_string);
      put_u32(static_cast<std::uint32_t>(s.size()));
    } else {
      return make_error_code(errc::amf_string_too_long);
    }
    put_bytes(s);
    return {};
  }

  // A key, class name or other UTF-8 (16-bit length) string without marker.
  std::error_code write_utf8(std::string_view s) {
    if (s.size() > max_u16) return make_error_code(errc::amf_string_too_long);
    put_u16(static_cast<std::uint16_t>(s.size()));
    put_bytes(s);
    return {};
  }

  // Properties then UTF-8-empty + object-end (AMF0 spec section 2.5).
  std::error_code write_properties(const property_list& props) {
    for (const property& p : props) {
      if (auto ec = write_utf8(p.key)) return ec;
      if (auto ec = write(p.val)) return ec;
    }
    put_u16(0);
    put_marker(marker::object_end);
    return {};
  }

  std::error_code write_object(const object& o) {
    if (o.class_name().empty()) {
      put_marker(marker::object);
    } else {  // AMF0 spec section 2.18
      put_marker(marker::typed_object);
      if (auto ec = write_utf8(o.class_name())) return ec;
    }
    return write_properties(o.properties());
  }

  std::error_code write_ecma_array(const ecma_array& a) {  // AMF0 spec section 2.10
    if (a.size() > max_u32) return make_error_code(errc::amf_too_many_nodes);
    put_marker(marker::ecma_array);
    put_u32(static_cast<std::uint32_t>(a.size()));
    return write_properties(a.properties());
  }

  std::error_code write_strict_array(const strict_array& a) {  // AMF0 spec section 2.12
    if (a.size() > max_u32) return make_error_code(errc::amf_too_many_nodes);
    put_marker(marker::strict_array);
    put_u32(static_cast<std::uint32_t>(a.size()));
    for (const value& item : a.items()) {
      if (auto ec = write(item)) return ec;
    }
    return {};
  }

  void put_marker(marker m) { out_.push_back(static_cast<std::uint8_t>(m)); }
  void put_u16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void put_u32(std::uint32_t v) {
    put_u16(static_cast<std::uint16_t>(v >> 16));
    put_u16(static_cast<std::uint16_t>(v));
  }
  void put_double(double d) {
    const auto bits = std::bit_cast<std::uint64_t>(d);
    put_u32(static_cast<std::uint32_t>(bits >> 32));
    put_u32(static_cast<std::uint32_t>(bits));
  }
  void put_bytes(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }

  std::vector<std::uint8_t>& out_;
};

}  // namespace

std::error_code encode(const value& v, std::vector<std::uint8_t>& out) {
  const std::size_t original = out.size();
  writer w(out);
  std::error_code ec = w.write(v);
  if (ec) out.resize(original);
  return ec;
}

std::error_code encode_all(std::span<const value> values, std::vector<std::uint8_t>& out) {
  const std::size_t original = out.size();
  writer w(out);
  for (const value& v : values) {
    if (std::error_code ec = w.write(v)) {
      out.resize(original);
      return ec;
    }
  }
  return {};
}

}  // namespace rtmp::proto::amf0
