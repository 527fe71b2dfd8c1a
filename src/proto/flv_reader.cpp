#include "rtmp/proto/flv_reader.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "rtmp/error.hpp"
#include "rtmp/proto/byte_order.hpp"

namespace rtmp::proto {

namespace {

constexpr std::uint8_t flv_signature[3] = {'F', 'L', 'V'};

// FLV spec annex E.4.1: byte 0 of a tag header is Reserved (2 bits, "reserved
// for FMS, should be 0"), Filter (1 bit), TagType (5 bits).
constexpr std::uint8_t tag_filter_bit = 0x20;
constexpr std::uint8_t tag_type_mask = 0x1f;

bool known_tag_type(std::uint8_t type) noexcept {
  return type == static_cast<std::uint8_t>(flv_tag_type::audio) ||
         type == static_cast<std::uint8_t>(flv_tag_type::video) ||
         type == static_cast<std::uint8_t>(flv_tag_type::script);
}

}  // namespace

flv_reader::flv_reader(flv_reader_limits limits) : limits_(limits) {}

std::error_code flv_reader::feed(std::span<const std::uint8_t> bytes) {
  if (error_) return error_;
  while (!bytes.empty()) {
    switch (phase_) {
      case phase::file_header: {
        const std::size_t n = std::min(flv_header_size - buf_len_, bytes.size());
        std::memcpy(buf_ + buf_len_, bytes.data(), n);
        // Check the signature as soon as its bytes arrive, so non-FLV input
        // fails on its first wrong byte even when fed one byte at a time.
        for (std::size_t i = buf_len_; i < std::min(buf_len_ + n, sizeof flv_signature); ++i) {
          if (buf_[i] != flv_signature[i]) {
            bytes_consumed_ += i - buf_len_ + 1;
            return error_ = errc::flv_malformed;
          }
        }
        buf_len_ += n;
        bytes_consumed_ += n;
        bytes = bytes.subspan(n);
        if (buf_len_ == flv_header_size) {
          if (auto ec = parse_file_header()) return error_ = ec;
        }
        break;
      }
      case phase::header_skip: {
        const std::size_t n = std::min<std::size_t>(skip_remaining_, bytes.size());
        skip_remaining_ -= static_cast<std::uint32_t>(n);
        bytes_consumed_ += n;
        bytes = bytes.subspan(n);
        if (skip_remaining_ == 0) phase_ = phase::previous_size;
        break;
      }
      case phase::previous_size: {
        const std::size_t n = std::min(flv_previous_tag_size_size - buf_len_, bytes.size());
        std::memcpy(buf_ + buf_len_, bytes.data(), n);
        buf_len_ += n;
        bytes_consumed_ += n;
        bytes = bytes.subspan(n);
        if (buf_len_ == flv_previous_tag_size_size) {
          check_previous_size();
          buf_len_ = 0;
          phase_ = phase::tag_header;
        }
        break;
      }
      case phase::tag_header: {
        const std::size_t n = std::min(flv_tag_header_size - buf_len_, bytes.size());
        std::memcpy(buf_ + buf_len_, bytes.data(), n);
        buf_len_ += n;
        bytes_consumed_ += n;
        bytes = bytes.subspan(n);
        if (buf_len_ == flv_tag_header_size) {
          if (auto ec = parse_tag_header()) return error_ = ec;
        }
        break;
      }
      case phase::payload: {
        const std::size_t n = std::min(payload_.size() - payload_filled_, bytes.size());
        std::memcpy(payload_.data() + payload_filled_, bytes.data(), n);
        payload_filled_ += n;
        bytes_consumed_ += n;
        bytes = bytes.subspan(n);
        if (payload_filled_ == payload_.size()) complete_tag();
        break;
      }
    }
  }
  return {};
}

std::error_code flv_reader::parse_file_header() {
  // FLV spec annex E.2: Signature "FLV", Version (UI8), TypeFlags (UI8:
  // reserved 5 bits, audio, reserved, video), DataOffset (UI32, the header's
  // own size: 9 for version 1; larger values leave room for future fields).
  version_ = buf_[3];
  flags_ = buf_[4];
  data_offset_ = load_be32(buf_ + 5);
  if (data_offset_ < flv_header_size || data_offset_ > limits_.max_data_offset) {
    return errc::flv_malformed;
  }
  header_parsed_ = true;
  buf_len_ = 0;
  skip_remaining_ = data_offset_ - static_cast<std::uint32_t>(flv_header_size);
  phase_ = skip_remaining_ ? phase::header_skip : phase::previous_size;
  return {};
}

void flv_reader::check_previous_size() noexcept {
  // Tolerated on mismatch (see the class comment); only counted.
  if (load_be32(buf_) != expected_previous_size_) ++prev_size_mismatches_;
}

std::error_code flv_reader::parse_tag_header() {
  if (buf_[0] & tag_filter_bit) return errc::flv_encrypted;
  const std::uint8_t type = buf_[0] & tag_type_mask;
  if (!known_tag_type(type) && !limits_.accept_unknown_tag_types) return errc::flv_malformed;
  const std::uint32_t size = load_be24(buf_ + 1);
  if (size > limits_.max_tag_size) return errc::flv_tag_too_large;
  // Annex E.4.1: Timestamp holds the low 24 bits, TimestampExtended the upper 8.
  tag_type_ = type;
  tag_timestamp_ = load_be24(buf_ + 4) | (std::uint32_t{buf_[7]} << 24);
  // buf_[8..10]: StreamID, always 0 per the spec; ignored.
  expected_previous_size_ = static_cast<std::uint32_t>(flv_tag_header_size) + size;
  buf_len_ = 0;
  payload_ = writable_bytes(size);
  payload_filled_ = 0;
  if (size == 0) {
    complete_tag();
  } else {
    phase_ = phase::payload;
  }
  return {};
}

void flv_reader::complete_tag() {
  flv_tag tag;
  tag.type = tag_type_;
  tag.timestamp = tag_timestamp_;
  tag.payload = std::move(payload_).freeze();
  payload_ = writable_bytes();
  payload_filled_ = 0;
  if (ready_pos_ == ready_.size()) {
    ready_.clear();
    ready_pos_ = 0;
  }
  ready_.push_back(std::move(tag));
  ++tags_read_;
  phase_ = phase::previous_size;
}

std::error_code flv_reader::finish() const noexcept {
  if (error_) return error_;
  if (phase_ == phase::tag_header && buf_len_ == 0) return {};
  return errc::flv_truncated;
}

bool flv_reader::next(flv_tag& out) {
  if (ready_pos_ == ready_.size()) return false;
  out = std::move(ready_[ready_pos_++]);
  if (ready_pos_ == ready_.size()) {
    ready_.clear();
    ready_pos_ = 0;
  }
  return true;
}

}  // namespace rtmp::proto
