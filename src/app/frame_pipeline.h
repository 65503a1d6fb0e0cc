// Renders the frames of a plan on several threads and hands them, in order,
// to a consumer on the calling thread (the encoder, which must see frames in
// sequence). At most `window` frames are in flight, which bounds memory.
#pragma once

#include <atomic>
#include <functional>

#include "common/status.h"
#include "engine/frame_renderer.h"

namespace iv::app {

using FrameConsumer = std::function<Status(const engine::Image& frame, int index)>;

// Stops at the first consumer error (returned) or when *cancel becomes true
// (kCanceled). `threads` >= 1.
Status RunFramePipeline(const engine::FrameRenderer& renderer, int threads, const FrameConsumer& consume,
                        const std::atomic<bool>* cancel);

}  // namespace iv::app
