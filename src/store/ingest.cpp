#include "store/ingest.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/ical.h"
#include "store/utf8.h"
#include "store/vcard.h"

namespace pm::store {
namespace fs = std::filesystem;
namespace {

enum class Format { kJsonl, kIcs, kVcard, kNote, kNotesDir };

Result<Format> detect_format(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return Format::kNotesDir;
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = char(std::tolower(uint8_t(c)));
  if (ext == ".jsonl" || ext == ".ndjson" || ext == ".json") return Format::kJsonl;
  if (ext == ".ics" || ext == ".ical" || ext == ".ifb") return Format::kIcs;
  if (ext == ".vcf" || ext == ".vcard") return Format::kVcard;
  if (ext == ".txt" || ext == ".md") return Format::kNote;
  std::ifstream f(path, std::ios::binary);
  char head[64] = {};
  f.read(head, sizeof head - 1);
  const std::string h(head, size_t(f.gcount()));
  const size_t first = h.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first != std::string::npos && h[first] == '{') return Format::kJsonl;
  if (h.find("BEGIN:VCALENDAR") != std::string::npos) return Format::kIcs;
  if (h.find("BEGIN:VCARD") != std::string::npos) return Format::kVcard;
  return Status::unsupported(path +
                             ": unknown input format (expected .jsonl, .ics, .vcf, a notes folder, .txt or .md)");
}

// Writes records in transactions of options.batch_records and keeps the counts.
class Writer {
 public:
  Writer(Store& store, const IngestOptions& options, IngestSummary& summary)
      : store_(store), options_(options), summary_(summary) {}

  Status add(const Record& r, const std::string& origin) {
    if (in_batch_ == 0) PM_RETURN_IF_ERROR(store_.begin());
    Result<UpsertOutcome> outcome = store_.upsert(r, origin);
    if (!outcome.is_ok()) {
      (void)store_.rollback();
      in_batch_ = 0;
      return outcome.status();
    }
    pending_[int(*outcome)] += 1;
    if (++in_batch_ >= options_.batch_records) return flush();
    return Status::ok();
  }

  Status flush() {
    if (in_batch_ == 0) return Status::ok();
    Status s = store_.commit();
    if (!s.is_ok()) {
      (void)store_.rollback();
      in_batch_ = 0;
      return s;
    }
    summary_.added += pending_[0];
    summary_.replaced += pending_[1];
    summary_.unchanged += pending_[2];
    summary_.committed += in_batch_;
    pending_[0] = pending_[1] = pending_[2] = 0;
    in_batch_ = 0;
    if (options_.on_commit) options_.on_commit(summary_.committed);
    return Status::ok();
  }

  void reject(const std::string& file, int64_t line, const std::string& reason) {
    summary_.rejected += 1;
    IngestReject r{file, line, reason};
    if (options_.on_reject) options_.on_reject(r);
    if (summary_.rejects.size() < options_.max_rejects_kept) summary_.rejects.push_back(std::move(r));
  }

