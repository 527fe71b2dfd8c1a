#pragma once
/// @file shared_bytes.hpp
/// Immutable, reference-counted byte blocks. A media payload is received once
/// into a `writable_bytes`, frozen into a `shared_bytes`, and from then on every
/// holder (hub caches, subscriber queues, encoded wire buffers) shares the same
/// bytes: copying a `shared_bytes` copies a pointer, never the payload.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace rtmp::proto {

/// A read-only view of bytes that keeps their storage alive.
/// Thread-safety: as `std::shared_ptr` (distinct objects may be used from
/// different threads; the bytes themselves are never written after freezing).
class shared_bytes {
 public:
  /// An empty block.
  shared_bytes() noexcept = default;

  /// Shares `size` bytes at `data`, kept alive by `owner`.
  shared_bytes(std::shared_ptr<const std::uint8_t[]> owner, const std::uint8_t* data,
               std::size_t size) noexcept
      : owner_(std::move(owner)), data_(data), size_(size) {}

  /// Copies `bytes` into a new block (one allocation).
  static shared_bytes copy_of(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return {};
    auto block = std::make_shared_for_overwrite<std::uint8_t[]>(bytes.size());
    std::memcpy(block.get(), bytes.data(), bytes.size());
    const std::uint8_t* p = block.get();
    return shared_bytes(std::move(block), p, bytes.size());
  }

  /// Takes over `bytes` without copying them (one allocation, for the
  /// owner); `bytes` is left empty.
  static shared_bytes adopt(std::vector<std::uint8_t>&& bytes) {
    if (bytes.empty()) return {};
    auto owner = std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
    const std::uint8_t* p = owner->data();
    const std::size_t n = owner->size();
    return shared_bytes(std::shared_ptr<const std::uint8_t[]>(owner, p), p, n);
  }

  /// Pointer to the first byte (null when empty).
  const std::uint8_t* data() const noexcept { return data_; }
  /// Number of bytes.
  std::size_t size() const noexcept { return size_; }
  /// True when there are no bytes.
  bool empty() const noexcept { return size_ == 0; }
  /// The bytes as a span; valid while this object (or a copy) lives.
  std::span<const std::uint8_t> span() const noexcept { return {data_, size_}; }
  /// Byte at `i` (unchecked).
  std::uint8_t operator[](std::size_t i) const noexcept { return data_[i]; }

  /// A sub-range sharing the same storage. `offset + length` must be <= size().
  shared_bytes slice(std::size_t offset, std::size_t length) const noexcept {
    return shared_bytes(owner_, data_ + offset, length);
  }

  /// Number of owners of the underlying storage (for tests and diagnostics).
  long use_count() const noexcept { return owner_.use_count(); }

 private:
  std::shared_ptr<const std::uint8_t[]> owner_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

/// A block being filled before it is frozen into a `shared_bytes`.
/// Single owner; freezing moves the storage without copying.
class writable_bytes {
 public:
  writable_bytes() noexcept = default;

  /// Allocates `size` uninitialised bytes.
  explicit writable_bytes(std::size_t size)
      : block_(size ? std::make_shared_for_overwrite<std::uint8_t[]>(size) : nullptr), size_(size) {}

  /// Writable pointer to the first byte.
  std::uint8_t* data() noexcept { return block_.get(); }
  /// Size given at construction.
  std::size_t size() const noexcept { return size_; }
  /// The bytes as a writable span.
  std::span<std::uint8_t> span() noexcept { return {block_.get(), size_}; }

  /// Gives up the storage as an immutable block; this object becomes empty.
  shared_bytes freeze() && noexcept {
    const std::uint8_t* p = block_.get();
    const std::size_t n = std::exchange(size_, 0);
    return shared_bytes(std::shared_ptr<const std::uint8_t[]>(std::move(block_)), p, n);
  }

 private:
  std::shared_ptr<std::uint8_t[]> block_;
  std::size_t size_ = 0;
};

}  // namespace rtmp::proto
