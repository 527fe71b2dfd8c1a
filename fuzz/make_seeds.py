#!/usr/bin/env python3
"""Generates the seed corpora in fuzz/corpus/<target>/ (committed; re-run after
changing this script: `python3 fuzz/make_seeds.py`). Deterministic output.

Where the seeds come from:
* tests/data/captures/NAME.{c2s,s2c}.bin, real ffmpeg / rtmpdump / GStreamer
  sessions against nginx-rtmp. The chunk stream starts at byte 3073 (after
  C0+C1+C2 or S0+S1+S2). Session and chunk seeds are the chunk streams cut
  to 16 KiB (the connect/publish/play exchange plus the first media);
  handshake seeds are the first 3073 bytes plus a few chunk bytes; AMF0
  seeds are the payloads of the command and data messages, decoded with the
  small chunk parser below.
* tests/data/flv/*.flv, whole (they are small) plus cut variants.
* /work/shared/HOSTILE-CASES.md (T-04, T-06..T-31, T-43): the byte strings
  written out below with the same BH/MH0 shorthand as the catalogue.

Input layouts (see fuzz/targets.hpp):
* fuzz_chunk_reader: byte 0 split plan, byte 1 re-encode chunk size, then
  the chunk stream. Every other target takes its bytes as they are: AMF0
  payloads, C0/S0 onwards, FLV bytes, or the chunk stream after the
  handshake that the session harnesses prepend themselves.

The whole corpus stays well under 2 MB (checked at the end).
"""

import hashlib
import os
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAPTURES = os.path.join(ROOT, "tests", "data", "captures")
FLV_DIR = os.path.join(ROOT, "tests", "data", "flv")
OUT = os.path.join(ROOT, "fuzz", "corpus")
HANDSHAKE = 1 + 2 * 1536
SESSION_CUT = 16 * 1024
CAPTURE_NAMES = ["ffmpeg-publish", "ffmpeg-play", "rtmpdump-play", "gst-rtmp2sink-publish", "gst-rtmp2src-play"]

# ---------------------------------------------------------------------------
# AMF0 encoding (AMF0 spec section 2), enough to write the hostile commands.


class Ecma(list):
    """An ECMA array: a list of (key, value) pairs."""


class Strict(list):
    """A strict array."""


class Undefined:
    pass


def amf(v):
    if v is None:
        return b"\x05"
    if isinstance(v, Undefined):
        return b"\x06"
    if isinstance(v, bool):
        return b"\x01" + (b"\x01" if v else b"\x00")
    if isinstance(v, (int, float)):
        return b"\x00" + struct.pack(">d", float(v))
    if isinstance(v, str):
        b = v.encode()
        return (b"\x02" + struct.pack(">H", len(b)) if len(b) < 0x10000 else b"\x0c" + struct.pack(">I", len(b))) + b
    if isinstance(v, Ecma):
        return b"\x08" + struct.pack(">I", len(v)) + props(v)
    if isinstance(v, Strict):
        return b"\x0a" + struct.pack(">I", len(v)) + b"".join(amf(x) for x in v)
    if isinstance(v, dict):
        return b"\x03" + props(list(v.items()))
    if isinstance(v, bytes):  # raw, pre-encoded bytes
        return v
    raise TypeError(v)


def props(pairs):
    out = b""
    for k, x in pairs:
        kb = k.encode()
        out += struct.pack(">H", len(kb)) + kb + amf(x)
    return out + b"\x00\x00\x09"


def cmd(*values):
    return b"".join(amf(v) for v in values)


# ---------------------------------------------------------------------------
# Chunk stream writing (fmt 0 then fmt 3 continuations) and parsing.


def basic_header(fmt, csid):
    if 2 <= csid <= 63:
        return bytes([fmt << 6 | csid])
    if csid <= 319:
        return bytes([fmt << 6, csid - 64])
    v = csid - 64
    return bytes([fmt << 6 | 1, v & 0xFF, v >> 8])


def mh0(ts, length, mtype, msid):
    """The 11-byte type-0 message header (MH0 in HOSTILE-CASES)."""
    return struct.pack(">I", ts)[1:] + struct.pack(">I", length)[1:] + bytes([mtype]) + struct.pack("<I", msid)


