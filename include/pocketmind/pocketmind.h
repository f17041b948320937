/* pocketmind C API: on-device language models, embeddings and a personal-data store for apps that
 * bundle pocketmind. Compiles as C99 and as C++; everything here has C linkage.
 *
 * ---------------------------------------------------------------------------------------------------
 * Errors
 *   Every function that can fail returns a pm_status (PM_OK = 0) and takes a last argument
 *   `pm_error** error`. When it is non-NULL, *error is NULL on entry and the call fails, *error
 *   receives a new error object holding the code and a message that names what was wrong
 *   ("model.gguf: no such file"); free it with pm_error_free(). When *error is already non-NULL
 *   it is left as it is (the first error wins, nothing leaks). Pass NULL to get only the code.
 *   There is no global "last error": nothing here keeps mutable state outside the handles.
 *   No C++ exception ever leaves a function of this header (out of memory is PM_ERR_NO_MEMORY).
 *
 * Ownership
 *   Handles (pm_model, pm_session, ...) are created by *_load / *_create / *_open and released by
 *   the matching *_free / *_close, which accept NULL. A session borrows its model (free every
 *   session before its model), a store the embedder given to pm_store_set_embedder. Strings and byte arrays the library returns through `char**` /
 *   `uint8_t**` belong to the caller: free them with pm_string_free() / pm_bytes_free(). Pointers
 *   returned through `const` out-parameters (model info strings, logits) belong to the handle.
 *
 * Threads
 *   A pm_model may be used from several threads at once (loading sessions, tokenizing, reading
 *   info). Each session, store and embedder must be used by one thread at a time (different
 *   handles on different threads are fine). Sessions created with n_threads = 0 share their
 *   model's thread pool, which runs one evaluation at a time: evaluate sessions of one model
 *   concurrently only when each was created with its own threads (n_threads > 0). Callbacks run
 *   on the thread that made the call.
 *
 * ABI and versions
 *   PM_API_VERSION is the version of this header; pm_api_version() that of the library linked.
 *   It grows when functions, enum values or struct fields are added; what exists is never
 *   changed, removed or renumbered (a program built against version N runs on any later one,
 *   and can check pm_api_version() >= N before using what N added). Structs that carry options or results start with `size_t struct_size`: set it to
 *   sizeof(the struct) (the *_init functions do, and fill in the defaults), and the library reads
 *   or writes only that many bytes, so a struct can grow at its end without breaking programs
 *   built against an older header. Other types are opaque and made through functions.
 * ------------------------------------------------------------------------------------------------- */
#ifndef POCKETMIND_POCKETMIND_H_
#define POCKETMIND_POCKETMIND_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32) && defined(PM_BUILDING_SHARED)
#define PM_API __declspec(dllexport)
#elif defined(__GNUC__)
#define PM_API __attribute__((visibility("default")))
#else
#define PM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- versions ------------------------------------------------------------------------------------- */

#define PM_API_VERSION 4 /* 2: pm_tools_register / pm_tools_list / pm_tools_remove; 3: encrypted stores;
                            4: pm_tools_register_in / pm_tools_list_in / pm_tools_remove_in (a store handle) */

/* The library's version string ("0.1.0"); static storage. */
PM_API const char* pm_version(void);
/* The PM_API_VERSION the library was built with. */
PM_API int pm_api_version(void);

/* ---- status codes and errors ---------------------------------------------------------------------- */

/* Codes only grow; PM_ERR_* values 1..9 match pocketmind's internal StatusCode order. Every enum
 * here ends with a *_MAX_ENUM of 0x7fffffff (not a value): enums are then the size of an int on
 * every compiler, and a value from a newer library is still a valid value to C++ code. */
