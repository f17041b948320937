// The tokenizer test-case format of llama.cpp's models/ggml-vocab-*.gguf.inp files, also read by
// `pocketmind tokenize --cases FILE`:
//
//   case text (any bytes, may span lines, may be empty)
//   __ggml_vocab_test__
//   next case
//   __ggml_vocab_test__
//
// Every case is followed by a line holding exactly the separator; the newline just before a
// separator line ends the case and is not part of it. The matching .out file has one line per
// case: the token ids, each preceded by a space, no special tokens added.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pm {

inline constexpr std::string_view kVocabTestSeparator = "__ggml_vocab_test__";

// The cases in file order. Text after the last separator line is one more case when it is not
// empty (a file whose final separator is missing). Error: no separator line at all.
Result<std::vector<std::string>> parse_vocab_test_cases(std::string_view file_text);

}  // namespace pm
