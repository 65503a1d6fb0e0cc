// `imagevideo serve` (the web service), `imagevideo worker` (render workers
// alone) and `imagevideo migrate` (apply schema migrations and exit).
#pragma once

#include <memory>

#include "app/command.h"

namespace iv::app {

std::unique_ptr<Command> AddServeCommand(CLI::App& app);
std::unique_ptr<Command> AddWorkerCommand(CLI::App& app);
std::unique_ptr<Command> AddMigrateCommand(CLI::App& app);

}  // namespace iv::app
