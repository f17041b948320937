#include "generate/grammar/engine_cache.h"

namespace pm {

GrammarCache::GrammarCache(const Tokenizer& tokenizer, size_t capacity)
    : tokenizer_(tokenizer), capacity_(capacity > 0 ? capacity : 1) {}

std::shared_ptr<const TokenTrie> GrammarCache::trie() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!trie_) trie_ = TokenTrie::build(tokenizer_);
  return trie_;
}

Result<std::shared_ptr<GrammarEngine>> GrammarCache::get(const std::string& gbnf) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(gbnf);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      ++stats_.hits;
      return it->second->second;
    }
    ++stats_.misses;
  }
  // Compiled outside the lock: another request may compile the same text meanwhile, and the
  // second to finish just replaces the first (both engines are correct).
  Result<std::shared_ptr<const Grammar>> grammar = parse_grammar(gbnf);
  if (!grammar.is_ok()) return grammar.status();
  auto engine = std::make_shared<GrammarEngine>(*grammar, trie());
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(gbnf);
  if (it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.emplace_front(gbnf, engine);
  index_[gbnf] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return engine;
}

GrammarCache::Stats GrammarCache::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.entries = lru_.size();
  return s;
}

}  // namespace pm
