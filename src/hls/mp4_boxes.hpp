#pragma once
// Writing ISO/IEC 14496-12 boxes (and the ISO/IEC 14496-1 descriptors that
// esds holds) into a byte vector: big-endian fields, and box sizes written
// when a box ends. Internal to the fMP4 muxer; nothing here reads input.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace rtmp::hls::mp4 {

/// Appends to `out`. Boxes nest: `begin` returns the box's offset, `end`
/// writes its 32-bit size there once its content is written.
class box_writer {
 public:
  explicit box_writer(std::vector<std::uint8_t>& out) noexcept : out_(out) {}

  /// Starts a box of `type` (four characters).
  std::size_t begin(std::string_view type);
  /// Starts a full box: `version` and the 24-bit `flags` follow the type.
  std::size_t begin_full(std::string_view type, std::uint8_t version, std::uint32_t flags);
  /// Ends the box started at `at` (writes its size).
  void end(std::size_t at) noexcept;

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v);
  void u24(std::uint32_t v);
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  /// Four characters (a box type, brand or handler type).
  void fourcc(std::string_view type);
  void bytes(std::span<const std::uint8_t> b);
  void zeros(std::size_t n);
  /// The unity transformation matrix of mvhd / tkhd (9 x 32 bits).
  void unity_matrix();
  /// An ISO/IEC 14496-1 descriptor header: tag, then sizeOfInstance in the
  /// shortest expandable form (7 bits a byte, high bit "more").
  void descriptor(std::uint8_t tag, std::size_t size);

  /// Current size of the output (where the next byte goes).
  std::size_t pos() const noexcept { return out_.size(); }
  /// Overwrites 4 bytes at `at` with `v`, big-endian.
  void patch_u32(std::size_t at, std::uint32_t v) noexcept;

 private:
  std::vector<std::uint8_t>& out_;
};

/// Bytes `descriptor` writes for a header of `size`.
std::size_t descriptor_header_size(std::size_t size) noexcept;

// --- init segment boxes ---------------------------------------------------------

/// ftyp: major brand iso6 (tfdt and trun version 1), compatible iso6, mp41.
void write_ftyp(box_writer& w);
/// mvhd: timescale 1000, duration 0 (fragmented), `next_track_id`.
void write_mvhd(box_writer& w, std::uint32_t next_track_id);

/// What tkhd, mdhd and hdlr say of a track.
struct track_header {
  std::uint32_t id = 0;
  bool video = false;  ///< vide/vmhd, else soun/smhd
  std::uint32_t timescale = 0;
  std::uint32_t width = 0;  ///< video only (tkhd 16.16)
  std::uint32_t height = 0;
};

/// Offsets of the boxes `begin_trak` left open: trak, mdia, minf, stbl, stsd.
using trak_boxes = std::array<std::size_t, 5>;

/// Writes trak, tkhd, mdia, mdhd, hdlr, minf, vmhd|smhd, dinf/dref, stbl
/// and stsd with entry_count 1: the caller writes the sample entry next.
trak_boxes begin_trak(box_writer& w, const track_header& t);
/// Closes stsd, writes the empty stts, stsc, stco and stsz, closes the rest.
void end_trak(box_writer& w, const trak_boxes& at);

/// A VisualSampleEntry of type `codec` (avc1, hvc1, av01) holding the
/// decoder configuration `record` in a `config_box` (avcC, hvcC, av1C).
void write_visual_entry(box_writer& w, std::string_view codec, std::string_view config_box,
                        std::span<const std::uint8_t> record, std::uint32_t width, std::uint32_t height);
/// An mp4a AudioSampleEntry with its esds (AudioSpecificConfig `asc` as
/// the DecoderSpecificInfo).
void write_mp4a_entry(box_writer& w, std::span<const std::uint8_t> asc, std::uint32_t rate, std::uint8_t channels);

}  // namespace rtmp::hls::mp4
