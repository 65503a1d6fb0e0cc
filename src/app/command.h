// A CLI subcommand: registers its options on the parser, then runs when the
// user chose it. Run() returns the process exit code (see ExitCodeFor).
#pragma once

namespace CLI {
class App;
}

namespace iv::app {

class Command {
 public:
  virtual ~Command() = default;
  // True when this subcommand was given on the command line.
  virtual bool Selected() const = 0;
  virtual int Run() = 0;
};

// Prints "imagevideo: <message>" as one line on stderr.
void PrintError(const char* message);

}  // namespace iv::app
