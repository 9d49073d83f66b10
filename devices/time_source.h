// Virtual time as devices see it.
//
// Design note: timer devices (PIT, RTC, and anything with a delay) derive
// their registers from the current virtual time and schedule an event only
// for the next moment the guest can observe without reading a register (an
// interrupt edge). They see time through this small interface instead of the
// Machine so tests can drive a manual clock. The platform wraps its Machine
// in a MachineTimeSource. Event ids are never 0, so 0 means "none".
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "core/machine.h"

namespace faultline {

class TimeSource {
 public:
  using EventId = uint64_t;  // 0 is never a valid id
  virtual ~TimeSource() = default;
  virtual uint64_t now_ns() const = 0;
  // Runs `fn` once `delay_ns` of virtual time from now (never earlier).
  virtual EventId schedule(uint64_t delay_ns, std::function<void()> fn) = 0;
  // Cancels a pending event; unknown or already-run ids are ignored.
  virtual void cancel(EventId id) = 0;
};

// Virtual time of one Machine.
class MachineTimeSource final : public TimeSource {
 public:
  explicit MachineTimeSource(Machine& machine) : machine_(machine) {}
  uint64_t now_ns() const override { return machine_.now_ns(); }
  EventId schedule(uint64_t delay_ns, std::function<void()> fn) override {
    return machine_.schedule_in(delay_ns, std::move(fn));
  }
  void cancel(EventId id) override { machine_.clock().cancel(id); }

 private:
  Machine& machine_;
};

}  // namespace faultline
