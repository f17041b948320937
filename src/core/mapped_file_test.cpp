#include "core/mapped_file.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"

namespace pm {
namespace {

std::string temp_file(const std::string& bytes) {
  const std::string path = (std::filesystem::temp_directory_path() / ("pm_mapped_" + std::to_string(::getpid()))).string();
  EXPECT_TRUE(write_file(path, bytes.data(), bytes.size()).is_ok());
  return path;
}

TEST(MappedFile, ReadCopiesTheSameBytesAsTheMapping) {
  std::string bytes(3 * 4096 + 17, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = char(i * 131 + 7);
  const std::string path = temp_file(bytes);
  auto f = MappedFile::open(path);
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  const MappedFile& m = **f;
  ASSERT_EQ(m.size_bytes(), bytes.size());
  // A span across a page boundary, the first and the last byte.
  for (auto [at, n] : {std::pair<size_t, size_t>{4000, 300}, {0, 1}, {bytes.size() - 1, 1}, {0, bytes.size()}}) {
    std::vector<uint8_t> out(n);
    ASSERT_TRUE(m.contains(m.data() + at, n));
    ASSERT_TRUE(m.read(m.data() + at, n, out.data()).is_ok());
    EXPECT_EQ(0, std::memcmp(out.data(), bytes.data() + at, n)) << "at " << at;
  }
  std::remove(path.c_str());
}

TEST(MappedFile, ReadOutsideTheMappingIsRefused) {
  const std::string path = temp_file(std::string(100, 'x'));
  auto f = MappedFile::open(path);
  ASSERT_TRUE(f.is_ok());
  const MappedFile& m = **f;
  uint8_t out[200];
  EXPECT_FALSE(m.contains(m.data() + 50, 51));
  EXPECT_FALSE(m.read(m.data() + 50, 51, out).is_ok());
  EXPECT_FALSE(m.read(m.data() + 101, 0, out).is_ok());
  const uint8_t elsewhere[4] = {};
  EXPECT_FALSE(m.contains(elsewhere, 4));
  EXPECT_FALSE(m.read(elsewhere, 4, out).is_ok());
  std::remove(path.c_str());
}

TEST(AlignedBuffer, SmallAndPageBackedBuffersAreAlignedAndZeroed) {
  for (size_t count : {size_t(1), size_t(1000), AlignedBuffer<float>::kPageThreshold / sizeof(float) + 3}) {
    AlignedBuffer<float> b(count);
    ASSERT_EQ(b.size(), count);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % AlignedBuffer<float>::kAlignment, 0u);
    for (size_t i = 0; i < count; ++i) ASSERT_EQ(b[i], 0.0f) << i;
    b[count - 1] = 1.0f;  // writable to the end
    AlignedBuffer<float> moved(std::move(b));
    EXPECT_EQ(moved[count - 1], 1.0f);
    EXPECT_EQ(b.size(), 0u);
  }
}

}  // namespace
}  // namespace pm
