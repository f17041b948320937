#include "store/vector_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <queue>
#include <set>

#include "core/cpu_features.h"
#include "core/hash.h"
#include "store/record.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace pm::store {
namespace {

// ---- dot products: a scalar reference and SIMD versions (tested against each other) ----

float dot_f32_scalar(const float* a, const float* b, uint32_t n) {
  float s[8] = {};
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
  for (; i < n; ++i) s[0] += a[i] * b[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

int32_t dot_i8_scalar(const int8_t* a, const int8_t* b, uint32_t n) {
  int32_t s = 0;
  for (uint32_t i = 0; i < n; ++i) s += int32_t(a[i]) * int32_t(b[i]);
  return s;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) float dot_f32_avx2(const float* a, const float* b, uint32_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  acc0 = _mm256_add_ps(acc0, acc1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  float r = _mm_cvtss_f32(s);
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}

__attribute__((target("avx2"))) int32_t dot_i8_avx2(const int8_t* a, const int8_t* b, uint32_t n) {
  __m256i acc = _mm256_setzero_si256();
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    const __m256i y = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, y));
  }
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  int32_t r = _mm_cvtsi128_si32(s);
  for (; i < n; ++i) r += int32_t(a[i]) * int32_t(b[i]);
  return r;
}
#endif

#if defined(__ARM_NEON)
float dot_f32_neon(const float* a, const float* b, uint32_t n) {
  float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = vfmaq_f32(acc0, vld1q_f32(a + i), vld1q_f32(b + i));
    acc1 = vfmaq_f32(acc1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
  }
  float r = vaddvq_f32(vaddq_f32(acc0, acc1));
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}

int32_t dot_i8_neon(const int8_t* a, const int8_t* b, uint32_t n) {
  int32x4_t acc = vdupq_n_s32(0);
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const int8x16_t x = vld1q_s8(a + i), y = vld1q_s8(b + i);
    int16x8_t p = vmull_s8(vget_low_s8(x), vget_low_s8(y));
    p = vmlal_s8(p, vget_high_s8(x), vget_high_s8(y));  // |sum of 2 products| <= 2 * 127 * 128 fits int16
    acc = vpadalq_s16(acc, p);
  }
  int32_t r = vaddvq_s32(acc);
  for (; i < n; ++i) r += int32_t(a[i]) * int32_t(b[i]);
  return r;
}
#endif

using DotF32 = float (*)(const float*, const float*, uint32_t);
using DotI8 = int32_t (*)(const int8_t*, const int8_t*, uint32_t);

struct DotKernels {
  DotF32 f32 = dot_f32_scalar;
  DotI8 i8 = dot_i8_scalar;
};

const DotKernels& dots() {
  static const DotKernels k = [] {
    DotKernels d;
#if defined(__x86_64__)
    if (cpu_features().avx2 && cpu_features().fma) {
      d.f32 = dot_f32_avx2;
      d.i8 = dot_i8_avx2;
    }
#elif defined(__ARM_NEON)
    d.f32 = dot_f32_neon;
    d.i8 = dot_i8_neon;
#endif
    return d;
  }();
  return k;
}

float quantize_i8(const float* x, uint32_t n, int8_t* q) {
  float amax = 0;
  for (uint32_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float scale = amax / 127.0f;
  const float inv = scale > 0 ? 1.0f / scale : 0.0f;
  for (uint32_t i = 0; i < n; ++i) q[i] = int8_t(std::lrintf(std::clamp(x[i] * inv, -127.0f, 127.0f)));
  return scale;
}

// Min-heap on similarity (worst on top) / max-heap (best on top).
struct WorstFirst {
  template <class S>
  bool operator()(const S& a, const S& b) const {
    return a.sim > b.sim;
  }
};
struct BestFirst {
  template <class S>
  bool operator()(const S& a, const S& b) const {
    return a.sim < b.sim;
  }
};

constexpr char kMagic[8] = {'P', 'M', 'V', 'E', 'C', 'I', 'D', 'X'};
constexpr int kMaxLevel = 32;

}  // namespace

