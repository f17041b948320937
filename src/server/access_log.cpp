#include "server/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/auth.h"

namespace pm::server {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxLineBytes = 1u << 20;  // an event line; longer ones are cut

}  // namespace

Result<std::unique_ptr<AccessLog>> AccessLog::open(const std::string& dir, const std::optional<store::StoreKey>& key) {
  std::unique_ptr<AccessLog> log(new AccessLog());
  PM_RETURN_IF_ERROR(store::need_key_for_log(dir, key, "access log"));
  if (!key) {
    log->path_ = (fs::path(dir) / kAccessLogFile).string();
    log->fd_ = ::open(log->path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (log->fd_ < 0) return Status::io_error(log->path_ + ": cannot open the access log: " + std::strerror(errno));
    return log;
  }
  log->path_ = (fs::path(dir) / kSealedAccessLogFile).string();
  PM_ASSIGN_OR_RETURN(log->sealed_, store::SealedLog::open(log->path_, kAccessLogFormat, *key,
                                                           (fs::path(dir) / kAccessLogFile).string()));
  return log;
}

AccessLog::~AccessLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status AccessLog::append(const std::string& time, const std::string& event) {
  std::string line = time + " " + event;
  if (line.size() > kMaxLineBytes) line.resize(kMaxLineBytes);
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';  // one event, one line
  if (sealed_) return sealed_->append(line);
  return store::write_fully(fd_, line + "\n", path_);
}

}  // namespace pm::server
