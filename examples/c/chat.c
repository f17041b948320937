/* A C99 program that uses only <pocketmind/pocketmind.h>: loads a model, generates a reply to a
 * prompt and prints it as it streams in.
 *
 *   chat MODEL.gguf [PROMPT] [MAX_TOKENS]
 *
 * Exits 0 on success, 1 on an error (printed with its code and message), 2 on bad usage, and
 * 77 when MODEL does not exist, so that the test suite can skip it when the fixture is absent. */
#include <stdio.h>
#include <stdlib.h>

#include <pocketmind/pocketmind.h>

/* Streams each piece of text as it is generated; returning non-zero would stop generation. */
static int print_piece(const char* piece, size_t piece_len, void* user_data) {
  size_t* n_pieces = (size_t*)user_data;
  fwrite(piece, 1, piece_len, stdout);
  fflush(stdout);
  ++*n_pieces;
  return 0;
}

static int fail(const char* what, pm_error* error) {
  fprintf(stderr, "chat: %s: %s: %s\n", what, pm_status_name(pm_error_code(error)), pm_error_message(error));
  pm_error_free(error);
  return 1;
}

int main(int argc, char** argv) {
  const char* path;
  const char* prompt = "Hello! Who are you?";
  long max_tokens = 64;
  FILE* probe;
  pm_error* error = NULL;
  pm_model* model = NULL;
  pm_session* session = NULL;
  pm_model_options model_options;
  pm_model_info info;
  pm_generate_params params;
  pm_generate_result result;
  size_t n_pieces = 0;
  const char* stop[1];
  int rc = 0;

  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: %s MODEL.gguf [PROMPT] [MAX_TOKENS]\n", argv[0]);
    return 2;
  }
  path = argv[1];
  if (argc >= 3) prompt = argv[2];
  if (argc >= 4) max_tokens = strtol(argv[3], NULL, 10);
  probe = fopen(path, "rb");
  if (probe == NULL) {
    fprintf(stderr, "chat: %s: no such model file (skipped)\n", path);
    return 77;
  }
  fclose(probe);
  fprintf(stderr, "pocketmind %s (C API version %d)\n", pm_version(), pm_api_version());

  pm_model_options_init(&model_options);
  model_options.n_threads = 2;
  if (pm_model_load(path, &model_options, &model, &error) != PM_OK) return fail("loading the model", error);
  info.struct_size = sizeof info;
  if (pm_model_get_info(model, &info, &error) != PM_OK) {
    rc = fail("model info", error);
    goto done;
  }
  fprintf(stderr, "%s: %s, %lld tokens, embedding %lld, trained on %lld-token contexts%s\n", path, info.arch,
          (long long)info.n_vocab, (long long)info.n_embd, (long long)info.n_ctx_train,
          info.is_recurrent ? ", recurrent" : "");

  if (pm_session_create(model, NULL, &session, &error) != PM_OK) {
    rc = fail("creating a session", error);
    goto done;
  }
  pm_generate_params_init(&params);
  params.max_tokens = (int32_t)max_tokens;
  params.temperature = 0.7f;
  params.seed = 42;
  stop[0] = "\n\n";
  params.stop = stop;
  params.n_stop = 1;
  params.on_text = print_piece;
  params.user_data = &n_pieces;
  pm_generate_result_init(&result);
  if (pm_generate(session, prompt, &params, &result, &error) != PM_OK) {
    pm_generate_result_clear(&result);
    rc = fail("generating", error);
    goto done;
  }
  printf("\n");
  fprintf(stderr, "[%lu tokens in %lu pieces, %.1f ms, first token after %.1f ms]\n", (unsigned long)result.n_tokens,
          (unsigned long)n_pieces, result.generate_ms, result.ttft_ms);
  pm_generate_result_clear(&result);

done:
  pm_session_free(session);
  pm_model_free(model);
  return rc;
}
