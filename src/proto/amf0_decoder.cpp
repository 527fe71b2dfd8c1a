// AMF0 decoder. The structure follows the AMF0 specification section by
// section; every read is preceded by a check of the bytes left, and every
// declared length/count is compared with the bytes left (and the limits)
// before anything is allocated.

#include <algorithm>
#include <bit>

#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/proto/byte_order.hpp"

namespace rtmp::proto::amf0 {
namespace {

std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  return (std::uint64_t{load_be32(p)} << 32) | std::uint64_t{load_be32(p + 4)};
}

}  // namespace

decoder::decoder(std::span<const std::uint8_t> in, const decode_limits& limits,
                 std::size_t start) noexcept
    : in_(in), limits_(limits), pos_(std::min(start, in.size())) {}

std::error_code decoder::fail(errc e, std::size_t at) noexcept {
  pos_ = at;
  failed_ = decode_result{make_error_code(e), at};
  return failed_.ec;
}

decode_result decoder::next(value& out) {
  if (failed_.ec) return failed_;
  if (pos_ >= in_.size()) {
    fail(errc::amf_truncated, pos_);
    return failed_;
  }
  if (decode_value(out, 0)) return failed_;
  return decode_result{{}, pos_};
}

// Reads a UTF-8 (16-bit length) or UTF-8-long (32-bit length) string
// (AMF0 spec section 1.3). `length_bytes` is 2 or 4. The limits are checked
// before the bytes left, so a huge declared length reports the limit.
std::error_code decoder::read_string(std::string& out, std::size_t length_bytes) {
  const std::size_t at = pos_;
  if (in_.size() - pos_ < length_bytes) return fail(errc::amf_truncated, at);
  const std::size_t len =
      length_bytes == 2 ? std::size_t{load_be16(&in_[pos_])} : std::size_t{load_be32(&in_[pos_])};
  if (len > limits_.max_string) return fail(errc::amf_string_too_long, at);
  if (len > limits_.max_total_string - string_bytes_) return fail(errc::amf_string_too_long, at);
  pos_ += length_bytes;
  if (in_.size() - pos_ < len) return fail(errc::amf_truncated, at);
  const char* first = reinterpret_cast<const char*>(in_.data() + pos_);
  out.assign(first, len);
  pos_ += len;
  string_bytes_ += len;
  return {};
}

// Object properties (AMF0 spec section 2.5): (UTF-8 key, value)* then the
// UTF-8-empty key followed by the object-end marker 0x09. An empty key that is
// followed by any other marker is an ordinary property with an empty name.
std::error_code decoder::decode_properties(property_list& props, std::size_t depth) {
  for (;;) {
    if (pos_ >= in_.size()) return fail(errc::amf_missing_object_end, pos_);
    if (in_.size() - pos_ >= 3 && in_[pos_] == 0 && in_[pos_ + 1] == 0 &&
        in_[pos_ + 2] == static_cast<std::uint8_t>(marker::object_end)) {
      pos_ += 3;
      return {};
    }
    std::string key;
    if (auto ec = read_string(key, 2)) return ec;
    props.push_back(property{std::move(key), value{}});
    if (auto ec = decode_value(props.back().val, depth)) return ec;
  }
}

// Strict Array (AMF0 spec section 2.12): U32 count then that many values. The
// count is never trusted: each value takes at least one byte (its marker), so
// a count above the bytes left fails before anything is read or reserved.
std::error_code decoder::decode_strict_array(strict_array& arr, std::size_t depth) {
  const std::size_t at = pos_;
  if (in_.size() - pos_ < 4) return fail(errc::amf_truncated, at);
  const std::size_t count = load_be32(&in_[pos_]);
  pos_ += 4;
  if (count > in_.size() - pos_) return fail(errc::amf_count_exceeds_bytes, at);
  for (std::size_t i = 0; i < count; ++i) {
    value& item = arr.push_back(value{});
    if (auto ec = decode_value(item, depth)) return ec;
  }
  return {};
}

// Reference (AMF0 spec section 2.9): U16 index into the table of complex
// values (objects, typed objects, ECMA arrays, strict arrays) in the order
// their markers were read. The target is decoded again from its bytes, which
// charges its nodes, strings and depth to this decode like any other value.
// A target that is not complete yet (the reference sits inside it) would be a
// cycle and is rejected.
std::error_code decoder::decode_reference(value& out, std::size_t depth) {
  const std::size_t at = pos_ - 1;
  if (in_.size() - pos_ < 2) return fail(errc::amf_truncated, pos_);
  const std::size_t index = load_be16(&in_[pos_]);
  pos_ += 2;
  if (index >= refs_.size() || !refs_[index].complete) return fail(errc::amf_bad_reference, at);
  const std::size_t resume = pos_;
  pos_ = refs_[index].offset;
  ++replaying_;
  const std::error_code ec = decode_value(out, depth);
  --replaying_;
  if (ec) return ec;
  pos_ = resume;
  return {};
}

