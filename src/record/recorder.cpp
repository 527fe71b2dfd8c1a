#include "record/recorder.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <optional>

#include "record/record_file.hpp"
#include "record/record_hook.hpp"
#include "record/record_path.hpp"
#include "rtmp/hub/player_policy.hpp"

namespace rtmp::net {

bool parse_record_mode(std::string_view text, record_mode& out) noexcept {
  if (text == "off") {
    out = record_mode::off;
  } else if (text == "all") {
    out = record_mode::all;
  } else if (text == "video") {
    out = record_mode::video;
  } else if (text == "audio") {
    out = record_mode::audio;
  } else {
    return false;
  }
  return true;
}

/// Sequence headers a recording keeps to lead each new file: at most this
/// many (one per kind and track list; Enhanced RTMP multitrack has up to
/// `hub::max_cached_tracks` tracks per kind).
inline constexpr std::size_t max_record_headers = 2 * hub::max_cached_tracks;

/// One publish session being recorded: a subscriber on the publisher's
/// worker; every member is used on that worker only (or, in `close_all`,
/// after the workers stopped).
class record_session final : public hub::subscriber, public std::enable_shared_from_this<record_session> {
 public:
  record_session(recorder_manager& owner, std::shared_ptr<const recording_config> cfg, std::string app,
                 std::string stream, record_mode mode, std::shared_ptr<hub::stream> s, std::size_t worker)
      : owner_(owner),
        cfg_ptr_(std::move(cfg)),
        cfg_(*cfg_ptr_),
        app_(std::move(app)),
        name_(std::move(stream)),
        mode_(mode),
        stream_(std::move(s)),
        worker_(worker),
        timer_(*owner.workers_.at(worker)),
        file_(cfg_.flush_bytes, cfg_.flush_interval),
        policy_(hub::player_limits{.queue_bytes = std::numeric_limits<std::size_t>::max()}) {}

  std::size_t worker() const noexcept override { return worker_; }

  // Subscribes (on the worker) and records what the stream has cached.
  void begin() {
    const hub::stream_snapshot snap = stream_->subscribe(this);
    subscribed_ = true;
    const auto start = snap.start_sequence();
    for (const auto& p : start) handle(p);
    arm_timer();
  }

  // Ends the recording: the current file is finished (hook started when
  // `run_hook`), the subscription dropped.
  void finish(bool run_hook) {
    if (finished_) return;
    finished_ = true;
    close_file(run_hook);
    timer_.cancel();
    if (subscribed_) {
      subscribed_ = false;
      stream_->unsubscribe(this);
      owner_.streams_.remove_if_unused(stream_);
    }
  }

 protected:
  void on_media(std::span<const hub::packet_ptr> batch) override {
    for (const auto& p : batch) handle(p);
    if (file_.is_open()) check(file_.flush_if_due(record_file::clock::now()));
  }

  void on_publish_start() override {}  // a session records one publish; it ends at the stop

  void on_publish_stop() override {
    finish(true);
    // Released after this callback returns (the stream is iterating its players).
    auto self = shared_from_this();
    owner_.forget(this);
    asio::post(*owner_.workers_.at(worker_), [self] {});
  }

 private:
  bool wanted(const hub::media_packet& p) const {
    if (p.is_video()) return mode_ != record_mode::audio;
    if (p.is_audio()) return mode_ != record_mode::video;
    return true;  // data
  }

  void remember_header(const hub::packet_ptr& p) {
    std::erase_if(headers_, [&](const hub::packet_ptr& h) { return h->msg.type == p->msg.type && h->tracks == p->tracks; });
    if (p->sequence_end) return;
    if (headers_.size() == max_record_headers) headers_.erase(headers_.begin());
    headers_.push_back(p);
  }

