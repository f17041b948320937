// C API: models, tokens, sessions, generation (plain and grammar-constrained) and session state.
#include <cstdio>
#include <cstdlib>

#include "capi/capi_internal.h"
#include "formats/rwkv_bin.h"
#include "generate/generator.h"
#include "generate/grammar/grammar.h"
#include "generate/grammar/json_schema.h"
#include "models/bert.h"
#include "runtime/memory_budget.h"
#include "tokenizer/byte_level.h"

using pm::Result;
using pm::Status;
using pm::TokenId;
using pm::capi::guarded;
using pm::capi::need;

namespace pm::capi {
namespace {

bool has_rwkv_magic(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  uint8_t magic[4] = {};
  const size_t n = std::fread(magic, 1, 4, f);
  std::fclose(f);
  return RwkvBinFile::has_magic(magic, n);
}

Status load(const std::string& path, const pm_model_options& o, pm_model& m) {
  ModelOptions options;
  switch (o.kv_type) {
    case PM_KV_F16: options.kv_type = GgmlType::kF16; break;
    case PM_KV_Q8_0: options.kv_type = GgmlType::kQ8_0; break;
    case PM_KV_F32: options.kv_type = GgmlType::kF32; break;
    default:
      return Status::invalid_argument("options.kv_type: unknown value " + std::to_string(int(o.kv_type)) +
                                      " (PM_KV_F16, PM_KV_Q8_0, PM_KV_F32)");
  }
  if (o.n_threads < 0 || o.n_threads > 1024)
    return Status::invalid_argument("options.n_threads must be in 0..1024, got " + std::to_string(o.n_threads));
  if (has_rwkv_magic(path)) {
    // rwkv.cpp .bin files carry no vocabulary: only the byte-level test models can be used by text.
    PM_ASSIGN_OR_RETURN(m.model, load_model(path, options));
    if (m.model->info().n_vocab != 256)
      return Status::unsupported(path + ": this rwkv.cpp .bin model has a " + std::to_string(m.model->info().n_vocab) +
                                 "-token vocabulary that the file does not carry; use its GGUF conversion");
    m.tokenizer = make_byte_level_tokenizer();
  } else {
    PM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::open(path));
    m.gguf = std::move(f);
    PM_ASSIGN_OR_RETURN(m.tokenizer, Tokenizer::from_gguf(*m.gguf));
    PM_ASSIGN_OR_RETURN(m.model, load_model(m.gguf, options));
    if (m.model->info().n_vocab < m.tokenizer->n_vocab())
      return Status::corrupt(path + ": the tokenizer has " + std::to_string(m.tokenizer->n_vocab()) +
                             " tokens but the model's output has only " + std::to_string(m.model->info().n_vocab));
  }
  m.is_embedding = dynamic_cast<const EmbeddingModel*>(m.model.get()) != nullptr;
  if (!m.is_embedding) {
    PM_ASSIGN_OR_RETURN(MemoryPlan plan, plan_memory(m.model->info(), 0, o.memory_budget_bytes));
    m.default_n_ctx = plan.n_ctx;
  }
  m.pool = std::make_unique<ThreadPool>(o.n_threads);
  return Status::ok();
}

Result<std::shared_ptr<GrammarEngine>> grammar_engine(pm_model& m, const pm_generate_params& p) {
  if (p.grammar_gbnf == nullptr && p.json_schema == nullptr) return std::shared_ptr<GrammarEngine>();
  if (p.grammar_gbnf != nullptr && p.json_schema != nullptr)
    return Status::invalid_argument("params: give at most one of grammar_gbnf and json_schema");
  std::string gbnf;
  if (p.json_schema != nullptr) {
    Result<std::string> g = json_schema_to_gbnf(p.json_schema);
    if (!g.is_ok()) return g.status().with_context("json_schema");
    gbnf = std::move(g).value();
  } else {
    gbnf = p.grammar_gbnf;
  }
  Result<std::shared_ptr<const Grammar>> grammar = parse_grammar(gbnf);
  if (!grammar.is_ok()) return grammar.status().with_context(p.json_schema ? "json_schema" : "grammar_gbnf");
  std::shared_ptr<const TokenTrie> trie;
  {
    std::lock_guard<std::mutex> lock(m.trie_mu);
    if (!m.trie) m.trie = TokenTrie::build(*m.tokenizer);
    trie = m.trie;
  }
  return std::make_shared<GrammarEngine>(*grammar, std::move(trie));
}

pm_finish_reason to_pm_finish(FinishReason r) {
  switch (r) {
    case FinishReason::kLength: return PM_FINISH_LENGTH;
    case FinishReason::kStop: return PM_FINISH_STOP;
    case FinishReason::kEndOfGeneration: return PM_FINISH_EOG;
    case FinishReason::kContextFull: return PM_FINISH_CONTEXT;
    case FinishReason::kCancelled: return PM_FINISH_CANCELLED;
  }
  return PM_FINISH_LENGTH;
}

Status run_generate(pm_session* s, const std::vector<TokenId>& prompt, const pm_generate_params* params,
                    pm_generate_result* result) {
  pm_generate_params p;
  pm_generate_params_init(&p);
  PM_RETURN_IF_ERROR(read_struct(params, &p, "params"));
  if (result != nullptr) {
    PM_RETURN_IF_ERROR(check_out_struct(result, sizeof(pm_generate_result), "result"));
    if (result->text != nullptr || result->tokens != nullptr)
      return Status::invalid_argument("result still holds a generation: pm_generate_result_clear it first");
  }
  if (p.max_tokens < 1) return Status::invalid_argument("params.max_tokens must be >= 1, got " + std::to_string(p.max_tokens));
  if (p.n_stop > 0 && p.stop == nullptr) return Status::invalid_argument("params.stop is NULL but n_stop is " + std::to_string(p.n_stop));
  for (TokenId t : prompt)
    if (t < 0 || t >= s->model->model->info().n_vocab)
      return Status::invalid_argument("prompt token " + std::to_string(t) + " is outside the vocabulary (0.." +
                                      std::to_string(s->model->model->info().n_vocab - 1) + ")");
  GenerateOptions o;
  o.max_tokens = p.max_tokens;
  o.sampler.temperature = p.temperature;
  o.sampler.top_k = p.top_k;
  o.sampler.top_p = p.top_p;
  o.sampler.min_p = p.min_p;
  o.sampler.repeat_penalty = p.repeat_penalty;
  o.sampler.repeat_last_n = p.repeat_last_n;
  o.sampler.presence_penalty = p.presence_penalty;
  o.sampler.frequency_penalty = p.frequency_penalty;
  o.sampler.seed = p.seed;
  o.stop_at_eog = p.stop_at_eog != 0;
  for (size_t i = 0; i < p.n_stop; ++i) {
    if (p.stop[i] == nullptr) return Status::invalid_argument("params.stop[" + std::to_string(i) + "] is NULL");
    o.stop.emplace_back(p.stop[i]);
  }
  PM_ASSIGN_OR_RETURN(o.grammar, grammar_engine(*s->model, p));
  TextCallback on_text = nullptr;
  if (p.on_text != nullptr)
    on_text = [&p](std::string_view piece) { return p.on_text(piece.data(), piece.size(), p.user_data) == 0; };
  PM_ASSIGN_OR_RETURN(GenerateResult r, generate(*s->session, *s->model->tokenizer, prompt, o, on_text));
  if (result != nullptr) {
    pm_generate_result out;
    pm_generate_result_init(&out);
    out.text = copy_string(r.text);
    out.text_len = r.text.size();
    out.tokens = static_cast<int32_t*>(std::malloc(std::max<size_t>(1, r.tokens.size()) * sizeof(int32_t)));
    if (out.tokens == nullptr) {
      std::free(out.text);
      throw std::bad_alloc();
    }
    std::copy(r.tokens.begin(), r.tokens.end(), out.tokens);
    out.n_tokens = r.tokens.size();
    out.finish = to_pm_finish(r.finish);
    out.n_prompt_tokens = r.n_prompt_tokens;
    out.prompt_ms = r.prompt_ms;
    out.generate_ms = r.generate_ms;
    out.ttft_ms = r.ttft_ms;
    write_struct(result, out);
  }
  if (r.finish == FinishReason::kCancelled) return Status::cancelled("generation stopped by the on_text callback");
  return Status::ok();
}

}  // namespace
}  // namespace pm::capi

