#include "rtmp/proto/command.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "rtmp/error.hpp"
#include "support/files.hpp"
#include "support/bytes.hpp"

namespace {
using rtmp::test::read_capture;

using rtmp::test::concat;
using rtmp::test::hex;
using rtmp::test::repeat;

namespace amf0 = rtmp::proto::amf0;
namespace proto = rtmp::proto;
using bytes = std::vector<std::uint8_t>;
using rtmp::errc;

bytes slice(const bytes& b, std::size_t from, std::size_t n) {
  return bytes(b.begin() + static_cast<std::ptrdiff_t>(from),
               b.begin() + static_cast<std::ptrdiff_t>(from + n));
}

// Encodes, parses back and checks that nothing changed.
proto::command round_trip(const proto::command& c) {
  const bytes wire = proto::encode_command(c);
  EXPECT_FALSE(wire.empty());
  const proto::command_parse_result r = proto::parse_command(wire);
  EXPECT_TRUE(r.ok()) << r.ec.message() << " at " << r.offset;
  EXPECT_EQ(r.offset, wire.size());
  EXPECT_EQ(r.cmd.name, c.name);
  EXPECT_EQ(r.cmd.transaction_id, c.transaction_id);
  EXPECT_EQ(r.cmd.command_object, c.command_object);
  EXPECT_EQ(r.cmd.arguments, c.arguments);
  return r.cmd;
}

std::vector<std::string> keys(const amf0::value& v) {
  std::vector<std::string> out;
  if (v.properties()) {
    for (const amf0::property& p : *v.properties()) out.push_back(p.key);
  }
  return out;
}

// --- golden vectors from the ffmpeg publish capture --------------------------------------

// The client->server stream: C0 (1 byte), C1 and C2 (1536 bytes each), then
// chunks. The connect command is a 140-byte message split at the default
// 128-byte chunk size: type-0 header, 128 bytes, fmt-3 header 0xC3, 12 bytes.
TEST(command_golden, ffmpeg_connect_from_capture) {
  const bytes cap = read_capture("ffmpeg-publish.c2s.bin");
  constexpr std::size_t chunk_at = 1 + 1536 + 1536;
  ASSERT_GE(cap.size(), chunk_at + 12 + 128 + 1 + 12);
  EXPECT_EQ(cap[0], 3);
  ASSERT_EQ(slice(cap, chunk_at, 12), hex("03 000000 00008c 14 00000000"));
  ASSERT_EQ(cap[chunk_at + 12 + 128], 0xC3);
  const bytes payload = concat({slice(cap, chunk_at + 12, 128), slice(cap, chunk_at + 12 + 128 + 1, 12)});
  ASSERT_EQ(payload.size(), 140u);

  const proto::command_parse_result r = proto::parse_command(payload);
  ASSERT_TRUE(r.ok()) << r.ec.message() << " at " << r.offset;
  EXPECT_EQ(r.offset, 140u);
  const proto::command& c = r.cmd;
  EXPECT_EQ(c.name, "connect");
  EXPECT_EQ(c.transaction_id, 1.0);
  EXPECT_TRUE(c.arguments.empty());
  ASSERT_TRUE(c.command_object.is_object());
  EXPECT_EQ(keys(c.command_object), (std::vector<std::string>{"app", "type", "flashVer", "tcUrl"}));
  EXPECT_EQ(c.command_object.get("app")->as_string(), "live");
  EXPECT_EQ(c.command_object.get("type")->as_string(), "nonprivate");
  EXPECT_EQ(c.command_object.get("flashVer")->as_string(), "FMLE/3.0 (compatible; Lavf59.27.100)");
  // The port is 19400: the chunk boundary (0xC3) falls inside "1|9400".
  EXPECT_EQ(c.command_object.get("tcUrl")->as_string(), "rtmp://127.0.0.1:19400/live");

  proto::connect_request req;
  ASSERT_FALSE(proto::read_connect(c, req));
  EXPECT_EQ(req.app, "live");
  EXPECT_EQ(req.type, "nonprivate");
  EXPECT_EQ(req.tc_url, "rtmp://127.0.0.1:19400/live");
  EXPECT_EQ(req.flash_ver, "FMLE/3.0 (compatible; Lavf59.27.100)");
  EXPECT_EQ(req.swf_url, "");
  EXPECT_EQ(req.object_encoding, 0.0);

  // Re-encoding reproduces the wire bytes exactly.
  EXPECT_EQ(proto::encode_command(c), payload);

  // T-24: every truncation fails cleanly, except at top-level value
  // boundaries (10 = name only, 19 = name + transaction id) which parse as
  // shorter, tolerated commands.
  for (std::size_t len = 0; len < payload.size(); ++len) {
    const proto::command_parse_result t = proto::parse_command(slice(payload, 0, len));
    if (len == 10 || len == 19) {
      EXPECT_TRUE(t.ok()) << len;
      EXPECT_TRUE(t.cmd.command_object.is_null());
    } else {
      EXPECT_FALSE(t.ok()) << "prefix " << len;
      EXPECT_TRUE(t.ec == errc::amf_truncated || t.ec == errc::amf_missing_object_end) << t.ec.message();
    }
  }
}

// The publisher's metadata: @setDataFrame("onMetaData", ecma{...}) in one
// 309-byte type-18 message on chunk stream 4 (ffmpeg set the chunk size to
// 4096 right after connect).
TEST(command_golden, ffmpeg_set_data_frame_from_capture) {
  const bytes cap = read_capture("ffmpeg-publish.c2s.bin");
  const std::string_view needle = "@setDataFrame";
  const auto it = std::search(cap.begin(), cap.end(), needle.begin(), needle.end());
  ASSERT_NE(it, cap.end());
  const std::size_t payload_at = static_cast<std::size_t>(it - cap.begin()) - 3;
  ASSERT_EQ(slice(cap, payload_at - 12, 12), hex("04 000000 000135 12 01000000"));
  const bytes payload = slice(cap, payload_at, 0x135);

  std::vector<amf0::value> values;
  const amf0::decode_result d = proto::parse_data_message(payload, values);
  ASSERT_TRUE(d.ok()) << d.ec.message();
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0].as_string(), "@setDataFrame");

  const proto::set_data_frame_result r = proto::strip_set_data_frame(payload);
  ASSERT_TRUE(r.ok()) << r.ec.message();
  EXPECT_TRUE(r.wrapped);
  ASSERT_EQ(r.values.size(), 2u);
  EXPECT_EQ(r.values[0].as_string(), "onMetaData");
  const amf0::value& meta = r.values[1];
  ASSERT_TRUE(meta.is_ecma_array());
  EXPECT_EQ(meta.properties()->size(), 13u);
  EXPECT_EQ(meta.get("width")->as_number(), 1280.0);
  EXPECT_EQ(meta.get("height")->as_number(), 720.0);
  EXPECT_EQ(meta.get("framerate")->as_number(), 30.0);
  EXPECT_EQ(meta.get("videocodecid")->as_number(), 7.0);
  EXPECT_EQ(meta.get("audiocodecid")->as_number(), 10.0);
  EXPECT_EQ(meta.get("audiosamplerate")->as_number(), 48000.0);
  ASSERT_TRUE(meta.get("stereo")->is_bool());
  EXPECT_FALSE(meta.get("stereo")->as_bool(true));  // mono test tone
  EXPECT_EQ(meta.get("encoder")->as_string(), "Lavf59.27.100");
  // The stripped payload is the original bytes from "onMetaData" on
  // (ffmpeg writes a correct ECMA count, so re-encoding is byte-exact).
  EXPECT_EQ(r.payload, slice(payload, 16, payload.size() - 16));
  EXPECT_EQ(proto::on_metadata_message(meta), r.payload);
  EXPECT_EQ(proto::set_data_frame_message(meta), payload);
}

