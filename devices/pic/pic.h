// Intel 8259A programmable interrupt controller: one chip (Pic8259) and the
// PC/AT master/slave pair (PicPair) that the CPU acknowledges interrupts from.
//
// Design note: a Pic8259 models one chip's IRR/ISR/IMR, priority resolver and
// command registers; it knows nothing of its neighbour. PicPair wires the
// slave's INT output into master IR2, owns the sixteen IrqLine inputs devices
// raise, answers the CPU's interrupt_pending()/acknowledge() and tells the
// platform (notify callback) whenever INTR may have changed. Each chip is its
// own Device (offsets 0..1: command, data); the PIIX-style edge/level control
// registers (ELCR, offsets 0..1 for master/slave) are a third small Device
// whose bits live in the chips' state.
//
// Edge-triggered inputs latch a request into IRR on a rising edge; the request
// stays latched until acknowledged even if the line falls. Level-triggered
// inputs (ICW1 LTIM or ELCR) make IRR follow the line, so a line that falls
// before INTA yields the spurious vector (IR7 of that chip, ISR untouched).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "core/cpu.h"
#include "devices/device.h"

namespace faultline {

class Pic8259 final : public Device {
 public:
  explicit Pic8259(bool master) : master_(master) { reset(); }

  const char* name() const override { return master_ ? "pic-master" : "pic-slave"; }
  void reset() override;
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;
  void after_load() override { changed(); }
  // "irr", "isr", "imr", "elcr", "icw2" (8 bits each); a write re-evaluates
  // INT (IRR bits of level-triggered inputs are re-derived from the lines
  // at the next line change, as on the chip).
  FaultFields fault_fields() override;

  // Called whenever the INT output may have changed.
  void set_output_callback(std::function<void()> fn) { on_change_ = std::move(fn); }

  // Drives input IR0..IR7.
  void set_input(unsigned ir, bool level);
  // The INT output: an unmasked request outranks everything in service.
  bool output() const { return highest_request() >= 0; }
  // INTA cycle: returns the IR number being serviced (ISR set unless auto-EOI)
  // or 7 with `*spurious` set when no request is left.
  unsigned acknowledge(bool* spurious);
  uint8_t vector_for(unsigned ir) const { return static_cast<uint8_t>((icw2_ & 0xF8) | ir); }
  // ICW3 as written on the master: which IRs have a slave attached.
  uint8_t cascade_mask() const { return master_ ? icw3_ : 0; }
  // Re-latches a request on `ir` (a slave that still asserts INT after INTA).
  void request(unsigned ir);

  // Edge/level control (ELCR), one bit per IR.
  uint8_t elcr() const { return elcr_; }
  void set_elcr(uint8_t value);

  uint8_t irr() const { return irr_; }
  uint8_t isr() const { return isr_; }
  uint8_t imr() const { return imr_; }
  uint8_t lines() const { return lines_; }  // current input levels

 private:
  // ---- behaviour (pic.cpp) ----
  uint8_t level_mask() const { return (icw1_ & 0x08) ? 0xFF : elcr_; }
  unsigned priority(unsigned ir) const { return (ir - lowest_priority_ - 1) & 7; }
  int highest_in(uint8_t bits) const;   // highest-priority IR in bits, or -1
  int highest_request() const;          // request that would raise INT, or -1
  void end_of_interrupt(int ir, bool rotate);
  unsigned poll();
  void changed();
  // ---- register interface (pic_io.cpp) ----
  void write_command(uint8_t value);
  void write_data(uint8_t value);
  // ---- state (pic_state.cpp) ----
  template <bool Saving, class Msg, class Self>
  friend void transfer_pic(Self& self, Msg& msg);

  bool master_;
  std::function<void()> on_change_;

  uint8_t irr_ = 0, isr_ = 0, imr_ = 0xFF;
  uint8_t lines_ = 0;  // current input levels
  uint8_t elcr_ = 0;
  uint8_t icw1_ = 0, icw2_ = 0, icw3_ = 0, icw4_ = 0;
  uint8_t init_step_ = 0;  // 0: operational; 2/3/4: next data write is ICWn
  uint8_t lowest_priority_ = 7;
  bool read_isr_ = false;
  bool poll_pending_ = false;
  bool special_mask_ = false;
  bool rotate_on_auto_eoi_ = false;
};

class PicPair;

// ELCR at 0x4D0/0x4D1: offset 0 master, offset 1 slave. IRQ 0, 1, 2, 8 and 13
// are always edge-triggered on the PIIX, so those bits read back as 0.
class PicElcr final : public Device {
 public:
  explicit PicElcr(PicPair& pair) : pair_(pair) {}
  const char* name() const override { return "pic-elcr"; }
  void reset() override;
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  // The ELCR bits are part of the chips' state; this message holds only the
  // version so a snapshot still lists every registered device.
  std::string save() const override;
  void load(const std::string& state) override;

 private:
  PicPair& pair_;
};

class PicPair final : public InterruptSource {
 public:
  PicPair();
  PicPair(const PicPair&) = delete;
  PicPair& operator=(const PicPair&) = delete;

  // Devices the platform registers: master at 0x20-0x21, slave at 0xA0-0xA1,
  // ELCR at 0x4D0-0x4D1.
  Pic8259& master() { return master_; }
  Pic8259& slave() { return slave_; }
  PicElcr& elcr() { return elcr_; }

  // IRQ input 0..15 for devices. IRQ 2 is the cascade input on the master;
  // as on the AT bus, line(2) is routed to IRQ 9.
  IrqLine& line(unsigned irq) { return lines_.at(irq); }
  // Called when INTR may have changed (the platform passes
  // cpu.interrupt_line_changed()).
  void set_notify(std::function<void()> fn) { notify_ = std::move(fn); }

  // InterruptSource.
  bool interrupt_pending() const override { return master_.output(); }
  uint8_t acknowledge() override;

  // Fault hook on the sixteen device lines: called with every level a
  // device drives (irq 0..15 as devices see them, before the IRQ 2 -> 9
  // routing); return false to keep the change from reaching the chips.
  // Unset: one std::function test per line change.
  std::function<bool(unsigned irq, bool level)> line_filter;
  // The level the chips last saw on device line 0..15.
  // (IRQ 2 and 9 share the slave's IR1.)
  bool line_level(unsigned irq) const {
    irq &= 15;
    if (irq == 2) irq = 9;
    return irq < 8 ? (master_.lines() >> irq) & 1 : (slave_.lines() >> (irq - 8)) & 1;
  }
  // Drives device line 0..15 past line_filter (fault injection).
  void force_line(unsigned irq, bool level);

 private:
  class Line final : public IrqLine {
   public:
    void raise() override { pair->set_irq(irq, true); }
    void lower() override { pair->set_irq(irq, false); }
    PicPair* pair = nullptr;
    unsigned irq = 0;
  };
  void set_irq(unsigned irq, bool level);
  void slave_changed();

  Pic8259 master_{true};
  Pic8259 slave_{false};
  PicElcr elcr_{*this};
  std::array<Line, 16> lines_;
  std::function<void()> notify_;
};

}  // namespace faultline
