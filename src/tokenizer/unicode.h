// UTF-8 and Unicode helpers shared by the tokenizers (internal to the tokenizer layer).
//
// UTF-8 validity follows RFC 3629 (the same rule PCRE2 checks): no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pm::unicode {

inline constexpr char32_t kReplacementChar = 0xFFFD;
// U+2581 LOWER ONE EIGHTH BLOCK: SentencePiece's visible space, also the word-start marker of
// llama.cpp's GGUF WordPiece vocabularies.
inline constexpr std::string_view kSpmSpace = "\xE2\x96\x81";

// Bytes in the sequence a lead byte announces: 1 for ASCII and for bytes that cannot start a
// sequence (continuation bytes, 0xF8..0xFF), else 2..4.
inline size_t utf8_seq_len(uint8_t lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF8) return 4;
  return 1;
}

// Decodes the character at s[pos]. Returns its length in bytes, or 0 when the bytes there are
// not a complete valid sequence (then *cp is untouched).
size_t decode_utf8(std::string_view s, size_t pos, char32_t* cp);

// Like decode_utf8, but 0 is returned only when the sequence is invalid; when it is merely cut
// off by the end of s (a valid prefix of some character) returns SIZE_MAX.
inline constexpr size_t kIncomplete = static_cast<size_t>(-1);
size_t check_utf8_at(std::string_view s, size_t pos);

void append_utf8(char32_t cp, std::string& out);
bool is_valid_utf8(std::string_view s);

// Number of code points (invalid bytes count one each).
size_t count_chars(std::string_view s);

// GPT-2 byte-level alphabet: every byte maps to one printable code point (printable Latin-1
// bytes map to themselves, the other 68 to U+0100.. in byte order).
// Returns the UTF-8 text of the code point byte b maps to.
std::string_view byte_to_unicode(uint8_t b);
// The byte a code point stands for, or -1 when it is not part of the alphabet.
int unicode_to_byte(char32_t cp);
// Byte-level encodes every byte of `bytes`, appending to out.
void byte_level_encode(std::string_view bytes, std::string& out);
// Reverses byte_level_encode; code points outside the alphabet are copied through as UTF-8.
std::string byte_level_decode(std::string_view text);

}  // namespace pm::unicode
