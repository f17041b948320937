// C++17 wrapper over the pocketmind C API (pocketmind.h): handles own their C objects
// (move-only, freed in the destructor) and failures throw pocketmind::Error, which carries the
// pm_status code and the library's message. Header-only; it calls nothing but the C API, so it
// works the same against the static library and libpocketmind.so.
//
//   pocketmind::Model model = pocketmind::Model::load("qwen2.5-0.5b-q4_k_m.gguf");
//   pocketmind::Session session = pocketmind::Session::create(model);
//   pocketmind::GenerateOptions o;
//   o.on_text = [](std::string_view piece) { std::cout << piece << std::flush; return true; };
//   pocketmind::Generation g = session.generate("Hello", o);
//
// Exceptions stay on the C++ side: one thrown from on_text stops generation and is rethrown
// from generate() after the C call has returned.
#pragma once

#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pocketmind/pocketmind.h"

namespace pocketmind {

class Error : public std::runtime_error {
 public:
  Error(pm_status code, const std::string& message) : std::runtime_error(message), code_(code) {}
  pm_status code() const { return code_; }

 private:
  pm_status code_;
};

namespace detail {

// Throws the error a C call reported (taking ownership of it). Takes the error's address, not its
// value: in check(pm_call(..., &e), &e) the arguments may be evaluated in either order.
inline void check(pm_status status, pm_error** error) {
  pm_error* e = *error;
  *error = nullptr;
  if (status == PM_OK) {
    pm_error_free(e);
    return;
  }
  const std::string message = e ? pm_error_message(e) : pm_status_name(status);
  pm_error_free(e);
  throw Error(status, message);
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

struct StringDeleter {
  void operator()(char* p) const { pm_string_free(p); }
};
inline std::string take_string(char* p, size_t n) {
  std::unique_ptr<char, StringDeleter> owned(p);
  return p ? std::string(p, n) : std::string();
}

}  // namespace detail

struct ModelOptions {
  int32_t n_threads = 0;  // 0: all hardware threads
  pm_kv_type kv_type = PM_KV_F16;
  uint64_t memory_budget_bytes = 0;
};

class Model {
 public:
  static Model load(const std::string& path, const ModelOptions& options = {}) {
    pm_model_options o;
    pm_model_options_init(&o);
    o.n_threads = options.n_threads;
    o.kv_type = options.kv_type;
    o.memory_budget_bytes = options.memory_budget_bytes;
    pm_model* m = nullptr;
    pm_error* e = nullptr;
    detail::check(pm_model_load(path.c_str(), &o, &m, &e), &e);
    return Model(m);
  }

  pm_model_info info() const {
    pm_model_info info{};
    info.struct_size = sizeof(info);
    pm_error* e = nullptr;
    detail::check(pm_model_get_info(h_.get(), &info, &e), &e);
    return info;
  }

  std::vector<int32_t> tokenize(std::string_view text,
                                int flags = PM_TOKENIZE_ADD_SPECIAL | PM_TOKENIZE_PARSE_SPECIAL) const {
    std::vector<int32_t> tokens(text.size() + 8);
    size_t n = 0;
    pm_error* e = nullptr;
    pm_status s = pm_tokenize(h_.get(), text.data(), text.size(), flags, tokens.data(), tokens.size(), &n, &e);
    if (s == PM_ERR_OUT_OF_RANGE && n > tokens.size()) {  // more tokens than bytes + 8: n says how many
      pm_error_free(e);
      e = nullptr;
      tokens.resize(n);
      s = pm_tokenize(h_.get(), text.data(), text.size(), flags, tokens.data(), tokens.size(), &n, &e);
    }
    detail::check(s, &e);
    tokens.resize(n);
    return tokens;
  }

  std::string detokenize(const std::vector<int32_t>& tokens, int flags = 0) const {
    char* text = nullptr;
    size_t n = 0;
    pm_error* e = nullptr;
    detail::check(pm_detokenize(h_.get(), tokens.data(), tokens.size(), flags, &text, &n, &e), &e);
    return detail::take_string(text, n);
  }

  pm_model* get() const { return h_.get(); }