// Exposed for vector_index_test.cpp: the scalar references and the dispatched kernels.
float vector_dot_f32_reference(const float* a, const float* b, uint32_t n) { return dot_f32_scalar(a, b, n); }
int32_t vector_dot_i8_reference(const int8_t* a, const int8_t* b, uint32_t n) { return dot_i8_scalar(a, b, n); }
float vector_dot_f32(const float* a, const float* b, uint32_t n) { return dots().f32(a, b, n); }
int32_t vector_dot_i8(const int8_t* a, const int8_t* b, uint32_t n) { return dots().i8(a, b, n); }

uint32_t source_bit(std::string_view source) {
  const std::vector<std::string>& all = known_sources();
  for (size_t i = 0; i < all.size() && i < 32; ++i)
    if (all[i] == source) return 1u << i;
  return 0;
}

uint64_t sender_hash(std::string_view folded_name) {
  if (folded_name.empty()) return 0;
  const uint64_t h = fnv1a64(folded_name.data(), folded_name.size());
  return h == 0 ? 1 : h;
}

bool VectorFilter::accepts(const VectorMeta& m) const {
  if (sources != 0 && (m.source_bits & sources) == 0) return false;
  if (has_time && !(m.t_begin < end_s && m.t_end >= begin_s)) return false;
  if (!sender_hashes.empty() &&
      std::find(sender_hashes.begin(), sender_hashes.end(), m.sender_hash) == sender_hashes.end())
    return false;
  return true;
}

VectorIndex::VectorIndex(uint32_t dim, VectorType type, HnswParams params)
    : dim_(dim), type_(type), params_(params), codes_(dim) {
  params_.m = std::clamp<uint32_t>(params_.m, 2, 128);
  params_.ef_construction = std::max(params_.ef_construction, params_.m);
}

VectorIndex::Query VectorIndex::prepare(const float* q) const {
  Query p;
  if (type_ == VectorType::kF32) {
    p.f32.assign(q, q + dim_);
  } else {
    p.i8.resize(dim_);
    p.scale = quantize_i8(q, dim_, p.i8.data());
  }
  return p;
}

float VectorIndex::similarity(const Query& q, uint32_t slot) const {
  if (type_ == VectorType::kF32) return dots().f32(q.f32.data(), &f32_[size_t(slot) * dim_], dim_);
  return float(dots().i8(q.i8.data(), &i8_[size_t(slot) * dim_], dim_)) * q.scale * scales_[slot];
}

float VectorIndex::similarity(uint32_t a, uint32_t b) const {
  if (type_ == VectorType::kF32) return dots().f32(&f32_[size_t(a) * dim_], &f32_[size_t(b) * dim_], dim_);
  return float(dots().i8(&i8_[size_t(a) * dim_], &i8_[size_t(b) * dim_], dim_)) * scales_[a] * scales_[b];
}

void VectorIndex::store_vector(uint32_t slot, const float* vec) {
  if (type_ == VectorType::kF32) {
    f32_.resize(size_t(slot + 1) * dim_);
    std::memcpy(&f32_[size_t(slot) * dim_], vec, sizeof(float) * dim_);
  } else {
    i8_.resize(size_t(slot + 1) * dim_);
    scales_.resize(slot + 1);
    scales_[slot] = quantize_i8(vec, dim_, &i8_[size_t(slot) * dim_]);
  }
  std::vector<float> row(dim_);
  encode_codes(slot, row.data());
}

void VectorIndex::row_f32(uint32_t slot, float* out) const {
  if (type_ == VectorType::kF32) {
    std::memcpy(out, &f32_[size_t(slot) * dim_], sizeof(float) * dim_);
    return;
  }
  for (uint32_t i = 0; i < dim_; ++i) out[i] = float(i8_[size_t(slot) * dim_ + i]) * scales_[slot];
}

// From the stored row (not the caller's floats), so a loaded index has the same codes.
void VectorIndex::encode_codes(uint32_t slot, float* row) {
  if (codes_.rows() <= slot) codes_.resize(size_t(slot) + 1);
  row_f32(slot, row);
  codes_.set(slot, row);
}

void VectorIndex::encode_all_codes() {
  codes_.clear();
  codes_.resize(keys_.size());
  std::vector<float> row(dim_);
  for (uint32_t s = 0; s < keys_.size(); ++s) encode_codes(s, row.data());
}

