#include "infra/encrypted_blobs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/test_support.h"

namespace iv::infra {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t C = kEncryptedChunkSize;
constexpr std::size_t kPrefix = 25;      // version byte + secretstream header
constexpr std::size_t kCipher = C + 17;  // a full chunk on disk

std::string Pattern(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  unsigned x = seed;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

// Writes `plain` in pieces of `piece` bytes (0: one Write).
Status PutEncrypted(BlobStore& store, const std::string& key, const Key& dek, const std::string& plain,
                    std::size_t piece = 0) {
  IV_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, CreateEncrypted(store, key, dek));
  if (piece == 0) piece = plain.size() + 1;
  for (std::size_t at = 0; at < plain.size(); at += piece) {
    IV_RETURN_IF_ERROR(writer->Write(std::string_view(plain).substr(at, piece)));
  }
  return writer->Commit();
}

// Decrypts the whole blob; fails if OpenEncrypted or any Read fails.
Result<std::string> GetEncrypted(BlobStore& store, const std::string& key, const Key& dek) {
  IV_ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, OpenEncrypted(store, key, dek));
  const std::uint64_t size = reader->size();
  IV_ASSIGN_OR_RETURN(std::string plain, ReadAll(*reader, 1 << 30));
  if (plain.size() != size) return Status::Internal("size() disagrees with the bytes read");
  return plain;
}

std::string Raw(BlobStore& store, const std::string& key) {
  auto reader = store.Open(key);
  EXPECT_TRUE(reader.ok());
  return *ReadAll(**reader, 1 << 30);
}

void PutRaw(BlobStore& store, const std::string& key, const std::string& bytes) {
  auto writer = store.Create(key);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(bytes).ok());
  ASSERT_TRUE((*writer)->Commit().ok());
}

class EncryptedBlobs : public ::testing::Test {
 protected:
  test::TempDir dir_;
  LocalBlobStore store_{dir_.file("blobs")};
  Key dek_ = RandomKey();

  // Expects that `raw`, stored under `key`, does not decrypt.
  void ExpectRejected(const std::string& raw, const std::string& why) {
    PutRaw(store_, "u/1/bad", raw);
    Result<std::string> got = GetEncrypted(store_, "u/1/bad", dek_);
    ASSERT_FALSE(got.ok()) << why;
    EXPECT_EQ(got.status().code(), StatusCode::kInternal) << why;
    EXPECT_NE(got.status().message().find("cannot decrypt blob u/1/bad"), std::string::npos)
        << why << ": " << got.status().message();
  }
};

TEST_F(EncryptedBlobs, RoundTripsAtChunkBoundaries) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, C - 1, C, C + 1, 2 * C, 3 * C + 5}) {
    for (std::size_t piece : {std::size_t{0}, std::size_t{1000}, C, C + 1}) {
      const std::string plain = Pattern(n, static_cast<unsigned>(n));
      ASSERT_TRUE(PutEncrypted(store_, "u/1/b", dek_, plain, piece).ok()) << n;
      Result<std::string> got = GetEncrypted(store_, "u/1/b", dek_);
      ASSERT_TRUE(got.ok()) << n << ": " << got.status().message();
      EXPECT_EQ(*got, plain) << n << " in pieces of " << piece;
      // The documented layout: full chunks, then a FINAL chunk of n % C bytes.
      EXPECT_EQ(Raw(store_, "u/1/b").size(), kPrefix + (n / C) * kCipher + (n % C) + 17) << n;
    }
  }
}

TEST_F(EncryptedBlobs, ByteAtATimeWritesAndReads) {
  const std::string plain = Pattern(C + 10);
  ASSERT_TRUE(PutEncrypted(store_, "k", dek_, plain, 1).ok());
  auto reader = OpenEncrypted(store_, "k", dek_);
  ASSERT_TRUE(reader.ok());
  std::string got;
  char c;
  for (;;) {
    Result<std::size_t> n = (*reader)->Read(&c, 1);
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    got.push_back(c);
  }
  EXPECT_EQ(got, plain);
}

TEST_F(EncryptedBlobs, CiphertextHidesPlaintextMarkers) {
  std::string plain;
  while (plain.size() < 3 * C) plain += std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", 11);
  ASSERT_TRUE(PutEncrypted(store_, "u/1/images/a.orig", dek_, plain).ok());
  std::ifstream in(dir_.path() / "blobs/u/1/images/a.orig", std::ios::binary);
  const std::string disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(disk.size(), plain.size());
  EXPECT_EQ(disk.find("\xFF\xD8\xFF\xE0"), std::string::npos);
  EXPECT_EQ(disk.find("JFIF"), std::string::npos);
  EXPECT_EQ(*GetEncrypted(store_, "u/1/images/a.orig", dek_), plain);
}

