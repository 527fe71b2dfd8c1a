#include "rtmp/proto/amf0_value.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

namespace {

namespace amf0 = rtmp::proto::amf0;
using amf0::type;

// Compile-time contract of the implicit conversions.
static_assert(std::is_convertible_v<int, amf0::value>);
static_assert(std::is_convertible_v<const char*, amf0::value>);
static_assert(std::is_convertible_v<std::string_view, amf0::value>);
static_assert(!std::is_convertible_v<int*, amf0::value>, "pointers must not become Booleans");
static_assert(!std::is_convertible_v<const void*, amf0::value>);

TEST(amf0_value, default_is_null) {
  amf0::value v;
  EXPECT_EQ(v.kind(), type::null);
  EXPECT_TRUE(v.is_null());
  EXPECT_TRUE(v.is_nullish());
  EXPECT_FALSE(v.is_undefined());
  EXPECT_EQ(v, amf0::value(amf0::null));
  EXPECT_EQ(v, amf0::value(nullptr));
}

TEST(amf0_value, constructors_pick_the_right_type) {
  EXPECT_EQ(amf0::value(1.5).kind(), type::number);
  EXPECT_EQ(amf0::value(31).kind(), type::number);
  EXPECT_EQ(amf0::value(std::uint64_t{7}).kind(), type::number);
  EXPECT_EQ(amf0::value(2.5f).kind(), type::number);
  EXPECT_EQ(amf0::value(true).kind(), type::boolean);
  EXPECT_EQ(amf0::value("x").kind(), type::string);
  EXPECT_EQ(amf0::value(std::string("x")).kind(), type::string);
  EXPECT_EQ(amf0::value(std::string_view("x")).kind(), type::string);
  EXPECT_EQ(amf0::value(amf0::undefined).kind(), type::undefined);
  EXPECT_EQ(amf0::value(amf0::object{}).kind(), type::object);
  EXPECT_EQ(amf0::value(amf0::ecma_array{}).kind(), type::ecma_array);
  EXPECT_EQ(amf0::value(amf0::strict_array{}).kind(), type::strict_array);
  EXPECT_EQ(amf0::value(amf0::date{1.0, 0}).kind(), type::date);
  const char* none = nullptr;
  amf0::value from_null_ptr(none);
  EXPECT_TRUE(from_null_ptr.is_string());
  EXPECT_EQ(from_null_ptr.as_string(), "");
  char mutable_chars[] = "abc";
  char* mutable_ptr = mutable_chars;
  EXPECT_EQ(amf0::value(mutable_ptr).as_string(), "abc");
}

TEST(amf0_value, accessors_and_fallbacks) {
  amf0::value n = 42;
  EXPECT_TRUE(n.is_number());
  EXPECT_EQ(n.as_number(), 42.0);
  EXPECT_FALSE(n.as_bool());
  EXPECT_TRUE(n.as_bool(true));
  EXPECT_EQ(n.as_string(), "");
  EXPECT_EQ(n.as_object(), nullptr);
  EXPECT_EQ(n.as_ecma_array(), nullptr);
  EXPECT_EQ(n.as_strict_array(), nullptr);
  EXPECT_EQ(n.as_date(), nullptr);
  EXPECT_EQ(n.properties(), nullptr);
  EXPECT_EQ(n.get("x"), nullptr);

  amf0::value s = "hello";
  EXPECT_TRUE(s.is_string());
  EXPECT_EQ(s.as_string(), "hello");
  EXPECT_EQ(s.as_number(), 0.0);
  EXPECT_EQ(s.as_number(-1.0), -1.0);

  amf0::value b = false;
  EXPECT_TRUE(b.is_bool());
  EXPECT_FALSE(b.as_bool(true));

  amf0::value d = amf0::date{1234.5, -60};
  ASSERT_NE(d.as_date(), nullptr);
  EXPECT_TRUE(d.is_date());
  EXPECT_EQ(d.as_date()->milliseconds, 1234.5);
  EXPECT_EQ(d.as_date()->timezone, -60);
}

TEST(amf0_value, object_builder_keeps_order_and_lookup) {
  amf0::value v = amf0::object{
      {"level", "status"},
      {"code", "NetStream.Publish.Start"},
      {"n", 31},
      {"flag", true},
      {"nothing", nullptr},
      {"nested", amf0::object{{"a", 1.5}}},
      {"list", amf0::strict_array{1, "two", amf0::null}},
  };
  ASSERT_TRUE(v.is_object());
  EXPECT_TRUE(v.is_object_like());
  EXPECT_FALSE(v.is_ecma_array());
  ASSERT_NE(v.properties(), nullptr);
  ASSERT_EQ(v.properties()->size(), 7u);
  EXPECT_EQ((*v.properties())[0].key, "level");
  EXPECT_EQ((*v.properties())[6].key, "list");
  EXPECT_EQ(v.get("code")->as_string(), "NetStream.Publish.Start");
  EXPECT_EQ(v.get("n")->as_number(), 31.0);
  EXPECT_TRUE(v.get("flag")->as_bool());
  EXPECT_TRUE(v.get("nothing")->is_null());
  EXPECT_EQ(v.get("nested")->get("a")->as_number(), 1.5);
  EXPECT_EQ(v.get("list")->as_strict_array()->size(), 3u);
  EXPECT_EQ(v.get("list")->as_strict_array()->at(1)->as_string(), "two");
  EXPECT_EQ(v.get("list")->as_strict_array()->at(3), nullptr);
  EXPECT_EQ(v.get("missing"), nullptr);
  EXPECT_EQ(v.get("nested")->get("missing"), nullptr);
}

TEST(amf0_value, single_property_object_is_not_a_copy) {
  amf0::object o{{"only", "one"}};
  EXPECT_EQ(o.size(), 1u);
  EXPECT_EQ(o.get("only")->as_string(), "one");
}

TEST(amf0_value, set_push_back_erase) {
  amf0::object o;
  EXPECT_TRUE(o.empty());
  o.set("a", 1);
  o.set("b", 2);
  o.set("a", 3);  // replaces in place
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o.properties()[0].key, "a");
  EXPECT_EQ(o.get("a")->as_number(), 3.0);
  o.push_back("a", 4);  // duplicate kept; lookups see the first one
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o.get("a")->as_number(), 3.0);
  *o.get("b") = "changed";
  EXPECT_EQ(o.get("b")->as_string(), "changed");
  EXPECT_EQ(o.erase("a"), 2u);
  EXPECT_EQ(o.erase("a"), 0u);
  ASSERT_EQ(o.size(), 1u);
  std::size_t seen = 0;
  for (const amf0::property& p : o) {
    EXPECT_EQ(p.key, "b");
    ++seen;
  }
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(static_cast<const amf0::object&>(o).get("zzz"), nullptr);
  EXPECT_EQ(o.get("zzz"), nullptr);
}

