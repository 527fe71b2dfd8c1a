#pragma once
/// @file amf0_value.hpp
/// The AMF0 value model (AMF0 spec, section 2): one `amf0::value` holds any of
/// the types RTMP peers exchange in command and data messages.
///
/// Design notes:
/// * Objects and ECMA arrays keep their properties in wire order (a vector of
///   key/value pairs, duplicates kept), so decode -> encode is deterministic
///   and byte-exact for well-formed input.
/// * Long String (0x0C) and XML Document (0x0F) are decoded as plain strings;
///   the encoder picks String or Long String from the length.
/// * A Typed Object (0x10) is an `object` whose `class_name()` is set. The class
///   name is informational only and is never mapped to anything.
/// * Values are plain data: copying a value deep-copies it; no references or
///   sharing between values. Not thread-safe for concurrent mutation (as any
///   standard container).
///
/// Builders are ordinary constructors, e.g.
///     amf0::object{{"level", "status"}, {"code", "NetStream.Publish.Start"}}
///     amf0::strict_array{1, "two", amf0::null}

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace rtmp::proto::amf0 {

/// The kind of a `value`. The order matches the alternatives of `value::storage`.
enum class type : std::uint8_t {
  null,          ///< Null (0x05).
  undefined,     ///< Undefined (0x06).
  number,        ///< Number (0x00): an IEEE-754 double.
  boolean,       ///< Boolean (0x01).
  string,        ///< String (0x02), Long String (0x0C) or XML Document (0x0F).
  object,        ///< Anonymous Object (0x03) or Typed Object (0x10).
  ecma_array,    ///< ECMA Array (0x08): an ordered associative array.
  strict_array,  ///< Strict Array (0x0A): a dense list of values.
  date,          ///< Date (0x0B).
};

/// The AMF0 null value (0x05). Use the constant `amf0::null`.
struct null_t {
  friend constexpr bool operator==(null_t, null_t) noexcept { return true; }
};
/// The AMF0 null value.
inline constexpr null_t null{};

/// The AMF0 undefined value (0x06). Use the constant `amf0::undefined`.
struct undefined_t {
  friend constexpr bool operator==(undefined_t, undefined_t) noexcept { return true; }
};
/// The AMF0 undefined value.
inline constexpr undefined_t undefined{};

/// An AMF0 Date (AMF0 spec section 2.13): milliseconds since the Unix epoch
/// (UTC) and a time-zone field that the spec reserves (should be 0) but that we
/// keep verbatim so that re-encoding is byte-exact.
struct date {
  double milliseconds = 0;    ///< Milliseconds since 1970-01-01T00:00:00Z.
  std::int16_t timezone = 0;  ///< Reserved S16 (minutes offset in practice; usually 0).

  /// Bitwise-style comparison of both fields (NaN milliseconds compare unequal).
  friend constexpr bool operator==(const date&, const date&) noexcept = default;
};

class value;
struct property;

/// An ordered list of key/value pairs (wire order, duplicates kept).
using property_list = std::vector<property>;

namespace detail {

/// Shared implementation of the two associative kinds (`object`, `ecma_array`).
/// Lookups are linear: AMF0 objects in RTMP carry a handful of properties.
class property_container {
 public:
  /// An empty container.
  property_container() = default;
  /// Takes the properties in the given order.
  property_container(std::initializer_list<property> props);
  /// Takes ownership of `props`.
  explicit property_container(property_list props) noexcept;
  // Copy, move and destruction are defined in amf0_value.cpp, where
  // `property` is complete: defined here, clang with libstdc++ instantiates
  // std::vector<property> members while `property` is still incomplete.
  property_container(const property_container& other);
  property_container(property_container&& other) noexcept;
  property_container& operator=(const property_container& other);
  property_container& operator=(property_container&& other) noexcept;
  ~property_container();

  /// The value of the first property named `key`, or nullptr. The pointer is
  /// valid until this container is modified or destroyed.
  const value* get(std::string_view key) const noexcept;
  /// Mutable form of `get`.
  value* get(std::string_view key) noexcept;
  /// Replaces the value of the first property named `key`, or appends
  /// `{key, v}` when there is none. Returns the stored value.
  value& set(std::string key, value v);
  /// Appends `{key, v}` even if `key` already exists (wire order is kept).
  value& push_back(std::string key, value v);
  /// Removes every property named `key`; returns how many were removed.
  std::size_t erase(std::string_view key) noexcept;

  /// The properties in wire order.
  const property_list& properties() const noexcept { return props_; }
  /// Mutable access to the properties.
  property_list& properties() noexcept { return props_; }
  /// Number of properties.
  std::size_t size() const noexcept;
  /// True when there are no properties.
  bool empty() const noexcept;
  /// Iteration over the properties in wire order.
  property_list::const_iterator begin() const noexcept;
  /// End of iteration.
  property_list::const_iterator end() const noexcept;

 protected:
  property_list props_;  // NOLINT: shared with the two derived kinds
};

}  // namespace detail

/// An AMF0 anonymous Object (0x03, AMF0 spec section 2.5) or, when
/// `class_name()` is non-empty, a Typed Object (0x10, section 2.18).
class object : public detail::property_container {
 public:
  using detail::property_container::property_container;

  /// Properties plus a class name (makes the object a Typed Object on encode).
  object(property_list props, std::string class_name) noexcept;

  /// The Typed Object class name; empty for anonymous objects. Informational
  /// only: it is never used to pick a type or behaviour (HOSTILE T-28).
  const std::string& class_name() const noexcept { return class_name_; }
  /// Sets the class name (empty makes the object anonymous again).
  void set_class_name(std::string name) noexcept { class_name_ = std::move(name); }

  /// Same class name and same properties in the same order.
  friend bool operator==(const object& a, const object& b);

 private:
  std::string class_name_;
};

/// An AMF0 ECMA Array (0x08, AMF0 spec section 2.10): an associative array
/// encoded like an object plus a 32-bit count. The count is written from the
/// real size on encode and ignored on decode.
class ecma_array : public detail::property_container {
 public:
  using detail::property_container::property_container;

  /// Same properties in the same order.
  friend bool operator==(const ecma_array& a, const ecma_array& b);
};

/// An AMF0 Strict Array (0x0A, AMF0 spec section 2.12): a dense list.
class strict_array {
 public:
  /// An empty array.
  strict_array() = default;
  /// The given items in order.
  strict_array(std::initializer_list<value> items);
  /// Takes ownership of `items`.
  explicit strict_array(std::vector<value> items) noexcept;

  /// The items.
  const std::vector<value>& items() const noexcept { return items_; }
  /// Mutable access to the items.
  std::vector<value>& items() noexcept { return items_; }
  /// Number of items.
  std::size_t size() const noexcept;
  /// True when there are no items.
  bool empty() const noexcept;
  /// Item `i`, or nullptr when out of range.
  const value* at(std::size_t i) const noexcept;
  /// Appends an item; returns the stored item.
  value& push_back(value v);

  /// Same items in the same order.
  friend bool operator==(const strict_array& a, const strict_array& b);

 private:
  std::vector<value> items_;
};

/// One AMF0 value of any supported type. Default-constructed: null.
///
/// Implicit conversions make builders short: numbers (any arithmetic type
/// except bool becomes a Number), `bool`, strings (`const char*`,
/// `std::string`, `std::string_view`), `nullptr` (null), `amf0::null`,
/// `amf0::undefined`, `object`, `ecma_array`, `strict_array`, `date`.
///
/// The `as_*` accessors never throw: they return a fallback (number, bool),
/// an empty view (string) or nullptr (containers) when the type differs.
class value {
 public:
  /// The storage; the index of the active alternative equals `type`.
  using storage = std::variant<null_t, undefined_t, double, bool, std::string, object, ecma_array,
                               strict_array, date>;

  /// Null.
  value() noexcept = default;
  /// Null.
  value(null_t) noexcept {}
  /// Null.
  value(std::nullptr_t) noexcept {}
  /// Undefined.
  value(undefined_t) noexcept : v_(std::in_place_type<undefined_t>) {}
  /// Number.
  value(double n) noexcept : v_(std::in_place_type<double>, n) {}
  /// Number, from any other arithmetic type except bool (converted to double;
  /// 64-bit integers above 2^53 lose precision, as on the wire).
  template <class T>
    requires(std::is_arithmetic_v<T> && !std::same_as<T, bool> && !std::same_as<T, double>)
  value(T n) noexcept : v_(std::in_place_type<double>, static_cast<double>(n)) {}
  /// Pointers other than `const char*` would silently become a Boolean through
  /// the pointer-to-bool conversion: refuse them at compile time.
  template <class T>
    requires(!std::same_as<std::remove_cv_t<T>, char>)
  value(T*) = delete;
  /// Boolean.
  value(bool b) noexcept : v_(std::in_place_type<bool>, b) {}
  /// String (copied). A null pointer gives an empty string.
  value(const char* s) : v_(std::in_place_type<std::string>, s ? s : "") {}
  /// String.
  value(std::string s) noexcept : v_(std::in_place_type<std::string>, std::move(s)) {}
  /// String (copied).
  value(std::string_view s) : v_(std::in_place_type<std::string>, s) {}
  /// Object or Typed Object.
  value(object o) noexcept;
  /// ECMA Array.
  value(ecma_array a) noexcept;
  /// Strict Array.
  value(strict_array a) noexcept;
  /// Date.
  value(date d) noexcept : v_(std::in_place_type<date>, d) {}

  /// The type of the held value.
  type kind() const noexcept { return static_cast<type>(v_.index()); }
  /// The underlying variant (for std::visit).
  const storage& data() const noexcept { return v_; }
  /// Mutable access to the underlying variant.
  storage& data() noexcept { return v_; }

  /// True for Null.
  bool is_null() const noexcept { return kind() == type::null; }
  /// True for Undefined.
  bool is_undefined() const noexcept { return kind() == type::undefined; }
  /// True for Null or Undefined.
  bool is_nullish() const noexcept { return is_null() || is_undefined(); }
  /// True for Number.
  bool is_number() const noexcept { return kind() == type::number; }
  /// True for Boolean.
  bool is_bool() const noexcept { return kind() == type::boolean; }
  /// True for String (including decoded Long String / XML Document).
  bool is_string() const noexcept { return kind() == type::string; }
  /// True for Object / Typed Object.
  bool is_object() const noexcept { return kind() == type::object; }
  /// True for ECMA Array.
  bool is_ecma_array() const noexcept { return kind() == type::ecma_array; }
  /// True for Object, Typed Object or ECMA Array (anything with properties).
  bool is_object_like() const noexcept { return is_object() || is_ecma_array(); }
  /// True for Strict Array.
  bool is_strict_array() const noexcept { return kind() == type::strict_array; }
  /// True for Date.
  bool is_date() const noexcept { return kind() == type::date; }

  /// The number, or `fallback` when this is not a Number.
  double as_number(double fallback = 0.0) const noexcept {
    const double* p = std::get_if<double>(&v_);
    return p ? *p : fallback;
  }
  /// The boolean, or `fallback` when this is not a Boolean.
  bool as_bool(bool fallback = false) const noexcept {
    const bool* p = std::get_if<bool>(&v_);
    return p ? *p : fallback;
  }
  /// The string, or an empty view when this is not a String. The view is
  /// valid until this value is modified or destroyed.
  std::string_view as_string() const noexcept {
    const std::string* p = std::get_if<std::string>(&v_);
    return p ? std::string_view(*p) : std::string_view();
  }
  /// The object, or nullptr.
  const object* as_object() const noexcept { return std::get_if<object>(&v_); }
  /// The object, or nullptr.
  object* as_object() noexcept { return std::get_if<object>(&v_); }
  /// The ECMA array, or nullptr.
  const ecma_array* as_ecma_array() const noexcept { return std::get_if<ecma_array>(&v_); }
  /// The ECMA array, or nullptr.
  ecma_array* as_ecma_array() noexcept { return std::get_if<ecma_array>(&v_); }
  /// The strict array, or nullptr.
  const strict_array* as_strict_array() const noexcept { return std::get_if<strict_array>(&v_); }
  /// The strict array, or nullptr.
  strict_array* as_strict_array() noexcept { return std::get_if<strict_array>(&v_); }
  /// The date, or nullptr.
  const date* as_date() const noexcept { return std::get_if<date>(&v_); }

  /// The properties of an Object / Typed Object / ECMA Array, or nullptr.
  const property_list* properties() const noexcept;
  /// The value of the first property named `key` of an Object / ECMA Array;
  /// nullptr when absent or when this value has no properties.
  const value* get(std::string_view key) const noexcept;

  /// Deep equality: same type and equal contents (Numbers compare as doubles,
  /// so NaN != NaN).
  friend bool operator==(const value& a, const value& b);

 private:
  storage v_;
};

/// One property of an Object or ECMA Array.
struct property {
  std::string key;  ///< The property name (UTF-8, at most 65535 bytes on the wire).
  value val;        ///< The property value.

  /// Same key and equal value.
  friend bool operator==(const property& a, const property& b) {
    return a.key == b.key && a.val == b.val;
  }
};

// --- inline members that need `property` / `value` complete ----------------

inline value::value(object o) noexcept : v_(std::in_place_type<object>, std::move(o)) {}
inline value::value(ecma_array a) noexcept : v_(std::in_place_type<ecma_array>, std::move(a)) {}
inline value::value(strict_array a) noexcept : v_(std::in_place_type<strict_array>, std::move(a)) {}

inline std::size_t detail::property_container::size() const noexcept { return props_.size(); }
inline bool detail::property_container::empty() const noexcept { return props_.empty(); }
inline property_list::const_iterator detail::property_container::begin() const noexcept {
  return props_.begin();
}
inline property_list::const_iterator detail::property_container::end() const noexcept {
  return props_.end();
}
inline std::size_t strict_array::size() const noexcept { return items_.size(); }
inline bool strict_array::empty() const noexcept { return items_.empty(); }

}  // namespace rtmp::proto::amf0