// --- parse_command tolerance and errors (HOSTILE T-27) ----------------------------------------

TEST(command_parse, tolerant_command_object_and_transaction) {
  // Command object missing, null, undefined, number, string.
  for (const char* obj : {"", "05", "06", "00 4000000000000000", "02 0001 'x'"}) {
    const bytes wire = concat({hex("02 0004 'play' 00 4008000000000000"), hex(obj)});
    const proto::command_parse_result r = proto::parse_command(wire);
    ASSERT_TRUE(r.ok()) << obj;
    EXPECT_EQ(r.cmd.name, "play");
    EXPECT_EQ(r.cmd.transaction_id, 3.0);
  }
  proto::command_parse_result r = proto::parse_command(hex("02 0004 'play' 00 4008000000000000 00 4000000000000000"));
  EXPECT_EQ(r.cmd.command_object, amf0::value(2));

  // Missing, null and undefined transaction ids are 0.
  r = proto::parse_command(hex("02 000c 'createStream'"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.cmd.transaction_id, 0.0);
  EXPECT_TRUE(r.cmd.command_object.is_null());
  r = proto::parse_command(hex("02 000c 'createStream' 05 05"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.cmd.transaction_id, 0.0);
  r = proto::parse_command(hex("02 000c 'createStream' 06 05 02 0001 'a' 01 01"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.cmd.transaction_id, 0.0);
  ASSERT_EQ(r.cmd.arguments.size(), 2u);
  EXPECT_EQ(r.cmd.arguments[1], amf0::value(true));
}

TEST(command_parse, wrong_typed_name_and_transaction) {
  proto::command_parse_result r = proto::parse_command(hex("00 3FF0000000000000 00 3FF0000000000000"));
  EXPECT_EQ(r.ec, make_error_code(errc::amf_unexpected_type));
  EXPECT_EQ(r.offset, 0u);
  r = proto::parse_command(hex("05"));
  EXPECT_EQ(r.ec, make_error_code(errc::amf_unexpected_type));
  // Transaction id as a string.
  r = proto::parse_command(hex("02 0007 'publish' 02 0001 '1' 05 02 0001 's'"));
  EXPECT_EQ(r.ec, make_error_code(errc::amf_unexpected_type));
  EXPECT_EQ(r.offset, 10u);
  r = proto::parse_command(hex("02 0007 'publish' 01 01"));
  EXPECT_EQ(r.ec, make_error_code(errc::amf_unexpected_type));
  // Empty payload.
  r = proto::parse_command({});
  EXPECT_EQ(r.ec, make_error_code(errc::amf_truncated));
  EXPECT_EQ(r.offset, 0u);
  // Decode errors later in the payload keep their offset.
  r = proto::parse_command(hex("02 0004 'play' 00 4008000000000000 05 02 0001 'a' 11"));
  EXPECT_EQ(r.ec, make_error_code(errc::amf_unsupported_amf3));
  EXPECT_EQ(r.offset, 21u);
  r = proto::parse_command(hex("02 0004 'play' 00 40080000"));
  EXPECT_EQ(r.ec, make_error_code(errc::amf_truncated));
  EXPECT_EQ(r.offset, 8u);
  r = proto::parse_command(hex("02 0004 'play' 00 4008000000000000 03 0001 'a' 05"));
  EXPECT_EQ(r.ec, make_error_code(errc::amf_missing_object_end));
}

TEST(command_parse, amf3_command_message_type_17) {
  const bytes amf0_body = proto::encode_command(proto::create_stream_command(4));
  proto::command_parse_result r = proto::parse_command(concat({hex("00"), amf0_body}), true);
  ASSERT_TRUE(r.ok()) << r.ec.message();
  EXPECT_EQ(r.cmd.name, "createStream");
  EXPECT_EQ(r.cmd.transaction_id, 4.0);
  EXPECT_EQ(r.offset, amf0_body.size() + 1);
  // Without the format byte it is still read as AMF0.
  r = proto::parse_command(amf0_body, true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.cmd.name, "createStream");
  // Without the flag the leading 0x00 is a Number: not a command name.
  r = proto::parse_command(concat({hex("00"), amf0_body}), false);
  EXPECT_FALSE(r.ok());
  // An AVM+ switch inside a type-17 command is refused, offsets count the format byte.
  r = proto::parse_command(hex("00 02 0007 'connect' 00 3FF0000000000000 11 0A 0B 01"), true);
  EXPECT_EQ(r.ec, make_error_code(errc::amf_unsupported_amf3));
  EXPECT_EQ(r.offset, 20u);
  r = proto::parse_command(hex("00"), true);
  EXPECT_EQ(r.ec, make_error_code(errc::amf_truncated));
  EXPECT_EQ(r.offset, 1u);
}

TEST(command_parse, deep_nesting_in_connect_T25) {
  for (std::size_t n : {100u, 5000u, 20000u, 40000u, 140000u}) {
    const bytes wire = concat({hex("02 0007 'connect' 00 3FF0000000000000 03"), repeat(hex("0001 'a' 03"), n),
                               hex("0001 'a' 05"), repeat(hex("000009"), n + 1)});
    const proto::command_parse_result r = proto::parse_command(wire);
    EXPECT_EQ(r.ec, make_error_code(errc::amf_depth_exceeded)) << n;
    EXPECT_EQ(r.offset, 19u + 64u * 4u) << n;  // the 65th object marker
  }
  // Strict arrays and ECMA arrays as arguments.
  const bytes arrays = concat({hex("02 0004 'play' 00 4008000000000000 05"), repeat(hex("0A 00000001"), 100000), hex("05")});
  EXPECT_EQ(proto::parse_command(arrays).ec, make_error_code(errc::amf_depth_exceeded));
  const bytes ecmas = concat({hex("02 0004 'play' 00 4008000000000000 05"),
                              repeat(hex("08 00000001 0001 'a'"), 100000), hex("05")});
  EXPECT_EQ(proto::parse_command(ecmas).ec, make_error_code(errc::amf_depth_exceeded));
}

TEST(command_parse, node_budget_is_per_message) {
  // 3,000 arguments of 2 values each exceed the 4,096 budget of one command.
  const bytes wire = concat({hex("02 0004 'test' 00 0000000000000000 05"), repeat(hex("0A 00000001 05"), 3000)});
  EXPECT_EQ(proto::parse_command(wire).ec, make_error_code(errc::amf_too_many_nodes));
  amf0::decode_limits roomy;
  roomy.max_nodes = 10000;
  const proto::command_parse_result r = proto::parse_command(wire, false, roomy);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.cmd.arguments.size(), 3000u);
}

// --- typed readers (wrong-typed arguments, T-27) ------------------------------------------------

TEST(command_read, publish) {
  proto::publish_request p;
  ASSERT_FALSE(proto::read_publish(round_trip(proto::publish_command(5, "stream?key=1", "record")), p));
  EXPECT_EQ(p.stream_name, "stream?key=1");
  EXPECT_EQ(p.type, "record");

  proto::command c = proto::parse_command(hex("02 0007 'publish' 00 4014000000000000 05 02 0001 's'")).cmd;
  ASSERT_FALSE(proto::read_publish(c, p));
  EXPECT_EQ(p.stream_name, "s");
  EXPECT_EQ(p.type, "live");  // missing type

  c.arguments.push_back(12);  // wrong-typed type
  ASSERT_FALSE(proto::read_publish(c, p));
  EXPECT_EQ(p.type, "live");

  // publish(false)
  c = proto::parse_command(hex("02 0007 'publish' 00 4014000000000000 05 01 00")).cmd;
  EXPECT_EQ(proto::read_publish(c, p), make_error_code(errc::command_malformed));
  // publish() with no argument
  c = proto::parse_command(hex("02 0007 'publish' 00 4014000000000000 05")).cmd;
  EXPECT_EQ(proto::read_publish(c, p), make_error_code(errc::command_malformed));
}

TEST(command_read, play) {
  proto::play_request p;
  ASSERT_FALSE(proto::read_play(round_trip(proto::play_command(4, "cam")), p));
  EXPECT_EQ(p.stream_name, "cam");
  EXPECT_EQ(p.start, -2000.0);
  EXPECT_EQ(p.duration, -1.0);
  EXPECT_TRUE(p.reset);

  proto::command c = proto::play_command(4, "cam", 0);
  c.arguments.push_back(10);
  c.arguments.push_back(false);
  ASSERT_FALSE(proto::read_play(c, p));
  EXPECT_EQ(p.start, 0.0);
  EXPECT_EQ(p.duration, 10.0);
  EXPECT_FALSE(p.reset);

  // Wrong-typed optional arguments keep their defaults.
  c.arguments = {"cam", "soon", amf0::null, "yes"};
  ASSERT_FALSE(proto::read_play(c, p));
  EXPECT_EQ(p.start, -2.0);
  EXPECT_EQ(p.duration, -1.0);
  EXPECT_TRUE(p.reset);

  // play(123)
  c = proto::parse_command(hex("02 0004 'play' 00 4010000000000000 05 00 405EC00000000000")).cmd;
  EXPECT_EQ(proto::read_play(c, p), make_error_code(errc::command_malformed));
  c.arguments.clear();
  EXPECT_EQ(proto::read_play(c, p), make_error_code(errc::command_malformed));
}

TEST(command_read, connect) {
  proto::connect_params params;
  params.app = "live";
  params.tc_url = "rtmp://h/live";
  params.swf_url = "http://h/p.swf";
  params.page_url = "http://h/";
  params.object_encoding = 3;
  proto::connect_request req;
  ASSERT_FALSE(proto::read_connect(round_trip(proto::connect_command(1, params)), req));
  EXPECT_EQ(req.app, "live");
  EXPECT_EQ(req.tc_url, "rtmp://h/live");
  EXPECT_EQ(req.swf_url, "http://h/p.swf");
  EXPECT_EQ(req.page_url, "http://h/");
  EXPECT_EQ(req.type, "nonprivate");
  EXPECT_EQ(req.object_encoding, 3.0);

  // Command object as a number, null, or without a string app.
  proto::command c = proto::connect_command(1, params);
  c.command_object = 7;
  EXPECT_EQ(proto::read_connect(c, req), make_error_code(errc::command_malformed));
  c.command_object = amf0::null;
  EXPECT_EQ(proto::read_connect(c, req), make_error_code(errc::command_malformed));
  c.command_object = amf0::object{{"app", 1}};
  EXPECT_EQ(proto::read_connect(c, req), make_error_code(errc::command_malformed));
  // ECMA array command object, wrong-typed optional fields, odd objectEncoding.
  c.command_object = amf0::ecma_array{{"app", "x"}, {"tcUrl", 5}, {"objectEncoding", 2}};
  ASSERT_FALSE(proto::read_connect(c, req));
  EXPECT_EQ(req.app, "x");
  EXPECT_EQ(req.tc_url, "");
  EXPECT_EQ(req.object_encoding, 0.0);
}

TEST(command_read, argument_accessors) {
  const proto::command c = proto::delete_stream_command(7, 1);
  EXPECT_EQ(proto::number_argument(c, 0), 1.0);
  EXPECT_EQ(proto::number_argument(c, 1), std::nullopt);
  EXPECT_EQ(proto::string_argument(c, 0), std::nullopt);
  EXPECT_EQ(proto::string_argument(proto::fc_unpublish_command(1, "s"), 0), "s");
  EXPECT_EQ(c.argument(1), nullptr);
  // FCUnpublish(obj): the name is not a string.
  proto::command odd = proto::fc_unpublish_command(1, "s");
  odd.arguments[0] = amf0::object{{"name", "s"}};
  EXPECT_EQ(proto::string_argument(odd, 0), std::nullopt);
}

// --- server builders --------------------------------------------------------------------------

TEST(command_build, connect_result) {
  const proto::command c = round_trip(proto::connect_result(1, 3));
  EXPECT_EQ(c.name, "_result");
  EXPECT_EQ(c.transaction_id, 1.0);
  EXPECT_EQ(c.command_object, amf0::value(amf0::object{
                                  {"fmsVer", "FMS/3,0,1,123"}, {"capabilities", 31}, {"mode", 1}}));
  ASSERT_EQ(c.arguments.size(), 1u);
  EXPECT_EQ(c.arguments[0], amf0::value(amf0::object{
                                {"level", "status"},
                                {"code", "NetConnection.Connect.Success"},
                                {"description", "Connection succeeded."},
                                {"objectEncoding", 3},
                            }));
  const auto s = proto::read_status(c);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->level, "status");
  EXPECT_EQ(s->code, "NetConnection.Connect.Success");
  EXPECT_EQ(s->description, "Connection succeeded.");
  // Anything but 3 echoes as 0.
  EXPECT_EQ(proto::connect_result(1, 0).arguments[0].get("objectEncoding")->as_number(), 0.0);
  EXPECT_EQ(proto::connect_result(1, 17).arguments[0].get("objectEncoding")->as_number(), 0.0);
}

TEST(command_build, create_stream_result_golden) {
  const proto::command c = round_trip(proto::create_stream_result(4, 1));
  EXPECT_EQ(proto::encode_command(c),
            hex("02 0007 '_result' 00 4010000000000000 05 00 3FF0000000000000"));
}

TEST(command_build, error_result) {
  const proto::command c = round_trip(proto::error_result(2, "NetConnection.Connect.Rejected", "no"));
  EXPECT_EQ(c.name, "_error");
  EXPECT_TRUE(c.command_object.is_null());
  const auto s = proto::read_status(c);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->level, "error");
  EXPECT_EQ(s->code, "NetConnection.Connect.Rejected");
  EXPECT_EQ(s->description, "no");
  EXPECT_EQ(keys(c.arguments[0]), (std::vector<std::string>{"level", "code", "description"}));
}

