#include "app/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace iv::app {

namespace {
constexpr int kBarWidth = 30;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
}  // namespace

ProgressBar::ProgressBar(bool enabled)
    : active_(enabled && isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(double fraction) {
  if (!active_) return;
  auto now = std::chrono::steady_clock::now();
  fraction = std::clamp(fraction, 0.0, 1.0);
  if (drawn_ && fraction < 1.0 && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  drawn_ = true;
  int filled = static_cast<int>(fraction * kBarWidth);
  char bar[kBarWidth + 1];
  for (int i = 0; i < kBarWidth; ++i) bar[i] = i < filled ? '#' : '-';
  bar[kBarWidth] = '\0';
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double eta = fraction > 0.02 ? elapsed * (1.0 - fraction) / fraction : -1;
  if (eta >= 0) {
    std::fprintf(stderr, "\r[%s] %3d%%  %.0fs left  ", bar, static_cast<int>(fraction * 100), eta);
  } else {
    std::fprintf(stderr, "\r[%s] %3d%%            ", bar, static_cast<int>(fraction * 100));
  }
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  if (!active_ || !drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace iv::app
