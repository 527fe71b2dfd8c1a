#!/bin/sh
# Regenerates the golden FLV files used by tests/flv_reader_test.cpp and
# tests/media_info_test.cpp. Made with ffmpeg 5.1 (Debian 12). The tests
# hard-code tag counts taken from `ffprobe -show_packets` on these exact files,
# so re-running this script with another ffmpeg may require updating them.
#
# Usage: tests/data/flv/make.sh   (from anywhere; writes next to this script)
set -eu
cd "$(dirname "$0")"

FF="ffmpeg -nostdin -hide_banner -loglevel error -y"
# bitexact: no encoder version strings in onMetaData, so reruns are stable.
BX="-fflags +bitexact -flags:v +bitexact -flags:a +bitexact"

# Video + audio: H.264 (GOP 25 = one keyframe per second) + AAC, 2 s.
$FF -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 \
    -t 2 -c:v libx264 -g 25 -keyint_min 25 -sc_threshold 0 -pix_fmt yuv420p -c:a aac $BX \
    -f flv h264_aac.flv

# Audio only: AAC, 2 s.
$FF -f lavfi -i sine=frequency=440:sample_rate=44100 -t 2 -c:a aac $BX -f flv aac_only.flv

# Video only: H.264 without B-frames, GOP 10, 2 s at 25 fps.
$FF -f lavfi -i testsrc=size=160x120:rate=25 -t 2 -c:v libx264 -g 10 -keyint_min 10 \
    -sc_threshold 0 -bf 0 -pix_fmt yuv420p $BX -f flv h264_only.flv

# Timestamps above 2^24 ms (16777.216 s): MP3 audio shifted by 16800 s, so every
# media tag uses the TimestampExtended byte (FLV spec annex E.4.1).
$FF -f lavfi -i sine=frequency=440:sample_rate=44100 -t 1 -c:a libmp3lame -b:a 64k \
    -output_ts_offset 16800 $BX -f flv mp3_ext_ts.flv
