// Running a grammar (grammar.h) over bytes and computing which tokens of a vocabulary may come
// next.
//
// Parse state. A parse is a stack of positions in the rule table: the top is the next byte set to
// match, the entries below are where to continue when the rule above finishes. Stacks are stored
// as interned linked nodes (position, parent) so equal stacks are one id, and a call in tail
// position reuses its caller's continuation (repetition does not grow the stack). The matcher's
// state is the set of all stacks the input so far can be in, plus an "accepting" flag (some parse
// has finished the start rule). These sets are interned as the states of a DFA built lazily: the
// transition of a state on a byte is computed once and kept in a 256-entry row.
//
// Token masks. TokenTrie holds the vocabulary's token strings as a byte trie in depth-first
// order (tokens sorted by bytes, so every subtree is one contiguous run of tokens). A mask walks
// the trie from the current state, following DFA transitions and pruning a subtree as soon as its
// prefix is rejected. A subtree whose remaining bytes all loop back to the state reached (the body
// of a string, a run of digits) is accepted whole without walking it. Tokens that cross terminals
// ("\"}," or "\":") and tokens that end inside a UTF-8 character are handled by construction:
// everything is bytes.
//
// Mask caches, two levels:
// - Context-independent part, per *projected* state. Most tokens are decided by the top few
//   entries of the parse stacks alone (inside a string: the character rule and the closing quote),
//   not by what lies below (which property, which nesting level). The projection of a state keeps
//   the top kProjectDepth entries of each stack and cuts the rest (the cut acts as "end of input").
//   A walk from the projected state decides every token whose bytes never reach a cut; where a cut
//   is reached after a prefix (the projected state accepts there: `"` closing a string), the
//   subtree below that trie node is a *boundary*, to be walked from the real state. Every string
//   value of a schema shares one projected state, so the walk over a 150k vocabulary (mostly
//   string-safe tokens) is done once per grammar, not once per property.
// - Full mask per DFA state: the projected bits plus the boundary subtrees walked from the real
//   state (a few hundred tokens), so a state seen before costs a copy.
// - Whole subtrees of text: where every token below a trie node is well-formed UTF-8 and the
//   state takes any character one step at a time (char_next) for as many characters as the
//   subtree's tokens hold, the subtree is accepted without walking it. This covers a string body
//   over a vocabulary full of multi-byte Chinese tokens, bounded by maxLength or not.
// - Bounded text by count. A string bounded by maxLength is one parser state per remaining
//   length. Where the chain of character steps ends after R characters in a state that takes no
//   further character, a subtree of text holds exactly its tokens of at most R characters
//   (TokenTrie::starts), decided without a walk.
// - Shared text part. From a state whose chain reaches 64 characters (or cycles), or ends after
//   R as above, the text tokens of at most 64 (or R) characters are one cached bit set per
//   (ASCII bytes allowed, limit); the projected walk ORs it in and skips every subtree of text
//   under a path of text from the root, visiting only tokens that leave the text (`"`, `\`).
// - Byte classes: bytes that every byte set of the grammar treats alike have one transition, so
//   a DFA row is filled a class at a time (the 64 continuation bytes of UTF-8 are a few classes).
// fill_mask_reference() keeps the walk from the real state without the caches, for tests.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/status.h"
#include "generate/grammar/grammar.h"

namespace pm {

class Tokenizer;
using TokenId = int32_t;

// The vocabulary as a byte trie, built once per tokenizer and shared by all grammars over it.
class TokenTrie {
 public:
  // pieces[id]: the bytes token id stands for ("" = never produced under a grammar, e.g. control
  // tokens); eog: end-of-generation tokens, allowed only where the grammar may end.
  static std::shared_ptr<const TokenTrie> build(std::vector<std::string> pieces, std::vector<TokenId> eog);
  static std::shared_ptr<const TokenTrie> build(const Tokenizer& tokenizer);

  int32_t n_vocab() const { return int32_t(pieces_.size()); }
  const std::string& piece(TokenId id) const { return pieces_[size_t(id)]; }
  bool is_eog(TokenId id) const;
  const std::vector<TokenId>& eog() const { return eog_; }
  size_t n_nodes() const { return nodes_.size(); }