typedef enum pm_status {
  PM_OK = 0,
  PM_ERR_INVALID_ARGUMENT = 1, /* a caller-supplied value is wrong (NULL handle, bad grammar, ...) */
  PM_ERR_NOT_FOUND = 2,        /* file, record or token missing */
  PM_ERR_IO = 3,               /* the OS refused a read / write / mmap */
  PM_ERR_CORRUPT = 4,          /* a file's or buffer's bytes do not describe a valid object */
  PM_ERR_UNSUPPORTED = 5,      /* valid but not handled (unknown architecture, tensor type) */
  PM_ERR_OUT_OF_RANGE = 6,     /* past the context, a buffer too small, an index past the end */
  PM_ERR_RESOURCE_EXHAUSTED = 7, /* over a memory budget or a size limit */
  PM_ERR_CANCELLED = 8,        /* a callback asked to stop */
  PM_ERR_INTERNAL = 9,         /* a bug in pocketmind: please report it with the message */
  PM_ERR_NO_MEMORY = 10,       /* an allocation failed */
  PM_STATUS_MAX_ENUM = 0x7fffffff /* not a status: keeps every enum 32-bit with room for any int */
} pm_status;

/* "ok", "invalid_argument", ... ; static storage ("unknown" for values this library lacks). */
PM_API const char* pm_status_name(pm_status status);

typedef struct pm_error pm_error;
/* The code and message of an error (PM_OK / "" for NULL). The message lives as long as the error. */
PM_API pm_status pm_error_code(const pm_error* error);
PM_API const char* pm_error_message(const pm_error* error);
PM_API void pm_error_free(pm_error* error);

/* Memory the library hands to the caller. */
PM_API void pm_string_free(char* text);
PM_API void pm_bytes_free(void* bytes);

/* ---- models --------------------------------------------------------------------------------------- */

typedef struct pm_model pm_model;

typedef enum pm_kv_type { PM_KV_F16 = 0, PM_KV_Q8_0 = 1, PM_KV_F32 = 2, PM_KV_MAX_ENUM = 0x7fffffff } pm_kv_type;

typedef struct pm_model_options {
  size_t struct_size;
  int32_t n_threads;            /* threads for evaluation; 0 = one per hardware thread */
  pm_kv_type kv_type;           /* element type of a transformer's KV cache (default f16) */
  uint64_t memory_budget_bytes; /* 0 = none; else sessions' default context is sized to fit */
} pm_model_options;
PM_API void pm_model_options_init(pm_model_options* options);

/* Loads a GGUF model (llama, qwen2, qwen3, rwkv, bert, ...) or an rwkv.cpp .bin file with its
 * tokenizer. options may be NULL (defaults). */
PM_API pm_status pm_model_load(const char* path, const pm_model_options* options, pm_model** model,
                               pm_error** error);
PM_API void pm_model_free(pm_model* model);

typedef struct pm_model_info {
  size_t struct_size;
  const char* arch;      /* general.architecture ("qwen2"); owned by the model */
  const char* name;      /* general.name, "" when absent; owned by the model */
  int64_t n_vocab;
  int64_t n_ctx_train;   /* training context length */
  int64_t n_embd;        /* embedding / hidden dimension */
  int64_t n_layer;
  int64_t n_params;
  uint64_t weights_bytes;
  int32_t is_recurrent;  /* 1: state does not grow with the context (RWKV) */
  int32_t is_embedding;  /* 1: an encoder (bert): use pm_embedder, sessions are refused */
  int64_t default_n_ctx; /* the context a session gets with n_ctx = 0 */
} pm_model_info;
/* info->struct_size must be set (sizeof(pm_model_info)). */
PM_API pm_status pm_model_get_info(const pm_model* model, pm_model_info* info, pm_error** error);

/* ---- tokens --------------------------------------------------------------------------------------- */

enum {
  PM_TOKENIZE_ADD_SPECIAL = 1,   /* add BOS/EOS as the model's metadata asks */
  PM_TOKENIZE_PARSE_SPECIAL = 2  /* "<|im_start|>" in the text becomes that control token */
};
/* Writes at most `capacity` token ids to `tokens` (may be NULL when capacity is 0) and the count
 * needed to *n_tokens. Fails with PM_ERR_OUT_OF_RANGE (and *n_tokens set) when capacity is too
 * small: call again with a larger buffer. */
