#include "support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace iv::test {

namespace fs = std::filesystem;

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Tail(const std::string& s, std::size_t n = 4000) { return s.size() > n ? s.substr(s.size() - n) : s; }

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string FindBinDir() {
  if (const char* env = std::getenv("IV_PG_BINDIR"); env && *env) return std::string(env) + "/";
  int best = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    char* end = nullptr;
    long v = std::strtol(name.c_str(), &end, 10);
    if (end == name.c_str() || *end != '\0') continue;
    if (v > best && fs::exists(entry.path() / "bin" / "initdb", ec)) best = static_cast<int>(v);
  }
  if (best < 0) return "";
  return "/usr/lib/postgresql/" + std::to_string(best) + "/bin/";
}

// Runs argv with stdin from /dev/null, stdout and stderr appended to
// `log_path`, in directory `cwd`, without any of our other descriptors;
// returns the exit status (-1 when it could not start or was killed).
int Spawn(const std::vector<std::string>& argv, const std::string& cwd, const std::string& log_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("cannot find a free loopback port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// postgresql://user@host:port/<db>?params with the database replaced.
std::string WithDatabase(const std::string& url, const std::string& db) {
  std::size_t scheme = url.find("://");
  std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  std::size_t query = url.find('?', start);
  std::size_t slash = url.find('/', start);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  std::size_t authority_end = std::min(slash, query);
  return url.substr(0, authority_end == std::string::npos ? url.size() : authority_end) + "/" + db + rest;
}

}  // namespace

PostgresServer::PostgresServer() {
  bindir_ = FindBinDir();
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (geteuid() == 0) {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("IV_PG_USER"); env && *env) candidates.push_back(env);
    candidates.push_back("postgres");
    candidates.push_back("nobody");
    for (const auto& name : candidates) {
      if (passwd* pw = getpwnam(name.c_str())) {
        run_as_ = name;
        uid = pw->pw_uid;
        gid = pw->pw_gid;
        break;
      }
    }
    if (run_as_.empty()) throw std::runtime_error("PostgresServer: running as root and no 'postgres' user exists");
  }

  std::string tmpl = (fs::temp_directory_path() / "iv-pg-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("PostgresServer: mkdtemp failed");
  dir_ = tmpl;
  if (!run_as_.empty() && chown(dir_.c_str(), uid, gid) != 0) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw std::runtime_error("PostgresServer: cannot chown " + dir_ + " to " + run_as_);
  }
  const std::string data = dir_ + "/data";
  const std::string log = dir_ + "/harness.log";
  std::vector<std::string> prefix;
  if (!run_as_.empty()) {
    std::string runuser = "runuser";
    for (const char* p : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"}) {
      if (access(p, X_OK) == 0) {
        runuser = p;
        break;
      }
    }
    prefix = {runuser, "-u", run_as_, "--"};
  }
  auto command = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = prefix;
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };

  // The watchdog first, so that whatever happens from here on is cleaned up.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("PostgresServer: pipe failed");
  std::string stop;
  for (const auto& a : command({bindir_ + "pg_ctl", "-D", data, "stop", "-m", "immediate", "-w", "-t", "30"})) {
    stop += ShellQuote(a) + " ";
  }
  const std::string script = "read x; " + stop + ">/dev/null 2>&1; rm -rf " + ShellQuote(dir_);
  {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawn_file_actions_addchdir_np(&fa, "/");
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);  // survives a kill of our process group
    const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
    int rc = posix_spawn(&watchdog_, "/bin/sh", &fa, &attr, const_cast<char**>(argv), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[0]);
    if (rc != 0) {
      close(fds[1]);
      std::error_code ec;
      fs::remove_all(dir_, ec);
      throw std::runtime_error("PostgresServer: cannot start the cleanup watchdog");
    }
    watchdog_fd_ = fds[1];
  }

  auto fail = [&](const std::string& what) {
    std::string details = Tail(ReadFile(log)) + Tail(ReadFile(dir_ + "/server.log"));
    // The destructor does not run for a throwing constructor: release the
    // watchdog here, which stops whatever started and removes the directory.
    close(watchdog_fd_);
    while (waitpid(watchdog_, nullptr, 0) < 0 && errno == EINTR) {
    }
    throw std::runtime_error("PostgresServer: " + what + "\n" + details);
  };

  // initdb takes a second or more; ctest runs every test case in its own
  // process, so a pristine cluster is kept as a template under the temp dir
  // (per user and PostgreSQL bindir) and copied (~0.1 s) when present. It is
  // trusted only when owned by the server's user with mode 0700, and
  // published atomically (rename) once complete.
  // IV_PG_NO_TEMPLATE_CACHE=1 turns this off.
  std::string cache;
  if (const char* off = std::getenv("IV_PG_NO_TEMPLATE_CACHE"); !off || std::string(off) != "1") {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a of the binaries' location
    for (char c : bindir_) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    char name[64];
    std::snprintf(name, sizeof name, "iv-pg-template-%u-%016llx", static_cast<unsigned>(uid),
                  static_cast<unsigned long long>(h));
    cache = (fs::temp_directory_path() / name).string();
  }
  bool from_template = false;
  if (!cache.empty()) {
    struct stat st {};
    if (stat(cache.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid && (st.st_mode & 0077) == 0 &&
        fs::exists(cache + "/complete")) {
      from_template = Spawn(command({"cp", "-a", cache + "/data", data}), dir_, log) == 0;
      if (!from_template) {
        std::error_code ec;
        fs::remove_all(data, ec);
      }
    }
  }
  if (!from_template) {
    if (Spawn(command({bindir_ + "initdb", "-D", data, "-A", "trust", "-U", "imagevideo", "-E", "UTF8",
                       "--no-locale", "--no-sync", "--no-instructions"}),
              dir_, log) != 0) {
      fail("initdb failed");
    }
    if (!cache.empty()) {
      // Publish a copy; losing the race to another process is fine.
      std::string staging = cache + "-XXXXXX";
      if (mkdtemp(staging.data())) {
        bool ok = (run_as_.empty() || chown(staging.c_str(), uid, gid) == 0) &&
                  Spawn(command({"cp", "-a", data, staging + "/data"}), dir_, log) == 0;
        if (ok) {
          std::ofstream(staging + "/complete") << "initdb template for imagevideo tests\n";
          ok = (run_as_.empty() || chown((staging + "/complete").c_str(), uid, gid) == 0) &&
               rename(staging.c_str(), cache.c_str()) == 0;
        }
        if (!ok) {
          std::error_code ec;
          fs::remove_all(staging, ec);
        }
      }
    }
  }
  {
    std::ofstream conf(data + "/postgresql.conf", std::ios::app);
    conf << "\n# imagevideo test cluster\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "unix_socket_directories = '" << dir_ << "'\n"
         << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
         << "max_connections = 200\nshared_buffers = 32MB\n";
    if (!conf) fail("cannot write postgresql.conf");
  }
  int port = 0;
  for (int attempt = 0;; ++attempt) {
    port = FreeLoopbackPort();
    if (Spawn(command({bindir_ + "pg_ctl", "-D", data, "-l", dir_ + "/server.log", "-w", "-t", "60", "-o",
                       "-p " + std::to_string(port), "start"}),
              dir_, log) == 0) {
      break;
    }
    // Another process may have taken the port in between: try another.
    if (attempt >= 4 || ReadFile(dir_ + "/server.log").find("already in use") == std::string::npos) {
      if (from_template) {
        std::error_code ec;
        fs::remove_all(cache, ec);  // maybe a bad template: the next run makes a fresh one
      }
      fail("pg_ctl start failed");
    }
  }
  url_ = "postgresql://imagevideo@127.0.0.1:" + std::to_string(port) + "/postgres";
}