extern "C" {

// ---- models -------------------------------------------------------------------------------------

void pm_model_options_init(pm_model_options* options) {
  if (options == nullptr) return;
  *options = pm_model_options{};
  options->struct_size = sizeof(pm_model_options);
  options->n_threads = 0;
  options->kv_type = PM_KV_F16;
  options->memory_budget_bytes = 0;
}

pm_status pm_model_load(const char* path, const pm_model_options* options, pm_model** model, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(model, "model (out)"));
    *model = nullptr;
    PM_RETURN_IF_ERROR(need(path, "path"));
    pm_model_options o;
    pm_model_options_init(&o);
    PM_RETURN_IF_ERROR(pm::capi::read_struct(options, &o, "options"));
    auto m = std::make_unique<pm_model>();
    PM_RETURN_IF_ERROR(pm::capi::load(path, o, *m));
    *model = m.release();
    return Status::ok();
  });
}

void pm_model_free(pm_model* model) { delete model; }

pm_status pm_model_get_info(const pm_model* model, pm_model_info* info, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(model, "model"));
    PM_RETURN_IF_ERROR(pm::capi::check_out_struct(info, sizeof(size_t), "info"));
    const pm::ModelInfo& mi = model->model->info();
    pm_model_info out{};
    out.struct_size = sizeof(out);
    out.arch = mi.arch.c_str();
    out.name = mi.name.c_str();
    out.n_vocab = mi.n_vocab;
    out.n_ctx_train = mi.n_ctx_train;
    out.n_embd = mi.n_embd;
    out.n_layer = mi.n_layer;
    out.n_params = mi.n_params;
    out.weights_bytes = mi.weights_bytes;
    out.is_recurrent = mi.recurrent ? 1 : 0;
    out.is_embedding = model->is_embedding ? 1 : 0;
    out.default_n_ctx = model->default_n_ctx;
    pm::capi::write_struct(info, out);
    return Status::ok();
  });
}