PM_API pm_status pm_tokenize(const pm_model* model, const char* text, size_t text_len, int flags, int32_t* tokens,
                             size_t capacity, size_t* n_tokens, pm_error** error);

enum { PM_DETOKENIZE_RENDER_SPECIAL = 1 /* control tokens render as their text */ };
/* *text: a new NUL-terminated string (free with pm_string_free); *text_len (may be NULL) its length.
 * Bytes of an incomplete UTF-8 character at the end are kept as they are. */
PM_API pm_status pm_detokenize(const pm_model* model, const int32_t* tokens, size_t n_tokens, int flags, char** text,
                               size_t* text_len, pm_error** error);

/* ---- sessions --------------------------------------------------------------------------------------- */

typedef struct pm_session pm_session;

typedef struct pm_session_options {
  size_t struct_size;
  int64_t n_ctx;     /* context in tokens; 0 = the model's default (pm_model_info.default_n_ctx) */
  int32_t n_threads; /* 0 = share the model's thread pool; > 0 = this session's own threads */
} pm_session_options;
PM_API void pm_session_options_init(pm_session_options* options);

/* The session borrows the model: free it before the model. options may be NULL. */
PM_API pm_status pm_session_create(pm_model* model, const pm_session_options* options, pm_session** session,
                                   pm_error** error);
PM_API void pm_session_free(pm_session* session);
/* Forgets every token fed so far (an empty context again). */
PM_API pm_status pm_session_reset(pm_session* session, pm_error** error);
/* Tokens evaluated so far and the context size. Either out-parameter may be NULL. */
PM_API pm_status pm_session_get_position(const pm_session* session, int64_t* n_past, int64_t* n_ctx,
                                         pm_error** error);

/* Feeds tokens in one batch; PM_ERR_OUT_OF_RANGE when they do not fit in the context. */
PM_API pm_status pm_session_eval(pm_session* session, const int32_t* tokens, size_t n_tokens, pm_error** error);
/* The logits of the last evaluated token (n_vocab floats), valid until the session changes.
 * PM_ERR_NOT_FOUND before anything was evaluated. */
PM_API pm_status pm_session_get_logits(const pm_session* session, const float** logits, size_t* n_vocab,
                                       pm_error** error);

/* ---- generation ------------------------------------------------------------------------------------- */

/* Called with each piece of generated text (whole UTF-8 characters; text that might begin a stop
 * string is held back until it is known not to). Return 0 to continue, non-zero to stop.
 * A callback written in C++ must not let an exception escape; if one does, the call stops and
 * fails with PM_ERR_INTERNAL (pocketmind.hpp's wrapper carries exceptions across instead). */
typedef int (*pm_text_callback)(const char* piece, size_t piece_len, void* user_data);

typedef struct pm_generate_params {
  size_t struct_size;
  int32_t max_tokens;        /* 256 */
  float temperature;         /* 0.8; 0: greedy (argmax) */
  int32_t top_k;             /* 40; <= 0: off */
  float top_p;               /* 0.95; >= 1: off */
  float min_p;               /* 0.05; <= 0: off */
  float repeat_penalty;      /* 1 = off */
  int32_t repeat_last_n;     /* 64 */
  float presence_penalty;    /* 0 */
  float frequency_penalty;   /* 0 */
  uint64_t seed;             /* same seed, same prompt, same model: same output */
  const char* const* stop;   /* n_stop stop strings; generation ends before the first one found */
  size_t n_stop;
  int32_t stop_at_eog;       /* 1: end at end-of-generation tokens (EOS, <|im_end|>, ...) */
  /* Constrained decoding: at most one of the two (NULL = none). The output is then a sentence
   * of the grammar / a JSON text valid under the schema (when it ends before max_tokens). */
  const char* grammar_gbnf;  /* GBNF grammar text, start rule "root" */
  const char* json_schema;   /* JSON Schema text */
  pm_text_callback on_text;  /* may be NULL */
  void* user_data;           /* passed to on_text */
} pm_generate_params;
PM_API void pm_generate_params_init(pm_generate_params* params);