  void handle(const hub::packet_ptr& p) {
    if (failed_ || finished_ || !wanted(*p)) return;
    if (p->metadata) {
      metadata_ = p;
      if (file_.is_open()) write(*p, rebase(p->msg.timestamp));
      return;  // else it leads the next file
    }
    if (p->header || p->sequence_end) {
      remember_header(p);
      if (file_.is_open()) write(*p, rebase(p->msg.timestamp));
      return;
    }
    // The hub's player policy: a recording starts at a keyframe (audio
    // before it is kept). A recorder writes as it goes, so it has no bound.
    if (policy_.admit(*p, 0, 0) != hub::admission::send) return;
    const bool media = p->is_video() || p->is_audio();
    if (p->is_video()) video_seen_ = true;
    if (!file_.is_open()) {
      if (!open_file(*p)) return;
    } else if (media && rotation_due() && rotation_point(*p)) {
      close_file(true);
      ++piece_;
      if (!open_file(*p)) return;
    }
    const std::uint32_t ts = rebase(p->msg.timestamp);
    if (media) last_ts_ = std::max(last_ts_, ts);
    write(*p, ts);
  }

  bool rotation_due() const {
    return (cfg_.max_bytes > 0 && file_.size() >= cfg_.max_bytes) ||
           (cfg_.max_duration.count() > 0 &&
            last_ts_ >= std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.max_duration).count());
  }

  bool rotation_point(const hub::media_packet& p) const {
    if (p.is_video()) return p.keyframe;
    return p.is_audio() && !video_seen_;
  }

  // Timestamps relative to the file's first media packet (earlier ones: 0).
  std::uint32_t rebase(std::uint32_t ts) const {
    if (!base_set_) return 0;
    const std::uint32_t d = ts - base_;
    return d >= 0x80000000u ? 0 : d;
  }

  void write(const hub::media_packet& p, std::uint32_t ts) {
    check(file_.write_tag(p.msg.type, ts, p.msg.payload.span()));
  }

  // Opens the next file at packet `first` and writes its lead-in.
  bool open_file(const hub::media_packet& first) {
    const auto now = std::chrono::system_clock::now();
    std::filesystem::path rel;
    if (auto ec = expand_record_pattern(cfg_.pattern, app_, name_, now, piece_, rel)) {
      return stop("record-pattern \"" + cfg_.pattern + "\" does not give a file name inside record-path", ec);
    }
    const std::filesystem::path full = std::filesystem::path(cfg_.path) / rel;
    std::error_code ec;
    std::filesystem::create_directories(full.parent_path(), ec);
    if (ec) return stop("cannot create directory " + full.parent_path().string(), ec);
    proto::flv_header_flags flags;
    bool has_video = first.is_video(), has_audio = first.is_audio();
    for (const auto& h : headers_) (h->is_video() ? has_video : has_audio) = true;
    if (!has_video && !has_audio) has_video = has_audio = true;
    flags.has_video = has_video && mode_ != record_mode::audio;
    flags.has_audio = has_audio && mode_ != record_mode::video;
    std::filesystem::path path = full;
    ec = file_.open(path, flags);
    for (int n = 1; ec == std::errc::file_exists && n <= max_record_name_attempts; ++n) {
      path = numbered_record_path(full, n);
      ec = file_.open(path, flags);
    }
    if (ec) return stop("cannot create " + path.string(), ec);
    base_ = first.msg.timestamp;
    base_set_ = true;
    last_ts_ = 0;
    if (!check(file_.write_metadata(metadata_ ? metadata_->msg.payload.span() : std::span<const std::uint8_t>()))) {
      return false;
    }
    for (const auto& h : headers_) {
      if (!check(file_.write_tag(h->msg.type, 0, h->msg.payload.span()))) return false;
    }
    spdlog::info("record: {}/{} -> {}", app_, name_, path.string());
    return true;
  }

  void close_file(bool run_hook) {
    if (!file_.is_open()) return;
    record_done_info info{app_, name_, file_.path().string(), 0, last_ts_};
    const std::error_code ec = file_.close(last_ts_);
    std::error_code size_ec;
    info.bytes = std::filesystem::file_size(info.path, size_ec);
    if (ec) {
      stop("cannot finish " + info.path, ec);
      return;
    }
    spdlog::info("record: {}/{} finished {} ({} bytes, {} ms)", app_, name_, info.path, info.bytes,
                 info.duration_ms);
    if (run_hook) start_record_done_hook(owner_.workers_.at(worker_)->get_executor(), cfg_, std::move(info),
                                         owner_.hooks_running_);
  }