TEST(command_build, on_status) {
  const proto::command plain = round_trip(proto::on_status("status", "NetStream.Publish.Start", "cam is now published."));
  EXPECT_EQ(plain.name, "onStatus");
  EXPECT_EQ(plain.transaction_id, 0.0);
  EXPECT_TRUE(plain.command_object.is_null());
  EXPECT_EQ(keys(plain.arguments[0]), (std::vector<std::string>{"level", "code", "description"}));

  proto::status_info info;
  info.level = "status";
  info.code = "NetStream.Play.Start";
  info.description = "Started playing cam.";
  info.details = "cam";
  info.client_id = "ASAICiss";
  const proto::command full = round_trip(proto::on_status(info));
  EXPECT_EQ(keys(full.arguments[0]),
            (std::vector<std::string>{"level", "code", "description", "details", "clientid"}));
  const auto s = proto::read_status(full);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, "NetStream.Play.Start");
  EXPECT_EQ(s->details, "cam");
  EXPECT_EQ(s->client_id, amf0::value("ASAICiss"));
  EXPECT_EQ(proto::encode_command(proto::on_status(*s)), proto::encode_command(full));
}

TEST(command_build, read_status_variants) {
  // Info in the command object (some servers), wrong-typed fields read as empty.
  proto::command c;
  c.name = "onStatus";
  c.command_object = amf0::ecma_array{{"level", "error"}, {"code", 404}};
  auto s = proto::read_status(c);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->level, "error");
  EXPECT_EQ(s->code, "");
  EXPECT_TRUE(s->client_id.is_undefined());
  // The first object-like argument wins over the command object.
  c.arguments = {amf0::null, "x", amf0::object{{"code", "A"}}, amf0::object{{"code", "B"}}};
  s = proto::read_status(c);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->code, "A");
  // No object at all.
  c.command_object = amf0::null;
  c.arguments = {1, "x"};
  EXPECT_FALSE(proto::read_status(c));
}

