/* The public header compiled as strict C99 (-std=c99 -pedantic -Werror) and called from C: versions,
 * initializers, and errors (codes + messages) for bad arguments, without any model file.
 * Exits 0 when every check holds, 1 otherwise (printing the failed checks). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pocketmind/pocketmind.h>

static int failures = 0;

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                       \
    }                                                                   \
  } while (0)

static int contains(const char* haystack, const char* needle) { return strstr(haystack, needle) != NULL; }

int main(void) {
  pm_error* error = NULL;
  pm_model* model = NULL;
  pm_session* session = NULL;
  pm_store* store = NULL;
  pm_embedder* embedder = NULL;
  pm_model_options mo;
  pm_session_options so;
  pm_generate_params gp;
  pm_generate_result gr;
  pm_ingest_counts counts;
  pm_status st;
  size_t n = 0;
  char* text = NULL;

  CHECK(pm_api_version() == PM_API_VERSION);
  CHECK(strlen(pm_version()) >= 5);
  CHECK(strcmp(pm_status_name(PM_OK), "ok") == 0);
  CHECK(strcmp(pm_status_name(PM_ERR_CORRUPT), "corrupt") == 0);
  CHECK(strcmp(pm_status_name((pm_status)999), "unknown") == 0);

  pm_model_options_init(&mo);
  CHECK(mo.struct_size == sizeof mo && mo.n_threads == 0 && mo.kv_type == PM_KV_F16);
  pm_session_options_init(&so);
  CHECK(so.struct_size == sizeof so && so.n_ctx == 0);
  pm_generate_params_init(&gp);
  CHECK(gp.struct_size == sizeof gp && gp.max_tokens > 0 && gp.stop_at_eog == 1 && gp.on_text == NULL);
  pm_generate_result_init(&gr);
  CHECK(gr.text == NULL && gr.tokens == NULL);
  pm_ingest_counts_init(&counts);
  CHECK(counts.struct_size == sizeof counts && counts.first_rejection == NULL);

  /* A missing model file: an error naming the file. */
  st = pm_model_load("/nonexistent/dir/model.gguf", &mo, &model, &error);
  CHECK(st != PM_OK && model == NULL);
  CHECK(error != NULL && pm_error_code(error) == st);
  CHECK(error != NULL && contains(pm_error_message(error), "/nonexistent/dir/model.gguf"));
  pm_error_free(error);
  error = NULL;

  /* NULL handles: PM_ERR_INVALID_ARGUMENT with a message naming the argument; NULL error is fine. */
  CHECK(pm_session_create(NULL, &so, &session, &error) == PM_ERR_INVALID_ARGUMENT && session == NULL);
  CHECK(error != NULL && contains(pm_error_message(error), "model"));
  pm_error_free(error);
  error = NULL;
  CHECK(pm_generate(NULL, "hi", &gp, &gr, NULL) == PM_ERR_INVALID_ARGUMENT);
  CHECK(pm_tokenize(NULL, "hi", 2, 0, NULL, 0, &n, NULL) == PM_ERR_INVALID_ARGUMENT);
  CHECK(pm_detokenize(NULL, NULL, 0, 0, &text, NULL, NULL) == PM_ERR_INVALID_ARGUMENT && text == NULL);
  CHECK(pm_embedder_open(NULL, 0, &embedder, NULL) == PM_ERR_INVALID_ARGUMENT && embedder == NULL);
  CHECK(pm_store_search(NULL, "q", 5, NULL, &text, NULL) == PM_ERR_INVALID_ARGUMENT && text == NULL);
  CHECK(pm_store_open(NULL, 0, &store, NULL) == PM_ERR_INVALID_ARGUMENT && store == NULL);

  /* The tool registry (PM_API_VERSION 2) from C: NULL arguments are refused, nothing is written. */
  CHECK(PM_API_VERSION >= 2);
  CHECK(pm_tools_register(NULL, "a.b", "d", "{\"type\":\"object\"}", NULL) == PM_ERR_INVALID_ARGUMENT);
  CHECK(pm_tools_list(NULL, PM_TOOLS_INCLUDE_BUILTIN, &text, NULL) == PM_ERR_INVALID_ARGUMENT && text == NULL);
  CHECK(pm_tools_remove(NULL, "a.b", NULL) == PM_ERR_INVALID_ARGUMENT);

  /* Encrypted stores (PM_API_VERSION 3) from C: a NULL passphrase or directory is refused, nothing created. */
  CHECK(PM_API_VERSION >= 3);
  CHECK(pm_store_open_encrypted("pm-c-test-never-created", 0, NULL, &store, NULL) == PM_ERR_INVALID_ARGUMENT &&
        store == NULL);
  CHECK(pm_store_open_encrypted(NULL, 0, "pass", &store, NULL) == PM_ERR_INVALID_ARGUMENT && store == NULL);
  CHECK(pm_store_change_passphrase(NULL, "a", "b", NULL) == PM_ERR_INVALID_ARGUMENT);

  /* The registry through an encrypted store's handle (PM_API_VERSION 4): the handle's key is used;
   * the directory call, which has no key, refuses. */
  CHECK(PM_API_VERSION >= 4);
  CHECK(pm_tools_list_in(NULL, 0, &text, NULL) == PM_ERR_INVALID_ARGUMENT && text == NULL);
  {
    char dir[] = "/tmp/pm-c-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK(pm_store_open_encrypted(dir, 0, "c passphrase", &store, NULL) == PM_OK && store != NULL);
    CHECK(pm_tools_register_in(store, "c_app.ping", "ping from C", "{\"type\":\"object\"}", NULL) == PM_OK);
    CHECK(pm_tools_list_in(store, 0, &text, NULL) == PM_OK && text != NULL && contains(text, "c_app.ping"));
    pm_string_free(text);
    text = NULL;
    CHECK(pm_tools_register(dir, "c_app.pong", "d", "{\"type\":\"object\"}", NULL) == PM_ERR_INVALID_ARGUMENT);
    CHECK(pm_tools_remove_in(store, "c_app.ping", NULL) == PM_OK);
    pm_store_close(store);
    store = NULL;
    { /* the files an encrypted store with a registry leaves, then the directory */
      static const char* const names[] = {"automations.sqlite", "automations.sqlite-wal", "automations.sqlite-shm",
                                          "pocketmind.db", "pocketmind.db-wal", "pocketmind.db-shm", "store.key"};
      char path[256];
      size_t i;
      for (i = 0; i < sizeof names / sizeof names[0]; ++i) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
      }
      rmdir(dir);
    }
  }

  /* The first error wins: a second failure does not overwrite (or leak) it. */
  CHECK(pm_session_reset(NULL, &error) == PM_ERR_INVALID_ARGUMENT);
  CHECK(pm_store_count(NULL, NULL, &error) == PM_ERR_INVALID_ARGUMENT);
  CHECK(error != NULL && contains(pm_error_message(error), "session"));
  pm_error_free(error);

  /* Freeing NULL is a no-op everywhere. */
  pm_error_free(NULL);
  pm_model_free(NULL);
  pm_session_free(NULL);
  pm_embedder_free(NULL);
  pm_store_close(NULL);
  pm_string_free(NULL);
  pm_bytes_free(NULL);
  pm_generate_result_clear(&gr);
  CHECK(pm_error_code(NULL) == PM_OK && strcmp(pm_error_message(NULL), "") == 0);

  if (failures == 0) printf("capi_c_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
