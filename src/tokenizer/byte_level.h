// The byte-level vocabulary of models that carry none (the tiny rwkv.cpp test models): token
// id = byte value, 256 tokens, no special tokens. Every byte string round-trips.
#pragma once

#include <memory>

#include "tokenizer/tokenizer.h"

namespace pm {

std::unique_ptr<Tokenizer> make_byte_level_tokenizer();

}  // namespace pm
