#include "generate/grammar/matcher.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "tokenizer/tokenizer.h"

namespace pm {
namespace {

struct ByteSetHash {
  size_t operator()(const ByteSet& s) const {
    uint64_t h = 0;
    for (uint64_t w : s.w) h = (h ^ w) * 0x9E3779B97F4A7C15ull + (h >> 29);
    return size_t(h);
  }
};

bool subset(const ByteSet& a, const ByteSet& b) {
  return (a.w[0] & ~b.w[0]) == 0 && (a.w[1] & ~b.w[1]) == 0 && (a.w[2] & ~b.w[2]) == 0 && (a.w[3] & ~b.w[3]) == 0;
}

// Subtrees with fewer tokens than this are walked rather than checked against the loop set
// (computing a state's loop set costs 256 transitions).
constexpr uint32_t kLoopShortcutMinTokens = 16;

}  // namespace

// ---- TokenTrie ----

std::shared_ptr<const TokenTrie> TokenTrie::build(std::vector<std::string> pieces, std::vector<TokenId> eog) {
  auto t = std::shared_ptr<TokenTrie>(new TokenTrie());
  t->pieces_ = std::move(pieces);
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  t->eog_ = std::move(eog);
  for (TokenId id = 0; id < t->n_vocab(); ++id)
    if (!t->pieces_[size_t(id)].empty() && !t->is_eog(id)) t->sorted_.push_back(id);
  const auto& P = t->pieces_;
  std::sort(t->sorted_.begin(), t->sorted_.end(), [&](TokenId a, TokenId b) {
    const int c = P[size_t(a)].compare(P[size_t(b)]);
    return c < 0 || (c == 0 && a < b);
  });

  // Preorder construction over the sorted strings: `path` holds the nodes of the current prefix.
  std::vector<Node>& nodes = t->nodes_;
  nodes.push_back(Node{});
  std::vector<uint32_t> path{0};
  std::string_view prev;
  auto close = [&](uint32_t n, uint32_t tok_index) {
    nodes[n].subtree_end = uint32_t(nodes.size());
    nodes[n].tok_end = tok_index;
  };
  for (uint32_t k = 0; k < t->sorted_.size(); ++k) {
    const std::string_view s = P[size_t(t->sorted_[k])];
    size_t lcp = 0;
    while (lcp < s.size() && lcp < prev.size() && s[lcp] == prev[lcp]) ++lcp;
    while (path.size() > lcp + 1) {
      close(path.back(), k);
      path.pop_back();
    }
    for (size_t d = lcp; d < s.size(); ++d) {
      Node n;
      n.byte = uint8_t(s[d]);
      n.tok_begin = k;
      path.push_back(uint32_t(nodes.size()));
      nodes.push_back(n);
    }
    ++nodes[path.back()].n_here;
    prev = s;
  }
  while (!path.empty()) {
    close(path.back(), uint32_t(t->sorted_.size()));
    path.pop_back();
  }
  // Bytes below each node, bottom-up (children come after their parent in preorder).
  std::vector<ByteSet> below(nodes.size());
  for (size_t i = nodes.size(); i-- > 0;) {
    for (uint32_t c = uint32_t(i) + 1; c < nodes[i].subtree_end; c = nodes[c].subtree_end) {
      below[i].add(nodes[c].byte);
      for (int w = 0; w < 4; ++w) below[i].w[w] |= below[c].w[w];
    }
  }
  std::unordered_map<ByteSet, uint32_t, ByteSetHash> ids;
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto [it, fresh] = ids.try_emplace(below[i], uint32_t(t->below_sets_.size()));
    if (fresh) t->below_sets_.push_back(below[i]);
    nodes[i].below = it->second;
  }
  return t;
}

std::shared_ptr<const TokenTrie> TokenTrie::build(const Tokenizer& tokenizer) {
  std::vector<std::string> pieces(size_t(tokenizer.n_vocab()));
  std::vector<TokenId> eog;
  for (TokenId id = 0; id < tokenizer.n_vocab(); ++id) {
    if (tokenizer.is_eog(id)) { eog.push_back(id); continue; }
    if (tokenizer.is_control(id)) continue;
    pieces[size_t(id)] = tokenizer.token_to_piece(id, /*render_special=*/false);
  }
  return build(std::move(pieces), std::move(eog));
}

bool TokenTrie::is_eog(TokenId id) const { return std::binary_search(eog_.begin(), eog_.end(), id); }

// ---- GrammarEngine ----

GrammarEngine::GrammarEngine(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTrie> trie)
    : grammar_(std::move(grammar)), trie_(std::move(trie)) {
  states_.push_back(State{});  // kDead
  state_ids_.emplace(std::string(1, '\0'), kDead);
  trans_.assign(256, kDead);
  loop_known_.push_back(1);
  loop_.push_back(ByteSet{});
  work_.clear();
  for (uint32_t a : grammar_->rule_alts[grammar_->root]) work_.push_back({a, -1});
  Result<int32_t> s = close_and_intern();
  initial_ = s.is_ok() ? *s : kDead;  // the root's expansion is bounded by the grammar's size
}

