#include "net/tls.hpp"
#include "net/coroutine_support.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/address.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cstring>

namespace rtmp::net {

namespace {

// Options every context gets: no SSLv2/3, TLS 1.0/1.1 (RFC 8996), no
// compression (CRIME); new keys for every ECDH(E) exchange.
constexpr auto context_options = asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                                 asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                                 asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use;

std::string describe(const std::error_code& ec) {
  std::string text = ec.message();
  if (text.empty()) text = "error " + std::to_string(ec.value());
  return text;
}

// A context of `method` with the options both roles share (TLS 1.2 and up,
// no compression).
std::unique_ptr<asio::ssl::context> make_context(asio::ssl::context::method method, std::string& why) {
  auto ctx = std::make_unique<asio::ssl::context>(method);
  std::error_code ec;
  ctx->set_options(context_options, ec);
  if (ec) {
    why = "TLS options: " + describe(ec);
    return nullptr;
  }
  ::SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_COMPRESSION);
  return ctx;
}

}  // namespace

std::unique_ptr<asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                            const std::string& key_file, std::string& why) {
  auto ctx = make_context(asio::ssl::context::tls_server, why);
  if (ctx == nullptr) return nullptr;
  std::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) {
    why = "cannot load the TLS certificate chain '" + cert_file + "': " + describe(ec);
    return nullptr;
  }
  ctx->use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) {
    why = "cannot load the TLS private key '" + key_file + "': " + describe(ec);
    return nullptr;
  }
  if (::SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ::ERR_clear_error();
    why = "the TLS private key '" + key_file + "' does not match the certificate '" + cert_file + "'";
    return nullptr;
  }
  return ctx;
}

std::unique_ptr<asio::ssl::context> make_client_tls_context(bool verify, const std::string& ca_file,
                                                            std::string& why) {
  auto ctx = make_context(asio::ssl::context::tls_client, why);
  if (ctx == nullptr) return nullptr;
  std::error_code ec;
  if (!verify) {
    ctx->set_verify_mode(asio::ssl::verify_none, ec);
    return ctx;
  }
  ctx->set_verify_mode(asio::ssl::verify_peer, ec);
  if (!ca_file.empty()) {
    ctx->load_verify_file(ca_file, ec);
    if (ec) {
      why = "cannot load the CA file '" + ca_file + "': " + describe(ec);
      return nullptr;
    }
  } else {
    ctx->set_default_verify_paths(ec);
    if (ec) {
      why = "cannot load the system's trusted certificates: " + describe(ec);
      return nullptr;
    }
  }
  return ctx;
}

std::error_code prepare_client_tls(SSL* ssl, const std::string& host, bool verify) {
  std::error_code ec;
  (void)asio::ip::make_address(host, ec);
  const bool ip_literal = !ec;
  // SNI carries host names only (RFC 6066 section 3: literal addresses are not permitted).
  if (!ip_literal && ::SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    ::ERR_clear_error();
    return std::make_error_code(std::errc::invalid_argument);
  }
  if (verify) {
    // Checked by OpenSSL during the handshake's chain verification.
    const int ok = ip_literal ? ::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(ssl), host.c_str())
                              : ::SSL_set1_host(ssl, host.c_str());
    if (ok != 1) {
      ::ERR_clear_error();
      return std::make_error_code(std::errc::invalid_argument);
    }
  }
  return {};
}

bool tls_peer_gone(const std::error_code& ec) noexcept {
  return ec == asio::ssl::error::stream_truncated || ec == asio::error::eof;
}

asio::awaitable<std::tuple<std::error_code, std::size_t>> read_some(asio::ip::tcp::socket& socket,
                                                                   tls_stream* tls,
                                                                   asio::mutable_buffer buffer) {
  if (tls != nullptr) {
    auto [ec, n] = co_await tls->async_read_some(buffer, as_tuple(use_awaitable));
    // A peer that closes TCP without a TLS close_notify is the common way a
    // client leaves; report it as the end of the stream.
    if (ec == asio::ssl::error::stream_truncated) ec = asio::error::eof;
    co_return std::tuple{ec, n};
  }
  auto [ec, n] = co_await socket.async_read_some(buffer, as_tuple(use_awaitable));
  co_return std::tuple{ec, n};
}

}  // namespace rtmp::net
