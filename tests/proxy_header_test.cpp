// The PROXY protocol header (HAProxy's proxy-protocol.txt): v1 lines and v2
// binary headers, read in pieces, what they relay, and what is refused.
#include "rtmp/proto/proxy_header.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rtmp::proto {
namespace {

using bytes = std::vector<std::uint8_t>;

bytes of(const std::string& s) { return bytes(s.begin(), s.end()); }

proxy_parse_result parse(const bytes& b) { return parse_proxy_header(b); }

bytes v2(std::uint8_t ver_cmd, std::uint8_t family, const bytes& block) {
  bytes b = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, ver_cmd, family,
             static_cast<std::uint8_t>(block.size() >> 8), static_cast<std::uint8_t>(block.size())};
  b.insert(b.end(), block.begin(), block.end());
  return b;
}

TEST(proxy_header, v1_tcp4_names_the_client_and_leaves_what_follows) {
  const bytes in = of("PROXY TCP4 203.0.113.7 192.0.2.1 56324 1935\r\n\x03rest");
  const auto r = parse(in);
  ASSERT_EQ(r.status, proxy_status::done) << r.why;
  EXPECT_EQ(r.used, in.size() - 5);
  EXPECT_TRUE(r.source.relayed);
  EXPECT_EQ(r.source.address, "203.0.113.7");
  EXPECT_EQ(r.source.port, 56324);
}

TEST(proxy_header, v1_tcp6_and_unknown) {
  auto r = parse(of("PROXY TCP6 2001:db8::7 2001:db8::1 4000 1935\r\n"));
  ASSERT_EQ(r.status, proxy_status::done) << r.why;
  EXPECT_EQ(r.source.address, "2001:db8::7");
  EXPECT_EQ(r.source.port, 4000);
  r = parse(of("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"));
  ASSERT_EQ(r.status, proxy_status::done);
  EXPECT_FALSE(r.source.relayed) << "UNKNOWN keeps the connection's own address";
  r = parse(of("PROXY UNKNOWN\r\n"));
  EXPECT_EQ(r.status, proxy_status::done);
}

TEST(proxy_header, every_prefix_needs_more_and_the_whole_is_done) {
  const bytes line = of("PROXY TCP4 198.51.100.22 203.0.113.7 35646 80\r\n");
  for (std::size_t n = 0; n < line.size(); ++n) {
    EXPECT_EQ(parse(bytes(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(n))).status,
              proxy_status::need_more)
        << n;
  }
  EXPECT_EQ(parse(line).status, proxy_status::done);
  const bytes bin = v2(0x21, 0x11, {203, 0, 113, 7, 192, 0, 2, 1, 0xDC, 0x04, 0x07, 0x8F});
  for (std::size_t n = 0; n < bin.size(); ++n) {
    EXPECT_EQ(parse(bytes(bin.begin(), bin.begin() + static_cast<std::ptrdiff_t>(n))).status,
              proxy_status::need_more)
        << n;
  }
}

TEST(proxy_header, malformed_v1_lines_are_refused) {
  for (const char* line : {"PROXY TCP4 203.0.113.7 192.0.2.1 56324\r\n",          // a field missing
                           "PROXY TCP4 203.0.113.7 192.0.2.1 56324 1935 9\r\n",   // one too many
                           "PROXY TCP4 203.0.113.07 192.0.2.1 56324 1935\r\n",    // leading zero
                           "PROXY TCP4 2001:db8::7 192.0.2.1 56324 1935\r\n",     // the wrong family
                           "PROXY TCP4 203.0.113.7 192.0.2.1 65536 1935\r\n",     // port out of range
                           "PROXY TCP4 203.0.113.7 192.0.2.1 056 1935\r\n",       // port with a leading zero
                           "PROXY UDP4 203.0.113.7 192.0.2.1 56324 1935\r\n",     // not TCP
                           "PROXY TCP4 203.0.113.7 192.0.2.1 56324 1935\n"}) {    // LF without CR
    const auto r = parse(of(line));
    EXPECT_EQ(r.status, proxy_status::invalid) << line;
    EXPECT_STRNE(r.why, "") << line;
  }
  EXPECT_EQ(parse(bytes(200, 'P')).status, proxy_status::invalid);
  bytes endless = of("PROXY UNKNOWN ");
  endless.resize(120, 'x');
  EXPECT_EQ(parse(endless).status, proxy_status::invalid) << "no CRLF in 107 bytes";
}

