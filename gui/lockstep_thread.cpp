#include "gui/lockstep_thread.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace faultline::gui {

namespace {
constexpr auto kBatch = std::chrono::milliseconds(10);
constexpr uint64_t kRunForever = UINT64_MAX;
}  // namespace

LockstepThread::LockstepThread(Lockstep& lockstep) : lock_(lockstep) {
  worker_ = std::thread([this] { loop(); });
}

LockstepThread::~LockstepThread() {
  {
    std::unique_lock lk(mu_);
    quit_ = true;
    steps_wanted_ = 0;
  }
  cv_.notify_all();
  worker_.join();
}

void LockstepThread::run(uint64_t granularity) { start(kRunForever, granularity); }

void LockstepThread::step(uint64_t granularity) { start(1, granularity); }

void LockstepThread::start(uint64_t steps, uint64_t granularity) {
  std::unique_lock lk(mu_);
  if (steps_wanted_ > 0 || busy_ || lock_.finished()) return;  // past this the worker is idle
  granularity_ = std::max<uint64_t>(1, granularity);
  // Until the first batch publishes, view() hands out the state at the start.
  view_ = capture();
  view_wanted_ = false;
  steps_wanted_ = steps;
  cv_.notify_all();
}

void LockstepThread::pause() {
  std::unique_lock lk(mu_);
  steps_wanted_ = 0;
  cv_.notify_all();
  cv_.wait(lk, [&] { return !busy_; });
}

bool LockstepThread::busy() const {
  std::unique_lock lk(mu_);
  return steps_wanted_ > 0 || busy_;
}

void LockstepThread::with_machine(const std::function<void()>& fn) {
  std::unique_lock lk(mu_);
  calls_.call(lk, cv_, steps_wanted_ == 0 && !busy_, fn);
}

LockstepThread::View LockstepThread::view() {
  std::unique_lock lk(mu_);
  const bool idle = steps_wanted_ == 0 && !busy_;
  // A published frame is handed over once; one not taken yet is newer than
  // what capture() draws (only screens changed since it was published).
  View v;
  if (!idle) v = view_;
  for (int i = 0; i < 2; ++i) {
    v.side[i].has_frame = view_.side[i].has_frame;
    v.side[i].frame = std::move(view_.side[i].frame);
    view_.side[i].has_frame = false;
    view_.side[i].frame = Image{};
  }
  if (!idle) {
    view_wanted_ = true;
    return v;
  }
  lk.unlock();
  View now = capture();
  for (int i = 0; i < 2; ++i)
    if (!now.side[i].has_frame && v.side[i].has_frame) {
      now.side[i].has_frame = true;
      now.side[i].frame = std::move(v.side[i].frame);
    }
  return now;
}

LockstepThread::View LockstepThread::capture() {
  View v;
  Session* s[2] = {&lock_.golden(), &lock_.faulty()};
  for (int i = 0; i < 2; ++i) {
    Side& d = v.side[i];
    d.ticks = s[i]->cpu()->ticks();
    d.finished = s[i]->finished();
    d.finish_reason = s[i]->finish_reason();
    d.console = s[i]->console_output();
    d.serial = s[i]->serial_output();
    d.cpu = s[i]->cpu()->s;
    d.eflags = s[i]->cpu()->eflags();
    // Rendering costs: only a screen that may have changed is drawn again.
    if (PcPlatform* pc = s[i]->platform(); pc && pc->vga() && pc->vga()->changes() != frame_seen_[i]) {
      frame_seen_[i] = pc->vga()->changes();
      d.frame = pc->vga()->render();
      d.has_frame = true;
    }
  }
  v.first = lock_.divergence();
  for (int k = 0; k < Divergence::kKinds; ++k) v.by_kind[k] = lock_.first(static_cast<Divergence::Kind>(k));
  v.pages_differing = lock_.pages_differing();
  v.injections = lock_.faulty().history().size();
  v.finished = lock_.finished();
  v.steps = steps_;
  return v;
}

void LockstepThread::loop() {
  // The GUI thread must win the CPU when both want it (as SimThread).
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return quit_ || steps_wanted_ > 0 || !calls_.empty(); });
    if (quit_) break;
    // Calls between steps (the machines are idle here).
    calls_.run_all(lk, cv_, busy_);
    if (steps_wanted_ == 0) continue;
    busy_ = true;
    const uint64_t granularity = granularity_, wanted = steps_wanted_;
    lk.unlock();

    // A batch of steps: ~10 ms, the wanted count, or up to the first
    // divergence (when there was none before) or the end of both runs.
    const bool had = lock_.divergence().has_value();
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t done = 0;
    bool stop = false;
    do {
      lock_.step(granularity);
      ++done;
      stop = (!had && lock_.divergence()) || lock_.finished();
    } while (!stop && done < wanted && std::chrono::steady_clock::now() - t0 < kBatch);

    lk.lock();
    steps_ += done;
    if (stop)
      steps_wanted_ = 0;
    else if (steps_wanted_ != kRunForever)
      steps_wanted_ -= std::min(steps_wanted_, done);
    if (view_wanted_) {
      lk.unlock();
      View v = capture();
      lk.lock();
      view_ = std::move(v);
      view_wanted_ = false;
    }
    busy_ = false;
    cv_.notify_all();
  }
  busy_ = false;
  cv_.notify_all();
}

}  // namespace faultline::gui
