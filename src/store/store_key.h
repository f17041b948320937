// The key file of an encrypted store: DIR/store.key, JSON, written when the store is created and
// rewritten (atomically) when its passphrase changes. It holds what turns the passphrase into the
// key again; the key itself only wrapped (encrypted) under the passphrase:
//
//   {"format": "pocketmind-store-key", "version": 1,
//    "kdf": "pbkdf2-hmac-sha256", "iterations": 310000, "salt": "<32 random bytes, hex>",
//    "cipher": "aes-256-gcm", "page_size": 4096, "reserve_bytes": 28,
//    "wrapped_key": "<nonce (12) | AES-256-GCM(KEK, page key) (32) | tag (16), hex>"}
//
//   KEK      = PBKDF2-HMAC-SHA256(passphrase, salt, iterations, 32 bytes)
//   page key = 32 random bytes drawn when the store is created (AES-256-GCM, store/crypto_vfs.h);
//              wrapped with associated data "pocketmind store key v1"
//
// The wrap's tag is the key check: a wrong passphrase is refused before anything is opened or
// written, at the cost of one PBKDF2 for an attacker too (as trying a passphrase on a page would).
// Changing the passphrase rewrites only this file (the pages keep their key): an old copy of
// store.key plus the old passphrase still opens the store, as with LUKS; re-encrypting every page
// is what `rekey` would need for that, and is not done.
// A store is encrypted exactly when DIR/store.key exists.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/crypto_vfs.h"

namespace pm::store {

inline constexpr const char* kStoreKeyFile = "store.key";
inline constexpr int kKdfIterations = 310000;  // PBKDF2-HMAC-SHA256 (OWASP 2023: >= 600k for SHA-256 on servers;
                                               // a phone opens the store at every start)
inline constexpr size_t kMaxPassphraseBytes = 4096;

// Draws the page key of a new store and writes DIR/store.key (atomically: temporary file, fsync,
// rename, fsync of DIR); returns the page key. Fails if the file already exists.
Result<StoreKey> create_store_key(const std::string& dir, const std::string& passphrase,
                                  int iterations = kKdfIterations);

// Rewraps the store's key under a new passphrase (new salt); the old one must be right.
Status change_store_passphrase(const std::string& dir, const std::string& old_passphrase,
                               const std::string& new_passphrase);

// Reads DIR/store.key and unwraps the page key with the passphrase; a wrong passphrase is an
// kInvalidArgument error that says so. Nothing is written.
Result<StoreKey> unlock_store_key(const std::string& dir, const std::string& passphrase);

// Lower-case hex of n bytes, and its inverse (either case; false on an odd length or a non-hex
// digit): how salts and wrapped keys are written in the store's text files.
std::string to_hex(const uint8_t* p, size_t n);
bool from_hex(const std::string& s, std::vector<uint8_t>* out);

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
