// PostgresServer: a throwaway PostgreSQL cluster for tests.
//
// The constructor runs initdb (trust authentication, superuser "imagevideo",
// UTF-8, C locale, --no-sync) in a fresh directory under the system temp dir,
// then starts the server on a free loopback port (listen_addresses=127.0.0.1,
// its unix socket inside that directory, fsync=off) with pg_ctl. About one
// second; do it once per process through Shared(), and isolate tests with
// CreateDatabase().
//
// Running as root: initdb and postgres refuse to run as root, so they run as
// the `postgres` system user (or $IV_PG_USER; "nobody" as a last resort)
// through runuser, and the directory is chowned to it. The temp dir must be
// traversable by that user (the default /tmp is).
//
// Binaries come from $IV_PG_BINDIR, else the newest
// /usr/lib/postgresql/<N>/bin (Debian), else PATH.
//
// Cleanup: a small watchdog process (its own session) holds the read end of a
// pipe; when this object is destroyed or the test process dies in any way
// (crash, SIGKILL from a ctest timeout), the pipe closes and the watchdog
// stops the server (pg_ctl stop -m immediate) and deletes the directory. The
// destructor waits for it.
//
// Parallel test processes (ctest -j) each get their own cluster, directory and
// port; a port taken between probing and binding is retried.
//
// With $IV_TEST_POSTGRES_URL set (e.g. postgresql://postgres@db:5432/postgres
// for a CI service container), Shared() starts nothing and uses that server;
// the URL's user must be allowed to CREATE DATABASE.
//
// Failures throw std::runtime_error carrying the server's log.
#pragma once

#include <sys/types.h>

#include <string>

namespace iv::test {

class PostgresServer {
 public:
  PostgresServer();
  // Uses an existing server: url() is `url`, nothing is started or stopped.
  explicit PostgresServer(std::string external_url);
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // The maintenance database: postgresql://imagevideo@127.0.0.1:<port>/postgres
  const std::string& url() const { return url_; }
  // A new, empty database with a random name (iv_test_<hex>); returns its URL.
  // Thread-safe.
  std::string CreateDatabase();

  // One server per process, started on first use (thread-safe), stopped at
  // exit.
  static PostgresServer& Shared();

 private:
  std::string dir_;       // empty for an external server
  std::string url_;
  std::string bindir_;    // with a trailing '/', or empty for PATH
  std::string run_as_;    // system user when running as root, else empty
  pid_t watchdog_ = -1;
  int watchdog_fd_ = -1;  // write end of the watchdog's pipe
};

}  // namespace iv::test
