// Encryption at rest for the personal-data store: an SQLite VFS that wraps the default (unix)
// VFS and encrypts every page of the main database file and of its write-ahead log with
// AES-256-GCM (OpenSSL EVP). SQLite itself only ever sees plaintext pages.
//
// Threat model: a copied or stolen store directory (a lost phone's storage image, a backup).
// Not a live-process attacker: the key is in this process's memory while the store is open.
//
// Page layout of an encrypted store (page size fixed at kCryptPageSize; the database reserves
// kCryptReserveBytes at the end of every page, header byte 20, so SQLite leaves them alone):
//
//   [0, 24)                        page 1 of the database file only: plaintext ("SQLite format 3\0",
//                                  page size, format versions, reserve = 28), bound as associated data
//   [start, P - 28)                ciphertext of the page content (start = 24 for page 1, else 0)
//   [P - 28, P - 16)               nonce: 12 random bytes, new on every write
//   [P - 16, P)                    GCM tag
//
//   associated data: "pmcrypt1" | file kind (1 = database, 2 = WAL) | page number or WAL frame
//   number (uint32 little-endian) | page 1's 24 plaintext bytes (database page 1 only)
//
// So a page moved to another position, copied between the database and the WAL, flipped or
// read with another key fails authentication. Where the pages live in each file:
//   database page k (k >= 1)   at (k - 1) * P
//   WAL frame i (i >= 0)       header (24 bytes, plaintext: page number, salts, checksums) at
//                              32 + i * (24 + P); its page at 32 + i * (24 + P) + 24
//   WAL header                 [0, 32), plaintext
// Headers carry no record content. The -shm file (wal-index: frame and page numbers) is shared
// memory managed by the unix VFS and stays as SQLite writes it.
//
// Reads of any size at any offset are served by reading and decrypting whole pages. Pages are
// handed to SQLite with their reserved bytes zeroed (and SQLite never writes into them), so the
// WAL's own checksums, computed by SQLite over the plaintext, verify on recovery.
//
// A page that fails authentication:
//   - in the database file, or a WAL page read on its own: SQLITE_IOERR_DATA ("wrong passphrase
//     or damaged store"), never garbage;
//   - in a whole-frame read of the WAL (what recovery after a crash does): returned as zeros, so
//     SQLite's frame checksum rejects the frame exactly as it rejects a torn, unsynced frame and
//     the log ends there — a crash never leaves the store unreadable.
// Writes that are not whole pages at page offsets (or WAL headers) are refused (SQLITE_IOERR_WRITE):
// nothing unencrypted reaches the disk by accident. Memory-mapped I/O is off (io_methods v2).
// Rollback journals (used only once, when the empty database is switched to WAL mode) and temp
// files (the store keeps temp_store in memory) pass through unchanged.
//
// Nonces are random (96 bits), so one key should see well under 2^32 page writes; a personal
// store writes far fewer. An old copy of a page at the same position (rollback of the whole
// store to an earlier backup) is not detected: out of the threat model.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace pm::store {

inline constexpr int kCryptPageSize = 4096;
inline constexpr int kCryptNonceBytes = 12;
inline constexpr int kCryptTagBytes = 16;
inline constexpr int kCryptReserveBytes = kCryptNonceBytes + kCryptTagBytes;  // 28
inline constexpr int kCryptPlainHeaderBytes = 24;                             // of database page 1

using StoreKey = std::array<uint8_t, 32>;  // AES-256 key

// One registered VFS holding one store's key (a process may hold stores with different keys).
// Open the database with sqlite3_open_v2(..., name().c_str()); destroy this only after every
// connection that uses it is closed. Registration is process-wide in SQLite; the name is unique.
class CryptoVfs {
 public:
  static Result<std::unique_ptr<CryptoVfs>> create(const StoreKey& key);
  ~CryptoVfs();
  CryptoVfs(const CryptoVfs&) = delete;
  CryptoVfs& operator=(const CryptoVfs&) = delete;

  const std::string& name() const { return name_; }
  // The key the pages are encrypted with (for files beside the store that use the same key; never
  // log or persist it).
  const StoreKey& key() const;

  struct Impl;

 private:
  CryptoVfs() = default;
  std::unique_ptr<Impl> impl_;
  std::string name_;
};

}  // namespace pm::store
