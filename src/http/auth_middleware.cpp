#include <string_view>

#include "http/api.h"
#include "http/problem.h"
#include "infra/crypto.h"

namespace iv::http {

namespace {

// The value of cookie `name` in a Cookie header ("a=1; b=2").
std::string CookieValue(const Request& req, std::string_view name) {
  for (const std::string& header : req.headers.GetAll("Cookie")) {
    std::string_view rest = header;
    while (!rest.empty()) {
      auto semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    }
  }
  return "";
}

bool IsSafeMethod(const std::string& method) { return method == "GET" || method == "HEAD" || method == "OPTIONS"; }

}  // namespace

const domain::Authenticated& Caller(const Request& req) {
  const auto* auth = req.Context<domain::Authenticated>("auth");
  if (!auth) throw std::logic_error("Caller() on a route without authentication");
  return *auth;
}

Middleware AuthMiddleware(domain::AccountService& accounts) {
  Middleware m;
  m.name = "auth";
  m.before = [&accounts](Request& req) -> std::optional<Response> {
    if (!req.route || req.route->HasTag("public")) return std::nullopt;
    std::string token = CookieValue(req, kSessionCookie);
    auto auth = accounts.Authenticate(token);
    if (!auth.ok()) return ProblemFor(auth.status());
    // A cookie rides along with cross-site requests; the CSRF token, which
    // only our own pages can read, proves the write comes from them.
    if (!IsSafeMethod(req.method) && !req.route->HasTag("no-csrf")) {
      std::string sent = req.headers.GetOr("X-CSRF-Token", "");
      if (sent.empty() || !infra::ConstantTimeEquals(sent, auth->csrf_token)) {
        return ProblemFor(Status::PermissionDenied("missing or wrong X-CSRF-Token header"));
      }
    }
    req.context["auth"] = *auth;
    return std::nullopt;
  };
  return m;
}

void AddHealthRoutes(Router& router, std::function<Status()> ready) {
  RouteOptions pub;
  pub.tags = {"public"};
  router.Add("GET", "/healthz", [](Request&) { return Response::Json(200, {{"status", "ok"}}); }, pub);
  router.Add(
      "GET", "/readyz",
      [ready](Request&) {
        Status s = ready();
        if (s.ok()) return Response::Json(200, {{"status", "ready"}});
        Response r = Problem(503, "not-ready", "Not ready", "a dependency does not answer");
        r.internal_note = s.message();
        return r;
      },
      pub);
}

}  // namespace iv::http
