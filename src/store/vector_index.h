// Vector index of a store's record embeddings: every vector in memory (f32, or int8 with one
// scale per vector), an exact scan for small stores and, for large ones, an HNSW graph (Malkov &
// Yashunin 2016) or a two-stage scan (two-bit codes of every vector, then the best candidates
// scored exactly: store/vector_codes.h), tombstone deletes, metadata pre-filters (source, time
// range, sender), and a checksummed file beside the database. SQLite stays the source of truth: a
// missing, damaged or stale file (its generation differs from the database's) is rebuilt from
// the stored vectors.
//
// Graph or codes: a graph's recall depends on the data. On embeddings (vectors near a
// low-dimensional subspace) it finds >= 95% of the exact top 10 in well under the time of a scan;
// on vectors without neighbourhood structure (isotropic random ones) no HNSW does (hnswlib itself
// finds 82% at ef 2048, bench/hnsw_reference.py). So whenever a graph is built, and again each
// time the index has doubled since, its recall is measured on a sample of the stored vectors used
// as queries, and search() uses the graph only when that recall is >= kGraphMinRecall; otherwise
// the two-stage scan, which finds >= 99% of the exact top 10 on either kind of data.
//
// Similarity is the dot product (the embedder normalizes vectors, so this is the cosine).
// int8 rows: q[i] = round(x[i] / scale), scale = max|x| / 127; queries are quantized the same way
// and dot products accumulate in int32 (SIMD: AVX2 chosen at run time on x86-64, NEON on ARM).
//
// File layout (little-endian), DIR/vectors.pmvi:
//   "PMVECIDX" | u32 version (2) | u32 dim | u32 type (0 f32, 1 int8) | u32 M | u32 ef_construction
//   | i32 max_level (-1: empty) | u32 entry slot | u64 n_slots | u64 generation
//   | f64 graph recall (-1 without a graph) | u64 live vectors when it was measured
//   | u32 len + model id                     (version 1 files, without the recall, still load)
//   n_slots x { i64 key | u8 deleted | u8 level | u32 source_bits | i64 t_begin | i64 t_end
//               | u64 sender_hash | vector (f32: dim x f32; int8: f32 scale + dim x i8)
//               | for l in 0..level: u32 n + n x u32 neighbour slot }
//   u64 FNV-1a of every byte before it
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "store/vector_codes.h"

namespace pm::store {

enum class VectorType : uint32_t { kF32 = 0, kI8 = 1 };

// Bit of a record source in VectorMeta::source_bits / VectorFilter::sources (0: unknown source).
uint32_t source_bit(std::string_view source);
// Hash of a (case-folded) sender name for VectorMeta::sender_hash.
uint64_t sender_hash(std::string_view folded_name);

// Dot products used by the index: the dispatched SIMD kernels and their scalar references
// (tested against each other).
float vector_dot_f32(const float* a, const float* b, uint32_t n);
int32_t vector_dot_i8(const int8_t* a, const int8_t* b, uint32_t n);
float vector_dot_f32_reference(const float* a, const float* b, uint32_t n);
int32_t vector_dot_i8_reference(const int8_t* a, const int8_t* b, uint32_t n);

struct VectorMeta {
  uint32_t source_bits = 0;
  int64_t t_begin = 0, t_end = 0;  // when it happened (Unix seconds), as records.t_begin / t_end
  uint64_t sender_hash = 0;        // 0: none
};

struct VectorFilter {
  uint32_t sources = 0;  // any of these bits; 0: every source
  bool has_time = false;
  int64_t begin_s = 0, end_s = 0;       // overlaps [begin_s, end_s): t_begin < end_s && t_end >= begin_s
  std::vector<uint64_t> sender_hashes;  // sender is one of these; empty: anyone
  bool empty() const { return sources == 0 && !has_time && sender_hashes.empty(); }
  bool accepts(const VectorMeta& m) const;
};

struct VectorHit {
  int64_t key = 0;
  float score = 0;  // dot product, higher is better
};

struct HnswParams {
  uint32_t m = 16;                 // links per node above level 0 (2m at level 0)
  uint32_t ef_construction = 128;  // candidate list while inserting
  uint32_t ef_search = 128;        // candidate list while searching (raised to k when smaller)
  // Stores with fewer live vectors are searched exactly; the graph is built from this size on.
  uint32_t graph_min_vectors = 20000;
};

class VectorIndex {
 public:
  static constexpr uint32_t kFileVersion = 2;
  // The sampled recall@10 a graph needs for search() to use it (else the two-stage scan).
  static constexpr double kGraphMinRecall = 0.95;
  // Candidates the two-stage scan scores exactly: max(this, 32 k).
  static constexpr size_t kCodeCandidates = 256;

  VectorIndex(uint32_t dim, VectorType type, HnswParams params = {});

  uint32_t dim() const { return dim_; }
  VectorType type() const { return type_; }
  size_t size() const { return live_; }  // vectors not deleted
  size_t slots() const { return keys_.size(); }
  bool has_graph() const { return graph_; }
  // The graph's recall@10 measured on a sample of stored vectors (-1: no graph), and whether
  // search() uses it.
  double graph_recall() const { return graph_ ? graph_recall_ : -1.0; }
  bool uses_graph() const { return graph_ && graph_recall_ >= kGraphMinRecall; }
  // Bytes held by vectors, metadata and links (not counting allocator overhead).
  size_t memory_bytes() const;
  uint64_t generation() const { return generation_; }
  void set_generation(uint64_t g) { generation_ = g; }
  const std::string& model_id() const { return model_id_; }
  void set_model_id(std::string id) { model_id_ = std::move(id); }