TEST(command_build, fc_publish_bw_done_and_sample_access) {
  const proto::command p = round_trip(proto::on_fc_publish("NetStream.Publish.Start", "cam"));
  EXPECT_EQ(p.name, "onFCPublish");
  EXPECT_EQ(p.transaction_id, 0.0);
  EXPECT_EQ(p.arguments[0], amf0::value(amf0::object{{"code", "NetStream.Publish.Start"}, {"description", "cam"}}));
  const proto::command u = round_trip(proto::on_fc_unpublish("NetStream.Unpublish.Success", "cam"));
  EXPECT_EQ(u.name, "onFCUnpublish");
  EXPECT_EQ(proto::encode_command(proto::on_bw_done()), hex("02 0008 'onBWDone' 00 0000000000000000 05"));
  EXPECT_EQ(proto::sample_access_message(true, false), hex("02 0011 '|RtmpSampleAccess' 01 01 01 00"));
  EXPECT_EQ(proto::sample_access_message(), hex("02 0011 '|RtmpSampleAccess' 01 01 01 01"));
}

// --- data messages ----------------------------------------------------------------------------------

TEST(command_data, set_data_frame_with_leading_numbers) {
  const amf0::value meta = amf0::ecma_array{{"width", 640}, {"height", 360}};
  const bytes expected = proto::on_metadata_message(meta);
  ASSERT_EQ(proto::set_data_frame_message(meta).size(), expected.size() + 16);
  for (const char* prefix : {"", "00 0000000000000000", "00 0000000000000000 00 3FF0000000000000"}) {
    const bytes wire = concat({hex(prefix), proto::set_data_frame_message(meta)});
    const proto::set_data_frame_result r = proto::strip_set_data_frame(wire);
    ASSERT_TRUE(r.ok()) << prefix;
    EXPECT_TRUE(r.wrapped);
    EXPECT_EQ(r.payload, expected);
    ASSERT_EQ(r.values.size(), 2u);
    EXPECT_EQ(r.values[1], meta);
  }
  // Three leading numbers are not tolerated: the payload is returned as is.
  const bytes three = concat({hex("00 0000000000000000 00 0000000000000000 00 0000000000000000"),
                              proto::set_data_frame_message(meta)});
  const proto::set_data_frame_result r3 = proto::strip_set_data_frame(three);
  ASSERT_TRUE(r3.ok());
  EXPECT_FALSE(r3.wrapped);
  EXPECT_EQ(r3.payload, three);
}

