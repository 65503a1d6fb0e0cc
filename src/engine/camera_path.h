// CameraPath: where the virtual camera looks in each frame.
//
// Coordinates are continuous source-image pixels: (0, 0) is the top-left
// corner of the top-left pixel, (w, h) the bottom-right corner of the image.
// The camera shows a rectangle of the frame's aspect ratio, centred at
// (cx, cy), `zoom` times smaller than the base view, turned by `rotation`.
// All values are doubles, never rounded: sub-pixel motion is the point.
//
// What `intensity` (0..1) means per preset (the numbers are chosen so the
// default 0.5 gives a clearly visible but calm move over a few seconds):
//   zoom-in / zoom-out   zoom from 1 to 1 + 0.5*intensity (default 1.25x),
//                        interpolated in log space so the apparent speed is
//                        constant
//   pan-*                zoom 1 + 0.25*intensity to make room, then travel
//                        across the room available in that direction (at
//                        most 2*intensity view widths)
//   ken-burns            zoom-in while the centre drifts toward the most
//                        salient point of the photo
//   handheld             a seeded, smooth shake: up to 1.5%*intensity of the
//                        view in position and 0.8deg*intensity of rotation,
//                        made of whole cycles over the video so it loops
//   static               a still frame
// With `loop`, the move goes out and comes back (ping-pong) so the last frame
// leads smoothly into the first.
//
// Thread-safety: immutable after construction.
#pragma once

#include <vector>

#include "engine/render_settings.h"

namespace iv::engine {

struct Point2 {
  double x = 0;
  double y = 0;
};

struct CameraPose {
  double cx = 0;        // view centre, source pixels
  double cy = 0;
  double zoom = 1;      // >= 1; view size = base view size / zoom
  double rotation = 0;  // radians, counter-clockwise as seen in the output
};

// The area the camera moves over and the view it starts from.
struct CameraStage {
  double canvas_w = 0;  // the camera never looks outside [0,canvas_w]x[0,canvas_h]...
  double canvas_h = 0;
  double canvas_x = 0;  // ...offset by (canvas_x, canvas_y) in source pixels
  double canvas_y = 0;
  double base_w = 0;    // view size at zoom 1 (frame aspect)
  double base_h = 0;
  double source_w = 0;  // the photo: [0,source_w]x[0,source_h]
  double source_h = 0;
};

// The stage for a source of src_w x src_h shown in a frame of the given
// aspect: with cover the canvas is the photo and the base view the largest
// centred rectangle of the frame's aspect inside it; with contain the canvas
// is the smallest such rectangle around the photo (the rest is background).
CameraStage MakeStage(Fit fit, double src_w, double src_h, double frame_aspect);

class CameraPath {
 public:
  // `salient` is the point ken-burns drifts toward, as fractions of the
  // source size (0.5, 0.5 = centre); ignored by other presets.
  CameraPath(const RenderSettings& settings, const CameraStage& stage, Point2 salient);

  int frame_count() const { return static_cast<int>(poses_.size()); }
  const CameraPose& pose(int frame) const { return poses_[frame]; }
  const std::vector<CameraPose>& poses() const { return poses_; }
  // The largest zoom of any frame: decides how much source resolution is
  // worth decoding.
  double max_zoom() const { return max_zoom_; }

  // The zoom factor a preset reaches at `intensity` (1 for moves that do not
  // zoom the view during the video). Tests and the docs use it.
  static double PresetZoom(CameraPreset camera, double intensity);

 private:
  std::vector<CameraPose> poses_;
  double max_zoom_ = 1;
};

}  // namespace iv::engine
