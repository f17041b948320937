// How record text becomes search terms, for both the FTS5 index and queries.
//
// Text is split with ICU's word break iterator (for Chinese and Japanese it uses ICU's
// dictionary, cjdict), each piece is NFKC-normalized and case-folded (full-width "ＡＢＣ１２３"
// becomes "abc123"), and English words are Porter-stemmed.
//
// Index terms of a run of CJK characters c0 c1 ... c(n-1) (n terms, one per position, so that
// phrases of consecutive terms work):
//   position i:  bigram c(i)c(i+1)   (the last character: its unigram)
//                + at the same position: unigram c(i), and every dictionary word of >= 3
//                  characters that starts at c(i)
// so "火锅店" is found by "火锅", "锅店", "店" and "火锅店".
//
// A query word of the same run becomes: 1 character -> that unigram; 2 -> that bigram;
// >= 3 -> the dictionary word OR the phrase of its bigrams. A one-character word the dictionary
// split off joins its neighbour ("红烧|肉" -> "红烧肉", also searched as "红烧"). Query stopwords
// ("的", "what") are dropped. The words are OR-ed and ranked by BM25.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pm::store {

// One query term: any of `alternatives` matches; each alternative is a phrase of terms at
// consecutive positions.
struct QueryTerm {
  std::vector<std::vector<std::string>> alternatives;
};

class TextAnalyzer {
 public:
  static Result<std::unique_ptr<TextAnalyzer>> create();
  ~TextAnalyzer();
  TextAnalyzer(const TextAnalyzer&) = delete;
  TextAnalyzer& operator=(const TextAnalyzer&) = delete;

  // emit(term, start_byte, end_byte, colocated) for every index term of `text`; a non-zero
  // return from emit stops and is returned. Invalid UTF-8 is treated as U+FFFD (never indexed).
  using EmitFn = std::function<int(std::string_view term, int start_byte, int end_byte, bool colocated)>;
  int index_terms(std::string_view text, const EmitFn& emit);

  // The terms a query's words become (stopwords dropped; may be empty).
  std::vector<QueryTerm> query_terms(std::string_view text);

 private:
  struct Impl;
  explicit TextAnalyzer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The FTS5 MATCH text for query terms: each term quoted behind kLiteralMarker (so no query text
// is ever FTS5 syntax), terms OR-ed (or AND-ed with all = true). "" when there are none.
inline constexpr char kLiteralMarker = '\x01';
std::string fts_match_expression(const std::vector<QueryTerm>& terms, bool all = false);

}  // namespace pm::store