uint32_t* VectorIndex::links(uint32_t slot, int level) {
  if (level == 0) return &links0_[size_t(slot) * (1 + 2 * params_.m)];
  return &upper_[slot][size_t(level - 1) * (1 + params_.m)];
}
const uint32_t* VectorIndex::links(uint32_t slot, int level) const {
  return const_cast<VectorIndex*>(this)->links(slot, level);
}

Status VectorIndex::add(int64_t key, const float* vec, const VectorMeta& meta) {
  for (uint32_t i = 0; i < dim_; ++i)
    if (!std::isfinite(vec[i]))
      return Status::invalid_argument("vector for key " + std::to_string(key) + ": element " + std::to_string(i) +
                                      " is not a finite number");
  if (keys_.size() >= UINT32_MAX - 1) return Status::resource_exhausted("vector index is full");
  remove(key);
  const uint32_t slot = uint32_t(keys_.size());
  keys_.push_back(key);
  deleted_.push_back(0);
  meta_.push_back(meta);
  store_vector(slot, vec);
  slot_of_[key] = slot;
  ++live_;
  if (graph_) {
    insert_into_graph(slot);
    if (live_ >= 2 * assessed_at_) assess_graph();
  } else if (live_ >= params_.graph_min_vectors) {
    build_graph();
  }
  return Status::ok();
}

bool VectorIndex::remove(int64_t key) {
  auto it = slot_of_.find(key);
  if (it == slot_of_.end()) return false;
  deleted_[it->second] = 1;  // a tombstone: still a waypoint in the graph, never a result
  slot_of_.erase(it);
  --live_;
  return true;
}

size_t VectorIndex::memory_bytes() const {
  size_t b = keys_.size() * (sizeof(int64_t) + sizeof(uint8_t) + sizeof(VectorMeta)) + f32_.size() * sizeof(float) +
             i8_.size() + scales_.size() * sizeof(float) + slot_of_.size() * (sizeof(int64_t) + sizeof(uint32_t) + 16) +
             level_.size() + links0_.size() * sizeof(uint32_t) + visited_.size() * sizeof(uint32_t) +
             codes_.memory_bytes();
  for (const auto& u : upper_) b += sizeof u + u.size() * sizeof(uint32_t);
  return b;
}

bool VectorIndex::contains(int64_t key) const { return slot_of_.count(key) != 0; }

std::vector<int64_t> VectorIndex::keys() const {
  std::vector<int64_t> k;
  k.reserve(slot_of_.size());
  for (const auto& [key, slot] : slot_of_) k.push_back(key);
  return k;
}

void VectorIndex::build_graph() {
  // Compact: drop tombstones, then insert every live vector.
  std::vector<uint32_t> keep;
  for (uint32_t s = 0; s < keys_.size(); ++s)
    if (live(s)) keep.push_back(s);
  std::vector<int64_t> keys;
  std::vector<VectorMeta> meta;
  std::vector<float> f32;
  std::vector<int8_t> i8;
  std::vector<float> scales;
  for (uint32_t s : keep) {
    keys.push_back(keys_[s]);
    meta.push_back(meta_[s]);
    if (type_ == VectorType::kF32) {
      f32.insert(f32.end(), f32_.begin() + long(size_t(s) * dim_), f32_.begin() + long(size_t(s + 1) * dim_));
    } else {
      i8.insert(i8.end(), i8_.begin() + long(size_t(s) * dim_), i8_.begin() + long(size_t(s + 1) * dim_));
      scales.push_back(scales_[s]);
    }
  }
  keys_ = std::move(keys);
  meta_ = std::move(meta);
  f32_ = std::move(f32);
  i8_ = std::move(i8);
  scales_ = std::move(scales);
  deleted_.assign(keys_.size(), 0);
  slot_of_.clear();
  for (uint32_t s = 0; s < keys_.size(); ++s) slot_of_[keys_[s]] = s;
  live_ = keys_.size();
  encode_all_codes();

  graph_ = true;
  level_.clear();
  links0_.clear();
  upper_.clear();
  max_level_ = -1;
  entry_ = 0;
  for (uint32_t s = 0; s < keys_.size(); ++s) insert_into_graph(s);
  assess_graph();
}

