// Integration-test helpers: the real `imagevideo serve` in a child process on
// a free loopback port, and a small HTTP client (libcurl) that keeps the
// session cookie and CSRF token like a browser would.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace iv::test {

// `imagevideo serve --port 0` with its data in `data_dir` and, when
// `database_url` is not empty, that database (else SQLite in data_dir).
class ServiceProcess {
 public:
  // `env` adds settings as NAME=value (IMAGEVIDEO_WORKERS_LEASE_MS=3000).
  // `subcommand` "worker" runs render workers alone (no port).
  ServiceProcess(std::string data_dir, std::string database_url = "", std::vector<std::string> env = {},
                 std::string subcommand = "serve");
  ~ServiceProcess();  // Stop()
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // Starts the process and waits for its "listening on" line (fails the
  // test, returning false, when it exits or does not answer in 30 s).
  bool Start();
  // SIGTERM and wait: a graceful stop. Returns the exit code.
  int Stop();
  // SIGKILL and wait: a crash.
  void Kill();
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  std::string data_dir_, database_url_;
  std::vector<std::string> env_;
  std::string subcommand_;
  pid_t pid_ = -1;
  int port_ = 0;
  int stdout_fd_ = -1;
};

struct HttpResponse {
  long status = 0;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;
  nlohmann::json json() const;  // null when the body is not JSON
  std::string header(const std::string& lower_name) const;
};

class HttpClient {
 public:
  explicit HttpClient(std::string base_url) : base_url_(std::move(base_url)) {}

  HttpResponse Get(const std::string& path, const std::vector<std::string>& headers = {});
  HttpResponse Delete(const std::string& path);
  HttpResponse PostJson(const std::string& path, const nlohmann::json& body);
  HttpResponse PostRaw(const std::string& path, const std::string& body, const std::string& content_type);
  // multipart/form-data with one file part named `field`.
  HttpResponse PostFile(const std::string& path, const std::string& field, const std::string& filename,
                        const std::string& bytes, const std::string& content_type = "application/octet-stream",
                        const std::vector<std::string>& headers = {});

  // Signs in and remembers the session cookie and CSRF token.
  bool Login(const std::string& email, const std::string& password);
  void set_csrf(std::string token) { csrf_ = std::move(token); }
  void forget_csrf() { csrf_.clear(); }
  const std::string& session_cookie() const { return cookie_; }
  void set_session_cookie(std::string cookie) { cookie_ = std::move(cookie); }

 private:
  HttpResponse Perform(const std::string& method, const std::string& path, const std::string* body,
                       const std::string& content_type, const std::vector<std::string>& extra_headers);
  std::string base_url_;
  std::string cookie_;  // "__Host-session=..."
  std::string csrf_;
};

// The verification token of the newest mail to `email` in the service's
// outbox folder (mail is delivered about every second; waits up to 5 s).
std::string MailedToken(const ServiceProcess& service, const std::string& email);

// A client of a new user: registered, verified through the mailed link and
// signed in (password "correct horse battery").
HttpClient SignedInClient(const ServiceProcess& service, const std::string& email);

}  // namespace iv::test
