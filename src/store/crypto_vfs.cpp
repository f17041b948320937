#include "store/crypto_vfs.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>

namespace pm::store {

namespace {

constexpr int kP = kCryptPageSize;
constexpr int kWalHeaderBytes = 32;
constexpr int kWalFrameHeaderBytes = 24;
constexpr int64_t kWalFrameBytes = kWalFrameHeaderBytes + kP;
constexpr char kAadLabel[8] = {'p', 'm', 'c', 'r', 'y', 'p', 't', '1'};

enum class FileKind : uint8_t { kPassThrough = 0, kDatabase = 1, kWal = 2 };

// Where one byte offset of a file lies: inside a page (which, from where) or in plaintext headers.
struct Region {
  bool is_page = false;
  int64_t begin = 0;    // file offset of the region
  int64_t end = 0;      // one past its last byte
  uint32_t number = 0;  // database page number (1-based) or WAL frame number (0-based)
};

Region locate(FileKind kind, int64_t off) {
  Region r;
  if (kind == FileKind::kDatabase) {
    r.is_page = true;
    r.number = uint32_t(off / kP + 1);
    r.begin = int64_t(r.number - 1) * kP;
    r.end = r.begin + kP;
    return r;
  }
  if (off < kWalHeaderBytes) {
    r.begin = 0;
    r.end = kWalHeaderBytes;
    return r;
  }
  const int64_t frame = (off - kWalHeaderBytes) / kWalFrameBytes;
  const int64_t frame_begin = kWalHeaderBytes + frame * kWalFrameBytes;
  r.number = uint32_t(frame);
  if (off < frame_begin + kWalFrameHeaderBytes) {
    r.begin = frame_begin;
    r.end = frame_begin + kWalFrameHeaderBytes;
  } else {
    r.is_page = true;
    r.begin = frame_begin + kWalFrameHeaderBytes;
    r.end = r.begin + kP;
  }
  return r;
}

}  // namespace

struct CryptoVfs::Impl {
  sqlite3_vfs vfs{};  // what SQLite sees; pAppData points back here
  sqlite3_vfs* root = nullptr;
  StoreKey key{};
  sqlite3_io_methods methods{};
};

namespace {

// One open file: our header, then the root VFS's file object (root->szOsFile bytes).
struct CryptFile {
  sqlite3_file base;  // base.pMethods: our methods (or nullptr when the open failed)
  CryptoVfs::Impl* owner;
  FileKind kind;
  EVP_CIPHER_CTX* enc;
  EVP_CIPHER_CTX* dec;
  uint8_t* page;  // [kP] scratch: a page read from or written to disk

  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(this) + sizeof(CryptFile)); }
};
static_assert(sizeof(CryptFile) % 8 == 0);  // the root's file object follows, 8-aligned

CryptFile* as_crypt(sqlite3_file* f) { return reinterpret_cast<CryptFile*>(f); }

// Associated data of one page; returns its length.
size_t make_aad(FileKind kind, uint32_t number, const uint8_t* page, uint8_t* aad) {
  std::memcpy(aad, kAadLabel, sizeof kAadLabel);
  size_t n = sizeof kAadLabel;
  aad[n++] = uint8_t(kind);
  for (int i = 0; i < 4; ++i) aad[n++] = uint8_t(number >> (8 * i));
  if (kind == FileKind::kDatabase && number == 1) {
    std::memcpy(aad + n, page, kCryptPlainHeaderBytes);
    n += kCryptPlainHeaderBytes;
  }
  return n;
}

int plain_start(FileKind kind, uint32_t number) {
  return kind == FileKind::kDatabase && number == 1 ? kCryptPlainHeaderBytes : 0;
}