void VectorIndex::assess_graph() {
  assessed_at_ = live_;
  std::vector<uint32_t> sample;
  const size_t every = std::max<size_t>(1, live_ / 32);
  for (uint32_t s = 0, seen = 0; s < keys_.size() && sample.size() < 32; ++s)
    if (live(s) && seen++ % every == 0) sample.push_back(s);
  size_t found = 0, total = 0;
  std::vector<float> q(dim_);
  for (uint32_t s : sample) {
    row_f32(s, q.data());
    std::set<int64_t> truth;
    for (const VectorHit& h : search_exact(q.data(), 11))
      if (h.key != keys_[s] && truth.size() < 10) truth.insert(h.key);
    for (const VectorHit& h : search_graph(q.data(), 11)) found += truth.count(h.key);
    total += truth.size();
  }
  graph_recall_ = total ? double(found) / double(total) : 1.0;
}

std::vector<VectorIndex::Scored> VectorIndex::search_level(const Query& q, uint32_t entry, uint32_t ef, int level,
                                                           bool only_live, const VectorFilter* filter) const {
  std::lock_guard<std::mutex> lock(visit_mu_);
  if (visited_.size() < keys_.size()) visited_.resize(keys_.size(), 0);
  if (++visit_tag_ == 0) {
    std::fill(visited_.begin(), visited_.end(), 0);
    visit_tag_ = 1;
  }
  auto accepted = [&](uint32_t s) {
    if (only_live && !live(s)) return false;
    return filter == nullptr || filter->accepts(meta_[s]);
  };
  std::priority_queue<Scored, std::vector<Scored>, BestFirst> cands;
  std::priority_queue<Scored, std::vector<Scored>, WorstFirst> best;
  const Scored e{similarity(q, entry), entry};
  visited_[entry] = visit_tag_;
  cands.push(e);
  if (accepted(entry)) best.push(e);
  while (!cands.empty()) {
    const Scored c = cands.top();
    if (best.size() >= ef && c.sim < best.top().sim) break;
    cands.pop();
    const uint32_t* l = links(c.slot, level);
    for (uint32_t i = 1; i <= l[0]; ++i) {
      const uint32_t n = l[i];
      if (visited_[n] == visit_tag_) continue;
      visited_[n] = visit_tag_;
      const float sim = similarity(q, n);
      if (best.size() < ef || sim > best.top().sim) {
        cands.push({sim, n});
        if (accepted(n)) {
          best.push({sim, n});
          if (best.size() > ef) best.pop();
        }
      }
    }
  }
  std::vector<Scored> out(best.size());
  for (size_t i = out.size(); i-- > 0;) {
    out[i] = best.top();
    best.pop();
  }
  return out;
}

// The paper's heuristic: take candidates best first, keeping one only when it is more similar to
// the new node than to every neighbour already kept (spreads links in all directions).
std::vector<VectorIndex::Scored> VectorIndex::select_neighbors(std::vector<Scored> cands, uint32_t m) const {
  if (cands.size() <= m) return cands;
  std::sort(cands.begin(), cands.end(), [](const Scored& a, const Scored& b) { return a.sim > b.sim; });
  std::vector<Scored> kept;
  for (const Scored& c : cands) {
    if (kept.size() >= m) break;
    bool good = true;
    for (const Scored& k : kept)
      if (similarity(c.slot, k.slot) > c.sim) {
        good = false;
        break;
      }
    if (good) kept.push_back(c);
  }
  return kept;
}

// From the entry point down to level `to` (exclusive of it), moving to the most similar
// neighbour on each level until none is closer: where the search at level `to` starts.
uint32_t VectorIndex::greedy_descent(const Query& q, int to) const {
  uint32_t cur = entry_;
  float cur_sim = similarity(q, cur);
  for (int l = max_level_; l > to; --l) {
    for (bool changed = true; changed;) {
      changed = false;
      const uint32_t* ln = links(cur, l);
      for (uint32_t i = 1; i <= ln[0]; ++i) {
        const float s = similarity(q, ln[i]);
        if (s > cur_sim) {
          cur_sim = s;
          cur = ln[i];
          changed = true;
        }
      }
    }
  }
  return cur;
}

