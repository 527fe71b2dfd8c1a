#include "rtmp/proto/amf0_value.hpp"

#include <algorithm>

namespace rtmp::proto::amf0 {

// --- property_container -----------------------------------------------------

detail::property_container::property_container(std::initializer_list<property> props)
    : props_(props) {}

detail::property_container::property_container(property_list props) noexcept
    : props_(std::move(props)) {}

detail::property_container::property_container(const property_container& other) = default;
detail::property_container::property_container(property_container&& other) noexcept = default;
detail::property_container& detail::property_container::operator=(const property_container& other) = default;
detail::property_container& detail::property_container::operator=(property_container&& other) noexcept = default;
detail::property_container::~property_container() = default;

const value* detail::property_container::get(std::string_view key) const noexcept {
  for (const property& p : props_) {
    if (p.key == key) return &p.val;
  }
  return nullptr;
}

value* detail::property_container::get(std::string_view key) noexcept {
  for (property& p : props_) {
    if (p.key == key) return &p.val;
  }
  return nullptr;
}

value& detail::property_container::set(std::string key, value v) {
  if (value* existing = get(key)) {
    *existing = std::move(v);
    return *existing;
  }
  return push_back(std::move(key), std::move(v));
}

value& detail::property_container::push_back(std::string key, value v) {
  props_.push_back(property{std::move(key), std::move(v)});
  return props_.back().val;
}

std::size_t detail::property_container::erase(std::string_view key) noexcept {
  return std::erase_if(props_, [key](const property& p) { return p.key == key; });
}

// --- object / ecma_array / strict_array ---------------------------------------

object::object(property_list props, std::string class_name) noexcept
    : property_container(std::move(props)), class_name_(std::move(class_name)) {}

bool operator==(const object& a, const object& b) {
  return a.class_name_ == b.class_name_ && a.props_ == b.props_;
}

bool operator==(const ecma_array& a, const ecma_array& b) { return a.props_ == b.props_; }

strict_array::strict_array(std::initializer_list<value> items) : items_(items) {}

strict_array::strict_array(std::vector<value> items) noexcept : items_(std::move(items)) {}

const value* strict_array::at(std::size_t i) const noexcept {
  return i < items_.size() ? &items_[i] : nullptr;
}

value& strict_array::push_back(value v) {
  items_.push_back(std::move(v));
  return items_.back();
}

bool operator==(const strict_array& a, const strict_array& b) { return a.items_ == b.items_; }

// --- value --------------------------------------------------------------------

const property_list* value::properties() const noexcept {
  if (const object* o = as_object()) return &o->properties();
  if (const ecma_array* a = as_ecma_array()) return &a->properties();
  return nullptr;
}

const value* value::get(std::string_view key) const noexcept {
  if (const object* o = as_object()) return o->get(key);
  if (const ecma_array* a = as_ecma_array()) return a->get(key);
  return nullptr;
}

bool operator==(const value& a, const value& b) { return a.v_ == b.v_; }

}  // namespace rtmp::proto::amf0
