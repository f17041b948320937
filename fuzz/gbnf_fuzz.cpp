// libFuzzer target for the GBNF grammar parser and matcher: any text must parse or fail with a
// Status; a grammar that parses must run over the input bytes without crashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "generate/grammar/grammar.h"
#include "generate/grammar/matcher.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto g = pm::parse_grammar(text);
  if (!g.is_ok()) return 0;
  std::vector<std::string> pieces;
  for (int b = 0; b < 256; ++b) pieces.push_back(std::string(1, char(b)));
  pieces.push_back("{\"");
  auto engine = std::make_shared<pm::GrammarEngine>(*g, pm::TokenTrie::build(pieces, {}));
  pm::GrammarMatcher m(engine);
  std::vector<uint8_t> mask(pieces.size());
  (void)m.fill_mask(mask.data());
  (void)m.accept_bytes(text.substr(0, 64));
  return 0;
}
