#!/usr/bin/env python3
"""HLS load: simulated viewers against rtmp-server and nginx-rtmp, side by side.

Each server runs pinned to one CPU (rtmp-server --workers 1 with --hls;
nginx with one worker, nginx-rtmp writing HLS files that its own http block
serves). ffmpeg publishes an ffmpeg-made FLV file (made once, H.264 + AAC
at --bitrate) with `-re -c copy`. Then --viewers simulated viewers, on
another CPU, each on its own keep-alive HTTP/1.1 connection, poll the
playlist every half segment and fetch every segment they have not fetched
yet, as players do. Over --seconds the script reads the server's CPU time
(/proc/PID/stat) and reports CPU seconds per delivered GB, requests, and the
p50/p99 time to a whole response. When the viewers' own CPU is above 90 %
the line says so: then the figures measure the tool, not the server.

Usage: bench/hls_load.py [--viewers 1000] [--seconds 20] [--bitrate 500000]
                         [--segment-ms 2000] [--build-dir build]
Needs: ffmpeg, nginx + libnginx-mod-rtmp, taskset, python3.
"""

import argparse
import asyncio
import os
import random
import re
import resource
import signal
import subprocess
import tempfile
import time

from benchlib import free_port, nginx_rtmp_module, wait_port

SERVER_CPU = os.environ.get("SERVER_CPU", "0")
LOAD_CPU = os.environ.get("LOAD_CPU", "1")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_source(path, seconds, bitrate):
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", str(seconds), "-c:v", "libx264",
         "-preset", "veryfast", "-b:v", str(bitrate), "-maxrate", str(bitrate), "-bufsize", str(bitrate), "-g", "25",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "flv", path],
        check=True)


async def request(reader, writer, path):
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
    body = await reader.readexactly(int(m.group(1))) if m else b""
    return status, body


async def viewer(port, base, playlist, segment_s, until, stats):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    have = set()
    await asyncio.sleep(random.random() * segment_s)  # viewers arrive spread over a segment
    try:
        while time.monotonic() < until:
            t = time.monotonic()
            status, body = await request(reader, writer, base + playlist)
            stats["latency"].append(time.monotonic() - t)
            stats["requests"] += 1
            stats["bytes"] += len(body)
            if status == 200:
                for line in body.decode().splitlines():
                    if line and not line.startswith("#") and line not in have:
                        have.add(line)
                        t = time.monotonic()
                        s_status, s_body = await request(reader, writer, base + line)
                        stats["latency"].append(time.monotonic() - t)
                        stats["requests"] += 1
                        stats["bytes"] += len(s_body)
                        if s_status != 200:
                            stats["errors"] += 1
            else:
                stats["errors"] += 1
            await asyncio.sleep(segment_s / 2)
    finally:
        writer.close()


async def load(port, base, playlist, viewers, seconds, segment_s, server_pid):
    stats = {"latency": [], "requests": 0, "bytes": 0, "errors": 0}
    until = time.monotonic() + seconds + segment_s
    tasks = [asyncio.create_task(viewer(port, base, playlist, segment_s, until, stats)) for _ in range(viewers)]
    await asyncio.sleep(segment_s)  # everyone has arrived
    cpu0 = cpu_seconds(server_pid)
    me0 = resource.getrusage(resource.RUSAGE_SELF)
    stats["latency"].clear()
    stats["requests"] = stats["bytes"] = 0
    wall0 = time.monotonic()
    await asyncio.gather(*tasks, return_exceptions=True)
    wall = time.monotonic() - wall0
    cpu = cpu_seconds(server_pid) - cpu0
    me1 = resource.getrusage(resource.RUSAGE_SELF)
    tool_cpu = (me1.ru_utime + me1.ru_stime - me0.ru_utime - me0.ru_stime) / wall
    lat = sorted(stats["latency"]) or [float("nan")]
    return {
        "cpu_per_gb": cpu / (stats["bytes"] / 1e9) if stats["bytes"] else float("nan"),
        "requests": stats["requests"],
        "gbytes": stats["bytes"] / 1e9,
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
        "errors": stats["errors"],
        "tool_saturated": tool_cpu > 0.9,
    }


