// A one-line progress bar on stderr, drawn only when stderr is a terminal
// (so logs and pipes stay clean), redrawn at most ten times a second.
#pragma once

#include <chrono>

namespace iv::app {

class ProgressBar {
 public:
  // Draws nothing unless `enabled` and stderr is a TTY.
  explicit ProgressBar(bool enabled);
  ~ProgressBar();
  void Update(double fraction);  // 0..1
  // Clears the line.
  void Finish();

 private:
  bool active_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace iv::app