// Encrypts plaintext page `in` into `out` (both kP bytes). False on an OpenSSL failure.
bool seal_page(CryptFile* f, uint32_t number, const uint8_t* in, uint8_t* out) {
  const int start = plain_start(f->kind, number);
  const int body = kP - kCryptReserveBytes - start;
  uint8_t* nonce = out + kP - kCryptReserveBytes;
  uint8_t* tag = out + kP - kCryptTagBytes;
  if (RAND_bytes(nonce, kCryptNonceBytes) != 1) return false;
  std::memcpy(out, in, size_t(start));
  uint8_t aad[64];
  const size_t aad_n = make_aad(f->kind, number, in, aad);
  int n = 0, fin = 0;
  if (EVP_EncryptInit_ex(f->enc, nullptr, nullptr, nullptr, nonce) != 1) return false;
  if (EVP_EncryptUpdate(f->enc, nullptr, &n, aad, int(aad_n)) != 1) return false;
  if (EVP_EncryptUpdate(f->enc, out + start, &n, in + start, body) != 1 || n != body) return false;
  if (EVP_EncryptFinal_ex(f->enc, out + start + n, &fin) != 1) return false;
  return EVP_CIPHER_CTX_ctrl(f->enc, EVP_CTRL_GCM_GET_TAG, kCryptTagBytes, tag) == 1;
}

// Decrypts page `io` (kP bytes) in place; the reserved bytes become zeros. False when it fails
// authentication (wrong key, damage, a page moved from elsewhere).
bool open_page(CryptFile* f, uint32_t number, uint8_t* io) {
  const int start = plain_start(f->kind, number);
  const int body = kP - kCryptReserveBytes - start;
  uint8_t nonce[kCryptNonceBytes], tag[kCryptTagBytes];
  std::memcpy(nonce, io + kP - kCryptReserveBytes, sizeof nonce);
  std::memcpy(tag, io + kP - kCryptTagBytes, sizeof tag);
  uint8_t aad[64];
  const size_t aad_n = make_aad(f->kind, number, io, aad);
  int n = 0, fin = 0;
  bool ok = EVP_DecryptInit_ex(f->dec, nullptr, nullptr, nullptr, nonce) == 1 &&
            EVP_DecryptUpdate(f->dec, nullptr, &n, aad, int(aad_n)) == 1 &&
            EVP_DecryptUpdate(f->dec, io + start, &n, io + start, body) == 1 && n == body &&
            EVP_CIPHER_CTX_ctrl(f->dec, EVP_CTRL_GCM_SET_TAG, kCryptTagBytes, tag) == 1 &&
            EVP_DecryptFinal_ex(f->dec, io + start + n, &fin) == 1;
  std::memset(io + kP - kCryptReserveBytes, 0, kCryptReserveBytes);
  if (!ok) std::memset(io, 0, kP);
  return ok;
}

bool all_zero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i]) return false;
  return true;
}

// ---- io methods ----------------------------------------------------------------------------------

int x_close(sqlite3_file* file) {
  CryptFile* f = as_crypt(file);
  const int rc = f->real()->pMethods ? f->real()->pMethods->xClose(f->real()) : SQLITE_OK;
  EVP_CIPHER_CTX_free(f->enc);
  EVP_CIPHER_CTX_free(f->dec);
  if (f->page) OPENSSL_cleanse(f->page, kP);
  delete[] f->page;
  f->enc = f->dec = nullptr;
  f->page = nullptr;
  return rc;
}

