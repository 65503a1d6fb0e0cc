// Easing curves: map linear progress t in [0, 1] to eased progress in [0, 1],
// with Ease(0) == 0 and Ease(1) == 1 exactly.
#pragma once

#include "engine/render_settings.h"

namespace iv::engine {

// linear: constant speed. ease-in-out: cubic, starts and ends at rest (no
// jolt at either end, and a smooth turn-around in loops). ease-out: cubic,
// starts at full speed and settles.
double Ease(Easing easing, double t);

}  // namespace iv::engine
