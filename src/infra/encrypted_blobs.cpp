#include "infra/encrypted_blobs.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace iv::infra {
namespace {

constexpr unsigned char kFormatVersion = 1;
constexpr std::size_t kHeaderBytes = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr std::size_t kPrefixBytes = 1 + kHeaderBytes;
constexpr std::size_t kTagBytes = crypto_secretstream_xchacha20poly1305_ABYTES;
constexpr std::size_t kChunk = kEncryptedChunkSize;
constexpr std::size_t kCipherChunk = kChunk + kTagBytes;
constexpr unsigned char kTagMessage = crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
constexpr unsigned char kTagFinal = crypto_secretstream_xchacha20poly1305_TAG_FINAL;
static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == sizeof(Key));
static_assert(kHeaderBytes == 24 && kTagBytes == 17, "the documented format");

// Associated data of every chunk: binds the format version and the blob key.
std::string ChunkAd(const std::string& key) { return std::string(1, static_cast<char>(kFormatVersion)) + key; }

std::string Errno() { return std::strerror(errno); }

// Reads exactly n bytes unless the blob ends first; returns how many.
Result<std::size_t> ReadFull(BlobReader& reader, unsigned char* buf, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    IV_ASSIGN_OR_RETURN(std::size_t r, reader.Read(reinterpret_cast<char*>(buf) + got, n - got));
    if (r == 0) break;
    got += r;
  }
  return got;
}

class EncryptedWriter final : public BlobWriter {
 public:
  EncryptedWriter(std::unique_ptr<BlobWriter> inner, const std::string& key)
      : inner_(std::move(inner)), key_(key), ad_(ChunkAd(key)), plain_(kChunk), cipher_(kCipherChunk) {}

  ~EncryptedWriter() override {
    sodium_memzero(plain_.data(), plain_.size());
    sodium_memzero(&state_, sizeof state_);
  }

  // Writes the version byte and a fresh stream header.
  Status Start(const Key& dek) {
    unsigned char prefix[kPrefixBytes];
    prefix[0] = kFormatVersion;
    crypto_secretstream_xchacha20poly1305_init_push(&state_, prefix + 1, dek.data());
    return inner_->Write(std::string_view(reinterpret_cast<const char*>(prefix), sizeof prefix));
  }

  Status Write(std::string_view bytes) override {
    if (!inner_) return Status::Internal("encrypted blob " + key_ + ": write after commit or failure");
    while (!bytes.empty()) {
      if (buffered_ == 0 && bytes.size() >= kChunk) {  // whole chunks skip the copy
        IV_RETURN_IF_ERROR(Push(reinterpret_cast<const unsigned char*>(bytes.data()), kChunk, kTagMessage));
        bytes.remove_prefix(kChunk);
        continue;
      }
      const std::size_t take = std::min(kChunk - buffered_, bytes.size());
      std::memcpy(plain_.data() + buffered_, bytes.data(), take);
      buffered_ += take;
      bytes.remove_prefix(take);
      if (buffered_ == kChunk) {
        IV_RETURN_IF_ERROR(Push(plain_.data(), kChunk, kTagMessage));
        buffered_ = 0;
      }
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (!inner_) return Status::Internal("encrypted blob " + key_ + ": commit after commit or failure");
    IV_RETURN_IF_ERROR(Push(plain_.data(), buffered_, kTagFinal));
    buffered_ = 0;
    Status committed = inner_->Commit();
    inner_.reset();
    return committed;
  }

 private:
  Status Push(const unsigned char* plain, std::size_t n, unsigned char tag) {
    unsigned long long clen = 0;
    crypto_secretstream_xchacha20poly1305_push(&state_, cipher_.data(), &clen, plain, n,
                                               reinterpret_cast<const unsigned char*>(ad_.data()), ad_.size(), tag);
    Status written = inner_->Write(std::string_view(reinterpret_cast<const char*>(cipher_.data()), clen));
    if (!written.ok()) inner_.reset();  // discards the partial blob
    return written;
  }

  std::unique_ptr<BlobWriter> inner_;  // null once committed or failed
  std::string key_;
  std::string ad_;
  crypto_secretstream_xchacha20poly1305_state state_{};
  std::vector<unsigned char> plain_;
  std::size_t buffered_ = 0;
  std::vector<unsigned char> cipher_;
};

class EncryptedReader final : public BlobReader {
 public:
  EncryptedReader(std::unique_ptr<BlobReader> inner, const std::string& key)
      : inner_(std::move(inner)), key_(key), ad_(ChunkAd(key)), plain_(kChunk), cipher_(kCipherChunk) {}

  ~EncryptedReader() override {
    sodium_memzero(plain_.data(), plain_.size());
    sodium_memzero(&state_, sizeof state_);
  }

  // Reads the version and header and works out the layout.
  Status Start(const Key& dek) {
    const std::uint64_t total = inner_->size();
    if (total < kPrefixBytes + kTagBytes) return Corrupt("too short to be an encrypted blob");
    const std::uint64_t body = total - kPrefixBytes;
    full_chunks_ = body / kCipherChunk;
    last_chunk_bytes_ = static_cast<std::size_t>(body % kCipherChunk);
    if (last_chunk_bytes_ < kTagBytes) return Corrupt("truncated");
    plain_size_ = full_chunks_ * kChunk + (last_chunk_bytes_ - kTagBytes);

    unsigned char prefix[kPrefixBytes];
    IV_ASSIGN_OR_RETURN(std::size_t got, ReadFull(*inner_, prefix, sizeof prefix));
    if (got != sizeof prefix) return Corrupt("truncated");
    if (prefix[0] != kFormatVersion) return Corrupt("unknown format version " + std::to_string(prefix[0]));
    if (crypto_secretstream_xchacha20poly1305_init_pull(&state_, prefix + 1, dek.data()) != 0) {
      return Corrupt("invalid header");
    }
    return Status::Ok();
  }