TEST(amf0_value, ecma_array_has_properties_too) {
  amf0::value v = amf0::ecma_array{{"duration", 0}, {"width", 1280}};
  EXPECT_TRUE(v.is_ecma_array());
  EXPECT_TRUE(v.is_object_like());
  EXPECT_FALSE(v.is_object());
  EXPECT_EQ(v.get("width")->as_number(), 1280.0);
  ASSERT_NE(v.properties(), nullptr);
  EXPECT_EQ(v.properties()->size(), 2u);
  v.as_ecma_array()->set("height", 720);
  EXPECT_EQ(v.get("height")->as_number(), 720.0);
  // An object and an ECMA array with the same properties are different values.
  EXPECT_NE(v, amf0::value(amf0::object{{"duration", 0}, {"width", 1280}, {"height", 720}}));
}

TEST(amf0_value, typed_object_class_name_is_informational) {
  amf0::object o({{"x", 1}}, "java.lang.Runtime");
  EXPECT_EQ(o.class_name(), "java.lang.Runtime");
  amf0::value v = o;
  EXPECT_TRUE(v.is_object());
  EXPECT_EQ(v.get("x")->as_number(), 1.0);
  amf0::object anon{{"x", 1}};
  EXPECT_NE(o, anon);
  o.set_class_name("");
  EXPECT_EQ(o, anon);
}

TEST(amf0_value, strict_array_access) {
  amf0::strict_array a{1, "b"};
  EXPECT_FALSE(a.empty());
  a.push_back(amf0::undefined);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_TRUE(a.at(2)->is_undefined());
  a.items().pop_back();
  EXPECT_EQ(a.size(), 2u);
  EXPECT_TRUE(amf0::strict_array{}.empty());
  amf0::value v = a;
  ASSERT_NE(v.as_strict_array(), nullptr);
  v.as_strict_array()->push_back(3);
  EXPECT_EQ(v.as_strict_array()->size(), 3u);
  EXPECT_EQ(a.size(), 2u);  // v holds a copy
  EXPECT_EQ(amf0::strict_array(std::vector<amf0::value>{1, 2}).size(), 2u);
}

TEST(amf0_value, equality_is_deep_and_typed) {
  amf0::value a = amf0::object{{"k", amf0::strict_array{1, amf0::ecma_array{{"z", "y"}}}}};
  amf0::value b = a;
  EXPECT_EQ(a, b);
  b.as_object()->get("k")->as_strict_array()->items()[1].as_ecma_array()->set("z", "changed");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.get("k")->as_strict_array()->at(1)->get("z")->as_string(), "y");  // deep copy

  EXPECT_NE(amf0::value(0), amf0::value(false));
  EXPECT_NE(amf0::value(0), amf0::value(amf0::null));
  EXPECT_NE(amf0::value(amf0::null), amf0::value(amf0::undefined));
  EXPECT_NE(amf0::value(""), amf0::value(amf0::null));
  EXPECT_EQ(amf0::value("a"), "a");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(amf0::value(nan), amf0::value(nan));
  EXPECT_EQ(amf0::value(amf0::date{5, 1}), amf0::value(amf0::date{5, 1}));
  EXPECT_NE(amf0::value(amf0::date{5, 1}), amf0::value(amf0::date{5, 2}));
  EXPECT_NE(amf0::value(amf0::strict_array{1}), amf0::value(amf0::strict_array{1, 2}));
  EXPECT_NE(amf0::value(amf0::object{{"a", 1}}), amf0::value(amf0::object{{"b", 1}}));
}

TEST(amf0_value, variant_access_for_visitors) {
  amf0::value v = 2.0;
  EXPECT_EQ(v.data().index(), static_cast<std::size_t>(type::number));
  v.data() = std::string("s");
  EXPECT_TRUE(v.is_string());
  const amf0::value& cv = v;
  EXPECT_EQ(std::get<std::string>(cv.data()), "s");
}

}  // namespace
