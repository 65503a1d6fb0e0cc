// Renders the frames of a plan on several threads and hands them, in order,
// to a consumer on the calling thread (the encoder, which must see frames in
// sequence). At most `2 * threads` frames are in flight, which bounds memory;
// their buffers are reused from frame to frame.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"
#include "engine/frame_renderer.h"

namespace iv::app {

// Frame is engine::Image (RGB) or engine::YuvFrame; the renderer must have
// the matching layout. Stops at the first consumer error (returned) or when
// *cancel becomes true (kCanceled). `threads` >= 1.
template <typename Frame>
Status RunFramePipeline(const engine::FrameRenderer& renderer, int threads,
                        const std::function<Status(const Frame& frame, int index)>& consume,
                        const std::atomic<bool>* cancel) {
  const int frame_count = static_cast<int>(renderer.plan().frames.size());
  // Two frames per worker keeps every worker busy while the consumer is on
  // one frame, without holding more memory than that.
  const int window = 2 * threads;
  std::vector<Frame> slots(window);
  std::vector<int> ready(window, -1);  // frame index a slot holds, -1 = none

  std::mutex mu;
  std::condition_variable slot_filled, slot_freed;
  int next_frame = 0;  // next frame a worker should take
  int consumed = 0;    // frames the consumer is done with
  bool stop = false;

  auto worker = [&] {
    Frame scratch;
    for (;;) {
      int index;
      {
        std::unique_lock lock(mu);
        slot_freed.wait(lock, [&] { return stop || next_frame >= frame_count || next_frame < consumed + window; });
        if (stop || next_frame >= frame_count) return;
        index = next_frame++;
        // The slot is free (its previous frame, index - window, is consumed):
        // take its buffer to render into.
        std::swap(scratch, slots[index % window]);
      }
      renderer.Render(index, &scratch);
      {
        std::lock_guard lock(mu);
        std::swap(scratch, slots[index % window]);
        ready[index % window] = index;
      }
      slot_filled.notify_all();
    }
  };

  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int i = 0; i < threads; ++i) pool.emplace_back(worker);

  Status status;
  for (int index = 0; index < frame_count && status.ok(); ++index) {
    if (cancel && cancel->load()) {
      status = Status::Canceled("canceled");
      break;
    }
    {
      std::unique_lock lock(mu);
      slot_filled.wait(lock, [&] { return ready[index % window] == index; });
    }
    // The worker that filled this slot cannot touch it again until
    // `consumed` moves past it, so it is read without the lock.
    status = consume(slots[index % window], index);
    {
      std::lock_guard lock(mu);
      consumed = index + 1;
    }
    slot_freed.notify_all();
  }
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  slot_freed.notify_all();
  for (auto& t : pool) t.join();
  return status;
}

}  // namespace iv::app
