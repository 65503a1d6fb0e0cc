#include "http/multipart.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "support/test_support.h"

namespace iv::http {
namespace {

std::string Body(const std::string& boundary, const std::vector<std::string>& parts) {
  std::string out = "preamble to ignore\r\n";
  for (const auto& p : parts) out += "--" + boundary + "\r\n" + p + "\r\n";
  out += "--" + boundary + "--\r\nepilogue";
  return out;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(MultipartTest, Boundary) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc123"), "abc123");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(MultipartBoundary("application/json").status().code(), StatusCode::kUnsupportedMedia);
  EXPECT_EQ(MultipartBoundary("multipart/form-data").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=a\x01").status().code(), StatusCode::kInvalidArgument);
}

TEST(MultipartTest, ParsesFieldsAndFiles) {
  std::string binary("\x00\x01\r\n--notboundary\r\n\xff", 21);
  std::string body = Body("XyZ", {
                                      "Content-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\nWorld",
                                      "Content-Disposition: form-data; name=\"file\"; filename=\"photo.png\"\r\n"
                                      "Content-Type: image/png\r\n\r\n" +
                                          binary,
                                  });
  auto parts = ParseMultipart(body, "XyZ");
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "title");
  EXPECT_FALSE((*parts)[0].filename.has_value());
  EXPECT_EQ((*parts)[0].data, "Hello\r\nWorld");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ(*(*parts)[1].filename, "photo.png");
  EXPECT_EQ((*parts)[1].content_type, "image/png");
  EXPECT_EQ((*parts)[1].data, binary);
}

TEST(MultipartTest, RejectsMalformedBodies) {
  const std::string ok_part = "Content-Disposition: form-data; name=\"a\"\r\n\r\nv";
  EXPECT_FALSE(ParseMultipart("no boundary here", "B").ok());
  // Truncated: no closing delimiter.
  EXPECT_FALSE(ParseMultipart("--B\r\n" + ok_part, "B").ok());
  // A part without a name.
  EXPECT_FALSE(ParseMultipart(Body("B", {"Content-Disposition: form-data\r\n\r\nv"}), "B").ok());
  // Not form-data.
  EXPECT_FALSE(ParseMultipart(Body("B", {"Content-Disposition: attachment; name=\"a\"\r\n\r\nv"}), "B").ok());
  // No Content-Disposition at all.
  EXPECT_FALSE(ParseMultipart(Body("B", {"\r\nv"}), "B").ok());
  // Too many parts.
  MultipartLimits limits;
  limits.max_parts = 2;
  EXPECT_FALSE(ParseMultipart(Body("B", {ok_part, ok_part, ok_part}), "B", limits).ok());
  EXPECT_TRUE(ParseMultipart(Body("B", {ok_part, ok_part}), "B", limits).ok());
  // A field over the limit.
  limits.max_field_bytes = 3;
  auto big = ParseMultipart(Body("B", {"Content-Disposition: form-data; name=\"a\"\r\n\r\nvvvv"}), "B", limits);
  EXPECT_EQ(big.status().code(), StatusCode::kTooLarge);
}

TEST(MultipartTest, SanitizeFilenameKeepsOnlyADisplayName) {
  EXPECT_EQ(SanitizeFilename("../../etc/passwd"), "passwd");
  EXPECT_EQ(SanitizeFilename("C:\\Users\\ada\\cat.jpg"), "cat.jpg");
  EXPECT_EQ(SanitizeFilename("/abs/path/x.png"), "x.png");
  EXPECT_EQ(SanitizeFilename(".."), "upload");
  EXPECT_EQ(SanitizeFilename("dir/"), "upload");
  EXPECT_EQ(SanitizeFilename(""), "upload");
  EXPECT_EQ(SanitizeFilename("a\nb\x7f\x01.png"), "ab.png");
  EXPECT_EQ(SanitizeFilename("Grüße.png"), "Grüße.png");
  std::string long_name;
  for (int i = 0; i < 200; ++i) long_name += "é";  // 2 bytes each
  std::string cut = SanitizeFilename(long_name);
  EXPECT_LE(cut.size(), 255u);
  EXPECT_EQ(cut.size() % 2, 0u);  // not cut inside a character
}

TEST(MultipartTest, FilePartsGoToPrivateTempFilesNamedByUs) {
  iv::test::TempDir dir;
  std::string payload(100000, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  std::string body = Body("b0undary", {
                                          "Content-Disposition: form-data; name=\"file\"; "
                                          "filename=\"../../etc/passwd\"\r\nContent-Type: image/jpeg\r\n\r\n" +
                                              payload,
                                          "Content-Disposition: form-data; name=\"note\"\r\n\r\nhi",
                                      });
  std::filesystem::path path;
  {
    auto form = ParseMultipartToFiles(body, "multipart/form-data; boundary=b0undary", dir.path());
    ASSERT_TRUE(form.ok()) << form.status().message();
    ASSERT_EQ(form->files.size(), 1u);
    ASSERT_EQ(form->fields.size(), 1u);
    EXPECT_EQ(form->fields[0].name, "note");
    EXPECT_EQ(form->fields[0].value, "hi");
    const UploadedFile& f = form->files[0];
    EXPECT_EQ(f.field_name, "file");
    EXPECT_EQ(f.filename, "passwd");
    EXPECT_EQ(f.content_type, "image/jpeg");
    EXPECT_EQ(f.size, payload.size());
    path = f.path();
    EXPECT_EQ(path.parent_path(), dir.path());
    EXPECT_EQ(path.filename().string().find("passwd"), std::string::npos);
    EXPECT_EQ(ReadFile(path), payload);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(dir.list().empty());
}

TEST(MultipartTest, FailureLeavesNoTempFiles) {
  iv::test::TempDir dir;
  std::string body = "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nxyz\r\n--B\r\n"
                     "Content-Disposition: form-data\r\n\r\nbad\r\n--B--";
  auto form = ParseMultipartToFiles(body, "multipart/form-data; boundary=B", dir.path());
  EXPECT_FALSE(form.ok());
  EXPECT_TRUE(dir.list().empty());
}

TEST(TempFileTest, CreateAppendRemove) {
  iv::test::TempDir dir;
  std::filesystem::path p;
  {
    auto f = TempFile::Create(dir.path(), "x-");
    ASSERT_TRUE(f.ok());
    p = (*f)->path();
    EXPECT_TRUE((*f)->Append("abc").ok());
    EXPECT_TRUE((*f)->Append("def").ok());
    EXPECT_TRUE((*f)->Finish().ok());
    EXPECT_FALSE((*f)->Append("x").ok());
    EXPECT_EQ((*f)->size(), 6u);
    EXPECT_EQ(ReadFile(p), "abcdef");
  }
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_EQ(TempFile::Create("/nonexistent/dir").status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace iv::http
