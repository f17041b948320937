// Status and Result<T>: how every layer reports failure without exceptions or aborts.
//
// A Status carries a code and a message that names what was wrong ("model.gguf: tensor
// blk.3.attn_q.weight: offset 91283 + size 4096 runs past end of file (90000 bytes)").
// Library code returns these for any bad input; assertions are for programmer errors only.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace pm {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // a caller-supplied value is wrong
  kNotFound,         // file, key, tensor, record missing
  kIoError,          // the OS refused a read / write / mmap
  kCorrupt,          // a file's bytes do not describe a valid object
  kUnsupported,      // valid but not handled (unknown tensor type, architecture)
  kOutOfRange,       // prompt longer than the context, index past an end
  kResourceExhausted,
  kCancelled,
  kInternal,
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  static Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status io_error(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }
  static Status unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status out_of_range(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status resource_exhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corrupt: model.gguf: ..." ; "ok" when ok.
  std::string to_string() const;

  // Returns a copy with "prefix: " put before the message (adds context on the way up).
  Status with_context(const std::string& prefix) const {
    return is_ok() ? *this : Status(code_, prefix + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).is_ok() && "Result from an ok Status has no value");
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return is_ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pm

#define PM_CONCAT_INNER(a, b) a##b
#define PM_CONCAT(a, b) PM_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when `expr` is not ok.
#define PM_RETURN_IF_ERROR(expr)                     \
  do {                                               \
    ::pm::Status pm_status_ = (expr);                \
    if (!pm_status_.is_ok()) return pm_status_;      \
  } while (0)

// `PM_ASSIGN_OR_RETURN(auto x, make_x());` declares x from a Result or returns its Status.
#define PM_ASSIGN_OR_RETURN(lhs, expr) PM_ASSIGN_OR_RETURN_IMPL(PM_CONCAT(pm_result_, __LINE__), lhs, expr)
#define PM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.is_ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