PostgresServer::PostgresServer(std::string external_url) : url_(std::move(external_url)) {}

PostgresServer::~PostgresServer() {
  if (watchdog_fd_ >= 0) {
    close(watchdog_fd_);  // the watchdog stops the server and removes the directory
    while (waitpid(watchdog_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

std::string PostgresServer::CreateDatabase() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  char name[32];
  {
    std::lock_guard lock(mu);
    std::snprintf(name, sizeof name, "iv_test_%016llx", static_cast<unsigned long long>(rng()));
  }
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url_.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error(std::string("PostgresServer: cannot connect: ") + PQerrorMessage(conn.get()));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> res(
      PQexec(conn.get(), (std::string("CREATE DATABASE ") + name).c_str()), &PQclear);
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    throw std::runtime_error(std::string("PostgresServer: CREATE DATABASE failed: ") + PQerrorMessage(conn.get()));
  }
  return WithDatabase(url_, name);
}

PostgresServer& PostgresServer::Shared() {
  static std::mutex mu;
  static std::unique_ptr<PostgresServer> shared;
  std::lock_guard lock(mu);
  if (!shared) {
    if (const char* external = std::getenv("IV_TEST_POSTGRES_URL"); external && *external) {
      shared = std::make_unique<PostgresServer>(std::string(external));
    } else {
      shared = std::make_unique<PostgresServer>();
    }
  }
  return *shared;
}

}  // namespace iv::test
