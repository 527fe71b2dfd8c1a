#pragma once
// An independent reference for the digest handshake (the scheme of
// handshake_digest.hpp): the texts and the 32-byte constant its keys are made
// of, and HMAC-SHA256 straight from OpenSSL rather than our helpers, so that
// tests check our arithmetic against another's.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace rtmp::test {

/// The characters of `s` as bytes.
inline std::vector<std::uint8_t> ascii(std::string_view s) { return std::vector<std::uint8_t>(s.begin(), s.end()); }

/// The 32 bytes that follow the text in the full client and server keys.
inline const std::vector<std::uint8_t> digest_key_constant = {
    0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
    0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};

/// The text of the client's keys.
inline const std::vector<std::uint8_t> client_key_text = ascii("Genuine Adobe Flash Player 001");

/// The text of the server's keys.
inline const std::vector<std::uint8_t> server_key_text = ascii("Genuine Adobe Flash Media Server 001");

/// HMAC-SHA256 of `data` under `key`, computed by OpenSSL.
inline std::vector<std::uint8_t> reference_hmac(const std::vector<std::uint8_t>& key,
                                                const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> out(32);
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(), &len);
  out.resize(len);
  return out;
}

}  // namespace rtmp::test
