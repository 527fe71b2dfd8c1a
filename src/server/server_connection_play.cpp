// The playing part of an RTMP connection: a play request, the fast start
// from the stream's snapshot, the hub's deliveries through the player
// policy, and the direct write of a batch to a player that keeps up.
#include "server/server_connection.hpp"

#include <spdlog/spdlog.h>

#include "net/socket_writer.hpp"

namespace rtmp::net {

using level = spdlog::level::level_enum;

void server_connection::on_play_request(const proto::session_event& ev) {
  if (busy()) {
    session_.reject_play(ev.stream_id, "NetStream.Play.Failed", "Connection is already busy.");
    return;
  }
  authorize(ev, false);
}

void server_connection::start_play(const proto::session_event& ev) {
  const std::string key = hub::stream_key(session_.app(), ev.name);
  stream_name_ = key;
  const bool pulled = services_.relays.on_play(session_.app(), key, worker_);  // edge: starts the pull
  if (!config_.wait_for_publisher && !pulled) {
    auto existing = services_.streams.find(key);
    if (existing == nullptr || !existing->publishing()) {
      log_limited(level::info, "play refused", "{} play refused: stream not found", tag());
      session_.reject_play(ev.stream_id, "NetStream.Play.StreamNotFound", key + " is not being published.");
      return;
    }
  }
  session_.accept_play(ev.stream_id);
  services_.metrics.set_role(*entry_, connection_role::playing, key);
  const hub::stream_snapshot snap = player_.subscribe(services_.streams, key, this, ev.stream_id);
  role_since_ = clock::now();
  flush_session_output();
  if (snap.publishing) queue_snapshot(snap);
  log_limited(level::info, "play", "{} play{}", tag(), snap.publishing ? "" : " (waiting for publisher)");
}

void server_connection::queue_snapshot(const hub::stream_snapshot& snap) {
  // Fast start: metadata and sequence headers, then the GOP from its
  // keyframe, so the player can decode at once.
  for (const auto& p : snap.start_sequence()) queue_packet(p);
  flush();
}

void server_connection::stop_playing() {
  if (!player_.active()) return;
  if (entry_ && !closed_) services_.metrics.set_role(*entry_, connection_role::negotiating, {});
  player_.stop(this, services_.streams);
  notify_end(false);
}

// --- hub callbacks (on this worker) ------------------------------------------------

void server_connection::on_media(std::span<const hub::packet_ptr> batch) {
  if (closed_ || closing_) return;
  // With write coalescing the hub already gathered a window's media into
  // this batch (hub::stream_config::write_coalesce): it leaves in one write.
  if (out_.empty() && !write_busy_ && !write_failed_ && tls_ == nullptr &&
      player_.plays_hub_wire() && batch.size() <= max_write_buffers) {
    write_batch_now(batch);
    return;
  }
  for (const auto& p : batch) queue_packet(p);
  flush();
}

void server_connection::on_publish_start() {
  if (closed_ || closing_ || !player_.active()) return;
  session_.notify_published(player_.stream_id());
  player_.policy().wait_for_keyframe();
  flush_session_output();
  spdlog::info("{} publisher started", tag());
}

void server_connection::on_publish_stop() {
  if (closed_ || closing_ || !player_.active()) return;
  session_.notify_unpublished(player_.stream_id());
  flush_session_output();
  spdlog::info("{} publisher stopped; player waits", tag());
}

// --- queueing ---------------------------------------------------------------------

void server_connection::write_batch_now(std::span<const hub::packet_ptr> batch) {
  // The usual case of a player that keeps up: nothing is queued, so the
  // packets' shared wire bytes are written as they are, without a queue
  // entry (and a reference count) per packet; only what the socket does not
  // take is queued. The batch keeps the bytes alive during the write.
  thread_local std::vector<const hub::media_packet*> picked;
  thread_local std::vector<asio::const_buffer> buffers;
  picked.clear();
  buffers.clear();
  std::size_t total = 0;
  for (const auto& p : batch) {
    if (!admit_media(*p, total)) {
      if (closed_) return;  // the slow-player policy closed us
      continue;
    }
    picked.push_back(p.get());
    buffers.emplace_back(p->wire.data(), p->wire.size());
    total += p->wire.size();  // owed from here on: counts against the bound for the rest
  }
  if (picked.empty()) return;
  std::error_code ec;
  const std::size_t n = send_now(socket_, buffers, ec);
  buffers.clear();
  if (ec) {
    fail_write(ec);
    return;
  }
  add_bytes(entry_->bytes_out, n);
  if (n == total) return;
  // The socket is full: queue the rest (the first item possibly part-written).
  std::size_t left = n;
  for (const hub::media_packet* p : picked) {
    const std::size_t size = p->wire.size();
    if (left >= size) {
      left -= size;
      continue;
    }
    out_.push_partial(p->wire, byte_class::media, left);
    left = 0;
  }
  wait_writable();
}

void server_connection::queue_packet(const hub::packet_ptr& p) {
  if (!admit_media(*p, out_.queued(byte_class::media)) || closed_) return;
  player_.queue(*p, out_);
}

bool server_connection::admit_media(const hub::media_packet& p, std::size_t owed) {
  if (closed_ || closing_) return false;
  switch (player_.policy().admit(p, owed, p.wire.size())) {
    case hub::admission::send: return true;
    case hub::admission::skip: return false;
    case hub::admission::disconnect:
      close(close_reason::slow_player_at_bound);
      return false;
    case hub::admission::drop:
      if (player_.policy().started_dropping()) spdlog::warn("{} slow player: dropping until the next keyframe", tag());
      entry_->dropped.fetch_add(1, std::memory_order_relaxed);
      services_.metrics.dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
      return false;
  }
  return false;
}

}  // namespace rtmp::net
