// `imagevideo render INPUT -o OUTPUT [options]`: a photo to a video file.
#pragma once

#include <memory>

#include "app/command.h"

namespace iv::app {

std::unique_ptr<Command> AddRenderCommand(CLI::App& app);

}  // namespace iv::app