// ---- tokens -------------------------------------------------------------------------------------

pm_status pm_tokenize(const pm_model* model, const char* text, size_t text_len, int flags, int32_t* tokens,
                      size_t capacity, size_t* n_tokens, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(model, "model"));
    PM_RETURN_IF_ERROR(need(n_tokens, "n_tokens"));
    if (text == nullptr && text_len > 0) return Status::invalid_argument("text is NULL");
    if (tokens == nullptr && capacity > 0) return Status::invalid_argument("tokens is NULL but capacity is " + std::to_string(capacity));
    const std::vector<TokenId> ids =
        model->tokenizer->encode(std::string_view(text ? text : "", text_len), (flags & PM_TOKENIZE_ADD_SPECIAL) != 0,
                                 (flags & PM_TOKENIZE_PARSE_SPECIAL) != 0);
    *n_tokens = ids.size();
    if (ids.size() > capacity)
      return Status::out_of_range("the text has " + std::to_string(ids.size()) + " tokens but the buffer holds " +
                                  std::to_string(capacity));
    std::copy(ids.begin(), ids.end(), tokens);
    return Status::ok();
  });
}

pm_status pm_detokenize(const pm_model* model, const int32_t* tokens, size_t n_tokens, int flags, char** text,
                        size_t* text_len, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(model, "model"));
    PM_RETURN_IF_ERROR(need(text, "text (out)"));
    *text = nullptr;
    if (tokens == nullptr && n_tokens > 0) return Status::invalid_argument("tokens is NULL");
    const int32_t n_vocab = model->tokenizer->n_vocab();
    for (size_t i = 0; i < n_tokens; ++i)
      if (tokens[i] < 0 || tokens[i] >= n_vocab)
        return Status::invalid_argument("tokens[" + std::to_string(i) + "] = " + std::to_string(tokens[i]) +
                                        " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
    const std::string s = model->tokenizer->decode(std::vector<TokenId>(tokens, tokens + n_tokens),
                                                   (flags & PM_DETOKENIZE_RENDER_SPECIAL) != 0);
    *text = pm::capi::copy_string(s);
    if (text_len) *text_len = s.size();
    return Status::ok();
  });
}

