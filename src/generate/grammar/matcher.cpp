#include "generate/grammar/matcher.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "tokenizer/tokenizer.h"

namespace pm {
namespace {

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
  // UTF-8 state of each node's path: the allowed range of the next byte while a character is open.
  std::vector<std::pair<uint8_t, uint8_t>> next_range{{0, 0}};
  nodes[0].utf8_ok = 1;
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
      const Node& parent = nodes[path.back()];
      const uint8_t b = n.byte;
      std::pair<uint8_t, uint8_t> range{0x80, 0xBF};
      bool ok = parent.utf8_ok;
      if (parent.pending > 0) {
        ok = ok && b >= next_range[path.back()].first && b <= next_range[path.back()].second;
        n.pending = uint8_t(parent.pending - 1);
      } else if (b < 0x80) {
        n.pending = 0;
      } else if (b >= 0xC2 && b <= 0xDF) {
        n.pending = 1;
      } else if (b >= 0xE0 && b <= 0xEF) {
        n.pending = 2;
        if (b == 0xE0) range = {0xA0, 0xBF};
        if (b == 0xED) range = {0x80, 0x9F};
      } else if (b >= 0xF0 && b <= 0xF4) {
        n.pending = 3;
        if (b == 0xF0) range = {0x90, 0xBF};
        if (b == 0xF4) range = {0x80, 0x8F};
      } else {
        ok = false;
      }
      n.utf8_ok = ok ? 1 : 0;
      n.path_utf8 = n.utf8_ok;
      n.path_starts = uint16_t(std::min<uint32_t>(parent.path_starts + ((b < 0x80 || b >= 0xC0) ? 1u : 0u), 65535));
      next_range.push_back(range);
      path.push_back(uint32_t(nodes.size()));
      nodes.push_back(n);
    }
    ++nodes[path.back()].n_here;
    t->starts_.push_back(nodes[path.back()].path_starts);
    prev = s;
  }
  while (!path.empty()) {
    close(path.back(), uint32_t(t->sorted_.size()));
    path.pop_back();
  }
  // Bytes below each node and the UTF-8 summary, bottom-up (children come after their parent).
  std::vector<ByteSet> below(nodes.size());
  for (size_t i = nodes.size(); i-- > 0;) {
    uint32_t starts = 0;
    for (uint32_t c = uint32_t(i) + 1; c < nodes[i].subtree_end; c = nodes[c].subtree_end) {
      below[i].add(nodes[c].byte);
      for (int w = 0; w < 4; ++w) below[i].w[w] |= below[c].w[w];
      if (!nodes[c].utf8_ok) nodes[i].utf8_ok = 0;
      const bool start = nodes[c].byte < 0x80 || nodes[c].byte >= 0xC0;
      starts = std::max<uint32_t>(starts, nodes[c].max_starts + (start ? 1u : 0u));
    }
    nodes[i].max_starts = uint16_t(std::min<uint32_t>(starts, 65535));
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
  projected_.push_back(kDead);
  char_next_.push_back(-1);
  char_ascii_.push_back(ByteSet{});
  chain_len_.push_back(0);
  chain_open_.push_back(0);
  chain_end_.push_back(kDead);
  chain_accept_.push_back(0);
  stop_known_.push_back(0);
  stop_ascii_.push_back(ByteSet{});
  stop_leads_.push_back(0);
  chain_ascii_.push_back(ByteSet{});
  // Byte classes: refine the partition of 0..255 by every byte set of the grammar.
  {
    std::vector<int> cls(256, 0), remap;
    int n_classes = 1;
    for (const ByteSet& set : grammar_->byte_sets) {
      remap.assign(size_t(n_classes) * 2, -1);
      int next = 0;
      for (int b = 0; b < 256; ++b) {
        int& r = remap[size_t(cls[size_t(b)]) * 2 + (set.has(uint8_t(b)) ? 1 : 0)];
        if (r < 0) r = next++;
        cls[size_t(b)] = r;
      }
      n_classes = next;
    }
    class_bytes_.assign(size_t(n_classes), {});
    for (int b = 0; b < 256; ++b) {
      byte_class_[b] = uint8_t(cls[size_t(b)]);
      class_bytes_[size_t(cls[size_t(b)])].push_back(uint8_t(b));
    }
  }
  work_.clear();
  for (uint32_t a : grammar_->rule_alts[grammar_->root]) work_.push_back({a, -1});
  Result<int32_t> s = close_and_intern();
  initial_ = s.is_ok() ? *s : kDead;  // the root's expansion is bounded by the grammar's size
  (void)prewarm();  // only fails on the state limit, which a later fill_mask reports
}

