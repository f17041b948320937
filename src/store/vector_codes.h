// Two-bit codes of a vector index's rows, for a first pass over every row that reads an eighth
// of the bytes of f32 rows and a quarter of int8 rows; the best few hundred candidates are then
// scored exactly (VectorIndex::search_codes).
//
// Each element x of a row becomes one of four levels (-3, -1, 1, 3) * step / 2, thresholds at 0 and
// +-step, with step = 0.9957 * the row's RMS: the optimal uniform four-level quantizer for
// Gaussian elements (Max, "Quantizing for minimum distortion", 1960), which is what the elements
// of an embedding look like one by one. A query is scored against the codes in int8:
//   estimate(row) = step(row) / 2 * sum_i q_i * (2 c_i - 3) = step(row) / 2 * (2 * <q, c> - 3 * sum q)
// with c_i in 0..3 the element's code. The estimate ranks rows; it is never returned as a score.
//
// Layout: rows in groups of 16; per group and per 16 elements (a chunk) 64 bytes whose 32-bit lane r
// belongs to row r: byte e of the lane holds, in bits 2k..2k+1, the code of element 16 * chunk + 4k + e.
// So one 64-byte load and a shift by 2k give four elements of all 16 rows side by side, and one
// int8 x u8 dot-product instruction (AVX-512 VNNI vpdpbusd) advances 16 rows by 4 elements.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pm::store {

class VectorCodes {
 public:
  static constexpr uint32_t kGroupRows = 16, kChunk = 16;

  explicit VectorCodes(uint32_t dim = 0);

  uint32_t dim() const { return dim_; }
  // The query length score() takes: dim rounded up to whole chunks (pad with zeros).
  uint32_t padded_dim() const { return chunks_ * kChunk; }
  size_t rows() const { return rows_; }
  size_t memory_bytes() const { return codes_.size() + half_step_.size() * sizeof(float); }

  // Rows [0, n): rows past the old end are zero codes until set().
  void resize(size_t n);
  void clear() { resize(0); }
  // Encodes row `row` (< rows()) from its dim elements.
  void set(size_t row, const float* x);

  // est[row] for every row: the estimate of the dot product of `q` (padded_dim() int8 elements,
  // zeros past dim) with the row, up to a positive factor common to all rows.
  void score(const int8_t* q, std::vector<float>& est) const;

  // The kernels computing <q, c> for the 16 rows of a group that this CPU runs: 0 is the one
  // score() uses, the last the scalar reference. For tests, which compare them.
  static int kernel_count();
  static const char* kernel_name(int kernel);
  void group_dots(size_t g, const int8_t* q, int32_t out[kGroupRows], int kernel) const;
  // Code of element i of row r (0..3), for tests.
  int code(size_t row, uint32_t i) const;

 private:
  uint32_t dim_, chunks_;
  size_t rows_ = 0;
  std::vector<uint8_t> codes_;    // [groups][chunks][64]
  std::vector<float> half_step_;  // [rows]
};

}  // namespace pm::store