int x_read(sqlite3_file* file, void* buf, int amount, sqlite3_int64 offset) {
  CryptFile* f = as_crypt(file);
  sqlite3_file* real = f->real();
  if (f->kind == FileKind::kPassThrough) return real->pMethods->xRead(real, buf, amount, offset);
  auto* out = static_cast<uint8_t*>(buf);
  // A whole-frame read of the WAL is what recovery (and checksum rewriting) does: a frame that
  // fails authentication is handed over as zeros so that SQLite's checksum drops it.
  const bool whole_frame = f->kind == FileKind::kWal && amount == kWalFrameBytes && offset >= kWalHeaderBytes &&
                           (offset - kWalHeaderBytes) % kWalFrameBytes == 0;
  bool short_read = false;
  int64_t pos = offset;
  const int64_t end = offset + amount;
  while (pos < end) {
    const Region r = locate(f->kind, pos);
    const int64_t take_end = std::min(end, r.end);
    const size_t take = size_t(take_end - pos);
    if (!r.is_page) {
      const int rc = real->pMethods->xRead(real, out + (pos - offset), int(take), pos);
      if (rc == SQLITE_IOERR_SHORT_READ)
        short_read = true;
      else if (rc != SQLITE_OK)
        return rc;
      pos = take_end;
      continue;
    }
    int rc = real->pMethods->xRead(real, f->page, kP, r.begin);
    if (rc == SQLITE_IOERR_SHORT_READ && all_zero(f->page, kP)) {
      // Past the end of the file: zeros, as SQLite expects.
      std::memset(out + (pos - offset), 0, take);
      short_read = true;
      pos = take_end;
      continue;
    }
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
    // A partial page at the end of the file (a torn write) cannot authenticate.
    const bool ok = rc == SQLITE_OK && open_page(f, r.number, f->page);
    if (!ok) {
      if (!whole_frame) return SQLITE_IOERR_DATA;
      std::memset(f->page, 0, kP);
    }
    std::memcpy(out + (pos - offset), f->page + (pos - r.begin), take);
    pos = take_end;
  }
  return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

int x_write(sqlite3_file* file, const void* buf, int amount, sqlite3_int64 offset) {
  CryptFile* f = as_crypt(file);
  sqlite3_file* real = f->real();
  if (f->kind == FileKind::kPassThrough) return real->pMethods->xWrite(real, buf, amount, offset);
  const Region r = locate(f->kind, offset);
  if (!r.is_page) {
    // WAL header or a frame header: plaintext metadata, but never a write that spills into a page.
    if (offset + amount > r.end) return SQLITE_IOERR_WRITE;
    return real->pMethods->xWrite(real, buf, amount, offset);
  }
  if (offset != r.begin || amount != kP) return SQLITE_IOERR_WRITE;
  const auto* in = static_cast<const uint8_t*>(buf);
  if (f->kind == FileKind::kDatabase && r.number == 1) {
    // The store must have been created with this page size and reserve (Store::open does so).
    if (in[16] != uint8_t(kP >> 8) || in[17] != uint8_t(kP & 0xff) || in[20] != kCryptReserveBytes)
      return SQLITE_IOERR_WRITE;
  }
  if (!seal_page(f, r.number, in, f->page)) return SQLITE_IOERR_WRITE;
  return real->pMethods->xWrite(real, f->page, kP, offset);
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return as_crypt(f)->real()->pMethods->xTruncate(as_crypt(f)->real(), size);
}
int x_sync(sqlite3_file* f, int flags) { return as_crypt(f)->real()->pMethods->xSync(as_crypt(f)->real(), flags); }
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return as_crypt(f)->real()->pMethods->xFileSize(as_crypt(f)->real(), size);
}
int x_lock(sqlite3_file* f, int l) { return as_crypt(f)->real()->pMethods->xLock(as_crypt(f)->real(), l); }
int x_unlock(sqlite3_file* f, int l) { return as_crypt(f)->real()->pMethods->xUnlock(as_crypt(f)->real(), l); }
int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return as_crypt(f)->real()->pMethods->xCheckReservedLock(as_crypt(f)->real(), out);
}
int x_file_control(sqlite3_file* file, int op, void* arg) {
  CryptFile* f = as_crypt(file);
  if (op == SQLITE_FCNTL_VFSNAME) {
    // Name this VFS in front of the root's (as the shims in SQLite's own tree do).
    const int rc = f->real()->pMethods->xFileControl(f->real(), op, arg);
    char** name = static_cast<char**>(arg);
    if (rc == SQLITE_OK && *name) {
      char* both = sqlite3_mprintf("pmcrypt/%z", *name);
      *name = both;
    }
    return rc;
  }
  if (op == SQLITE_FCNTL_MMAP_SIZE && f->kind != FileKind::kPassThrough) {
    // No memory-mapped reads of ciphertext (the methods are v2 anyway): report 0 and keep it so.
    auto* size = static_cast<sqlite3_int64*>(arg);
    *size = 0;
    return SQLITE_OK;
  }
  return f->real()->pMethods->xFileControl(f->real(), op, arg);
}
int x_sector_size(sqlite3_file* f) { return as_crypt(f)->real()->pMethods->xSectorSize(as_crypt(f)->real()); }
int x_device_characteristics(sqlite3_file* f) {
  return as_crypt(f)->real()->pMethods->xDeviceCharacteristics(as_crypt(f)->real());
}
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return as_crypt(f)->real()->pMethods->xShmMap(as_crypt(f)->real(), page, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return as_crypt(f)->real()->pMethods->xShmLock(as_crypt(f)->real(), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { as_crypt(f)->real()->pMethods->xShmBarrier(as_crypt(f)->real()); }
int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  return as_crypt(f)->real()->pMethods->xShmUnmap(as_crypt(f)->real(), delete_flag);
}

// ---- vfs methods ---------------------------------------------------------------------------------

CryptoVfs::Impl* impl_of(sqlite3_vfs* vfs) { return static_cast<CryptoVfs::Impl*>(vfs->pAppData); }

int v_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  CryptoVfs::Impl* impl = impl_of(vfs);
  CryptFile* f = as_crypt(file);
  std::memset(f, 0, sizeof(CryptFile));
  f->real()->pMethods = nullptr;
  f->owner = impl;
  f->kind = (flags & SQLITE_OPEN_MAIN_DB) ? FileKind::kDatabase
            : (flags & SQLITE_OPEN_WAL)   ? FileKind::kWal
                                          : FileKind::kPassThrough;
  if (f->kind != FileKind::kPassThrough) {
    f->page = new (std::nothrow) uint8_t[kP];
    f->enc = EVP_CIPHER_CTX_new();
    f->dec = EVP_CIPHER_CTX_new();
    if (!f->page || !f->enc || !f->dec ||
        EVP_EncryptInit_ex(f->enc, EVP_aes_256_gcm(), nullptr, impl->key.data(), nullptr) != 1 ||
        EVP_DecryptInit_ex(f->dec, EVP_aes_256_gcm(), nullptr, impl->key.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(f->enc, EVP_CTRL_GCM_SET_IVLEN, kCryptNonceBytes, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(f->dec, EVP_CTRL_GCM_SET_IVLEN, kCryptNonceBytes, nullptr) != 1) {
      x_close(file);
      return SQLITE_NOMEM;
    }
  }
  const int rc = impl->root->xOpen(impl->root, name, f->real(), flags, out_flags);
  if (rc != SQLITE_OK) {
    f->real()->pMethods = nullptr;  // the root cleans up after a failed open itself
    x_close(file);
    file->pMethods = nullptr;
    return rc;
  }
  file->pMethods = &impl->methods;
  return SQLITE_OK;
}

int v_delete(sqlite3_vfs* v, const char* name, int sync_dir) {
  return impl_of(v)->root->xDelete(impl_of(v)->root, name, sync_dir);
}
int v_access(sqlite3_vfs* v, const char* name, int flags, int* out) {
  return impl_of(v)->root->xAccess(impl_of(v)->root, name, flags, out);
}
int v_full_pathname(sqlite3_vfs* v, const char* name, int n, char* out) {
  return impl_of(v)->root->xFullPathname(impl_of(v)->root, name, n, out);
}
void* v_dl_open(sqlite3_vfs* v, const char* path) { return impl_of(v)->root->xDlOpen(impl_of(v)->root, path); }
void v_dl_error(sqlite3_vfs* v, int n, char* msg) { impl_of(v)->root->xDlError(impl_of(v)->root, n, msg); }
void (*v_dl_sym(sqlite3_vfs* v, void* h, const char* sym))(void) {
  return impl_of(v)->root->xDlSym(impl_of(v)->root, h, sym);
}
void v_dl_close(sqlite3_vfs* v, void* h) { impl_of(v)->root->xDlClose(impl_of(v)->root, h); }
int v_randomness(sqlite3_vfs* v, int n, char* out) { return impl_of(v)->root->xRandomness(impl_of(v)->root, n, out); }
int v_sleep(sqlite3_vfs* v, int us) { return impl_of(v)->root->xSleep(impl_of(v)->root, us); }
int v_current_time(sqlite3_vfs* v, double* out) { return impl_of(v)->root->xCurrentTime(impl_of(v)->root, out); }
int v_get_last_error(sqlite3_vfs* v, int n, char* out) {
  return impl_of(v)->root->xGetLastError ? impl_of(v)->root->xGetLastError(impl_of(v)->root, n, out) : 0;
}
int v_current_time_int64(sqlite3_vfs* v, sqlite3_int64* out) {
  return impl_of(v)->root->xCurrentTimeInt64(impl_of(v)->root, out);
}

std::atomic<uint64_t> g_vfs_serial{0};  // unique VFS names within the process

}  // namespace

Result<std::unique_ptr<CryptoVfs>> CryptoVfs::create(const StoreKey& key) {
  sqlite3_vfs* root = sqlite3_vfs_find(nullptr);
  if (!root) return Status::internal("SQLite has no default VFS");
  if (root->iVersion < 2 || !root->xCurrentTimeInt64) return Status::unsupported("SQLite's default VFS is too old");
  std::unique_ptr<CryptoVfs> c(new CryptoVfs());
  c->impl_ = std::make_unique<Impl>();
  Impl& m = *c->impl_;
  m.root = root;
  m.key = key;
  c->name_ = "pmcrypt-" + std::to_string(++g_vfs_serial);

  sqlite3_io_methods& io = m.methods;
  io.iVersion = 2;  // with shared memory (WAL), without xFetch (no mmap of ciphertext)
  io.xClose = x_close;
  io.xRead = x_read;
  io.xWrite = x_write;
  io.xTruncate = x_truncate;
  io.xSync = x_sync;
  io.xFileSize = x_file_size;
  io.xLock = x_lock;
  io.xUnlock = x_unlock;
  io.xCheckReservedLock = x_check_reserved_lock;
  io.xFileControl = x_file_control;
  io.xSectorSize = x_sector_size;
  io.xDeviceCharacteristics = x_device_characteristics;
  io.xShmMap = x_shm_map;
  io.xShmLock = x_shm_lock;
  io.xShmBarrier = x_shm_barrier;
  io.xShmUnmap = x_shm_unmap;

  sqlite3_vfs& v = m.vfs;
  v.iVersion = 2;
  v.szOsFile = int(sizeof(CryptFile)) + root->szOsFile;
  v.mxPathname = root->mxPathname;
  v.zName = c->name_.c_str();
  v.pAppData = &m;
  v.xOpen = v_open;
  v.xDelete = v_delete;
  v.xAccess = v_access;
  v.xFullPathname = v_full_pathname;
  v.xDlOpen = v_dl_open;
  v.xDlError = v_dl_error;
  v.xDlSym = v_dl_sym;
  v.xDlClose = v_dl_close;
  v.xRandomness = v_randomness;
  v.xSleep = v_sleep;
  v.xCurrentTime = v_current_time;
  v.xGetLastError = v_get_last_error;
  v.xCurrentTimeInt64 = v_current_time_int64;
  if (sqlite3_vfs_register(&v, 0) != SQLITE_OK) return Status::internal("cannot register the encryption VFS");
  return c;
}

const StoreKey& CryptoVfs::key() const { return impl_->key; }

CryptoVfs::~CryptoVfs() {
  if (!impl_) return;
  sqlite3_vfs_unregister(&impl_->vfs);
  OPENSSL_cleanse(impl_->key.data(), impl_->key.size());
}

}  // namespace pm::store
