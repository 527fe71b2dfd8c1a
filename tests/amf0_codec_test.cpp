#include "rtmp/proto/amf0_codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "rtmp/error.hpp"
#include "support/bytes.hpp"

namespace {

using rtmp::test::concat;
using rtmp::test::hex;
using rtmp::test::repeat;

namespace amf0 = rtmp::proto::amf0;
using bytes = std::vector<std::uint8_t>;
using rtmp::errc;

bytes enc(const amf0::value& v) {
  bytes out;
  EXPECT_FALSE(amf0::encode(v, out));
  return out;
}

// Encodes, decodes, checks the value and the byte count, re-encodes and checks
// the bytes are identical.
void expect_round_trip(const amf0::value& v, const amf0::decode_limits& limits = {}) {
  const bytes wire = enc(v);
  amf0::value back;
  const amf0::decode_result r = amf0::decode(wire, back, limits);
  ASSERT_FALSE(r.ec) << r.ec.message() << " at " << r.offset;
  EXPECT_EQ(r.offset, wire.size());
  EXPECT_EQ(back, v);
  EXPECT_EQ(enc(back), wire);
}

void expect_error(const bytes& in, errc e, std::size_t offset, const amf0::decode_limits& limits = {}) {
  amf0::value v;
  const amf0::decode_result r = amf0::decode(in, v, limits);
  EXPECT_EQ(r.ec, make_error_code(e)) << r.ec.message();
  EXPECT_EQ(r.offset, offset);
}

// A connect command payload as ffmpeg 5.1 sends it (see command_test for the
// capture); built here from hex so that this file stands alone.
bytes connect_payload() {
  return hex(
      "02 0007 'connect' 00 3FF0000000000000 03"
      " 0003 'app' 02 0004 'live'"
      " 0004 'type' 02 000a 'nonprivate'"
      " 0008 'flashVer' 02 0024 'FMLE/3.0 (compatible; Lavf59.27.100)'"
      " 0005 'tcUrl' 02 001b 'rtmp://127.0.0.1:19400/live'"
      " 000009");
}

// --- encoding: exact bytes per type (AMF0 spec section 2) ----------------------

TEST(amf0_encode, scalar_types_golden_bytes) {
  EXPECT_EQ(enc(1.0), hex("00 3FF0000000000000"));
  EXPECT_EQ(enc(-2.5), hex("00 C004000000000000"));
  EXPECT_EQ(enc(true), hex("01 01"));
  EXPECT_EQ(enc(false), hex("01 00"));
  EXPECT_EQ(enc("ab"), hex("02 0002 'ab'"));
  EXPECT_EQ(enc(""), hex("02 0000"));
  EXPECT_EQ(enc(amf0::null), hex("05"));
  EXPECT_EQ(enc(amf0::undefined), hex("06"));
  EXPECT_EQ(enc(amf0::date{1.0, -300}), hex("0B 3FF0000000000000 FED4"));
}

TEST(amf0_encode, container_golden_bytes) {
  EXPECT_EQ(enc(amf0::object{}), hex("03 000009"));
  EXPECT_EQ(enc(amf0::object{{"a", 1}}), hex("03 0001 'a' 00 3FF0000000000000 000009"));
  EXPECT_EQ(enc(amf0::object({{"b", true}}, "Foo")), hex("10 0003 'Foo' 0001 'b' 01 01 000009"));
  EXPECT_EQ(enc(amf0::ecma_array{{"x", amf0::null}, {"y", amf0::undefined}}),
            hex("08 00000002 0001 'x' 05 0001 'y' 06 000009"));
  EXPECT_EQ(enc(amf0::ecma_array{}), hex("08 00000000 000009"));
  EXPECT_EQ(enc(amf0::strict_array{"s", amf0::null}), hex("0A 00000002 02 0001 's' 05"));
  EXPECT_EQ(enc(amf0::strict_array{}), hex("0A 00000000"));
}

TEST(amf0_encode, string_versus_long_string_boundary) {
  const std::string at_limit(65535, 'x');
  const bytes a = enc(at_limit);
  ASSERT_EQ(a.size(), 3u + 65535u);
  EXPECT_EQ(a[0], 0x02);
  EXPECT_EQ(a[1], 0xFF);
  EXPECT_EQ(a[2], 0xFF);

  const std::string over(65536, 'y');
  const bytes b = enc(over);
  ASSERT_EQ(b.size(), 5u + 65536u);
  EXPECT_EQ(bytes(b.begin(), b.begin() + 5), hex("0C 00010000"));
}

TEST(amf0_encode, appends_and_is_deterministic) {
  const amf0::value v = amf0::object{{"k", amf0::strict_array{1, 2, amf0::ecma_array{{"z", 3}}}}};
  bytes out = {0xAA};
  ASSERT_FALSE(amf0::encode(v, out));
  EXPECT_EQ(out[0], 0xAA);
  EXPECT_EQ(bytes(out.begin() + 1, out.end()), enc(v));
  EXPECT_EQ(enc(v), enc(amf0::value(v)));

  const std::vector<amf0::value> list = {"name", 1, amf0::null};
  bytes all;
  ASSERT_FALSE(amf0::encode_all(list, all));
  EXPECT_EQ(all, concat({enc("name"), enc(1), enc(amf0::null)}));
}

TEST(amf0_encode, key_or_class_name_too_long_is_an_error_and_output_is_restored) {
  const std::string long_key(65536, 'k');
  bytes out = {1, 2, 3};
  EXPECT_EQ(amf0::encode(amf0::object{{long_key, 1}}, out), make_error_code(errc::amf_string_too_long));
  EXPECT_EQ(out, (bytes{1, 2, 3}));
  EXPECT_EQ(amf0::encode(amf0::ecma_array{{"ok", amf0::object{{long_key, 1}}}}, out),
            make_error_code(errc::amf_string_too_long));
  EXPECT_EQ(amf0::encode(amf0::object({}, long_key), out), make_error_code(errc::amf_string_too_long));
  EXPECT_EQ(amf0::encode(amf0::strict_array{1, amf0::object{{long_key, 1}}}, out),
            make_error_code(errc::amf_string_too_long));
  EXPECT_EQ(out, (bytes{1, 2, 3}));
  const std::vector<amf0::value> list = {1, amf0::object{{long_key, 1}}};
  EXPECT_EQ(amf0::encode_all(list, out), make_error_code(errc::amf_string_too_long));
  EXPECT_EQ(out, (bytes{1, 2, 3}));
  // A key of exactly 65535 bytes is fine.
  EXPECT_FALSE(amf0::encode(amf0::object{{std::string(65535, 'k'), 1}}, out));
}

// --- round trips -----------------------------------------------------------------------

TEST(amf0_round_trip, every_type) {
  expect_round_trip(0.0);
  expect_round_trip(-1.25e300);
  expect_round_trip(std::numeric_limits<double>::infinity());
  expect_round_trip(-std::numeric_limits<double>::infinity());
  expect_round_trip(std::numeric_limits<double>::denorm_min());
  expect_round_trip(true);
  expect_round_trip(false);
  expect_round_trip("");
  expect_round_trip("h\xC3\xA9llo");
  expect_round_trip(std::string("nul\0inside", 10));
  expect_round_trip(amf0::null);
  expect_round_trip(amf0::undefined);
  expect_round_trip(amf0::date{1700000000000.0, 0});
  expect_round_trip(amf0::date{-1.0, -480});
  expect_round_trip(amf0::date{0.0, 32767});
  expect_round_trip(amf0::object{});
  expect_round_trip(amf0::object{{"", "empty key"}, {"a", 1}});
  expect_round_trip(amf0::ecma_array{});
  expect_round_trip(amf0::ecma_array{{"duration", 0}, {"stereo", true}, {"encoder", "Lavf"}});
  expect_round_trip(amf0::strict_array{});
  expect_round_trip(amf0::strict_array{1, "two", amf0::null, amf0::undefined, false});
  expect_round_trip(amf0::object({{"x", 1}, {"y", amf0::object({}, "Inner")}}, "com.example.Point"));
}

TEST(amf0_round_trip, nested_containers) {
  amf0::value v = amf0::object{
      {"obj", amf0::object{{"deeper", amf0::object{{"deepest", amf0::strict_array{amf0::object{}}}}}}},
      {"ecma", amf0::ecma_array{{"list", amf0::strict_array{amf0::ecma_array{{"k", "v"}}, 3}}}},
      {"date", amf0::date{86400000.0, 60}},
      {"empty", ""},
  };
  expect_round_trip(v);
}

TEST(amf0_round_trip, nan_payload_is_bit_exact) {
  const double quiet = std::numeric_limits<double>::quiet_NaN();
  const double custom = std::bit_cast<double>(std::uint64_t{0x7FF8'0000'DEAD'BEEF});
  for (double nan : {quiet, -quiet, custom}) {
    const bytes wire = enc(nan);
    amf0::value back;
    ASSERT_FALSE(amf0::decode(wire, back).ec);
    ASSERT_TRUE(back.is_number());
    EXPECT_TRUE(std::isnan(back.as_number()));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(back.as_number()), std::bit_cast<std::uint64_t>(nan));
    EXPECT_EQ(enc(back), wire);
  }
}

TEST(amf0_round_trip, long_strings_need_metadata_limits) {
  const std::string big(70000, 'L');
  const bytes wire = enc(big);
  EXPECT_EQ(wire[0], 0x0C);
  expect_error(wire, errc::amf_string_too_long, 1);  // command limits: 64 KiB per string
  expect_round_trip(big, amf0::metadata_limits());
  // A long string inside an object, too.
  expect_round_trip(amf0::object{{"blob", big}, {"after", 1}}, amf0::metadata_limits());
}

TEST(amf0_decode, long_string_and_xml_document_decode_as_strings) {
  amf0::value v;
  ASSERT_FALSE(amf0::decode(hex("0C 00000003 'abc'"), v).ec);
  EXPECT_EQ(v, amf0::value("abc"));
  EXPECT_EQ(enc(v), hex("02 0003 'abc'"));  // re-encoded as the short form
  ASSERT_FALSE(amf0::decode(hex("0F 00000004 '<a/>'"), v).ec);
  EXPECT_EQ(v.as_string(), "<a/>");
}

TEST(amf0_decode, boolean_is_any_non_zero_byte) {
  amf0::value v;
  ASSERT_FALSE(amf0::decode(hex("01 7F"), v).ec);
  EXPECT_EQ(v, amf0::value(true));
}

TEST(amf0_decode, trailing_bytes_are_left_alone) {
  amf0::value v;
  const amf0::decode_result r = amf0::decode(hex("05 06 07"), v);
  EXPECT_FALSE(r.ec);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.offset, 1u);
  EXPECT_TRUE(v.is_null());
}

// --- ECMA array count is ignored (AMF0 spec section 2.10; encoders write wrong counts)

TEST(amf0_decode, ecma_array_count_is_ignored) {
  amf0::value v;
  const bytes zero_count = hex("08 00000000 0001 'a' 00 3FF0000000000000 0001 'b' 05 000009");
  amf0::decode_result r = amf0::decode(zero_count, v);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.offset, zero_count.size());
  EXPECT_EQ(v, amf0::value(amf0::ecma_array{{"a", 1}, {"b", amf0::null}}));
  // Re-encoding writes the real count.
  EXPECT_EQ(enc(v)[4], 2);

