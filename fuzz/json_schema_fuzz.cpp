// libFuzzer target for the JSON Schema compiler: any text must compile or fail with a Status,
// and whatever it compiles to must be a grammar the GBNF parser accepts or rejects cleanly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "generate/grammar/grammar.h"
#include "generate/grammar/json_schema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto gbnf = pm::json_schema_to_gbnf(std::string_view(reinterpret_cast<const char*>(data), size));
  if (gbnf.is_ok()) (void)pm::parse_grammar(*gbnf).status();
  return 0;
}