  // Adds a vector under `key` (replacing the key's previous vector). Non-finite values are refused.
  // Adds it to the graph when there is one; build_graph() is called once the size reaches
  // graph_min_vectors (or when forced).
  Status add(int64_t key, const float* vec, const VectorMeta& meta);
  bool remove(int64_t key);  // false when absent
  bool contains(int64_t key) const;
  std::vector<int64_t> keys() const;  // of the live vectors
  // Builds the HNSW graph over the live vectors now (dropping tombstones), whatever the size.
  void build_graph();

  // The k most similar live vectors passing `filter`, best first. Small stores and selective
  // filters: the exact scan; otherwise the graph when uses_graph(), else the two-stage scan.
  std::vector<VectorHit> search(const float* query, size_t k, const VectorFilter& filter = {}) const;
  std::vector<VectorHit> search_exact(const float* query, size_t k, const VectorFilter& filter = {}) const;
  // Two-stage scan: every live vector passing `filter` ranked by its two-bit code, then the best
  // `candidates` (0: max(kCodeCandidates, 32 k)) scored exactly. Scores are exact similarities.
  std::vector<VectorHit> search_codes(const float* query, size_t k, const VectorFilter& filter = {},
                                      size_t candidates = 0) const;
  std::vector<VectorHit> search_graph(const float* query, size_t k, const VectorFilter& filter = {},
                                      uint32_t ef = 0) const;

  // Writes to path.tmp, fsyncs, renames. load() checks the checksum and every count and link;
  // errors say what was wrong (the caller rebuilds from the database).
  Status save(const std::string& path) const;
  static Result<std::unique_ptr<VectorIndex>> load(const std::string& path);
  // load() of a file's bytes already in memory; `name` (the path) prefixes every error.
  static Result<std::unique_ptr<VectorIndex>> parse(const uint8_t* data, size_t size, const std::string& name);

 private:
  // A query prepared for the row type.
  struct Query {
    std::vector<float> f32;
    std::vector<int8_t> i8;
    float scale = 0;
  };
  Query prepare(const float* q) const;
  // The k most similar of `slots` (all live), best first.
  std::vector<VectorHit> scan(const float* query, size_t k, const std::vector<uint32_t>& slots) const;
  float similarity(const Query& q, uint32_t slot) const;
  float similarity(uint32_t a, uint32_t b) const;
  void store_vector(uint32_t slot, const float* vec);
  void row_f32(uint32_t slot, float* out) const;  // the stored row as floats (dequantized)
  void encode_codes(uint32_t slot, float* row);    // codes_ row `slot` from the stored row (`row`: dim_ floats of scratch)
  void encode_all_codes();                         // codes_ for every slot
  // Measures graph_recall_ on up to 32 stored vectors (each the query, itself left out).
  void assess_graph();

  uint32_t* links(uint32_t slot, int level);  // [0] = count, then up to capacity ids
  const uint32_t* links(uint32_t slot, int level) const;
  uint32_t capacity(int level) const { return level == 0 ? 2 * params_.m : params_.m; }
  void insert_into_graph(uint32_t slot);
  uint32_t greedy_descent(const Query& q, int to) const;
  struct Scored {
    float sim;
    uint32_t slot;
  };
  // The k most similar to q of the slots each(visit) passes to visit(slot), best first.
  template <typename EachSlot>
  std::vector<VectorHit> best_of(const Query& q, size_t k, EachSlot each) const;
  // Best-first search of one level from `entry`; returns up to ef results (best first). With
  // `filter`/tombstones, only accepted nodes enter the results but all are traversed.
  std::vector<Scored> search_level(const Query& q, uint32_t entry, uint32_t ef, int level, bool only_live,
                                   const VectorFilter* filter) const;
  std::vector<Scored> select_neighbors(std::vector<Scored> cands, uint32_t m) const;
  bool live(uint32_t slot) const { return !deleted_[slot]; }

  uint32_t dim_;
  VectorType type_;
  HnswParams params_;
  uint64_t generation_ = 0;
  std::string model_id_;
  size_t live_ = 0;

  std::vector<int64_t> keys_;                      // [n_slots]
  std::vector<uint8_t> deleted_;                   // [n_slots]
  std::vector<VectorMeta> meta_;                   // [n_slots]
  std::vector<float> f32_;                         // [n_slots][dim]           (kF32)
  std::vector<int8_t> i8_;                         // [n_slots][dim]           (kI8)
  std::vector<float> scales_;                      // [n_slots]                (kI8)
  std::unordered_map<int64_t, uint32_t> slot_of_;  // key -> slot of its live vector
  VectorCodes codes_;                              // [n_slots] two-bit codes of the rows

  bool graph_ = false;
  std::vector<uint8_t> level_;                // [n_slots] top level of each node
  std::vector<uint32_t> links0_;              // [n_slots][1 + 2m]  level 0
  std::vector<std::vector<uint32_t>> upper_;  // [n_slots][level * (1 + m)]  levels 1..level
  int32_t max_level_ = -1;
  uint32_t entry_ = 0;
  uint64_t rng_state_ = 0x9E3779B97F4A7C15ull;
  double graph_recall_ = 0;  // of the graph, measured by assess_graph()
  size_t assessed_at_ = 0;   // live vectors when it was measured

  // Visited marks for searches (generation-stamped so they never need clearing).
  mutable std::mutex visit_mu_;
  mutable std::vector<uint32_t> visited_;
  mutable uint32_t visit_tag_ = 0;
};

}  // namespace pm::store