int32_t GrammarEngine::intern_node(uint32_t pos, int32_t parent) {
  const uint64_t key = (uint64_t(pos) << 32) | uint32_t(parent + 1);
  auto [it, fresh] = node_ids_.try_emplace(key, int32_t(nodes_.size()));
  if (fresh) nodes_.push_back({pos, parent});
  return it->second;
}

Result<int32_t> GrammarEngine::close_and_intern() {
  const Grammar& g = *grammar_;
  seen_.clear();
  out_.clear();
  bool accept = false;
  while (!work_.empty()) {
    const auto [pos, parent] = work_.back();
    work_.pop_back();
    if (!seen_.insert((uint64_t(pos) << 32) | uint32_t(parent + 1)).second) continue;
    const GrammarElem& e = g.elems[pos];
    switch (e.kind) {
      case GrammarElemKind::kBytes:
        out_.push_back(intern_node(pos, parent));
        break;
      case GrammarElemKind::kEnd:
        if (parent < 0) accept = true;
        else work_.push_back({nodes_[size_t(parent)].pos, nodes_[size_t(parent)].parent});
        break;
      case GrammarElemKind::kRule: {
        const int32_t cont = g.elems[pos + 1].kind == GrammarElemKind::kEnd ? parent : intern_node(pos + 1, parent);
        for (uint32_t a : g.rule_alts[e.arg]) work_.push_back({a, cont});
        break;
      }
    }
    if (nodes_.size() > kMaxStackNodes)
      return Status::resource_exhausted("grammar: more than " + std::to_string(kMaxStackNodes) +
                                        " parse stack entries (the grammar nests too deeply)");
  }
  std::sort(out_.begin(), out_.end());
  out_.erase(std::unique(out_.begin(), out_.end()), out_.end());
  std::string key(1 + out_.size() * sizeof(int32_t), '\0');
  key[0] = accept ? 1 : 0;
  if (!out_.empty()) std::memcpy(&key[1], out_.data(), out_.size() * sizeof(int32_t));
  if (!accept && out_.empty()) return kDead;
  auto found = state_ids_.find(key);
  if (found != state_ids_.end()) return found->second;
  if (states_.size() >= kMaxStates)
    return Status::resource_exhausted("grammar: more than " + std::to_string(kMaxStates) + " parser states");
  auto [it, fresh] = state_ids_.try_emplace(std::move(key), int32_t(states_.size()));
  if (fresh) {
    states_.push_back(State{out_, accept});
    trans_.resize(trans_.size() + 256, -1);
    loop_known_.push_back(0);
    loop_.push_back(ByteSet{});
  }
  return it->second;
}

Result<int32_t> GrammarEngine::next_locked(int32_t state, uint8_t byte) {
  const int32_t known = trans_[size_t(state) * 256 + byte];
  if (known >= 0) return known;
  const Grammar& g = *grammar_;
  work_.clear();
  for (int32_t s : states_[size_t(state)].stacks) {
    const StackNode n = nodes_[size_t(s)];
    if (g.byte_sets[g.elems[n.pos].arg].has(byte)) work_.push_back({n.pos + 1, n.parent});
  }
  int32_t t = kDead;
  if (!work_.empty()) {
    Result<int32_t> r = close_and_intern();
    if (!r.is_ok()) return r.status();
    t = *r;
  }
  trans_[size_t(state) * 256 + byte] = t;
  return t;
}

Result<int32_t> GrammarEngine::next(int32_t state, uint8_t byte) {
  std::lock_guard<std::mutex> lock(mu_);
  return next_locked(state, byte);
}

bool GrammarEngine::accepting(int32_t state) {
  std::lock_guard<std::mutex> lock(mu_);
  return states_[size_t(state)].accept;
}

bool GrammarEngine::can_continue(int32_t state) {
  std::lock_guard<std::mutex> lock(mu_);
  return !states_[size_t(state)].stacks.empty();
}

Status GrammarEngine::loop_bytes(int32_t state, ByteSet& out) {
  if (!loop_known_[size_t(state)]) {
    ByteSet s;
    // Only bytes some stack can take can loop.
    ByteSet possible;
    for (int32_t st : states_[size_t(state)].stacks) {
      const ByteSet& b = grammar_->byte_sets[grammar_->elems[nodes_[size_t(st)].pos].arg];
      for (int w = 0; w < 4; ++w) possible.w[w] |= b.w[w];
    }
    for (int b = 0; b < 256; ++b) {
      if (!possible.has(uint8_t(b))) continue;
      Result<int32_t> t = next_locked(state, uint8_t(b));
      if (!t.is_ok()) return t.status();
      if (*t == state) s.add(uint8_t(b));
    }
    loop_[size_t(state)] = s;
    loop_known_[size_t(state)] = 1;
  }
  out = loop_[size_t(state)];
  return Status::ok();
}

