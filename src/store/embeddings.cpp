#include "store/embeddings.h"

#include <cstring>
#include <filesystem>
#include <unordered_map>
#include <unordered_set>

namespace pm::store {
namespace {

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

Status db_error(Store& store, const std::string& what) {
  return Status::io_error(store.dir() + ": " + what + ": " + sqlite3_errmsg(store.handle()));
}

Status prepare(Store& store, const char* sql, Stmt* st) {
  if (sqlite3_prepare_v2(store.handle(), sql, -1, &st->s, nullptr) != SQLITE_OK) return db_error(store, "preparing");
  return Status::ok();
}

Result<std::optional<std::string>> get_config(Store& store, const char* key) {
  Stmt st;
  PM_RETURN_IF_ERROR(prepare(store, "SELECT value FROM config WHERE key = ?1", &st));
  sqlite3_bind_text(st.s, 1, key, -1, SQLITE_STATIC);
  const int rc = sqlite3_step(st.s);
  if (rc == SQLITE_ROW) return std::optional<std::string>(column_text(st.s, 0));
  if (rc != SQLITE_DONE) return db_error(store, "reading config");
  return std::optional<std::string>();
}

Status set_config(Store& store, const char* key, const std::string& value) {
  Stmt st;
  PM_RETURN_IF_ERROR(prepare(store, "INSERT OR REPLACE INTO config(key, value) VALUES(?1, ?2)", &st));
  sqlite3_bind_text(st.s, 1, key, -1, SQLITE_STATIC);
  bind_text(st.s, 2, value);
  if (sqlite3_step(st.s) != SQLITE_DONE) return db_error(store, "writing config");
  return Status::ok();
}

Status exec(Store& store, const char* sql) {
  if (sqlite3_exec(store.handle(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) return db_error(store, sql);
  return Status::ok();
}

}  // namespace

Result<std::optional<EmbeddingConfig>> embedding_config(Store& store) {
  PM_ASSIGN_OR_RETURN(std::optional<std::string> id, get_config(store, "embed_model_id"));
  if (!id) return std::optional<EmbeddingConfig>();
  EmbeddingConfig c;
  c.model_id = *id;
  PM_ASSIGN_OR_RETURN(std::optional<std::string> path, get_config(store, "embed_model"));
  PM_ASSIGN_OR_RETURN(std::optional<std::string> dim, get_config(store, "embed_dim"));
  c.model_path = path.value_or("");
  c.dim = dim ? std::strtoll(dim->c_str(), nullptr, 10) : 0;
  if (c.dim <= 0 || c.dim > 65536)
    return Status::corrupt(store.dir() + ": config embed_dim \"" + dim.value_or("") + "\" is not a valid dimension");
  return std::optional<EmbeddingConfig>(c);
}

Result<bool> configure_embedding_model(Store& store, const TextEmbedder& embedder) {
  PM_ASSIGN_OR_RETURN(std::optional<EmbeddingConfig> old, embedding_config(store));
  const bool changed = old && old->model_id != embedder.identity();
  std::error_code ec;
  const std::string abs = std::filesystem::absolute(embedder.path(), ec).string();
  PM_RETURN_IF_ERROR(store.begin());
  auto body = [&]() -> Status {
    if (changed || (old && old->dim != embedder.dim())) PM_RETURN_IF_ERROR(exec(store, "DELETE FROM embeddings"));
    PM_RETURN_IF_ERROR(set_config(store, "embed_model", ec ? embedder.path() : abs));
    PM_RETURN_IF_ERROR(set_config(store, "embed_model_id", embedder.identity()));
    PM_RETURN_IF_ERROR(set_config(store, "embed_dim", std::to_string(embedder.dim())));
    return Status::ok();
  };
  if (Status s = body(); !s.is_ok()) {
    (void)store.rollback();
    return s;
  }
  PM_RETURN_IF_ERROR(store.commit());
  if (changed) std::filesystem::remove(std::filesystem::path(store.dir()) / kVectorIndexFile, ec);
  return changed;
}

std::string embedding_text(const std::string& title, const std::string& text, const std::string& location,
                           const std::string& sender) {
  std::string s;
  for (const std::string* part : {&title, &text, &location})
    if (!part->empty()) s += (s.empty() ? "" : "\n") + *part;
  return s.empty() ? sender : s;
}

Result<int64_t> embed_pending(Store& store, const TextEmbedder& embedder, const EmbedOptions& options) {
  PM_ASSIGN_OR_RETURN(std::optional<EmbeddingConfig> cfg, embedding_config(store));
  if (!cfg || cfg->model_id != embedder.identity())
    return Status::invalid_argument(store.dir() + ": embed_pending: " + embedder.path() +
                                    " is not the store's configured embedding model");
  int64_t total = 0;
  {
    Stmt st;
    PM_RETURN_IF_ERROR(
        prepare(store, "SELECT count(*) FROM records WHERE rid NOT IN (SELECT rid FROM embeddings)", &st));
    if (sqlite3_step(st.s) == SQLITE_ROW) total = sqlite3_column_int64(st.s, 0);
  }
  Stmt pick, put;
  PM_RETURN_IF_ERROR(prepare(store,
                             "SELECT rid, coalesce(title, ''), coalesce(text, ''), coalesce(location, ''), "
                             "coalesce(sender, '') FROM records WHERE rid NOT IN (SELECT rid FROM embeddings) "
                             "ORDER BY rid LIMIT ?1",
                             &pick));
  PM_RETURN_IF_ERROR(prepare(store, "INSERT OR REPLACE INTO embeddings(rid, model, vec) VALUES(?1, ?2, ?3)", &put));
  const int batch = std::max(1, options.batch_records);
  const size_t D = size_t(embedder.dim());
  int64_t done = 0;
  std::vector<int64_t> rids;
  std::vector<std::string> texts;
  std::vector<float> vecs;
  while (true) {
    rids.clear();
    texts.clear();
    sqlite3_bind_int(pick.s, 1, batch);
    int rc;
    while ((rc = sqlite3_step(pick.s)) == SQLITE_ROW) {
      rids.push_back(sqlite3_column_int64(pick.s, 0));
      texts.push_back(embedding_text(column_text(pick.s, 1), column_text(pick.s, 2), column_text(pick.s, 3),
                                     column_text(pick.s, 4)));
    }
    sqlite3_reset(pick.s);
    if (rc != SQLITE_DONE) return db_error(store, "reading records to embed");
    if (rids.empty()) break;
    PM_RETURN_IF_ERROR(embedder.embed(texts, &vecs).with_context(embedder.path()));
    PM_RETURN_IF_ERROR(store.begin());
    for (size_t i = 0; i < rids.size(); ++i) {
      sqlite3_bind_int64(put.s, 1, rids[i]);
      bind_text(put.s, 2, embedder.identity());
      sqlite3_bind_blob(put.s, 3, &vecs[i * D], int(D * sizeof(float)), SQLITE_STATIC);
      const int prc = sqlite3_step(put.s);
      sqlite3_reset(put.s);
      if (prc != SQLITE_DONE) {
        Status s = db_error(store, "storing embeddings");
        (void)store.rollback();
        return s;
      }
    }
    PM_RETURN_IF_ERROR(store.commit());
    done += int64_t(rids.size());
    if (options.on_progress) options.on_progress(done, total);
  }
  return done;
}

Result<VectorIndex*> Store::vector_index() {
  vector_note_.clear();
  PM_ASSIGN_OR_RETURN(std::optional<EmbeddingConfig> cfg, embedding_config(*this));
  if (!cfg) {
    vectors_.reset();
    return static_cast<VectorIndex*>(nullptr);
  }
  PM_ASSIGN_OR_RETURN(std::optional<std::string> gen_text, get_config(*this, "vector_generation"));
  const uint64_t gen = gen_text ? std::strtoull(gen_text->c_str(), nullptr, 10) : 0;
  auto fits = [&](const VectorIndex& v) {
    return v.model_id() == cfg->model_id && int64_t(v.dim()) == cfg->dim && v.type() == VectorType::kI8;
  };
  if (vectors_ && fits(*vectors_) && vectors_->generation() == gen) return vectors_.get();
  const std::string path = (std::filesystem::path(dir_) / kVectorIndexFile).string();
  if (!vectors_ || !fits(*vectors_)) {
    vectors_.reset();
    // An encrypted store keeps no index file (it would hold the vectors in plaintext): built in memory.
    Result<std::unique_ptr<VectorIndex>> loaded =
        encrypted() ? Result<std::unique_ptr<VectorIndex>>(Status::not_found(path)) : VectorIndex::load(path);
    if (loaded.is_ok() && fits(**loaded)) {
      vectors_ = std::move(*loaded);
    } else if (loaded.is_ok()) {
      vector_note_ = "vector index file was for another model: rebuilt";
    } else if (loaded.status().code() != StatusCode::kNotFound) {
      vector_note_ = loaded.status().message() + ": rebuilt from the database";
    } else if (!encrypted()) {
      vector_note_ = "vector index file missing: rebuilt from the database";
    }
  }
  if (!vectors_) {
    vectors_ = std::make_unique<VectorIndex>(uint32_t(cfg->dim), VectorType::kI8);
    vectors_->set_model_id(cfg->model_id);
  }
  if (vectors_->generation() == gen) return vectors_.get();

  // Bring the index in step with the table: drop keys that are gone, add the new vectors. The
  // keys come from the small (rid -> eid) index; only new vectors are read.
  Stmt keys, row;
  PM_RETURN_IF_ERROR(prepare(*this, "SELECT eid FROM embeddings INDEXED BY sqlite_autoindex_embeddings_1", &keys));
  PM_RETURN_IF_ERROR(prepare(*this,
                             "SELECT e.vec, e.model, r.source, r.t_begin, r.t_end, coalesce(r.sender, '') "
                             "FROM embeddings e JOIN records r ON r.rid = e.rid WHERE e.eid = ?1",
                             &row));
  std::unordered_set<int64_t> in_db;
  std::vector<float> v(size_t(cfg->dim));
  int rc;
  while ((rc = sqlite3_step(keys.s)) == SQLITE_ROW) {
    const int64_t eid = sqlite3_column_int64(keys.s, 0);
    if (vectors_->contains(eid)) {
      in_db.insert(eid);
      continue;
    }
    sqlite3_bind_int64(row.s, 1, eid);
    const int rrc = sqlite3_step(row.s);
    if (rrc == SQLITE_ROW && column_text(row.s, 1) == cfg->model_id) {
      const int bytes = sqlite3_column_bytes(row.s, 0);
      if (bytes != int(cfg->dim * 4)) {
        sqlite3_reset(row.s);
        return Status::corrupt(dir_ + ": embedding " + std::to_string(eid) + " has " + std::to_string(bytes) +
                               " bytes, expected " + std::to_string(cfg->dim * 4));
      }
      std::memcpy(v.data(), sqlite3_column_blob(row.s, 0), size_t(bytes));
      VectorMeta m;
      m.source_bits = source_bit(column_text(row.s, 2));
      m.t_begin = sqlite3_column_int64(row.s, 3);
      m.t_end = sqlite3_column_int64(row.s, 4);
      m.sender_hash = sender_hash(fold_name(column_text(row.s, 5)));
      in_db.insert(eid);
      if (Status s = vectors_->add(eid, v.data(), m); !s.is_ok()) {
        sqlite3_reset(row.s);
        return s.with_context(dir_);
      }
    }
    sqlite3_reset(row.s);
  }
  if (rc != SQLITE_DONE) return db_error(*this, "reading embeddings");
  for (int64_t key : vectors_->keys())
    if (!in_db.count(key)) vectors_->remove(key);
  vectors_->set_generation(gen);
  // The file is a cache: failing to write it (read-only store, full disk) costs a rebuild on the
  // next open, not this search.
  if (encrypted()) return vectors_.get();
  if (Status s = vectors_->save(path); !s.is_ok()) vector_note_ += (vector_note_.empty() ? "" : "; ") + s.message();
  return vectors_.get();
}

}  // namespace pm::store
