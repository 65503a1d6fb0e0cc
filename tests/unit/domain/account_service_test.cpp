// AccountService against a real database (SQLite here; the same store code
// runs on PostgreSQL in the integration suite).
#include "domain/account_service.h"

#include <gtest/gtest.h>

#include <fstream>

#include "infra/database.h"
#include "infra/schema.h"
#include "infra/sql_account_store.h"
#include "support/test_support.h"

namespace iv::domain {
namespace {

using namespace std::chrono_literals;

class AccountServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.file("test.db");
    auto db = infra::Database::Open("sqlite://" + db_path_);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
    ASSERT_TRUE(infra::Migrate(*db_, infra::SchemaMigrations()).ok());
    store_ = std::make_unique<infra::SqlAccountStore>(*db_);
    keys_ = KeyRing::FromMaster(infra::RandomKey());
    AccountOptions options;
    options.password_policy.opslimit = 2;
    service_ = std::make_unique<AccountService>(*store_, keys_, clock_, options);
  }

  RegisterRequest Valid(const std::string& email = "ada@example.com") {
    return {"Ada Lovelace", email, "correct horse battery", true, "2026-11-29"};
  }

  // The token from the newest queued mail's link.
  std::string TokenFromOutbox() {
    auto pending = store_->PendingMail(100);
    EXPECT_TRUE(pending.ok());
    EXPECT_FALSE(pending->empty());
    const auto& m = pending->back();
    auto sealed = infra::FromBase64(m.sealed);
    auto text = infra::Open(keys_.outbox, *sealed, "outbox:" + m.id);
    EXPECT_TRUE(text.ok());
    auto at = text->find("token=");
    if (at == std::string::npos) return "";
    return text->substr(at + 6, text->find("\r\n", at) - at - 6);
  }

  std::string VerifiedUser(const std::string& email = "ada@example.com") {
    auto user = service_->Register(Valid(email));
    EXPECT_TRUE(user.ok());
    EXPECT_TRUE(service_->VerifyEmail(TokenFromOutbox()).ok());
    return user->id;
  }

  int64_t Count(const std::string& table) {
    auto c = db_->Acquire();
    auto rows = (*c)->Query("SELECT COUNT(*) FROM " + table);
    return *rows->at(0).Int(0);
  }

  test::TempDir dir_;
  std::string db_path_;
  std::unique_ptr<infra::Database> db_;
  std::unique_ptr<infra::SqlAccountStore> store_;
  KeyRing keys_;
  infra::ManualClock clock_{infra::FromUnixMillis(1'790'000'000'000)};
  std::unique_ptr<AccountService> service_;
};

TEST_F(AccountServiceTest, RegisterValidatesEveryFieldAndStoresNothing) {
  RegisterRequest r{"", "not-an-email", "short", false, "1999-01-01"};
  auto result = service_->Register(r);
  ASSERT_FALSE(result.ok());
  Status status = result.status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& e : status.field_errors()) fields.push_back(e.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"name", "email", "password", "age_confirmed", "policy_version"}));
  EXPECT_EQ(Count("users"), 0);
  EXPECT_EQ(Count("mail_outbox"), 0);
}

TEST_F(AccountServiceTest, UnderThirteenStoresNothing) {
  RegisterRequest r = Valid();
  r.age_confirmed = false;
  EXPECT_EQ(service_->Register(r).status().field_errors().at(0).field, "age_confirmed");
  EXPECT_EQ(Count("users"), 0);
}

TEST_F(AccountServiceTest, PersonalDataIsSealedAndIndexed) {
  auto user = service_->Register(Valid("Ada@Example.com "));
  ASSERT_TRUE(user.ok()) << user.status().message();
  EXPECT_EQ(user->email, "ada@example.com");
  // The database file holds neither the name nor the address in clear.
  std::ifstream in(db_path_, std::ios::binary);
  std::string bytes(std::istreambuf_iterator<char>(in), {});
  std::ifstream wal(db_path_ + "-wal", std::ios::binary);
  bytes += std::string(std::istreambuf_iterator<char>(wal), {});
  EXPECT_EQ(bytes.find("ada@example.com"), std::string::npos);
  EXPECT_EQ(bytes.find("Lovelace"), std::string::npos);
  auto record = store_->FindUser(user->id);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->password_hash.rfind("$argon2id$", 0), 0u);
}

