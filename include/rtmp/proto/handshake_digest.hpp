#pragma once
/// @file handshake_digest.hpp
/// The HMAC-SHA256 "digest" handshake that Flash-lineage clients (Flash
/// Player >= 9.0.124, ffmpeg, OBS) use on top of the plain RTMP 1.0
/// handshake (RTMP 1.0 section 5.2). RTMP 1.0 leaves bytes 4..7 of C1/S1 zero
/// and bytes 8..1535 random; the digest scheme instead puts a non-zero version
/// in bytes 4..7 and hides a 32-byte HMAC-SHA256 digest inside the random
/// part, and replaces the S2/C2 echo with 1504 random bytes plus a 32-byte
/// signature derived from the peer's digest.
///
/// Digest position ("schema"), for a 1536-byte block `b`:
///   - schema 1 ("digest first"): offset = (b[8]+b[9]+b[10]+b[11]) % 728 + 12
///   - schema 0:                  offset = (b[772]+b[773]+b[774]+b[775]) % 728 + 776
/// The digest is HMAC-SHA256 over the block without its 32 digest bytes
/// (bytes before the offset, then bytes after offset+32), keyed with the
/// 30-byte client key (C1) or the 36-byte server key (S1).
///
/// Response signature (last 32 bytes of S2/C2):
///   HMAC-SHA256(key = HMAC-SHA256(full key, peer's digest), data = first 1504 bytes)
/// with the 68-byte full server key for S2 and the 62-byte full client key for C2.
///
/// All functions here are pure computations on caller-owned buffers: they
/// keep no reference to any argument after returning, allocate nothing
/// themselves (OpenSSL may allocate internally) and are safe to call from any
/// thread. The HMAC primitive can in principle fail inside OpenSSL (allocation
/// failure, a provider refusing SHA-256); functions that compute report that
/// by returning false / std::nullopt, never by throwing.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace rtmp::proto {

/// Size of C1, S1, C2 and S2 (RTMP 1.0 section 5.2.3).
inline constexpr std::size_t handshake_block_size = 1536;
/// Size of an HMAC-SHA256 digest / signature.
inline constexpr std::size_t handshake_digest_size = 32;
/// Bytes of S2/C2 covered by the response signature (the rest is the signature).
inline constexpr std::size_t handshake_signed_size = handshake_block_size - handshake_digest_size;

/// A 32-byte HMAC-SHA256 value.
using handshake_digest = std::array<std::uint8_t, handshake_digest_size>;
/// A read-only view of one 1536-byte handshake block.
using handshake_block_view = std::span<const std::uint8_t, handshake_block_size>;
/// A writable view of one 1536-byte handshake block.
using handshake_block_ref = std::span<std::uint8_t, handshake_block_size>;

/// Where the digest sits inside a C1/S1 block.
enum class digest_schema : std::uint8_t {
  schema0 = 0,  ///< Offset base 772: (b[772..775] summed) % 728 + 776.
  schema1 = 1,  ///< Offset base 8 ("digest first"): (b[8..11] summed) % 728 + 12.
};

/// The 62-byte full client key: "Genuine Adobe Flash Player 001" followed by
/// the 32-byte constant. Static storage; the span is valid forever.
std::span<const std::uint8_t> handshake_client_full_key() noexcept;
/// The first 30 bytes of the full client key (the ASCII part): the key of the
/// C1 digest. Static storage.
std::span<const std::uint8_t> handshake_client_digest_key() noexcept;
/// The 68-byte full server key: "Genuine Adobe Flash Media Server 001"
/// followed by the same 32-byte constant. Static storage.
std::span<const std::uint8_t> handshake_server_full_key() noexcept;
/// The first 36 bytes of the full server key (the ASCII part): the key of the
/// S1 digest. Static storage.
std::span<const std::uint8_t> handshake_server_digest_key() noexcept;

/// HMAC-SHA256 of `data` keyed with `key`, written to `out`.
/// Returns false only when OpenSSL fails (then `out` is unspecified).
bool hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data,
                 handshake_digest& out) noexcept;

/// Offset of the 32-byte digest inside `block` for `schema`; always in
/// [12, 771] for schema 1 and [776, 1503] for schema 0, so offset + 32 <= 1536
/// and the digest never covers the bytes that choose its position.
std::size_t digest_offset(handshake_block_view block, digest_schema schema) noexcept;

/// The 32 bytes stored at the digest position of `block` for `schema`.
handshake_digest stored_digest(handshake_block_view block, digest_schema schema) noexcept;

/// Computes the digest `block` should carry for `schema` with `key` (the HMAC
/// of the block without its digest bytes). std::nullopt if OpenSSL fails.
std::optional<handshake_digest> compute_block_digest(handshake_block_view block, digest_schema schema,
                                                     std::span<const std::uint8_t> key) noexcept;

/// True when `block` carries a valid digest for `schema` and `key`
/// (constant-time comparison). False if it does not or OpenSSL fails.
bool block_digest_valid(handshake_block_view block, digest_schema schema,
                        std::span<const std::uint8_t> key) noexcept;

/// Tries `first`, then the other schema; returns the first one under which
/// `block` carries a valid digest for `key`, or std::nullopt if neither does.
std::optional<digest_schema> find_block_digest(handshake_block_view block, std::span<const std::uint8_t> key,
                                               digest_schema first = digest_schema::schema1) noexcept;

/// Writes the digest for `schema` and `key` into `block` at its offset; every
/// other byte of `block` is left as it is (fill time, version and random
/// first). Returns false (block unchanged) if OpenSSL fails.
bool sign_block(handshake_block_ref block, digest_schema schema, std::span<const std::uint8_t> key) noexcept;

/// The S2/C2 signature over `signed_bytes` (the first 1504 bytes of the block):
/// HMAC-SHA256(key = HMAC-SHA256(full_key, peer_digest), data = signed_bytes).
/// `full_key` is the 68-byte server key for S2 or the 62-byte client key for C2.
/// std::nullopt if OpenSSL fails.
std::optional<handshake_digest> compute_response_signature(
    std::span<const std::uint8_t> full_key, const handshake_digest& peer_digest,
    std::span<const std::uint8_t, handshake_signed_size> signed_bytes) noexcept;

/// Writes the response signature into the last 32 bytes of `block`, computed
/// over its first 1504 bytes (fill those first). Returns false (block
/// unchanged) if OpenSSL fails.
bool sign_response(handshake_block_ref block, std::span<const std::uint8_t> full_key,
                   const handshake_digest& peer_digest) noexcept;

/// True when the last 32 bytes of `block` are the response signature for
/// `full_key` and `peer_digest` (constant-time comparison).
bool response_signature_valid(handshake_block_view block, std::span<const std::uint8_t> full_key,
                              const handshake_digest& peer_digest) noexcept;

}  // namespace rtmp::proto