// `depth` is the number of containers enclosing `out`. A container is only
// entered when depth < max_depth, so recursion never exceeds max_depth levels
// (a Reference adds one frame per level, never a level of its own).
std::error_code decoder::decode_value(value& out, std::size_t depth) {
  if (pos_ >= in_.size()) return fail(errc::amf_truncated, pos_);
  if (nodes_ >= limits_.max_nodes) return fail(errc::amf_too_many_nodes, pos_);
  ++nodes_;
  const std::size_t start = pos_;
  const auto m = static_cast<marker>(in_[pos_++]);

  // Opens a container: checks the depth and registers it for References
  // (only on first decode; a replayed reference adds no table entries).
  auto open = [&](std::size_t& ref_index) -> std::error_code {
    if (depth >= limits_.max_depth) return fail(errc::amf_depth_exceeded, start);
    ref_index = refs_.size();
    if (replaying_ == 0) refs_.push_back(ref_entry{start, false});
    return {};
  };
  auto close = [&](std::size_t ref_index) {
    if (replaying_ == 0) refs_[ref_index].complete = true;
  };

  switch (m) {
    case marker::number: {  // section 2.2: IEEE-754 double, big-endian
      if (in_.size() - pos_ < 8) return fail(errc::amf_truncated, pos_);
      out = std::bit_cast<double>(load_be64(&in_[pos_]));
      pos_ += 8;
      return {};
    }
    case marker::boolean: {  // section 2.3: U8, non-zero is true
      if (in_.size() - pos_ < 1) return fail(errc::amf_truncated, pos_);
      out = in_[pos_] != 0;
      pos_ += 1;
      return {};
    }
    case marker::string:  // section 2.4
    case marker::long_string:  // section 2.14
    case marker::xml_document: {  // section 2.17: UTF-8-long, kept as a string
      std::string s;
      if (auto ec = read_string(s, m == marker::string ? 2 : 4)) return ec;
      out = std::move(s);
      return {};
    }
    case marker::object: {  // section 2.5
      std::size_t ref = 0;
      if (auto ec = open(ref)) return ec;
      out = object{};
      if (auto ec = decode_properties(out.as_object()->properties(), depth + 1)) return ec;
      close(ref);
      return {};
    }
    case marker::typed_object: {  // section 2.18: class name, then as an object
      std::size_t ref = 0;
      if (auto ec = open(ref)) return ec;
      std::string class_name;
      if (auto ec = read_string(class_name, 2)) return ec;
      out = object{};
      object* o = out.as_object();
      o->set_class_name(std::move(class_name));
      if (auto ec = decode_properties(o->properties(), depth + 1)) return ec;
      close(ref);
      return {};
    }
    case marker::null:  // section 2.7
      out = null;
      return {};
    case marker::undefined:  // section 2.8
      out = undefined;
      return {};
    case marker::reference:  // section 2.9
      return decode_reference(out, depth);
    case marker::ecma_array: {  // section 2.10: the associative-count is ignored
      std::size_t ref = 0;
      if (auto ec = open(ref)) return ec;
      if (in_.size() - pos_ < 4) return fail(errc::amf_truncated, pos_);
      pos_ += 4;
      out = ecma_array{};
      if (auto ec = decode_properties(out.as_ecma_array()->properties(), depth + 1)) return ec;
      close(ref);
      return {};
    }
    case marker::strict_array: {  // section 2.12
      std::size_t ref = 0;
      if (auto ec = open(ref)) return ec;
      out = strict_array{};
      if (auto ec = decode_strict_array(*out.as_strict_array(), depth + 1)) return ec;
      close(ref);
      return {};
    }
    case marker::date: {  // section 2.13: DOUBLE ms + S16 time-zone
      if (in_.size() - pos_ < 10) return fail(errc::amf_truncated, pos_);
      date d;
      d.milliseconds = std::bit_cast<double>(load_be64(&in_[pos_]));
      d.timezone = static_cast<std::int16_t>(load_be16(&in_[pos_ + 8]));
      out = d;
      pos_ += 10;
      return {};
    }
    case marker::avmplus_object:  // section 3.1: the rest is AMF3
      return fail(errc::amf_unsupported_amf3, start);
    case marker::movieclip:     // section 2.6: reserved
    case marker::object_end:    // section 2.11: only valid as a terminator
    case marker::unsupported:   // section 2.15
    case marker::recordset:     // section 2.16: reserved
    default:
      return fail(errc::amf_unknown_marker, start);
  }
}

decode_result decode(std::span<const std::uint8_t> in, value& out, const decode_limits& limits) {
  decoder d(in, limits);
  return d.next(out);
}

decode_result decode_next(std::span<const std::uint8_t> in, std::size_t offset, value& out,
                          const decode_limits& limits) {
  if (offset > in.size()) return decode_result{make_error_code(errc::amf_truncated), in.size()};
  decoder d(in, limits, offset);
  return d.next(out);
}

decode_result decode_all(std::span<const std::uint8_t> in, std::vector<value>& out,
                         const decode_limits& limits) {
  out.clear();
  decoder d(in, limits);
  while (!d.at_end()) {
    value v;
    const decode_result r = d.next(v);
    if (!r.ok()) return r;
    out.push_back(std::move(v));
  }
  return decode_result{{}, d.offset()};
}

}  // namespace rtmp::proto::amf0
