#include "app/serve_command.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "app/config.h"
#include "app/service.h"

namespace iv::app {

namespace {

int Fail(const Status& s) {
  PrintError(s.message().c_str());
  return ExitCodeFor(s);
}

// --config, or ./imagevideo.toml when it exists, or none.
std::string ConfigPath(const std::string& given) {
  if (!given.empty()) return given;
  return std::filesystem::exists("imagevideo.toml") ? "imagevideo.toml" : "";
}

// Runs the service in `role` until SIGINT or SIGTERM.
int RunUntilSignal(Config config, Role role) {
  // Signals are taken by sigwait below; block them before any thread
  // starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto service = Service::Create(config, role);
  if (!service.ok()) return Fail(service.status());
  if (Status s = (*service)->Start(); !s.ok()) return Fail(s);
  if (role == Role::kServe) {
    std::printf("imagevideo: listening on http://%s:%d (data in %s)\n", config.listen_host.c_str(),
                (*service)->port(), config.data_dir.c_str());
  } else {
    std::printf("imagevideo: %d render worker(s) on %s\n", config.worker_count, config.data_dir.c_str());
  }
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  std::fprintf(stderr, "imagevideo: stopping\n");
  (*service)->Stop();
  return 0;
}

class ServeCommand : public Command {
 public:
  explicit ServeCommand(CLI::App& app) {
    cmd_ = app.add_subcommand("serve", "Run the web service (see README: Running the service)");
    cmd_->add_option("--config", config_, "TOML configuration file (default ./imagevideo.toml if present)");
    cmd_->add_option("--port", port_, "Port to listen on, overriding the configuration (0 picks a free one)");
  }
  bool Selected() const override { return cmd_->parsed(); }

  int Run() override {
    auto config = LoadConfig(ConfigPath(config_));
    if (!config.ok()) return Fail(config.status());
    if (port_ >= 0) config->listen_port = port_;
    return RunUntilSignal(*config, Role::kServe);
  }

 private:
  CLI::App* cmd_ = nullptr;
  std::string config_;
  int port_ = -1;
};

class WorkerCommand : public Command {
 public:
  explicit WorkerCommand(CLI::App& app) {
    cmd_ = app.add_subcommand("worker", "Run render workers alone, on the service's database and storage");
    cmd_->add_option("--config", config_, "TOML configuration file (default ./imagevideo.toml if present)");
    cmd_->add_option("--count", count_, "Worker threads, overriding workers.count");
  }
  bool Selected() const override { return cmd_->parsed(); }

  int Run() override {
    auto config = LoadConfig(ConfigPath(config_));
    if (!config.ok()) return Fail(config.status());
    if (count_ >= 0) config->worker_count = count_;
    if (config->worker_count < 1) return Fail(Status::InvalidArgument("--count: a worker needs at least 1 thread"));
    return RunUntilSignal(*config, Role::kWorkerOnly);
  }

 private:
  CLI::App* cmd_ = nullptr;
  std::string config_;
  int count_ = -1;
};

class MigrateCommand : public Command {
 public:
  explicit MigrateCommand(CLI::App& app) {
    cmd_ = app.add_subcommand("migrate", "Apply pending database migrations and exit");
    cmd_->add_option("--config", config_, "TOML configuration file (default ./imagevideo.toml if present)");
  }
  bool Selected() const override { return cmd_->parsed(); }

  int Run() override {
    auto config = LoadConfig(ConfigPath(config_));
    if (!config.ok()) return Fail(config.status());
    int applied = 0;
    if (Status s = MigrateDatabase(*config, &applied); !s.ok()) return Fail(s);
    std::printf("imagevideo: %d migration(s) applied\n", applied);
    return 0;
  }

 private:
  CLI::App* cmd_ = nullptr;
  std::string config_;
};

}  // namespace

std::unique_ptr<Command> AddServeCommand(CLI::App& app) { return std::make_unique<ServeCommand>(app); }
std::unique_ptr<Command> AddWorkerCommand(CLI::App& app) { return std::make_unique<WorkerCommand>(app); }
std::unique_ptr<Command> AddMigrateCommand(CLI::App& app) { return std::make_unique<MigrateCommand>(app); }

}  // namespace iv::app