Status GrammarEngine::prewarm() {
  std::lock_guard<std::mutex> lock(mu_);
  const std::vector<uint64_t>* bits = nullptr;
  return cached_mask(initial_, &bits);
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
  return intern_state(accept);
}

Result<int32_t> GrammarEngine::intern_state(bool accept) {
  if (!accept && out_.empty()) return kDead;
  std::string key(1 + out_.size() * sizeof(int32_t), '\0');
  key[0] = accept ? 1 : 0;
  if (!out_.empty()) std::memcpy(&key[1], out_.data(), out_.size() * sizeof(int32_t));
  auto found = state_ids_.find(key);
  if (found != state_ids_.end()) return found->second;
  if (states_.size() >= kMaxStates)
    return Status::resource_exhausted("grammar: more than " + std::to_string(kMaxStates) + " parser states");
  const int32_t id = int32_t(states_.size());
  state_ids_.emplace(std::move(key), id);
  states_.push_back(State{out_, accept});
  trans_.resize(trans_.size() + 256, -1);
  loop_known_.push_back(0);
  loop_.push_back(ByteSet{});
  projected_.push_back(-1);
  char_next_.push_back(-2);
  char_ascii_.push_back(ByteSet{});
  chain_len_.push_back(kChainUnknown);
  chain_open_.push_back(0);
  chain_end_.push_back(-1);
  chain_accept_.push_back(1);
  stop_known_.push_back(0);
  stop_ascii_.push_back(ByteSet{});
  stop_leads_.push_back(0);
  chain_ascii_.push_back(ByteSet{});
  return id;
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
  int32_t* row = &trans_[size_t(state) * 256];
  for (uint8_t b : class_bytes_[byte_class_[byte]]) row[b] = t;
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

Result<int32_t> GrammarEngine::project(int32_t state) {
  if (projected_[size_t(state)] >= 0) return projected_[size_t(state)];
  std::vector<int32_t> stacks;
  uint32_t chain[kProjectDepth];
  for (int32_t s : states_[size_t(state)].stacks) {
    int k = 0;
    for (int32_t n = s; n >= 0 && k < kProjectDepth; n = nodes_[size_t(n)].parent) chain[k++] = nodes_[size_t(n)].pos;
    int32_t parent = -1;
    while (k-- > 0) parent = intern_node(chain[k], parent);
    stacks.push_back(parent);
  }
  std::sort(stacks.begin(), stacks.end());
  stacks.erase(std::unique(stacks.begin(), stacks.end()), stacks.end());
  out_ = std::move(stacks);
  Result<int32_t> p = intern_state(/*accept=*/false);
  if (!p.is_ok()) return p.status();
  projected_[size_t(state)] = *p;
  return *p;
}

namespace {
// Well-formed UTF-8 characters of two to four bytes: lead byte range, then continuation ranges.
struct Utf8Form {
  uint8_t lead_lo, lead_hi;
  int n_cont;
  uint8_t cont[3][2];
};
constexpr Utf8Form kUtf8Forms[] = {
    {0xC2, 0xDF, 1, {{0x80, 0xBF}}},
    {0xE0, 0xE0, 2, {{0xA0, 0xBF}, {0x80, 0xBF}}},
    {0xE1, 0xEC, 2, {{0x80, 0xBF}, {0x80, 0xBF}}},
    {0xED, 0xED, 2, {{0x80, 0x9F}, {0x80, 0xBF}}},
    {0xEE, 0xEF, 2, {{0x80, 0xBF}, {0x80, 0xBF}}},
    {0xF0, 0xF0, 3, {{0x90, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}}},
    {0xF1, 0xF3, 3, {{0x80, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}}},
    {0xF4, 0xF4, 3, {{0x80, 0x8F}, {0x80, 0xBF}, {0x80, 0xBF}}},
};
constexpr size_t kMaxCharFrontier = 16;  // distinct states inside a character before giving up
}  // namespace

int32_t GrammarEngine::char_next(int32_t state) {
  if (char_next_[size_t(state)] != -2) return char_next_[size_t(state)];
  // The states reached after each byte of every well-formed character, deduplicated; all must be
  // alive and every complete character must land on one state.
  int32_t target = -1;
  bool ok = true;
  std::vector<int32_t> frontier, next_frontier;
  auto step = [&](int32_t from, uint8_t lo, uint8_t hi) {
    for (unsigned b = lo; ok && b <= hi; ++b) {
      Result<int32_t> t = next_locked(from, uint8_t(b));
      if (!t.is_ok() || *t == kDead) { ok = false; break; }
      if (std::find(next_frontier.begin(), next_frontier.end(), *t) == next_frontier.end()) next_frontier.push_back(*t);
      if (next_frontier.size() > kMaxCharFrontier) ok = false;
    }
  };
  for (const Utf8Form& f : kUtf8Forms) {
    if (!ok) break;
    next_frontier.clear();
    step(state, f.lead_lo, f.lead_hi);
    for (int i = 0; ok && i < f.n_cont; ++i) {
      frontier.swap(next_frontier);
      next_frontier.clear();
      for (int32_t s : frontier) if (ok) step(s, f.cont[i][0], f.cont[i][1]);
    }
    for (int32_t s : next_frontier) {
      if (target < 0) target = s;
      else if (s != target) ok = false;
    }
  }
  ByteSet ascii;
  if (ok) {
    for (unsigned b = 0; b < 0x80; ++b) {
      Result<int32_t> t = next_locked(state, uint8_t(b));
      if (t.is_ok() && *t == target) ascii.add(uint8_t(b));
    }
  }
  // next_locked may have added states (and grown the per-state vectors): index afresh.
  char_next_[size_t(state)] = ok ? target : -1;
  char_ascii_[size_t(state)] = ascii;
  return char_next_[size_t(state)];
}

GrammarEngine::RunAnswer GrammarEngine::text_run(int32_t state, uint32_t chars, const ByteSet& ascii, bool projected,
                                                 uint32_t* limit, bool explore) {
  const uint32_t known = chain_len_[size_t(state)];
  if (known == kChainUnknown ||
      (explore && chars > known && known != kChainLoop && chain_open_[size_t(state)] && known < kChainMax))
    extend_chain(state, std::min<uint32_t>(std::max<uint32_t>(chars, uint32_t(kChainExplore)), uint32_t(kChainMax)));
  const uint32_t len = chain_len_[size_t(state)];
  if (!subset(ascii, chain_ascii_[size_t(state)])) return kRunUnknown;
  if (chars <= len) return kRunAll;
  // The chain ends after len steps: a token with more characters is rejected when its next
  // character (an ASCII byte of the subtree or a lead byte) leads nowhere from the end.
  const int32_t end = chain_end_[size_t(state)];
  if (chain_open_[size_t(state)] || len == kChainLoop || end < 0) return kRunUnknown;
  // From a projected state a byte that leads nowhere after the cut was reached may be allowed
  // by the real state: only chains that never reach a cut answer by count there.
  if (projected && chain_accept_[size_t(state)]) return kRunUnknown;
  if (!text_stops(end, ascii)) return kRunUnknown;
  *limit = len;
  return kRunUpTo;
}

bool GrammarEngine::text_stops(int32_t state, const ByteSet& ascii) {
  if (!stop_known_[size_t(state)]) {
    ByteSet dead;
    bool leads_dead = true;
    for (unsigned b = 0; b < 0x80; ++b) {
      Result<int32_t> t = next_locked(state, uint8_t(b));
      if (t.is_ok() && *t == kDead) dead.add(uint8_t(b));
    }
    for (unsigned b = 0xC2; b <= 0xF4 && leads_dead; ++b) {
      Result<int32_t> t = next_locked(state, uint8_t(b));
      leads_dead = t.is_ok() && *t == kDead;
    }
    // next_locked may have added states: index afresh.
    stop_ascii_[size_t(state)] = dead;
    stop_leads_[size_t(state)] = leads_dead ? 1 : 0;
    stop_known_[size_t(state)] = 1;
  }
  return stop_leads_[size_t(state)] && subset(ascii, stop_ascii_[size_t(state)]);
}

void GrammarEngine::extend_chain(int32_t state, uint32_t want) {
  // Follow the chain of character steps from `state` (steps known from earlier queries are
  // looked up, new ones computed) until `want` steps, its end, a cycle, or a state whose known
  // chain covers the rest; then fill in length and ASCII set backwards.
  std::vector<int32_t> chain;
  int32_t s = state;
  uint32_t len = 0;
  bool open = false;
  int32_t end = -1;
  bool acc = true;  // some state from here to the end accepts (a projection's cut)
  ByteSet all;
  for (int w = 0; w < 4; ++w) all.w[w] = ~uint64_t(0);
  while (true) {
    const uint32_t k = chain_len_[size_t(s)];
    if (k != kChainUnknown && s != state &&
        (k == kChainLoop || !chain_open_[size_t(s)] || uint64_t(k) + chain.size() >= want)) {
      len = k;
      open = k != kChainLoop && chain_open_[size_t(s)];
      end = chain_end_[size_t(s)];
      acc = chain_accept_[size_t(s)] != 0;
      all = chain_ascii_[size_t(s)];
      break;
    }
    if (chain.size() >= want) {  // explored far enough: the rest is unknown
      len = 0;
      open = true;
      break;
    }
    const int32_t t = char_next(s);
    if (t < 0) {  // no character step from s: the chain ends here
      chain_len_[size_t(s)] = 0;
      chain_open_[size_t(s)] = 0;
      chain_end_[size_t(s)] = s;
      chain_ascii_[size_t(s)] = all;
      acc = states_[size_t(s)].accept;
      chain_accept_[size_t(s)] = acc ? 1 : 0;
      len = 0;
      end = s;
      break;
    }
    chain.push_back(s);
    if (t == s || std::find(chain.begin(), chain.end(), t) != chain.end()) {
      len = kChainLoop;
      // Every state on the cycle (and before it) steps forever: intersect all their sets.
      for (int32_t c : chain) for (int w = 0; w < 4; ++w) all.w[w] &= char_ascii_[size_t(c)].w[w];
      for (int32_t c : chain) {
        chain_len_[size_t(c)] = kChainLoop;
        chain_open_[size_t(c)] = 0;
        chain_end_[size_t(c)] = -1;
        chain_accept_[size_t(c)] = 1;
        chain_ascii_[size_t(c)] = all;
      }
      return;
    }
    s = t;
  }
  for (size_t i = chain.size(); i-- > 0;) {
    const int32_t c = chain[i];
    if (len != kChainLoop) len = std::min<uint32_t>(len + 1, kChainLoop - 1);
    for (int w = 0; w < 4; ++w) all.w[w] &= char_ascii_[size_t(c)].w[w];
    chain_len_[size_t(c)] = len;
    chain_open_[size_t(c)] = open ? 1 : 0;
    chain_end_[size_t(c)] = open || len == kChainLoop ? -1 : end;
    acc = acc || states_[size_t(c)].accept;
    chain_accept_[size_t(c)] = acc ? 1 : 0;
    chain_ascii_[size_t(c)] = all;
  }
}

const std::vector<uint64_t>& GrammarEngine::text_tokens(const ByteSet& ascii, uint32_t limit) {
  TextTable* table = nullptr;
  for (TextTable& t : text_tables_)
    if (std::memcmp(t.ascii.w, ascii.w, sizeof ascii.w) == 0) table = &t;
  const TokenTrie& trie = *trie_;
  if (!table) {
    // One pass over the trie: a token is text when its path is well-formed UTF-8 and its ASCII
    // bytes are all in `ascii`; a subtree below a byte that is not is skipped.
    // Bounded memory: a grammar has a few distinct character sets (one per kind of string).
    if (text_tables_.size() >= kMaxTextTables) text_tables_.clear();
    TextTable t;
    t.ascii = ascii;
    t.starts.assign(size_t(trie.n_vocab()), 0xFFFF);
    const auto& nodes = trie.nodes();
    const TokenId* sorted = trie.sorted().data();
    for (uint32_t i = 1; i < nodes.size();) {
      const TokenTrie::Node& n = nodes[i];
      if (!n.path_utf8 || (n.byte < 0x80 && !ascii.has(n.byte))) {
        i = n.subtree_end;
        continue;
      }
      for (uint32_t k = n.tok_begin; k < n.tok_begin + n.n_here; ++k) t.starts[size_t(sorted[k])] = n.path_starts;
      ++i;
    }
    text_tables_.push_back(std::move(t));
    table = &text_tables_.back();
  }
  auto it = table->by_limit.find(limit);
  if (it == table->by_limit.end()) {
    std::vector<uint64_t> bits((size_t(trie.n_vocab()) + 63) / 64, 0);
    const uint16_t* st = table->starts.data();
    for (size_t id = 0; id < table->starts.size(); ++id)
      if (st[id] <= limit) bits[id >> 6] |= uint64_t(1) << (id & 63);
    it = table->by_limit.emplace(limit, std::move(bits)).first;
  }
  return it->second;
}

bool GrammarEngine::text_skip_for(int32_t state, bool projected, TextSkip* skip) {
  if (state == kDead) return false;
  ByteSet none;
  uint32_t limit = 0;
  const RunAnswer r = text_run(state, uint32_t(kChainMax), none, projected, &limit);
  const uint32_t len = chain_len_[size_t(state)];
  if (r == kRunUnknown && len == 0) return false;
  skip->ascii = chain_ascii_[size_t(state)];
  skip->ascii.w[2] = skip->ascii.w[3] = 0;
  if (r == kRunAll) {
    skip->limit = uint32_t(kChainMax);
    skip->exact = false;
  } else {
    skip->limit = std::min<uint32_t>(len, uint32_t(kChainMax));
    // Exact only where the chain's end takes no character of the text: check with the full set.
    skip->exact = r == kRunUpTo && text_run(state, uint32_t(kChainMax), skip->ascii, projected, &limit) == kRunUpTo;
  }
  // No character step: nothing to share (and the text table would cost a pass over the trie).
  return skip->limit > 0;
}

Status GrammarEngine::walk(uint32_t node, uint32_t depth, int32_t state, int32_t char_home, std::vector<uint64_t>& bits,
                           std::vector<std::pair<uint32_t, uint32_t>>* boundary, const TextSkip* skip, bool in_text) {
  const TokenTrie::Node* nodes = trie_->nodes().data();
  const TokenId* sorted = trie_->sorted().data();
  uint64_t* out = bits.data();
  auto mark = [&](uint32_t from, uint32_t to) {
    for (uint32_t k = from; k < to; ++k) {
      const uint32_t id = uint32_t(sorted[k]);
      out[id >> 6] |= uint64_t(1) << (id & 63);
    }
  };
  const uint32_t end = nodes[node].subtree_end;
  // The state before the character that the children's bytes belong to.
  const int32_t home = nodes[node].pending == 0 ? state : char_home;
  for (uint32_t c = node + 1; c < end; c = nodes[c].subtree_end) {
    const TokenTrie::Node& n = nodes[c];
    ++counters_.walk_children;
    // Text from the root all the way: decided by the shared text part (text_tokens).
    const bool child_in_text = in_text && (n.byte >= 0x80 || skip->ascii.has(n.byte));
    if (child_in_text && n.utf8_ok) {
      ByteSet below = trie_->below(c);
      below.w[2] = below.w[3] = 0;
      if (subset(below, skip->ascii) && (skip->exact || uint32_t(n.path_starts) + n.max_starts <= skip->limit)) continue;
    }
    int32_t t = trans_[size_t(state) * 256 + n.byte];
    if (t < 0) {
      Result<int32_t> r = next_locked(state, n.byte);
      if (!r.is_ok()) return r.status();
      t = *r;
    }
    if (t == kDead) continue;
    if (boundary && states_[size_t(t)].accept) {
      // A stack reached the projection's cut: longer tokens depend on what lies below it.
      mark(n.tok_begin, n.tok_begin + n.n_here);
      if (n.subtree_end > c + 1) boundary->push_back({c, depth + 1});
      continue;
    }
    if (n.tok_end - n.tok_begin >= kLoopShortcutMinTokens) {
      ByteSet loop;
      PM_RETURN_IF_ERROR(loop_bytes(t, loop));
      if (subset(trie_->below(c), loop)) {
        mark(n.tok_begin, n.tok_end);
        continue;
      }
    }
    // Text: every token below is well-formed UTF-8 whose characters the grammar takes one step
    // at a time (a string body, bounded or not). The character in progress at c completes to
    // char_next(home) whatever its remaining bytes are. Where the steps run out (maxLength), the
    // tokens with few enough characters are picked from the per-token character counts.
    if (n.utf8_ok && n.subtree_end > c + 1) {
      const int32_t start = n.pending == 0 ? t : char_next(home);
      ByteSet ascii = trie_->below(c);
      ascii.w[2] = ascii.w[3] = 0;
      uint32_t limit = 0;
      // Exploring a chain builds about 20 states per character; a subtree of a few (long) tokens
      // is cheaper to walk.
      const bool explore = n.tok_end - n.tok_begin >= kLoopShortcutMinTokens;
      const RunAnswer r = start >= 0 ? text_run(start, n.max_starts, ascii, boundary != nullptr, &limit, explore) : kRunUnknown;
      if (r == kRunAll) {
        mark(n.tok_begin, n.tok_end);
        continue;
      }
      if (r == kRunUpTo) {
        const uint16_t* starts = trie_->starts().data();
        const uint32_t most = uint32_t(n.path_starts) + limit;
        for (uint32_t k = n.tok_begin; k < n.tok_end; ++k) {
          if (starts[k] <= most) {
            const uint32_t id = uint32_t(sorted[k]);
            out[id >> 6] |= uint64_t(1) << (id & 63);
          }
        }
        continue;
      }
    }
    mark(n.tok_begin, n.tok_begin + n.n_here);
    if (n.subtree_end > c + 1) PM_RETURN_IF_ERROR(walk(c, depth + 1, t, home, bits, boundary, skip, child_in_text));
  }
  return Status::ok();
}

Status GrammarEngine::compute_mask_reference(int32_t state, std::vector<uint64_t>& bits) {
  bits.assign((size_t(trie_->n_vocab()) + 63) / 64, 0);
  if (state == kDead) return Status::ok();
  PM_RETURN_IF_ERROR(walk(0, 0, state, state, bits, nullptr));
  if (states_[size_t(state)].accept)
    for (TokenId id : trie_->eog()) bits[size_t(id) >> 6] |= uint64_t(1) << (id & 63);
  return Status::ok();
}

void GrammarEngine::reserve_cache(size_t bytes) {
  if (mask_bytes_ + bytes > kMaskCacheBytes) {
    masks_.clear();
    projected_masks_.clear();
    mask_bytes_ = 0;
  }
  mask_bytes_ += bytes;
}

Status GrammarEngine::compute_mask(int32_t state, std::vector<uint64_t>& bits) {
  const size_t n_words = (size_t(trie_->n_vocab()) + 63) / 64;
  if (state == kDead) {
    bits.assign(n_words, 0);
    return Status::ok();
  }
  Result<int32_t> p = project(state);
  if (!p.is_ok()) return p.status();
  auto it = projected_masks_.find(*p);
  if (it == projected_masks_.end()) {
    ProjectedMask pm;
    ++counters_.projected_walks;
    pm.bits.assign(n_words, 0);
    TextSkip skip;
    if (text_skip_for(*p, /*projected=*/true, &skip)) {
      pm.bits = text_tokens(skip.ascii, skip.limit);
      PM_RETURN_IF_ERROR(walk(0, 0, *p, *p, pm.bits, &pm.boundary, &skip, true));
    } else {
      PM_RETURN_IF_ERROR(walk(0, 0, *p, *p, pm.bits, &pm.boundary));
    }
    reserve_cache(n_words * 8 + pm.boundary.size() * 8);
    it = projected_masks_.emplace(*p, std::move(pm)).first;
  }
  bits = it->second.bits;
  // Boundary subtrees: follow the node's prefix from the real state, then walk below it.
  const auto& nodes = trie_->nodes();
  for (const auto& [node, depth] : it->second.boundary) {
    const std::string& piece = trie_->piece(trie_->sorted()[nodes[node].tok_begin]);
    int32_t s = state, home = state;
    for (uint32_t i = 0; i < depth && s != kDead; ++i) {
      const uint8_t b = uint8_t(piece[i]);
      if (b < 0x80 || b >= 0xC0) home = s;  // a character starts here
      Result<int32_t> r = next_locked(s, b);
      if (!r.is_ok()) return r.status();
      s = *r;
    }
    if (s != kDead) {
      ++counters_.boundary_walks;
      PM_RETURN_IF_ERROR(walk(node, depth, s, home, bits, nullptr));
    }
  }
  if (states_[size_t(state)].accept)
    for (TokenId id : trie_->eog()) bits[size_t(id) >> 6] |= uint64_t(1) << (id & 63);
  return Status::ok();
}

Status GrammarEngine::cached_mask(int32_t state, const std::vector<uint64_t>** out) {
  auto it = masks_.find(state);
  if (it != masks_.end()) ++counters_.mask_hits;
  if (it == masks_.end()) {
    ++counters_.mask_misses;
    std::vector<uint64_t> bits;
    PM_RETURN_IF_ERROR(compute_mask(state, bits));
    reserve_cache(bits.size() * 8);
    it = masks_.emplace(state, std::move(bits)).first;
  }
  *out = &it->second;
  return Status::ok();
}

void GrammarEngine::copy_out(const std::vector<uint64_t>& bits, uint8_t* allowed) const {
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
}

Status GrammarEngine::fill_mask(int32_t state, uint8_t* allowed) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::vector<uint64_t>* bits = nullptr;
  PM_RETURN_IF_ERROR(cached_mask(state, &bits));
  copy_out(*bits, allowed);
  return Status::ok();
}

Status GrammarEngine::fill_mask_reference(int32_t state, uint8_t* allowed) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> bits;
  PM_RETURN_IF_ERROR(compute_mask_reference(state, bits));
  copy_out(bits, allowed);
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