def chunk(csid, mtype, payload, msid=0, ts=0, chunk_size=128):
    """One message as a fmt 0 chunk plus fmt 3 continuations."""
    ext = ts >= 0xFFFFFF
    out = basic_header(0, csid) + mh0(0xFFFFFF if ext else ts, len(payload), mtype, msid)
    if ext:
        out += struct.pack(">I", ts)
    pos = 0
    first = True
    while first or pos < len(payload):
        if not first:
            out += basic_header(3, csid) + (struct.pack(">I", ts) if ext else b"")
        first = False
        out += payload[pos:pos + chunk_size]
        pos += chunk_size
    return out


def command_msg(payload, msid=0, chunk_size=128):
    return chunk(3, 20, payload, msid, 0, chunk_size)


def control(mtype, payload):
    return chunk(2, mtype, payload)


def set_chunk_size(n):
    return control(1, struct.pack(">I", n))


def user_control(event, value):
    return control(4, struct.pack(">HI", event, value))


def parse_chunks(data):
    """Messages (type, timestamp, msid, payload) of a chunk stream; stops
    quietly at a truncated chunk (the captures are cut at 256 KiB)."""
    pos, size, streams, msgs = 0, 128, {}, []
    try:
        while pos < len(data):
            b0 = data[pos]
            fmt, csid = b0 >> 6, b0 & 0x3F
            pos += 1
            if csid == 0:
                csid = 64 + data[pos]
                pos += 1
            elif csid == 1:
                csid = 64 + data[pos] + 256 * data[pos + 1]
                pos += 2
            st = streams.setdefault(csid, {"ts": 0, "delta": 0, "len": 0, "type": 0, "msid": 0, "ext": False, "buf": None})
            new = st["buf"] is None
            if fmt < 3:
                field = int.from_bytes(data[pos:pos + 3], "big")
                pos += 3
                if fmt < 2:
                    st["len"] = int.from_bytes(data[pos:pos + 3], "big")
                    st["type"] = data[pos + 3]
                    pos += 4
                    if fmt == 0:
                        st["msid"] = struct.unpack("<I", data[pos:pos + 4])[0]
                        pos += 4
                st["ext"] = field == 0xFFFFFF
                if st["ext"]:
                    field = struct.unpack(">I", data[pos:pos + 4])[0]
                    pos += 4
                if fmt == 0:
                    st["ts"] = st["delta"] = field
                else:
                    st["delta"] = field
                    st["ts"] += field
            else:
                if st["ext"]:
                    pos += 4
                if new:
                    st["ts"] += st["delta"]
            if new:
                st["buf"] = b""
            n = min(size, st["len"] - len(st["buf"]))
            if pos + n > len(data):
                break
            st["buf"] += data[pos:pos + n]
            pos += n
            if len(st["buf"]) == st["len"]:
                msgs.append((st["type"], st["ts"], st["msid"], st["buf"]))
                if st["type"] == 1:
                    size = struct.unpack(">I", st["buf"][:4])[0] & 0x7FFFFFFF
                st["buf"] = None
    except (IndexError, struct.error):
        pass
    return msgs


# ---------------------------------------------------------------------------
# Output.

corpus = {}


