#include "engine/easing.h"

#include <algorithm>

namespace iv::engine {

double Ease(Easing easing, double t) {
  t = std::clamp(t, 0.0, 1.0);
  switch (easing) {
    case Easing::kLinear:
      return t;
    case Easing::kEaseInOut:
      // Cubic ease-in-out (easings.net "easeInOutCubic").
      if (t < 0.5) return 4.0 * t * t * t;
      {
        double u = -2.0 * t + 2.0;
        return 1.0 - u * u * u / 2.0;
      }
    case Easing::kEaseOut: {
      double u = 1.0 - t;
      return 1.0 - u * u * u;
    }
  }
  return t;
}

}  // namespace iv::engine