  // Node i in depth-first preorder; node 0 is the root (empty prefix). The children of i are
  // i + 1, then subtree_end of each child in turn, up to subtree_end of i.
  struct Node {
    uint32_t subtree_end = 0;  // one past the last node below this one
    uint32_t tok_begin = 0;    // tokens (indices into sorted_) of this subtree: [tok_begin, tok_end)
    uint32_t tok_end = 0;
    uint32_t n_here = 0;       // the first n_here of them end exactly at this node
    uint32_t below = 0;        // index into below_sets_: bytes on the edges under this node
    uint8_t byte = 0;          // label of the edge from the parent
    // UTF-8 shape, for accepting whole subtrees of text in one step (GrammarEngine::walk):
    uint8_t pending = 0;       // continuation bytes still owed by the character in progress here
    uint8_t utf8_ok = 0;       // 1: the path to here and every token below are well-formed UTF-8
                               // (a token may end inside a character)
    uint16_t max_starts = 0;   // most character starts on any path below (saturates at 65535)
    uint16_t path_starts = 0;  // character starts on the path to here, this node's byte included
    uint8_t path_utf8 = 0;     // 1: the path to here is well-formed UTF-8 (may end inside a character)
  };
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<TokenId>& sorted() const { return sorted_; }  // token ids in trie order
  const ByteSet& below(uint32_t node) const { return below_sets_[nodes_[node].below]; }
  // Character starts of each token in trie order (ASCII bytes and UTF-8 lead bytes; saturates).
  const std::vector<uint16_t>& starts() const { return starts_; }

 private:
  std::vector<std::string> pieces_;  // [n_vocab]
  std::vector<TokenId> eog_;         // sorted
  std::vector<Node> nodes_;          // [n_nodes], preorder
  std::vector<TokenId> sorted_;      // [tokens with a non-empty piece], sorted by piece
  std::vector<ByteSet> below_sets_;  // distinct subtree byte sets
  std::vector<uint16_t> starts_;     // [tokens in trie order]
};

// A grammar bound to a vocabulary: the lazily built DFA and the per-state mask cache. Shared by
// every matcher over the same grammar and vocabulary (so compile once, reuse across requests);
// safe to use from several threads (one lock around the caches).
class GrammarEngine {
 public:
  GrammarEngine(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTrie> trie);

  const Grammar& grammar() const { return *grammar_; }
  const TokenTrie& trie() const { return *trie_; }

  // DFA state ids: kDead (0) rejects everything.
  static constexpr int32_t kDead = 0;
  int32_t initial_state() const { return initial_; }
  // The state after one more byte (kDead when the byte is not allowed). Fails only when the
  // state limit is hit (a pathological grammar).
  Result<int32_t> next(int32_t state, uint8_t byte);
  bool accepting(int32_t state);     // the input so far is a complete sentence
  bool can_continue(int32_t state);  // some byte may follow

  // allowed[n_vocab]: 1 for tokens that may come next in `state` (end-of-generation tokens only
  // when accepting), else 0.
  Status fill_mask(int32_t state, uint8_t* allowed);

  size_t n_states() const { return states_.size(); }

  // Counters for benchmarks (which masks were cached, how much walking the misses cost).
  struct Counters {
    uint64_t mask_hits = 0;        // fill_mask served from the per-state cache
    uint64_t mask_misses = 0;      // computed afresh
    uint64_t projected_walks = 0;  // context-independent parts walked (a new projected state)
    uint64_t boundary_walks = 0;   // boundary subtrees walked from a real state
    uint64_t walk_children = 0;    // trie edges followed by all walks
  };
  Counters counters() {
    std::lock_guard<std::mutex> lock(mu_);
    return counters_;
  }

  // The same mask by a walk from the real state that bypasses both mask caches and the
  // projection (it still takes the whole-subtree shortcuts); a reference for tests, which also
  // check against feeding every token's bytes.
  Status fill_mask_reference(int32_t state, uint8_t* allowed);
  // Computes and caches the masks of the start state (done by the constructor; a compiled grammar
  // in GrammarCache is warm for its first token).
  Status prewarm();