 private:
  Store& store_;
  const IngestOptions& options_;
  IngestSummary& summary_;
  int in_batch_ = 0;
  int64_t pending_[3] = {0, 0, 0};  // by UpsertOutcome
};

// Reads lines of at most kMaxLineBytes; a longer line is skipped and reported by its length.
class LineReader {
 public:
  explicit LineReader(std::FILE* f) : f_(f) {}
  // false at end of file. *too_long_bytes > 0 when the line was over the limit (its bytes dropped).
  bool next(std::string& line, uint64_t* too_long_bytes) {
    line.clear();
    *too_long_bytes = 0;
    bool any = false;
    for (;;) {
      if (pos_ == len_) {
        len_ = std::fread(buf_, 1, sizeof buf_, f_);
        pos_ = 0;
        if (len_ == 0) return any;
      }
      any = true;
      const char* start = buf_ + pos_;
      const void* nl = std::memchr(start, '\n', len_ - pos_);
      const size_t n = nl ? size_t(static_cast<const char*>(nl) - start) : len_ - pos_;
      if (*too_long_bytes == 0 && line.size() + n <= kMaxLineBytes) {
        line.append(start, n);
      } else {
        if (*too_long_bytes == 0) *too_long_bytes = line.size();
        *too_long_bytes += n;
        line.clear();
      }
      bytes_read_ += n + (nl ? 1 : 0);
      pos_ += n + (nl ? 1 : 0);
      if (nl) break;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  std::FILE* f_;
  char buf_[1 << 16];
  size_t pos_ = 0, len_ = 0;
  uint64_t bytes_read_ = 0;
};

// One line of JSON Lines: blank lines are skipped, bad ones rejected (named by origin:line_no),
// good ones added.
Status ingest_line(std::string& line, int64_t line_no, const std::string& origin, Writer& w) {
  if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // byte order mark
  if (line.find_first_not_of(" \t") == std::string::npos) return Status::ok();  // blank line
  Result<Record> r = parse_record(line);
  if (!r.is_ok()) {
    w.reject(origin, line_no, r.status().message());
    return Status::ok();
  }
  return w.add(*r, origin);
}

Status ingest_jsonl(const std::string& path, Writer& w, const IngestOptions& o, uint64_t done_before, uint64_t total) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    w.reject(path, 0, std::string("cannot open: ") + std::strerror(errno));
    return Status::ok();
  }
  auto reader = std::make_unique<LineReader>(f);
  std::string line;
  uint64_t too_long = 0;
  int64_t line_no = 0;
  Status status;
  while (reader->next(line, &too_long)) {
    ++line_no;
    if (too_long > 0) {
      w.reject(path, line_no,
               "line is " + std::to_string(too_long) + " bytes; the limit is " + std::to_string(kMaxLineBytes));
      continue;
    }
    status = ingest_line(line, line_no, path, w);
    if (!status.is_ok()) break;
    if (o.on_progress && line_no % 256 == 0) o.on_progress(done_before + reader->bytes_read(), total);
  }
  std::fclose(f);
  return status;
}

Result<std::string> read_file(const std::string& path, uint64_t limit_bytes) {
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return Status::io_error("cannot read: " + ec.message());
  if (size > limit_bytes)
    return Status::invalid_argument("file is " + std::to_string(size) + " bytes; the limit is " +
                                    std::to_string(limit_bytes));
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::io_error("cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Timestamp file_time(const std::string& path) {
  std::error_code ec;
  const auto t = fs::last_write_time(path, ec);
  Timestamp ts;
  if (!ec) {
    const auto sys = std::chrono::file_clock::to_sys(t);
    ts.epoch_s = std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch()).count();
  }
  return ts;
}

// One plain-text note: title = first non-empty line (without Markdown '#'), text = the whole file.
Status ingest_note(const std::string& path, const std::string& id_path, Writer& w) {
  Result<std::string> text = read_file(path, kMaxTextBytes);
  if (!text.is_ok()) {
    w.reject(path, 0, text.status().message());
    return Status::ok();
  }
  if (size_t bad = find_invalid_utf8(*text); bad != std::string::npos) {
    w.reject(path, 0, "invalid UTF-8 at byte " + std::to_string(bad));
    return Status::ok();
  }
  Record r;
  r.id = "note:" + id_path;
  r.source = "note";
  r.time = file_time(path);
  std::istringstream lines(*text);
  std::string first;
  while (std::getline(lines, first)) {
    const size_t a = first.find_first_not_of(" \t#\r");
    if (a == std::string::npos) continue;
    first = first.substr(a);
    while (!first.empty() && (first.back() == '\r' || first.back() == ' ')) first.pop_back();
    break;
  }
  r.title = std::string(utf8_prefix(first, 200));
  r.text = *text;
  r.meta = {{"path", id_path}};
  if (Status s = validate_record(r); !s.is_ok()) {
    w.reject(path, 0, s.message());
    return Status::ok();
  }
  return w.add(r, path);
}

Status ingest_converted(const std::string& path, const ConvertResult& c, Writer& w) {
  for (const auto& [line, reason] : c.errors) w.reject(path, line, reason);
  for (const Record& r : c.records) {
    if (Status s = validate_record(r); !s.is_ok()) {
      w.reject(path, 0, r.id + ": " + s.message());
      continue;
    }
    PM_RETURN_IF_ERROR(w.add(r, path));
  }
  return Status::ok();
}

}  // namespace

