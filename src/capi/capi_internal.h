// What the C API's handles hold, and the guard every exported function runs its body in: Status
// -> pm_status + pm_error, and no exception (std::bad_alloc included) ever reaches the C caller.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>

#include "core/status.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "generate/grammar/matcher.h"
#include "models/model.h"
#include "pocketmind/pocketmind.h"
#include "runtime/session.h"
#include "store/embedder.h"
#include "store/store.h"
#include "tokenizer/tokenizer.h"

struct pm_error {
  pm_status code;
  char* message;  // malloc'ed, NUL-terminated (a literal in the static out-of-memory error)
};

struct pm_model {
  std::shared_ptr<const pm::GgufFile> gguf;  // null for rwkv.cpp .bin models
  std::unique_ptr<pm::Model> model;
  std::unique_ptr<pm::Tokenizer> tokenizer;
  std::unique_ptr<pm::ThreadPool> pool;  // shared by sessions created with n_threads = 0
  int64_t default_n_ctx = 0;             // from the memory plan (fits memory_budget_bytes)
  bool is_embedding = false;
  // The vocabulary as a byte trie for constrained decoding, built on first use. The model is
  // shared across threads, hence the lock.
  std::mutex trie_mu;
  std::shared_ptr<const pm::TokenTrie> trie;
};

struct pm_session {
  pm_model* model = nullptr;                 // borrowed
  std::unique_ptr<pm::ThreadPool> own_pool;  // when created with n_threads > 0
  std::unique_ptr<pm::Session> session;
};

struct pm_embedder {
  std::unique_ptr<pm::store::TextEmbedder> embedder;
};

struct pm_store {
  std::unique_ptr<pm::store::Store> store;
  const pm_embedder* embedder = nullptr;  // borrowed (pm_store_set_embedder)
};

namespace pm::capi {

pm_status to_pm_status(StatusCode code);

// Stores an error in *error (when error is non-null and *error is still null). Never throws: when
// the message cannot be allocated the caller gets a static out-of-memory error instead.
pm_status set_error(pm_error** error, pm_status code, const char* message) noexcept;
inline pm_status set_error(pm_error** error, const Status& s) noexcept {
  if (s.is_ok()) return PM_OK;
  return set_error(error, to_pm_status(s.code()), s.message().empty() ? s.to_string().c_str() : s.message().c_str());
}

// Runs body (returning Status) and turns its result, or any exception, into a pm_status.
template <typename Body>
pm_status guarded(pm_error** error, Body&& body) noexcept {
  try {
    return set_error(error, body());
  } catch (const std::bad_alloc&) {
    return set_error(error, PM_ERR_NO_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return set_error(error, PM_ERR_INTERNAL, (std::string("unexpected exception: ") + e.what()).c_str());
  } catch (...) {
    return set_error(error, PM_ERR_INTERNAL, "unexpected exception");
  }
}

// A required pointer argument: invalid_argument naming it when null.
inline Status need(const void* p, const char* what) {
  return p ? Status::ok() : Status::invalid_argument(std::string(what) + " is NULL");
}

// Options structs the caller passes in: `out` holds the defaults and takes the first struct_size
// bytes of `in` (so an older, shorter struct keeps the defaults of fields added since). Null `in`:
// the defaults.
template <typename T>
Status read_struct(const T* in, T* out, const char* what) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (in == nullptr) return Status::ok();
  if (in->struct_size < sizeof(size_t))
    return Status::invalid_argument(std::string(what) + ".struct_size is " + std::to_string(in->struct_size) +
                                    ": initialize it with sizeof or its _init function");
  std::memcpy(static_cast<void*>(out), in, std::min(in->struct_size, sizeof(T)));
  out->struct_size = sizeof(T);
  return Status::ok();
}

// Structs the library fills in: the first struct_size bytes of `value` are written to `out`
// (struct_size itself kept). `min_size` is the size the struct had when it was introduced.
template <typename T>
Status check_out_struct(const T* out, size_t min_size, const char* what) {
  PM_RETURN_IF_ERROR(need(out, what));
  if (out->struct_size < min_size)
    return Status::invalid_argument(std::string(what) + "->struct_size is " + std::to_string(out->struct_size) +
                                    " (at least " + std::to_string(min_size) +
                                    "): initialize it with sizeof or its _init function");
  return Status::ok();
}
template <typename T>
void write_struct(T* out, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  const size_t keep = out->struct_size;
  std::memcpy(static_cast<void*>(out), &value, std::min(keep, sizeof(T)));
  out->struct_size = keep;
}

// A malloc'ed NUL-terminated copy (freed by pm_string_free); throws std::bad_alloc.
char* copy_string(const std::string& s);

}  // namespace pm::capi