TEST(command_data, no_wrapper_passes_through) {
  const bytes plain = proto::on_metadata_message(amf0::object{{"duration", 0}});
  const proto::set_data_frame_result r = proto::strip_set_data_frame(plain);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.wrapped);
  EXPECT_EQ(r.payload, plain);
  // Leading numbers without a wrapper are kept.
  const bytes numbered = concat({hex("00 0000000000000000"), plain});
  EXPECT_EQ(proto::strip_set_data_frame(numbered).payload, numbered);
  // Empty payload: nothing to do.
  const proto::set_data_frame_result e = proto::strip_set_data_frame({});
  EXPECT_TRUE(e.ok());
  EXPECT_TRUE(e.payload.empty());
}

TEST(command_data, malformed_set_data_frame) {
  proto::set_data_frame_result r = proto::strip_set_data_frame(hex("02 000d '@setDataFrame'"));
  EXPECT_EQ(r.ec, make_error_code(errc::command_malformed));
  EXPECT_TRUE(r.values.empty());
  r = proto::strip_set_data_frame(hex("02 000d '@setDataFrame' 00 0000000000000000 08 00000000 000009"));
  EXPECT_EQ(r.ec, make_error_code(errc::command_malformed));
  r = proto::strip_set_data_frame(hex("02 000d '@setDataFrame' 02 000a 'onMetaData' 08 00000001 0001 'a'"));
  EXPECT_EQ(r.ec, make_error_code(errc::amf_truncated));
  EXPECT_EQ(r.offset, 37u);
  EXPECT_TRUE(r.values.empty());
  // T-25 inside @setDataFrame/onMetaData.
  const bytes deep = concat({hex("02 000d '@setDataFrame' 02 000a 'onMetaData'"),
                             repeat(hex("08 00000001 0001 'a'"), 100000), hex("05")});
  EXPECT_EQ(proto::strip_set_data_frame(deep).ec, make_error_code(errc::amf_depth_exceeded));
  std::vector<amf0::value> values;
  EXPECT_EQ(proto::parse_data_message(deep, values).ec, make_error_code(errc::amf_depth_exceeded));
  // The AVM+ switch in a data message.
  r = proto::strip_set_data_frame(hex("02 000d '@setDataFrame' 02 000a 'onMetaData' 11 0A"));
  EXPECT_EQ(r.ec, make_error_code(errc::amf_unsupported_amf3));
}

