#include "rtmp/proto/handshake.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <utility>

#include "rtmp/error.hpp"
#include "rtmp/proto/byte_order.hpp"

namespace rtmp::proto {
namespace {

constexpr std::size_t block = handshake_block_size;

// RTMP 1.0 section 5.2.4: C2/S2 echo the peer's time (bytes 0..3) and random
// (bytes 8..1535); bytes 4..7 ("time2") are the reader's own clock, so they
// are excluded from the comparison.
bool echoes(handshake_block_view reply, handshake_block_view original) noexcept {
  return std::equal(reply.begin(), reply.begin() + 4, original.begin()) &&
         std::equal(reply.begin() + 8, reply.end(), original.begin() + 8);
}

handshake_peer_info parse_peer(handshake_block_view b) noexcept {
  handshake_peer_info info;
  info.time = load_be32(b.data());
  std::copy_n(b.begin() + 4, 4, info.version.begin());
  return info;
}

// Fills time, version and random of a C1/S1 block (RTMP 1.0 section 5.2.3).
void fill_first_block(handshake_block_ref b, std::uint32_t time, const std::array<std::uint8_t, 4>& version,
                      const handshake_random_source& random) {
  store_be32(b.data(), time);
  std::copy(version.begin(), version.end(), b.begin() + 4);
  random(b.subspan<8>());
}

}  // namespace

void default_handshake_random(std::span<std::uint8_t> out) {
  // Not cryptographic on purpose: the random part only distinguishes our own
  // blocks from the peer's (RTMP 1.0 section 5.2.3). One generator per thread
  // avoids both locking and a random_device read per connection.
  thread_local std::mt19937 engine = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937(seq);
  }();
  std::size_t i = 0;
  while (i < out.size()) {
    std::uint32_t v = engine();
    for (int k = 0; k < 4 && i < out.size(); ++k, ++i) {
      out[i] = static_cast<std::uint8_t>(v);
      v >>= 8;
    }
  }
}

std::uint32_t default_handshake_clock() noexcept {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch());
  return static_cast<std::uint32_t>(ms.count());
}

// ---------------------------------------------------------------------------
// handshake_exchange

std::size_t handshake_exchange::consume(std::span<const std::uint8_t> in) {
  std::size_t used = 0;
  while (used < in.size()) {
    switch (phase_) {
      case phase::await_version:
        // RTMP 1.0 section 5.2.2: version 3 only. Reject on the first byte so a
        // TLS ClientHello (0x16), "GET ..." ('G') or RTMPE (6) fails at once.
        if (in[used++] != rtmp_version) {
          error_ = errc::handshake_unsupported_version;
          phase_ = phase::failed;
          return used;
        }
        phase_ = phase::await_first;
        break;
      case phase::await_first:
      case phase::await_second: {
        const std::size_t n = std::min(block - in_fill_, in.size() - used);
        std::memcpy(in_.data() + in_fill_, in.data() + used, n);
        in_fill_ += n;
        used += n;
        if (in_fill_ == block) {
          in_fill_ = 0;
          if (phase_ == phase::await_first) {
            on_first_block();
            phase_ = phase::await_second;
          } else {
            on_second_block();
            phase_ = error_ ? phase::failed : phase::done;
            return used;  // the rest is chunk stream data
          }
        }
        break;
      }
      case phase::done:
      case phase::failed:
        return used;
    }
  }
  return used;
}

std::span<const std::uint8_t> handshake_exchange::pending_output() const noexcept {
  return std::span<const std::uint8_t>(out_).subspan(out_begin_, out_end_ - out_begin_);
}

void handshake_exchange::output_sent(std::size_t n) noexcept {
  out_begin_ += std::min(n, out_end_ - out_begin_);
}

std::size_t handshake_exchange::exchange(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out) {
  const std::size_t used = consume(in);
  const auto pending = pending_output();
  out.insert(out.end(), pending.begin(), pending.end());
  output_sent(pending.size());
  return used;
}

// ---------------------------------------------------------------------------
// server_handshake

server_handshake::server_handshake(server_handshake_config config) : config_(std::move(config)) {
  if (!config_.random) config_.random = default_handshake_random;
  if (!config_.clock) config_.clock = default_handshake_clock;
}