  // T-26: a huge declared count allocates nothing and the array is simply empty.
  const bytes huge = hex("08 FFFFFFFF 000009");
  r = amf0::decode(huge, v);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.offset, huge.size());
  EXPECT_EQ(v, amf0::value(amf0::ecma_array{}));
}

// --- typed objects (0x10) ----------------------------------------------------------------

TEST(amf0_decode, typed_object_becomes_a_plain_object_with_a_class_name) {
  const bytes wire = hex("10 0011 'java.lang.Runtime' 0003 'cmd' 02 0002 'id' 000009");
  amf0::value v;
  ASSERT_FALSE(amf0::decode(wire, v).ec);
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.as_object()->class_name(), "java.lang.Runtime");
  EXPECT_EQ(v.get("cmd")->as_string(), "id");
  EXPECT_EQ(enc(v), wire);
  expect_error(hex("10 0005 'ab'"), errc::amf_truncated, 1);
  expect_error(hex("10 00"), errc::amf_truncated, 1);
  expect_error(hex("10 0002 'ab'"), errc::amf_missing_object_end, 5);
  amf0::decode_limits tight;
  tight.max_string = 4;
  expect_error(wire, errc::amf_string_too_long, 1, tight);
}

// --- references (0x07, AMF0 spec section 2.9) ----------------------------------------------

