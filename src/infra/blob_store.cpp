#include "infra/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "infra/crypto.h"

namespace iv::infra {

BlobWriter::~BlobWriter() = default;
BlobReader::~BlobReader() = default;
BlobStore::~BlobStore() = default;

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxKeyLength = 1024;  // S3's limit
constexpr std::string_view kTmpDir = "tmp";

std::string Errno() { return std::strerror(errno); }

bool AllowedChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '/';
}

// The rules shared by keys and list prefixes; a prefix may end with "/" or be
// empty, a key may not.
Status ValidatePath(std::string_view s, std::string_view what) {
  const std::string w(what);
  if (s.size() > kMaxKeyLength) return Status::InvalidArgument(w + " is longer than 1024 characters");
  if (!std::all_of(s.begin(), s.end(), AllowedChar)) {
    return Status::InvalidArgument(w + " may contain only letters, digits and . _ - /");
  }
  if (s.starts_with('/')) return Status::InvalidArgument(w + " must not start with /");
  if (s.find("//") != std::string_view::npos) return Status::InvalidArgument(w + " has an empty segment");
  if (s.find("..") != std::string_view::npos) return Status::InvalidArgument(w + " must not contain ..");
  if (s == "." || s.starts_with("./") || s.ends_with("/.") || s.find("/./") != std::string_view::npos) {
    return Status::InvalidArgument(w + " must not have a . segment");
  }
  return Status::Ok();
}

Status ValidateLocalKey(std::string_view key) {
  IV_RETURN_IF_ERROR(ValidateBlobKey(key));
  if (key == kTmpDir || key.starts_with("tmp/")) {
    return Status::InvalidArgument("blob key must not start with tmp/ (reserved for writes in progress)");
  }
  return Status::Ok();
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // close() can report a delayed write error, so writers check it.
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status FsyncDir(const fs::path& dir) {
  Fd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return Status::Internal("cannot sync folder " + dir.string() + ": " + Errno());
  }
  return Status::Ok();
}

// Creates `dir` and missing parents (mode 0700), each made durable in its
// parent. ENOTDIR (a file where a folder should be) is a Conflict.
Status MakeDirs(const fs::path& dir) {
  fs::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (part.empty() || part == "/" || part == ".") continue;
    if (::mkdir(partial.c_str(), 0700) == 0) {
      IV_RETURN_IF_ERROR(FsyncDir(partial.parent_path()));
    } else if (errno == ENOTDIR) {
      return Status::Conflict("cannot create folder " + partial.string() + ": a blob has that name's prefix");
    } else if (errno != EEXIST) {
      return Status::Internal("cannot create folder " + partial.string() + ": " + Errno());
    }
  }
  return Status::Ok();
}

class LocalBlobWriter final : public BlobWriter {
 public:
  LocalBlobWriter(fs::path root, std::string key, fs::path tmp_path, int fd)
      : root_(std::move(root)), key_(std::move(key)), tmp_path_(std::move(tmp_path)), fd_(fd) {}

  ~LocalBlobWriter() override {
    if (!committed_) Discard();
  }

  Status Write(std::string_view bytes) override {
    if (closed_) return Status::Internal("blob " + key_ + ": write after commit or failure");
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail("cannot write blob " + key_ + ": " + Errno());
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (closed_) return Status::Internal("blob " + key_ + ": commit after commit or failure");
    if (::fsync(fd_.get()) != 0 || fd_.Close() != 0) return Fail("cannot write blob " + key_ + ": " + Errno());
    const fs::path final_path = root_ / key_;
    // A concurrent Delete may remove the (empty) folder between MakeDirs and
    // rename; try again then.
    for (int attempt = 0;; ++attempt) {
      Status made = MakeDirs(final_path.parent_path());
      if (!made.ok()) {
        Discard();
        return made.WithContext("cannot commit blob " + key_);
      }
      if (::rename(tmp_path_.c_str(), final_path.c_str()) == 0) break;
      if (errno == ENOENT && attempt < 3) continue;
      if (errno == EISDIR || errno == ENOTDIR || errno == ENOTEMPTY || errno == EEXIST) {
        Discard();
        return Status::Conflict("cannot commit blob " + key_ + ": it is the folder of other blobs");
      }
      return Fail("cannot commit blob " + key_ + ": " + Errno());
    }
    committed_ = true;
    closed_ = true;
    return FsyncDir(final_path.parent_path()).WithContext("committing blob " + key_);
  }

 private:
  Status Fail(const std::string& message) {
    Discard();
    return Status::Internal(message);
  }
  void Discard() {
    fd_.Reset();
    if (!tmp_path_.empty()) ::unlink(tmp_path_.c_str());
    tmp_path_.clear();
    closed_ = true;
  }

  fs::path root_;
  std::string key_;
  fs::path tmp_path_;
  Fd fd_;
  bool closed_ = false;
  bool committed_ = false;
};

class LocalBlobReader final : public BlobReader {
 public:
  LocalBlobReader(std::string key, int fd, std::uint64_t size) : key_(std::move(key)), fd_(fd), size_(size) {}

  std::uint64_t size() const override { return size_; }

  Result<std::size_t> Read(char* buf, std::size_t n) override {
    for (;;) {
      ssize_t got = ::read(fd_.get(), buf, n);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) return Status::Internal("cannot read blob " + key_ + ": " + Errno());
    }
  }

 private:
  std::string key_;
  Fd fd_;
  std::uint64_t size_;
};

