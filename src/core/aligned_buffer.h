// A buffer aligned for SIMD loads (64 bytes: one cache line, one AVX-512 register), zeroed.
//
// Buffers of kPageThreshold bytes or more are anonymous memory maps: their pages become
// resident only when touched, and go back to the OS the moment the buffer is freed. (A large
// malloc block that is freed often stays in the allocator's heap, so resident memory would keep
// the largest work buffer ever used: a long prompt would cost memory for the rest of the run.)
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace pm {

template <typename T>
class AlignedBuffer {
 public:
  static constexpr size_t kAlignment = 64;
  static constexpr size_t kPageThreshold = size_t(1) << 20;

  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t count) { resize(count); }
  ~AlignedBuffer() { release(); }
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), bytes_(std::exchange(o.bytes_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  // Discards the contents when the size changes; new memory is zeroed.
  void resize(size_t count) {
    if (count == size_) return;
    release();
    if (count == 0) return;
    const size_t bytes = (count * sizeof(T) + kAlignment - 1) / kAlignment * kAlignment;
    void* p;
    if (bytes >= kPageThreshold) {
      p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // zero pages
      if (p == MAP_FAILED) throw std::bad_alloc();
    } else {
      p = std::aligned_alloc(kAlignment, bytes);
      if (p == nullptr) throw std::bad_alloc();
      std::memset(p, 0, bytes);
    }
    data_ = static_cast<T*>(p);
    size_ = count;
    bytes_ = bytes;
  }

  // Asks the OS to back the buffer with huge pages (2 MiB on x86-64 and on most ARM64 kernels)
  // where it can. For a buffer read from end to end on every token (packed weights) that saves a
  // TLB miss per 4 KiB page, and keeps the hardware prefetchers, which stop at page boundaries,
  // running: one core's read bandwidth over packed Q4_0 weights went from 19 to 25 GB/s here.
  // Call it before writing the buffer (pages are allocated when first touched). Only mapped
  // buffers (kPageThreshold bytes or more) take it; elsewhere, and where the OS has no such
  // advice or has it turned off, it changes nothing.
  void advise_huge_pages() {
#ifdef MADV_HUGEPAGE
    if (data_ != nullptr && bytes_ >= kPageThreshold) madvise(data_, bytes_, MADV_HUGEPAGE);
#endif
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  void release() {
    if (data_ != nullptr) {
      if (bytes_ >= kPageThreshold)
        munmap(data_, bytes_);
      else
        std::free(data_);
    }
    data_ = nullptr;
    size_ = 0;
    bytes_ = 0;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

}  // namespace pm
