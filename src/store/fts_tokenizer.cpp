#include "store/fts_tokenizer.h"

#include <memory>

#include "store/text_analyzer.h"

namespace pm::store {
namespace {

int x_create(void* /*ctx*/, const char** /*args*/, int /*n_args*/, Fts5Tokenizer** out) {
  Result<std::unique_ptr<TextAnalyzer>> a = TextAnalyzer::create();
  if (!a.is_ok()) return SQLITE_ERROR;
  *out = reinterpret_cast<Fts5Tokenizer*>(std::move(a).value().release());
  return SQLITE_OK;
}

void x_delete(Fts5Tokenizer* t) { delete reinterpret_cast<TextAnalyzer*>(t); }

using TokenCallback = int (*)(void* ctx, int flags, const char* token, int n_token, int start, int end);

int x_tokenize(Fts5Tokenizer* t, void* ctx, int flags, const char* text, int n_text, TokenCallback token) {
  if (n_text <= 0 || text == nullptr) return SQLITE_OK;
  if ((flags & FTS5_TOKENIZE_QUERY) && text[0] == kLiteralMarker)
    return n_text > 1 ? token(ctx, 0, text + 1, n_text - 1, 0, n_text) : SQLITE_OK;
  auto* analyzer = reinterpret_cast<TextAnalyzer*>(t);
  return analyzer->index_terms(
      std::string_view(text, size_t(n_text)), [&](std::string_view term, int start, int end, bool colocated) {
        return token(ctx, colocated ? FTS5_TOKEN_COLOCATED : 0, term.data(), int(term.size()), start, end);
      });
}

fts5_api* get_fts5_api(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr) != SQLITE_OK) return nullptr;
  sqlite3_bind_pointer(stmt, 1, reinterpret_cast<void*>(&api), "fts5_api_ptr", nullptr);
  sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  return api;
}

}  // namespace

Status register_fts_tokenizer(sqlite3* db) {
  fts5_api* api = get_fts5_api(db);
  if (api == nullptr || api->iVersion < 2) return Status::unsupported("this SQLite has no FTS5 (fts5_api v2 needed)");
  fts5_tokenizer tok{x_create, x_delete, x_tokenize};
  if (api->xCreateTokenizer(api, kFtsTokenizerName, nullptr, &tok, nullptr) != SQLITE_OK)
    return Status::internal(std::string("registering the FTS5 tokenizer: ") + sqlite3_errmsg(db));
  return Status::ok();
}

}  // namespace pm::store
