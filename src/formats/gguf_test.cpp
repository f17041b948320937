// GGUF reader/writer: round trips of every value type, and rejection (with a clear message,
// never a crash or out-of-bounds read) of corrupted files.
#include <cstring>

#include <gtest/gtest.h>

#include "core/fp16.h"
#include "formats/gguf.h"

namespace pm {
namespace {

std::vector<uint8_t> sample_file() {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 2);
  w.set_i32("some.i32", -7);
  w.set_u64("some.u64", 1ull << 40);
  w.set_f32("some.f32", 0.5f);
  w.set_bool("some.bool", true);
  w.set_string_array("tokenizer.ggml.tokens", {"<s>", "a", "你好"});
  w.set_f32_array("tokenizer.ggml.scores", {0.0f, -1.5f, 2.25f});
  w.set_i32_array("tokenizer.ggml.token_type", {3, 1, 1});
  // Nested array: [[1, 2], [3]]
  GgufValue nested;
  nested.type = GgufType::kArray;
  nested.elem_type = GgufType::kArray;
  for (std::vector<int64_t> inner : {std::vector<int64_t>{1, 2}, std::vector<int64_t>{3}}) {
    GgufValue a;
    a.type = GgufType::kArray;
    a.elem_type = GgufType::kInt16;
    a.ints = inner;
    nested.arrays.push_back(a);
  }
  w.set("some.nested", nested);
  std::vector<float> f32(64);
  for (int i = 0; i < 64; ++i) f32[size_t(i)] = float(i);
  EXPECT_TRUE(w.add_tensor("t.f32", GgmlType::kF32, {32, 2}, f32.data(), f32.size() * 4).is_ok());
  std::vector<uint16_t> f16(32);
  for (int i = 0; i < 32; ++i) f16[size_t(i)] = fp32_to_fp16(float(i) * 0.25f);
  EXPECT_TRUE(w.add_tensor("t.f16", GgmlType::kF16, {32}, f16.data(), f16.size() * 2).is_ok());
  std::vector<uint8_t> q4(18 * 2, 0x11);
  EXPECT_TRUE(w.add_tensor("t.q4_0", GgmlType::kQ4_0, {64}, q4.data(), q4.size()).is_ok());
  return w.to_bytes();
}

TEST(Gguf, RoundTripsEveryValueType) {
  const std::vector<uint8_t> bytes = sample_file();
  auto f = GgufFile::parse(bytes.data(), bytes.size(), "mem.gguf");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  EXPECT_EQ((*f)->version(), 3u);
  EXPECT_EQ(*(*f)->get_string("general.architecture"), "llama");
  EXPECT_EQ(*(*f)->get_int("llama.block_count"), 2);
  EXPECT_EQ(*(*f)->get_int("some.i32"), -7);
  EXPECT_EQ(*(*f)->get_int("some.u64"), int64_t(1) << 40);
  EXPECT_EQ(*(*f)->get_float("some.f32"), 0.5);
  EXPECT_EQ(*(*f)->get_bool("some.bool"), true);
  auto tokens = (*f)->get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.is_ok());
  EXPECT_EQ(**tokens, (std::vector<std::string>{"<s>", "a", "你好"}));
  EXPECT_EQ(*(*f)->get_float_array("tokenizer.ggml.scores"), (std::vector<double>{0.0, -1.5, 2.25}));
  EXPECT_EQ(*(*f)->get_int_array("tokenizer.ggml.token_type"), (std::vector<int64_t>{3, 1, 1}));
  const GgufValue* nested = (*f)->find("some.nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->arrays.size(), 2u);
  EXPECT_EQ(nested->arrays[0].ints, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(nested->arrays[1].ints, (std::vector<int64_t>{3}));

  ASSERT_EQ((*f)->tensors().size(), 3u);
  const GgufTensorInfo* t = (*f)->find_tensor("t.f32");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->ne, (std::vector<int64_t>{32, 2}));
  EXPECT_EQ(t->size_bytes, 256u);
  float v;
  std::memcpy(&v, t->data + 4 * 63, 4);
  EXPECT_EQ(v, 63.0f);
  const GgufTensorInfo* q = (*f)->find_tensor("t.q4_0");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->size_bytes, 36u);
  EXPECT_EQ(size_t(q->data - bytes.data()) % 32, 0u);
}

TEST(Gguf, TypedGettersNameTheKey) {
  const std::vector<uint8_t> bytes = sample_file();
  auto f = GgufFile::parse(bytes.data(), bytes.size(), "mem.gguf");
  ASSERT_TRUE(f.is_ok());
  auto missing = (*f)->get_int("llama.context_length");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("llama.context_length"), std::string::npos);
  auto wrong = (*f)->get_int("general.architecture");
  EXPECT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.status().message().find("general.architecture"), std::string::npos);
  EXPECT_EQ(*(*f)->get_int_or("absent", 42), 42);
}

TEST(Gguf, ReadsVersion2) {
  std::vector<uint8_t> bytes = sample_file();
  bytes[4] = 2;  // v2 has the same layout as v3 for little-endian files
  auto f = GgufFile::parse(bytes.data(), bytes.size(), "v2.gguf");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  EXPECT_EQ((*f)->version(), 2u);
}