TEST(command_data, metadata_limits_allow_big_metadata) {
  // A keyframe index with 10,000 entries exceeds the command budget but fits metadata.
  amf0::strict_array times;
  for (int i = 0; i < 10000; ++i) times.push_back(i);
  const bytes wire = proto::on_metadata_message(amf0::ecma_array{{"keyframes", amf0::object{{"times", times}}}});
  std::vector<amf0::value> values;
  EXPECT_TRUE(proto::parse_data_message(wire, values).ok());
  EXPECT_EQ(proto::parse_data_message(wire, values, amf0::command_limits()).ec,
            make_error_code(errc::amf_too_many_nodes));
}

// --- client builders -----------------------------------------------------------------------------

TEST(command_build, client_connect) {
  proto::connect_params params;
  params.app = "live";
  params.tc_url = "rtmp://127.0.0.1:1935/live";
  const proto::command c = round_trip(proto::connect_command(1, params));
  EXPECT_EQ(c.name, "connect");
  EXPECT_EQ(c.transaction_id, 1.0);
  EXPECT_TRUE(c.arguments.empty());
  EXPECT_EQ(keys(c.command_object),
            (std::vector<std::string>{"app", "type", "flashVer", "tcUrl", "fpad", "capabilities", "audioCodecs",
                                      "videoCodecs", "videoFunction", "objectEncoding"}));
  EXPECT_EQ(c.command_object.get("type")->as_string(), "nonprivate");
  EXPECT_EQ(c.command_object.get("flashVer")->as_string(), params.flash_ver);
  EXPECT_EQ(c.command_object.get("fpad")->as_bool(true), false);
  EXPECT_EQ(c.command_object.get("capabilities")->as_number(), 15.0);
  EXPECT_EQ(c.command_object.get("audioCodecs")->as_number(), 4071.0);
  EXPECT_EQ(c.command_object.get("videoCodecs")->as_number(), 252.0);
  EXPECT_EQ(c.command_object.get("videoFunction")->as_number(), 1.0);
  EXPECT_EQ(c.command_object.get("objectEncoding")->as_number(), 0.0);

  params.swf_url = "s";
  params.page_url = "p";
  EXPECT_EQ(keys(proto::connect_command(1, params).command_object),
            (std::vector<std::string>{"app", "type", "flashVer", "swfUrl", "tcUrl", "fpad", "capabilities",
                                      "audioCodecs", "videoCodecs", "videoFunction", "pageUrl",
                                      "objectEncoding"}));
}

