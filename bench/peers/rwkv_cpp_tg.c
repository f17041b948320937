/* Generation speed of rwkv.cpp (a peer, built outside this tree from its public source), one
 * token at a time as `pocketmind bench -p 0 -n N` counts it: the same deterministic token ids,
 * 8 warm-up tokens, then N timed. `bench/compare.sh rwkv` compiles and runs this against a given
 * rwkv.cpp build:
 *   rwkv_cpp_tg MODEL.bin THREADS N   ->   {"tg_tokens_per_s": ..., "tokens": N, "threads": T}
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rwkv.h"

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MODEL.bin THREADS N\n", argv[0]);
    return 2;
  }
  const int threads = atoi(argv[2]), n = atoi(argv[3]);
  if (threads < 1 || n < 1) {
    fprintf(stderr, "THREADS and N must be positive\n");
    return 2;
  }
  struct rwkv_context* ctx = rwkv_init_from_file(argv[1], (uint32_t)threads, 0);
  if (ctx == NULL) {
    fprintf(stderr, "%s: rwkv.cpp could not load it\n", argv[1]);
    return 1;
  }
  const uint32_t n_vocab = (uint32_t)rwkv_get_n_vocab(ctx);
  float* state = malloc(rwkv_get_state_len(ctx) * sizeof(float));
  float* logits = malloc(rwkv_get_logits_len(ctx) * sizeof(float));
  if (state == NULL || logits == NULL) return 1;
  rwkv_init_state(ctx, state);
  /* pocketmind bench's token ids: (i * 7919 + 13) % n_vocab */
  for (int i = 0; i < 8; ++i) rwkv_eval(ctx, (uint32_t)(i * 7919 + 13) % n_vocab, state, state, logits);
  const double t0 = seconds();
  for (int i = 0; i < n; ++i)
    if (!rwkv_eval(ctx, (uint32_t)((8 + i) * 7919 + 13) % n_vocab, state, state, logits)) {
      fprintf(stderr, "rwkv_eval failed at token %d\n", i);
      return 1;
    }
  const double dt = seconds() - t0;
  printf("{\"tg_tokens_per_s\": %.3f, \"tokens\": %d, \"threads\": %d}\n", n / dt, n, threads);
  rwkv_free(ctx);
  free(state);
  free(logits);
  return 0;
}
