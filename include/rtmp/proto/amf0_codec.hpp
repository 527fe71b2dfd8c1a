#pragma once
/// @file amf0_codec.hpp
/// Sans-I/O AMF0 encoder and decoder (AMF0 spec, sections 2 and 3.1).
///
/// The decoder reads from a caller-owned `std::span<const std::uint8_t>` that
/// must stay valid for the duration of the call (for `decoder`: for the
/// lifetime of the decoder object). Decoded values own their data; they never
/// point into the input.
///
/// Hostile input (HOSTILE-CASES T-24..T-28) is expected:
/// * every length and count is bounds-checked before it is used, and nothing is
///   reserved or allocated from a declared count;
/// * a Strict Array whose count could not fit in the remaining bytes fails fast
///   with `errc::amf_count_exceeds_bytes`; an ECMA Array's count is ignored
///   (real encoders write wrong counts; AMF0 spec section 2.10 calls it
///   associative-count) and the properties are read up to the object end;
/// * nesting is bounded by `decode_limits::max_depth` (checked before each
///   recursion, so the stack never grows beyond that many container levels),
///   the number of decoded values by `max_nodes` and the bytes of decoded
///   strings and keys by `max_string` (each) and `max_total_string` (sum);
/// * References (0x07) are resolved by re-decoding the referenced value, so
///   each use is charged against the same node/string/depth budgets (no
///   "billion laughs" amplification) and a reference to a container that is
///   still being decoded (a cycle) is rejected with `errc::amf_bad_reference`;
/// * the AVM+ switch (0x11) fails with `errc::amf_unsupported_amf3`; MovieClip
///   (0x04), Unsupported (0x0D), RecordSet (0x0E), a stray Object End (0x09)
///   and markers above 0x11 fail with `errc::amf_unknown_marker`.
///
/// Nothing here throws except `std::bad_alloc` from the standard containers.

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "rtmp/error.hpp"
#include "rtmp/proto/amf0_value.hpp"

namespace rtmp::proto::amf0 {

/// AMF0 type markers (AMF0 spec section 2.1, plus 0x11 from section 3.1).
enum class marker : std::uint8_t {
  number = 0x00,
  boolean = 0x01,
  string = 0x02,
  object = 0x03,
  movieclip = 0x04,  ///< Reserved, not supported.
  null = 0x05,
  undefined = 0x06,
  reference = 0x07,
  ecma_array = 0x08,
  object_end = 0x09,  ///< Only valid after an empty key, as a terminator.
  strict_array = 0x0A,
  date = 0x0B,
  long_string = 0x0C,
  unsupported = 0x0D,
  recordset = 0x0E,  ///< Reserved, not supported.
  xml_document = 0x0F,
  typed_object = 0x10,
  avmplus_object = 0x11,  ///< Switch to AMF3: not supported by this codec.
};

/// Default nesting limit: containers (objects, arrays) nested deeper fail.
inline constexpr std::size_t default_max_depth = 64;
/// Default value budget per decode for command messages.
inline constexpr std::size_t default_max_nodes = 4096;
/// Default per-string limit for command messages (64 KiB).
inline constexpr std::size_t default_max_string = std::size_t{64} * 1024;
/// Default limit on the sum of all decoded string/key bytes (1 MiB).
inline constexpr std::size_t default_max_total_string = std::size_t{1024} * 1024;
/// Value budget for metadata (onMetaData may carry keyframe index arrays).
inline constexpr std::size_t metadata_max_nodes = std::size_t{64} * 1024;
/// Per-string limit for metadata (1 MiB).
inline constexpr std::size_t metadata_max_string = std::size_t{1024} * 1024;
/// Total string bytes for metadata (4 MiB).
inline constexpr std::size_t metadata_max_total_string = std::size_t{4} * 1024 * 1024;

/// Resource limits of one decode (one `decoder` object, or one call of the
/// free functions). The defaults suit command messages (`command_limits()`);
/// use `metadata_limits()` for type-18 data messages.
struct decode_limits {
  /// Maximum number of nested containers (a top-level object is level 1).
  /// Exceeding it fails with `errc::amf_depth_exceeded`.
  std::size_t max_depth = default_max_depth;
  /// Maximum number of values decoded (every value counts, containers and
  /// their members alike, references count what they expand to). Exceeding
  /// it fails with `errc::amf_too_many_nodes`.
  std::size_t max_nodes = default_max_nodes;
  /// Maximum bytes of one string, key or class name. Exceeding it fails with
  /// `errc::amf_string_too_long`.
  std::size_t max_string = default_max_string;
  /// Maximum sum of the bytes of all strings, keys and class names decoded
  /// (references count again). Exceeding it fails with
  /// `errc::amf_string_too_long`.
  std::size_t max_total_string = default_max_total_string;
};

/// Limits for command messages (types 17 and 20): the defaults.
constexpr decode_limits command_limits() noexcept { return {}; }

/// Limits for data messages (type 18, e.g. onMetaData).
constexpr decode_limits metadata_limits() noexcept {
  return {default_max_depth, metadata_max_nodes, metadata_max_string, metadata_max_total_string};
}

/// Outcome of a decode step.
struct decode_result {
  /// Empty on success; an `rtmp::errc` on failure.
  std::error_code ec;
  /// On success: the offset just past the decoded value(s). On failure: the
  /// offset of the byte (marker, length field or payload) where decoding
  /// failed; for truncation this may equal the input size.
  std::size_t offset = 0;