  std::uint64_t size() const override { return plain_size_; }

  Result<std::size_t> Read(char* buf, std::size_t n) override {
    if (!error_.ok()) return error_;
    if (n == 0) return std::size_t{0};
    while (pos_ == available_) {
      if (finished_) return std::size_t{0};
      Status next = NextChunk();
      if (!next.ok()) {
        error_ = next;  // a stream that failed once stays failed
        sodium_memzero(plain_.data(), plain_.size());
        pos_ = available_ = 0;
        return next;
      }
    }
    const std::size_t take = std::min(n, available_ - pos_);
    std::memcpy(buf, plain_.data() + pos_, take);
    pos_ += take;
    return take;
  }

 private:
  Status Corrupt(const std::string& why) const {
    return Status::Internal("cannot decrypt blob " + key_ + ": " + why);
  }

  Status NextChunk() {
    const bool last = chunks_read_ == full_chunks_;
    const std::size_t clen = last ? last_chunk_bytes_ : kCipherChunk;
    IV_ASSIGN_OR_RETURN(std::size_t got, ReadFull(*inner_, cipher_.data(), clen));
    if (got != clen) return Corrupt("truncated");
    unsigned long long mlen = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(&state_, plain_.data(), &mlen, &tag, cipher_.data(), clen,
                                                   reinterpret_cast<const unsigned char*>(ad_.data()),
                                                   ad_.size()) != 0) {
      return Corrupt("wrong key, moved to another key, or tampered with");
    }
    // Cannot happen for a chunk that authenticated, but the stream must end
    // exactly where the layout says, nowhere else.
    if (tag != (last ? kTagFinal : kTagMessage)) return Corrupt(last ? "truncated" : "unexpected end of stream");
    ++chunks_read_;
    pos_ = 0;
    available_ = static_cast<std::size_t>(mlen);
    if (last) {
      unsigned char extra;
      IV_ASSIGN_OR_RETURN(std::size_t more, ReadFull(*inner_, &extra, 1));
      if (more != 0) return Corrupt("data after the end of the stream");
      finished_ = true;
    }
    return Status::Ok();
  }

  std::unique_ptr<BlobReader> inner_;
  std::string key_;
  std::string ad_;
  crypto_secretstream_xchacha20poly1305_state state_{};
  std::uint64_t plain_size_ = 0;
  std::uint64_t full_chunks_ = 0;
  std::size_t last_chunk_bytes_ = 0;
  std::uint64_t chunks_read_ = 0;
  std::vector<unsigned char> plain_;
  std::size_t pos_ = 0;
  std::size_t available_ = 0;
  std::vector<unsigned char> cipher_;
  bool finished_ = false;
  Status error_;
};

}  // namespace

Result<std::unique_ptr<BlobWriter>> CreateEncrypted(BlobStore& store, const std::string& key, const Key& dek) {
  InitSodium();
  IV_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> inner, store.Create(key));
  auto writer = std::make_unique<EncryptedWriter>(std::move(inner), key);
  IV_RETURN_IF_ERROR(writer->Start(dek));
  return std::unique_ptr<BlobWriter>(std::move(writer));
}

Result<std::unique_ptr<BlobReader>> OpenEncrypted(BlobStore& store, const std::string& key, const Key& dek) {
  InitSodium();
  IV_ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> inner, store.Open(key));
  auto reader = std::make_unique<EncryptedReader>(std::move(inner), key);
  IV_RETURN_IF_ERROR(reader->Start(dek));
  return std::unique_ptr<BlobReader>(std::move(reader));
}

Status EncryptFile(BlobStore& store, const std::string& key, const Key& dek, const std::string& local_path) {
  const int fd = ::open(local_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("no such file: " + local_path);
    return Status::Internal("cannot open " + local_path + ": " + Errno());
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  IV_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, CreateEncrypted(store, key, dek));
  std::vector<char> buf(kChunk);
  Status status;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = Status::Internal("cannot read " + local_path + ": " + Errno());
      break;
    }
    if (n == 0) break;
    status = writer->Write(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    if (!status.ok()) break;
  }
  sodium_memzero(buf.data(), buf.size());
  IV_RETURN_IF_ERROR(status);
  return writer->Commit();
}

Status DecryptToFile(BlobStore& store, const std::string& key, const Key& dek, const std::string& local_path) {
  IV_ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, OpenEncrypted(store, key, dek));
  const std::string tmp = local_path + ".part-" + RandomId();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Internal("cannot create " + tmp + ": " + Errno());
  std::vector<char> buf(kChunk);
  Status status;
  for (;;) {
    Result<std::size_t> got = reader->Read(buf.data(), buf.size());
    if (!got.ok()) {
      status = got.status();
      break;
    }
    if (*got == 0) break;
    std::string_view left(buf.data(), *got);
    while (!left.empty() && status.ok()) {
      ssize_t n = ::write(fd, left.data(), left.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) status = Status::Internal("cannot write " + local_path + ": " + Errno());
      else left.remove_prefix(static_cast<std::size_t>(n));
    }
    if (!status.ok()) break;
  }
  sodium_memzero(buf.data(), buf.size());
  if (::close(fd) != 0 && status.ok()) status = Status::Internal("cannot write " + local_path + ": " + Errno());
  if (status.ok() && ::rename(tmp.c_str(), local_path.c_str()) != 0) {
    status = Status::Internal("cannot write " + local_path + ": " + Errno());
  }
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

}  // namespace iv::infra
