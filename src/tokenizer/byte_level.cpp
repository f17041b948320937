#include "tokenizer/byte_level.h"

namespace pm {
namespace {

class ByteLevelTokenizer final : public Tokenizer {
 public:
  ByteLevelTokenizer() {
    kind_ = VocabKind::kRwkvWorld;
    for (int b = 0; b < 256; ++b) tokens_.emplace_back(1, char(b));
    index_vocab();
  }
  std::vector<TokenId> encode(std::string_view text, bool, bool) const override {
    std::vector<TokenId> ids;
    ids.reserve(text.size());
    for (unsigned char c : text) ids.push_back(TokenId(c));
    return ids;
  }
  std::string token_to_piece(TokenId id, bool) const override {
    return id >= 0 && id < 256 ? std::string(1, char(id)) : std::string();
  }
};

}  // namespace

std::unique_ptr<Tokenizer> make_byte_level_tokenizer() { return std::make_unique<ByteLevelTokenizer>(); }

}  // namespace pm
