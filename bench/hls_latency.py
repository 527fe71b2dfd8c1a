#!/usr/bin/env python3
"""HLS listing latency: rtmp-server beside nginx-rtmp, on this machine.

For each server, ffmpeg publishes a live-encoded test picture and tone
(H.264 with a keyframe every second, AAC; `-re`) and the script polls the
server's playlist every 10 ms. It reports:

* first: seconds from the publish's start (ffmpeg launched) to the first
  segment being listed;
* each later segment's listing delay: the time it was listed minus the
  moment its last frame was published (publish start + the media time at
  the segment's end, the sum of the EXTINF durations listed so far). With
  `-re` media time runs at wall-clock speed, so this is what a viewer waits
  beyond the segment's own duration.

With --hls-format fmp4, rtmp-server's playlists are also Low-Latency HLS:
the third row times the parts (EXT-X-PART) the same way: the first part
listed, and each later part's listing delay after its last frame (parts of
the first segment excluded: a playlist begins with a whole segment, so they
are listed with it); a frame waits at most one part duration plus that
delay before a player can fetch it.

rtmp-server serves the playlist over HTTP (--hls live=on); nginx-rtmp writes
it to a directory (`hls on; hls_path ...; hls_fragment ...`), polled as a
file. Both cut at keyframes past the target duration.

Usage: bench/hls_latency.py [--seconds 20] [--segment-ms 2000] [--build-dir build]
Needs: ffmpeg, nginx + libnginx-mod-rtmp, python3.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

from benchlib import free_port, nginx_rtmp_module, wait_port
import urllib.request


def publish(url, seconds):
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", str(seconds), "-c:v", "libx264",
         "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-b:a", "128k", "-f", "flv", url],
        stdin=subprocess.DEVNULL)


def durations(playlist_text):
    """EXTINF durations (seconds) of a playlist, in order."""
    out = []
    for line in playlist_text.splitlines():
        if line.startswith("#EXTINF:"):
            out.append(float(line[len("#EXTINF:"):].split(",")[0]))
    return out


def parts(playlist_text):
    """(segment, part) -> DURATION seconds of a playlist's EXT-X-PART tags."""
    out = {}
    for line in playlist_text.splitlines():
        if line.startswith("#EXT-X-PART:"):
            attrs = dict(a.split("=", 1) for a in line[len("#EXT-X-PART:"):].split(","))
            msn, part = attrs["URI"].strip('"').split(".")[:2]
            out[(int(msn), int(part))] = float(attrs["DURATION"])
    return out


def measure(read_playlist, url, seconds, by_part=False):
    """Publishes to `url` and polls `read_playlist()`; returns (first, delays)
    of segments, or of parts when `by_part`."""
    start = time.monotonic()
    proc = publish(url, seconds)
    seen = {}  # media sequence number (or (msn, part)) -> (time first listed, duration)
    deadline = start + seconds + 5
    while time.monotonic() < deadline and proc.poll() is None:
        text = read_playlist()
        now = time.monotonic()
        if by_part:
            for key, dur in parts(text).items():
                seen.setdefault(key, (now, dur))
            time.sleep(0.01)
            continue
        seq = 0
        for line in text.splitlines():
            if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
                seq = int(line.split(":")[1])
        for i, dur in enumerate(durations(text)):
            seen.setdefault(seq + i, (now, dur))
        time.sleep(0.01)
    listed = [seen[n] for n in sorted(seen)]
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    if not listed:
        return None, []
    first = listed[0][0] - start
    delays = []
    media_end = 0.0
    for when, dur in listed:
        media_end += dur
        delays.append(when - (start + media_end))
    if by_part:
        # The first segment's parts are listed together with it (a playlist
        # begins with a whole segment), so they only show the first listing.
        first_msn = min(seen)[0]
        keys = sorted(seen)
        return first, [d for k, d in zip(keys, delays) if k[0] != first_msn]
    return first, delays[1:]  # the first segment's includes ffmpeg's start-up


def ours(build_dir, seconds, segment_ms, work, low_latency=False):
    rtmp_port, http_port = free_port(), free_port()
    extra = ["--hls-format", "fmp4", "--hls-part-ms", "500"] if low_latency else []
    server = subprocess.Popen(
        [os.path.join(build_dir, "bin", "rtmp-server"), "-w", "1", "-l", f"127.0.0.1:{rtmp_port}", "--http-listen",
         f"127.0.0.1:{http_port}", "--hls", "live=on", "--hls-segment-ms", str(segment_ms), "--log-level", "warn"]
        + extra,
        stdin=subprocess.DEVNULL)
    try:
        if not wait_port(http_port):
            raise SystemExit("rtmp-server did not start")

        def read():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/live/cam/index.m3u8", timeout=1) as r:
                    return r.read().decode()
            except OSError:
                return ""

        return measure(read, f"rtmp://127.0.0.1:{rtmp_port}/live/cam", seconds, by_part=low_latency)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


def nginx(seconds, segment_ms, work):
    port = free_port()
    hls_dir = os.path.join(work, "hls")
    os.makedirs(hls_dir, exist_ok=True)
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"load_module {nginx_rtmp_module()};\n"
                f"daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log stderr warn;\n"
                f"pid {work}/nginx.pid;\nevents {{ worker_connections 64; }}\n"
                f"rtmp {{ server {{ listen 127.0.0.1:{port}; chunk_size 4096;\n"
                f"  application live {{ live on; hls on; hls_path {hls_dir}; hls_fragment {segment_ms}ms; }}\n"
                f"}} }}\n")
    server = subprocess.Popen(["nginx", "-e", "stderr", "-c", conf, "-p", work], stdin=subprocess.DEVNULL)
    try:
        if not wait_port(port):
            raise SystemExit("nginx did not start")

        def read():
            try:
                with open(os.path.join(hls_dir, "cam.m3u8")) as f:
                    return f.read()
            except OSError:
                return ""

        return measure(read, f"rtmp://127.0.0.1:{port}/live/cam", seconds)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--segment-ms", type=int, default=2000)
    ap.add_argument("--build-dir", default="build")
    args = ap.parse_args()
    for tool in ("ffmpeg", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not installed")
    print(f"| server | first segment (part) listed after (s) | later segments (parts): listing delay after their "
          f"last frame, median / max (s) | segments (parts) |")
    print("|---|---|---|---|")
    for name in ("rtmp-server", "nginx-rtmp", "rtmp-server LL-HLS, 500 ms parts"):
        with tempfile.TemporaryDirectory() as work:
            if name == "nginx-rtmp":
                first, delays = nginx(args.seconds, args.segment_ms, work)
            else:
                first, delays = ours(args.build_dir, args.seconds, args.segment_ms, work, "LL" in name)
        if first is None:
            print(f"| {name} | none listed | | 0 |")
            continue
        med = statistics.median(delays) if delays else float("nan")
        worst = max(delays) if delays else float("nan")
        print(f"| {name} | {first:.2f} | {med:.2f} / {worst:.2f} | {len(delays) + 1} |")


if __name__ == "__main__":
    main()
