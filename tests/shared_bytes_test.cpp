#include "rtmp/proto/shared_bytes.hpp"

#include <gtest/gtest.h>

#include <array>

namespace {

using rtmp::proto::shared_bytes;
using rtmp::proto::writable_bytes;

TEST(shared_bytes, copy_of_owns_its_bytes) {
  std::array<std::uint8_t, 4> src{1, 2, 3, 4};
  auto b = shared_bytes::copy_of(src);
  src[0] = 9;
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0], 1);
  EXPECT_EQ(b[3], 4);
}

TEST(shared_bytes, copies_share_storage) {
  std::array<std::uint8_t, 3> src{7, 8, 9};
  auto a = shared_bytes::copy_of(src);
  auto b = a;
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(a.use_count(), 2);
}

TEST(shared_bytes, slice_shares_and_outlives_parent) {
  writable_bytes w(5);
  for (std::size_t i = 0; i < 5; ++i) w.data()[i] = static_cast<std::uint8_t>(10 + i);
  shared_bytes s;
  {
    auto whole = std::move(w).freeze();
    EXPECT_EQ(w.size(), 0u);
    s = whole.slice(1, 3);
  }
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], 11);
  EXPECT_EQ(s[2], 13);
  EXPECT_EQ(s.use_count(), 1);
}

TEST(shared_bytes, empty_by_default) {
  shared_bytes e;
  EXPECT_TRUE(e.empty());
  EXPECT_TRUE(shared_bytes::copy_of({}).empty());
}

}  // namespace