  // Limits on the lazily built automaton (bounded memory for any grammar).
  static constexpr size_t kMaxStates = 1u << 16;
  static constexpr size_t kMaxStackNodes = 1u << 22;
  static constexpr size_t kMaskCacheBytes = size_t(64) << 20;
  // Stack entries kept by the projection (see the file comment). 3 keeps a JSON string's
  // character rule, its repetition and the closing quote.
  static constexpr int kProjectDepth = 3;

 private:
  struct State {
    std::vector<int32_t> stacks;  // sorted stack node ids
    bool accept = false;
  };
  struct StackNode {
    uint32_t pos;    // position in grammar.elems (a kBytes element on the top of a normalized stack)
    int32_t parent;  // -1 = bottom
  };

  // Context-independent part of the masks of every state with this projection.
  struct ProjectedMask {
    std::vector<uint64_t> bits;  // [ceil(n_vocab / 64)] tokens decided as allowed
    // Trie nodes (with their depth in bytes) below which tokens reach a cut: walked per state.
    std::vector<std::pair<uint32_t, uint32_t>> boundary;
  };

  int32_t intern_node(uint32_t pos, int32_t parent);
  // Expands work_ (raw stacks) to normalized stacks; returns the interned state or an error.
  Result<int32_t> close_and_intern();
  Result<int32_t> intern_state(bool accept);  // interns out_ (sorted stack ids)
  Result<int32_t> next_locked(int32_t state, uint8_t byte);
  Result<int32_t> project(int32_t state);
  Status loop_bytes(int32_t state, ByteSet& out);
  // Character steps: char_next(s) is the single state every well-formed UTF-8 character of two
  // to four bytes leads to from s (every byte on the way allowed), or -1 if there is none;
  // char_ascii_[s] the ASCII bytes that lead there too.
  int32_t char_next(int32_t state);
  // True when every string of at most `chars` characters, each ASCII from `ascii` or multi-byte,
  // and every prefix of one, is allowed from `state`. Uses the chain of character steps from
  // the state: its length (kChainLoop when it cycles) and the ASCII bytes every step takes.
  // Answers for a subtree of text tokens (see walk): kRunAll: every token is allowed;
  // kRunUpTo: exactly the tokens with at most *limit characters (below the subtree's node) are
  // (the chain ends after *limit steps in a state that takes no text character);
  // kRunUnknown: the subtree must be walked.
  enum RunAnswer { kRunUnknown, kRunAll, kRunUpTo };
  // explore: follow the chain further than known (else answer from what is known, exploring
  // only a state never explored).
  RunAnswer text_run(int32_t state, uint32_t chars, const ByteSet& ascii, bool projected, uint32_t* limit,
                     bool explore = true);
  bool text_stops(int32_t state, const ByteSet& ascii);
  // Marks the allowed tokens below trie node `node` reached in `state`. With `boundary` (a walk
  // from a projected state), a child whose state accepts is recorded there instead of descended.
  // Text part of a mask shared by many states (bounded strings: one state per remaining length).
  // From a state whose chain of character steps is at least `limit` long, every token that is
  // text (well-formed UTF-8, its ASCII bytes in `ascii`) of at most `limit` characters is allowed;
  // with `exact` (the chain ends there and takes no further character) no longer text token is.
  // The walk then skips every subtree of such text below a path of text from the root.
  struct TextSkip {
    ByteSet ascii;
    uint32_t limit = 0;
    bool exact = false;
  };
  // The text tokens (as above) of at most `limit` characters, cached per (ascii, limit).
  const std::vector<uint64_t>& text_tokens(const ByteSet& ascii, uint32_t limit);
  bool text_skip_for(int32_t state, bool projected, TextSkip* skip);
  Status walk(uint32_t node, uint32_t depth, int32_t state, int32_t char_home, std::vector<uint64_t>& bits,
              std::vector<std::pair<uint32_t, uint32_t>>* boundary, const TextSkip* skip = nullptr,
              bool in_text = false);
  Status compute_mask(int32_t state, std::vector<uint64_t>& bits);
  Status compute_mask_reference(int32_t state, std::vector<uint64_t>& bits);
  Status cached_mask(int32_t state, const std::vector<uint64_t>** bits);
  void reserve_cache(size_t bytes);
  void copy_out(const std::vector<uint64_t>& bits, uint8_t* allowed) const;

  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const TokenTrie> trie_;
  std::mutex mu_;
  std::vector<StackNode> nodes_;
  std::unordered_map<uint64_t, int32_t> node_ids_;
  std::vector<State> states_;
  std::unordered_map<std::string, int32_t> state_ids_;
  std::vector<int32_t> trans_;           // [n_states][256]; -1 = not computed yet
  std::vector<int8_t> loop_known_;       // [n_states]
  std::vector<ByteSet> loop_;            // [n_states] bytes that lead back to the same state
  std::vector<int32_t> char_next_;       // [n_states]; -2 = not computed yet
  std::vector<ByteSet> char_ascii_;      // [n_states]
  static constexpr uint32_t kChainUnknown = 0xFFFFFFFFu, kChainLoop = 0xFFFFFFFEu;
  // A chain is explored at least kChainExplore steps ahead, and further (up to kChainMax) when a
  // subtree of longer tokens asks; a subtree of tokens longer than that is walked.
  static constexpr size_t kChainExplore = 12;
  static constexpr size_t kChainMax = 64;
  void extend_chain(int32_t state, uint32_t want);
  std::vector<uint32_t> chain_len_;      // [n_states] character steps possible in a row
  std::vector<uint8_t> chain_open_;      // [n_states] 1: chain_len_ is a lower bound (not explored further)
  std::vector<int32_t> chain_end_;       // [n_states] where an explored chain ends (-1 = open or a cycle)
  std::vector<uint8_t> chain_accept_;    // [n_states] 1: a state from here to chain_end_ accepts
  struct TextTable {
    ByteSet ascii;
    std::vector<uint16_t> starts;  // [n_vocab] characters of each text token; 0xFFFF: not text
    std::unordered_map<uint32_t, std::vector<uint64_t>> by_limit;  // limit -> [ceil(n_vocab / 64)] bits
  };
  static constexpr size_t kMaxTextTables = 8;  // each: 2 bytes per token + up to kChainMax + 1 bit sets
  std::vector<TextTable> text_tables_;
  std::vector<int8_t> stop_known_;       // [n_states]
  std::vector<ByteSet> stop_ascii_;      // [n_states] ASCII bytes that lead nowhere
  std::vector<uint8_t> stop_leads_;      // [n_states] 1: every UTF-8 lead byte leads nowhere
  // Bytes that every byte set of the grammar treats alike have the same transitions: next_locked
  // computes one byte of each class and fills in the rest.
  uint8_t byte_class_[256] = {};
  std::vector<std::vector<uint8_t>> class_bytes_;
  std::vector<ByteSet> chain_ascii_;     // [n_states] ASCII bytes allowed at every one of them
  std::unordered_map<int32_t, std::vector<uint64_t>> masks_;  // state -> [ceil(n_vocab / 64)] bits
  std::vector<int32_t> projected_;                           // [n_states]; -1 = not computed yet
  std::unordered_map<int32_t, ProjectedMask> projected_masks_;  // projected state -> its part
  size_t mask_bytes_ = 0;
  Counters counters_;
  int32_t initial_ = 0;
  // Scratch for close_and_intern.
  std::vector<std::pair<uint32_t, int32_t>> work_;
  std::unordered_set<uint64_t> seen_;
  std::vector<int32_t> out_;
};

// One generation's position in a grammar.
class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<GrammarEngine> engine)
      : engine_(std::move(engine)), state_(engine_->initial_state()) {}

  // Advances over a sampled token; an end-of-generation token is accepted only where the grammar
  // may end (and finishes the matcher). Errors name the token when it is not allowed.
  Status accept_token(TokenId id);
  // Advances over raw bytes; false (state unchanged) when they are not allowed.
  bool accept_bytes(std::string_view bytes);
  Status fill_mask(uint8_t* allowed) { return engine_->fill_mask(state_, allowed); }

  bool is_accepting() const { return engine_->accepting(state_); }
  // Accepting and nothing more may follow: generation should stop here.
  bool is_complete() const { return finished_ || (engine_->accepting(state_) && !engine_->can_continue(state_)); }
  bool finished() const { return finished_; }
  void reset() { state_ = engine_->initial_state(); finished_ = false; }
  GrammarEngine& engine() const { return *engine_; }

 private:
  std::shared_ptr<GrammarEngine> engine_;
  int32_t state_;
  bool finished_ = false;
};

}  // namespace pm
