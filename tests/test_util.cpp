#include "test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/gguf.h"
#include "store/store_key.h"

namespace pm::test {

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string fixture(const std::string& rel) {
  const std::string path = std::string(PM_FIXTURES_DIR) + "/" + rel;
  return file_exists(path) ? path : "";
}

bool slow_build() {
  if (const char* e = std::getenv("PM_TEST_SLOW")) return std::string(e) == "1";  // to try the short counts natively
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#endif
#endif
  return PM_EMULATOR[0] != '\0';
}

int scaled(int n, int at_least) { return slow_build() ? std::max(at_least, n / 4) : n; }

std::unique_ptr<Model> load_model_or_fail(const std::string& path) {
  Result<std::unique_ptr<Model>> m = load_model(path);
  EXPECT_TRUE(m.is_ok()) << m.status().to_string();
  return m.is_ok() ? std::move(m).value() : nullptr;
}

Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& path) {
  Result<std::unique_ptr<GgufFile>> f = GgufFile::open(path);
  if (!f.is_ok()) return f.status();
  return Tokenizer::from_gguf(**f);
}

double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    worst = std::max(worst, std::fabs(double(a[i]) - b[i]) / std::max(1.0, std::fabs(double(b[i]))));
  return worst;
}

std::string ids_string(const std::vector<TokenId>& ids) {
  std::string s;
  for (TokenId id : ids) s.append(" ").append(std::to_string(id));
  return s;
}

std::vector<float> read_f32(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string write_file(const std::string& dir, const std::string& name, const std::string& content) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string dir_bytes(const std::string& dir) {
  std::string all;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file()) all += read_text(e.path().string());
  return all;
}

store::StoreKey make_encrypted_store(const std::string& dir, const std::string& passphrase) {
  constexpr int kFewestIterations = 100000;  // what unlock_store_key accepts at least
  Result<store::StoreKey> k = store::create_store_key(dir, passphrase, kFewestIterations);
  EXPECT_TRUE(k.is_ok()) << k.status().message();
  return k.is_ok() ? *k : store::StoreKey{};
}

PassphraseEnvUnset::PassphraseEnvUnset() { unsetenv("POCKETMIND_PASSPHRASE"); }
PassphraseEnvUnset::~PassphraseEnvUnset() { unsetenv("POCKETMIND_PASSPHRASE"); }

std::string temp_dir() {
  std::string tmpl = std::filesystem::temp_directory_path().string() + "/pm-test-XXXXXX";
  char* p = mkdtemp(tmpl.data());
  if (p == nullptr) return "";
  static std::vector<std::string> dirs;
  static struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
  } cleanup;
  dirs.push_back(tmpl);
  return tmpl;
}

std::vector<std::string> pocketmind_command(const std::vector<std::string>& args) {
  std::vector<std::string> words;
  // Cross builds run the binary through the emulator (a |-separated command line).
  for (std::string rest = PM_EMULATOR; !rest.empty();) {
    const size_t bar = rest.find('|');
    words.push_back(rest.substr(0, bar));
    rest = bar == std::string::npos ? "" : rest.substr(bar + 1);
  }
  words.push_back(PM_BINARY);
  words.insert(words.end(), args.begin(), args.end());
  return words;
}

// The child's stdin, stdout and stderr through one poll() loop: the test process starts no
// thread, so the next fork (under qemu-user too, where forking a process that has had threads
// can hang the child) happens in a single-threaded process. The argument list is built before
// the fork: the child only redirects and execs.
CommandResult run_pocketmind(const std::vector<std::string>& args, const std::string& stdin_text) {
  signal(SIGPIPE, SIG_IGN);  // a child that exits early must not kill the test
  std::vector<std::string> words = pocketmind_command(args);
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);

  int in[2], out[2], err[2];
  if (pipe(in) != 0 || pipe(out) != 0 || pipe(err) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(in[0]); close(in[1]); close(out[0]); close(out[1]); close(err[0]); close(err[1]);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(in[0]); close(out[1]); close(err[1]);
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  CommandResult r;
  int in_fd = in[1];
  size_t in_off = 0;
  if (stdin_text.empty()) { close(in_fd); in_fd = -1; }
  int fds[2] = {out[0], err[0]};
  std::string* sinks[2] = {&r.out, &r.err};
  char buf[65536];
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd p[3];
    int n = 0;
    for (int i = 0; i < 2; ++i) p[n++] = {fds[i], POLLIN, 0};  // fd -1: ignored by poll
    if (in_fd >= 0) p[n++] = {in_fd, POLLOUT, 0};
    if (poll(p, nfds_t(n), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i] < 0 || p[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i], buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, size_t(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i]);
        fds[i] = -1;
      }
    }
    if (in_fd >= 0 && p[2].revents != 0) {
      const ssize_t put = ::write(in_fd, stdin_text.data() + in_off, stdin_text.size() - in_off);
      if (put > 0) in_off += size_t(put);
      if ((put < 0 && errno != EAGAIN && errno != EINTR) || in_off == stdin_text.size()) {
        close(in_fd);  // all written, or the child stopped reading
        in_fd = -1;
      }
    }
  }
  for (int fd : {fds[0], fds[1], in_fd})  // left open only when poll() itself failed
    if (fd >= 0) close(fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace pm::test