// Appends to `out` the keys of the regular files below `dir` (relative to
// `root`) that start with `prefix`. Folders that vanish meanwhile (a
// concurrent Delete) are skipped.
Status Walk(const fs::path& root, const fs::path& dir, const std::string& prefix, bool skip_tmp,
            std::vector<std::string>& out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) return Status::Ok();
    return Status::Internal("cannot list folder " + dir.string() + ": " + ec.message());
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return Status::Internal("cannot list folder " + dir.string() + ": " + ec.message());
    const fs::path& path = it->path();
    const fs::file_status st = it->symlink_status(ec);
    if (ec) continue;  // removed meanwhile
    if (fs::is_directory(st)) {
      if (skip_tmp && path.filename() == kTmpDir) continue;
      IV_RETURN_IF_ERROR(Walk(root, path, prefix, false, out));
    } else if (fs::is_regular_file(st)) {
      std::string key = path.lexically_relative(root).generic_string();
      if (key.starts_with(prefix)) out.push_back(std::move(key));
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateBlobKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("blob key is empty");
  IV_RETURN_IF_ERROR(ValidatePath(key, "blob key"));
  if (key.ends_with('/')) return Status::InvalidArgument("blob key has an empty segment");
  return Status::Ok();
}

Status SkipForward(BlobReader& reader, std::uint64_t count) {
  std::string scratch(std::min<std::uint64_t>(count, 64 * 1024), '\0');
  while (count > 0) {
    IV_ASSIGN_OR_RETURN(std::size_t n, reader.Read(scratch.data(), std::min<std::uint64_t>(count, scratch.size())));
    if (n == 0) return Status::InvalidArgument("cannot skip past the end of the blob");
    count -= n;
  }
  return Status::Ok();
}

Result<std::string> ReadAll(BlobReader& reader, std::uint64_t max_bytes) {
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    IV_ASSIGN_OR_RETURN(std::size_t n, reader.Read(buf, sizeof buf));
    if (n == 0) return out;
    if (out.size() + n > max_bytes) return Status::TooLarge("blob is larger than " + std::to_string(max_bytes) + " bytes");
    out.append(buf, n);
  }
}

LocalBlobStore::LocalBlobStore(std::string root) : root_(std::move(root)) {
  // "data/" and "data" must name the same folder for the path arithmetic.
  while (root_.size() > 1 && root_.ends_with('/')) root_.pop_back();
  if (root_.empty()) root_ = ".";
}

Result<std::unique_ptr<BlobWriter>> LocalBlobStore::Create(const std::string& key) {
  IV_RETURN_IF_ERROR(ValidateLocalKey(key));
  const fs::path tmp_dir = fs::path(root_) / kTmpDir;
  IV_RETURN_IF_ERROR(MakeDirs(tmp_dir));
  fs::path tmp_path = tmp_dir / (RandomId() + ".part");
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Internal("cannot create blob " + key + ": " + Errno());
  return std::unique_ptr<BlobWriter>(new LocalBlobWriter(fs::path(root_), key, std::move(tmp_path), fd));
}

Result<std::unique_ptr<BlobReader>> LocalBlobStore::Open(const std::string& key) {
  IV_RETURN_IF_ERROR(ValidateLocalKey(key));
  const fs::path path = fs::path(root_) / key;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return Status::NotFound("no blob " + key);
    return Status::Internal("cannot open blob " + key + ": " + Errno());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Status::Internal("cannot open blob " + key + ": " + Errno());
  if (!S_ISREG(st.st_mode)) return Status::NotFound("no blob " + key);
  return std::unique_ptr<BlobReader>(
      std::make_unique<LocalBlobReader>(key, fd.Release(), static_cast<std::uint64_t>(st.st_size)));
}

Status LocalBlobStore::Delete(const std::string& key) {
  IV_RETURN_IF_ERROR(ValidateLocalKey(key));
  const fs::path root(root_);
  const fs::path path = root / key;
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR) return Status::Ok();
    return Status::Internal("cannot delete blob " + key + ": " + Errno());
  }
  IV_RETURN_IF_ERROR(FsyncDir(path.parent_path()).WithContext("deleting blob " + key));
  // Remove the folders this leaves empty (rmdir refuses non-empty ones), so
  // no trace of a deleted user's folder names stays behind.
  for (std::size_t slash = key.rfind('/'); slash != std::string::npos && slash > 0;
       slash = key.rfind('/', slash - 1)) {
    if (::rmdir((root / key.substr(0, slash)).c_str()) != 0) break;
  }
  return Status::Ok();
}

Result<std::vector<std::string>> LocalBlobStore::List(const std::string& prefix) {
  if (!prefix.empty()) IV_RETURN_IF_ERROR(ValidatePath(prefix, "blob key prefix"));
  if (prefix.starts_with("tmp/")) return std::vector<std::string>{};  // writes in progress are not objects
  const fs::path root(root_);
  // Walk only the deepest folder the prefix names completely.
  const std::size_t slash = prefix.rfind('/');
  const fs::path start = slash == std::string::npos ? root : root / prefix.substr(0, slash);
  std::vector<std::string> keys;
  IV_RETURN_IF_ERROR(Walk(root, start, prefix, /*skip_tmp=*/start == root, keys));
  std::sort(keys.begin(), keys.end());
  return keys;
}

Status LocalBlobStore::CleanupTemporaryFiles() {
  const fs::path tmp_dir = fs::path(root_) / kTmpDir;
  std::error_code ec;
  fs::directory_iterator it(tmp_dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return Status::Ok();
    return Status::Internal("cannot list " + tmp_dir.string() + ": " + ec.message());
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return Status::Internal("cannot list " + tmp_dir.string() + ": " + ec.message());
    fs::remove_all(it->path(), ec);
    if (ec) return Status::Internal("cannot remove " + it->path().string() + ": " + ec.message());
  }
  return FsyncDir(tmp_dir);
}

}  // namespace iv::infra
