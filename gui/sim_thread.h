// Runs a Session's machine on a worker thread so the GUI thread only paints.
//
// Design note: the worker owns the machine while it runs; nobody else may
// touch the Session then. It runs slices (sized so one takes ~10 ms of wall
// time) and, between slices, applies queued key events, runs queued calls
// (with_machine), and publishes what the GUI shows: retired count, finish
// state, the console/serial text so far and, when asked, a rendered frame.
// pause() is a handshake: it returns once the worker is idle after its
// current slice, so the GUI thread never waits longer than one slice. While
// the worker is idle, the GUI thread may use the Session directly (load,
// reset, step, inspection). Qt-free (std::thread), so tests can drive it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "devices/i8042/scancodes.h"
#include "devices/vga/image.h"
#include "gui/queued_calls.h"
#include "gui/session.h"

namespace faultline::gui {

class SimThread {
 public:
  explicit SimThread(Session& session);
  ~SimThread();  // pauses and joins
  SimThread(const SimThread&) = delete;
  SimThread& operator=(const SimThread&) = delete;

  // Starts running flat out (no-op without a machine or once finished).
  void run();
  // Returns when the worker is idle (the current slice finished).
  void pause();
  // True while the worker is in run mode (false again once the guest
  // finished; the GUI notices through status()).
  bool running() const;

  // Runs `fn` while the machine is idle: between two slices on the worker
  // while running (the caller waits), else right here.
  void with_machine(const std::function<void()>& fn);
  // Key events go to the i8042 before the next slice (now when idle).
  void post_key(i8042::KeyCode key, bool pressed);
  // Mouse motion/buttons to the PS/2 mouse, applied the same way.
  void post_mouse(int dx, int dy, uint8_t buttons, int dz);

  struct Status {
    bool running = false;
    bool finished = false;
    uint64_t retired = 0;
    uint64_t slices = 0;
    uint64_t slice_size = 0;
    uint64_t virtual_ns = 0;
    size_t injections = 0;     // Session::history().size()
    bool trigger_pending = false;
    uint64_t breakpoint_hits = 0;  // stops at a breakpoint so far
    uint32_t breakpoint = 0;       // the last one
  };
  Status status() const;
  // Published output (a copy of the session's output as of the last slice).
  std::string serial_output() const;
  std::string console_output() const;
  // Asks the worker to render a frame after its current slice; take_frame()
  // returns true once a frame newer than the last taken one is there.
  void request_frame();
  bool take_frame(Image& out);

 private:
  void loop();
  void publish_locked();
  void apply_keys_locked();

  Session& s_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool quit_ = false, want_run_ = false, busy_ = false;
  std::deque<std::pair<i8042::KeyCode, bool>> keys_;
  struct MouseEvent {
    int dx, dy;
    uint8_t buttons;
    int dz;
  };
  std::deque<MouseEvent> mouse_;
  QueuedCalls calls_;
  Status status_;
  std::string serial_, console_;
  bool frame_wanted_ = false, frame_new_ = false;
  Image frame_;
  std::vector<uint8_t> last_rgb_;  // the last published frame (change check)
  uint64_t slice_ = 1'000'000;
  std::thread worker_;
};

}  // namespace faultline::gui
