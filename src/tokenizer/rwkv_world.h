// RWKV "World" tokenizer (VocabKind::kRwkvWorld): every token is an arbitrary byte string (not
// necessarily valid UTF-8); text is cut greedily, left to right, into the longest token that
// matches at the current position. The vocabulary holds all 256 single bytes, so every byte
// string has a tokenization and decodes back to itself.
//
// Vocabularies come from
//   - the vocab text file (rwkv_vocab_v20230424.txt), one token per line:
//       ID LITERAL LENGTH     e.g.  261 '\n\n' 2     129 b'\x80' 1     10257 '上' 3
//     LITERAL is a Python str literal (its UTF-8 encoding is the token) or bytes literal;
//     LENGTH is the token's length in bytes. Ids run 1..N; id 0 is "<|endoftext|>" (control,
//     end of generation), which the file does not list;
//   - GGUF (tokenizer.ggml.model == "rwkv"), as llama.cpp's converter writes it: token 0 "<s>"
//     (control), then each token as the text between the quotes of Python's repr() of its
//     bytes (printable ASCII as is, "\\" for a backslash, "\t" "\n" "\r", "\xNN" for the rest),
//     then "[PADn]" tokens (unused) up to the model's vocab size.
// Control and unused tokens are never matched as plain text; control tokens are matched only
// with parse_special.
// Internal to the tokenizer layer.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/tokenizer.h"

namespace pm {

class RwkvWorldTokenizer final : public Tokenizer {
 public:
  RwkvWorldTokenizer() = default;
  void init();  // builds the trie once the base fields are filled

  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const override;
  std::string token_to_piece(TokenId id, bool render_special) const override;

  // Greedy longest match over plain text (no special-token matching), appending to out. A byte
  // that starts no token becomes the unknown token, or is dropped when the vocab has none
  // (never for a vocab that holds all 256 bytes).
  void encode_bytes(std::string_view text, std::vector<TokenId>& out) const;

 private:
  static constexpr uint32_t kNoNode = UINT32_MAX;
  uint32_t child(uint32_t node, uint8_t byte) const;

  // Byte trie in compressed-row form; node 0 is the root.
  //   node_token_[n]       token whose bytes spell the path to node n, or kNoToken   [n_nodes]
  //   node_first_edge_[n]  n's edges are first_edge_[n] .. first_edge_[n+1]-1         [n_nodes+1]
  //   edge_byte_[e]        byte on edge e, ascending within a node                     [n_edges]
  //   edge_child_[e]       node edge e leads to                                        [n_edges]
  //   root_child_[b]       the root's child for byte b (kNoNode when none): one lookup
  //                        instead of a search at the start of every token
  std::vector<TokenId> node_token_;
  std::vector<uint32_t> node_first_edge_;
  std::vector<uint8_t> edge_byte_;
  std::vector<uint32_t> edge_child_;
  std::array<uint32_t, 256> root_child_{};
};

// Turns one token of a GGUF "rwkv" vocab (llama.cpp's escaped text) into its bytes:
// "\t" "\n" "\r", "\xNN" (two hex digits), and a backslash before any other character stands
// for that character ("\\" -> '\', "\'" -> '). Error: a lone trailing backslash or a bad "\x".
Result<std::string> unescape_rwkv_token(std::string_view escaped);

// Parses a Python str or bytes literal ('...', "...", b'...', optionally with a u/U/b/B
// prefix) that spans all of `literal` into the bytes it stands for (str: UTF-8). Escapes as in
// Python: \\ \' \" \a \b \f \n \r \t \v \ooo \xhh, and for str \uXXXX \UXXXXXXXX; an unknown
// escape keeps its backslash. Errors name what is wrong (unterminated, bad escape, surrogate,
// non-ASCII in a bytes literal, invalid UTF-8, text after the closing quote).
Result<std::string> parse_python_literal(std::string_view literal);

}  // namespace pm