void server_handshake::on_first_block() {
  const handshake_block_view c1(in_);
  peer_ = parse_peer(c1);
  // Digest C1s announce themselves with a non-zero version field; plain
  // RTMP 1.0 clients (rtmpdump, GStreamer) send zeros there.
  if (peer_.has_version()) {
    peer_.schema = find_block_digest(c1, handshake_client_digest_key());
    peer_.digest_valid = peer_.schema.has_value();
  }

  const std::uint32_t now = config_.clock();
  out_[0] = rtmp_version;
  const handshake_block_ref s1(out_.data() + first_offset, block);
  const handshake_block_ref s2(out_.data() + second_offset, block);

  bool digest = peer_.digest_valid;
  fill_first_block(s1, now, digest ? config_.digest_version : std::array<std::uint8_t, 4>{}, config_.random);
  if (digest) {
    // S1 carries its digest in the schema the client used, keyed with the
    // 36-byte server key; S2 is random plus a signature derived from C1's digest.
    const handshake_digest c1_digest = stored_digest(c1, *peer_.schema);
    digest = sign_block(s1, *peer_.schema, handshake_server_digest_key());
    if (digest) {
      config_.random(s2.first<handshake_signed_size>());
      digest = sign_response(s2, handshake_server_full_key(), c1_digest);
    }
    // OpenSSL failed: degrade to the plain scheme instead of dropping a client.
    if (!digest) std::fill_n(s1.begin() + 4, 4, std::uint8_t{0});
  }
  if (!digest) {
    std::copy(c1.begin(), c1.end(), s2.begin());
    if (config_.write_time2) store_be32(s2.data() + 4, now);
  }
  scheme_ = digest ? handshake_scheme::digest : handshake_scheme::plain;
  out_begin_ = 0;
  out_end_ = out_.size();
}

void server_handshake::on_second_block() {
  // Lenient on content (HOSTILE-CASES T-04): only note whether C2 matches.
  // Digest clients either sign (ffmpeg play) or echo S1 (ffmpeg publish).
  const handshake_block_view c2(in_);
  const handshake_block_view s1(out_.data() + first_offset, block);
  c2_echo_matched_ = echoes(c2, s1);
  if (!c2_echo_matched_ && scheme_ == handshake_scheme::digest) {
    c2_echo_matched_ =
        response_signature_valid(c2, handshake_client_full_key(), stored_digest(s1, *peer_.schema));
  }
}

// ---------------------------------------------------------------------------
// client_handshake

client_handshake::client_handshake(client_handshake_config config) : config_(std::move(config)) {
  if (!config_.random) config_.random = default_handshake_random;
  if (!config_.clock) config_.clock = default_handshake_clock;

  // C1 time is our epoch (non-fixed by default: a strict server rejected
  // clients with constant time fields, HOSTILE-CASES T-04).
  out_[0] = rtmp_version;
  const handshake_block_ref c1(out_.data() + first_offset, block);
  bool digest = config_.use_digest;
  fill_first_block(c1, config_.clock(), digest ? config_.digest_version : std::array<std::uint8_t, 4>{},
                   config_.random);
  if (digest) {
    digest = sign_block(c1, digest_schema::schema1, handshake_client_digest_key());
    if (digest) {
      c1_digest_ = stored_digest(c1, digest_schema::schema1);
    } else {
      std::fill_n(c1.begin() + 4, 4, std::uint8_t{0});  // OpenSSL failed: plain C1
    }
  }
  c1_scheme_ = digest ? handshake_scheme::digest : handshake_scheme::plain;
  out_begin_ = 0;
  out_end_ = second_offset;
}

void client_handshake::on_first_block() {
  const handshake_block_view s1(in_);
  peer_ = parse_peer(s1);
  if (peer_.has_version()) {
    // Lenient: a bad S1 digest is only recorded (some servers echo C1 as S1).
    peer_.schema = find_block_digest(s1, handshake_server_digest_key(), digest_schema::schema1);
    peer_.digest_valid = peer_.schema.has_value();
  }
  const std::uint32_t now = config_.clock();

  const handshake_block_ref c2(out_.data() + second_offset, block);
  bool digest = peer_.digest_valid;
  if (digest) {
    config_.random(c2.first<handshake_signed_size>());
    digest = sign_response(c2, handshake_client_full_key(), stored_digest(s1, *peer_.schema));
  }
  if (!digest) {
    // RTMP 1.0 section 5.2.4: echo S1's time and random; time2 = when we read S1.
    std::copy(s1.begin(), s1.end(), c2.begin());
    if (config_.write_time2) store_be32(c2.data() + 4, now);
  }
  c2_scheme_ = digest ? handshake_scheme::digest : handshake_scheme::plain;
  out_end_ = out_.size();  // C2 appended after whatever of C0C1 is unsent
}

void client_handshake::on_second_block() {
  const handshake_block_view s2(in_);
  const handshake_block_view c1(out_.data() + first_offset, block);
  // A digest server signs S2; a plain one (or one that ignored our digest)
  // echoes C1.
  s2_matched_ = echoes(s2, c1);
  if (!s2_matched_ && c1_scheme_ == handshake_scheme::digest) {
    s2_matched_ = response_signature_valid(s2, handshake_server_full_key(), c1_digest_);
  }
  if (!s2_matched_ && config_.strict_s2) error_ = errc::handshake_bad_echo;
}

}  // namespace rtmp::proto
