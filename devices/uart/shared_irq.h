// One interrupt line driven by several devices (COM1 and COM3 share IRQ 4,
// COM2 and COM4 IRQ 3).
//
// Design note: each UART gets its own input (an IrqLine); the shared output
// is raised while any input is raised, so one port lowering its request
// cannot cancel another's. On a real ISA bus only one port should drive the
// line at a time (OUT2 tri-states the others); the OR is the forgiving
// version of that. Inputs are owned by the SharedIrq and stay valid while
// it lives.
#pragma once

#include <cstdint>
#include <deque>
#include <stdexcept>

#include "devices/device.h"

namespace faultline {

class SharedIrq {
 public:
  explicit SharedIrq(IrqLine& output) : output_(output) {}
  SharedIrq(const SharedIrq&) = delete;
  SharedIrq& operator=(const SharedIrq&) = delete;

  // A new input line (at most 64).
  IrqLine& add_input() {
    if (inputs_.size() == 64) throw std::length_error("SharedIrq: more than 64 inputs");
    inputs_.emplace_back(*this, static_cast<unsigned>(inputs_.size()));
    return inputs_.back();
  }
  bool level() const { return raised_ != 0; }

 private:
  class Input final : public IrqLine {
   public:
    Input(SharedIrq& owner, unsigned bit) : owner_(owner), bit_(bit) {}
    void raise() override { owner_.update(bit_, true); }
    void lower() override { owner_.update(bit_, false); }

   private:
    SharedIrq& owner_;
    unsigned bit_;
  };

  void update(unsigned bit, bool level) {
    bool before = raised_ != 0;
    if (level)
      raised_ |= uint64_t{1} << bit;
    else
      raised_ &= ~(uint64_t{1} << bit);
    bool after = raised_ != 0;
    if (after != before) output_.set(after);
  }

  IrqLine& output_;
  std::deque<Input> inputs_;  // deque: references stay valid as it grows
  uint64_t raised_ = 0;
};

}  // namespace faultline