TEST(amf0_reference, resolves_to_an_earlier_complex_value) {
  // Table: 0 = outer strict array (pre-order), 1 = the object.
  const bytes wire = hex("0A 00000002 03 0001 'a' 00 3FF0000000000000 000009 07 0001");
  amf0::value v;
  const amf0::decode_result r = amf0::decode(wire, v);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.offset, wire.size());
  ASSERT_TRUE(v.is_strict_array());
  ASSERT_EQ(v.as_strict_array()->size(), 2u);
  EXPECT_EQ(*v.as_strict_array()->at(1), amf0::value(amf0::object{{"a", 1}}));
  EXPECT_EQ(*v.as_strict_array()->at(0), *v.as_strict_array()->at(1));
}

TEST(amf0_reference, table_order_counts_every_complex_kind) {
  // [ {}, ecma{}, [], typed{} , ref 1, ref 2, ref 3, ref 4 ]
  const bytes wire = hex(
      "0A 00000008 03 000009 08 00000000 000009 0A 00000000 10 0001 'T' 000009"
      " 07 0001 07 0002 07 0003 07 0004");
  amf0::value v;
  ASSERT_FALSE(amf0::decode(wire, v).ec);
  const auto& items = v.as_strict_array()->items();
  ASSERT_EQ(items.size(), 8u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(items[4 + i], items[i]) << i;
  EXPECT_TRUE(items[5].is_ecma_array());
  EXPECT_EQ(items[7].as_object()->class_name(), "T");
}

TEST(amf0_reference, errors) {
  // Out of range.
  expect_error(hex("0A 00000002 03 000009 07 0005"), errc::amf_bad_reference, 9);
  // A reference at top level with nothing decoded yet.
  expect_error(hex("07 0000"), errc::amf_bad_reference, 0);
  // A cycle: the array references itself while it is being decoded.
  expect_error(hex("0A 00000001 07 0000"), errc::amf_bad_reference, 5);
  // An object property referencing its own (incomplete) object.
  expect_error(hex("03 0001 'a' 07 0000 000009"), errc::amf_bad_reference, 4);
  // Truncated index.
  expect_error(hex("07 00"), errc::amf_truncated, 1);
}

TEST(amf0_reference, table_is_shared_by_one_decoder_but_not_by_decode_next) {
  const bytes wire = hex("03 0001 'k' 05 000009 07 0000");
  amf0::decoder d(wire);
  amf0::value first, second;
  ASSERT_FALSE(d.next(first).ec);
  ASSERT_FALSE(d.next(second).ec);
  EXPECT_TRUE(d.at_end());
  EXPECT_EQ(first, second);

  amf0::value v;
  const amf0::decode_result r = amf0::decode_next(wire, 8, v);
  EXPECT_EQ(r.ec, make_error_code(errc::amf_bad_reference));
  EXPECT_EQ(r.offset, 8u);
}

TEST(amf0_reference, expansion_is_charged_to_the_node_budget) {
  // One object with 100 numbers, then 50 references to it: 5,000+ nodes.
  bytes obj = hex("03");
  for (int i = 0; i < 100; ++i) {
    obj.push_back(0x00);
    obj.push_back(0x01);
    obj.push_back(static_cast<std::uint8_t>('a' + i % 26));
    const bytes num = enc(i);
    obj.insert(obj.end(), num.begin(), num.end());
  }
  obj = concat({obj, hex("000009")});
  const bytes wire = concat({hex("0A 00000033"), obj, repeat(hex("07 0001"), 50)});
  amf0::value v;
  amf0::decode_result r = amf0::decode(wire, v);
  EXPECT_EQ(r.ec, make_error_code(errc::amf_too_many_nodes));
  amf0::decode_limits roomy;
  roomy.max_nodes = 100000;
  r = amf0::decode(wire, v, roomy);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(v.as_strict_array()->size(), 51u);
  EXPECT_EQ(v.as_strict_array()->at(50)->get("a")->as_number(), 0.0);
}

TEST(amf0_reference, expansion_is_charged_to_the_string_budget) {
  // A 60,000-byte string inside an object, referenced 20 times: 1.2 MB > 1 MiB.
  const bytes obj = enc(amf0::object{{"s", std::string(60000, 's')}});
  const bytes wire = concat({hex("0A 00000015"), obj, repeat(hex("07 0001"), 20)});
  amf0::value v;
  EXPECT_EQ(amf0::decode(wire, v).ec, make_error_code(errc::amf_string_too_long));
  amf0::decode_limits roomy;
  roomy.max_total_string = 2 * 1024 * 1024;
  EXPECT_FALSE(amf0::decode(wire, v, roomy).ec);
}

TEST(amf0_reference, expansion_is_charged_to_the_depth_limit) {
  // Item 0: 10 nested objects. Item 1: 60 nested objects whose innermost
  // property references item 0 (table index 1): 1 + 60 + 10 > 64 levels.
  auto nested = [](std::size_t n, const bytes& inner) {
    return concat({repeat(hex("03 0001 'a'"), n), inner, repeat(hex("000009"), n)});
  };
  const bytes item0 = nested(10, hex("05"));
  const bytes wire = concat({hex("0A 00000002"), item0, nested(60, hex("07 0001"))});
  amf0::value v;
  EXPECT_EQ(amf0::decode(wire, v).ec, make_error_code(errc::amf_depth_exceeded));
  const bytes shallow = concat({hex("0A 00000002"), item0, nested(40, hex("07 0001"))});
  EXPECT_FALSE(amf0::decode(shallow, v).ec);
}

// --- walking a payload value by value ------------------------------------------------------

TEST(amf0_walk, decode_next_and_decode_all) {
  const bytes wire = connect_payload();
  std::size_t offset = 0;
  std::vector<amf0::value> walked;
  while (offset < wire.size()) {
    amf0::value v;
    const amf0::decode_result r = amf0::decode_next(wire, offset, v);
    ASSERT_FALSE(r.ec) << r.ec.message() << " at " << r.offset;
    ASSERT_GT(r.offset, offset);
    offset = r.offset;
    walked.push_back(std::move(v));
  }
  ASSERT_EQ(walked.size(), 3u);
  EXPECT_EQ(walked[0].as_string(), "connect");
  EXPECT_EQ(walked[1].as_number(), 1.0);
  EXPECT_EQ(walked[2].get("app")->as_string(), "live");

  std::vector<amf0::value> all = {"stale"};
  const amf0::decode_result r = amf0::decode_all(wire, all);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.offset, wire.size());
  EXPECT_EQ(all, walked);

  bytes re;
  ASSERT_FALSE(amf0::encode_all(all, re));
  EXPECT_EQ(re, wire);

  amf0::value v;
  const amf0::decode_result past = amf0::decode_next(wire, wire.size() + 1, v);
  EXPECT_EQ(past.ec, make_error_code(errc::amf_truncated));
  EXPECT_EQ(past.offset, wire.size());
  const amf0::decode_result at_end = amf0::decode_next(wire, wire.size(), v);
  EXPECT_EQ(at_end.ec, make_error_code(errc::amf_truncated));

  EXPECT_FALSE(amf0::decode_all({}, all).ec);
  EXPECT_TRUE(all.empty());
}

