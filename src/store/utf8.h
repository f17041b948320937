// UTF-8 checks for text entering the store (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pm::store {

// Byte offset of the first invalid sequence, or npos when the whole string is valid.
size_t find_invalid_utf8(std::string_view s);

// Decodes one code point at s[pos]; returns its byte length, or 0 when invalid (then *cp = U+FFFD).
size_t next_utf8(std::string_view s, size_t pos, char32_t* cp);

void append_utf8(char32_t cp, std::string& out);

// The longest prefix of s that is at most max_bytes long and ends on a character boundary.
std::string_view utf8_prefix(std::string_view s, size_t max_bytes);

}  // namespace pm::store
