// The FTS5 tokenizer "pm": TextAnalyzer (text_analyzer.h) behind SQLite's fts5_api.
//
// In query mode a string that starts with kLiteralMarker is one pre-analyzed term and is passed
// through unchanged: search builds its MATCH text from TextAnalyzer::query_terms, so user text
// never reaches FTS5's query syntax.
#pragma once

#include <sqlite3.h>

#include "core/status.h"

namespace pm::store {

inline constexpr const char* kFtsTokenizerName = "pm";

// Registers the tokenizer on one connection (needed before any FTS5 table using it is touched).
Status register_fts_tokenizer(sqlite3* db);

}  // namespace pm::store
