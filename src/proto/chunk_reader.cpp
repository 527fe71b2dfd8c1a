#include "rtmp/proto/chunk_reader.hpp"

#include <algorithm>
#include <cstring>

#include "rtmp/error.hpp"
#include "rtmp/proto/aggregate.hpp"
#include "rtmp/proto/byte_order.hpp"
#include "rtmp/proto/control_message.hpp"

namespace rtmp::proto {
namespace {

constexpr std::uint32_t timestamp_escape = 0xFFFFFF;  // RTMP 1.0 section 5.3.1.3
constexpr std::size_t message_header_size[4] = {11, 7, 3, 0};

std::size_t basic_header_size(std::uint8_t first) noexcept {
  switch (first & 0x3F) {
    case 0: return 2;
    case 1: return 3;
    default: return 1;
  }
}

// Chunk stream id from a complete basic header (RTMP 1.0 section 5.3.1.1).
std::uint32_t basic_header_csid(const std::uint8_t* h) noexcept {
  switch (h[0] & 0x3F) {
    case 0: return 64u + h[1];
    case 1: return 64u + h[1] + 256u * h[2];
    default: return h[0] & 0x3Fu;
  }
}

}  // namespace

chunk_reader::chunk_reader(chunk_reader_limits limits) : limits_(limits) {
  limits_.min_chunk_size = std::max<std::uint32_t>(1, limits_.min_chunk_size);
  limits_.initial_payload_allocation = std::max<std::size_t>(1, limits_.initial_payload_allocation);
  chunk_size_ = std::min<std::uint32_t>(128, limits_.max_message_size);
}

std::error_code chunk_reader::feed(std::span<const std::uint8_t> bytes) {
  if (error_) return error_;
  bytes_received_ += bytes.size();
  error_ = process(bytes);
  return error_;
}

bool chunk_reader::next(message& out) {
  if (ready_pos_ == ready_.size()) return false;
  out = std::move(ready_[ready_pos_++]);
  if (ready_pos_ == ready_.size()) {
    ready_.clear();  // keeps capacity: no allocation in steady state
    ready_pos_ = 0;
  }
  return true;
}

std::error_code chunk_reader::process(std::span<const std::uint8_t> in) {
  while (!in.empty()) {
    if (phase_ == phase::header) {
      // Gather the header in header_ until it is complete; its size depends
      // on bytes already read, so ask again after every copy.
      std::size_t need = header_bytes_needed();
      while (header_len_ < need) {
        if (in.empty()) return {};
        const std::size_t n = std::min(need - header_len_, in.size());
        std::memcpy(header_ + header_len_, in.data(), n);
        header_len_ += n;
        in = in.subspan(n);
        need = header_bytes_needed();
      }
      std::span<const std::uint8_t> leftover;
      if (auto ec = parse_header(leftover)) return ec;
      if (!leftover.empty()) {
        // Bytes we peeked for an extended timestamp that turned out to be
        // payload (the sender omits the field on fmt 3 chunks). They were
        // copied out of header_, so re-processing them cannot alias.
        std::uint8_t copy[4];
        std::memcpy(copy, leftover.data(), leftover.size());
        if (auto ec = process(std::span<const std::uint8_t>(copy, leftover.size()))) return ec;
      }
    } else {
      chunk_stream& cs = streams_[current_];
      const std::size_t n = std::min<std::size_t>(chunk_remaining_, in.size());
      if (auto ec = append_payload(cs, in.first(n))) return ec;
      in = in.subspan(n);
      chunk_remaining_ -= static_cast<std::uint32_t>(n);
      if (chunk_remaining_ == 0) {
        phase_ = phase::header;
        if (cs.received == cs.length) {
          if (auto ec = complete_message(cs)) return ec;
        }
      }
    }
  }
  return {};
}

std::size_t chunk_reader::header_bytes_needed() {
  if (header_len_ == 0) return 1;
  const std::size_t basic = basic_header_size(header_[0]);
  if (header_len_ < basic) return basic;
  const unsigned fmt = header_[0] >> 6;
  const std::size_t base = basic + message_header_size[fmt];
  if (header_len_ < base) return base;
  if (fmt < 3) {
    return load_be24(header_ + basic) == timestamp_escape ? base + 4 : base;
  }
  // fmt 3 repeats the extended timestamp when the chunk stream's last header
  // had one (RTMP 1.0 section 5.3.1.3). Some senders omit it, so peek 4 bytes
  // and decide in parse_header().
  const chunk_stream* cs = find_stream(basic_header_csid(header_));
  return (cs != nullptr && cs->extended) ? base + 4 : base;
}

std::error_code chunk_reader::parse_header(std::span<const std::uint8_t>& leftover) {
  const std::size_t basic = basic_header_size(header_[0]);
  const unsigned fmt = header_[0] >> 6;
  const std::uint32_t csid = basic_header_csid(header_);
  const std::uint8_t* mh = header_ + basic;
  const std::size_t header_len = header_len_;
  header_len_ = 0;

  std::size_t index = 0;
  if (auto ec = find_or_add_stream(csid, index)) return ec;
  chunk_stream& cs = streams_[index];

  if (cs.in_message && fmt != 3) {
    // A fmt 0/1/2 header starts a new message; one is still half received.
    // Merging would corrupt it and re-declaring the length lets a peer grow
    // a buffer past its budget (HOSTILE-CASES T-13, T-15), so close.
    if (fmt <= 1 && load_be24(mh + 3) != cs.length) return errc::message_length_changed;
    return errc::message_interrupted;
  }

  bool new_message = !cs.in_message;
  if (fmt < 3) {
    std::uint32_t field = load_be24(mh);
    const bool extended = field == timestamp_escape;
    if (extended) field = load_be32(mh + message_header_size[fmt]);
    if (fmt == 0) {
      cs.length = load_be24(mh + 3);
      cs.type = mh[6];
      cs.stream_id = load_le32(mh + 7);
      cs.timestamp = field;
      // "If a Type 3 chunk follows a Type 0 chunk, then the timestamp delta
      // for this Type 3 chunk is the same as the timestamp of the Type 0
      // chunk." (RTMP 1.0 section 5.3.1.2.4)
      cs.delta = field;
    } else {
      if (fmt == 1) {
        cs.length = load_be24(mh + 3);
        cs.type = mh[6];
      }
      // fmt 1/2 as the first header of a chunk stream are accepted with
      // message stream id 0 (librtmp sends pings this way, T-16).
      cs.delta = field;
      cs.timestamp += field;
    }
    cs.extended = extended;
    cs.extended_value = field;
    cs.has_header = true;
  } else {
    if (!cs.has_header) return errc::chunk_no_previous_header;
    if (cs.extended) {
      const std::uint8_t* peek = mh;  // message header is empty for fmt 3
      if (load_be32(peek) != cs.extended_value) {
        // Not a repeat of the extended timestamp: those 4 bytes belong to
        // what follows (the payload, or for tiny chunks the next header).
        leftover = std::span<const std::uint8_t>(peek, header_len - basic);
      }
    }
    if (new_message) cs.timestamp += cs.delta;
  }

  if (new_message) {
    if (auto ec = start_message(cs)) return ec;
    if (cs.length == 0) {
      // An empty message has no payload chunk at all.
      return complete_message(cs);
    }
  }
  current_ = index;
  chunk_remaining_ = std::min(chunk_size_, cs.length - cs.received);
  phase_ = phase::payload;
  return {};
}

std::uint32_t chunk_reader::max_size_for_type(std::uint8_t type) const noexcept {
  switch (static_cast<message_type>(type)) {
    case message_type::set_chunk_size:
    case message_type::abort:
    case message_type::acknowledgement:
    case message_type::user_control:
    case message_type::window_ack_size:
    case message_type::set_peer_bandwidth:
      return std::min(limits_.max_control_size, limits_.max_message_size);
    case message_type::shared_object_amf3:
    case message_type::command_amf3:
    case message_type::shared_object_amf0:
    case message_type::command_amf0:
      return std::min(limits_.max_command_size, limits_.max_message_size);
    case message_type::data_amf3:
    case message_type::data_amf0:
      return std::min(limits_.max_data_size, limits_.max_message_size);
    default:
      return limits_.max_message_size;
  }
}

std::error_code chunk_reader::start_message(chunk_stream& cs) {
  // Checked on the header, before any payload is buffered (T-19).
  if (cs.length > max_size_for_type(cs.type)) return errc::message_too_large;
  cs.received = 0;
  if (cs.length == 0) return {};
  if (open_streams_ >= limits_.max_open_chunk_streams) return errc::too_many_chunk_streams;
  const std::size_t capacity = std::min<std::size_t>(cs.length, limits_.initial_payload_allocation);
  if (partial_bytes_ + capacity > limits_.max_partial_bytes) return errc::partial_bytes_exceeded;
  cs.partial = writable_bytes(capacity);
  partial_bytes_ += capacity;
  ++open_streams_;
  cs.in_message = true;
  return {};
}

std::error_code chunk_reader::append_payload(chunk_stream& cs, std::span<const std::uint8_t> bytes) {
  const std::size_t needed = std::size_t{cs.received} + bytes.size();
  if (needed > cs.partial.size()) {
    // Grow by doubling, never past the declared length, and only as bytes
    // actually arrive.
    const std::size_t old_capacity = cs.partial.size();
    const std::size_t capacity = std::min<std::size_t>(cs.length, std::max(needed, old_capacity * 2));
    if (partial_bytes_ - old_capacity + capacity > limits_.max_partial_bytes) {
      return errc::partial_bytes_exceeded;
    }
    writable_bytes grown(capacity);
    std::memcpy(grown.data(), cs.partial.data(), cs.received);
    cs.partial = std::move(grown);
    partial_bytes_ = partial_bytes_ - old_capacity + capacity;
  }
  std::memcpy(cs.partial.data() + cs.received, bytes.data(), bytes.size());
  cs.received += static_cast<std::uint32_t>(bytes.size());
  return {};
}

std::error_code chunk_reader::complete_message(chunk_stream& cs) {
  message msg;
  msg.type = cs.type;
  msg.timestamp = cs.timestamp;
  msg.stream_id = cs.stream_id;
  if (cs.in_message) {
    partial_bytes_ -= cs.partial.size();
    --open_streams_;
    cs.in_message = false;
    msg.payload = std::move(cs.partial).freeze();
  }
  cs.received = 0;

  if (is_protocol_control(msg.type)) {
    if (auto ec = apply_control(msg)) return ec;
  }
  if (msg.type == static_cast<std::uint8_t>(message_type::aggregate) && limits_.split_aggregates) {
    return split_aggregate(msg, ready_);
  }
  ready_.push_back(std::move(msg));
  return {};
}

std::error_code chunk_reader::apply_control(const message& msg) {
  switch (msg.kind()) {
    case message_type::set_chunk_size: {
      std::uint32_t size = 0;
      if (auto ec = parse_set_chunk_size(msg.payload.span(), size)) return ec;
      if (size < limits_.min_chunk_size) return errc::chunk_size_below_floor;
      // Any legal value is accepted; a chunk can never usefully exceed the
      // largest message, and nothing is allocated from it (T-07).
      chunk_size_ = std::min(size, limits_.max_message_size);
      return {};
    }
    case message_type::abort: {
      std::uint32_t csid = 0;
      if (auto ec = parse_u32_control(msg.payload.span(), csid)) return ec;
      // Only a partial message is discarded; unknown chunk streams are
      // ignored (T-10, T-11).
      if (chunk_stream* target = find_stream(csid)) discard_partial(*target);
      return {};
    }
    default:
      return {};
  }
}

void chunk_reader::discard_partial(chunk_stream& cs) noexcept {
  if (!cs.in_message) return;
  partial_bytes_ -= cs.partial.size();
  --open_streams_;
  cs.partial = writable_bytes();
  cs.in_message = false;
  cs.received = 0;
  if (phase_ == phase::payload && &streams_[current_] == &cs) phase_ = phase::header;
}

chunk_reader::chunk_stream* chunk_reader::find_stream(std::uint32_t csid) noexcept {
  for (auto& cs : streams_) {
    if (cs.csid == csid) return &cs;
  }
  return nullptr;
}

std::error_code chunk_reader::find_or_add_stream(std::uint32_t csid, std::size_t& index) {
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    if (streams_[i].csid == csid) {
      index = i;
      return {};
    }
  }
  if (streams_.size() >= limits_.max_chunk_streams) return errc::too_many_chunk_streams;
  streams_.push_back(chunk_stream{});
  streams_.back().csid = csid;
  index = streams_.size() - 1;
  return {};
}

}  // namespace rtmp::proto
