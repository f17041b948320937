// The key file of an encrypted store: DIR/store.key, JSON, written once when the store is created.
// It holds what is needed to turn the passphrase into the key again, never the key itself:
//
//   {"format": "pocketmind-store-key", "version": 1,
//    "kdf": "pbkdf2-hmac-sha256", "iterations": 310000, "salt": "<32 random bytes, hex>",
//    "cipher": "aes-256-gcm", "page_size": 4096, "reserve_bytes": 28,
//    "key_check": "<HMAC-SHA256(master, \"pocketmind key check\"), hex>"}
//
//   master   = PBKDF2-HMAC-SHA256(passphrase, salt, iterations, 32 bytes)
//   page key = HMAC-SHA256(master, "pocketmind page key")          (AES-256-GCM, store/crypto_vfs.h)
//
// The check value lets a wrong passphrase be refused before anything is opened or written; it
// costs an attacker exactly as much as trying a passphrase on a page would (one PBKDF2).
// A store is encrypted exactly when DIR/store.key exists.
#pragma once

#include <optional>
#include <string>

#include "core/status.h"
#include "store/crypto_vfs.h"

namespace pm::store {

inline constexpr const char* kStoreKeyFile = "store.key";
inline constexpr int kKdfIterations = 310000;  // PBKDF2-HMAC-SHA256 (OWASP 2023: >= 600k for SHA-256 on servers;
                                               // a phone opens the store at every start)
inline constexpr size_t kMaxPassphraseBytes = 4096;

// Writes DIR/store.key for a new store (atomically: temporary file, fsync, rename, fsync of DIR)
// and returns the page key. Fails if the file already exists.
Result<StoreKey> create_store_key(const std::string& dir, const std::string& passphrase,
                                  int iterations = kKdfIterations);

// Reads DIR/store.key and derives the page key from the passphrase; a wrong passphrase is an
// kInvalidArgument error that says so. Nothing is written.
Result<StoreKey> unlock_store_key(const std::string& dir, const std::string& passphrase);

// What Store::open needs: the key of an encrypted store, or nullopt for a plain one.
//   key file | database | passphrase | result
//   no       | any      | none       | nullopt (plain store)
//   no       | yes      | given      | error: a plain store, no passphrase wanted
//   no       | no       | given      | create (when `create`): key file written, key
//   yes      | any      | none       | error: encrypted, passphrase needed
//   yes      | any      | given      | unlock: key, or error for a wrong passphrase
Result<std::optional<StoreKey>> store_key_for_open(const std::string& dir, const std::string& passphrase,
                                                   bool database_exists, bool create);

}  // namespace pm::store
