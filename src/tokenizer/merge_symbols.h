// The symbol chain SentencePiece and BPE merge over: a text cut into UTF-8 characters, kept as a
// doubly linked list of byte ranges so that merging two neighbours is O(1). Merge candidates
// live in the caller's priority queue; a candidate is stale once either side has changed,
// which still_adjacent() detects (sizes only ever grow, so an unchanged byte total means
// unchanged symbols). Internal to the tokenizer layer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/unicode.h"

namespace pm {

class MergeSymbols {
 public:
  explicit MergeSymbols(std::string_view text) : text_(text) {
    for (size_t pos = 0; pos < text.size();) {
      const size_t len = std::min(unicode::utf8_seq_len(static_cast<uint8_t>(text[pos])), text.size() - pos);
      const int index = static_cast<int>(symbols_.size());
      symbols_.push_back({index - 1, pos + len < text.size() ? index + 1 : -1, static_cast<uint32_t>(pos),
                          static_cast<uint32_t>(len)});
      pos += len;
    }
  }
  // One symbol covering the whole text (a pre-token taken as is).
  static MergeSymbols whole(std::string_view text) {
    MergeSymbols s;
    s.text_ = text;
    if (!text.empty()) s.symbols_.push_back({-1, -1, 0, static_cast<uint32_t>(text.size())});
    return s;
  }

  int count() const { return static_cast<int>(symbols_.size()); }
  int prev(int i) const { return symbols_[i].prev; }
  int next(int i) const { return symbols_[i].next; }
  std::string_view text(int i) const { return text_.substr(symbols_[i].start, symbols_[i].len); }
  // Text of two neighbours together (they are contiguous in the text).
  std::string_view joined(int left, int right) const {
    return text_.substr(symbols_[left].start, symbols_[left].len + symbols_[right].len);
  }
  bool still_adjacent(int left, int right, size_t size_bytes) const {
    const Symbol& l = symbols_[left];
    const Symbol& r = symbols_[right];
    return l.len != 0 && r.len != 0 && l.len + r.len == size_bytes;
  }
  // Right is absorbed into left and leaves the chain.
  void merge(int left, int right) {
    Symbol& l = symbols_[left];
    Symbol& r = symbols_[right];
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) symbols_[r.next].prev = left;
  }

 private:
  MergeSymbols() = default;
  struct Symbol {
    int prev;
    int next;
    uint32_t start;  // byte offset in text_
    uint32_t len;    // bytes; 0 once merged away
  };
  std::string_view text_;
  std::vector<Symbol> symbols_;
};

}  // namespace pm
