#pragma once
/// @file bench_tls.hpp
/// RTMPS for `rtmp-client bench`: the TLS client settings every connection
/// of a run shares, and the TLS session of one connection.
///
/// OpenSSL works the connection's own non-blocking socket (SSL_set_fd); the
/// connection keeps waiting for readiness with Asio's reactor and calls in
/// when the socket is readable or writable, exactly as its plain path reads
/// and writes. So a TLS connection needs no coroutine and no buffer of the
/// bench's own:
/// * decrypted bytes go straight into the caller's buffer: the thread's
///   shared read buffer, as on the plain path;
/// * the ciphertext goes into the session's OpenSSL record buffers (with
///   read-ahead: one system call reads several records), which are freed
///   whenever they are empty (SSL_MODE_RELEASE_BUFFERS), so an idle
///   connection holds none;
/// * writes take plaintext from the connection's outbound queue (a moving
///   write buffer and partial writes are allowed, so the queue consumes
///   what each record took and may grow in between).
///
/// Threading: a session belongs to its connection's thread; the settings
/// are read-only once made and shared by every thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>

struct ssl_st;

namespace asio::ssl {
class context;
}

namespace rtmp::bench {

/// What a TLS call needs before it can go on.
enum class tls_want : std::uint8_t {
  nothing,  ///< Nothing: the handshake is done, the bytes went, or the buffer is full.
  read,     ///< The socket has nothing more: wait until it is readable, then call again.
  write,    ///< The socket is full: wait until it is writable, then call again.
  closed,   ///< The server ended the session (close_notify, or a TCP close without it): no more bytes come.
  failed,   ///< An error (in `ec`): the connection is finished.
};

/// The outcome of one TLS call.
struct tls_step {
  tls_want want = tls_want::nothing;  ///< What to wait for next.
  std::size_t bytes = 0;              ///< Plaintext bytes read or written (also when `want` is not `nothing`).
  std::error_code ec;                 ///< Why it failed (`want` is `failed`).
};

/// The TLS side of a run: a client context (TLS 1.2 or newer, made by the
/// networking layer's make_client_tls_context) and the host its
/// connections name (SNI, and the name or address the certificate must
/// carry when it is checked).
class tls_client_config {
 public:
  /// Settings for connections to `host` (a name or an address, an IPv6
  /// literal without brackets). With `verify`, the server's chain must lead
  /// to `ca_file` (PEM) when given, else to the system's trust store, and
  /// its certificate must name `host`. On failure returns null and sets
  /// `why` (which file, and OpenSSL's reason).
  static std::unique_ptr<tls_client_config> make(const std::string& host, bool verify, const std::string& ca_file,
                                                 std::string& why);
  ~tls_client_config();

  tls_client_config(const tls_client_config&) = delete;
  tls_client_config& operator=(const tls_client_config&) = delete;

 private:
  friend class tls_session;
  tls_client_config(std::unique_ptr<asio::ssl::context> context, std::string host, bool verify);

  std::unique_ptr<asio::ssl::context> context_;
  std::string host_;
  bool verify_ = true;
};

/// One connection's TLS client session. Not copyable; the socket it is
/// attached to is the caller's (never closed here, and it must stay open
/// while the session is used).
class tls_session {
 public:
  /// A session of `config`, which must outlive it. No I/O yet.
  explicit tls_session(const tls_client_config& config);
  ~tls_session();

  tls_session(const tls_session&) = delete;
  tls_session& operator=(const tls_session&) = delete;

  /// Attaches the session to `fd`, a connected non-blocking TCP socket,
  /// and sets SNI and the expected certificate name. Errors: out of memory
  /// (OpenSSL could not make the session), invalid_argument (a host name
  /// OpenSSL refuses).
  std::error_code attach(int fd);

  /// Moves the client handshake on. `nothing` once it is done; `failed`
  /// with an error whose message names the reason, e.g. "certificate
  /// verify failed: self-signed certificate" (logged once per process with
  /// a hint at --ca-file and --insecure).
  tls_step handshake();

  /// Decrypts into `into` until it is full (`nothing`), the socket has
  /// nothing more (`read`), the server closed (`closed`), or an error;
  /// `bytes` says how much of `into` holds data in every case.
  tls_step read(std::span<std::uint8_t> into);

  /// Encrypts and sends from `bytes` (not empty): `bytes` is how much went
  /// (one record or more). After `write` (or `read`) call again with the
  /// same bytes first (more may follow them) once the socket is ready.
  tls_step write(std::span<const std::uint8_t> bytes);

  /// Bytes read from the socket so far: TLS records, the handshake's too.
  std::uint64_t wire_bytes_read() const noexcept;

 private:
  // The step a failed SSL call (returning `ret`, errno then `sys_errno`)
  // leads to, `bytes` having gone before it.
  tls_step failure(int ret, std::size_t bytes, int sys_errno) const;

  struct ssl_free {
    void operator()(ssl_st* ssl) const noexcept;
  };

  const tls_client_config& config_;
  std::unique_ptr<ssl_st, ssl_free> ssl_;
};

/// True when `ec` is a certificate the client refused (its message is
/// "certificate verify failed: " and OpenSSL's reason).
bool is_certificate_error(const std::error_code& ec) noexcept;

}  // namespace rtmp::bench