 private:
  explicit Model(pm_model* m) : h_(m) {}
  detail::Handle<pm_model, pm_model_free> h_;
};

struct GenerateOptions {
  int32_t max_tokens = 256;
  float temperature = 0.8f;
  int32_t top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  bool stop_at_eog = true;
  std::optional<std::string> grammar_gbnf;
  std::optional<std::string> json_schema;
  // Each piece of text; return false to stop (the Generation then ends with PM_FINISH_CANCELLED).
  std::function<bool(std::string_view)> on_text;
};

struct Generation {
  std::string text;
  std::vector<int32_t> tokens;
  pm_finish_reason finish = PM_FINISH_LENGTH;
  int64_t n_prompt_tokens = 0;
  double prompt_ms = 0, generate_ms = 0, ttft_ms = 0;
};

class Session {
 public:
  // The session borrows the model: keep the Model alive while the Session is.
  static Session create(const Model& model, int64_t n_ctx = 0, int32_t n_threads = 0) {
    pm_session_options o;
    pm_session_options_init(&o);
    o.n_ctx = n_ctx;
    o.n_threads = n_threads;
    pm_session* s = nullptr;
    pm_error* e = nullptr;
    detail::check(pm_session_create(model.get(), &o, &s, &e), &e);
    return Session(s);
  }

  void eval(const std::vector<int32_t>& tokens) {
    pm_error* e = nullptr;
    detail::check(pm_session_eval(h_.get(), tokens.data(), tokens.size(), &e), &e);
  }
  void reset() {
    pm_error* e = nullptr;
    detail::check(pm_session_reset(h_.get(), &e), &e);
  }
  int64_t n_past() const {
    int64_t n = 0;
    pm_error* e = nullptr;
    detail::check(pm_session_get_position(h_.get(), &n, nullptr, &e), &e);
    return n;
  }

  Generation generate(const std::string& prompt, const GenerateOptions& o = {}) { return run(&prompt, nullptr, o); }
  Generation generate(const std::vector<int32_t>& prompt, const GenerateOptions& o = {}) {
    return run(nullptr, &prompt, o);
  }

  std::vector<uint8_t> save_state() const {
    uint8_t* bytes = nullptr;
    size_t n = 0;
    pm_error* e = nullptr;
    detail::check(pm_session_state_save(h_.get(), &bytes, &n, &e), &e);
    std::vector<uint8_t> out(bytes, bytes + n);
    pm_bytes_free(bytes);
    return out;
  }
  void load_state(const std::vector<uint8_t>& bytes) {
    pm_error* e = nullptr;
    detail::check(pm_session_state_load(h_.get(), bytes.data(), bytes.size(), &e), &e);
  }
  void save_state_file(const std::string& path) const {
    pm_error* e = nullptr;
    detail::check(pm_session_state_save_file(h_.get(), path.c_str(), &e), &e);
  }
  void load_state_file(const std::string& path) {
    pm_error* e = nullptr;
    detail::check(pm_session_state_load_file(h_.get(), path.c_str(), &e), &e);
  }

  pm_session* get() const { return h_.get(); }

 private:
  explicit Session(pm_session* s) : h_(s) {}

  struct CallbackState {
    const std::function<bool(std::string_view)>* on_text;
    std::exception_ptr thrown;
  };
  static int trampoline(const char* piece, size_t n, void* user_data) {
    auto* cb = static_cast<CallbackState*>(user_data);
    try {
      return (*cb->on_text)(std::string_view(piece, n)) ? 0 : 1;
    } catch (...) {
      cb->thrown = std::current_exception();  // rethrown once the C call has returned
      return 1;
    }
  }

