// Tests of the HMAC-SHA256 digest scheme helpers (handshake_digest.hpp),
// against RFC 4231, hand-computed offsets, and real blocks captured from
// ffmpeg, rtmpdump and a reference server (tests/data/captures).

#include "rtmp/proto/handshake_digest.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "support/bytes.hpp"
#include "support/files.hpp"
#include "support/handshake_reference.hpp"

namespace {
// Captures, byte builders and the reference digest arithmetic: tests/support/.
using namespace rtmp::test;

using namespace rtmp::proto;
using bytes = std::vector<std::uint8_t>;

// Block i (0 = C1/S1, 1 = C2/S2) of a capture that starts with C0/S0.
handshake_block_view block_of(const bytes& capture, std::size_t i) {
  return handshake_block_view(capture.data() + 1 + i * handshake_block_size, handshake_block_size);
}

bytes to_bytes(std::span<const std::uint8_t> s) { return bytes(s.begin(), s.end()); }

TEST(handshake_digest, keys_match_the_published_layout) {
  EXPECT_EQ(to_bytes(handshake_client_digest_key()), ascii("Genuine Adobe Flash Player 001"));
  EXPECT_EQ(to_bytes(handshake_server_digest_key()), ascii("Genuine Adobe Flash Media Server 001"));
  EXPECT_EQ(to_bytes(handshake_client_full_key()), concat({client_key_text, digest_key_constant}));
  EXPECT_EQ(to_bytes(handshake_server_full_key()),
            concat({server_key_text, digest_key_constant}));
  EXPECT_EQ(handshake_client_full_key().size(), 62u);
  EXPECT_EQ(handshake_server_full_key().size(), 68u);
}

TEST(handshake_digest, hmac_matches_rfc4231_case_2) {
  handshake_digest out{};
  const bytes key = ascii("Jefe");
  const bytes data = ascii("what do ya want for nothing?");
  ASSERT_TRUE(hmac_sha256(key, data, out));
  const bytes expected = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                          0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                          0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
  EXPECT_EQ(bytes(out.begin(), out.end()), expected);
}

TEST(handshake_digest, offsets_follow_both_schemas) {
  std::array<std::uint8_t, handshake_block_size> b{};
  EXPECT_EQ(digest_offset(b, digest_schema::schema1), 12u);
  EXPECT_EQ(digest_offset(b, digest_schema::schema0), 776u);

  b[8] = 1; b[9] = 2; b[10] = 3; b[11] = 4;  // sum 10
  b[772] = 200; b[773] = 200; b[774] = 200; b[775] = 200;  // sum 800 -> 72
  EXPECT_EQ(digest_offset(b, digest_schema::schema1), 22u);
  EXPECT_EQ(digest_offset(b, digest_schema::schema0), 72u + 776u);

  // Largest offsets: sum % 728 == 727 puts the digest flush with the half's end.
  b[8] = 255; b[9] = 255; b[10] = 217; b[11] = 0;  // 727
  b[772] = 255; b[773] = 255; b[774] = 217; b[775] = 0;
  EXPECT_EQ(digest_offset(b, digest_schema::schema1), 739u);
  EXPECT_EQ(digest_offset(b, digest_schema::schema0), 1503u);
  EXPECT_LE(digest_offset(b, digest_schema::schema0) + handshake_digest_size, handshake_block_size);
}

TEST(handshake_digest, sign_block_matches_an_independent_computation) {
  for (const auto schema : {digest_schema::schema0, digest_schema::schema1}) {
    std::array<std::uint8_t, handshake_block_size> b{};
    std::iota(b.begin(), b.end(), std::uint8_t{7});
    ASSERT_TRUE(sign_block(b, schema, handshake_client_digest_key()));

    const std::size_t off = digest_offset(b, schema);
    bytes without(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(off));
    without.insert(without.end(), b.begin() + static_cast<std::ptrdiff_t>(off + 32), b.end());
    ASSERT_EQ(without.size(), 1504u);
    const bytes expected = reference_hmac(ascii("Genuine Adobe Flash Player 001"), without);
    EXPECT_EQ(bytes(b.begin() + static_cast<std::ptrdiff_t>(off), b.begin() + static_cast<std::ptrdiff_t>(off + 32)),
              expected);
    const auto stored = stored_digest(b, schema);
    EXPECT_EQ(bytes(stored.begin(), stored.end()), expected);

    EXPECT_TRUE(block_digest_valid(b, schema, handshake_client_digest_key()));
    EXPECT_FALSE(block_digest_valid(b, schema, handshake_server_digest_key()));
    EXPECT_EQ(find_block_digest(b, handshake_client_digest_key()), schema);
    EXPECT_EQ(find_block_digest(b, handshake_client_digest_key(), digest_schema::schema0), schema);
  }
}

TEST(handshake_digest, any_changed_byte_invalidates_the_digest) {
  std::array<std::uint8_t, handshake_block_size> b{};
  std::iota(b.begin(), b.end(), std::uint8_t{42});
  ASSERT_TRUE(sign_block(b, digest_schema::schema1, handshake_server_digest_key()));
  const std::size_t off = digest_offset(b, digest_schema::schema1);
  for (std::size_t i : {std::size_t{0}, std::size_t{5}, off - 1, off, off + 31, off + 32, std::size_t{1535}}) {
    auto copy = b;
    copy[i] ^= 0x01;
    EXPECT_FALSE(block_digest_valid(copy, digest_schema::schema1, handshake_server_digest_key())) << "byte " << i;
  }
  EXPECT_TRUE(block_digest_valid(b, digest_schema::schema1, handshake_server_digest_key()));
}

TEST(handshake_digest, response_signature_round_trip) {
  std::array<std::uint8_t, handshake_block_size> b{};
  std::iota(b.begin(), b.end(), std::uint8_t{3});
  handshake_digest peer{};
  std::iota(peer.begin(), peer.end(), std::uint8_t{100});
  ASSERT_TRUE(sign_response(b, handshake_server_full_key(), peer));

  const bytes derived = reference_hmac(to_bytes(handshake_server_full_key()), bytes(peer.begin(), peer.end()));
  const bytes expected = reference_hmac(derived, bytes(b.begin(), b.begin() + 1504));
  EXPECT_EQ(bytes(b.begin() + 1504, b.end()), expected);

  EXPECT_TRUE(response_signature_valid(b, handshake_server_full_key(), peer));
  EXPECT_FALSE(response_signature_valid(b, handshake_client_full_key(), peer));
  auto other_peer = peer;
  other_peer[0] ^= 1;
  EXPECT_FALSE(response_signature_valid(b, handshake_server_full_key(), other_peer));
  b[0] ^= 1;
  EXPECT_FALSE(response_signature_valid(b, handshake_server_full_key(), peer));
}

TEST(handshake_digest, ffmpeg_c1_carries_a_schema1_client_digest) {
  for (const char* name : {"ffmpeg-publish.c2s.bin", "ffmpeg-play.c2s.bin"}) {
    const bytes c2s = read_capture(name);
    ASSERT_GE(c2s.size(), 3073u) << name;
    const auto c1 = block_of(c2s, 0);
    EXPECT_EQ(find_block_digest(c1, handshake_client_digest_key()), digest_schema::schema1) << name;
    EXPECT_FALSE(block_digest_valid(c1, digest_schema::schema0, handshake_client_digest_key())) << name;
    EXPECT_FALSE(find_block_digest(c1, handshake_server_digest_key()).has_value()) << name;
  }
}

TEST(handshake_digest, plain_clients_carry_no_digest) {
  for (const char* name : {"rtmpdump-play.c2s.bin", "gst-rtmp2src-play.c2s.bin", "gst-rtmp2sink-publish.c2s.bin"}) {
    const bytes c2s = read_capture(name);
    ASSERT_GE(c2s.size(), 3073u) << name;
    EXPECT_FALSE(find_block_digest(block_of(c2s, 0), handshake_client_digest_key()).has_value()) << name;
  }
}

// The reference server's S1/S2 and ffmpeg's C2 confirm the whole chain:
// S1 digest (36-byte key), S2 signature (68-byte key, C1 digest), C2
// signature (62-byte key, S1 digest).
TEST(handshake_digest, reference_server_and_ffmpeg_agree_with_our_formulas) {
  const bytes c2s = read_capture("ffmpeg-play.c2s.bin");
  const bytes s2c = read_capture("ffmpeg-play.s2c.bin");
  ASSERT_GE(c2s.size(), 3073u);
  ASSERT_GE(s2c.size(), 3073u);
  const auto c1 = block_of(c2s, 0);
  const auto c2 = block_of(c2s, 1);
  const auto s1 = block_of(s2c, 0);
  const auto s2 = block_of(s2c, 1);

  ASSERT_EQ(find_block_digest(s1, handshake_server_digest_key()), digest_schema::schema1);
  const auto c1_digest = stored_digest(c1, digest_schema::schema1);
  const auto s1_digest = stored_digest(s1, digest_schema::schema1);
  EXPECT_TRUE(response_signature_valid(s2, handshake_server_full_key(), c1_digest));
  EXPECT_TRUE(response_signature_valid(c2, handshake_client_full_key(), s1_digest));
  // Keys are not interchangeable.
  EXPECT_FALSE(response_signature_valid(s2, handshake_client_full_key(), c1_digest));
  EXPECT_FALSE(response_signature_valid(c2, handshake_server_full_key(), s1_digest));
}

}  // namespace
