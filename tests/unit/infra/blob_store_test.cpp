#include "infra/blob_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "support/test_support.h"

namespace iv::infra {
namespace {

namespace fs = std::filesystem;

unsigned Mode(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

Status Put(BlobStore& store, const std::string& key, std::string_view bytes) {
  IV_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, store.Create(key));
  IV_RETURN_IF_ERROR(writer->Write(bytes));
  return writer->Commit();
}

Result<std::string> Get(BlobStore& store, const std::string& key) {
  IV_ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, store.Open(key));
  return ReadAll(*reader, 1 << 30);
}

std::vector<std::string> Files(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

TEST(BlobKey, ValidKeys) {
  for (const char* key : {"a", "u/abc/images/Xy_z-1.orig", "a.b.c/d", "x/y/z.jpg"}) {
    EXPECT_TRUE(ValidateBlobKey(key).ok()) << key;
  }
}

TEST(BlobKey, RejectsKeysThatCouldEscapeOrAreAmbiguous) {
  for (const char* key : {"", "../x", "/abs", "a//b", "a/../b", "a\\b", "..", "a/..", "a/", ".", "./a", "a/./b",
                          "a b", "a\nb", "a%2fb", "é", "a:b", "~/x"}) {
    Status s = ValidateBlobKey(key);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << key;
  }
  EXPECT_EQ(ValidateBlobKey(std::string(1025, 'a')).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateBlobKey(std::string(1024, 'a')).ok());
}

TEST(LocalBlobStore, WriteCommitReadListDelete) {
  test::TempDir dir;
  LocalBlobStore store(dir.file("blobs"));
  ASSERT_TRUE(Put(store, "u/1/images/a.orig", "hello").ok());
  ASSERT_TRUE(Put(store, "u/1/images/b.orig", std::string(200000, 'b')).ok());
  ASSERT_TRUE(Put(store, "u/2/images/c.orig", "").ok());

  Result<std::unique_ptr<BlobReader>> reader = store.Open("u/1/images/a.orig");
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_EQ((*reader)->size(), 5u);
  char buf[3];
  Result<std::size_t> n = (*reader)->Read(buf, 3);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "hel");
  ASSERT_TRUE(ReadAll(**reader, 100).ok());
  EXPECT_EQ(*(*reader)->Read(buf, 3), 0u);  // at the end

  EXPECT_EQ(*Get(store, "u/1/images/b.orig"), std::string(200000, 'b'));
  EXPECT_EQ(*Get(store, "u/2/images/c.orig"), "");

  EXPECT_EQ(*store.List(""), (std::vector<std::string>{"u/1/images/a.orig", "u/1/images/b.orig", "u/2/images/c.orig"}));
  EXPECT_EQ(*store.List("u/1/"), (std::vector<std::string>{"u/1/images/a.orig", "u/1/images/b.orig"}));
  EXPECT_EQ(*store.List("u/1/images/a"), (std::vector<std::string>{"u/1/images/a.orig"}));
  EXPECT_EQ(*store.List("u/"), *store.List(""));
  EXPECT_EQ(store.List("u/3/")->size(), 0u);
  EXPECT_EQ(store.List("nope")->size(), 0u);
  EXPECT_EQ(store.List("../").status().code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(store.Delete("u/1/images/a.orig").ok());
  EXPECT_EQ(store.Open("u/1/images/a.orig").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store.Delete("u/1/images/a.orig").ok());  // idempotent
  EXPECT_TRUE(store.Delete("never/was").ok());
  // Deleting a user's last object removes their folders.
  ASSERT_TRUE(store.Delete("u/2/images/c.orig").ok());
  EXPECT_FALSE(fs::exists(dir.path() / "blobs/u/2"));
  EXPECT_TRUE(fs::exists(dir.path() / "blobs/u/1/images/b.orig"));
  EXPECT_EQ(*store.List(""), (std::vector<std::string>{"u/1/images/b.orig"}));
}

TEST(LocalBlobStore, CommitReplacesExistingObject) {
  test::TempDir dir;
  LocalBlobStore store(dir.path().string() + "/");
  ASSERT_TRUE(Put(store, "k", "first").ok());
  auto writer = store.Create("k");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("second").ok());
  EXPECT_EQ(*Get(store, "k"), "first");  // not visible before Commit
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(*Get(store, "k"), "second");
  EXPECT_FALSE((*writer)->Write("more").ok());
  EXPECT_FALSE((*writer)->Commit().ok());
}

TEST(LocalBlobStore, CreateWithoutCommitLeavesNothing) {
  test::TempDir dir;
  LocalBlobStore store(dir.path().string());
  {
    auto writer = store.Create("u/1/videos/v.mp4");
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(std::string(100000, 'x')).ok());
    EXPECT_EQ(Files(dir.path() / "tmp").size(), 1u);
    EXPECT_EQ(store.List("")->size(), 0u);  // in progress is invisible
    EXPECT_EQ(store.List("tmp/")->size(), 0u);
    EXPECT_EQ(store.List("t")->size(), 0u);
  }
  EXPECT_EQ(store.List("")->size(), 0u);
  EXPECT_EQ(Files(dir.path() / "tmp").size(), 0u);
  EXPECT_EQ(store.Open("u/1/videos/v.mp4").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Files(dir.path() / "tmp").empty());
}

