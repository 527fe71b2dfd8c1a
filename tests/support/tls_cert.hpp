#pragma once
// A self-signed certificate made at test time (OpenSSL 3 API): an EC P-256
// key and an X.509 v3 certificate for CN=localhost with subjectAltName
// DNS:localhost and IP:127.0.0.1 (or other names), valid from an hour ago for a day, written
// as PEM files. Nothing is checked in: every run makes its own.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "support/net.hpp"

namespace rtmp::test {

/// Paths of a PEM certificate and key.
struct tls_files {
  std::string cert;  ///< The certificate (also usable as the CA file that trusts it).
  std::string key;   ///< Its private key.
};

/// Writes `dir`/cert.pem and `dir`/key.pem; returns their paths, or empty
/// paths when OpenSSL failed. `names` is the subjectAltName value.
inline tls_files make_self_signed_certificate(const std::string& dir,
                                              const char* names = "DNS:localhost,IP:127.0.0.1") {
  struct free_pkey {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  };
  struct free_x509 {
    void operator()(X509* p) const { X509_free(p); }
  };
  struct close_file {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<EVP_PKEY, free_pkey> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, free_x509> cert(X509_new());
  if (!key || !cert) return {};
  X509_set_version(cert.get(), 2);  // v3
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);  // self-signed
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, names},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) return {};
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return {};

  tls_files files{dir + "/cert.pem", dir + "/key.pem"};
  std::unique_ptr<std::FILE, close_file> cf(std::fopen(files.cert.c_str(), "w"));
  std::unique_ptr<std::FILE, close_file> kf(std::fopen(files.key.c_str(), "w"));
  if (!cf || !kf) return {};
  if (PEM_write_X509(cf.get(), cert.get()) != 1) return {};
  if (PEM_write_PrivateKey(kf.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  return files;
}

/// True when a TLS handshake with 127.0.0.1:`port` succeeds and the
/// server's certificate chains to `ca_file` (the host name is not checked).
inline bool tls_handshake_trusts(std::uint16_t port, const std::string& ca_file) {
  struct free_ctx {
    void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  };
  struct free_ssl {
    void operator()(SSL* p) const { SSL_free(p); }
  };
  std::unique_ptr<SSL_CTX, free_ctx> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) return false;
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  const int fd = connect_loopback(port);
  if (fd < 0) return false;
  const timeval bound{5, 0};  // a server that never answers fails the check instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
  std::unique_ptr<SSL, free_ssl> ssl(SSL_new(ctx.get()));
  bool ok = false;
  if (ssl && SSL_set_fd(ssl.get(), fd) == 1) {
    ok = SSL_connect(ssl.get()) == 1 && SSL_get_verify_result(ssl.get()) == X509_V_OK;
  }
  ::close(fd);
  return ok;
}

}  // namespace rtmp::test
