// Service: `imagevideo serve` assembled from a Config: data folder, master
// key, database (migrated), blob store, domain services, HTTP routes and
// server. The one place that knows every concrete class.
#pragma once

#include <memory>

#include "app/config.h"
#include "common/status.h"

namespace iv::app {

// What a process runs: the web service with its own render workers, or
// render workers alone (`imagevideo worker`, on the same database and
// storage, to add rendering capacity).
enum class Role { kServe, kWorkerOnly };

class Service {
 public:
  // Creates the data folder (0700) and master key file (0600) when missing,
  // opens and migrates the database. Errors name what is wrong (an
  // unreadable key file, a database that does not answer).
  static Result<std::unique_ptr<Service>> Create(const Config& config, Role role = Role::kServe);
  ~Service();

  // Starts the workers and (kServe) listening; the real port is port()
  // (config port 0 picks one).
  Status Start();
  int port() const;
  // Stops accepting, lets requests in flight finish, delivers queued mail.
  void Stop();

 private:
  struct Parts;
  explicit Service(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// Applies pending schema migrations to the configured database.
Status MigrateDatabase(const Config& config, int* applied);

}  // namespace iv::app
