#pragma once
/// @file handshake.hpp
/// Sans-I/O RTMP handshake state machines (RTMP 1.0 section 5.2), server and
/// client (one `handshake_exchange` each role specializes), with the
/// HMAC-SHA256 digest scheme of Flash-lineage peers (see handshake_digest.hpp).
///
/// How a caller drives either machine (no sockets here):
///   1. Write `pending_output()` to the peer; after the write completes call
///      `output_sent(n)` with the number of bytes written.
///   2. Hand every byte read from the peer to `consume(bytes)`. It returns how
///      many bytes it took. Input may be split at any byte boundary. Once the
///      handshake is `done()`, `consume` stops taking bytes: whatever it did
///      not take (e.g. the first chunk bytes that arrived in the same TCP read
///      as C2) belongs to the chunk stream layer.
///   3. Check `error()` after each `consume`: a non-zero code means close the
///      connection (all are `condition::protocol_violation`).
///   4. When `done()` is true, first finish sending `pending_output()` (it may
///      still hold bytes), then switch to the chunk stream layer.
/// Consuming input never depends on output having been sent: a server may
/// receive C2 before S0/S1/S2 left its socket buffer.
///
/// Deadlines are NOT enforced here: the network layer owns the total
/// handshake deadline (HOSTILE-CASES T-01/T-02) and EOF handling (T-04, a
/// 1535-byte C1 then EOF simply leaves the machine not done, without error).
///
/// Thread-safety: none; one machine belongs to one session (one strand/core).

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "rtmp/proto/handshake_digest.hpp"

namespace rtmp::proto {

/// The only RTMP version we speak (C0/S0, RTMP 1.0 section 5.2.2).
inline constexpr std::uint8_t rtmp_version = 3;

/// Fills its argument with random bytes. Need not be cryptographic: the
/// handshake random only lets peers tell their own blocks from the peer's.
/// Called synchronously from inside the machine; never stored beyond the
/// machine's lifetime. The machines call it in a fixed order (documented on
/// each class) so tests can script exact blocks.
using handshake_random_source = std::function<void(std::span<std::uint8_t>)>;

/// Returns the local RTMP epoch in milliseconds (e.g. process or system
/// uptime), wrapping modulo 2^32. Used for the time fields of C1/S1 and for
/// time2 of C2/S2 (RTMP 1.0 sections 5.2.3 and 5.2.4).
using handshake_clock = std::function<std::uint32_t()>;

/// Fills `out` from a per-thread std::mt19937 seeded from std::random_device.
/// The default `handshake_random_source`.
void default_handshake_random(std::span<std::uint8_t> out);

/// Milliseconds of std::chrono::steady_clock (system uptime on Linux),
/// truncated to 32 bits. The default `handshake_clock`: never a fixed value.
std::uint32_t default_handshake_clock() noexcept;

/// Which flavour of the handshake a machine used.
enum class handshake_scheme : std::uint8_t {
  plain,   ///< RTMP 1.0: zero version field, C2/S2 echo the peer's block.
  digest,  ///< Flash-lineage: version field, hidden HMAC digest, signed C2/S2.
};

/// What a machine learned from the peer's C1 (server side) or S1 (client side).
struct handshake_peer_info {
  std::uint32_t time = 0;                    ///< Bytes 0..3: the peer's epoch (big-endian).
  std::array<std::uint8_t, 4> version{};     ///< Bytes 4..7: zero (RTMP 1.0) or a version, e.g. ffmpeg 09 00 7c 02.
  bool digest_valid = false;                 ///< A valid digest was found (only looked for when `version` is non-zero).
  std::optional<digest_schema> schema;       ///< The schema under which the digest validated.
  /// True when bytes 4..7 are not all zero.
  bool has_version() const noexcept { return (version[0] | version[1] | version[2] | version[3]) != 0; }
};

/// What both roles of the handshake share (RTMP 1.0 section 5.2): reading
/// the peer's version byte (C0 or S0) and its two 1536-byte blocks, and
/// queueing our output. A role answers the peer's first block (a server
/// writes S0S1S2 for C1, a client C2 for S1) and looks at the second (C2,
/// or S2).
///
/// A version byte other than 3 fails at once with
/// `errc::handshake_unsupported_version` (RTMPE 6, 0xFF, 'G' of "GET", TLS
/// 0x16), without waiting for a block.
class handshake_exchange {
 public:
  /// Progress through the peer's bytes, for logs and tests.
  enum class phase : std::uint8_t {
    await_version,  ///< C0 (server) or S0 (client).
    await_first,    ///< C1 or S1.
    await_second,   ///< C2 or S2.
    done,
    failed,
  };