TEST(amf0_walk, decoder_counts_nodes_and_fails_sticky) {
  const bytes wire = hex("02 0001 'a' 09 05");
  amf0::decoder d(wire);
  amf0::value v;
  EXPECT_FALSE(d.next(v).ec);
  EXPECT_EQ(d.nodes(), 1u);
  EXPECT_EQ(d.offset(), 4u);
  const amf0::decode_result r1 = d.next(v);
  EXPECT_EQ(r1.ec, make_error_code(errc::amf_unknown_marker));
  EXPECT_EQ(r1.offset, 4u);
  const amf0::decode_result r2 = d.next(v);  // stays failed, does not skip ahead
  EXPECT_EQ(r2.ec, r1.ec);
  EXPECT_EQ(r2.offset, r1.offset);
  EXPECT_EQ(d.offset(), 4u);

  std::vector<amf0::value> partial;
  const amf0::decode_result r3 = amf0::decode_all(wire, partial);
  EXPECT_EQ(r3.ec, make_error_code(errc::amf_unknown_marker));
  ASSERT_EQ(partial.size(), 1u);  // the value before the failure
  EXPECT_EQ(partial[0].as_string(), "a");

  amf0::decoder clamped(wire, {}, 100);
  EXPECT_TRUE(clamped.at_end());
}