Result<IngestSummary> ingest(Store& store, const std::vector<std::string>& paths, const IngestOptions& o) {
  std::vector<std::pair<std::string, Format>> inputs;
  uint64_t total = 0;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!fs::exists(p, ec)) return Status::not_found(p + ": no such file or directory");
    PM_ASSIGN_OR_RETURN(Format f, detect_format(p));
    inputs.emplace_back(p, f);
    if (f != Format::kNotesDir) total += fs::file_size(p, ec);
  }
  IngestSummary summary;
  Writer w(store, o, summary);
  uint64_t done = 0;
  for (const auto& [path, format] : inputs) {
    summary.files += 1;
    std::error_code ec;
    switch (format) {
      case Format::kJsonl:
        PM_RETURN_IF_ERROR(ingest_jsonl(path, w, o, done, total));
        break;
      case Format::kNote:
        PM_RETURN_IF_ERROR(ingest_note(path, fs::path(path).filename().string(), w));
        break;
      case Format::kNotesDir: {
        std::vector<fs::path> files;
        for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
          if (!it->is_regular_file(ec)) continue;
          std::string ext = it->path().extension().string();
          for (char& c : ext) c = char(std::tolower(uint8_t(c)));
          if (ext == ".txt" || ext == ".md") files.push_back(it->path());
        }
        std::sort(files.begin(), files.end());
        for (const fs::path& f : files)
          PM_RETURN_IF_ERROR(ingest_note(f.string(), fs::relative(f, path, ec).generic_string(), w));
        break;
      }
      case Format::kIcs:
      case Format::kVcard: {
        Result<std::string> text = read_file(path, 64ull << 20);
        if (!text.is_ok()) {
          w.reject(path, 0, text.status().message());
          break;
        }
        ConvertResult c;
        if (format == Format::kIcs) {
          IcsOptions io;
          io.window_begin_s = o.now.epoch_s - int64_t(o.window_days_past) * 86400;
          io.window_end_s = o.now.epoch_s + int64_t(o.window_days_future) * 86400;
          io.default_offset_s = o.now.offset_s;
          c = parse_ics(*text, io);
        } else {
          c = parse_vcard(*text, file_time(path));
        }
        PM_RETURN_IF_ERROR(ingest_converted(path, c, w));
        break;
      }
    }
    if (format != Format::kNotesDir) done += fs::file_size(path, ec);
    if (o.on_progress) o.on_progress(done, total);
  }
  PM_RETURN_IF_ERROR(w.flush());
  return summary;
}

Result<IngestSummary> ingest_jsonl_text(Store& store, std::string_view text, const std::string& origin,
                                        const IngestOptions& o) {
  IngestSummary summary;
  Writer w(store, o, summary);
  int64_t line_no = 0;
  std::string line;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view piece = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
    if (piece.size() > kMaxLineBytes) {
      w.reject(origin, line_no,
               "line is " + std::to_string(piece.size()) + " bytes; the limit is " + std::to_string(kMaxLineBytes));
      continue;
    }
    line.assign(piece);
    PM_RETURN_IF_ERROR(ingest_line(line, line_no, origin, w));
  }
  PM_RETURN_IF_ERROR(w.flush());
  return summary;
}

}  // namespace pm::store
