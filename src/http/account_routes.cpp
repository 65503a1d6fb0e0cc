// /api/v1/auth/* and /api/v1/me*: sign-up, verification, sign-in, sessions.
#include "http/api.h"
#include "http/json_body.h"
#include "http/problem.h"
#include "infra/clock.h"

namespace iv::http {

namespace {

// __Host- cookies must be Secure, host-only and Path=/; browsers treat
// http://localhost as secure, so this works locally too (see README).
std::string SessionCookie(const std::string& token, int max_age_s) {
  return std::string(kSessionCookie) + "=" + token + "; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=" +
         std::to_string(max_age_s);
}

std::string Rfc3339(std::int64_t unix_ms) { return infra::ToRfc3339(infra::FromUnixMillis(unix_ms)); }

RouteOptions Tags(std::vector<std::string> tags) {
  RouteOptions o;
  o.tags = std::move(tags);
  return o;
}

}  // namespace

nlohmann::json UserJson(const domain::UserView& u) {
  return {{"id", u.id},
          {"name", u.name},
          {"email", u.email},
          {"email_verified", u.email_verified},
          {"created_at", Rfc3339(u.created_at)}};
}

void AddAccountRoutes(Router& router, domain::AccountService& accounts) {
  router.Post(
      "/api/v1/auth/register",
      [&accounts](Request& req) {
        auto body = ParseJsonObject(req, {"name", "email", "password", "age_confirmed", "policy_version"});
        if (!body.ok()) return ProblemFor(body.status());
        std::vector<FieldError> errors;
        domain::RegisterRequest r;
        r.name = StringField(*body, "name", &errors).value_or("");
        r.email = StringField(*body, "email", &errors).value_or("");
        r.password = StringField(*body, "password", &errors).value_or("");
        r.age_confirmed = BoolField(*body, "age_confirmed", &errors).value_or(false);
        r.policy_version = StringField(*body, "policy_version", &errors).value_or("");
        if (!errors.empty()) return ProblemFor(Status::Validation(std::move(errors)));
        auto user = accounts.Register(r);
        if (!user.ok()) return ProblemFor(user.status());
        return Response::Json(201, {{"user", UserJson(*user)}});
      },
      Tags({"public", "no-csrf"}));

  router.Post(
      "/api/v1/auth/verify",
      [&accounts](Request& req) {
        auto body = ParseJsonObject(req, {"token"});
        if (!body.ok()) return ProblemFor(body.status());
        std::vector<FieldError> errors;
        auto token = StringField(*body, "token", &errors);
        if (!token) errors.push_back({"token", "is required"});
        if (!errors.empty()) return ProblemFor(Status::Validation(std::move(errors)));
        Status s = accounts.VerifyEmail(*token);
        if (!s.ok()) return ProblemFor(s);
        return Response::NoContent();
      },
      Tags({"public", "no-csrf"}));

  router.Post(
      "/api/v1/auth/login",
      [&accounts](Request& req) {
        auto body = ParseJsonObject(req, {"email", "password"});
        if (!body.ok()) return ProblemFor(body.status());
        std::vector<FieldError> errors;
        std::string email = StringField(*body, "email", &errors).value_or("");
        std::string password = StringField(*body, "password", &errors).value_or("");
        if (!errors.empty()) return ProblemFor(Status::Validation(std::move(errors)));
        auto session = accounts.Login(email, password, req.remote_ip, req.headers.GetOr("User-Agent", ""));
        if (!session.ok()) return ProblemFor(session.status());
        Response r = Response::Json(200, {{"user", UserJson(session->user)}, {"csrf_token", session->csrf_token}});
        r.headers.Add("Set-Cookie", SessionCookie(session->token, 30 * 24 * 3600));
        return r;
      },
      Tags({"public", "no-csrf"}));

  router.Post("/api/v1/auth/logout", [&accounts](Request& req) {
    Status s = accounts.Logout(Caller(req).session_id);
    if (!s.ok()) return ProblemFor(s);
    Response r = Response::NoContent();
    r.headers.Add("Set-Cookie", SessionCookie("", 0));
    return r;
  });

  router.Get("/api/v1/me", [&accounts](Request& req) {
    const auto& caller = Caller(req);
    auto user = accounts.GetUser(caller.user_id);
    if (!user.ok()) return ProblemFor(user.status());
    return Response::Json(200, {{"user", UserJson(*user)}, {"csrf_token", caller.csrf_token}});
  });

  router.Get("/api/v1/me/sessions", [&accounts](Request& req) {
    const auto& caller = Caller(req);
    auto sessions = accounts.ListSessions(caller.user_id, caller.session_id);
    if (!sessions.ok()) return ProblemFor(sessions.status());
    nlohmann::json items = nlohmann::json::array();
    for (const auto& s : *sessions) {
      items.push_back({{"id", s.id},
                       {"device", s.device},
                       {"created_at", Rfc3339(s.created_at)},
                       {"last_seen_at", Rfc3339(s.last_seen_at)},
                       {"current", s.current}});
    }
    return Response::Json(200, {{"items", items}, {"next_cursor", nullptr}});
  });

  router.Add("DELETE", "/api/v1/me/sessions/{id}", [&accounts](Request& req) {
    Status s = accounts.RevokeSession(Caller(req).user_id, req.PathParam("id"));
    if (!s.ok()) return ProblemFor(s);
    return Response::NoContent();
  });
}

}  // namespace iv::http
