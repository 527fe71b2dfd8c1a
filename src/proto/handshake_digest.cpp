#include "rtmp/proto/handshake_digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <climits>

namespace rtmp::proto {
namespace {

// "Genuine Adobe Flash Player 001" (30 bytes) + 32 constant bytes = 62.
constexpr std::array<std::uint8_t, 62> client_key = {
    'G',  'e',  'n',  'u',  'i',  'n',  'e',  ' ',  'A',  'd',  'o',  'b',  'e',  ' ',  'F',  'l',
    'a',  's',  'h',  ' ',  'P',  'l',  'a',  'y',  'e',  'r',  ' ',  '0',  '0',  '1',  0xF0, 0xEE,
    0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC,
    0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};

// "Genuine Adobe Flash Media Server 001" (36 bytes) + the same 32 bytes = 68.
constexpr std::array<std::uint8_t, 68> server_key = {
    'G',  'e',  'n',  'u',  'i',  'n',  'e',  ' ',  'A',  'd',  'o',  'b',  'e',  ' ',  'F',  'l',  'a',
    's',  'h',  ' ',  'M',  'e',  'd',  'i',  'a',  ' ',  'S',  'e',  'r',  'v',  'e',  'r',  ' ',  '0',
    '0',  '1',  0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E,
    0x7E, 0x57, 0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB,
    0x31, 0xAE};

constexpr std::size_t client_digest_key_size = 30;
constexpr std::size_t server_digest_key_size = 36;

// Both schemas spread the digest over 728 possible offsets inside a 764-byte
// half of the random part (764 - 32 - 4 offset bytes = 728).
constexpr std::size_t offset_modulus = 728;

bool equal_ct(const handshake_digest& a, const std::uint8_t* b) noexcept {
  return CRYPTO_memcmp(a.data(), b, a.size()) == 0;
}

}  // namespace

std::span<const std::uint8_t> handshake_client_full_key() noexcept { return client_key; }
std::span<const std::uint8_t> handshake_client_digest_key() noexcept {
  return std::span<const std::uint8_t>(client_key).first(client_digest_key_size);
}
std::span<const std::uint8_t> handshake_server_full_key() noexcept { return server_key; }
std::span<const std::uint8_t> handshake_server_digest_key() noexcept {
  return std::span<const std::uint8_t>(server_key).first(server_digest_key_size);
}

bool hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data,
                 handshake_digest& out) noexcept {
  if (key.size() > static_cast<std::size_t>(INT_MAX)) return false;
  unsigned int len = 0;
  const unsigned char* r = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(),
                                data.size(), out.data(), &len);
  return r != nullptr && len == out.size();
}

std::size_t digest_offset(handshake_block_view block, digest_schema schema) noexcept {
  const std::size_t base = schema == digest_schema::schema1 ? 8 : 772;
  const std::size_t sum = std::size_t{block[base]} + block[base + 1] + block[base + 2] + block[base + 3];
  return sum % offset_modulus + base + 4;
}

handshake_digest stored_digest(handshake_block_view block, digest_schema schema) noexcept {
  handshake_digest d{};
  const std::size_t off = digest_offset(block, schema);
  std::copy_n(block.begin() + static_cast<std::ptrdiff_t>(off), d.size(), d.begin());
  return d;
}

std::optional<handshake_digest> compute_block_digest(handshake_block_view block, digest_schema schema,
                                                     std::span<const std::uint8_t> key) noexcept {
  // The HMAC covers the block with the digest cut out: the bytes before the
  // offset, then the bytes after offset + 32, contiguously.
  const std::size_t off = digest_offset(block, schema);
  std::array<std::uint8_t, handshake_signed_size> joined;
  std::copy_n(block.begin(), off, joined.begin());
  std::copy(block.begin() + static_cast<std::ptrdiff_t>(off + handshake_digest_size), block.end(),
            joined.begin() + static_cast<std::ptrdiff_t>(off));
  handshake_digest d;
  if (!hmac_sha256(key, joined, d)) return std::nullopt;
  return d;
}

bool block_digest_valid(handshake_block_view block, digest_schema schema,
                        std::span<const std::uint8_t> key) noexcept {
  const auto d = compute_block_digest(block, schema, key);
  return d && equal_ct(*d, block.data() + digest_offset(block, schema));
}

std::optional<digest_schema> find_block_digest(handshake_block_view block, std::span<const std::uint8_t> key,
                                               digest_schema first) noexcept {
  const digest_schema second = first == digest_schema::schema1 ? digest_schema::schema0 : digest_schema::schema1;
  if (block_digest_valid(block, first, key)) return first;
  if (block_digest_valid(block, second, key)) return second;
  return std::nullopt;
}

bool sign_block(handshake_block_ref block, digest_schema schema, std::span<const std::uint8_t> key) noexcept {
  const auto d = compute_block_digest(block, schema, key);
  if (!d) return false;
  std::copy(d->begin(), d->end(), block.begin() + static_cast<std::ptrdiff_t>(digest_offset(block, schema)));
  return true;
}

std::optional<handshake_digest> compute_response_signature(
    std::span<const std::uint8_t> full_key, const handshake_digest& peer_digest,
    std::span<const std::uint8_t, handshake_signed_size> signed_bytes) noexcept {
  handshake_digest derived;
  if (!hmac_sha256(full_key, peer_digest, derived)) return std::nullopt;
  handshake_digest sig;
  if (!hmac_sha256(derived, signed_bytes, sig)) return std::nullopt;
  return sig;
}

bool sign_response(handshake_block_ref block, std::span<const std::uint8_t> full_key,
                   const handshake_digest& peer_digest) noexcept {
  const auto sig = compute_response_signature(full_key, peer_digest, block.first<handshake_signed_size>());
  if (!sig) return false;
  std::copy(sig->begin(), sig->end(), block.begin() + handshake_signed_size);
  return true;
}

bool response_signature_valid(handshake_block_view block, std::span<const std::uint8_t> full_key,
                              const handshake_digest& peer_digest) noexcept {
  const auto sig = compute_response_signature(full_key, peer_digest, block.first<handshake_signed_size>());
  return sig && equal_ct(*sig, block.data() + handshake_signed_size);
}

}  // namespace rtmp::proto
