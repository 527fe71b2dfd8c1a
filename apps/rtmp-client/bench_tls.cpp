// RTMPS for `rtmp-client bench` (see bench_tls.hpp): OpenSSL on the
// connection's non-blocking socket, its outcomes turned into tls_steps, and
// a certificate refusal turned into an error that says why.
#include "bench_tls.hpp"

#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <utility>

#include "net/tls.hpp"

namespace rtmp::bench {

namespace {

// Why a certificate was refused: X509_V_ERR_* values, in OpenSSL's words.
class certificate_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rtmp.bench.certificate"; }
  std::string message(int value) const override {
    return std::string("certificate verify failed: ") + ::X509_verify_cert_error_string(value);
  }
};

const std::error_category& certificate_category() noexcept {
  static const certificate_category_impl category;
  return category;
}

// Says once per process what a refused certificate means for the run.
void log_certificate_refusal(const std::error_code& ec) {
  static std::atomic<bool> logged{false};
  if (logged.exchange(true)) return;
  spdlog::error("TLS: the server's certificate was refused ({}); --ca-file FILE trusts a private CA or a "
                "self-signed certificate, --insecure skips the check",
                ec.message());
}

}  // namespace

// --- tls_client_config -------------------------------------------------------------------------

tls_client_config::tls_client_config(std::unique_ptr<asio::ssl::context> context, std::string host, bool verify)
    : context_(std::move(context)), host_(std::move(host)), verify_(verify) {}

tls_client_config::~tls_client_config() = default;

std::unique_ptr<tls_client_config> tls_client_config::make(const std::string& host, bool verify,
                                                           const std::string& ca_file, std::string& why) {
  auto context = net::make_client_tls_context(verify, ca_file, why);
  if (context == nullptr) return nullptr;
  return std::unique_ptr<tls_client_config>(new tls_client_config(std::move(context), host, verify));
}

// --- tls_session -------------------------------------------------------------------------------

void tls_session::ssl_free::operator()(ssl_st* ssl) const noexcept { ::SSL_free(ssl); }

tls_session::tls_session(const tls_client_config& config)
    : config_(config), ssl_(::SSL_new(config.context_->native_handle())) {}

tls_session::~tls_session() = default;

std::error_code tls_session::attach(int fd) {
  if (ssl_ == nullptr) return std::make_error_code(std::errc::not_enough_memory);
  SSL* const ssl = ssl_.get();
  // Partial writes and a moving buffer: the outbound queue hands out what
  // its front holds, which may be copied elsewhere between two tries.
  // Released buffers: an idle session keeps no record buffer.
  ::SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  // Read-ahead: one read(2) takes what the socket has, not a record header
  // and then its body.
  ::SSL_set_read_ahead(ssl, 1);
  if (::SSL_set_fd(ssl, fd) != 1) {
    ::ERR_clear_error();
    return std::make_error_code(std::errc::not_enough_memory);
  }
  if (const std::error_code ec = net::prepare_client_tls(ssl, config_.host_, config_.verify_)) return ec;
  ::SSL_set_connect_state(ssl);
  return {};
}

tls_step tls_session::failure(int ret, std::size_t bytes, int sys_errno) const {
  SSL* const ssl = ssl_.get();
  switch (::SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
      return {tls_want::read, bytes, {}};
    case SSL_ERROR_WANT_WRITE:
      return {tls_want::write, bytes, {}};
    case SSL_ERROR_ZERO_RETURN:
      return {tls_want::closed, bytes, {}};
    case SSL_ERROR_SYSCALL: {
      const unsigned long e = ::ERR_get_error();
      ::ERR_clear_error();
      if (e != 0) return {tls_want::failed, bytes, {static_cast<int>(e), asio::error::get_ssl_category()}};
      // No error queued and errno 0: the server closed TCP without close_notify.
      if (sys_errno == 0) return {tls_want::closed, bytes, {}};
      return {tls_want::failed, bytes, {sys_errno, std::system_category()}};
    }
    default: {
      const unsigned long e = ::ERR_get_error();
      ::ERR_clear_error();
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
      // OpenSSL 3's word for a TCP close without close_notify: the server went.
      if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return {tls_want::closed, bytes, {}};
#endif
      if (ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        const long verdict = ::SSL_get_verify_result(ssl);
        if (verdict != X509_V_OK) return {tls_want::failed, bytes, {static_cast<int>(verdict), certificate_category()}};
      }
      if (e == 0) return {tls_want::failed, bytes, std::make_error_code(std::errc::protocol_error)};
      return {tls_want::failed, bytes, {static_cast<int>(e), asio::error::get_ssl_category()}};
    }
  }
}

tls_step tls_session::handshake() {
  // OpenSSL reads the outcome of a call from the thread's error queue,
  // which must be empty before it (SSL_get_error(3)).
  ::ERR_clear_error();
  errno = 0;
  const int ret = ::SSL_connect(ssl_.get());
  if (ret == 1) return {};
  const tls_step step = failure(ret, 0, errno);
  if (step.want == tls_want::failed && is_certificate_error(step.ec)) log_certificate_refusal(step.ec);
  return step;
}

tls_step tls_session::read(std::span<std::uint8_t> into) {
  std::size_t filled = 0;
  while (filled < into.size()) {
    ::ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    const int ret = ::SSL_read_ex(ssl_.get(), into.data() + filled, into.size() - filled, &n);
    if (ret != 1) return failure(ret, filled, errno);
    filled += n;
  }
  return {tls_want::nothing, filled, {}};
}

tls_step tls_session::write(std::span<const std::uint8_t> bytes) {
  ::ERR_clear_error();
  errno = 0;
  std::size_t n = 0;
  const int ret = ::SSL_write_ex(ssl_.get(), bytes.data(), bytes.size(), &n);
  if (ret == 1) return {tls_want::nothing, n, {}};
  return failure(ret, 0, errno);
}

std::uint64_t tls_session::wire_bytes_read() const noexcept {
  BIO* const rbio = ssl_ ? ::SSL_get_rbio(ssl_.get()) : nullptr;
  return rbio != nullptr ? ::BIO_number_read(rbio) : 0;
}

bool is_certificate_error(const std::error_code& ec) noexcept { return ec.category() == certificate_category(); }

}  // namespace rtmp::bench