def run_ours(args, work, source):
    rtmp_port, http_port = free_port(), free_port()
    server = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, os.path.join(args.build_dir, "bin", "rtmp-server"), "-w", "1", "-l",
         f"127.0.0.1:{rtmp_port}", "--http-listen", f"127.0.0.1:{http_port}", "--hls", "live=on", "--hls-segment-ms",
         str(args.segment_ms), "--log-level", "warn", "--max-connections", "20000", "--http-max-pending", "4096"],
        stdin=subprocess.DEVNULL)
    return server, rtmp_port, http_port, "/live/cam/", "index.m3u8"


def run_nginx(args, work, source):
    rtmp_port, http_port = free_port(), free_port()
    hls_dir = os.path.join(work, "hls")
    os.makedirs(hls_dir, exist_ok=True)
    module = nginx_rtmp_module()
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"load_module {module};\ndaemon off;\nmaster_process off;\nworker_processes 1;\n"
                f"error_log stderr warn;\npid {work}/nginx.pid;\nworker_rlimit_nofile 20000;\n"
                f"events {{ worker_connections 10000; }}\n"
                f"rtmp {{ server {{ listen 127.0.0.1:{rtmp_port}; chunk_size 4096;\n"
                f"  application live {{ live on; hls on; hls_path {hls_dir}; hls_fragment {args.segment_ms}ms; }}\n"
                f"}} }}\n"
                f"http {{ access_log off; keepalive_requests 100000;\n"
                f"  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fcgi;\n"
                f"  uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;\n"
                f"  types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}\n"
                f"  server {{ listen 127.0.0.1:{http_port}; location /hls/ {{ alias {hls_dir}/; }} }}\n"
                f"}}\n")
    server = subprocess.Popen(["taskset", "-c", SERVER_CPU, "nginx", "-e", "stderr", "-c", conf, "-p", work],
                              stdin=subprocess.DEVNULL)
    return server, rtmp_port, http_port, "/hls/", "cam.m3u8"  # nginx-rtmp: cam.m3u8 and cam-N.ts beside it


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--viewers", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--bitrate", type=int, default=500_000)
    ap.add_argument("--segment-ms", type=int, default=2000)
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--servers", default="ours nginx")
    args = ap.parse_args()
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    print(f"| server | viewers | CPU s per GB | requests | GB | p50 / p99 response (ms) | errors |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        source = os.path.join(work, "source.flv")
        make_source(source, args.seconds + 30, args.bitrate)
        for name in args.servers.split():
            start = run_ours if name == "ours" else run_nginx
            server, rtmp_port, http_port, base, playlist = start(args, work, source)
            publisher = None
            try:
                if not wait_port(http_port) or not wait_port(rtmp_port):
                    raise SystemExit(f"{name} did not start")
                publisher = subprocess.Popen(
                    ["taskset", "-c", LOAD_CPU, "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", source,
                     "-c", "copy", "-f", "flv", f"rtmp://127.0.0.1:{rtmp_port}/live/cam"], stdin=subprocess.DEVNULL)
                time.sleep(3 * args.segment_ms / 1000 + 1)  # a few segments listed
                r = asyncio.run(load(http_port, base, playlist, args.viewers, args.seconds, args.segment_ms / 1000,
                                     server.pid))
                note = " (the load tool was saturated)" if r["tool_saturated"] else ""
                print(f"| {'rtmp-server' if name == 'ours' else 'nginx-rtmp + nginx http'} | {args.viewers} | "
                      f"{r['cpu_per_gb']:.2f} | {r['requests']} | {r['gbytes']:.2f} | "
                      f"{r['p50_ms']:.1f} / {r['p99_ms']:.1f}{note} | {r['errors']} |")
            finally:
                if publisher:
                    publisher.send_signal(signal.SIGTERM)
                    publisher.wait(timeout=10)
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=10)


if __name__ == "__main__":
    main()
