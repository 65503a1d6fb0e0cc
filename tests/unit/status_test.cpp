#include "common/status.h"

#include <gtest/gtest.h>

namespace iv {
namespace {

Result<int> Half(int v) {
  if (v % 2) return Status::InvalidArgument("odd");
  return v / 2;
}

Status UseHalf(int v, int* out) {
  IV_ASSIGN_OR_RETURN(int h, Half(v));
  *out = h;
  return Status::Ok();
}

TEST(Status, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Status::NotFound("x: no such file");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.WithContext("input").message(), "input: x: no such file");
}

TEST(Status, ResultCarriesValueOrStatus) {
  int out = 0;
  EXPECT_TRUE(UseHalf(4, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = UseHalf(3, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "odd");
}

TEST(Status, ResultFromOkStatusIsAnInternalError) {
  Result<int> r = Status::Ok();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(Status, ExitCodes) {
  EXPECT_EQ(ExitCodeFor(Status::Ok()), 0);
  EXPECT_EQ(ExitCodeFor(Status::InvalidArgument("")), 2);
  EXPECT_EQ(ExitCodeFor(Status::NotFound("")), 2);
  EXPECT_EQ(ExitCodeFor(Status::UnsupportedMedia("")), 2);
  EXPECT_EQ(ExitCodeFor(Status::TooLarge("")), 2);
  EXPECT_EQ(ExitCodeFor(Status::Internal("")), 1);
}

}  // namespace
}  // namespace iv

namespace iv {
namespace {

TEST(Status, ValidationListsEveryField) {
  Status s = Status::Validation({{"email", "is not an email address"}, {"password", "must be 12 to 128 characters"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(s.field_errors().size(), 2u);
  EXPECT_EQ(s.field_errors()[1].field, "password");
  EXPECT_EQ(s.message(), "email: is not an email address; password: must be 12 to 128 characters");
  EXPECT_EQ(s.WithContext("register").field_errors().size(), 2u);
}

}  // namespace
}  // namespace iv
