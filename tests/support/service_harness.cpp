#include "support/service_harness.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

extern char** environ;

namespace iv::test {

ServiceProcess::ServiceProcess(std::string data_dir, std::string database_url, std::vector<std::string> env,
                               std::string subcommand)
    : data_dir_(std::move(data_dir)),
      database_url_(std::move(database_url)),
      env_(std::move(env)),
      subcommand_(std::move(subcommand)) {}

ServiceProcess::~ServiceProcess() {
  if (pid_ > 0) Stop();
}

bool ServiceProcess::Start() {
  int out[2];
  if (pipe(out) != 0) return false;
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "IMAGEVIDEO_", 11) != 0) env_strings.push_back(*e);
  }
  env_strings.push_back("IMAGEVIDEO_STORAGE_DATA_DIR=" + data_dir_);
  if (!database_url_.empty()) env_strings.push_back("IMAGEVIDEO_STORAGE_DATABASE_URL=" + database_url_);
  env_strings.insert(env_strings.end(), env_.begin(), env_.end());
  std::vector<char*> env;
  for (auto& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);
  std::vector<std::string> args{IV_BINARY, subcommand_};
  if (subcommand_ == "serve") args.insert(args.end(), {"--port", "0"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    ADD_FAILURE() << "cannot start " << IV_BINARY;
    pid_ = -1;
    return false;
  }
  stdout_fd_ = out[0];
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::regex listening("listening on http://[^:]+:(\\d+)|(render worker)");
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) > 0) {
      char buf[512];
      ssize_t n = read(stdout_fd_, buf, sizeof buf);
      if (n <= 0) break;  // exited
      text.append(buf, static_cast<size_t>(n));
      std::smatch m;
      if (std::regex_search(text, m, listening)) {
        if (m[1].matched) port_ = std::stoi(m[1]);
        return true;
      }
    }
  }
  ADD_FAILURE() << "the service did not start; it printed: " << text;
  Kill();
  return false;
}

int ServiceProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ServiceProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  if (stdout_fd_ >= 0) close(stdout_fd_);
  stdout_fd_ = -1;
}

nlohmann::json HttpResponse::json() const { return nlohmann::json::parse(body, nullptr, false); }

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

namespace {

size_t OnBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    static_cast<std::multimap<std::string, std::string>*>(out)->emplace(name, value);
  }
  return size * n;
}

}  // namespace

HttpResponse HttpClient::Perform(const std::string& method, const std::string& path, const std::string* body,
                                 const std::string& content_type, const std::vector<std::string>& extra_headers) {
  HttpResponse r;
  CURL* curl = curl_easy_init();
  std::string url = base_url_ + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  curl_slist* headers = nullptr;
  bool expect_given = false;
  for (const auto& h : extra_headers) expect_given |= h.rfind("Expect:", 0) == 0;
  if (!expect_given) headers = curl_slist_append(headers, "Expect:");
  if (!cookie_.empty()) headers = curl_slist_append(headers, ("Cookie: " + cookie_).c_str());
  if (!csrf_.empty()) headers = curl_slist_append(headers, ("X-CSRF-Token: " + csrf_).c_str());
  if (body) {
    headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  for (const auto& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  // Keep the session cookie the way a browser would.
  for (auto [it, end] = r.headers.equal_range("set-cookie"); it != end; ++it) {
    std::string pair = it->second.substr(0, it->second.find(';'));
    if (pair.rfind("__Host-session=", 0) == 0) {
      cookie_ = pair == "__Host-session=" ? "" : pair;
    }
  }
  return r;
}

HttpResponse HttpClient::Get(const std::string& path, const std::vector<std::string>& headers) {
  return Perform("GET", path, nullptr, "", headers);
}

HttpResponse HttpClient::Delete(const std::string& path) { return Perform("DELETE", path, nullptr, "", {}); }

HttpResponse HttpClient::PostJson(const std::string& path, const nlohmann::json& body) {
  std::string text = body.dump();
  return Perform("POST", path, &text, "application/json", {});
}

HttpResponse HttpClient::PostRaw(const std::string& path, const std::string& body, const std::string& content_type) {
  return Perform("POST", path, &body, content_type, {});
}

HttpResponse HttpClient::PostFile(const std::string& path, const std::string& field, const std::string& filename,
                                  const std::string& bytes, const std::string& content_type,
                                  const std::vector<std::string>& headers) {
  const std::string boundary = "----ivtestboundary7d93";
  std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" +
                     filename + "\"\r\nContent-Type: " + content_type + "\r\n\r\n" + bytes + "\r\n--" + boundary +
                     "--\r\n";
  return Perform("POST", path, &body, "multipart/form-data; boundary=" + boundary, headers);
}

bool HttpClient::Login(const std::string& email, const std::string& password) {
  auto r = PostJson("/api/v1/auth/login", {{"email", email}, {"password", password}});
  if (r.status != 200) return false;
  csrf_ = r.json().value("csrf_token", "");
  return !cookie_.empty() && !csrf_.empty();
}

std::string MailedToken(const ServiceProcess& service, const std::string& email) {
  namespace fs = std::filesystem;
  const fs::path mail = fs::path(service.data_dir()) / "mail";
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::string token;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(mail, ec)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::string text(std::istreambuf_iterator<char>(in), {});
      std::smatch m;
      if (text.find("To: " + email) != std::string::npos &&
          std::regex_search(text, m, std::regex("token=([A-Za-z0-9_-]+)"))) {
        token = m[1];
      }
    }
    if (!token.empty()) return token;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "no verification mail for " << email;
  return "";
}

HttpClient SignedInClient(const ServiceProcess& service, const std::string& email) {
  HttpClient c(service.base_url());
  auto r = c.PostJson("/api/v1/auth/register", {{"name", "Test User"},
                                                {"email", email},
                                                {"password", "correct horse battery"},
                                                {"age_confirmed", true},
                                                {"policy_version", "2026-11-29"}});
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(c.PostJson("/api/v1/auth/verify", {{"token", MailedToken(service, email)}}).status, 204);
  EXPECT_TRUE(c.Login(email, "correct horse battery"));
  return c;
}

}  // namespace iv::test
