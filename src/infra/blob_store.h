// Blob store: where uploads, renders and thumbnails live, as opaque bytes
// under string keys like "u/<user id>/images/<id>.orig".
//
// The contract is what an object store (S3 and friends) offers, so one can
// replace the local folder later without touching callers:
//   - an object is written once, as a stream, and becomes visible atomically
//     at Commit; a writer dropped without Commit leaves nothing behind
//     (the "no partial files" invariant);
//   - committing to an existing key replaces the object (last Commit wins);
//   - no rename, append, or writing at an offset; reads are sequential.
// Callers store only ciphertext here (encrypted_blobs.h); the store itself
// does not encrypt.
//
// Keys: 1 to 1024 characters of [A-Za-z0-9._/-], "/"-separated segments,
// none empty or ".", no ".." anywhere, not starting with "/"
// (ValidateBlobKey); backslashes, spaces and "%" are refused too. So a
// key can never name a file outside the store's folder, whatever a caller
// concatenates into it. Invalid keys are InvalidArgument.
//
// Thread-safety: a BlobStore may be used from many threads at once. A
// BlobWriter or BlobReader belongs to one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace iv::infra {

// Receives an object's bytes. Destroyed without a successful Commit, it
// discards everything written: nothing becomes visible.
class BlobWriter {
 public:
  virtual ~BlobWriter();
  // Appends bytes to the object being written (not yet visible).
  virtual Status Write(std::string_view bytes) = 0;
  // Makes the object visible under its key, durably. After Commit (or any
  // failed call) the writer accepts nothing more.
  virtual Status Commit() = 0;
};

// Reads an object's bytes from the start, sequentially.
class BlobReader {
 public:
  virtual ~BlobReader();
  // The number of bytes Read yields in total.
  virtual std::uint64_t size() const = 0;
  // Copies up to n bytes into buf; returns how many, 0 only at the end.
  virtual Result<std::size_t> Read(char* buf, std::size_t n) = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore();
  // Starts writing the object `key`. InvalidArgument for a bad key.
  virtual Result<std::unique_ptr<BlobWriter>> Create(const std::string& key) = 0;
  // NotFound when no object has that key.
  virtual Result<std::unique_ptr<BlobReader>> Open(const std::string& key) = 0;
  // Removes the object; OK when it did not exist (idempotent).
  virtual Status Delete(const std::string& key) = 0;
  // Keys of all objects starting with `prefix` (a plain string prefix, as in
  // S3: "u/abc/" lists a user's objects), sorted. "" lists everything.
  virtual Result<std::vector<std::string>> List(const std::string& prefix) = 0;
};

// OK when `key` follows the key rules above; InvalidArgument saying why not.
Status ValidateBlobKey(std::string_view key);

// Reads and discards `count` bytes, for serving an HTTP Range from a reader
// that cannot seek. O(count) in time. InvalidArgument if the object ends
// first (check `count` against size() before).
Status SkipForward(BlobReader& reader, std::uint64_t count);

// Reads what is left of the object into memory. TooLarge when that is more
// than `max_bytes`. For small objects and tests; stream large ones.
Result<std::string> ReadAll(BlobReader& reader, std::uint64_t max_bytes);

// Objects as files under a local folder: key "a/b.c" is the file
// <root>/a/b.c. Files are created 0600 and folders 0700, because they hold
// users' (encrypted) data.
//
// A writer writes to <root>/tmp/<random>.part and, at Commit, fsyncs the
// file, renames it into place and fsyncs the folder, so an object is either
// absent or complete, even across a power cut. The top-level segment "tmp"
// is therefore reserved: keys starting with "tmp/" are InvalidArgument here.
//
// Folders are created as needed; Delete removes folders it leaves empty, so
// no "u/<user id>/" folder outlives a deleted user. An object key cannot also
// be the folder of other keys ("a" and "a/b"): Conflict.
class LocalBlobStore final : public BlobStore {
 public:
  explicit LocalBlobStore(std::string root);

  Result<std::unique_ptr<BlobWriter>> Create(const std::string& key) override;
  Result<std::unique_ptr<BlobReader>> Open(const std::string& key) override;
  Status Delete(const std::string& key) override;
  Result<std::vector<std::string>> List(const std::string& prefix) override;

  // Removes the temporary files of writers that never committed (a crash, a
  // kill). Call once at startup, before any writer exists: it would also
  // remove the files of writers in progress.
  Status CleanupTemporaryFiles();

  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

}  // namespace iv::infra
