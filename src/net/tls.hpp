#pragma once
// RTMPS: RTMP inside TLS (OpenSSL through asio::ssl). Internal to the
// networking layer. Server and client keep their plain TCP socket (for
// options, shutdown and close) and, on a TLS connection, an ssl::stream over
// a reference to it; `read_some` here and `drain` (socket_writer.hpp) let
// one read and one write loop serve both kinds.

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace rtmp::net {

/// A TLS stream over a connection's own TCP socket (which outlives it).
using tls_stream = asio::ssl::stream<asio::ip::tcp::socket&>;

/// Server context: TLS 1.2 or newer, the certificate chain and private key
/// from PEM files. On failure returns null and sets `why` (which file, and
/// OpenSSL's reason).
std::unique_ptr<asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                            const std::string& key_file, std::string& why);

/// Client context: TLS 1.2 or newer. With `verify`, the server's chain is
/// checked against `ca_file` (PEM) when given, else the system's trust store.
/// On failure returns null and sets `why`.
std::unique_ptr<asio::ssl::context> make_client_tls_context(bool verify, const std::string& ca_file,
                                                            std::string& why);

/// Prepares a client TLS session for `host`: SNI (unless `host` is an IP
/// literal) and, with `verify`, that the certificate names `host` (RFC 6125)
/// or carries its address. `ssl` is any client session (a stream's
/// native_handle(), or one driven directly).
std::error_code prepare_client_tls(SSL* ssl, const std::string& host, bool verify);

/// The same for an Asio stream.
inline std::error_code prepare_client_tls(tls_stream& stream, const std::string& host, bool verify) {
  return prepare_client_tls(stream.native_handle(), host, verify);
}

/// True for the errors a TLS peer that simply went away produces (EOF
/// without close_notify, "stream truncated").
bool tls_peer_gone(const std::error_code& ec) noexcept;

/// Reads some bytes from `tls` when it is set, else from `socket`.
asio::awaitable<std::tuple<std::error_code, std::size_t>> read_some(asio::ip::tcp::socket& socket,
                                                                   tls_stream* tls,
                                                                   asio::mutable_buffer buffer);

}  // namespace rtmp::net
