// Test doubles shared by the device tests: a manual virtual clock and an IRQ
// line that records its level and rising edges.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

#include "devices/device.h"
#include "devices/time_source.h"

namespace faultline::device_test {

class ManualClock : public TimeSource {
 public:
  explicit ManualClock(uint64_t start_ns = 0) : now_(start_ns) {}
  uint64_t now_ns() const override { return now_; }
  EventId schedule(uint64_t delay_ns, std::function<void()> fn) override {
    EventId id = next_id_++;
    events_.emplace(std::pair{now_ + delay_ns, id}, std::move(fn));
    return id;
  }
  void cancel(EventId id) override {
    for (auto it = events_.begin(); it != events_.end(); ++it)
      if (it->first.second == id) {
        events_.erase(it);
        return;
      }
  }
  // Runs every event due up to `ns` in time order, then sets the time.
  void advance_to(uint64_t ns) {
    while (!events_.empty() && events_.begin()->first.first <= ns) {
      auto node = events_.extract(events_.begin());
      now_ = node.key().first;
      node.mapped()();
    }
    now_ = ns;
  }
  void advance(uint64_t ns) { advance_to(now_ + ns); }
  size_t pending() const { return events_.size(); }
  // Due time of the earliest event (UINT64_MAX if none).
  uint64_t next_due() const { return events_.empty() ? UINT64_MAX : events_.begin()->first.first; }

 private:
  uint64_t now_;
  EventId next_id_ = 1;
  std::map<std::pair<uint64_t, EventId>, std::function<void()>> events_;
};

class EdgeCountingLine final : public IrqLine {
 public:
  void raise() override {
    if (!level) ++rising_edges;
    level = true;
  }
  void lower() override { level = false; }
  bool level = false;
  int rising_edges = 0;
};

}  // namespace faultline::device_test
