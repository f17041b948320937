// A file mapped read-only into memory. Weights are used straight from the mapping (no copy),
// so resident memory tracks what the model touches, and the OS may drop clean pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace pm {

class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size_bytes() const { return size_; }
  const std::string& path() const { return path_; }

  // Whether [p, p + n) lies inside the mapping.
  bool contains(const uint8_t* p, size_t n) const {
    return data_ != nullptr && p >= data_ && n <= size_ && size_t(p - data_) <= size_ - n;
  }
  // Copies [p, p + n) (inside the mapping) to dst with pread(2): the bytes come through the
  // page cache without their pages joining this process's resident memory (for rows read now
  // and then, like token embeddings: a long chat touches more and more of the table).
  Status read(const uint8_t* p, size_t n, void* dst) const;
  // Drops the whole pages inside [p, p + n) (inside the mapping) from this process's resident
  // memory, as for data copied elsewhere; a later read faults them back in from the file.
  void release(const uint8_t* p, size_t n) const;

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;  // kept open for read()
};

// Reads a whole file into a string (for small text inputs: prompts, vocab files, schemas).
Result<std::string> read_file(const std::string& path);
// Writes bytes atomically enough for our uses: to path.tmp, then rename.
Status write_file(const std::string& path, const void* data, size_t size_bytes);

}  // namespace pm