// --- T-24: truncation at every prefix ---------------------------------------------------------

TEST(amf0_hostile, minimal_crasher_T24) {
  const bytes wire = hex("02 0007 'connect' 00 3FF000");
  std::vector<amf0::value> out;
  const amf0::decode_result r = amf0::decode_all(wire, out);
  EXPECT_EQ(r.ec, make_error_code(errc::amf_truncated));
  EXPECT_EQ(r.offset, 11u);
}

TEST(amf0_hostile, every_prefix_of_a_connect_payload) {
  const bytes wire = connect_payload();
  // Top-level value boundaries, where a prefix is a complete (shorter) list.
  std::vector<std::size_t> boundaries = {0};
  {
    amf0::decoder d(wire);
    amf0::value v;
    while (!d.at_end()) {
      ASSERT_FALSE(d.next(v).ec);
      boundaries.push_back(d.offset());
    }
  }
  ASSERT_EQ(boundaries.size(), 4u);
  for (std::size_t len = 0; len < wire.size(); ++len) {
    const bytes prefix(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(len));
    std::vector<amf0::value> out;
    const amf0::decode_result r = amf0::decode_all(prefix, out);
    const bool boundary = std::find(boundaries.begin(), boundaries.end(), len) != boundaries.end();
    if (boundary) {
      EXPECT_FALSE(r.ec) << "prefix " << len;
      EXPECT_LT(out.size(), 3u);
    } else {
      EXPECT_TRUE(r.ec == errc::amf_truncated || r.ec == errc::amf_missing_object_end)
          << "prefix " << len << ": " << r.ec.message();
      EXPECT_LE(r.offset, len);
    }
    // The object alone (from its marker) must fail at every truncation.
    if (len > boundaries[2]) {
      amf0::value obj;
      const bytes tail(prefix.begin() + static_cast<std::ptrdiff_t>(boundaries[2]), prefix.end());
      EXPECT_TRUE(amf0::decode(tail, obj).ec) << "object prefix " << tail.size();
    }
  }
}