TEST(LocalBlobStore, CleanupTemporaryFiles) {
  test::TempDir dir;
  LocalBlobStore store(dir.path().string());
  EXPECT_TRUE(store.CleanupTemporaryFiles().ok());  // nothing there yet
  ASSERT_TRUE(Put(store, "kept", "x").ok());
  // What a crash leaves behind.
  std::ofstream(dir.path() / "tmp/AAAA.part") << "partial";
  std::ofstream(dir.path() / "tmp/BBBB.part") << "partial";
  EXPECT_EQ(Files(dir.path() / "tmp").size(), 2u);
  EXPECT_EQ(*store.List(""), std::vector<std::string>{"kept"});  // leftovers never listed
  ASSERT_TRUE(store.CleanupTemporaryFiles().ok());
  EXPECT_TRUE(Files(dir.path() / "tmp").empty());
  EXPECT_EQ(*Get(store, "kept"), "x");
}

TEST(LocalBlobStore, FilesArePrivate) {
  test::TempDir dir;
  const fs::path root = dir.path() / "store";
  LocalBlobStore store(root.string());
  ASSERT_TRUE(Put(store, "u/1/images/a.orig", "x").ok());
  EXPECT_EQ(Mode(root), 0700u);
  EXPECT_EQ(Mode(root / "tmp"), 0700u);
  EXPECT_EQ(Mode(root / "u"), 0700u);
  EXPECT_EQ(Mode(root / "u/1"), 0700u);
  EXPECT_EQ(Mode(root / "u/1/images"), 0700u);
  EXPECT_EQ(Mode(root / "u/1/images/a.orig"), 0600u);
}

TEST(LocalBlobStore, RejectsBadAndReservedKeys) {
  test::TempDir dir;
  LocalBlobStore store(dir.path().string());
  for (const char* key : {"../x", "/abs", "a//b", "a/../b", "a\\b", "tmp/x", "tmp"}) {
    EXPECT_EQ(store.Create(key).status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store.Open(key).status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store.Delete(key).code(), StatusCode::kInvalidArgument) << key;
  }
  EXPECT_TRUE(Put(store, "tmpx/y", "ok").ok());  // only the exact segment is reserved
}

TEST(LocalBlobStore, KeyThatIsAlsoAFolderIsAConflict) {
  test::TempDir dir;
  LocalBlobStore store(dir.path().string());
  ASSERT_TRUE(Put(store, "a/b", "x").ok());
  EXPECT_EQ(Put(store, "a", "y").code(), StatusCode::kConflict);
  EXPECT_EQ(Put(store, "a/b/c", "y").code(), StatusCode::kConflict);
  EXPECT_EQ(store.Open("a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.Open("a/b/c").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Files(dir.path() / "tmp").empty());
  EXPECT_EQ(*store.List(""), std::vector<std::string>{"a/b"});
}

TEST(BlobReaderHelpers, SkipForwardAndReadAll) {
  test::TempDir dir;
  LocalBlobStore store(dir.path().string());
  std::string data;
  for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>(i * 7));
  ASSERT_TRUE(Put(store, "d", data).ok());
  auto reader = store.Open("d");
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(SkipForward(**reader, 123457).ok());
  EXPECT_EQ(*ReadAll(**reader, data.size()), data.substr(123457));

  reader = store.Open("d");
  EXPECT_EQ(SkipForward(**reader, data.size() + 1).code(), StatusCode::kInvalidArgument);
  reader = store.Open("d");
  EXPECT_EQ(ReadAll(**reader, 1000).status().code(), StatusCode::kTooLarge);
}

}  // namespace
}  // namespace iv::infra