  /// True on success.
  bool ok() const noexcept { return !ec; }
};

/// A decoder over one payload. Walks it value by value with `next()`; the
/// reference table (AMF0 spec section 2.9) and the node/string budgets are
/// shared by all values decoded through the same object.
///
/// Ownership: borrows `in`; the bytes must outlive the decoder. After a
/// failure the decoder stays failed: `next()` keeps returning the same error.
class decoder {
 public:
  /// Decodes `in` from `start` (clamped to the input size) with `limits`.
  explicit decoder(std::span<const std::uint8_t> in, const decode_limits& limits = {},
                   std::size_t start = 0) noexcept;

  /// Decodes the value at `offset()` into `out` and advances past it.
  /// Returns `{ {}, new offset }` on success or `{ec, failure offset}`; on
  /// failure `out` holds an unspecified (valid) value. At the end of input
  /// this fails with `errc::amf_truncated` (check `at_end()` first).
  decode_result next(value& out);

  /// The offset of the next value to decode (or of the failure).
  std::size_t offset() const noexcept { return pos_; }
  /// True when every byte has been consumed.
  bool at_end() const noexcept { return pos_ >= in_.size(); }
  /// Number of values decoded so far (what counts against `max_nodes`).
  std::size_t nodes() const noexcept { return nodes_; }

 private:
  std::error_code decode_value(value& out, std::size_t depth);
  std::error_code decode_properties(property_list& props, std::size_t depth);
  std::error_code decode_strict_array(strict_array& arr, std::size_t depth);
  std::error_code decode_reference(value& out, std::size_t depth);
  std::error_code read_string(std::string& out, std::size_t length_bytes);
  std::error_code fail(errc e, std::size_t at) noexcept;

  struct ref_entry {
    std::size_t offset;  // offset of the container's marker byte
    bool complete;       // false while the container is still being decoded
  };

  std::span<const std::uint8_t> in_;
  decode_limits limits_;
  std::size_t pos_ = 0;
  std::size_t nodes_ = 0;
  std::size_t string_bytes_ = 0;
  std::size_t replaying_ = 0;  // > 0 while re-decoding a referenced value
  std::vector<ref_entry> refs_;
  decode_result failed_{};
};

/// Decodes one value at the start of `in` (trailing bytes are left alone; the
/// result offset tells how many bytes the value took).
decode_result decode(std::span<const std::uint8_t> in, value& out, const decode_limits& limits = {});

/// Decodes the value starting at `offset` and returns the offset past it, so a
/// caller can walk a payload value by value. Each call is its own decode (own
/// reference table and budgets); use `decoder` to share them.
decode_result decode_next(std::span<const std::uint8_t> in, std::size_t offset, value& out,
                          const decode_limits& limits = {});

/// Decodes every value of `in` (e.g. a whole command or data payload) into
/// `out` (cleared first). On failure `out` holds the values decoded before
/// the failing one. An empty input decodes to zero values.
decode_result decode_all(std::span<const std::uint8_t> in, std::vector<value>& out,
                         const decode_limits& limits = {});

/// Appends the AMF0 encoding of `v` to `out` (AMF0 spec section 2):
/// strings longer than 65535 bytes become Long Strings, objects with a class
/// name become Typed Objects, ECMA Arrays get their real count, Numbers are
/// written bit-exactly (NaN payloads included). Output is deterministic.
///
/// Errors (on error `out` is restored to its original size):
/// `errc::amf_string_too_long` for a key or class name over 65535 bytes or a
/// string over 2^32-1 bytes; `errc::amf_too_many_nodes` for a container with
/// more than 2^32-1 elements. Recursion depth equals the nesting of `v`.
std::error_code encode(const value& v, std::vector<std::uint8_t>& out);

/// Appends the encodings of all `values` in order (same errors as `encode`;
/// on error `out` is restored to its original size).
std::error_code encode_all(std::span<const value> values, std::vector<std::uint8_t>& out);

}  // namespace rtmp::proto::amf0
