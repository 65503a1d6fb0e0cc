// ImageService: uploads are validated by decoding, stripped of metadata and
// stored encrypted; failures store nothing.
#include "domain/image_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "domain/account_service.h"
#include "infra/database.h"
#include "infra/schema.h"
#include "infra/sql_account_store.h"
#include "infra/sql_image_store.h"
#include "support/test_support.h"

namespace iv::domain {
namespace {

namespace fs = std::filesystem;

std::string ReadAllBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ImageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(infra::Database::Open("sqlite://" + dir_.file("test.db")).value());
    ASSERT_TRUE(infra::Migrate(*db_, infra::SchemaMigrations()).ok());
    accounts_ = std::make_unique<infra::SqlAccountStore>(*db_);
    images_store_ = std::make_unique<infra::SqlImageStore>(*db_);
    keys_ = KeyRing::FromMaster(infra::RandomKey());
    blobs_ = std::make_unique<infra::LocalBlobStore>(dir_.file("blobs"));
    user_keys_ = std::make_unique<UserKeys>(*accounts_, keys_);
    service_ = std::make_unique<ImageService>(*images_store_, *user_keys_, *blobs_, clock_,
                                              ImageLimits{2 * 1024 * 1024, 4'000'000});
    AccountService accounts(*accounts_, keys_, clock_, {});
    ada_ = accounts.Register({"Ada", "ada@example.com", "correct horse battery", true, "2026-11-29"})->id;
    bob_ = accounts.Register({"Bob", "bob@example.com", "correct horse battery", true, "2026-11-29"})->id;
  }

  // A JPEG with an EXIF block carrying a GPS marker.
  std::string TaggedJpeg() {
    std::string jpeg = ReadAllBytes(test::TestData("rocket.jpg"));
    std::string payload = std::string("Exif\0\0II*\0\x08\0\0\0\0\0\0\0\0\0", 20) + "GPSLatitude=51N";
    size_t n = payload.size() + 2;
    jpeg.insert(2, std::string("\xFF\xE1", 2) + static_cast<char>(n >> 8) + static_cast<char>(n & 0xFF) + payload);
    std::string path = dir_.file("upload.jpg");
    std::ofstream(path, std::ios::binary) << jpeg;
    return path;
  }

  size_t BlobCount() {
    size_t n = 0;
    if (!fs::exists(dir_.file("blobs"))) return 0;
    for (const auto& e : fs::recursive_directory_iterator(dir_.file("blobs"))) n += e.is_regular_file();
    return n;
  }

  test::TempDir dir_;
  std::unique_ptr<infra::Database> db_;
  std::unique_ptr<infra::SqlAccountStore> accounts_;
  std::unique_ptr<infra::SqlImageStore> images_store_;
  KeyRing keys_;
  std::unique_ptr<infra::LocalBlobStore> blobs_;
  std::unique_ptr<UserKeys> user_keys_;
  infra::ManualClock clock_{infra::FromUnixMillis(1'790'000'000'000)};
  std::unique_ptr<ImageService> service_;
  std::string ada_, bob_;
};

TEST_F(ImageServiceTest, UploadStoresAnEncryptedMetadataFreeWorkingCopy) {
  auto image = service_->Upload(ada_, TaggedJpeg());
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->width, 640);
  EXPECT_EQ(image->height, 427);
  EXPECT_EQ(image->format, "jpeg");
  // On disk: two blobs, neither with a JPEG signature, EXIF or the GPS text.
  ASSERT_EQ(BlobCount(), 2u);
  for (const auto& e : fs::recursive_directory_iterator(dir_.file("blobs"))) {
    if (!e.is_regular_file()) continue;
    std::string bytes = ReadAllBytes(e.path());
    EXPECT_EQ(bytes.find("\xFF\xD8\xFF"), std::string::npos) << e.path();
    EXPECT_EQ(bytes.find("Exif"), std::string::npos) << e.path();
    EXPECT_EQ(bytes.find("GPSLatitude"), std::string::npos) << e.path();
  }
  // Served: a JPEG without the metadata.
  auto reader = service_->OpenWorkingCopy(ada_, image->id);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  auto bytes = infra::ReadAll(**reader, 10'000'000);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->substr(0, 3), "\xFF\xD8\xFF");
  EXPECT_EQ(bytes->find("Exif"), std::string::npos);
  EXPECT_EQ(bytes->find("GPSLatitude"), std::string::npos);
}

TEST_F(ImageServiceTest, BadUploadsStoreNothing) {
  std::string text = dir_.file("notes.png");
  std::ofstream(text) << "%PDF-1.4 not really an image";
  EXPECT_EQ(service_->Upload(ada_, text).status().code(), StatusCode::kUnsupportedMedia);
  std::string bomb = dir_.file("bomb.png");
  test::WritePngClaiming(bomb, 60000, 60000);
  auto refused = service_->Upload(ada_, bomb);
  EXPECT_EQ(refused.status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(refused.status().message().find(dir_.path().string()), std::string::npos) << "no server paths";
  std::string full = dir_.file("full.jpg");
  test::WriteImage(full, test::DrawDotChart(800, 600, 4, 3));
  std::string bytes = ReadAllBytes(full);
  std::string cut = dir_.file("cut.jpg");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_EQ(service_->Upload(ada_, cut).status().code(), StatusCode::kUnsupportedMedia);
  std::string big = dir_.file("big.png");
  test::WriteImage(big, test::DrawDotChart(2500, 2000, 4, 3));  // 5 MP over the 4 MP limit of this test
  EXPECT_EQ(service_->Upload(ada_, big).status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(BlobCount(), 0u);
  EXPECT_TRUE(service_->List(ada_, 10, "")->items.empty());
}

TEST_F(ImageServiceTest, AnotherUsersImageIsNotFound) {
  auto image = service_->Upload(ada_, TaggedJpeg());
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(service_->Get(bob_, image->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->OpenWorkingCopy(bob_, image->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service_->Delete(bob_, image->id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->List(bob_, 10, "")->items.empty());
  EXPECT_TRUE(service_->Get(ada_, image->id).ok());
}

TEST_F(ImageServiceTest, ListPagesNewestFirstAndDeleteRemovesBlobs) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(std::chrono::seconds(1));
    ids.push_back(service_->Upload(ada_, TaggedJpeg())->id);
  }
  auto first = service_->List(ada_, 2, "");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->items[0].id, ids[4]);
  ASSERT_TRUE(first->next_cursor);
  auto second = service_->List(ada_, 2, *first->next_cursor);
  EXPECT_EQ(second->items[0].id, ids[2]);
  auto third = service_->List(ada_, 2, *second->next_cursor);
  EXPECT_EQ(third->items.size(), 1u);
  EXPECT_FALSE(third->next_cursor);
  EXPECT_EQ(service_->List(ada_, 2, "garbage!").status().code(), StatusCode::kInvalidArgument);

  EXPECT_TRUE(service_->Delete(ada_, ids[0]).ok());
  EXPECT_EQ(BlobCount(), 8u);
  EXPECT_EQ(service_->Get(ada_, ids[0]).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace iv::domain