TEST_F(AccountServiceTest, LoginNeedsAVerifiedEmail) {
  ASSERT_TRUE(service_->Register(Valid()).ok());
  EXPECT_EQ(service_->Login("ada@example.com", "correct horse battery", "127.0.0.1", "").status().code(),
            StatusCode::kPermissionDenied);
  std::string token = TokenFromOutbox();
  ASSERT_FALSE(token.empty());
  EXPECT_TRUE(service_->VerifyEmail(token).ok());
  EXPECT_EQ(service_->VerifyEmail(token).code(), StatusCode::kNotFound) << "a link works once";
  auto session = service_->Login("ADA@example.com", "correct horse battery", "127.0.0.1",
                                 "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0");
  ASSERT_TRUE(session.ok()) << session.status().message();
  EXPECT_EQ(session->user.name, "Ada Lovelace");
  EXPECT_TRUE(session->user.email_verified);
  auto auth = service_->Authenticate(session->token);
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->user_id, session->user.id);
  auto sessions = service_->ListSessions(auth->user_id, auth->session_id);
  ASSERT_EQ(sessions->size(), 1u);
  EXPECT_EQ(sessions->at(0).device, "Firefox on Linux");
  EXPECT_TRUE(sessions->at(0).current);
}

TEST_F(AccountServiceTest, ExpiredVerificationLinkIsRefused) {
  ASSERT_TRUE(service_->Register(Valid()).ok());
  std::string token = TokenFromOutbox();
  clock_.Advance(49h);
  EXPECT_EQ(service_->VerifyEmail(token).code(), StatusCode::kNotFound);
}

TEST_F(AccountServiceTest, WrongPasswordAndUnknownEmailLookAlike) {
  VerifiedUser();
  auto wrong = service_->Login("ada@example.com", "wrong password!!", "10.0.0.1", "");
  auto unknown = service_->Login("bob@example.com", "wrong password!!", "10.0.0.1", "");
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), unknown.status().message());
}

TEST_F(AccountServiceTest, RegisteringATakenAddressLooksLikeSuccessAndWarnsTheOwner) {
  auto first = service_->Register(Valid());
  auto second = service_->Register(Valid());
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->id, second->id);
  EXPECT_EQ(Count("users"), 1);
  EXPECT_EQ(Count("mail_outbox"), 2);
}

TEST_F(AccountServiceTest, ThrottlesAfterOneHundredFailuresAnHourPerAccount) {
  VerifiedUser();
  AccountOptions options;
  options.max_failures_per_account = 5;  // the mechanism; the default is 100
  options.max_failures_per_ip = 1000;
  AccountService strict(*store_, keys_, clock_, options);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(strict.Login("ada@example.com", "wrong password!!", "10.0.0." + std::to_string(i), "").status().code(),
              StatusCode::kUnauthenticated);
  }
  // Even the right password is refused while throttled...
  EXPECT_EQ(strict.Login("ada@example.com", "correct horse battery", "10.0.0.9", "").status().code(),
            StatusCode::kRateLimited);
  // ...and accepted again an hour later.
  clock_.Advance(61min);
  EXPECT_TRUE(strict.Login("ada@example.com", "correct horse battery", "10.0.0.9", "").ok());
  EXPECT_EQ(AccountOptions{}.max_failures_per_account, 100);
}

TEST_F(AccountServiceTest, SessionsTimeOut) {
  VerifiedUser();
  auto session = service_->Login("ada@example.com", "correct horse battery", "127.0.0.1", "");
  ASSERT_TRUE(session.ok());
  clock_.Advance(24h * 6);
  EXPECT_TRUE(service_->Authenticate(session->token).ok()) << "used within the idle timeout";
  clock_.Advance(24h * 6);
  EXPECT_TRUE(service_->Authenticate(session->token).ok());
  clock_.Advance(24h * 8);  // idle for 8 days
  EXPECT_EQ(service_->Authenticate(session->token).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Count("sessions"), 0) << "an expired session is deleted";
}

TEST_F(AccountServiceTest, SessionsHaveAnAbsoluteLimit) {
  VerifiedUser();
  auto session = service_->Login("ada@example.com", "correct horse battery", "127.0.0.1", "");
  for (int day = 0; day < 31; ++day) {
    clock_.Advance(24h);
    if (day < 29) EXPECT_TRUE(service_->Authenticate(session->token).ok()) << day;
  }
  EXPECT_FALSE(service_->Authenticate(session->token).ok());
}

TEST_F(AccountServiceTest, LogoutAndRevoke) {
  std::string user_id = VerifiedUser();
  std::string other_id = VerifiedUser("bob@example.com");
  auto a = service_->Login("ada@example.com", "correct horse battery", "127.0.0.1", "");
  auto b = service_->Login("ada@example.com", "correct horse battery", "127.0.0.1", "");
  auto bob = service_->Login("bob@example.com", "correct horse battery", "127.0.0.1", "");
  // Another user's session is not found, not revoked.
  EXPECT_EQ(service_->RevokeSession(other_id, a->session_id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(service_->RevokeSession(user_id, b->session_id).ok());
  EXPECT_FALSE(service_->Authenticate(b->token).ok());
  EXPECT_TRUE(service_->Logout(a->session_id).ok());
  EXPECT_FALSE(service_->Authenticate(a->token).ok());
  EXPECT_TRUE(service_->Authenticate(bob->token).ok());
}

}  // namespace
}  // namespace iv::domain
