#include "tokenizer/unicode.h"

#include <array>

namespace pm::unicode {

size_t check_utf8_at(std::string_view s, size_t pos) {
  const auto b0 = static_cast<uint8_t>(s[pos]);
  if (b0 < 0x80) return 1;
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlong
    if (b0 == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return 0;
  }
  for (size_t i = 1; i < len; ++i) {
    if (pos + i >= s.size()) return kIncomplete;
    const auto b = static_cast<uint8_t>(s[pos + i]);
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
  }
  return len;
}

size_t decode_utf8(std::string_view s, size_t pos, char32_t* cp) {
  const size_t len = check_utf8_at(s, pos);
  if (len == 0 || len == kIncomplete) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data() + pos);
  switch (len) {
    case 1:
      *cp = p[0];
      break;
    case 2:
      *cp = (char32_t(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
      break;
    case 3:
      *cp = (char32_t(p[0] & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
      break;
    default:
      *cp =
          (char32_t(p[0] & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) | (char32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
  }
  return len;
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = check_utf8_at(s, i);
    if (len == 0 || len == kIncomplete) return false;
    i += len;
  }
  return true;
}

size_t count_chars(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    const size_t len = check_utf8_at(s, i);
    i += (len == 0 || len == kIncomplete) ? 1 : len;
  }
  return n;
}

namespace {

struct ByteLevelTables {
  std::array<char32_t, 256> byte_to_cp{};
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, 512> cp_to_byte{};  // every code point of the alphabet is < U+0144

  ByteLevelTables() {
    cp_to_byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      byte_to_cp[b] = printable ? char32_t(b) : next++;
      append_utf8(byte_to_cp[b], byte_to_utf8[b]);
      cp_to_byte[byte_to_cp[b]] = int16_t(b);
    }
  }
};

const ByteLevelTables& byte_level_tables() {
  static const ByteLevelTables tables;  // immutable after construction
  return tables;
}

}  // namespace

std::string_view byte_to_unicode(uint8_t b) { return byte_level_tables().byte_to_utf8[b]; }

int unicode_to_byte(char32_t cp) {
  if (cp >= 512) return -1;
  return byte_level_tables().cp_to_byte[cp];
}

void byte_level_encode(std::string_view bytes, std::string& out) {
  const auto& t = byte_level_tables();
  for (char c : bytes) out += t.byte_to_utf8[static_cast<uint8_t>(c)];
}

std::string byte_level_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const size_t len = decode_utf8(text, i, &cp);
    if (len == 0) {  // not UTF-8 at all: copy the byte
      out += text[i++];
      continue;
    }
    const int b = unicode_to_byte(cp);
    if (b >= 0) {
      out += char(b);
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace pm::unicode
