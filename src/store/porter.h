// The Porter stemming algorithm (M. F. Porter, "An algorithm for suffix stripping", Program 14(3),
// 1980), written from the paper's rules: "connections", "connected", "connecting" -> "connect".
#pragma once

#include <string>
#include <string_view>

namespace pm::store {

// Stems a lower-case ASCII word; anything else (digits, other scripts, words of one or two
// letters) comes back unchanged.
std::string porter_stem(std::string_view word);

}  // namespace pm::store