  virtual ~handshake_exchange() = default;

  /// Takes bytes read from the peer; `in` is only read during the call.
  /// Returns the number of bytes taken: all of `in` until the second block
  /// completes, then the bytes up to its end (the rest belongs to the chunk
  /// layer). On an unsupported version byte it returns 1 (the offending
  /// byte) and `error()` is set. After `done()` or an error it takes nothing
  /// and returns 0.
  std::size_t consume(std::span<const std::uint8_t> in);

  /// Bytes to send now. The span points into this machine and stays valid,
  /// with the same contents, until `output_sent()` or the machine is moved
  /// or destroyed; `consume()` may append but never moves pending bytes.
  std::span<const std::uint8_t> pending_output() const noexcept;

  /// Marks the first `n` bytes of `pending_output()` as sent (clamped).
  void output_sent(std::size_t n) noexcept;

  /// `consume(in)`, then appends what is pending to `out` and marks it
  /// sent: for a caller that queues its output in one buffer. Returns what
  /// `consume` returned.
  std::size_t exchange(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out);

  /// True once the peer's second block was consumed without error. Send any
  /// `pending_output()` before handing the connection to the chunk layer.
  bool done() const noexcept { return phase_ == phase::done; }

  /// The first error, or an empty code.
  std::error_code error() const noexcept { return error_; }

  /// Current phase.
  phase current_phase() const noexcept { return phase_; }

  /// What the peer's first block said; meaningful once past `await_first`.
  const handshake_peer_info& peer() const noexcept { return peer_; }

 protected:
  handshake_exchange() = default;
  // Copying would duplicate a half-finished handshake; a move invalidates
  // pending_output() spans.
  handshake_exchange(const handshake_exchange&) = delete;
  handshake_exchange& operator=(const handshake_exchange&) = delete;
  handshake_exchange(handshake_exchange&&) = default;
  handshake_exchange& operator=(handshake_exchange&&) = default;

  /// The peer's first block is complete in `in_`: queue the answer.
  virtual void on_first_block() = 0;
  /// The peer's second block is complete in `in_`; may set `error_`.
  virtual void on_second_block() = 0;

  /// Offset of our first block in `out_` (after the version byte).
  static constexpr std::size_t first_offset = 1;
  /// Offset of our second block in `out_`.
  static constexpr std::size_t second_offset = 1 + handshake_block_size;

  phase phase_ = phase::await_version;
  std::error_code error_;
  handshake_peer_info peer_;
  std::size_t in_fill_ = 0;                                // bytes of the current input block received
  std::array<std::uint8_t, handshake_block_size> in_{};     // the peer's first block, then its second
  std::array<std::uint8_t, 1 + 2 * handshake_block_size> out_{};  // our version byte and two blocks
  std::size_t out_begin_ = 0;                              // sent up to here
  std::size_t out_end_ = 0;                                // queued up to here
};

/// Options of `server_handshake`. Copied into the machine.
struct server_handshake_config {
  /// S1 bytes 4..7 when answering a valid digest C1 (must be non-zero).
  std::array<std::uint8_t, 4> digest_version = {0x04, 0x05, 0x00, 0x01};
  /// Plain scheme only: false (default) makes S2 an exact echo of C1, which is
  /// what every captured client (ffmpeg, rtmpdump, GStreamer) accepts; true
  /// writes our clock into S2 bytes 4..7 ("time2", RTMP 1.0 section 5.2.4).
  bool write_time2 = false;
  handshake_random_source random;  ///< Empty: `default_handshake_random`.
  handshake_clock clock;           ///< Empty: `default_handshake_clock`.
};

/// Server side: await C0C1 -> queue S0S1S2 -> await C2 -> done.
///
/// On C1 with a non-zero version field both digest schemas are tried with the
/// 30-byte client key; if one validates, S1 carries `digest_version` and a
/// digest in the same schema (36-byte server key) and S2 is 1504 random bytes
/// plus the response signature. Otherwise (zero version field or no valid
/// digest) the plain scheme answers: S1 version zero, S2 the echo of C1. A bad
/// digest never rejects the client.
/// C2 content is not enforced (only its length): `c2_echo_matched()` tells
/// whether it echoed S1 or carried a valid signature, for debug logs.
///
/// Randomness order: S1 bytes 8..1535 (1528 bytes), then in the digest scheme
/// S2 bytes 0..1503. Clock: read once when C1 completes (S1 time and, with
/// `write_time2`, S2 time2).
class server_handshake final : public handshake_exchange {
 public:
  /// A machine waiting for C0. No output until C1 is complete.
  explicit server_handshake(server_handshake_config config = {});

