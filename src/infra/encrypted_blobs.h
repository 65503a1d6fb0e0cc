// Encrypted blobs: every image and video a user owns is stored encrypted
// under that user's data key (DEK), so a copy of the blob store (a backup, a
// stolen disk, an S3 bucket) reveals nothing, and deleting the DEK makes
// every copy unreadable (crypto-shredding).
//
// Format (version 1), all inside one blob:
//   byte 0          format version, 0x01
//   bytes 1..24     libsodium secretstream header (XChaCha20-Poly1305)
//   then chunks     each the encryption of 64 KiB of plaintext (+17 bytes of
//                   tag), tagged MESSAGE; the last chunk holds the remaining
//                   0 to 65535 bytes (+17) and is tagged FINAL. A plaintext
//                   whose size is a multiple of 64 KiB (the empty one
//                   included) therefore ends with an empty FINAL chunk.
// Every chunk carries as associated data the version byte and the blob key,
// so a blob copied or renamed to another key, even another user's key with
// the same DEK, fails to decrypt. Secretstream also authenticates the chunk
// order, and the FINAL tag detects truncation at a chunk boundary.
//
// Plaintext size from ciphertext size (so size() needs no extra metadata):
// with C = 65536 and c = C + 17, body = blob size - 25;
//   plaintext = (body / c) * C + (body % c) - 17,
// which is well defined because the last chunk is shorter than c. A blob
// whose body % c is below 17 cannot be this format: OpenEncrypted reports it.
//
// Errors: a wrong DEK, a tampered, truncated or extended blob, or a blob
// under another key all read as Internal("cannot decrypt blob <key>...")
// from Read (or OpenEncrypted when the header is already wrong). Readers
// never return unauthenticated plaintext: each chunk is verified before any
// byte of it is handed out, and the end of the plaintext is reported only
// after the FINAL chunk verified.
//
// Thread-safety: as for BlobWriter/BlobReader (one thread at a time each).
// Both wipe their buffered plaintext and stream state when destroyed.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "infra/blob_store.h"
#include "infra/crypto.h"

namespace iv::infra {

inline constexpr std::size_t kEncryptedChunkSize = 64 * 1024;

// A writer that takes plaintext and stores ciphertext under `key`. Write
// buffers up to one chunk; Commit encrypts the FINAL chunk and commits the
// underlying blob. Destroyed without Commit, nothing becomes visible.
// Errors: those of store.Create (InvalidArgument for a bad key).
Result<std::unique_ptr<BlobWriter>> CreateEncrypted(BlobStore& store, const std::string& key, const Key& dek);

// A reader yielding the plaintext of the blob `key`; size() is the plaintext
// size. NotFound when there is no such blob; Internal when it is not an
// encrypted blob of this format. To serve an HTTP Range, SkipForward
// (blob_store.h) to the first byte: that decrypts and discards, O(offset),
// because each chunk's stream state depends on the chunks before it.
Result<std::unique_ptr<BlobReader>> OpenEncrypted(BlobStore& store, const std::string& key, const Key& dek);

// Encrypts the local file `local_path` into the blob `key`. NotFound when the
// file does not exist.
Status EncryptFile(BlobStore& store, const std::string& key, const Key& dek, const std::string& local_path);

// Decrypts the blob `key` into the local file `local_path` (mode 0600), for
// the render worker. The file appears complete or not at all: it is written
// beside `local_path` under a temporary name and renamed at the end; on any
// error nothing is left behind and an existing file is untouched.
Status DecryptToFile(BlobStore& store, const std::string& key, const Key& dek, const std::string& local_path);

}  // namespace iv::infra
