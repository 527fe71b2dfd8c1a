"""Shared helpers of the benchmark scripts: loopback ports and nginx-rtmp."""

import os
import socket
import time


def free_port():
    """A 127.0.0.1 TCP port free now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    """True once something accepts on 127.0.0.1:port, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def nginx_rtmp_module():
    """The path of libnginx-mod-rtmp's shared object (exits when not installed)."""
    for p in ("/usr/lib/nginx/modules/ngx_rtmp_module.so", "/usr/share/nginx/modules/ngx_rtmp_module.so"):
        if os.path.exists(p):
            return p
    raise SystemExit("libnginx-mod-rtmp not installed")