  /// The scheme of our S1/S2; meaningful once the phase is past `await_first`.
  handshake_scheme scheme() const noexcept { return scheme_; }

  /// True when C2 echoed S1 (bytes 0..3 and 8..1535; time2 is free) or, in the
  /// digest scheme, carried a valid response signature. Meaningful once done.
  bool c2_echo_matched() const noexcept { return c2_echo_matched_; }

 private:
  void on_first_block() override;   // C1: queue S0 S1 S2
  void on_second_block() override;  // C2: note whether it matched

  server_handshake_config config_;
  handshake_scheme scheme_ = handshake_scheme::plain;
  bool c2_echo_matched_ = false;
};

/// Options of `client_handshake`. Copied into the machine.
struct client_handshake_config {
  /// true (default): a digest C1 (version field, digest in schema 1 with the
  /// 30-byte client key), as Flash-lineage clients send. false: a plain
  /// RTMP 1.0 C1 with a zero version field.
  bool use_digest = true;
  /// C1 bytes 4..7 in digest mode (must be non-zero).
  std::array<std::uint8_t, 4> digest_version = {0x80, 0x00, 0x07, 0x02};
  /// When C2 echoes a plain S1: true (default) writes our clock into bytes
  /// 4..7 ("time2", RTMP 1.0 section 5.2.4); false echoes S1 exactly.
  bool write_time2 = true;
  /// true: fail with `errc::handshake_bad_echo` when S2 neither echoes C1 nor
  /// carries a valid signature. false (default): only `s2_matched()` tells.
  bool strict_s2 = false;
  handshake_random_source random;  ///< Empty: `default_handshake_random`.
  handshake_clock clock;           ///< Empty: `default_handshake_clock`.
};

/// Client side: queue C0C1 (at construction) -> await S0 S1 -> queue C2 ->
/// await S2 -> done. C2 is queued as soon as S1 is complete (RTMP 1.0 section
/// 5.2.1 allows it after S1); done means S2 was also received, after which
/// the client may send other data.
///
/// S1 with a zero version field: C2 echoes S1 (time2 per `write_time2`).
/// S1 with a version field: its digest is looked for with the 36-byte server
/// key (leniently: `peer().digest_valid` is informational); if valid, C2 is
/// 1504 random bytes plus the signature from S1's digest and the 62-byte
/// client key; if not, C2 echoes S1 as for a plain server.
///
/// Randomness order: C1 bytes 8..1535 (at construction), then for a valid
/// digest S1, C2 bytes 0..1503. Clock: read at construction (C1 time) and when
/// S1 completes (C2 time2).
class client_handshake final : public handshake_exchange {
 public:
  /// Builds C0C1 into `pending_output()` right away.
  explicit client_handshake(client_handshake_config config = {});

  /// The scheme of our C1 (digest unless disabled or OpenSSL failed).
  handshake_scheme c1_scheme() const noexcept { return c1_scheme_; }

  /// The scheme of our C2 (digest only when S1's digest validated).
  handshake_scheme c2_scheme() const noexcept { return c2_scheme_; }

  /// True when S2 echoed C1 (bytes 0..3 and 8..1535) or, for our digest C1,
  /// carried a valid server signature. Meaningful once done.
  bool s2_matched() const noexcept { return s2_matched_; }

 private:
  void on_first_block() override;   // S1: queue C2
  void on_second_block() override;  // S2: check it (with strict_s2, fail on a mismatch)

  client_handshake_config config_;
  handshake_scheme c1_scheme_ = handshake_scheme::plain;
  handshake_scheme c2_scheme_ = handshake_scheme::plain;
  bool s2_matched_ = false;
  handshake_digest c1_digest_{};  // our C1 digest (digest scheme)
};

}  // namespace rtmp::proto
