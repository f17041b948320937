#include "tokenizer/test_cases.h"

namespace pm {

Result<std::vector<std::string>> parse_vocab_test_cases(std::string_view file_text) {
  std::vector<std::string> cases;
  size_t case_start = 0;  // first byte of the case being read
  size_t line_start = 0;
  bool any_separator = false;
  while (line_start < file_text.size()) {
    size_t line_end = file_text.find('\n', line_start);
    const bool last_line = line_end == std::string_view::npos;
    if (last_line) line_end = file_text.size();
    if (file_text.substr(line_start, line_end - line_start) == kVocabTestSeparator) {
      // The case runs up to the newline that ends the line before the separator.
      size_t case_end = line_start;
      if (case_end > case_start) --case_end;
      cases.emplace_back(file_text.substr(case_start, case_end - case_start));
      any_separator = true;
      case_start = last_line ? file_text.size() : line_end + 1;
    }
    line_start = last_line ? file_text.size() : line_end + 1;
  }
  if (!any_separator) {
    return Status::invalid_argument(std::string("no line \"") + std::string(kVocabTestSeparator) +
                                    "\" found: not a tokenizer test-case file");
  }
  if (case_start < file_text.size()) {
    std::string_view rest = file_text.substr(case_start);
    if (!rest.empty() && rest.back() == '\n') rest.remove_suffix(1);
    cases.emplace_back(rest);
  }
  return cases;
}

}  // namespace pm
