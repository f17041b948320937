/* llama-bench's measurement, for a llama.cpp whose source tree came without its tools (e.g. the
 * copy vendored in another project): built against that llama.cpp's llama.h and library (outside
 * this tree), it takes llama-bench's options and prints llama-bench's JSON, so `bench/compare.sh
 * llama DIR` runs it as DIR/llama-bench. Build it, for instance:
 *   cc -O2 bench/peers/llama_cpp_bench.c -I LLAMA/include -I GGML/include LIBS -lstdc++ -lm -fopenmp \
 *      -o DIR/llama-bench
 *   llama-bench -m MODEL.gguf -t THREADS -p N_PROMPT -n N_GEN -r REPS -o json
 * As llama-bench counts (tools/llama-bench/llama-bench.cpp): a context of n_prompt + n_gen tokens,
 * batch 2048 / micro-batch 512, f16 KV cache, the library's default attention; one warm-up run;
 * then per repetition the memory is cleared and either a prompt of N_PROMPT random tokens is
 * decoded in one call (the pp test) or N_GEN random tokens one at a time from an empty context
 * (the tg test). avg_ts is the mean over repetitions of tokens / seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llama.h"

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int decode_prompt(struct llama_context* ctx, int n_vocab, int n) {
  llama_token* tokens = malloc(sizeof(llama_token) * (size_t)n);
  if (tokens == NULL) return 0;
  for (int i = 0; i < n; ++i) tokens[i] = rand() % n_vocab;
  const int ok = llama_decode(ctx, llama_batch_get_one(tokens, n)) == 0;
  llama_synchronize(ctx);
  free(tokens);
  return ok;
}

static int decode_tokens(struct llama_context* ctx, int n_vocab, int n) {
  llama_token token = rand() % n_vocab;
  for (int i = 0; i < n; ++i) {
    if (llama_decode(ctx, llama_batch_get_one(&token, 1)) != 0) return 0;
    llama_synchronize(ctx);
    token = rand() % n_vocab;
  }
  return 1;
}

/* One test (pp: n_prompt > 0, n_gen = 0; tg: the reverse); prints its JSON object. */
static int run_test(struct llama_context* ctx, int n_vocab, int n_prompt, int n_gen, int reps, int threads,
                    const char* model, int first) {
  if (n_prompt > 0 ? !decode_prompt(ctx, n_vocab, n_prompt < 512 ? n_prompt : 512) : !decode_tokens(ctx, n_vocab, 1))
    return 0; /* warm-up */
  double sum_ts = 0, sum_ts2 = 0;
  for (int r = 0; r < reps; ++r) {
    llama_memory_clear(llama_get_memory(ctx), 1);
    const double t0 = seconds();
    if (n_prompt > 0 ? !decode_prompt(ctx, n_vocab, n_prompt) : !decode_tokens(ctx, n_vocab, n_gen)) return 0;
    const double ts = (n_prompt + n_gen) / (seconds() - t0);
    sum_ts += ts;
    sum_ts2 += ts * ts;
  }
  const double avg = sum_ts / reps, var = reps > 1 ? (sum_ts2 - reps * avg * avg) / (reps - 1) : 0;
  printf("%s  {\"model_filename\": \"%s\", \"n_threads\": %d, \"n_prompt\": %d, \"n_gen\": %d, \"avg_ts\": %.6f, "
         "\"stddev_ts\": %.6f, \"repetitions\": %d}",
         first ? "" : ",\n", model, threads, n_prompt, n_gen, avg, var > 0 ? __builtin_sqrt(var) : 0.0, reps);
  return 1;
}

static void null_log(enum ggml_log_level level, const char* text, void* user) {
  (void)level;
  (void)text;
  (void)user;
}

int main(int argc, char** argv) {
  const char* model = NULL;
  int threads = 2, n_prompt = 128, n_gen = 64, reps = 5;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "-o") == 0 && v != NULL && strcmp(v, "json") == 0) {
      ++i;
    } else if (v != NULL && (strcmp(a, "-m") == 0 || strcmp(a, "-t") == 0 || strcmp(a, "-p") == 0 ||
                             strcmp(a, "-n") == 0 || strcmp(a, "-r") == 0)) {
      if (a[1] == 'm') model = v;
      else if (a[1] == 't') threads = atoi(v);
      else if (a[1] == 'p') n_prompt = atoi(v);
      else if (a[1] == 'n') n_gen = atoi(v);
      else reps = atoi(v);
      ++i;
    } else {
      fprintf(stderr, "usage: %s -m MODEL [-t THREADS] [-p N_PROMPT] [-n N_GEN] [-r REPS] [-o json]\n", argv[0]);
      return 2;
    }
  }
  if (model == NULL || threads < 1 || n_prompt < 0 || n_gen < 0 || reps < 1 || n_prompt + n_gen == 0) {
    fprintf(stderr, "%s: need -m MODEL, THREADS >= 1, REPS >= 1 and a prompt or generation length\n", argv[0]);
    return 2;
  }
  llama_log_set(null_log, NULL);
  llama_backend_init();
  struct llama_model* m = llama_model_load_from_file(model, llama_model_default_params());
  if (m == NULL) {
    fprintf(stderr, "%s: llama.cpp could not load it\n", model);
    return 1;
  }
  struct llama_context_params cp = llama_context_default_params();
  cp.n_ctx = (uint32_t)(n_prompt + n_gen);
  cp.n_batch = 2048;
  cp.n_ubatch = 512;
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  struct llama_context* ctx = llama_init_from_model(m, cp);
  if (ctx == NULL) {
    fprintf(stderr, "%s: cannot create a context\n", model);
    return 1;
  }
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(m));
  printf("[\n");
  int ok = 1;
  if (n_prompt > 0) ok = run_test(ctx, n_vocab, n_prompt, 0, reps, threads, model, 1);
  if (ok && n_gen > 0) ok = run_test(ctx, n_vocab, 0, n_gen, reps, threads, model, n_prompt == 0);
  printf("\n]\n");
  llama_free(ctx);
  llama_model_free(m);
  if (!ok) fprintf(stderr, "%s: llama_decode failed\n", model);
  return ok ? 0 : 1;
}
