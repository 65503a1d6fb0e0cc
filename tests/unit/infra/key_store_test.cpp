#include "infra/key_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/test_support.h"

namespace iv::infra {
namespace {

unsigned Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

void WriteText(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

TEST(KeyStore, CreatesPrivateFileAndReloadsTheSameKey) {
  test::TempDir dir;
  const std::string path = dir.file("secrets/nested/master.key");
  Result<Key> created = LoadOrCreateMasterKey(path);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(Mode(path), 0600u);
  EXPECT_EQ(Mode(dir.file("secrets")), 0700u);
  EXPECT_EQ(Mode(dir.file("secrets/nested")), 0700u);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.size(), 65u);
  EXPECT_EQ(text.back(), '\n');

  Result<Key> loaded = LoadOrCreateMasterKey(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(*loaded, *created);
  Result<Key> from_env = MasterKeyFromHex(text);
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(*from_env, *created);
}

TEST(KeyStore, LeavesOnlyTheKeyFileInItsFolder) {
  test::TempDir dir;
  ASSERT_TRUE(LoadOrCreateMasterKey(dir.file("master.key")).ok());
  EXPECT_EQ(dir.list(), std::vector<std::string>{"master.key"});
}

TEST(KeyStore, RefusesFileReadableByOthers) {
  test::TempDir dir;
  const std::string path = dir.file("master.key");
  ASSERT_TRUE(LoadOrCreateMasterKey(path).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  Result<Key> loaded = LoadOrCreateMasterKey(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(loaded.status().message().find("chmod 600"), std::string::npos) << loaded.status().message();
  EXPECT_NE(loaded.status().message().find("0644"), std::string::npos);
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  EXPECT_EQ(LoadOrCreateMasterKey(path).status().code(), StatusCode::kPermissionDenied);
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(LoadOrCreateMasterKey(path).ok());
}

TEST(KeyStore, RefusesMalformedFiles) {
  test::TempDir dir;
  const std::string hex(64, 'a');
  for (const std::string& text : {std::string(), std::string("not hex\n"), hex.substr(0, 62) + "\n",
                                  hex + "aa\n", std::string(64, 'g'), std::string(64, '0') + "\n",
                                  std::string(1000, 'a')}) {
    const std::string path = dir.file("bad.key");
    WriteText(path, text, 0600);
    Result<Key> loaded = LoadOrCreateMasterKey(path);
    ASSERT_FALSE(loaded.ok()) << text;
    EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(loaded.status().message().find(path), std::string::npos);
    // The message never echoes the content.
    EXPECT_EQ(loaded.status().message().find("aaaaaaaa"), std::string::npos);
  }
  WriteText(dir.file("ok.key"), hex + "\r\n", 0600);
  EXPECT_TRUE(LoadOrCreateMasterKey(dir.file("ok.key")).ok());
  // A folder is not a key file.
  EXPECT_EQ(LoadOrCreateMasterKey(dir.path().string()).status().code(), StatusCode::kInvalidArgument);
}

TEST(KeyStore, MasterKeyFromHex) {
  Result<Key> key = MasterKeyFromHex("  000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F\n");
  ASSERT_TRUE(key.ok()) << key.status().message();
  for (int i = 0; i < 32; ++i) EXPECT_EQ((*key)[i], i);
  EXPECT_EQ(MasterKeyFromHex("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MasterKeyFromHex("00").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MasterKeyFromHex(std::string(64, 'z')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MasterKeyFromHex(std::string(64, '0')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MasterKeyFromHex(std::string(32, 'a') + " " + std::string(31, 'a')).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace iv::infra