typedef enum pm_finish_reason {
  PM_FINISH_LENGTH = 0,    /* max_tokens reached */
  PM_FINISH_STOP = 1,      /* a stop string */
  PM_FINISH_EOG = 2,       /* an end-of-generation token, or the grammar is complete */
  PM_FINISH_CONTEXT = 3,   /* the context is full */
  PM_FINISH_CANCELLED = 4, /* on_text returned non-zero */
  PM_FINISH_MAX_ENUM = 0x7fffffff
} pm_finish_reason;

typedef struct pm_generate_result {
  size_t struct_size;
  char* text;              /* generated text (stop string excluded), NUL-terminated; owned */
  size_t text_len;
  int32_t* tokens;         /* generated token ids; owned */
  size_t n_tokens;
  pm_finish_reason finish;
  int64_t n_prompt_tokens;
  double prompt_ms;
  double generate_ms;
  double ttft_ms;          /* time to first token */
} pm_generate_result;
/* Sets struct_size and empties the result. */
PM_API void pm_generate_result_init(pm_generate_result* result);
/* Frees text and tokens (the struct itself is the caller's) and empties the result. */
PM_API void pm_generate_result_clear(pm_generate_result* result);

/* Appends the prompt to what the session holds and generates. The prompt text is tokenized with
 * special-token parsing, and BOS is added when the session is empty. result may be NULL (only the
 * callback sees the text); otherwise it must be initialized, and it is filled even when the call
 * returns PM_ERR_CANCELLED (the callback stopped it) — clear it in both cases.
 * The session then holds prompt + generated tokens, so a later call continues the conversation. */
PM_API pm_status pm_generate(pm_session* session, const char* prompt, const pm_generate_params* params,
                             pm_generate_result* result, pm_error** error);
/* The same with the prompt given as token ids (at least one). */
PM_API pm_status pm_generate_tokens(pm_session* session, const int32_t* prompt, size_t n_prompt,
                                    const pm_generate_params* params, pm_generate_result* result, pm_error** error);

/* ---- session state ---------------------------------------------------------------------------------- */

/* The state (KV cache or recurrent state, tokens fed, last logits), versioned and checksummed and
 * tied to the model's identity: loading it into a session of another model fails with
 * PM_ERR_INVALID_ARGUMENT, damaged bytes with PM_ERR_CORRUPT; the session is then unchanged. */
PM_API pm_status pm_session_state_save(const pm_session* session, uint8_t** bytes, size_t* size_bytes,
                                       pm_error** error);
PM_API pm_status pm_session_state_load(pm_session* session, const uint8_t* bytes, size_t size_bytes,
                                       pm_error** error);
PM_API pm_status pm_session_state_save_file(const pm_session* session, const char* path, pm_error** error);
PM_API pm_status pm_session_state_load_file(pm_session* session, const char* path, pm_error** error);

/* ---- embeddings ------------------------------------------------------------------------------------- */

typedef struct pm_embedder pm_embedder;

/* Opens a GGUF embedding model (bert, nomic-bert) with its tokenizer; n_threads 0 = all. */
PM_API pm_status pm_embedder_open(const char* path, int32_t n_threads, pm_embedder** embedder, pm_error** error);
PM_API void pm_embedder_free(pm_embedder* embedder);
/* Floats per vector. */
PM_API pm_status pm_embedder_get_dim(const pm_embedder* embedder, int64_t* dim, pm_error** error);