  Generation run(const std::string* text, const std::vector<int32_t>* tokens, const GenerateOptions& o) {
    pm_generate_params p;
    pm_generate_params_init(&p);
    p.max_tokens = o.max_tokens;
    p.temperature = o.temperature;
    p.top_k = o.top_k;
    p.top_p = o.top_p;
    p.min_p = o.min_p;
    p.repeat_penalty = o.repeat_penalty;
    p.seed = o.seed;
    std::vector<const char*> stop;
    for (const std::string& s : o.stop) stop.push_back(s.c_str());
    p.stop = stop.data();
    p.n_stop = stop.size();
    p.stop_at_eog = o.stop_at_eog ? 1 : 0;
    p.grammar_gbnf = o.grammar_gbnf ? o.grammar_gbnf->c_str() : nullptr;
    p.json_schema = o.json_schema ? o.json_schema->c_str() : nullptr;
    CallbackState cb{&o.on_text, nullptr};
    if (o.on_text) {
      p.on_text = &Session::trampoline;
      p.user_data = &cb;
    }
    pm_generate_result r;
    pm_generate_result_init(&r);
    pm_error* e = nullptr;
    const pm_status s = text ? pm_generate(h_.get(), text->c_str(), &p, &r, &e)
                             : pm_generate_tokens(h_.get(), tokens->data(), tokens->size(), &p, &r, &e);
    Generation g;
    if (r.text) g.text.assign(r.text, r.text_len);
    if (r.tokens) g.tokens.assign(r.tokens, r.tokens + r.n_tokens);
    g.finish = r.finish;
    g.n_prompt_tokens = r.n_prompt_tokens;
    g.prompt_ms = r.prompt_ms;
    g.generate_ms = r.generate_ms;
    g.ttft_ms = r.ttft_ms;
    pm_generate_result_clear(&r);
    if (cb.thrown) {
      pm_error_free(e);
      std::rethrow_exception(cb.thrown);
    }
    if (s == PM_ERR_CANCELLED) {  // asked for by on_text: not an error on this side
      pm_error_free(e);
      return g;
    }
    detail::check(s, &e);
    return g;
  }

  detail::Handle<pm_session, pm_session_free> h_;
};

class Embedder {
 public:
  static Embedder open(const std::string& path, int32_t n_threads = 0) {
    pm_embedder* h = nullptr;
    pm_error* e = nullptr;
    detail::check(pm_embedder_open(path.c_str(), n_threads, &h, &e), &e);
    return Embedder(h);
  }
  int64_t dim() const {
    int64_t d = 0;
    pm_error* e = nullptr;
    detail::check(pm_embedder_get_dim(h_.get(), &d, &e), &e);
    return d;
  }
  // [texts.size()][dim()] floats, row-major.
  std::vector<float> embed(const std::vector<std::string>& texts, int flags = 0) const {
    std::vector<const char*> ptrs;
    for (const std::string& t : texts) ptrs.push_back(t.c_str());
    std::vector<float> out(texts.size() * size_t(dim()));
    pm_error* e = nullptr;
    detail::check(pm_embed(h_.get(), ptrs.data(), ptrs.size(), flags, out.data(), out.size(), &e), &e);
    return out;
  }
  pm_embedder* get() const { return h_.get(); }