// ---- sessions -----------------------------------------------------------------------------------

void pm_session_options_init(pm_session_options* options) {
  if (options == nullptr) return;
  *options = pm_session_options{};
  options->struct_size = sizeof(pm_session_options);
}

pm_status pm_session_create(pm_model* model, const pm_session_options* options, pm_session** session,
                            pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(session, "session (out)"));
    *session = nullptr;
    PM_RETURN_IF_ERROR(need(model, "model"));
    pm_session_options o;
    pm_session_options_init(&o);
    PM_RETURN_IF_ERROR(pm::capi::read_struct(options, &o, "options"));
    if (o.n_ctx < 0) return Status::invalid_argument("options.n_ctx must be >= 0, got " + std::to_string(o.n_ctx));
    if (o.n_threads < 0 || o.n_threads > 1024)
      return Status::invalid_argument("options.n_threads must be in 0..1024, got " + std::to_string(o.n_threads));
    if (model->is_embedding)
      return Status::invalid_argument(model->model->info().arch + " is an embedding model: use pm_embedder_open");
    auto s = std::make_unique<pm_session>();
    s->model = model;
    pm::ThreadPool* pool = model->pool.get();
    if (o.n_threads > 0) {
      s->own_pool = std::make_unique<pm::ThreadPool>(o.n_threads);
      pool = s->own_pool.get();
    }
    PM_ASSIGN_OR_RETURN(s->session,
                        pm::Session::create(*model->model, o.n_ctx > 0 ? o.n_ctx : model->default_n_ctx, pool));
    *session = s.release();
    return Status::ok();
  });
}

void pm_session_free(pm_session* session) { delete session; }

pm_status pm_session_reset(pm_session* session, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(session, "session"));
    session->session->reset();
    return Status::ok();
  });
}

pm_status pm_session_get_position(const pm_session* session, int64_t* n_past, int64_t* n_ctx, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(session, "session"));
    if (n_past) *n_past = session->session->n_past();
    if (n_ctx) *n_ctx = session->session->n_ctx();
    return Status::ok();
  });
}

pm_status pm_session_eval(pm_session* session, const int32_t* tokens, size_t n_tokens, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(session, "session"));
    PM_RETURN_IF_ERROR(need(tokens, "tokens"));
    if (n_tokens == 0) return Status::invalid_argument("n_tokens is 0");
    const int64_t n_vocab = session->model->model->info().n_vocab;
    for (size_t i = 0; i < n_tokens; ++i)
      if (tokens[i] < 0 || tokens[i] >= n_vocab)
        return Status::invalid_argument("tokens[" + std::to_string(i) + "] = " + std::to_string(tokens[i]) +
                                        " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
    pm::Session& s = *session->session;
    if (s.n_past() + int64_t(n_tokens) > s.n_ctx())
      return Status::out_of_range(std::to_string(n_tokens) + " tokens do not fit: the context holds " +
                                  std::to_string(s.n_ctx() - s.n_past()) + " more (context size " +
                                  std::to_string(s.n_ctx()) + ")");
    return s.eval(tokens, int64_t(n_tokens));
  });
}

pm_status pm_session_get_logits(const pm_session* session, const float** logits, size_t* n_vocab, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(session, "session"));
    PM_RETURN_IF_ERROR(need(logits, "logits (out)"));
    *logits = nullptr;
    const pm::Session& s = *session->session;
    const size_t n = size_t(s.model().info().n_vocab);
    if (s.all_logits().size() < n) return Status::not_found("no logits yet: nothing has been evaluated");
    *logits = s.logits();
    if (n_vocab) *n_vocab = n;
    return Status::ok();
  });
}

