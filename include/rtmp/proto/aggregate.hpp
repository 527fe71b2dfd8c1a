#pragma once
/// @file aggregate.hpp
/// Aggregate messages (type 22, RTMP 1.0 section 7.1.6): a body of
/// sub-messages, each an 11-byte FLV-style tag header, the payload and a
/// 4-byte back pointer.

#include <system_error>
#include <vector>

#include "rtmp/proto/message.hpp"

namespace rtmp::proto {

/// Appends the sub-messages of `aggregate` to `out`. Sub-message payloads are
/// slices of the aggregate's payload (no copy). Timestamps are rebased as the
/// spec says: the first sub-message gets the aggregate's timestamp and each
/// other keeps its offset from the first. The sub-messages take the
/// aggregate's message stream id. A back pointer that does not match is
/// tolerated. Errors: aggregate_malformed when a sub-header or payload runs
/// past the end (nothing is appended then).
std::error_code split_aggregate(const message& aggregate, std::vector<message>& out);

}  // namespace rtmp::proto
