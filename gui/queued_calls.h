// Calls that other threads hand to a worker thread to run between two units
// of its work (a slice of the machine window's run, a lockstep step), so
// they see the machines idle: the part SimThread and LockstepThread share.
//
// Design note: no mutex of its own. The owner's mutex is held around every
// member (the unique_lock passed in), the owner's condition variable wakes
// the worker and the waiting callers, and the owner's `busy` flag is true
// while a call runs on the worker, so "idle" means the same for both.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>

namespace faultline::gui {

class QueuedCalls {
 public:
  // Runs `fn` right here when the worker is `idle` (the lock released
  // meanwhile), else queues it for the worker and waits until it ran.
  void call(std::unique_lock<std::mutex>& lk, std::condition_variable& cv, bool idle,
            const std::function<void()>& fn) {
    if (idle) {
      lk.unlock();
      fn();
      return;
    }
    bool done = false;
    calls_.emplace_back(&fn, &done);
    cv.notify_all();
    cv.wait(lk, [&] { return done; });
  }
  bool empty() const { return calls_.empty(); }
  // On the worker: runs the queued calls in order, each with the lock
  // released and `busy` set, and wakes their callers.
  void run_all(std::unique_lock<std::mutex>& lk, std::condition_variable& cv, bool& busy) {
    while (!calls_.empty()) {
      auto [fn, done] = calls_.front();
      calls_.pop_front();
      busy = true;
      lk.unlock();
      (*fn)();
      lk.lock();
      busy = false;
      *done = true;
      cv.notify_all();
    }
  }

 private:
  std::deque<std::pair<const std::function<void()>*, bool*>> calls_;
};

}  // namespace faultline::gui
