// Crypto: the only door to libsodium for the rest of imagevideo.
//
// Thin wrappers that pick one safe primitive per job, so no caller chooses a
// cipher, a nonce or an encoding:
//   - ids and tokens:     RandomId / RandomToken (URL-safe base64, no padding)
//   - database columns:   Seal / Open (XChaCha20-Poly1305-IETF, random nonce)
//   - data keys:          WrapKey / UnwrapKey (the same AEAD, context as AD)
//   - blind index, webhook signatures: HmacSha256
//   - stored API keys and tokens: Sha256 (they are 256 random bits, so a fast
//     hash is enough; passwords are not, see HashPassword)
//   - passwords:          Argon2id PHC strings
// Blobs are encrypted by encrypted_blobs.h (secretstream), not here.
//
// Every function initializes libsodium on first use (InitSodium); if the
// library cannot start (no randomness source) the process aborts, because
// nothing here can run safely without one.
//
// Thread-safety: every function is safe to call from any thread.
//
// Secrets in memory: Key is a plain array so it can be copied into
// libsodium calls; copies are not wiped automatically. Code that keeps a key
// for long (a cache of unwrapped data keys, the master key) wipes it with
// Wipe() when done; the classes in this folder that hold keys or plaintext
// (encrypted blob readers and writers) wipe them in their destructors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace iv::infra {

// A 256-bit symmetric key: the master key, a user's data key (DEK), the
// blind-index key.
using Key = std::array<std::uint8_t, 32>;

// Initializes libsodium once (thread-safe, idempotent). Called by every
// function here; call it before using libsodium directly.
void InitSodium();

// Overwrites secrets with zeros in a way the compiler cannot optimize away.
void Wipe(Key& key);
void Wipe(std::string& secret);  // also clears the string

// --- Randomness --------------------------------------------------------------

Key RandomKey();
// 128 random bits as 22 characters of URL-safe base64 ([A-Za-z0-9_-]): the id
// of every resource that appears in a URL, so ids cannot be guessed or
// enumerated.
std::string RandomId();
// 256 random bits as 43 characters of URL-safe base64: session tokens, share
// links, API keys, email verification and password reset tokens.
std::string RandomToken();

// --- Encodings ---------------------------------------------------------------

// URL-safe base64 without padding, for binary values in TEXT columns and URLs.
std::string Base64(std::string_view bytes);
// InvalidArgument unless `text` is canonical URL-safe base64 without padding.
Result<std::string> FromBase64(std::string_view text);
// Lowercase hexadecimal.
std::string Hex(std::string_view bytes);

// --- Authenticated encryption of small values (database columns) ------------

// Encrypts with XChaCha20-Poly1305-IETF under a fresh random 192-bit nonce
// (random nonces are safe at any volume with XChaCha). Returns the binary
// string nonce (24 bytes) || ciphertext || tag (16 bytes): 40 bytes longer
// than the plaintext. Store it with Base64 or in a BLOB column.
//
// `associated_data` is authenticated but not stored: pass what the value
// belongs to (e.g. "users.email:<user id>"), so a ciphertext copied into
// another row or column fails to open.
std::string Seal(const Key& key, std::string_view plaintext, std::string_view associated_data);
// Internal("cannot decrypt ...") when the value was tampered with, is
// truncated, or the key or associated data differ from Seal's.
Result<std::string> Open(const Key& key, std::string_view sealed, std::string_view associated_data);

// --- Key wrapping ------------------------------------------------------------

// Encrypts a data key under a key-encryption key (the master key). `context`
// names the key's owner, e.g. "user-dek:<user id>", so a wrapped key moved to
// another user cannot be unwrapped. The result is binary (72 bytes).
// Deleting the wrapped key is how a user's data is crypto-shredded.
std::string WrapKey(const Key& kek, const Key& dek, std::string_view context);
// Internal("cannot decrypt ...") on a wrong KEK or context, or tampering.
Result<Key> UnwrapKey(const Key& kek, std::string_view wrapped, std::string_view context);

// --- Hashes and MACs ---------------------------------------------------------

// HMAC-SHA-256 (RFC 2104); raw 32 bytes. Used for the keyed blind index of
// email addresses (so the database never holds a searchable plain address)
// and for webhook signatures. The string_view overload accepts keys of any
// length (as RFC 4231's test vectors and outside webhook secrets need).
std::string HmacSha256(const Key& key, std::string_view message);
std::string HmacSha256(std::string_view key, std::string_view message);

// SHA-256; raw 32 bytes. For high-entropy secrets only (tokens, API keys):
// never for passwords.
std::string Sha256(std::string_view bytes);

// Compares in time independent of the contents (but not of the lengths,
// which are public for everything we compare: hashes and MACs).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// --- Passwords ---------------------------------------------------------------

// Argon2id cost. The defaults are OWASP's minimum: 19 MiB, t=2, p=1
// (libsodium always uses p=1).
struct PasswordPolicy {
  unsigned long long opslimit = 2;
  std::size_t memlimit = 19 * 1024 * 1024;  // bytes
};

// Returns a PHC string ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>") with a
// random salt. Slow on purpose (tens of milliseconds and `memlimit` bytes of
// memory per call): run it on a worker thread, never on an I/O thread, and
// rate-limit the endpoints that call it.
// InvalidArgument when the policy is below libsodium's minimum or the
// password is too long; Internal when memory cannot be allocated.
Result<std::string> HashPassword(std::string_view password, const PasswordPolicy& policy);
// True only when `password` matches `phc` (any Argon2 variant libsodium
// reads). False for malformed strings. As slow as HashPassword.
bool VerifyPassword(std::string_view phc, std::string_view password);
// True when `phc` was not made by HashPassword with exactly `policy` (weaker
// or stronger parameters, another algorithm, or malformed): after a
// successful login, hash the password again and store the new string.
bool PasswordNeedsRehash(std::string_view phc, const PasswordPolicy& policy);

}  // namespace iv::infra
