#pragma once
// Starting the operator's commands (hooks, exec): /bin/sh -c in a process
// group of its own, stdin from /dev/null, no inherited descriptors.
// Internal to the server.

#include <sys/types.h>

#include <string>
#include <vector>

namespace rtmp::net {

/// Spawns `/bin/sh -c command args...` (`args` become $0, $1, ...) in its
/// own process group (so that a signal to -pid reaches its children), with
/// `env_extra` ("NAME=value") added to the environment, stdin and stdout on
/// /dev/null and stderr on `stderr_fd` (or /dev/null when -1), and no other
/// descriptor inherited. Returns the pid, or -1.
pid_t spawn_shell(const std::string& command, const std::vector<std::string>& args,
                  const std::vector<std::string>& env_extra, int stderr_fd = -1);

}  // namespace rtmp::net