// Every prefix of a valid file is a truncated file: each must fail cleanly (run under ASan in CI).
TEST(GgufCorrupt, EveryTruncationIsRejected) {
  const std::vector<uint8_t> bytes = sample_file();
  for (size_t n = 0; n < bytes.size(); ++n) {
    // Copy into an exact-size buffer so that any overread is caught by the sanitizer.
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + long(n));
    auto f = GgufFile::parse(prefix.data(), prefix.size(), "cut.gguf");
    // The tensor data of the last tensor ends in padding: cuts inside the padding are fine.
    if (f.is_ok()) {
      EXPECT_GE(n, bytes.size() - 32) << "prefix of " << n << " bytes was accepted";
      continue;
    }
    EXPECT_NE(f.status().message().find("cut.gguf"), std::string::npos);
  }
}

void expect_rejected(std::vector<uint8_t> bytes, const std::string& needle) {
  auto f = GgufFile::parse(bytes.data(), bytes.size(), "bad.gguf");
  ASSERT_FALSE(f.is_ok()) << "expected an error mentioning " << needle;
  EXPECT_NE(f.status().message().find(needle), std::string::npos) << f.status().message();
}

size_t find_bytes(const std::vector<uint8_t>& hay, const std::string& needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end());
  return it == hay.end() ? std::string::npos : size_t(it - hay.begin());
}

TEST(GgufCorrupt, WrongMagic) {
  std::vector<uint8_t> b = sample_file();
  b[0] = 'X';
  expect_rejected(b, "not a GGUF file");
}

TEST(GgufCorrupt, UnsupportedVersion) {
  std::vector<uint8_t> b = sample_file();
  b[4] = 9;
  expect_rejected(b, "version 9");
  b[4] = 1;
  expect_rejected(b, "version 1");
}

TEST(GgufCorrupt, AbsurdCounts) {
  std::vector<uint8_t> b = sample_file();
  const uint64_t huge = 1ull << 60;
  std::memcpy(&b[8], &huge, 8);
  expect_rejected(b, "tensor count");
  b = sample_file();
  std::memcpy(&b[16], &huge, 8);
  expect_rejected(b, "metadata count");
}

TEST(GgufCorrupt, HugeStringLength) {
  std::vector<uint8_t> b = sample_file();
  const uint64_t huge = 1ull << 50;
  std::memcpy(&b[24], &huge, 8);  // length of the first key
  expect_rejected(b, "runs past end of file");
}

TEST(GgufCorrupt, UnknownTensorType) {
  std::vector<uint8_t> b = sample_file();
  const size_t at = find_bytes(b, "t.f16");
  ASSERT_NE(at, std::string::npos);
  // name | n_dims (4) | ne[0] (8) | type (4)
  const uint32_t bad_type = 77;
  std::memcpy(&b[at + 5 + 4 + 8], &bad_type, 4);
  expect_rejected(b, "unknown tensor type id 77");
}

TEST(GgufCorrupt, AbsurdDimensions) {
  std::vector<uint8_t> b = sample_file();
  const size_t at = find_bytes(b, "t.f16");
  const uint32_t dims = 9;
  std::memcpy(&b[at + 5], &dims, 4);
  expect_rejected(b, "9 dimensions");
  b = sample_file();
  const uint64_t ne = 1ull << 39;
  std::memcpy(&b[at + 5 + 4], &ne, 8);
  expect_rejected(b, "larger than the file");
}

TEST(GgufCorrupt, OffsetPastEnd) {
  std::vector<uint8_t> b = sample_file();
  const size_t at = find_bytes(b, "t.q4_0");
  const uint64_t off = 1ull << 20;
  std::memcpy(&b[at + 6 + 4 + 8 + 4], &off, 8);
  expect_rejected(b, "runs past end of file");
  const uint64_t misaligned = 33;
  std::memcpy(&b[at + 6 + 4 + 8 + 4], &misaligned, 8);
  expect_rejected(b, "not a multiple of the alignment");
}

TEST(GgufCorrupt, BadValueType) {
  std::vector<uint8_t> b = sample_file();
  // The first kv: key length (8) + "general.architecture" (20) then its type.
  const uint32_t t = 13;
  std::memcpy(&b[24 + 8 + 20], &t, 4);
  expect_rejected(b, "unknown value type 13");
}

TEST(GgufWriter, RejectsInconsistentTensors) {
  GgufWriter w;
  std::vector<uint8_t> data(10);
  EXPECT_FALSE(w.add_tensor("x", GgmlType::kQ4_0, {31}, data.data(), data.size()).is_ok());
  EXPECT_FALSE(w.add_tensor("x", GgmlType::kF32, {4}, data.data(), data.size()).is_ok());
  EXPECT_FALSE(w.add_tensor("x", static_cast<GgmlType>(4), {4}, data.data(), data.size()).is_ok());
}

}  // namespace
}  // namespace pm