void VectorIndex::insert_into_graph(uint32_t slot) {
  // Level ~ floor(-ln(U) / ln(m)), from a private xorshift generator (deterministic builds).
  rng_state_ ^= rng_state_ << 13;
  rng_state_ ^= rng_state_ >> 7;
  rng_state_ ^= rng_state_ << 17;
  const double u = (double(rng_state_ >> 11) + 1.0) / 9007199254740993.0;
  const int level = std::min(kMaxLevel, int(-std::log(u) / std::log(double(params_.m))));
  level_.resize(slot + 1);
  level_[slot] = uint8_t(level);
  links0_.resize(size_t(slot + 1) * (1 + 2 * params_.m), 0);
  upper_.resize(slot + 1);
  upper_[slot].assign(size_t(level) * (1 + params_.m), 0);
  if (max_level_ < 0) {
    entry_ = slot;
    max_level_ = level;
    return;
  }
  const Query q = [&] {
    Query p;
    if (type_ == VectorType::kF32)
      p.f32.assign(&f32_[size_t(slot) * dim_], &f32_[size_t(slot + 1) * dim_]);
    else {
      p.i8.assign(&i8_[size_t(slot) * dim_], &i8_[size_t(slot + 1) * dim_]);
      p.scale = scales_[slot];
    }
    return p;
  }();
  uint32_t cur = greedy_descent(q, level);
  for (int l = std::min(level, max_level_); l >= 0; --l) {
    std::vector<Scored> w = search_level(q, cur, params_.ef_construction, l, /*only_live=*/false, nullptr);
    const std::vector<Scored> nbrs = select_neighbors(w, params_.m);
    uint32_t* mine = links(slot, l);
    mine[0] = 0;
    for (const Scored& n : nbrs) mine[++mine[0]] = n.slot;
    for (const Scored& n : nbrs) {
      uint32_t* theirs = links(n.slot, l);
      const uint32_t cap = capacity(l);
      if (theirs[0] < cap) {
        theirs[++theirs[0]] = slot;
        continue;
      }
      std::vector<Scored> all;
      all.push_back({n.sim, slot});
      for (uint32_t i = 1; i <= theirs[0]; ++i) all.push_back({similarity(n.slot, theirs[i]), theirs[i]});
      const std::vector<Scored> keep = select_neighbors(std::move(all), cap);
      theirs[0] = 0;
      for (const Scored& k : keep) theirs[++theirs[0]] = k.slot;
    }
    if (!w.empty()) cur = w.front().slot;
  }
  if (level > max_level_) {
    max_level_ = level;
    entry_ = slot;
  }
}

template <typename EachSlot>
std::vector<VectorHit> VectorIndex::best_of(const Query& q, size_t k, EachSlot each) const {
  std::priority_queue<Scored, std::vector<Scored>, WorstFirst> best;
  each([&](uint32_t s) {
    const float sim = similarity(q, s);
    if (best.size() < k) {
      best.push({sim, s});
    } else if (sim > best.top().sim) {
      best.pop();
      best.push({sim, s});
    }
  });
  std::vector<VectorHit> out(best.size());
  for (size_t i = out.size(); i-- > 0;) {
    out[i] = {keys_[best.top().slot], best.top().sim};
    best.pop();
  }
  return out;
}

std::vector<VectorHit> VectorIndex::scan(const float* query, size_t k, const std::vector<uint32_t>& slots) const {
  if (k == 0 || slots.empty()) return {};
  return best_of(prepare(query), k, [&](auto&& visit) {
    for (uint32_t s : slots) visit(s);
  });
}

std::vector<VectorHit> VectorIndex::search_exact(const float* query, size_t k, const VectorFilter& filter) const {
  if (k == 0 || live_ == 0) return {};
  const bool filtered = !filter.empty();
  return best_of(prepare(query), k, [&](auto&& visit) {
    for (uint32_t s = 0; s < keys_.size(); ++s)
      if (live(s) && (!filtered || filter.accepts(meta_[s]))) visit(s);
  });
}

std::vector<VectorHit> VectorIndex::search_graph(const float* query, size_t k, const VectorFilter& filter,
                                                 uint32_t ef) const {
  std::vector<VectorHit> out;
  if (!graph_ || max_level_ < 0 || k == 0 || live_ == 0) return out;
  const Query q = prepare(query);
  uint32_t cur = greedy_descent(q, 0);
  if (ef == 0) ef = params_.ef_search;
  ef = std::max<uint32_t>(ef, uint32_t(k));
  const std::vector<Scored> w = search_level(q, cur, ef, 0, /*only_live=*/true, filter.empty() ? nullptr : &filter);
  for (size_t i = 0; i < w.size() && i < k; ++i) out.push_back({keys_[w[i].slot], w[i].sim});
  return out;
}

