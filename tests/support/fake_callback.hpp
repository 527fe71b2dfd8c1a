#pragma once
// A one-thread HTTP or HTTPS server on loopback that stands for an
// operator's callback endpoint: it answers every request with one status
// (0: reads the request and never answers) and records the requests.

#include <openssl/ssl.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net.hpp"
#include "tls_cert.hpp"

namespace rtmp::test {

/// One request as the callback server saw it.
struct callback_request {
  std::string target;  ///< The request target (path and query).
  std::string body;    ///< The body.
};

/// The fake endpoint; with `tls` files it speaks HTTPS with that certificate.
class fake_callback {
 public:
  explicit fake_callback(int status, tls_files tls = {}) : status_(status) {
    if (!tls.cert.empty()) {
      ctx_ = SSL_CTX_new(TLS_server_method());
      SSL_CTX_use_certificate_chain_file(ctx_, tls.cert.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, tls.key.c_str(), SSL_FILETYPE_PEM);
    }
    fd_ = listen_loopback(port_, 16);
    thread_ = std::thread([this] { run(); });
  }
  ~fake_callback() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }
  fake_callback(const fake_callback&) = delete;
  fake_callback& operator=(const fake_callback&) = delete;

  /// Its URL with `path_and_query` ("https://localhost:PORT/..." with TLS:
  /// the certificate names localhost).
  std::string url(const std::string& path_and_query = "/auth") const {
    return std::string(ctx_ != nullptr ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(port_) +
           path_and_query;
  }
  /// The bodies received so far.
  std::vector<std::string> bodies() {
    std::vector<std::string> out;
    std::lock_guard lock(mutex_);
    for (const auto& r : requests_) out.push_back(r.body);
    return out;
  }
  /// The requests received so far.
  std::vector<callback_request> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  // Reads one request from `c` (through `ssl` when set) within 2 s.
  void read_request(int c, SSL* ssl) {
    std::string in;
    char buf[4096];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ssl == nullptr || SSL_pending(ssl) == 0) {
        pollfd q{c, POLLIN, 0};
        if (::poll(&q, 1, 50) <= 0) continue;
      }
      const int n = ssl != nullptr ? SSL_read(ssl, buf, sizeof buf) : static_cast<int>(::recv(c, buf, sizeof buf, 0));
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
      const auto end = in.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      const auto cl = in.find("Content-Length: ");
      const std::size_t len = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
      if (in.size() < end + 4 + len) continue;
      const auto space = in.find(' ');
      const auto space2 = in.find(' ', space + 1);
      std::lock_guard lock(mutex_);
      requests_.push_back(callback_request{in.substr(space + 1, space2 - space - 1), in.substr(end + 4, len)});
      return;
    }
  }

  void run() {
    std::vector<int> held;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      SSL* ssl = nullptr;
      if (ctx_ != nullptr) {
        timeval two{2, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &two, sizeof two);
        ssl = SSL_new(ctx_);
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) != 1) {  // e.g. the client refused our certificate
          SSL_free(ssl);
          ::close(c);
          continue;
        }
      }
      read_request(c, ssl);
      if (status_ == 0) {
        if (ssl != nullptr) SSL_free(ssl);
        held.push_back(c);  // never answer
        continue;
      }
      const std::string reply = "HTTP/1.1 " + std::to_string(status_) + " X\r\nContent-Length: 0\r\n\r\n";
      if (ssl != nullptr) {
        SSL_write(ssl, reply.data(), static_cast<int>(reply.size()));
        SSL_shutdown(ssl);
        SSL_free(ssl);
      } else {
        (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      }
      ::close(c);
    }
    for (int c : held) ::close(c);
  }

  int status_;
  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<callback_request> requests_;
};

}  // namespace rtmp::test