TEST(command_build, client_stream_commands) {
  struct expectation {
    proto::command cmd;
    const char* name;
    double txn;
    std::vector<amf0::value> args;
  };
  const std::vector<expectation> cases = {
      {proto::release_stream_command(2, "cam"), "releaseStream", 2, {"cam"}},
      {proto::fc_publish_command(3, "cam"), "FCPublish", 3, {"cam"}},
      {proto::create_stream_command(4), "createStream", 4, {}},
      {proto::publish_command(5, "cam"), "publish", 5, {"cam", "live"}},
      {proto::play_command(6, "cam"), "play", 6, {"cam", -2000}},
      {proto::delete_stream_command(7, 1), "deleteStream", 7, {1}},
      {proto::close_stream_command(), "closeStream", 0, {}},
      {proto::fc_unpublish_command(8, "cam"), "FCUnpublish", 8, {"cam"}},
      {proto::get_stream_length_command(9, "cam"), "getStreamLength", 9, {"cam"}},
  };
  for (const expectation& e : cases) {
    const proto::command c = round_trip(e.cmd);
    EXPECT_EQ(c.name, e.name);
    EXPECT_EQ(c.transaction_id, e.txn) << e.name;
    EXPECT_TRUE(c.command_object.is_null()) << e.name;
    EXPECT_EQ(c.arguments, e.args) << e.name;
  }
  // Golden bytes for the common publish sequence.
  EXPECT_EQ(proto::encode_command(proto::publish_command(5, "cam")),
            hex("02 0007 'publish' 00 4014000000000000 05 02 0003 'cam' 02 0004 'live'"));
  EXPECT_EQ(proto::encode_command(proto::create_stream_command(4)),
            hex("02 000c 'createStream' 00 4010000000000000 05"));
}

TEST(command_build, encode_failure_is_reported) {
  proto::command c = proto::on_status("status", "x", "y");
  c.arguments[0].as_object()->set(std::string(70000, 'k'), 1);
  EXPECT_TRUE(proto::encode_command(c).empty());
  bytes out = {9};
  EXPECT_EQ(proto::encode_command(c, out), make_error_code(errc::amf_string_too_long));
  EXPECT_EQ(out, bytes{9});
  c.arguments.clear();
  c.command_object = amf0::object{{std::string(70000, 'k'), 1}};
  EXPECT_EQ(proto::encode_command(c, out), make_error_code(errc::amf_string_too_long));
  EXPECT_EQ(out, bytes{9});
  const amf0::value bad = amf0::object{{std::string(70000, 'k'), 1}};
  EXPECT_TRUE(proto::on_metadata_message(bad).empty());
  EXPECT_TRUE(proto::set_data_frame_message(bad).empty());
}

}  // namespace
