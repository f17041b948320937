#include "store/utf8.h"

namespace pm::store {

size_t next_utf8(std::string_view s, size_t pos, char32_t* cp) {
  *cp = 0xFFFD;
  const auto b = [&](size_t i) { return uint8_t(s[pos + i]); };
  const uint8_t lead = b(0);
  if (lead < 0x80) {
    *cp = lead;
    return 1;
  }
  size_t len;
  char32_t v, min;
  if (lead >= 0xC2 && lead <= 0xDF)
    len = 2, v = lead & 0x1F, min = 0x80;
  else if (lead >= 0xE0 && lead <= 0xEF)
    len = 3, v = lead & 0x0F, min = 0x800;
  else if (lead >= 0xF0 && lead <= 0xF4)
    len = 4, v = lead & 0x07, min = 0x10000;
  else
    return 0;
  if (pos + len > s.size()) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(i) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

size_t find_invalid_utf8(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (uint8_t(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    char32_t cp;
    const size_t n = next_utf8(s, pos, &cp);
    if (n == 0) return pos;
    pos += n;
  }
  return std::string_view::npos;
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

std::string_view utf8_prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  while (n > 0 && (uint8_t(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace pm::store
