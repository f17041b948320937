// Compiled grammars kept for reuse. A server answers many requests with the same JSON schema or
// the same tool list: compiling the grammar, building the vocabulary trie (150k tokens for Qwen)
// and warming the per-state token masks are done once, and later requests start from the warm
// automaton. Bounded (least recently used entries are dropped); safe to share between threads.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "generate/grammar/matcher.h"

namespace pm {

class GrammarCache {
 public:
  // The vocabulary the engines are built over; it must outlive the cache.
  explicit GrammarCache(const Tokenizer& tokenizer, size_t capacity = 32);

  // The engine for this GBNF grammar text: compiled on first use, then shared.
  Result<std::shared_ptr<GrammarEngine>> get(const std::string& gbnf);

  // The vocabulary trie (built once, on first use).
  std::shared_ptr<const TokenTrie> trie();

  struct Stats {
    size_t hits = 0, misses = 0, entries = 0;
  };
  Stats stats();

 private:
  using Lru = std::list<std::pair<std::string, std::shared_ptr<GrammarEngine>>>;
  const Tokenizer& tokenizer_;
  const size_t capacity_;
  std::mutex mu_;
  std::shared_ptr<const TokenTrie> trie_;
  Lru lru_;  // most recently used first
  std::unordered_map<std::string, Lru::iterator> index_;
  Stats stats_;
};

}  // namespace pm