std::vector<VectorHit> VectorIndex::search_codes(const float* query, size_t k, const VectorFilter& filter,
                                                 size_t candidates) const {
  if (k == 0 || live_ == 0) return {};
  if (candidates == 0) candidates = std::max(kCodeCandidates, 32 * k);
  candidates = std::max(candidates, k);
  std::vector<int8_t> q8(codes_.padded_dim(), 0);
  quantize_i8(query, dim_, q8.data());
  thread_local std::vector<float> est;  // one per thread: 4 bytes a vector, kept between queries
  codes_.score(q8.data(), est);
  // The best `candidates` by estimate: most rows fail the first comparison once the heap is full.
  const bool filtered = !filter.empty();
  std::priority_queue<Scored, std::vector<Scored>, WorstFirst> best;
  for (uint32_t s = 0; s < keys_.size(); ++s) {
    if (best.size() == candidates && est[s] <= best.top().sim) continue;
    if (!live(s) || (filtered && !filter.accepts(meta_[s]))) continue;
    best.push({est[s], s});
    if (best.size() > candidates) best.pop();
  }
  std::vector<uint32_t> slots;
  slots.reserve(best.size());
  for (; !best.empty(); best.pop()) slots.push_back(best.top().slot);
  std::sort(slots.begin(), slots.end());  // memory order; best_of ranks them
  return scan(query, k, slots);
}

std::vector<VectorHit> VectorIndex::search(const float* query, size_t k, const VectorFilter& filter) const {
  if (!graph_ || live_ < params_.graph_min_vectors) return search_exact(query, k, filter);
  const bool graph = uses_graph();
  if (!filter.empty()) {
    // A filtered graph search walks about 1 / (share passing) times as many nodes, at random
    // places in memory; the exact scan reads only the passing vectors, in order. Below a third
    // passing the scan is taken (store_bench's hybrid runs: source / person filters pass 1/8 to 3/8).
    std::vector<uint32_t> passing;
    for (uint32_t s = 0; s < keys_.size(); ++s)
      if (live(s) && filter.accepts(meta_[s])) passing.push_back(s);
    if (passing.size() < live_ / 3 || passing.size() < 4 * k) return scan(query, k, passing);
    if (!graph) return search_codes(query, k, filter);
    std::vector<VectorHit> hits =
        search_graph(query, k, filter, std::max<uint32_t>(params_.ef_search, uint32_t(4 * k)));
    if (hits.size() < k) return search_exact(query, k, filter);
    return hits;
  }
  return graph ? search_graph(query, k, filter) : search_codes(query, k, filter);
}

// ---- persistence ----

