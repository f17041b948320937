// Matrix multiplication speed per kernel table and weight type, in the shape of a real model's
// matrix (Qwen2.5-0.5B's ffn_down: 4864 -> 896). Times one thread's CPU time, so numbers stay comparable on
// a busy machine; prints a table, or JSON with --json.
//   kernel_bench [--json] [--tokens N] [--shape N_IN,N_OUT] [--type TYPE] [--isa ISA]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/matmul.h"

namespace pm {
namespace {

double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Seconds per call of y = W x for n_tok activation rows (median of 5 after a warm-up).
double time_matmul(const Kernels& k, GgmlType t, const std::vector<uint8_t>& w, int64_t n_in, int64_t n_out,
                   const std::vector<float>& x, int64_t n_tok, const uint8_t* packed) {
  std::vector<float> y(size_t(n_out * n_tok));
  std::vector<uint8_t> scratch;
  std::vector<double> times;
  for (int rep = 0; rep < 6; ++rep) {
    const double t0 = thread_seconds();
    matmul(k, t, w.data(), n_in, n_out, x.data(), n_tok, y.data(), scratch, nullptr, packed);
    times.push_back(thread_seconds() - t0);
  }
  times.erase(times.begin());
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace
}  // namespace pm

int main(int argc, char** argv) {
  using namespace pm;
  bool json = false;
  std::vector<int64_t> token_counts = {1, 128};
  int64_t n_in = 4864, n_out = 896;  // Qwen2.5-0.5B ffn_down (K-quant rows need n_in % 256 == 0)
  std::string only_type, only_isa;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (std::strcmp(argv[i], "--tokens") == 0 && i + 1 < argc) {
      token_counts = {std::atoll(argv[++i])};
    } else if (std::strcmp(argv[i], "--shape") == 0 && i + 1 < argc &&
               std::sscanf(argv[i + 1], "%lld,%lld", reinterpret_cast<long long*>(&n_in),
                           reinterpret_cast<long long*>(&n_out)) == 2 && n_in > 0 && n_in % 32 == 0 && n_out > 0) {
      ++i;
    } else if (std::strcmp(argv[i], "--type") == 0 && i + 1 < argc) {
      only_type = argv[++i];
    } else if (std::strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
      only_isa = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--json] [--tokens N] [--shape N_IN,N_OUT (N_IN a multiple of 32)] [--type TYPE] "
                   "[--isa ISA]\n",
                   argv[0]);
      return 2;
    }
  }
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> wf(size_t(n_in * n_out));
  for (float& v : wf) v = normal(rng) * 0.02f;
  const GgmlType types[] = {GgmlType::kF16,  GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ5_0, GgmlType::kQ4_K,
                            GgmlType::kQ6_K, GgmlType::kQ4_1, GgmlType::kQ5_1, GgmlType::kQ5_K};
  if (!json) std::printf("%-14s %-6s %6s %12s %10s\n", "isa", "type", "tokens", "ms/call", "GMAC/s");
  std::string out = "[";
  for (GgmlType t : types) {
    if (!only_type.empty() && only_type != type_name(t)) continue;
    if (n_in % type_info(t)->block_size != 0) continue;  // K-quants: 256-element rows
    std::vector<uint8_t> w(row_size_bytes(t, n_in) * size_t(n_out));
    generic_kernels().of(t).from_float(wf.data(), w.data(), n_in * n_out);
    for (int64_t n_tok : token_counts) {
      std::vector<float> x(size_t(n_in * n_tok));
      for (float& v : x) v = normal(rng);
      for (const Kernels* k : available_kernels()) {
       if (!only_isa.empty() && only_isa != k->isa) continue;
       // Each table as it is, then with the weights packed as a model load packs them.
       std::vector<uint8_t> packed(packed_size_bytes(*k, t, n_in, n_out));
       if (!packed.empty()) pack_weights(*k, t, w.data(), n_in, n_out, packed.data());
       for (const bool use_packed : {false, true}) {
        if (use_packed && packed.empty()) continue;
        const std::string isa = std::string(k->isa) + (use_packed ? "+packed" : "");
        const double s = time_matmul(*k, t, w, n_in, n_out, x, n_tok, use_packed ? packed.data() : nullptr);
        const double gmacs = double(n_in) * double(n_out) * double(n_tok) / s / 1e9;
        if (json) {
          char buf[256];
          std::snprintf(buf, sizeof(buf), "%s{\"isa\":\"%s\",\"type\":\"%s\",\"tokens\":%lld,\"ms\":%.4f,\"gmac_per_s\":%.3f}",
                        out.size() > 1 ? "," : "", isa.c_str(), type_name(t), (long long)n_tok, s * 1e3, gmacs);
          out += buf;
        } else {
          std::printf("%-14s %-6s %6lld %12.3f %10.2f\n", isa.c_str(), type_name(t), (long long)n_tok, s * 1e3, gmacs);
        }
       }
      }
    }
  }
  if (json) std::printf("%s]\n", out.c_str());
  return 0;
}
