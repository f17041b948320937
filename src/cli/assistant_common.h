// Pieces the assistant verbs (ask, summarize-call, translate) share: loading a chat model for
// the assistant layer (weights, tokenizer, the GGUF's chat template).
#pragma once

#include "assistant/chat_model.h"
#include "cli/common.h"

namespace pm::cli {

// Loads MODEL for chat use; `holder` keeps the weights alive as long as the returned ChatModel.
inline Result<assistant::ChatModel> load_chat_model(const std::string& path, const LoadOptions& options,
                                                    LoadedModel& holder) {
  Result<LoadedModel> m = load(path, /*vocab_only=*/false, options);
  if (!m.is_ok()) return m.status();
  if (Status t = need_tokenizer(*m, path); !t.is_ok()) return t;
  holder = std::move(*m);
  Result<std::string> tmpl_text =
      holder.gguf ? holder.gguf->get_string_or("tokenizer.chat_template", "") : Result<std::string>(std::string());
  if (!tmpl_text.is_ok()) return tmpl_text.status().with_context(path);
  assistant::ChatModel cm;
  cm.model = holder.model.get();
  cm.tokenizer = holder.tokenizer.get();
  cm.chat = chat_template_for(*tmpl_text, holder.model ? holder.model->info().arch : "");
  const SpecialTokens& sp = holder.tokenizer->special();
  if (sp.bos != kNoToken) cm.chat.bos_token = holder.tokenizer->token_to_piece(sp.bos, true);
  if (sp.eos != kNoToken) cm.chat.eos_token = holder.tokenizer->token_to_piece(sp.eos, true);
  cm.n_ctx = holder.plan.n_ctx;
  cm.pool = holder.pool.get();
  return cm;
}

}  // namespace pm::cli