 private:
  explicit Embedder(pm_embedder* h) : h_(h) {}
  detail::Handle<pm_embedder, pm_embedder_free> h_;
};

struct IngestCounts {
  int64_t added = 0, replaced = 0, unchanged = 0, rejected = 0, embedded = 0;
  std::string first_rejection;
};

class Store {
 public:
  static Store open(const std::string& dir, bool create = true) {
    pm_store* h = nullptr;
    pm_error* e = nullptr;
    detail::check(pm_store_open(dir.c_str(), create ? 0 : PM_STORE_NO_CREATE, &h, &e), &e);
    return Store(h);
  }
  // A store encrypted at rest under `passphrase` (see pm_store_open_encrypted).
  static Store open_encrypted(const std::string& dir, const std::string& passphrase, bool create = true) {
    pm_store* h = nullptr;
    pm_error* e = nullptr;
    detail::check(pm_store_open_encrypted(dir.c_str(), create ? 0 : PM_STORE_NO_CREATE, passphrase.c_str(), &h, &e),
                  &e);
    return Store(h);
  }
  static void change_passphrase(const std::string& dir, const std::string& old_passphrase,
                                const std::string& new_passphrase) {
    pm_error* e = nullptr;
    detail::check(pm_store_change_passphrase(dir.c_str(), old_passphrase.c_str(), new_passphrase.c_str(), &e), &e);
  }
  // The embedder is borrowed: keep it alive while the store uses it.
  void set_embedder(const Embedder* embedder) {
    pm_error* e = nullptr;
    detail::check(pm_store_set_embedder(h_.get(), embedder ? embedder->get() : nullptr, &e), &e);
  }
  IngestCounts ingest_jsonl(std::string_view text, const std::string& origin = "api") {
    return ingest([&](pm_ingest_counts* c, pm_error** e) {
      return pm_store_ingest_jsonl(h_.get(), text.data(), text.size(), origin.c_str(), c, e);
    });
  }
  IngestCounts ingest_file(const std::string& path, const char* now_iso8601 = nullptr) {
    return ingest([&](pm_ingest_counts* c, pm_error** e) {
      return pm_store_ingest_file(h_.get(), path.c_str(), now_iso8601, c, e);
    });
  }
  // The hits as JSON text (see pm_store_search).
  std::string search(const std::string& query, int32_t k = 10, const char* now_iso8601 = nullptr) {
    char* json = nullptr;
    pm_error* e = nullptr;
    detail::check(pm_store_search(h_.get(), query.c_str(), k, now_iso8601, &json, &e), &e);
    std::unique_ptr<char, detail::StringDeleter> owned(json);
    return std::string(json);
  }
  int64_t forget_id(const std::string& id) {
    int64_t n = 0;
    pm_error* e = nullptr;
    detail::check(pm_store_forget_id(h_.get(), id.c_str(), &n, &e), &e);
    return n;
  }
  int64_t forget_source(const std::string& source) {
    int64_t n = 0;
    pm_error* e = nullptr;
    detail::check(pm_store_forget_source(h_.get(), source.c_str(), &n, &e), &e);
    return n;
  }
  int64_t count() {
    int64_t n = 0;
    pm_error* e = nullptr;
    detail::check(pm_store_count(h_.get(), &n, &e), &e);
    return n;
  }
  // The tool registry of this store's directory, through the handle (PM_API_VERSION >= 4; works on
  // encrypted stores; see pm_tools_register_in).
  void register_tool(const std::string& name, const std::string& description, const std::string& schema_json) {
    pm_error* e = nullptr;
    detail::check(pm_tools_register_in(h_.get(), name.c_str(), description.c_str(), schema_json.c_str(), &e), &e);
  }
  std::string list_tools(bool with_builtin = false) {
    char* json = nullptr;
    pm_error* e = nullptr;
    detail::check(pm_tools_list_in(h_.get(), with_builtin ? PM_TOOLS_INCLUDE_BUILTIN : 0, &json, &e), &e);
    return detail::take_string(json, std::strlen(json));
  }
  void remove_tool(const std::string& name) {
    pm_error* e = nullptr;
    detail::check(pm_tools_remove_in(h_.get(), name.c_str(), &e), &e);
  }
  pm_store* get() const { return h_.get(); }

 private:
  explicit Store(pm_store* h) : h_(h) {}
  template <typename Call>
  IngestCounts ingest(Call call) {
    pm_ingest_counts c;
    pm_ingest_counts_init(&c);
    pm_error* e = nullptr;
    detail::check(call(&c, &e), &e);
    IngestCounts out{c.added, c.replaced, c.unchanged, c.rejected, c.embedded, {}};
    if (c.first_rejection) out.first_rejection = detail::take_string(c.first_rejection, std::strlen(c.first_rejection));
    return out;
  }
  detail::Handle<pm_store, pm_store_close> h_;
};

// Third-party tools in a store directory's registry (PM_API_VERSION >= 2; see pm_tools_register).
inline void register_tool(const std::string& dir, const std::string& name, const std::string& description,
                          const std::string& schema_json) {
  pm_error* e = nullptr;
  detail::check(pm_tools_register(dir.c_str(), name.c_str(), description.c_str(), schema_json.c_str(), &e), &e);
}
// {"tools": [...]} as JSON text; with_builtin adds the built-in catalog.
inline std::string list_tools(const std::string& dir, bool with_builtin = false) {
  char* json = nullptr;
  pm_error* e = nullptr;
  detail::check(pm_tools_list(dir.c_str(), with_builtin ? PM_TOOLS_INCLUDE_BUILTIN : 0, &json, &e), &e);
  return detail::take_string(json, std::strlen(json));
}
inline void remove_tool(const std::string& dir, const std::string& name) {
  pm_error* e = nullptr;
  detail::check(pm_tools_remove(dir.c_str(), name.c_str(), &e), &e);
}

}  // namespace pocketmind