TEST(proxy_header, rtmp_without_a_header_is_refused_at_the_first_byte) {
  EXPECT_EQ(parse(bytes{0x03}).status, proxy_status::invalid) << "C0 of an RTMP handshake";
  EXPECT_EQ(parse(of("GET / HTTP/1.1\r\n")).status, proxy_status::invalid);
}

TEST(proxy_header, v2_proxy_over_tcp4_and_tcp6) {
  auto r = parse(v2(0x21, 0x11, {203, 0, 113, 7, 192, 0, 2, 1, 0xDC, 0x04, 0x07, 0x8F}));
  ASSERT_EQ(r.status, proxy_status::done) << r.why;
  EXPECT_EQ(r.used, 28u);
  EXPECT_EQ(r.source.address, "203.0.113.7");
  EXPECT_EQ(r.source.port, 0xDC04);
  bytes six(36, 0);
  six[0] = 0x20;
  six[1] = 0x01;
  six[2] = 0x0d;
  six[3] = 0xb8;
  six[15] = 7;
  six[32] = 0x0F;
  six[33] = 0xA0;
  r = parse(v2(0x21, 0x21, six));
  ASSERT_EQ(r.status, proxy_status::done) << r.why;
  EXPECT_EQ(r.source.address, "2001:db8::7");
  EXPECT_EQ(r.source.port, 4000);
}

TEST(proxy_header, v2_tlvs_are_skipped_and_local_keeps_the_peer) {
  bytes block = {203, 0, 113, 7, 192, 0, 2, 1, 0, 80, 0, 81};
  const bytes tlv = {0x04, 0x00, 0x03, 'a', 'b', 'c'};  // a NOOP TLV
  block.insert(block.end(), tlv.begin(), tlv.end());
  auto r = parse(v2(0x21, 0x11, block));
  ASSERT_EQ(r.status, proxy_status::done);
  EXPECT_EQ(r.used, 16 + block.size());
  EXPECT_EQ(r.source.address, "203.0.113.7");
  r = parse(v2(0x20, 0x00, {}));
  ASSERT_EQ(r.status, proxy_status::done);
  EXPECT_FALSE(r.source.relayed) << "LOCAL: a health check";
  r = parse(v2(0x21, 0x31, bytes(216, 0)));
  ASSERT_EQ(r.status, proxy_status::done);
  EXPECT_FALSE(r.source.relayed) << "AF_UNIX has no address to use";
}

TEST(proxy_header, malformed_v2_headers_are_refused) {
  EXPECT_EQ(parse(v2(0x11, 0x11, bytes(12, 0))).status, proxy_status::invalid) << "version 1 in a v2 header";
  EXPECT_EQ(parse(v2(0x22, 0x11, bytes(12, 0))).status, proxy_status::invalid) << "command 2";
  EXPECT_EQ(parse(v2(0x21, 0x41, bytes(12, 0))).status, proxy_status::invalid) << "family 4";
  EXPECT_EQ(parse(v2(0x21, 0x11, bytes(8, 0))).status, proxy_status::invalid) << "short IPv4 block";
  EXPECT_EQ(parse(v2(0x21, 0x21, bytes(20, 0))).status, proxy_status::invalid) << "short IPv6 block";
  bytes huge = v2(0x21, 0x11, {});
  huge[14] = 0xFF;
  huge[15] = 0xFF;
  EXPECT_EQ(parse(huge).status, proxy_status::invalid) << "longer than accepted: refused before it arrives";
}

}  // namespace
}  // namespace rtmp::proto
