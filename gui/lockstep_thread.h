// Runs a Lockstep on a worker thread so the compare window only paints.
//
// Design note: the same handshakes as SimThread (gui/sim_thread.h). The
// worker owns both machines while it steps; nobody else may touch the
// Lockstep then. It steps in batches of about 10 ms of wall time and,
// between batches, runs queued calls (with_machine: the fault panel's
// injections into the faulty side happen between two steps) and publishes
// a View (what the window shows, copied from one consistent state) when one
// was asked for. run() steps flat out until the first divergence appears
// (when there was none yet), both runs finished, or pause(); step() does one
// step on the worker and returns at once. pause() returns once the worker is
// idle. While it is idle the caller may use the Lockstep directly, and
// view() copies the state right there. Qt-free (std::thread).
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "devices/vga/image.h"
#include "gui/lockstep.h"
#include "gui/queued_calls.h"

namespace faultline::gui {

class LockstepThread {
 public:
  explicit LockstepThread(Lockstep& lockstep);
  ~LockstepThread();  // pauses and joins
  LockstepThread(const LockstepThread&) = delete;
  LockstepThread& operator=(const LockstepThread&) = delete;

  // Steps of `granularity` ticks flat out (no-op once both finished).
  void run(uint64_t granularity);
  // One step of `granularity` ticks on the worker (no-op while busy).
  void step(uint64_t granularity);
  // Returns when the worker is idle (the current step finished).
  void pause();
  // True while a run or a step is under way.
  bool busy() const;

  // Runs `fn` while both machines are idle: between two steps on the worker
  // while busy (the caller waits), else right here.
  void with_machine(const std::function<void()>& fn);

  // What the window shows of both sides, copied at one moment between steps.
  struct Side {
    uint64_t ticks = 0;
    bool finished = false;
    std::string finish_reason, console, serial;
    CpuState cpu;
    uint32_t eflags = 0;
    bool has_frame = false;  // `frame` is set (the screen changed since the last view)
    Image frame;
  };
  struct View {
    std::array<Side, 2> side;  // golden, faulty
    std::optional<Divergence> first;
    std::array<std::optional<Divergence>, Divergence::kKinds> by_kind;
    size_t pages_differing = 0;
    size_t injections = 0;  // faulty().history().size()
    bool finished = false;
    uint64_t steps = 0;  // steps run by the worker so far
  };
  // The state now when idle; while busy the one published after the latest
  // batch (and another is asked for).
  View view();

 private:
  void start(uint64_t steps, uint64_t granularity);
  void loop();
  View capture();  // with the machines idle

  Lockstep& lock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool quit_ = false, busy_ = false;
  uint64_t steps_wanted_ = 0;  // 0: idle; UINT64_MAX: run
  uint64_t granularity_ = 1;
  QueuedCalls calls_;
  bool view_wanted_ = false;
  View view_;
  uint64_t steps_ = 0;
  uint64_t frame_seen_[2] = {~uint64_t{0}, ~uint64_t{0}};  // Vga::changes() of the last captured frames
  std::thread worker_;
};

}  // namespace faultline::gui
