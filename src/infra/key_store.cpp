#include "infra/key_store.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace iv::infra {
namespace {

std::string Errno() { return std::strerror(errno); }

// Closes a descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close() reports delayed write errors, so callers that wrote check it.
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status FsyncDir(const std::filesystem::path& dir) {
  Fd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return Status::Internal("cannot sync directory " + dir.string() + ": " + Errno());
  }
  return Status::Ok();
}

// Creates `dir` and its missing parents with mode 0700, each one made durable
// in its parent.
Status MakeDirs(const std::filesystem::path& dir) {
  if (dir.empty()) return Status::Ok();
  std::filesystem::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (part == "/" || part.empty()) continue;
    if (::mkdir(partial.c_str(), 0700) == 0) {
      IV_RETURN_IF_ERROR(FsyncDir(partial.parent_path()));
    } else if (errno != EEXIST) {
      return Status::Internal("cannot create directory " + partial.string() + ": " + Errno());
    }
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Internal(Errno());
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Result<Key> ReadKeyFile(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::Internal("cannot stat master key file " + path + ": " + Errno());
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("master key file " + path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::PermissionDenied("master key file " + path + " is accessible to group or others (mode " + mode +
                                    "); run: chmod 600 " + path);
  }
  // 64 hex digits and a line ending; anything much longer is not a key file.
  std::string text(256, '\0');
  std::size_t len = 0;
  while (len < text.size()) {
    ssize_t n = ::read(fd, text.data() + len, text.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Wipe(text);
      return Status::Internal("cannot read master key file " + path + ": " + Errno());
    }
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  text.resize(len);
  Result<Key> key = len == 256 ? Result<Key>(Status::InvalidArgument("too long")) : MasterKeyFromHex(text);
  Wipe(text);
  if (!key.ok()) {
    return Status::InvalidArgument("master key file " + path + " is malformed: expected 64 hex digits (32 bytes)");
  }
  return key;
}

// Writes a new key to a private temporary file, then links it to `path`:
// link() fails if `path` appeared meanwhile, so concurrent starters never see
// a half-written file and all end up with the same key.
Result<Key> CreateKeyFile(const std::string& path, bool* lost_race) {
  *lost_race = false;
  const std::filesystem::path target(path);
  IV_RETURN_IF_ERROR(MakeDirs(target.parent_path()));
  const std::string tmp = path + ".tmp-" + RandomId();
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return Status::Internal("cannot create master key file " + path + ": " + Errno());
  Key key = RandomKey();
  std::string text = Hex(std::string_view(reinterpret_cast<const char*>(key.data()), key.size())) + "\n";
  Status written = WriteAll(fd.get(), text);
  Wipe(text);
  if (written.ok() && (::fchmod(fd.get(), 0600) != 0 || ::fsync(fd.get()) != 0 || fd.Close() != 0)) {
    written = Status::Internal(Errno());
  }
  if (written.ok() && ::link(tmp.c_str(), path.c_str()) != 0) {
    if (errno == EEXIST) *lost_race = true;
    written = Status::Internal(Errno());
  }
  ::unlink(tmp.c_str());
  if (!written.ok()) {
    Wipe(key);
    return written.WithContext("cannot create master key file " + path);
  }
  IV_RETURN_IF_ERROR(FsyncDir(target.parent_path()));
  return key;
}

}  // namespace

Result<Key> MasterKeyFromHex(std::string_view hex) {
  InitSodium();
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = hex.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return Status::InvalidArgument("master key is empty");
  hex = hex.substr(first, hex.find_last_not_of(kSpace) - first + 1);
  Key key{};
  std::size_t len = 0;
  if (hex.size() != key.size() * 2 ||
      sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), /*ignore=*/nullptr, &len, /*hex_end=*/nullptr) !=
          0 ||
      len != key.size()) {
    Wipe(key);
    return Status::InvalidArgument("master key must be 64 hexadecimal digits (32 bytes)");
  }
  if (sodium_is_zero(key.data(), key.size())) {
    return Status::InvalidArgument("master key is all zeros; generate a random one (e.g. openssl rand -hex 32)");
  }
  return key;
}

Result<Key> LoadOrCreateMasterKey(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("master key file path is empty");
  for (int attempt = 0; attempt < 3; ++attempt) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() >= 0) return ReadKeyFile(fd.get(), path);
    if (errno != ENOENT) return Status::Internal("cannot open master key file " + path + ": " + Errno());
    bool lost_race = false;
    Result<Key> created = CreateKeyFile(path, &lost_race);
    if (created.ok() || !lost_race) return created;
    // Another process created the file first: read theirs.
  }
  return Status::Internal("cannot create master key file " + path + ": it keeps appearing and disappearing");
}

}  // namespace iv::infra