TEST(amf0_hostile, truncation_in_each_field) {
  expect_error({}, errc::amf_truncated, 0);
  expect_error(hex("00 3FF0"), errc::amf_truncated, 1);
  expect_error(hex("01"), errc::amf_truncated, 1);
  expect_error(hex("02 00"), errc::amf_truncated, 1);
  expect_error(hex("02 0003 'ab'"), errc::amf_truncated, 1);
  expect_error(hex("0C 000000"), errc::amf_truncated, 1);
  expect_error(hex("0C 00000003 'ab'"), errc::amf_truncated, 1);
  expect_error(hex("0B 3FF0000000000000 00"), errc::amf_truncated, 1);
  expect_error(hex("08 0000"), errc::amf_truncated, 1);
  expect_error(hex("0A 0000"), errc::amf_truncated, 1);
  expect_error(hex("0A 00000002 05"), errc::amf_count_exceeds_bytes, 1);
  expect_error(hex("0A 00000002 05 02"), errc::amf_truncated, 7);
  expect_error(hex("03 00"), errc::amf_truncated, 1);
  expect_error(hex("03 0001 'a'"), errc::amf_truncated, 4);
  expect_error(hex("03 0005 'ab'"), errc::amf_truncated, 1);
}

// --- T-26: huge declared counts and lengths ------------------------------------------------------