def add(target, name, data):
    corpus.setdefault(target, {})
    corpus[target][name] = bytes(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def capture(name, direction):
    return read(os.path.join(CAPTURES, "%s.%s.bin" % (name, direction)))


# ---------------------------------------------------------------------------
# Seeds from the captures.

connect_ffmpeg = None
for name in CAPTURE_NAMES:
    for direction in ("c2s", "s2c"):
        raw = capture(name, direction)
        stream = raw[HANDSHAKE:]
        cut = stream[:SESSION_CUT]
        # The chunk reader: varied split plans and re-encode chunk sizes.
        prefix = bytes([len(corpus.get("fuzz_chunk_reader", {})) * 37 % 256, 0x80 | 5 if direction == "c2s" else 7])
        add("fuzz_chunk_reader", "%s.%s" % (name, direction), prefix + cut)
        # The sessions: what a client sends to the server, and the reverse.
        add("fuzz_server_session" if direction == "c2s" else "fuzz_client_session", name, cut)
        # The handshake: C0C1C2 (or S0S1S2) and the first chunk bytes.
        add("fuzz_handshake", "%s.%s" % (name, direction), raw[:HANDSHAKE + 64])
        # AMF0: the payloads of commands and data messages.
        seen = set()
        for i, (mtype, _ts, _msid, payload) in enumerate(parse_chunks(stream)):
            if mtype not in (15, 17, 18, 20) or len(payload) > 64 * 1024:
                continue
            digest = hashlib.sha1(payload).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            label = ""
            if payload[:1] == b"\x02":
                n = struct.unpack(">H", payload[1:3])[0]
                label = payload[3:3 + n].decode("latin-1").strip("@|")
            add("fuzz_amf0", "%s.%s.%03d-%s" % (name, direction, i, label or "msg"), payload)
            if name == "ffmpeg-publish" and direction == "c2s" and label == "connect":
                connect_ffmpeg = payload

# A rtmpdump-style plain C1 alone, and the handshake cut at every phase edge.
rtmpdump = capture("rtmpdump-play", "c2s")
add("fuzz_handshake", "c0c1-only", rtmpdump[:1537])
add("fuzz_handshake", "c0-only", rtmpdump[:1])

# ---------------------------------------------------------------------------
# HOSTILE-CASES, handshake (T-04, T-05).

add("fuzz_handshake", "T-04-c0-rtmpe", b"\x06" + rtmpdump[1:HANDSHAKE])
add("fuzz_handshake", "T-04-c0-ff", b"\xff" + rtmpdump[1:100])
add("fuzz_handshake", "T-04-c1-1535", rtmpdump[:1536])
add("fuzz_handshake", "T-04-c2-garbage", rtmpdump[:1537] + bytes(range(256)) * 6)
add("fuzz_handshake", "T-05-http-get", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
add("fuzz_handshake", "T-05-tls-hello", bytes.fromhex("1603010200010001fc0303") + bytes(32))

# ---------------------------------------------------------------------------
# HOSTILE-CASES, AMF0 (T-24..T-28).

assert connect_ffmpeg is not None
add("fuzz_amf0", "T-24-minimal", bytes.fromhex("020007") + b"connect" + bytes.fromhex("003ff000"))
for cut in (1, 3, 10, 19, len(connect_ffmpeg) // 2, len(connect_ffmpeg) - 1):
    add("fuzz_amf0", "T-24-connect-prefix-%d" % cut, connect_ffmpeg[:cut])


def nested(marker, n):
    head = cmd("connect", 1.0)
    if marker == 0x03:
        return head + b"\x03" + (b"\x00\x01a\x03" * n) + b"\x00\x01a\x05" + b"\x00\x00\x09" * (n + 1)
    if marker == 0x08:
        return head + b"\x08\x00\x00\x00\x01" + (b"\x00\x01a\x08\x00\x00\x00\x01" * n) + b"\x00\x01a\x05" + b"\x00\x00\x09" * (n + 1)
    return head + (b"\x0a\x00\x00\x00\x01" * (n + 1)) + b"\x05"


for marker, label in ((0x03, "object"), (0x08, "ecma"), (0x0A, "strict")):
    add("fuzz_amf0", "T-25-deep-%s-100" % label, nested(marker, 100))
add("fuzz_amf0", "T-25-deep-object-5000", nested(0x03, 5000))
add("fuzz_amf0", "T-25-deep-amf3", cmd("connect", 1.0) + b"\x11\x0a\x0b\x01" * 50)
add("fuzz_amf0", "T-25-deep-setdataframe", cmd("@setDataFrame", "onMetaData") + nested(0x08, 100)[len(cmd("connect", 1.0)):])
add("fuzz_amf0", "T-26-strict-count", bytes.fromhex("0affffffff05"))
add("fuzz_amf0", "T-26-ecma-count", bytes.fromhex("08ffffffff000009"))
add("fuzz_amf0", "T-26-long-string", bytes.fromhex("0cffffffff41"))
add("fuzz_amf0", "T-26-short-string", bytes.fromhex("02ffff") + b"connect")
add("fuzz_amf0", "T-27-publish-false", cmd("publish", 5.0, None, False))
add("fuzz_amf0", "T-27-play-123", cmd("play", 4.0, None, 123.0))
add("fuzz_amf0", "T-27-tx-string", cmd("connect", "1", {"app": "live"}))
add("fuzz_amf0", "T-27-object-number", cmd("connect", 1.0, 7.0, "extra"))
add("fuzz_amf0", "T-27-fcunpublish-object", cmd("FCUnpublish", 6.0, None, {"name": "x"}))
add("fuzz_amf0", "T-27-two-numbers-setdataframe",
    cmd(1.0, 2.0, "@setDataFrame", "onMetaData", Ecma([("duration", 0.0), ("width", 1280.0)])))
add("fuzz_amf0", "T-27-setdataframe-no-name", cmd("@setDataFrame"))
add("fuzz_amf0", "T-28-avmplus-switch", cmd("connect", 1.0) + b"\x11\x0a\x0b\x01\x01")
add("fuzz_amf0", "T-28-typed-object", cmd("connect", 1.0) + b"\x10\x00\x11java.lang.Runtime" + props([("exec", "id")]))
add("fuzz_amf0", "T-28-reference-out-of-range", cmd("connect", 1.0) + b"\x07\xff\xff")
add("fuzz_amf0", "T-28-reference-cycle", cmd("connect", 1.0) + b"\x03\x00\x01a\x07\x00\x00\x00\x00\x09")
add("fuzz_amf0", "T-28-reference-repeat",
    cmd("connect", 1.0, {"app": "live"}) + b"\x0a\x00\x00\x00\x04" + b"\x07\x00\x00" * 4)
add("fuzz_amf0", "markers-all", b"".join(bytes([m]) for m in range(0x13)))
add("fuzz_amf0", "date-xml-undefined", b"\x0b" + struct.pack(">d", 1.5e12) + b"\xff\xc4" + b"\x0f\x00\x00\x00\x03<a>" + b"\x06")
add("fuzz_amf0", "nan-number", b"\x00\x7f\xf8\x00\x00\x00\x00\x00\x01")

# ---------------------------------------------------------------------------
# HOSTILE-CASES, chunk layer (T-06..T-23), for the chunk reader (with a
# prefix) and for the server session (after a valid connect).

connect_msg = command_msg(cmd("connect", 1.0, {"app": "live", "type": "nonprivate", "tcUrl": "rtmp://127.0.0.1/live"}))
create_msg = command_msg(cmd("createStream", 2.0, None))
publish_msg = command_msg(cmd("publish", 3.0, None, "demo", "live"), msid=1)
play_msg = command_msg(cmd("play", 3.0, None, "demo", -2000.0), msid=1)
avc_seq = bytes.fromhex("1700000000") + bytes.fromhex("0164001fffe1001967640028acd940780227e5c044000003000400000300c83c60c658")
aac_seq = bytes.fromhex("af001190")
keyframe = bytes.fromhex("1701000000000000026588") + bytes(100)
metadata = cmd("@setDataFrame", "onMetaData", Ecma([("width", 1280.0), ("height", 720.0), ("videocodecid", 7.0)]))
media = (chunk(5, 18, metadata, 1) + chunk(4, 8, aac_seq, 1) + chunk(6, 9, avc_seq, 1) +
         chunk(6, 9, keyframe, 1, 40) + chunk(4, 8, bytes.fromhex("af01") + bytes(200), 1, 23))

chunk_cases = {
    "T-06-chunk-size-0": control(1, bytes(4)) + connect_msg,
    "T-07-chunk-size-max": control(1, bytes.fromhex("7fffffff")) + connect_msg + create_msg,
    "T-08-chunk-size-msb": control(1, bytes.fromhex("80000000")) + connect_msg,
    "T-09-chunk-size-1": set_chunk_size(1) + chunk(6, 9, keyframe, 1, 0, 1),
    "T-10-abort-current": bytes.fromhex("02 000000 000004 02 00000000 00000002 42 000000 000004 03 00000000"),
    "T-11-abort-odd-csids": b"".join(control(2, struct.pack(">I", c)) for c in (0, 1, 65600, 0xFFFFFFFF, 77))
                            + control(2, b"") + control(2, b"\x00\x00\x02"),
    "T-12-abort-mid-message": basic_header(0, 6) + mh0(0, 300, 9, 1) + bytes(128) + control(2, struct.pack(">I", 6))
                              + chunk(6, 9, keyframe, 1),
    "T-13-length-redeclared": bytes.fromhex("05000000030d400901000000") + bytes(4096)
                              + bytes.fromhex("4500000000000a09") + bytes(4096) + bytes([0xC5]) + bytes(4096),
    "T-15-fmt0-while-partial": basic_header(0, 6) + mh0(0, 300, 9, 1) + bytes(128) + chunk(6, 9, keyframe, 1),
    "T-16-fmt1-fmt2-first": bytes.fromhex("4700000000000604") + struct.pack(">HI", 6, 99)
                            + bytes.fromhex("88000000 c8"),
    "T-17-csid-forms": b"".join(chunk(c, 8, aac_seq, 1, 10) for c in (2, 63, 64, 319, 320, 65599)),
    "T-18-many-csids": b"".join(basic_header(0, 64 + i) + mh0(0, 0xFFFFFF, 9, 1) + bytes(128) for i in range(40)),
    "T-19-huge-command": basic_header(0, 3) + mh0(0, 0xFFFFFF, 20, 0) + bytes(128),
    "T-19-huge-data": basic_header(0, 5) + mh0(0, 0xFFFFFF, 18, 1) + bytes(128),
    "T-20-short-controls": b"".join(basic_header(0, 2) + mh0(0, n, t, 0) + bytes(n) for t in (1, 2, 3, 5, 6) for n in (0, 1, 3))
                           + b"".join(basic_header(0, 2) + mh0(0, n, 4, 0) + bytes(n) for n in (0, 2, 5))
                           + b"".join(basic_header(0, 3) + mh0(0, 0, t, 1) for t in (8, 9, 18, 20)),
    "T-21-extended-repeat": chunk(6, 9, keyframe + bytes(200), 1, 0x1000000),
    "T-21-extended-omitted": basic_header(0, 6) + mh0(0xFFFFFF, 300, 9, 1) + struct.pack(">I", 0x1000000) + bytes(128)
                             + bytes([0xC6]) + bytes(128) + bytes([0xC6]) + bytes(44),
    "T-21-extended-delta": chunk(6, 9, keyframe, 1, 5) + basic_header(2, 6) + b"\xff\xff\xff" + struct.pack(">I", 0x1234567)
                           + keyframe + bytes([0xC6]) + struct.pack(">I", 0x1234567) + keyframe,
    "T-22-timestamp-wrap": chunk(6, 9, keyframe, 1, 0xFFFFEC77) + basic_header(2, 6) + struct.pack(">I", 10000)[1:] + keyframe,
    "T-23-window-ack": control(5, bytes(4)) + control(5, struct.pack(">I", 1)) + control(5, bytes.fromhex("ffffffff")),
    "aggregate": chunk(6, 22, bytes([9]) + struct.pack(">I", len(keyframe))[1:] + bytes(7) + keyframe + struct.pack(">I", 11 + len(keyframe))
                        + bytes([8]) + struct.pack(">I", len(aac_seq))[1:] + struct.pack(">I", 40)[1:] + bytes(4) + aac_seq, 1),
    "aggregate-truncated": chunk(6, 22, bytes([9, 0, 1, 0]) + bytes(4), 1),
}
for i, (label, data) in enumerate(sorted(chunk_cases.items())):
    add("fuzz_chunk_reader", label, bytes([i * 29 % 256, i * 53 % 256]) + data)
    add("fuzz_server_session", label, connect_msg + create_msg + publish_msg + data)

# ---------------------------------------------------------------------------
# HOSTILE-CASES, server commands (T-24..T-34).

server_cases = {
    "publish-flow": connect_msg + create_msg + publish_msg + media + command_msg(cmd("FCUnpublish", 4.0, None, "demo"))
                    + command_msg(cmd("deleteStream", 5.0, None, 1.0)),
    "play-flow": connect_msg + create_msg + play_msg + user_control(3, 1) + user_control(7, 1234)
                 + command_msg(cmd("pause", 4.0, None, True, 0.0), msid=1) + command_msg(cmd("pause", 5.0, None, False, 0.0), msid=1)
                 + command_msg(cmd("receiveVideo", 0.0, None, False), msid=1) + command_msg(cmd("closeStream", 0.0, None), msid=1),
    "publish-and-play": connect_msg + create_msg + create_msg + publish_msg + command_msg(cmd("play", 4.0, None, "demo"), msid=2)
                        + media,
    "T-24-truncated-connect": command_msg(connect_ffmpeg[: len(connect_ffmpeg) // 2]),
    "T-25-deep-connect": command_msg(nested(0x03, 100)),
    "T-25-deep-metadata": connect_msg + create_msg + publish_msg + chunk(5, 18, nested(0x08, 100), 1),
    "T-27-wrong-types": connect_msg + create_msg + command_msg(cmd("publish", 3.0, None, False), msid=1)
                        + command_msg(cmd("play", 4.0, None, 123.0), msid=1)
                        + command_msg(cmd("FCUnpublish", 5.0, None, {"a": 1.0}))
                        + chunk(5, 18, cmd(1.0, 2.0, "@setDataFrame", "onMetaData", Ecma([("a", 1.0)])), 1),
    "T-29-create-stream-flood": connect_msg + create_msg * 20,
    "T-30-out-of-order": publish_msg + play_msg + connect_msg + command_msg(cmd("play", 3.0, None, "x"), msid=9)
                         + command_msg(cmd("deleteStream", 4.0, None, 999.0)) + command_msg(cmd("closeStream", 0.0, None), msid=1) * 2
                         + chunk(4, 8, aac_seq, 0) + chunk(4, 8, aac_seq, 7) + command_msg(cmd("onStatus", 0.0, None, {}))
                         + command_msg(cmd("_result", 1.0, None)) + b"".join(chunk(7, t, b"x", 0) for t in (0, 7, 23, 255)),
    "T-31-hostile-names": command_msg(cmd("connect", 1.0, {"app": "../etc", "tcUrl": "rtmp://x/$(id)"}))
                          + connect_msg + create_msg + command_msg(cmd("publish", 3.0, None, "a/../b%00\r\n`id`"), msid=1)
                          + command_msg(cmd("publish", 4.0, None, "k?vhost=x&" + "q" * 2000), msid=1),
    "T-34-media-before-decision": connect_msg + create_msg + publish_msg + media * 3,
    "connect-amf3": chunk(3, 17, b"\x00" + cmd("connect", 1.0, {"app": "live", "objectEncoding": 3.0})) + create_msg,
    "second-connect": connect_msg + connect_msg + command_msg(cmd("getStreamLength", 3.0, None, "demo"))
                      + command_msg(cmd("releaseStream", 4.0, None, "demo")) + command_msg(cmd("FCPublish", 5.0, None, "demo"))
                      + command_msg(cmd("_checkbw", 6.0, None)) + command_msg(cmd("unknownCall", 7.0, None)),
}
for label, data in sorted(server_cases.items()):
    add("fuzz_server_session", label, data)

# ---------------------------------------------------------------------------
# A hostile (or ordinary) server for the client (T-43). The client's
# transactions: connect 1; publish: releaseStream 2, FCPublish 3,
# createStream 4, publish 5; play: createStream 2, play 3. One input answers
# both modes.

connect_ok = command_msg(cmd("_result", 1.0, {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0},
                             {"level": "status", "code": "NetConnection.Connect.Success", "description": "ok", "objectEncoding": 0.0}))
server_hello = (control(5, struct.pack(">I", 2500000)) + control(6, struct.pack(">IB", 2500000, 2))
                + set_chunk_size(4096) + connect_ok)
created = command_msg(cmd("_result", 2.0, None, 1.0)) + command_msg(cmd("_result", 4.0, None, 1.0))


def on_status(code, level="status", msid=1):
    return command_msg(cmd("onStatus", 0.0, None, {"level": level, "code": code, "description": code}), msid=msid)


play_media = (user_control(0, 1) + on_status("NetStream.Play.Reset") + on_status("NetStream.Play.Start")
              + chunk(5, 18, cmd("|RtmpSampleAccess", True, True), 1) + chunk(5, 18, cmd("onMetaData", Ecma([("width", 1.0)])), 1)
              + chunk(5, 18, metadata, 1) + chunk(4, 8, aac_seq, 1) + chunk(6, 9, avc_seq, 1) + chunk(6, 9, keyframe, 1, 40))
client_cases = {
    "publish-accepted": server_hello + created + on_status("NetStream.Publish.Start") + user_control(6, 777)
                        + on_status("NetStream.Unpublish.Success"),
    "play-accepted": server_hello + created + play_media + on_status("NetStream.Play.UnpublishNotify") + user_control(1, 1)
                     + on_status("NetStream.Play.PublishNotify") + user_control(0, 1),
    "both-accepted": server_hello + created + on_status("NetStream.Publish.Start") + play_media,
    "connect-rejected": command_msg(cmd("_error", 1.0, None, {"level": "error", "code": "NetConnection.Connect.Rejected"})),
    "publish-badname": server_hello + created + on_status("NetStream.Publish.BadName", "error"),
    "play-not-found": server_hello + created + on_status("NetStream.Play.StreamNotFound", "error"),
    "unauthorized": server_hello + created + on_status("NetStream.Publish.Unauthorized", "error"),
    "close": server_hello + command_msg(cmd("close", 0.0, None)),
    "T-43-chunk-size-max": control(1, bytes.fromhex("7fffffff")) + connect_ok + created,
    "T-43-chunk-size-0": control(1, bytes(4)) + connect_ok,
    "T-43-huge-result": basic_header(0, 3) + mh0(0, 0xFFFFFF, 20, 0) + bytes(128),
    "T-43-deep-onstatus": server_hello + created
                          + command_msg(cmd("onStatus", 0.0, None) + nested(0x03, 100)[len(cmd("connect", 1.0)):]),
    "T-43-amf3-reference": server_hello + chunk(3, 17, b"\x00" + cmd("_result", 2.0) + b"\x11\x06\x03"),
    "T-43-fmt1-size-change": server_hello + bytes.fromhex("03000000000100140000000000") + bytes(128) + bytes.fromhex("4300000000020014"),
    "T-43-onstatus-flood": server_hello + on_status("NetStream.Info", msid=0) * 70,
    "T-43-ping-ack-window": control(5, struct.pack(">I", 1)) + user_control(6, 1) * 5 + control(6, struct.pack(">IB", 1, 0)) + connect_ok,
    "stream-id-bad": server_hello + command_msg(cmd("_result", 2.0, None, -1.0)) + command_msg(cmd("_result", 4.0, None, 5e9)),
}
for label, data in sorted(client_cases.items()):
    add("fuzz_client_session", label, data)

# ---------------------------------------------------------------------------
# FLV.

flv_files = sorted(f for f in os.listdir(FLV_DIR) if f.endswith(".flv"))
for f in flv_files:
    data = read(os.path.join(FLV_DIR, f))
    add("fuzz_flv_reader", f, data)
    add("fuzz_flv_reader", f + ".cut-1000", data[:1000])
h264 = read(os.path.join(FLV_DIR, "h264_aac.flv"))
header = h264[:13]


def flv_tag(tag_type, payload, ts=0):
    return (bytes([tag_type]) + struct.pack(">I", len(payload))[1:] + struct.pack(">I", ts & 0xFFFFFF)[1:]
            + bytes([ts >> 24]) + bytes(3) + payload + struct.pack(">I", 11 + len(payload)))


flv_cases = {
    "header-only": header,
    "bad-signature": b"FLX" + h264[3:200],
    "data-offset-huge": b"FLV\x01\x05" + struct.pack(">I", 0xFFFFFFF0) + bytes(4),
    "data-offset-skip": b"FLV\x01\x05" + struct.pack(">I", 20) + bytes(11) + bytes(4) + flv_tag(8, aac_seq),
    "filter-bit": header + flv_tag(0x20 | 9, keyframe),
    "reserved-bits": header + flv_tag(0xC0 | 8, aac_seq),
    "unknown-type": header + flv_tag(7, b"abc") + flv_tag(31, b""),
    "tag-too-large": header + bytes([9, 0xFF, 0xFF, 0xFF]) + bytes(7) + bytes(64),
    "bad-previous-size": header + flv_tag(8, aac_seq)[:-4] + b"\x00\x00\x00\x01" + flv_tag(9, avc_seq, 0x1234567),
    "script-metadata": header + flv_tag(18, cmd("onMetaData", Ecma([("duration", 1.0)]))),
}
for label, data in sorted(flv_cases.items()):
    add("fuzz_flv_reader", label, data)

# ---------------------------------------------------------------------------

total = 0
for target in sorted(corpus):
    path = os.path.join(OUT, target)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    for name, data in sorted(corpus[target].items()):
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)
        total += len(data)
    print("%-22s %4d seeds %8d bytes" % (target, len(corpus[target]), sum(len(d) for d in corpus[target].values())))
print("total %d bytes" % total)
if total >= 2 * 1024 * 1024:
    sys.exit("corpus too large: keep it under 2 MB")
