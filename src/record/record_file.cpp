#include "record/record_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/proto/amf0_value.hpp"

namespace rtmp::net {

namespace {

namespace amf0 = proto::amf0;

constexpr std::uint8_t script_tag = 18;
constexpr std::string_view duration_key = "duration";
constexpr std::string_view filesize_key = "filesize";

std::error_code last_errno() { return {errno, std::generic_category()}; }

// Writes all of `data` at the current offset (retrying short writes and EINTR).
std::error_code write_all(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_errno();
    }
    if (n == 0) return std::make_error_code(std::errc::io_error);
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

// True when `payload[at..]` is the encoding of property name `key` followed
// by the Number marker: where the placeholder's double starts after it.
bool names_number_at(const std::vector<std::uint8_t>& payload, std::size_t at, std::string_view key) {
  if (at + 2 + key.size() + 1 + 8 > payload.size()) return false;
  if (payload[at] != 0 || payload[at + 1] != key.size()) return false;
  if (std::memcmp(payload.data() + at + 2, key.data(), key.size()) != 0) return false;
  return payload[at + 2 + key.size()] == 0x00;  // Number marker
}

}  // namespace

record_file::~record_file() { abandon(); }

std::error_code record_file::open(const std::filesystem::path& path, proto::flv_header_flags flags) {
  if (fd_ >= 0) return std::make_error_code(std::errc::device_or_resource_busy);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return last_errno();
  fd_ = fd;
  path_ = path;
  writer_ = proto::flv_writer(flags);
  buffer_.clear();
  written_ = 0;
  duration_at_ = filesize_at_ = 0;
  buffered_since_ = clock::now();
  writer_.write_header(buffer_);
  // The header alone is written at once: even an empty recording is an FLV file.
  return flush();
}

std::error_code record_file::write_metadata(std::span<const std::uint8_t> payload) {
  if (fd_ < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  amf0::ecma_array props;
  props.push_back(std::string(duration_key), 0.0);
  props.push_back(std::string(filesize_key), 0.0);
  std::vector<amf0::value> values;
  if (!payload.empty() && amf0::decode_all(payload, values).ok() && values.size() >= 2 &&
      values[0].as_string() == "onMetaData") {
    const amf0::property_list* list = nullptr;
    if (const auto* o = values[1].as_object()) list = &o->properties();
    if (const auto* a = values[1].as_ecma_array()) list = &a->properties();
    if (list != nullptr) {
      for (const auto& p : *list) {
        if (p.key != duration_key && p.key != filesize_key) props.push_back(p.key, p.val);
      }
    }
  }
  std::vector<std::uint8_t> body;
  if (auto ec = amf0::encode(amf0::value("onMetaData"), body)) return ec;
  const std::size_t array_at = body.size();
  if (auto ec = amf0::encode(amf0::value(std::move(props)), body)) return ec;
  // ECMA array: marker (1) and count (4), then "duration" Number, "filesize" Number.
  const std::size_t duration_prop = array_at + 5;
  const std::size_t filesize_prop = duration_prop + 2 + duration_key.size() + 1 + 8;
  const std::uint64_t tag_start = size();
  if (auto ec = write_tag(script_tag, 0, body)) return ec;
  if (names_number_at(body, duration_prop, duration_key) && names_number_at(body, filesize_prop, filesize_key)) {
    duration_at_ = tag_start + proto::flv_tag_header_size + duration_prop + 2 + duration_key.size() + 1;
    filesize_at_ = tag_start + proto::flv_tag_header_size + filesize_prop + 2 + filesize_key.size() + 1;
  }
  return {};
}

std::error_code record_file::write_tag(std::uint8_t type, std::uint32_t timestamp,
                                       std::span<const std::uint8_t> payload) {
  if (fd_ < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  if (buffer_.empty()) buffered_since_ = clock::now();
  if (auto ec = writer_.write_tag(type, timestamp, payload, buffer_)) return ec;  // nothing appended
  if (buffer_.size() >= flush_bytes_) return flush();
  return {};
}

std::error_code record_file::flush_if_due(clock::time_point now) {
  if (fd_ < 0 || buffer_.empty() || now - buffered_since_ < flush_interval_) return {};
  return flush();
}

std::error_code record_file::flush() {
  if (fd_ < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  if (buffer_.empty()) return {};
  if (auto ec = write_all(fd_, buffer_.data(), buffer_.size())) {
    // Leave whole tags only: cut a partial write off again (best effort).
    (void)::ftruncate(fd_, static_cast<off_t>(written_));
    return fail(ec);
  }
  written_ += buffer_.size();
  buffer_.clear();
  return {};
}

std::error_code record_file::pwrite_double(std::uint64_t offset, double v) noexcept {
  std::uint8_t be[8];
  const auto bits = std::bit_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) be[i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  const ssize_t n = ::pwrite(fd_, be, sizeof be, static_cast<off_t>(offset));
  if (n != static_cast<ssize_t>(sizeof be)) return n < 0 ? last_errno() : std::make_error_code(std::errc::io_error);
  return {};
}

std::error_code record_file::close(std::uint32_t duration_ms) {
  if (fd_ < 0) return {};
  std::error_code ec = flush();
  if (fd_ < 0) return ec;
  if (duration_at_ != 0) ec = pwrite_double(duration_at_, static_cast<double>(duration_ms) / 1000.0);
  if (!ec && filesize_at_ != 0) ec = pwrite_double(filesize_at_, static_cast<double>(written_));
  if (::close(fd_) != 0 && !ec) ec = last_errno();
  fd_ = -1;
  return ec;
}

void record_file::abandon() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

std::error_code record_file::fail(std::error_code ec) noexcept {
  abandon();
  return ec;
}

}  // namespace rtmp::net
