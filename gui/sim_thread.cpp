#include "gui/sim_thread.h"

#include <algorithm>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <optional>

namespace faultline::gui {

namespace {
constexpr uint64_t kMinSlice = 20'000, kMaxSlice = 20'000'000;
constexpr double kSliceTargetMs = 10;
}  // namespace

SimThread::SimThread(Session& session) : s_(session) { worker_ = std::thread([this] { loop(); }); }

SimThread::~SimThread() {
  {
    std::unique_lock lk(mu_);
    quit_ = true;
    want_run_ = false;
  }
  cv_.notify_all();
  worker_.join();
}

void SimThread::run() {
  std::unique_lock lk(mu_);
  if (!s_.loaded() || s_.finished() || want_run_) return;
  want_run_ = true;
  last_rgb_.clear();  // the GUI repainted from the session meanwhile
  status_.running = true;
  status_.finished = false;
  // The published output restarts from the session's (it may have been
  // reset or stepped while idle).
  serial_ = s_.serial_output();
  console_ = s_.console_output();
  cv_.notify_all();
}

void SimThread::pause() {
  std::unique_lock lk(mu_);
  want_run_ = false;
  cv_.notify_all();
  cv_.wait(lk, [&] { return !busy_; });
  status_.running = false;
}

bool SimThread::running() const {
  std::unique_lock lk(mu_);
  return want_run_;
}

void SimThread::with_machine(const std::function<void()>& fn) {
  std::unique_lock lk(mu_);
  calls_.call(lk, cv_, !want_run_ && !busy_, fn);
}

void SimThread::post_key(i8042::KeyCode key, bool pressed) {
  std::unique_lock lk(mu_);
  keys_.emplace_back(key, pressed);
  if (!want_run_ && !busy_) apply_keys_locked();
}

void SimThread::post_mouse(int dx, int dy, uint8_t buttons, int dz) {
  std::unique_lock lk(mu_);
  mouse_.push_back({dx, dy, buttons, dz});
  if (!want_run_ && !busy_) apply_keys_locked();
}

void SimThread::apply_keys_locked() {
  PcPlatform* pc = s_.platform();
  while (!mouse_.empty()) {
    const MouseEvent e = mouse_.front();
    mouse_.pop_front();
    if (!pc) continue;
    pc->i8042().mouse_move(e.dx, e.dy, e.buttons, e.dz);
    s_.note_input("mouse");
  }
  while (!keys_.empty()) {
    auto [key, pressed] = keys_.front();
    keys_.pop_front();
    if (!pc) continue;
    s_.note_input("keyboard");
    if (pressed) pc->i8042().press(key);
    else pc->i8042().release(key);
  }
}

SimThread::Status SimThread::status() const {
  std::unique_lock lk(mu_);
  Status st = status_;
  st.running = want_run_;
  return st;
}

std::string SimThread::serial_output() const {
  std::unique_lock lk(mu_);
  return serial_;
}

std::string SimThread::console_output() const {
  std::unique_lock lk(mu_);
  return console_;
}

void SimThread::request_frame() {
  std::unique_lock lk(mu_);
  frame_wanted_ = true;
}

bool SimThread::take_frame(Image& out) {
  std::unique_lock lk(mu_);
  if (!frame_new_) return false;
  out = frame_;
  frame_new_ = false;
  return true;
}

void SimThread::publish_locked() {
  status_.retired = s_.retired();
  status_.virtual_ns = s_.machine() ? s_.machine()->now_ns() : 0;
  status_.finished = s_.finished();
  status_.slice_size = slice_;
  status_.injections = s_.history().size();
  status_.trigger_pending = s_.trigger_pending();
  const std::string& ser = s_.serial_output();
  if (ser.size() >= serial_.size()) serial_.append(ser, serial_.size());
  else serial_ = ser;
  const std::string& con = s_.console_output();
  if (con.size() >= console_.size()) console_.append(con, console_.size());
  else console_ = con;
}

void SimThread::loop() {
  // The GUI thread must win the CPU when both want it (e.g. on a loaded
  // machine): the worker runs at a lower priority (Linux: per-thread nice).
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return quit_ || want_run_ || !calls_.empty(); });
    if (quit_) break;
    // Calls between slices (the machine is idle here).
    calls_.run_all(lk, cv_, busy_);
    if (!want_run_) continue;
    apply_keys_locked();
    busy_ = true;
    const bool render = frame_wanted_;
    frame_wanted_ = false;
    lk.unlock();

    const auto t0 = std::chrono::steady_clock::now();
    s_.run_slice(slice_);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (ms < kSliceTargetMs / 2) slice_ = std::min(kMaxSlice, slice_ * 2);
    else if (ms > kSliceTargetMs * 2) slice_ = std::max(kMinSlice, slice_ / 2);
    Image frame;
    PcPlatform* pc = s_.platform();
    if (render && pc && pc->vga()) frame = pc->vga()->render();

    lk.lock();
    busy_ = false;
    status_.slices++;
    publish_locked();
    // Only a changed screen is handed to the GUI (no repaint otherwise).
    if (render && pc && pc->vga() && frame.rgb != last_rgb_) {
      last_rgb_ = frame.rgb;
      frame_ = std::move(frame);
      frame_new_ = true;
    }
    if (s_.finished()) want_run_ = false;
    if (std::optional<uint32_t> bp = s_.take_breakpoint_hit()) {
      want_run_ = false;
      status_.breakpoint = *bp;
      status_.breakpoint_hits++;
    }
    cv_.notify_all();
  }
  busy_ = false;
  cv_.notify_all();
}

}  // namespace faultline::gui