  // Logs the first error of this session and stops recording it.
  bool stop(const std::string& what, std::error_code ec) {
    if (!failed_) spdlog::error("record: {}/{} stopped: {}: {}", app_, name_, what, ec.message());
    failed_ = true;
    file_.abandon();
    return false;
  }

  bool check(std::error_code ec) {
    if (!ec) return true;
    return stop("cannot write " + file_.path().string(), ec);
  }

  void arm_timer() {
    timer_.expires_after(cfg_.flush_interval);
    timer_.async_wait([weak = weak_from_this()](std::error_code ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self || self->finished_) return;
      if (self->file_.is_open()) self->check(self->file_.flush_if_due(record_file::clock::now()));
      self->arm_timer();
    });
  }

  recorder_manager& owner_;
  const std::shared_ptr<const recording_config> cfg_ptr_;  // the settings it started with
  const recording_config& cfg_;
  const std::string app_;
  const std::string name_;
  const record_mode mode_;
  const std::shared_ptr<hub::stream> stream_;
  const std::size_t worker_;
  asio::steady_timer timer_;
  record_file file_;
  hub::player_policy policy_;  // starts the recording at a keyframe
  hub::packet_ptr metadata_;
  std::vector<hub::packet_ptr> headers_;
  std::uint64_t piece_ = 0;
  std::uint32_t base_ = 0;
  bool base_set_ = false;
  std::uint32_t last_ts_ = 0;
  bool video_seen_ = false;
  bool subscribed_ = false;
  bool failed_ = false;
  bool finished_ = false;
};

recorder_manager::recorder_manager(recording_config cfg, hub::hub& streams, std::vector<asio::io_context*> workers)
    : streams_(streams),
      workers_(std::move(workers)),
      hooks_running_(std::make_shared<std::atomic<std::size_t>>(0)),
      cfg_(std::move(cfg)) {}

recorder_manager::~recorder_manager() { close_all(); }

std::shared_ptr<const recording_config> recorder_manager::config() const { return cfg_.load(); }

void recorder_manager::set_config(recording_config cfg) { cfg_.store(std::move(cfg)); }

namespace {
record_mode mode_in(const recording_config& cfg, std::string_view app) {
  const auto it = cfg.apps.find(std::string(app));
  return it == cfg.apps.end() ? record_mode::off : it->second;
}
}  // namespace

record_mode recorder_manager::mode_for(std::string_view app) const { return mode_in(*config(), app); }

void recorder_manager::on_publish_start(std::string_view app, std::string_view key,
                                        const std::shared_ptr<hub::stream>& stream, std::size_t worker) {
  auto cfg = config();
  const record_mode mode = mode_in(*cfg, app);
  if (mode == record_mode::off || stream == nullptr || worker >= workers_.size()) return;
  std::string_view name = key;
  if (name.size() > app.size() && name.substr(0, app.size()) == app && name[app.size()] == '/') {
    name.remove_prefix(app.size() + 1);
  }
  auto s = std::make_shared<record_session>(*this, std::move(cfg), std::string(app), std::string(name), mode,
                                            stream, worker);
  {
    std::lock_guard lock(mu_);
    sessions_.emplace(s.get(), s);
  }
  s->begin();
}

void recorder_manager::close_all() {
  std::unordered_map<const record_session*, std::shared_ptr<record_session>> open;
  {
    std::lock_guard lock(mu_);
    open.swap(sessions_);
  }
  for (auto& [p, s] : open) s->finish(true);
}

std::size_t recorder_manager::active() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void recorder_manager::forget(const record_session* s) {
  std::lock_guard lock(mu_);
  sessions_.erase(s);
}

}  // namespace rtmp::net