TEST_F(EncryptedBlobs, DetectsTamperingInEveryRegion) {
  const std::string plain = Pattern(3 * C + 5);
  ASSERT_TRUE(PutEncrypted(store_, "u/1/good", dek_, plain).ok());
  const std::string raw = Raw(store_, "u/1/good");
  ASSERT_EQ(raw.size(), kPrefix + 3 * kCipher + 22);
  // The original under the bad key name also fails: the key is bound.
  ExpectRejected(raw, "moved to another key");

  struct Flip {
    std::size_t at;
    const char* region;
  };
  for (const Flip& f : {Flip{0, "version"}, Flip{1, "header start"}, Flip{24, "header end"},
                        Flip{kPrefix, "first chunk"}, Flip{kPrefix + kCipher + 1000, "middle chunk"},
                        Flip{kPrefix + 2 * kCipher - 1, "middle chunk tag"}, Flip{kPrefix + 3 * kCipher, "last chunk"},
                        Flip{raw.size() - 1, "last byte"}}) {
    std::string bad = raw;
    bad[f.at] ^= 0x20;
    // Store under the original key so only the flip can be the reason.
    PutRaw(store_, "u/1/good", bad);
    Result<std::string> got = GetEncrypted(store_, "u/1/good", dek_);
    ASSERT_FALSE(got.ok()) << f.region;
    EXPECT_EQ(got.status().code(), StatusCode::kInternal) << f.region;
  }
}

TEST_F(EncryptedBlobs, DetectsTruncationAndAppendedData) {
  const std::string plain = Pattern(3 * C + 5);
  ASSERT_TRUE(PutEncrypted(store_, "u/1/bad", dek_, plain).ok());
  const std::string raw = Raw(store_, "u/1/bad");
  ExpectRejected(raw.substr(0, 0), "empty");
  ExpectRejected(raw.substr(0, kPrefix), "header only");
  ExpectRejected(raw.substr(0, kPrefix + kCipher), "cut at first chunk boundary");
  ExpectRejected(raw.substr(0, kPrefix + 3 * kCipher), "final chunk dropped");
  ExpectRejected(raw.substr(0, kPrefix + kCipher + 100), "cut mid-chunk");
  ExpectRejected(raw.substr(0, kPrefix + kCipher + 17), "cut to a would-be empty final chunk");
  ExpectRejected(raw.substr(0, raw.size() - 1), "last byte dropped");
  ExpectRejected(raw + "x", "one byte appended");
  ExpectRejected(raw + std::string(17, 'x'), "an empty chunk's worth appended");
  ExpectRejected(raw + raw.substr(kPrefix, kCipher), "a chunk appended");
  // Chunks swapped.
  std::string swapped = raw.substr(0, kPrefix) + raw.substr(kPrefix + kCipher, kCipher) +
                        raw.substr(kPrefix, kCipher) + raw.substr(kPrefix + 2 * kCipher);
  ExpectRejected(swapped, "chunks swapped");
  // The good blob still reads.
  PutRaw(store_, "u/1/bad", raw);
  EXPECT_EQ(*GetEncrypted(store_, "u/1/bad", dek_), plain);
}

TEST_F(EncryptedBlobs, EmptyBlobIsAuthenticatedToo) {
  ASSERT_TRUE(PutEncrypted(store_, "u/1/bad", dek_, "").ok());
  const std::string raw = Raw(store_, "u/1/bad");
  ASSERT_EQ(raw.size(), kPrefix + 17);
  EXPECT_EQ(*GetEncrypted(store_, "u/1/bad", dek_), "");
  std::string bad = raw;
  bad[kPrefix + 3] ^= 1;
  ExpectRejected(bad, "tag flipped");
  EXPECT_FALSE(GetEncrypted(store_, "u/1/bad", RandomKey()).ok());
}