// ---- generation ---------------------------------------------------------------------------------

void pm_generate_params_init(pm_generate_params* params) {
  if (params == nullptr) return;
  *params = pm_generate_params{};
  params->struct_size = sizeof(pm_generate_params);
  const pm::GenerateOptions d;  // one source of truth for the defaults
  params->max_tokens = d.max_tokens;
  params->temperature = d.sampler.temperature;
  params->top_k = d.sampler.top_k;
  params->top_p = d.sampler.top_p;
  params->min_p = d.sampler.min_p;
  params->repeat_penalty = d.sampler.repeat_penalty;
  params->repeat_last_n = d.sampler.repeat_last_n;
  params->presence_penalty = d.sampler.presence_penalty;
  params->frequency_penalty = d.sampler.frequency_penalty;
  params->seed = d.sampler.seed;
  params->stop_at_eog = d.stop_at_eog ? 1 : 0;
}

void pm_generate_result_init(pm_generate_result* result) {
  if (result == nullptr) return;
  *result = pm_generate_result{};
  result->struct_size = sizeof(pm_generate_result);
}

void pm_generate_result_clear(pm_generate_result* result) {
  if (result == nullptr) return;
  std::free(result->text);
  std::free(result->tokens);
  const size_t keep = result->struct_size;
  *result = pm_generate_result{};
  result->struct_size = keep;
}

pm_status pm_generate(pm_session* session, const char* prompt, const pm_generate_params* params,
                      pm_generate_result* result, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(session, "session"));
    PM_RETURN_IF_ERROR(need(prompt, "prompt"));
    const std::vector<TokenId> tokens =
        session->model->tokenizer->encode(prompt, /*add_special=*/session->session->n_past() == 0, /*parse_special=*/true);
    if (tokens.empty()) return Status::invalid_argument("the prompt has no tokens");
    return pm::capi::run_generate(session, tokens, params, result);
  });
}

pm_status pm_generate_tokens(pm_session* session, const int32_t* prompt, size_t n_prompt,
                             const pm_generate_params* params, pm_generate_result* result, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(session, "session"));
    PM_RETURN_IF_ERROR(need(prompt, "prompt"));
    if (n_prompt == 0) return Status::invalid_argument("n_prompt is 0");
    return pm::capi::run_generate(session, std::vector<TokenId>(prompt, prompt + n_prompt), params, result);
  });
}

// ---- session state ------------------------------------------------------------------------------

pm_status pm_session_state_save(const pm_session* session, uint8_t** bytes, size_t* size_bytes, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(bytes, "bytes (out)"));
    *bytes = nullptr;
    PM_RETURN_IF_ERROR(need(session, "session"));
    PM_RETURN_IF_ERROR(need(size_bytes, "size_bytes (out)"));
    PM_ASSIGN_OR_RETURN(std::vector<uint8_t> state, session->session->state_bytes());
    auto* out = static_cast<uint8_t*>(std::malloc(std::max<size_t>(1, state.size())));
    if (out == nullptr) throw std::bad_alloc();
    std::memcpy(out, state.data(), state.size());
    *bytes = out;
    *size_bytes = state.size();
    return Status::ok();
  });
}

pm_status pm_session_state_load(pm_session* session, const uint8_t* bytes, size_t size_bytes, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(session, "session"));
    PM_RETURN_IF_ERROR(need(bytes, "bytes"));
    return session->session->restore_state(bytes, size_bytes);
  });
}

pm_status pm_session_state_save_file(const pm_session* session, const char* path, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(session, "session"));
    PM_RETURN_IF_ERROR(need(path, "path"));
    return session->session->save_state(path);
  });
}

pm_status pm_session_state_load_file(pm_session* session, const char* path, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(session, "session"));
    PM_RETURN_IF_ERROR(need(path, "path"));
    return session->session->load_state(path);
  });
}

}  // extern "C"