TEST(amf0_hostile, huge_declared_counts_T26) {
  expect_error(hex("0A FFFFFFFF 05"), errc::amf_count_exceeds_bytes, 1);
  expect_error(hex("0C FFFFFFFF 41"), errc::amf_string_too_long, 1);
  amf0::decode_limits unlimited;
  unlimited.max_string = std::numeric_limits<std::size_t>::max();
  unlimited.max_total_string = std::numeric_limits<std::size_t>::max();
  expect_error(hex("0C FFFFFFFF 41"), errc::amf_truncated, 1, unlimited);
  expect_error(hex("02 FFFF 'connect'"), errc::amf_truncated, 1);
  expect_error(hex("03 FFFF 'connect'"), errc::amf_truncated, 1);
  expect_error(hex("0F FFFFFFFF 41"), errc::amf_string_too_long, 1);
  // ECMA: the count is ignored (see ecma_array_count_is_ignored).
  amf0::value v;
  EXPECT_FALSE(amf0::decode(hex("08 FFFFFFFF 000009"), v).ec);
  // A strict array count that exactly fits the bytes left is accepted.
  EXPECT_FALSE(amf0::decode(hex("0A 00000003 05 05 05"), v).ec);
  EXPECT_EQ(v.as_strict_array()->size(), 3u);
}

// --- T-25: deep nesting --------------------------------------------------------------------------

constexpr std::size_t deep = 100000;

TEST(amf0_hostile, deep_objects_T25) {
  const bytes wire = concat({repeat(hex("03 0001 'a'"), deep), hex("05"), repeat(hex("000009"), deep)});
  // The 65th object (nesting level 65) is rejected at its marker.
  expect_error(wire, errc::amf_depth_exceeded, 64 * 4);
}

TEST(amf0_hostile, deep_ecma_arrays_T25) {
  const bytes wire =
      concat({repeat(hex("08 00000001 0001 'a'"), deep), hex("05"), repeat(hex("000009"), deep)});
  expect_error(wire, errc::amf_depth_exceeded, 64 * 8);
}

TEST(amf0_hostile, deep_strict_arrays_T25) {
  const bytes wire = concat({repeat(hex("0A 00000001"), deep), hex("05")});
  expect_error(wire, errc::amf_depth_exceeded, 64 * 5);
}

TEST(amf0_hostile, deep_typed_objects_T25) {
  const bytes wire = concat({repeat(hex("10 0001 'T' 0001 'a'"), deep), hex("05"), repeat(hex("000009"), deep)});
  expect_error(wire, errc::amf_depth_exceeded, 64 * 7);
}

TEST(amf0_hostile, depth_limit_boundary) {
  auto nested = [](std::size_t n) {
    return concat({repeat(hex("03 0001 'a'"), n), hex("05"), repeat(hex("000009"), n)});
  };
  amf0::value v;
  EXPECT_FALSE(amf0::decode(nested(64), v).ec);  // exactly max_depth levels
  expect_error(nested(65), errc::amf_depth_exceeded, 64 * 4);
  amf0::decode_limits two;
  two.max_depth = 2;
  EXPECT_FALSE(amf0::decode(nested(2), v, two).ec);
  expect_error(nested(3), errc::amf_depth_exceeded, 8, two);
  amf0::decode_limits none;
  none.max_depth = 0;
  expect_error(hex("0A 00000000"), errc::amf_depth_exceeded, 0, none);
  EXPECT_FALSE(amf0::decode(hex("05"), v, none).ec);  // scalars need no depth
}

