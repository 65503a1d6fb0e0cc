#include "infra/crypto.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace iv::infra {
namespace {

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// Domain separation: a wrapped key can never be mistaken for a column sealed
// under the same key with the same associated data.
std::string WrapAd(std::string_view context) { return "iv-key-wrap:" + std::string(context); }

constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == sizeof(Key));

std::string RandomBase64(std::size_t bytes) {
  InitSodium();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out = Base64(raw);
  Wipe(raw);
  return out;
}

}  // namespace

void InitSodium() {
  static const bool ok = [] {
    if (sodium_init() < 0) {
      std::fputs("imagevideo: libsodium cannot initialize (no randomness source?)\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)ok;
}

void Wipe(Key& key) { sodium_memzero(key.data(), key.size()); }

void Wipe(std::string& secret) {
  if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
  secret.clear();
}

Key RandomKey() {
  InitSodium();
  Key key;
  randombytes_buf(key.data(), key.size());
  return key;
}

std::string RandomId() { return RandomBase64(16); }
std::string RandomToken() { return RandomBase64(32); }

std::string Base64(std::string_view bytes) {
  InitSodium();
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), Bytes(bytes), bytes.size(), variant);
  out.resize(out.size() - 1);  // the encoded length counts the NUL
  return out;
}

Result<std::string> FromBase64(std::string_view text) {
  InitSodium();
  std::string out(text.size() * 3 / 4 + 1, '\0');
  std::size_t len = 0;
  // With a null b64_end, trailing garbage and non-canonical final bits fail.
  if (sodium_base642bin(Bytes(out), out.size(), text.data(), text.size(), /*ignore=*/nullptr, &len,
                        /*b64_end=*/nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return Status::InvalidArgument("not valid URL-safe base64");
  }
  out.resize(len);
  return out;
}

std::string Hex(std::string_view bytes) {
  InitSodium();
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), Bytes(bytes), bytes.size());
  out.resize(bytes.size() * 2);
  return out;
}

std::string Seal(const Key& key, std::string_view plaintext, std::string_view associated_data) {
  InitSodium();
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  unsigned char* nonce = Bytes(out);
  randombytes_buf(nonce, kNonceBytes);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonceBytes, &clen, Bytes(plaintext), plaintext.size(),
                                             Bytes(associated_data), associated_data.size(),
                                             /*nsec=*/nullptr, nonce, key.data());
  out.resize(kNonceBytes + clen);
  return out;
}

Result<std::string> Open(const Key& key, std::string_view sealed, std::string_view associated_data) {
  InitSodium();
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return Status::Internal("cannot decrypt: sealed value is too short");
  }
  const unsigned char* nonce = Bytes(sealed);
  std::string out(sealed.size() - kNonceBytes - kTagBytes, '\0');
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(Bytes(out), &mlen, /*nsec=*/nullptr, nonce + kNonceBytes,
                                                 sealed.size() - kNonceBytes, Bytes(associated_data),
                                                 associated_data.size(), nonce, key.data()) != 0) {
    return Status::Internal("cannot decrypt: wrong key or associated data, or the value was tampered with");
  }
  out.resize(mlen);
  return out;
}

std::string WrapKey(const Key& kek, const Key& dek, std::string_view context) {
  return Seal(kek, std::string_view(reinterpret_cast<const char*>(dek.data()), dek.size()), WrapAd(context));
}

Result<Key> UnwrapKey(const Key& kek, std::string_view wrapped, std::string_view context) {
  Result<std::string> raw = Open(kek, wrapped, WrapAd(context));
  if (!raw.ok()) return raw.status().WithContext("unwrapping data key");
  std::string& bytes = raw.value();
  if (bytes.size() != sizeof(Key)) {
    Wipe(bytes);
    return Status::Internal("cannot decrypt wrapped key: unexpected key length");
  }
  Key key;
  std::memcpy(key.data(), bytes.data(), key.size());
  Wipe(bytes);
  return key;
}

std::string HmacSha256(const Key& key, std::string_view message) {
  return HmacSha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), message);
}

std::string HmacSha256(std::string_view key, std::string_view message) {
  InitSodium();
  // The _init/_update/_final API accepts keys of any length (longer ones are
  // hashed first, as RFC 2104 says); crypto_auth_hmacsha256 wants 32 bytes.
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, Bytes(key), key.size());
  crypto_auth_hmacsha256_update(&state, Bytes(message), message.size());
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, Bytes(out));
  sodium_memzero(&state, sizeof state);
  return out;
}

std::string Sha256(std::string_view bytes) {
  InitSodium();
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(Bytes(out), Bytes(bytes), bytes.size());
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  InitSodium();
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> HashPassword(std::string_view password, const PasswordPolicy& policy) {
  InitSodium();
  if (policy.opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN || policy.memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN) {
    return Status::InvalidArgument("password policy is below Argon2id's minimum cost");
  }
  if (policy.opslimit > crypto_pwhash_argon2id_OPSLIMIT_MAX || policy.memlimit > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return Status::InvalidArgument("password policy is above Argon2id's maximum cost");
  }
  if (password.size() > crypto_pwhash_argon2id_PASSWD_MAX) {
    return Status::InvalidArgument("password is too long");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), policy.opslimit, policy.memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Internal("cannot hash password: out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view phc, std::string_view password) {
  InitSodium();
  // libsodium reads a NUL-terminated string of bounded length.
  if (phc.empty() || phc.size() >= crypto_pwhash_STRBYTES || phc.find('\0') != std::string_view::npos) return false;
  char str[crypto_pwhash_STRBYTES] = {};
  std::memcpy(str, phc.data(), phc.size());
  return crypto_pwhash_str_verify(str, password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view phc, const PasswordPolicy& policy) {
  InitSodium();
  // crypto_pwhash_str_needs_rehash compares parameters only, so an Argon2i
  // string with the same cost would pass; we want Argon2id everywhere.
  if (!phc.starts_with(crypto_pwhash_argon2id_STRPREFIX)) return true;
  if (phc.size() >= crypto_pwhash_STRBYTES || phc.find('\0') != std::string_view::npos) return true;
  char str[crypto_pwhash_STRBYTES] = {};
  std::memcpy(str, phc.data(), phc.size());
  return crypto_pwhash_argon2id_str_needs_rehash(str, policy.opslimit, policy.memlimit) != 0;
}

}  // namespace iv::infra
