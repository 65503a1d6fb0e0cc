// imagevideo: one binary, one subcommand per job (see README "CLI").
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/render_command.h"
#include "app/serve_command.h"
#include "media/image_decoder.h"

int main(int argc, char** argv) {
  CLI::App app{"imagevideo: turns a photo into a short video"};
  app.set_version_flag("--version", IV_VERSION);
  app.require_subcommand(1);

  std::vector<std::unique_ptr<iv::app::Command>> commands;
  commands.push_back(iv::app::AddRenderCommand(app));
  commands.push_back(iv::app::AddServeCommand(app));
  commands.push_back(iv::app::AddWorkerCommand(app));
  commands.push_back(iv::app::AddMigrateCommand(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, then the usual exit code for bad usage.
    iv::app::PrintError((std::string(e.what()) + " (see --help)").c_str());
    return 2;
  }

  if (iv::Status s = iv::media::InitMedia(argv[0]); !s.ok()) {
    iv::app::PrintError(s.message().c_str());
    return iv::ExitCodeFor(s);
  }
  for (auto& command : commands) {
    if (command->Selected()) return command->Run();
  }
  return 2;
}
