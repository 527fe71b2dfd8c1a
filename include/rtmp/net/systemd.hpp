#pragma once
/// @file systemd.hpp
/// The service-manager side of a daemon: sd_notify(3) messages over the
/// documented NOTIFY_SOCKET datagram protocol, without linking libsystemd.

#include <chrono>
#include <optional>
#include <string_view>
#include <system_error>

namespace rtmp::net {

/// Sends `state` (e.g. "READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=...")
/// to the socket named by $NOTIFY_SOCKET (a path, or "@name" for the
/// abstract namespace). Does nothing and succeeds when the variable is
/// unset (not started by systemd). Errors: the socket errors of sendto().
std::error_code systemd_notify(std::string_view state);

/// The watchdog interval systemd asks for ($WATCHDOG_USEC, honouring
/// $WATCHDOG_PID), or nullopt when there is no watchdog. Send "WATCHDOG=1"
/// at least twice per interval.
std::optional<std::chrono::microseconds> systemd_watchdog_interval();

/// True when standard error is connected to the journal ($JOURNAL_STREAM
/// names the device and inode of our stderr), so log lines need no
/// timestamp and carry a "<N>" syslog priority prefix instead.
bool stderr_is_journal();

}  // namespace rtmp::net