TEST_F(EncryptedBlobs, WrongKeyAndWrongBlobKeyFail) {
  const std::string plain = Pattern(C + 3);
  ASSERT_TRUE(PutEncrypted(store_, "u/1/a", dek_, plain).ok());
  Result<std::string> wrong = GetEncrypted(store_, "u/1/a", RandomKey());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInternal);
  // Copied byte for byte to another key (another user's folder): refused.
  PutRaw(store_, "u/2/a", Raw(store_, "u/1/a"));
  EXPECT_FALSE(GetEncrypted(store_, "u/2/a", dek_).ok());
  EXPECT_EQ(OpenEncrypted(store_, "u/1/none", dek_).status().code(), StatusCode::kNotFound);
}

TEST_F(EncryptedBlobs, FailedReaderStaysFailedAndNeverYieldsBadChunk) {
  const std::string plain = Pattern(2 * C + 1);
  ASSERT_TRUE(PutEncrypted(store_, "k", dek_, plain).ok());
  std::string raw = Raw(store_, "k");
  raw[kPrefix + kCipher + 5] ^= 1;  // second chunk
  PutRaw(store_, "k", raw);
  auto reader = OpenEncrypted(store_, "k", dek_);
  ASSERT_TRUE(reader.ok());
  std::string buf(C, '\0');
  Result<std::size_t> first = (*reader)->Read(buf.data(), buf.size());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(buf.substr(0, *first), plain.substr(0, *first));
  std::size_t total = *first;
  Result<std::size_t> n = first;
  while (n.ok() && *n > 0) {
    n = (*reader)->Read(buf.data(), buf.size());
    if (n.ok()) total += *n;
  }
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(total, C);  // nothing of the tampered chunk came out
  EXPECT_FALSE((*reader)->Read(buf.data(), buf.size()).ok());
}

TEST_F(EncryptedBlobs, UncommittedWriterLeavesNothing) {
  {
    auto writer = CreateEncrypted(store_, "u/1/v.mp4", dek_);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(Pattern(3 * C)).ok());
  }
  EXPECT_TRUE(store_.List("")->empty());
  EXPECT_TRUE(fs::is_empty(dir_.path() / "blobs/tmp"));
  EXPECT_EQ(CreateEncrypted(store_, "../x", dek_).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EncryptedBlobs, SkipForwardForRanges) {
  const std::string plain = Pattern(3 * C + 5);
  ASSERT_TRUE(PutEncrypted(store_, "k", dek_, plain).ok());
  for (std::size_t offset : {std::size_t{0}, std::size_t{10}, C, C + 3, 3 * C + 5}) {
    auto reader = OpenEncrypted(store_, "k", dek_);
    ASSERT_TRUE(reader.ok());
    ASSERT_TRUE(SkipForward(**reader, offset).ok()) << offset;
    EXPECT_EQ(*ReadAll(**reader, 1 << 30), plain.substr(offset)) << offset;
  }
  auto reader = OpenEncrypted(store_, "k", dek_);
  EXPECT_FALSE(SkipForward(**reader, plain.size() + 1).ok());
}

TEST_F(EncryptedBlobs, EncryptFileAndDecryptToFile) {
  const std::string plain = Pattern(2 * C + 77);
  const std::string in = dir_.file("in.jpg");
  std::ofstream(in, std::ios::binary) << plain;
  ASSERT_TRUE(EncryptFile(store_, "u/1/images/x.orig", dek_, in).ok());
  const std::string out = dir_.file("out.jpg");
  ASSERT_TRUE(DecryptToFile(store_, "u/1/images/x.orig", dek_, out).ok());
  std::ifstream f(out, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>()), plain);
  EXPECT_EQ(fs::status(out).permissions(), fs::perms::owner_read | fs::perms::owner_write);

  EXPECT_EQ(EncryptFile(store_, "u/1/images/y.orig", dek_, dir_.file("missing")).code(), StatusCode::kNotFound);
  EXPECT_EQ(DecryptToFile(store_, "u/1/images/none", dek_, dir_.file("none.jpg")).code(), StatusCode::kNotFound);

  // A failed decryption leaves nothing behind and keeps what was there.
  EXPECT_EQ(dir_.list(), (std::vector<std::string>{"blobs", "in.jpg", "out.jpg"}));
  EXPECT_EQ(DecryptToFile(store_, "u/1/images/x.orig", RandomKey(), out).code(), StatusCode::kInternal);
  std::ifstream again(out, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>()), plain);
  EXPECT_EQ(dir_.list(), (std::vector<std::string>{"blobs", "in.jpg", "out.jpg"}));
  EXPECT_EQ(store_.List("")->size(), 1u);
}

}  // namespace
}  // namespace iv::infra
