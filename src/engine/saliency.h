// Where a photo draws the eye, for the ken-burns preset to drift toward.
#pragma once

#include "engine/camera_path.h"
#include "engine/image.h"

namespace iv::engine {

// The centroid of the most salient region of `image` (spectral-residual
// saliency, Hou & Zhang, CVPR 2007), as fractions of its width and height.
// Returns the centre (0.5, 0.5) for an empty or featureless image.
// Deterministic; runs on a downscaled copy, so it takes milliseconds.
Point2 SalientPoint(const Image& image);

}  // namespace iv::engine
