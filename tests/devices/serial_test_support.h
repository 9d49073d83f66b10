// Test doubles for the UART, i8042 and misc port tests: a manual virtual
// clock and an IRQ line that records its level and edges.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

#include "devices/device.h"
#include "devices/time_source.h"

namespace faultline::serial_test {

class ManualTime final : public TimeSource {
 public:
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
  // Runs every event due up to now + ns, in time order.
  void advance(uint64_t ns) {
    uint64_t end = now_ + ns;
    while (!events_.empty() && events_.begin()->first.first <= end) {
      auto node = events_.extract(events_.begin());
      now_ = node.key().first;
      node.mapped()();
    }
    now_ = end;
  }
  size_t pending() const { return events_.size(); }

 private:
  uint64_t now_ = 1'000'000;
  EventId next_id_ = 1;
  std::map<std::pair<uint64_t, EventId>, std::function<void()>> events_;
};

class RecordingIrq final : public IrqLine {
 public:
  void raise() override {
    if (!level) ++rising_edges;
    level = true;
  }
  void lower() override { level = false; }
  bool level = false;
  int rising_edges = 0;
};

}  // namespace faultline::serial_test