Status GrammarEngine::walk(uint32_t node, int32_t state, std::vector<uint64_t>& bits) {
  const auto& nodes = trie_->nodes();
  const auto& sorted = trie_->sorted();
  auto mark = [&](uint32_t from, uint32_t to) {
    for (uint32_t k = from; k < to; ++k) {
      const uint32_t id = uint32_t(sorted[k]);
      bits[id >> 6] |= uint64_t(1) << (id & 63);
    }
  };
  for (uint32_t c = node + 1; c < nodes[node].subtree_end; c = nodes[c].subtree_end) {
    const TokenTrie::Node& n = nodes[c];
    Result<int32_t> t = next_locked(state, n.byte);
    if (!t.is_ok()) return t.status();
    if (*t == kDead) continue;
    if (n.tok_end - n.tok_begin >= kLoopShortcutMinTokens) {
      ByteSet loop;
      PM_RETURN_IF_ERROR(loop_bytes(*t, loop));
      if (subset(trie_->below(c), loop)) {
        mark(n.tok_begin, n.tok_end);
        continue;
      }
    }
    mark(n.tok_begin, n.tok_begin + n.n_here);
    if (n.subtree_end > c + 1) PM_RETURN_IF_ERROR(walk(c, *t, bits));
  }
  return Status::ok();
}

Status GrammarEngine::compute_mask(int32_t state, std::vector<uint64_t>& bits) {
  bits.assign((size_t(trie_->n_vocab()) + 63) / 64, 0);
  if (state == kDead) return Status::ok();
  PM_RETURN_IF_ERROR(walk(0, state, bits));
  if (states_[size_t(state)].accept)
    for (TokenId id : trie_->eog()) bits[size_t(id) >> 6] |= uint64_t(1) << (id & 63);
  return Status::ok();
}

Status GrammarEngine::fill_mask(int32_t state, uint8_t* allowed) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = masks_.find(state);
  if (it == masks_.end()) {
    std::vector<uint64_t> bits;
    PM_RETURN_IF_ERROR(compute_mask(state, bits));
    if (mask_bytes_ + bits.size() * 8 > kMaskCacheBytes) {
      masks_.clear();
      mask_bytes_ = 0;
    }
    mask_bytes_ += bits.size() * 8;
    it = masks_.emplace(state, std::move(bits)).first;
  }
  const std::vector<uint64_t>& bits = it->second;
  const size_t n = size_t(trie_->n_vocab());
  for (size_t w = 0; w < bits.size(); ++w) {
    const size_t base = w * 64;
    const size_t len = std::min<size_t>(64, n - base);
    const uint64_t v = bits[w];
    if (v == 0) {
      std::memset(allowed + base, 0, len);
    } else if (v == ~uint64_t(0)) {
      std::memset(allowed + base, 1, len);
    } else {
      for (size_t i = 0; i < len; ++i) allowed[base + i] = uint8_t((v >> i) & 1);
    }
  }
  return Status::ok();
}

// ---- GrammarMatcher ----

Status GrammarMatcher::accept_token(TokenId id) {
  const TokenTrie& trie = engine_->trie();
  if (id < 0 || id >= trie.n_vocab()) return Status::invalid_argument("grammar: token id " + std::to_string(id) + " out of range");
  if (finished_) return Status::invalid_argument("grammar: token " + std::to_string(id) + " after the end of generation");
  if (trie.is_eog(id)) {
    if (!engine_->accepting(state_))
      return Status::invalid_argument("grammar: end of generation (token " + std::to_string(id) + ") before the grammar is complete");
    finished_ = true;
    return Status::ok();
  }
  const std::string& piece = trie.piece(id);
  if (piece.empty()) return Status::invalid_argument("grammar: token " + std::to_string(id) + " has no text");
  int32_t s = state_;
  for (char c : piece) {
    Result<int32_t> t = engine_->next(s, uint8_t(c));
    if (!t.is_ok()) return t.status();
    s = *t;
    if (s == GrammarEngine::kDead)
      return Status::invalid_argument("grammar: token " + std::to_string(id) + " is not allowed here");
  }
  state_ = s;
  return Status::ok();
}

bool GrammarMatcher::accept_bytes(std::string_view bytes) {
  int32_t s = state_;
  for (char c : bytes) {
    Result<int32_t> t = engine_->next(s, uint8_t(c));
    if (!t.is_ok() || *t == GrammarEngine::kDead) return false;
    s = *t;
  }
  state_ = s;
  return true;
}

}  // namespace pm
