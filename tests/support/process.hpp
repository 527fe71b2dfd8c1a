#pragma once
// Child processes for interop tests: real programs (ffmpeg, ffprobe,
// rtmpdump, ...) run through /bin/sh, always bounded in time, with standard
// input from /dev/null (CI has none).

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

extern char** environ;

namespace rtmp::test {

/// True when `program` is found in PATH.
inline bool have_program(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

/// True in ASan and TSan builds, whose programs run several times slower:
/// tests widen their time bounds there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool sanitized_build = true;
#else
inline constexpr bool sanitized_build = false;
#endif

/// True under CI (CI=true): there a test whose tool is missing fails
/// instead of skipping (scripts/deps.sh test installs every tool the suite
/// uses), so a green run has really run every test.
inline bool missing_tool_is_failure() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace rtmp::test

/// Ends the current test (or SetUp) when `available` is false: a skip on a
/// developer's machine, a failure under CI. `what` names the missing tool.
#define RTMP_REQUIRE_TOOL(available, what)                                                        \
  do {                                                                                            \
    if (!(available)) {                                                                           \
      if (::rtmp::test::missing_tool_is_failure()) {                                              \
        GTEST_FAIL() << what << " (CI=true: a missing tool fails; scripts/deps.sh test installs it)"; \
      }                                                                                           \
      GTEST_SKIP() << what << " (scripts/deps.sh test installs it)";                              \
    }                                                                                             \
  } while (false)

namespace rtmp::test {

/// A shell command running in the background; killed (with its process
/// group) when destroyed or when `wait()` runs out of time.
class child_process {
 public:
  explicit child_process(const std::string& command) {
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    // The child must not inherit the test's sockets (a listener kept open by
    // an orphaned child would hold clients forever).
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    const std::string full = "exec " + command;
    const char* argv[] = {"/bin/sh", "-c", full.c_str(), nullptr};
    if (posix_spawn(&pid_, "/bin/sh", &fa, &attr, const_cast<char**>(argv), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
  }
  ~child_process() { kill(); }

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Waits up to `timeout` for the exit; returns the exit status, or -1 when
  /// it had to be killed (or could not start).
  int wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return status_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill();
    return -1;
  }

  /// Sends `sig` to the process group.
  void signal(int sig) {
    if (pid_ > 0) ::kill(-pid_, sig);
  }

  /// Kills the process group and reaps it.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    status_ = -1;
  }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

/// The shell command with which ffmpeg encodes a live test picture and tone
/// (320x240 H.264 at 25 fps with a keyframe every second, AAC) for
/// `seconds` and publishes it to the RTMP `url` in real time, its errors
/// going to the file `log`.
inline std::string ffmpeg_live_publish(const std::string& url, int seconds, const std::string& log) {
  return "ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi "
         "-i sine=frequency=440:sample_rate=44100 -t " + std::to_string(seconds) +
         " -c:v libx264 -preset ultrafast -tune zerolatency -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k -f flv '" + url +
         "' 2>" + log;
}

/// Runs `command` to completion within `timeout`; returns its exit status or -1.
inline int run(const std::string& command, std::chrono::milliseconds timeout) {
  child_process p(command);
  return p.wait(timeout);
}

/// A fresh temporary directory, removed on destruction.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rtmp-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// The whole content of a text file ("" when missing).
inline std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace rtmp::test
