// Request bodies through the server's request parsers: every input is either accepted or
// refused with a 4xx error object naming what was wrong; nothing crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/openai.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  using namespace pm::server;
  auto check = [](bool ok, const ApiError& e) {
    if (ok) return;
    if (e.http_status < 400 || e.http_status > 499 || e.message.empty()) std::abort();
    (void)error_json(e).dump();
  };
  {
    ApiError e;
    auto r = parse_chat_request(body, e);
    check(r.is_ok(), e);
    if (r.is_ok()) (void)generate_options(r->sampling);
  }
  {
    ApiError e;
    check(parse_completion_request(body, e).is_ok(), e);
  }
  {
    ApiError e;
    check(parse_embedding_request(body, e).is_ok(), e);
  }
  return 0;
}