enum {
  PM_EMBED_NO_NORMALIZE = 1, /* default: unit L2 length */
  PM_EMBED_POOL_MEAN = 2,    /* default: the model's own pooling */
  PM_EMBED_POOL_CLS = 4
};
/* Embeds n_texts NUL-terminated texts into out[n_texts][dim]; capacity is out's length in floats
 * (PM_ERR_OUT_OF_RANGE when smaller than n_texts * dim). Texts longer than the model takes are cut. */
PM_API pm_status pm_embed(const pm_embedder* embedder, const char* const* texts, size_t n_texts, int flags, float* out,
                          size_t capacity, pm_error** error);

/* ---- personal-data store ---------------------------------------------------------------------------- */

typedef struct pm_store pm_store;

enum { PM_STORE_NO_CREATE = 1 /* fail with PM_ERR_NOT_FOUND instead of creating a missing store */ };
/* Opens (creating, by default) the store in directory `dir`. */
PM_API pm_status pm_store_open(const char* dir, int flags, pm_store** store, pm_error** error);
/* Opens (creating, by default) a store encrypted at rest (PM_API_VERSION 3): every page of its database
 * and write-ahead log is AES-256-GCM on disk, under a random key kept in DIR/store.key wrapped by a key
 * derived from `passphrase` (PBKDF2-HMAC-SHA256). `passphrase` is NUL-terminated, 1..1024 bytes, any
 * bytes (UTF-8 welcome). A store created here takes it as its passphrase. Errors, with nothing written:
 * a wrong passphrase, a plain (unencrypted) store, or an empty one: PM_ERR_INVALID_ARGUMENT. An encrypted
 * store opened with pm_store_open fails the same way. */
PM_API pm_status pm_store_open_encrypted(const char* dir, int flags, const char* passphrase, pm_store** store,
                                         pm_error** error);
/* Changes an encrypted store's passphrase (PM_API_VERSION 3): only DIR/store.key is rewritten, atomically;
 * the old passphrase must be right. Safe while the store is open (open handles keep working). */
PM_API pm_status pm_store_change_passphrase(const char* dir, const char* old_passphrase, const char* new_passphrase,
                                            pm_error** error);
PM_API void pm_store_close(pm_store* store);

/* Uses `embedder` (borrowed: keep it open while the store uses it, or call again with NULL) to embed
 * records at ingest and queries at search, making search hybrid (words + vectors). When the store
 * was embedded with another model, every record is embedded again at the next ingest. */
PM_API pm_status pm_store_set_embedder(pm_store* store, const pm_embedder* embedder, pm_error** error);

typedef struct pm_ingest_counts {
  size_t struct_size;
  int64_t added;
  int64_t replaced;   /* an existing id with new content */
  int64_t unchanged;  /* an existing id with the same content */
  int64_t rejected;   /* invalid lines / parts (the rest still lands) */
  int64_t embedded;   /* records embedded (with an embedder set) */
  char* first_rejection; /* "line 3: field \"time\": missing ...", NULL when none; owned: pm_string_free */
} pm_ingest_counts;
PM_API void pm_ingest_counts_init(pm_ingest_counts* counts);

/* Ingests JSON Lines records (DESIGN.md's record format, one per line). `origin` names where they
 * came from (kept with each record; NULL = "api"). Invalid lines are counted, not fatal. */
PM_API pm_status pm_store_ingest_jsonl(pm_store* store, const char* text, size_t text_len, const char* origin,
                                       pm_ingest_counts* counts, pm_error** error);
/* Ingests a file by its format (.jsonl, .ics, .vcf, .txt/.md, a notes folder). now_iso8601 (NULL =
 * the clock) centres the window recurring calendar events are expanded over. */
PM_API pm_status pm_store_ingest_file(pm_store* store, const char* path, const char* now_iso8601,
                                      pm_ingest_counts* counts, pm_error** error);

