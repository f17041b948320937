// FNV-1a, 64-bit: a small, stable, non-cryptographic hash for fingerprints and checksums of
// files we write ourselves (identical on every platform and build).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pm {

class Fnv1a64 {
 public:
  void update(const void* data, size_t size_bytes) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < size_bytes; ++i) {
      h_ ^= p[i];
      h_ *= 0x100000001b3ull;
    }
  }
  void update(std::string_view s) {
    update(s.data(), s.size());
    update_u64(s.size());  // length-delimited: ("ab","c") != ("a","bc")
  }
  void update_u64(uint64_t v) { update(&v, sizeof v); }
  uint64_t digest() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

inline uint64_t fnv1a64(const void* data, size_t size_bytes) {
  Fnv1a64 h;
  h.update(data, size_bytes);
  return h.digest();
}

}  // namespace pm
