#include "infra/crypto.h"

#include <gtest/gtest.h>

#include <set>

namespace iv::infra {
namespace {

std::string KeyBytes(const Key& k) { return std::string(reinterpret_cast<const char*>(k.data()), k.size()); }

bool UrlSafe(const std::string& s) {
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
      return false;
    }
  }
  return true;
}

TEST(Crypto, RandomIdsAreUrlSafeAndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = RandomId();
    ASSERT_EQ(id.size(), 22u);
    ASSERT_TRUE(UrlSafe(id)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
  std::string token = RandomToken();
  EXPECT_EQ(token.size(), 43u);
  EXPECT_TRUE(UrlSafe(token));
  EXPECT_NE(KeyBytes(RandomKey()), KeyBytes(RandomKey()));
}

TEST(Crypto, Base64RoundTripsAndRejectsGarbage) {
  for (std::string s : {std::string(), std::string("a"), std::string("ab"), std::string("abc"),
                        std::string("\xff\xfe\x00\x01", 4)}) {
    std::string enc = Base64(s);
    EXPECT_EQ(enc.find('='), std::string::npos);
    Result<std::string> dec = FromBase64(enc);
    ASSERT_TRUE(dec.ok()) << dec.status().message();
    EXPECT_EQ(*dec, s);
  }
  EXPECT_EQ(Base64("\xfb\xff"), "-_8");
  EXPECT_EQ(FromBase64("ab+c").status().code(), StatusCode::kInvalidArgument);  // not URL-safe
  EXPECT_EQ(FromBase64("YQ==").status().code(), StatusCode::kInvalidArgument);  // padding
  EXPECT_EQ(FromBase64("YQ!").status().code(), StatusCode::kInvalidArgument);
}

TEST(Crypto, HexAndSha256) {
  EXPECT_EQ(Hex(std::string("\x00\xab\xff", 3)), "00abff");
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, HmacMatchesRfc4231Case2) {
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  Key key = RandomKey();
  EXPECT_EQ(HmacSha256(key, "m"), HmacSha256(KeyBytes(key), "m"));
  EXPECT_EQ(HmacSha256(key, "m").size(), 32u);
  EXPECT_NE(HmacSha256(key, "m"), HmacSha256(key, "n"));
}

TEST(Crypto, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

TEST(Crypto, SealOpenRoundTrip) {
  Key key = RandomKey();
  for (std::string plain : {std::string(), std::string("alice@example.com"), std::string(10000, 'x')}) {
    std::string sealed = Seal(key, plain, "users.email:1");
    EXPECT_EQ(sealed.size(), plain.size() + 40);
    Result<std::string> opened = Open(key, sealed, "users.email:1");
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    EXPECT_EQ(*opened, plain);
  }
  // Fresh nonce every time.
  EXPECT_NE(Seal(key, "same", "ad"), Seal(key, "same", "ad"));
}

TEST(Crypto, OpenRejectsTamperWrongKeyAndWrongAd) {
  Key key = RandomKey();
  const std::string sealed = Seal(key, "secret value", "ad");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] ^= 0x01;
    Result<std::string> opened = Open(key, bad, "ad");
    ASSERT_FALSE(opened.ok()) << "byte " << i;
    EXPECT_EQ(opened.status().code(), StatusCode::kInternal);
    EXPECT_NE(opened.status().message().find("cannot decrypt"), std::string::npos);
  }
  EXPECT_FALSE(Open(RandomKey(), sealed, "ad").ok());
  EXPECT_FALSE(Open(key, sealed, "other").ok());
  EXPECT_FALSE(Open(key, sealed.substr(0, sealed.size() - 1), "ad").ok());
  EXPECT_FALSE(Open(key, sealed + "x", "ad").ok());
  EXPECT_EQ(Open(key, "short", "ad").status().code(), StatusCode::kInternal);
}

TEST(Crypto, WrapUnwrapKey) {
  Key kek = RandomKey();
  Key dek = RandomKey();
  std::string wrapped = WrapKey(kek, dek, "user-dek:u1");
  EXPECT_EQ(wrapped.size(), 72u);
  Result<Key> unwrapped = UnwrapKey(kek, wrapped, "user-dek:u1");
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().message();
  EXPECT_EQ(*unwrapped, dek);
  EXPECT_EQ(UnwrapKey(kek, wrapped, "user-dek:u2").status().code(), StatusCode::kInternal);
  EXPECT_FALSE(UnwrapKey(RandomKey(), wrapped, "user-dek:u1").ok());
  // A column sealed with the same key and AD is not a wrapped key, and back.
  EXPECT_FALSE(Open(kek, wrapped, "user-dek:u1").ok());
  EXPECT_FALSE(UnwrapKey(kek, Seal(kek, KeyBytes(dek), "user-dek:u1"), "user-dek:u1").ok());
  // Something that opens but is not 32 bytes.
  EXPECT_FALSE(UnwrapKey(kek, Seal(kek, "short", "iv-key-wrap:c"), "c").ok());
}

TEST(Crypto, Wipe) {
  Key key = RandomKey();
  Wipe(key);
  EXPECT_EQ(key, Key{});
  std::string s = "secret";
  Wipe(s);
  EXPECT_TRUE(s.empty());
}

TEST(Crypto, PasswordHashIsArgon2idWithOwaspMinimum) {
  const PasswordPolicy policy;
  Result<std::string> phc = HashPassword("correct horse battery staple", policy);
  ASSERT_TRUE(phc.ok()) << phc.status().message();
  EXPECT_TRUE(phc->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *phc;
  EXPECT_TRUE(VerifyPassword(*phc, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*phc, "correct horse battery stapl"));
  EXPECT_FALSE(VerifyPassword(*phc, ""));
  EXPECT_FALSE(VerifyPassword("", "x"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "x"));
  EXPECT_FALSE(PasswordNeedsRehash(*phc, policy));
  // Salted: the same password hashes differently.
  Result<std::string> again = HashPassword("correct horse battery staple", policy);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*phc, *again);
}

TEST(Crypto, PasswordNeedsRehashWhenParametersChange) {
  PasswordPolicy weak;
  weak.opslimit = 1;
  weak.memlimit = 8 * 1024 * 1024;
  Result<std::string> phc = HashPassword("pw", weak);
  ASSERT_TRUE(phc.ok()) << phc.status().message();
  EXPECT_TRUE(VerifyPassword(*phc, "pw"));
  EXPECT_TRUE(PasswordNeedsRehash(*phc, PasswordPolicy{}));
  EXPECT_FALSE(PasswordNeedsRehash(*phc, weak));
  EXPECT_TRUE(PasswordNeedsRehash("not a hash", PasswordPolicy{}));
  // Argon2i strings are upgraded to Argon2id.
  EXPECT_TRUE(PasswordNeedsRehash("$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo", PasswordPolicy{}));
}

TEST(Crypto, PasswordPolicyBelowMinimumIsRefused) {
  PasswordPolicy bad;
  bad.opslimit = 0;
  EXPECT_EQ(HashPassword("pw", bad).status().code(), StatusCode::kInvalidArgument);
  bad = PasswordPolicy{};
  bad.memlimit = 1024;
  EXPECT_EQ(HashPassword("pw", bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iv::infra