/* Searches for `query` (Chinese or English; times, sources and people in it become filters),
 * k hits (1..1000), with relative times ("last week") resolved against now_iso8601 (NULL = the
 * clock). *json: a new string (pm_string_free):
 *   {"hits": [{"id", "source", "time", "score", "snippet"}...], "mode": "lexical"|"hybrid", "note": "..."} */
PM_API pm_status pm_store_search(pm_store* store, const char* query, int32_t k, const char* now_iso8601, char** json,
                                 pm_error** error);

/* Removes records (and their index entries); *n_removed (may be NULL) says how many. */
PM_API pm_status pm_store_forget_id(pm_store* store, const char* id, int64_t* n_removed, pm_error** error);
PM_API pm_status pm_store_forget_source(pm_store* store, const char* source, int64_t* n_removed, pm_error** error);
/* Records in the store. */
PM_API pm_status pm_store_count(pm_store* store, int64_t* n_records, pm_error** error);

/* ---- third-party tools (since PM_API_VERSION 2) --------------------------------------------------- */

/* An app registers a tool the assistant may call from automation rules: `name` is lowercase dotted
 * words ("taxi_app.order", not a built-in name such as "alarm.set"), `description` says what it does
 * (shown to the model; any language), `schema_json` is a JSON Schema of the tool's args object
 * ({"type": "object", "properties": {...}, ...}) that pocketmind's grammar compiler accepts. The
 * registry lives in the store directory `dir` (its automations.sqlite, created when missing), so
 * `pocketmind automation parse/add --db DIR`, the scheduler and the server see the tool. Calls of
 * the tool reach the device bridge like the built-in ones. PM_ERR_INVALID_ARGUMENT names what was
 * wrong (bad name, name taken, empty description, schema not an object / not compilable).
 * In an encrypted store (pm_store_open_encrypted) automations.sqlite is encrypted with the store's key,
 * which these three calls do not take: there they fail with PM_ERR_INVALID_ARGUMENT naming the
 * passphrase, and write nothing; use the pm_tools_*_in calls below with the open store instead. */
PM_API pm_status pm_tools_register(const char* dir, const char* name, const char* description,
                                   const char* schema_json, pm_error** error);

enum { PM_TOOLS_INCLUDE_BUILTIN = 1 /* pm_tools_list: the built-in tools too */ };
/* *json: a new string (pm_string_free):
 *   {"tools": [{"name", "description", "parameters", "builtin": bool, "owner"?}...]}
 * (owner: the server app that registered the tool; absent for tools registered here or by the CLI).
 * A directory without a registry lists no registered tools (not an error). */
PM_API pm_status pm_tools_list(const char* dir, int flags, char** json, pm_error** error);

/* Unregisters a tool. PM_ERR_NOT_FOUND when no such tool is registered; PM_ERR_INVALID_ARGUMENT for
 * a built-in name or while saved rules still use the tool (the message names them). */
PM_API pm_status pm_tools_remove(const char* dir, const char* name, pm_error** error);

/* The same three calls on the registry of an open store (PM_API_VERSION 4): the registry is that of
 * the store's directory, and for a store opened with pm_store_open_encrypted it is read and written
 * with the key the store was unlocked with (automations.sqlite stays encrypted; no passphrase is
 * needed again). Plain stores (pm_store_open) work as with the directory calls. Arguments, results
 * and errors are those of pm_tools_register / pm_tools_list / pm_tools_remove (store NULL:
 * PM_ERR_INVALID_ARGUMENT); *json of pm_tools_list_in is a new string (pm_string_free). Like every
 * store call, use the handle from one thread at a time; each call opens the registry and closes it
 * before returning (other processes and the directory calls see the change at once). */
PM_API pm_status pm_tools_register_in(pm_store* store, const char* name, const char* description,
                                      const char* schema_json, pm_error** error);
PM_API pm_status pm_tools_list_in(pm_store* store, int flags, char** json, pm_error** error);
PM_API pm_status pm_tools_remove_in(pm_store* store, const char* name, pm_error** error);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* POCKETMIND_POCKETMIND_H_ */
