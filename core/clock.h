// Deterministic virtual clock and event scheduler.
//
// Design note: virtual time is derived only from the CPU's instruction ticks
// (retired instructions plus ticks spent halted) and a configured rate, so
// two runs with the same inputs see identical device timing. Devices schedule
// callbacks at virtual nanoseconds; the CPU run loop calls `dispatch()` when
// its tick counter reaches the earliest event.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

namespace faultline {

class VirtualClock {
 public:
  using EventId = uint64_t;
  // `ips`: guest instructions per virtual second.
  explicit VirtualClock(uint64_t ips = 100'000'000) : ips_(ips) {}

  uint64_t ips() const { return ips_; }
  uint64_t ticks_to_ns(uint64_t ticks) const {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(ticks) * 1'000'000'000u) / ips_);
  }
  uint64_t ns_to_ticks(uint64_t ns) const {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(ns) * ips_ + 999'999'999u) / 1'000'000'000u);
  }

  // Schedules `fn` to run when the tick counter reaches `at_tick`. Events at
  // the same tick run in scheduling order.
  EventId schedule_at_tick(uint64_t at_tick, std::function<void()> fn) {
    EventId id = next_id_++;
    events_.emplace(Key{at_tick, id}, std::move(fn));
    return id;
  }
  bool cancel(EventId id) {
    for (auto it = events_.begin(); it != events_.end(); ++it)
      if (it->first.id == id) {
        events_.erase(it);
        return true;
      }
    return false;
  }
  // Runs every event due at or before `now_ticks`; returns the next due tick.
  uint64_t dispatch(uint64_t now_ticks) {
    while (!events_.empty() && events_.begin()->first.tick <= now_ticks) {
      auto node = events_.extract(events_.begin());
      node.mapped()();
    }
    return next_due();
  }
  uint64_t next_due() const { return events_.empty() ? UINT64_MAX : events_.begin()->first.tick; }
  size_t pending() const { return events_.size(); }
  // Drops every pending event (checkpoint restore: the devices re-arm their
  // timers from their restored state in after_load()). Ids keep counting,
  // so an id held from before clear() never names a new event and
  // cancelling it stays harmless.
  void clear() { events_.clear(); }

 private:
  struct Key {
    uint64_t tick;
    EventId id;
    bool operator<(const Key& o) const { return tick != o.tick ? tick < o.tick : id < o.id; }
  };
  uint64_t ips_;
  EventId next_id_ = 1;
  std::map<Key, std::function<void()>> events_;
};

}  // namespace faultline