// --- node and string budgets -----------------------------------------------------------------------

TEST(amf0_hostile, node_budget) {
  amf0::decode_limits ten;
  ten.max_nodes = 10;
  amf0::value v;
  // The array itself plus 9 items = 10 values.
  EXPECT_FALSE(amf0::decode(concat({hex("0A 00000009"), repeat(hex("05"), 9)}), v, ten).ec);
  expect_error(concat({hex("0A 0000000A"), repeat(hex("05"), 10)}), errc::amf_too_many_nodes, 14, ten);
  // Default budget (4096) for commands.
  const bytes many = concat({hex("0A 00001388"), repeat(hex("05"), 5000)});
  expect_error(many, errc::amf_too_many_nodes, 5 + 4095);
  EXPECT_FALSE(amf0::decode(many, v, amf0::metadata_limits()).ec);
  // The budget is shared by all values of one decoder.
  const bytes eleven = repeat(hex("05"), 11);
  amf0::decoder d(eleven, ten);
  amf0::decode_result r;
  for (int i = 0; i < 11 && !r.ec; ++i) r = d.next(v);
  EXPECT_EQ(r.ec, make_error_code(errc::amf_too_many_nodes));
  EXPECT_EQ(r.offset, 10u);
}

TEST(amf0_hostile, string_budgets) {
  amf0::decode_limits small;
  small.max_string = 3;
  amf0::value v;
  EXPECT_FALSE(amf0::decode(hex("02 0003 'abc'"), v, small).ec);
  expect_error(hex("02 0004 'abcd'"), errc::amf_string_too_long, 1, small);
  // Keys count too.
  expect_error(hex("03 0004 'abcd' 05 000009"), errc::amf_string_too_long, 1, small);

  amf0::decode_limits total;
  total.max_total_string = 10;
  EXPECT_FALSE(amf0::decode(hex("0A 00000002 02 0005 'abcde' 02 0005 'fghij'"), v, total).ec);
  expect_error(hex("0A 00000002 02 0005 'abcde' 02 0006 'fghijk'"), errc::amf_string_too_long, 14, total);
  expect_error(hex("03 0006 'abcdef' 02 0005 'abcde' 000009"), errc::amf_string_too_long, 10, total);
}

// --- markers that are not values ----------------------------------------------------------------

TEST(amf0_hostile, unknown_and_unsupported_markers) {
  for (std::uint8_t m : {0x04, 0x09, 0x0D, 0x0E, 0x12, 0x20, 0x80, 0xFF}) {
    expect_error(bytes{m, 0, 0, 0, 0}, errc::amf_unknown_marker, 0);
  }
  expect_error(hex("11 0A 0B 01"), errc::amf_unsupported_amf3, 0);
  // Inside containers the offset points at the offending marker.
  expect_error(hex("03 0001 'a' 11 04 01 000009"), errc::amf_unsupported_amf3, 4);
  expect_error(hex("0A 00000001 09"), errc::amf_unknown_marker, 5);
  expect_error(hex("03 0001 'a' 09"), errc::amf_unknown_marker, 4);
  expect_error(hex("08 00000001 0001 'a' 0D 000009"), errc::amf_unknown_marker, 8);
}

TEST(amf0_hostile, missing_object_end) {
  expect_error(hex("03"), errc::amf_missing_object_end, 1);
  expect_error(hex("03 0001 'a' 05"), errc::amf_missing_object_end, 5);
  expect_error(hex("08 00000001 0001 'a' 05"), errc::amf_missing_object_end, 9);
  expect_error(hex("03 0000 05"), errc::amf_missing_object_end, 4);  // empty key + null, then EOF
  expect_error(hex("03 0000 00"), errc::amf_truncated, 4);           // 00 00 00: a number, truncated
  // An empty key followed by a value is an ordinary property.
  amf0::value v;
  ASSERT_FALSE(amf0::decode(hex("03 0000 05 000009"), v).ec);
  ASSERT_NE(v.get(""), nullptr);
  EXPECT_TRUE(v.get("")->is_null());
}

}  // namespace
