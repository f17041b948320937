// The C API's plumbing: versions, status names, error objects and freeing what the library hands out.
#include <cstdlib>

#include "capi/capi_internal.h"

#ifndef PM_VERSION_STRING
#define PM_VERSION_STRING "0.0.0"
#endif

namespace pm::capi {
namespace {

// Handed out when the message of an error cannot be allocated. Never written to; pm_error_free
// recognises it and leaves it alone.
const pm_error kOutOfMemoryError = {PM_ERR_NO_MEMORY, const_cast<char*>("out of memory")};

}  // namespace

pm_status to_pm_status(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return PM_OK;
    case StatusCode::kInvalidArgument: return PM_ERR_INVALID_ARGUMENT;
    case StatusCode::kNotFound: return PM_ERR_NOT_FOUND;
    case StatusCode::kIoError: return PM_ERR_IO;
    case StatusCode::kCorrupt: return PM_ERR_CORRUPT;
    case StatusCode::kUnsupported: return PM_ERR_UNSUPPORTED;
    case StatusCode::kOutOfRange: return PM_ERR_OUT_OF_RANGE;
    case StatusCode::kResourceExhausted: return PM_ERR_RESOURCE_EXHAUSTED;
    case StatusCode::kCancelled: return PM_ERR_CANCELLED;
    case StatusCode::kInternal: return PM_ERR_INTERNAL;
  }
  return PM_ERR_INTERNAL;
}

pm_status set_error(pm_error** error, pm_status code, const char* message) noexcept {
  if (code == PM_OK || error == nullptr || *error != nullptr) return code;
  auto* e = static_cast<pm_error*>(std::malloc(sizeof(pm_error)));
  const size_t n = std::strlen(message);
  char* text = static_cast<char*>(std::malloc(n + 1));
  if (e == nullptr || text == nullptr) {
    std::free(e);
    std::free(text);
    *error = const_cast<pm_error*>(&kOutOfMemoryError);
    return code;
  }
  std::memcpy(text, message, n + 1);
  e->code = code;
  e->message = text;
  *error = e;
  return code;
}

char* copy_string(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

}  // namespace pm::capi

extern "C" {

const char* pm_version(void) { return PM_VERSION_STRING; }
int pm_api_version(void) { return PM_API_VERSION; }

const char* pm_status_name(pm_status status) {
  switch (status) {
    case PM_OK: return "ok";
    case PM_ERR_INVALID_ARGUMENT: return "invalid_argument";
    case PM_ERR_NOT_FOUND: return "not_found";
    case PM_ERR_IO: return "io";
    case PM_ERR_CORRUPT: return "corrupt";
    case PM_ERR_UNSUPPORTED: return "unsupported";
    case PM_ERR_OUT_OF_RANGE: return "out_of_range";
    case PM_ERR_RESOURCE_EXHAUSTED: return "resource_exhausted";
    case PM_ERR_CANCELLED: return "cancelled";
    case PM_ERR_INTERNAL: return "internal";
    case PM_ERR_NO_MEMORY: return "no_memory";
    case PM_STATUS_MAX_ENUM: break;
  }
  return "unknown";
}

pm_status pm_error_code(const pm_error* error) { return error ? error->code : PM_OK; }
const char* pm_error_message(const pm_error* error) { return error ? error->message : ""; }

void pm_error_free(pm_error* error) {
  if (error == nullptr || error == &pm::capi::kOutOfMemoryError) return;
  std::free(error->message);
  std::free(error);
}

void pm_string_free(char* text) { std::free(text); }
void pm_bytes_free(void* bytes) { std::free(bytes); }

}  // extern "C"