namespace {

class Writer {
 public:
  template <class T>
  void put(const T& v) {
    bytes(&v, sizeof v);
  }
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    buf.insert(buf.end(), b, b + n);
  }
  std::vector<uint8_t> buf;
};

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  template <class T>
  bool get(T* v) {
    return bytes(v, sizeof *v);
  }
  bool bytes(void* dst, size_t n) {
    if (size_t(end_ - p_) < n) return false;
    std::memcpy(dst, p_, n);
    p_ += n;
    return true;
  }
  size_t left() const { return size_t(end_ - p_); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace

Status VectorIndex::save(const std::string& path) const {
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.put(kFileVersion);
  w.put(dim_);
  w.put(uint32_t(type_));
  w.put(params_.m);
  w.put(params_.ef_construction);
  w.put(graph_ ? max_level_ : int32_t(-1));
  w.put(entry_);
  w.put(uint64_t(keys_.size()));
  w.put(generation_);
  w.put(graph_ ? graph_recall_ : -1.0);
  w.put(uint64_t(graph_ ? assessed_at_ : 0));
  w.put(uint32_t(model_id_.size()));
  w.bytes(model_id_.data(), model_id_.size());
  for (uint32_t s = 0; s < keys_.size(); ++s) {
    w.put(keys_[s]);
    w.put(deleted_[s]);
    const uint8_t level = graph_ ? level_[s] : 0;
    w.put(level);
    w.put(meta_[s].source_bits);
    w.put(meta_[s].t_begin);
    w.put(meta_[s].t_end);
    w.put(meta_[s].sender_hash);
    if (type_ == VectorType::kF32) {
      w.bytes(&f32_[size_t(s) * dim_], sizeof(float) * dim_);
    } else {
      w.put(scales_[s]);
      w.bytes(&i8_[size_t(s) * dim_], dim_);
    }
    if (graph_)
      for (int l = 0; l <= level; ++l) {
        const uint32_t* ln = links(s, l);
        w.bytes(ln, sizeof(uint32_t) * (1 + ln[0]));
      }
    else
      w.put(uint32_t(0));
  }
  w.put(fnv1a64(w.buf.data(), w.buf.size()));

  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io_error(tmp + ": cannot create the vector index file");
  size_t done = 0;
  while (done < w.buf.size()) {
    const ssize_t n = ::write(fd, w.buf.data() + done, w.buf.size() - done);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::io_error(tmp + ": write failed");
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status::io_error(tmp + ": fsync failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::io_error(path + ": cannot replace the vector index file");
  return Status::ok();
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::load(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::not_found(path + ": no vector index file");
  std::vector<uint8_t> buf;
  uint8_t chunk[1 << 16];
  for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;) buf.insert(buf.end(), chunk, chunk + n);
  std::fclose(f);
  return parse(buf.data(), buf.size(), path);
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::parse(const uint8_t* data, size_t size, const std::string& path) {
  auto bad = [&](const std::string& what) { return Status::corrupt(path + ": " + what); };
  if (size < sizeof kMagic + 8) return bad("truncated (" + std::to_string(size) + " bytes)");
  uint64_t stored_sum;
  std::memcpy(&stored_sum, data + size - 8, 8);
  if (fnv1a64(data, size - 8) != stored_sum) return bad("checksum mismatch (damaged or partly written)");
  Reader r(data, size - 8);
  char magic[8];
  uint32_t version = 0, dim = 0, type = 0, m = 0, ef_c = 0, entry = 0, model_len = 0;
  int32_t max_level = -1;
  uint64_t n_slots = 0, generation = 0;
  if (!r.bytes(magic, 8) || std::memcmp(magic, kMagic, 8) != 0) return bad("not a pocketmind vector index");
  if (!r.get(&version) || version < 1 || version > kFileVersion)
    return bad("unsupported version " + std::to_string(version));
  if (!r.get(&dim) || !r.get(&type) || !r.get(&m) || !r.get(&ef_c) || !r.get(&max_level) || !r.get(&entry) ||
      !r.get(&n_slots) || !r.get(&generation))
    return bad("truncated header");
  // Version 2 keeps the graph's measured recall, so a load does not measure it again.
  double graph_recall = -1.0;
  uint64_t assessed_at = 0;
  if (version >= 2 && (!r.get(&graph_recall) || !r.get(&assessed_at))) return bad("truncated header");
  if (!r.get(&model_len)) return bad("truncated header");
  if (dim == 0 || dim > 65536) return bad("dimension " + std::to_string(dim) + " out of range");
  if (type > 1) return bad("unknown vector type " + std::to_string(type));
  if (m < 2 || m > 128) return bad("M " + std::to_string(m) + " out of range");
  if (max_level > kMaxLevel || max_level < -1) return bad("max level out of range");
  if (version >= 2 && max_level >= 0 &&
      (!(graph_recall >= 0.0 && graph_recall <= 1.0) || assessed_at == 0 || assessed_at > n_slots))
    return bad("graph recall " + std::to_string(graph_recall) + " measured at " + std::to_string(assessed_at) +
               " vectors is out of range");
  if (model_len > 4096 || model_len > r.left()) return bad("model id length out of range");
  const size_t row_bytes = type == 0 ? 4 * size_t(dim) : 4 + size_t(dim);
  if (n_slots > r.left() / (row_bytes + 34)) return bad(std::to_string(n_slots) + " vectors cannot fit in the file");
  HnswParams params;
  params.m = m;
  params.ef_construction = ef_c;
  auto idx = std::make_unique<VectorIndex>(dim, VectorType(type), params);
  idx->generation_ = generation;
  idx->model_id_.resize(model_len);
  r.bytes(idx->model_id_.data(), model_len);
  const bool graph = max_level >= 0;
  if (graph && entry >= n_slots) return bad("entry point out of range");
  idx->graph_ = graph;
  idx->max_level_ = graph ? max_level : -1;
  idx->entry_ = entry;
  const size_t n = size_t(n_slots);
  idx->keys_.resize(n);
  idx->deleted_.resize(n);
  idx->meta_.resize(n);
  if (type == 0)
    idx->f32_.resize(n * dim);
  else {
    idx->i8_.resize(n * dim);
    idx->scales_.resize(n);
  }
  if (graph) {
    idx->level_.resize(n);
    idx->links0_.assign(n * (1 + 2 * m), 0);
    idx->upper_.resize(n);
  }
  for (size_t s = 0; s < n; ++s) {
    uint8_t level;
    VectorMeta& mt = idx->meta_[s];
    if (!r.get(&idx->keys_[s]) || !r.get(&idx->deleted_[s]) || !r.get(&level) || !r.get(&mt.source_bits) ||
        !r.get(&mt.t_begin) || !r.get(&mt.t_end) || !r.get(&mt.sender_hash))
      return bad("truncated at vector " + std::to_string(s));
    if (idx->deleted_[s] > 1) return bad("vector " + std::to_string(s) + ": bad deleted flag");
    bool ok = type == 0 ? r.bytes(&idx->f32_[s * dim], 4 * size_t(dim))
                        : r.get(&idx->scales_[s]) && r.bytes(&idx->i8_[s * dim], dim);
    if (!ok) return bad("truncated at vector " + std::to_string(s));
    if (type == 0) {
      for (uint32_t i = 0; i < dim; ++i)
        if (!std::isfinite(idx->f32_[s * dim + i]))
          return bad("vector " + std::to_string(s) + " holds a non-finite value");
    } else if (!std::isfinite(idx->scales_[s]) || idx->scales_[s] < 0) {
      return bad("vector " + std::to_string(s) + " has a bad scale");
    }
    if (!graph) {
      uint32_t zero;
      if (!r.get(&zero) || zero != 0 || level != 0)
        return bad("vector " + std::to_string(s) + ": links without a graph");
    } else {
      if (int(level) > max_level) return bad("vector " + std::to_string(s) + ": level above the maximum");
      idx->level_[s] = level;
      idx->upper_[s].assign(size_t(level) * (1 + m), 0);
      for (int l = 0; l <= level; ++l) {
        uint32_t* ln = idx->links(uint32_t(s), l);
        if (!r.get(&ln[0]) || ln[0] > idx->capacity(l)) return bad("vector " + std::to_string(s) + ": bad link count");
        if (!r.bytes(ln + 1, sizeof(uint32_t) * ln[0])) return bad("truncated links");
        for (uint32_t i = 1; i <= ln[0]; ++i)
          if (ln[i] >= n_slots || idx->level_.size() <= ln[i])
            return bad("vector " + std::to_string(s) + ": link out of range");
      }
    }
    if (!idx->deleted_[s]) {
      if (!idx->slot_of_.emplace(idx->keys_[s], uint32_t(s)).second)
        return bad("key " + std::to_string(idx->keys_[s]) + " appears twice");
      ++idx->live_;
    }
  }
  if (r.left() != 0) return bad(std::to_string(r.left()) + " unexpected bytes after the last vector");
  idx->encode_all_codes();
  if (graph) {
    // Links may point at nodes whose level was read later: check levels now that all are known.
    for (size_t s = 0; s < n; ++s)
      for (int l = 1; l <= idx->level_[s]; ++l) {
        const uint32_t* ln = idx->links(uint32_t(s), l);
        for (uint32_t i = 1; i <= ln[0]; ++i)
          if (idx->level_[ln[i]] < l) return bad("vector " + std::to_string(s) + ": link to a node below its level");
      }
    if (idx->level_[entry] != uint8_t(max_level)) return bad("entry point is not on the top level");
    if (version >= 2) {
      idx->graph_recall_ = graph_recall;
      idx->assessed_at_ = size_t(assessed_at);
    } else {
      idx->assess_graph();
    }
  }
  return idx;
}

}  // namespace pm::store
