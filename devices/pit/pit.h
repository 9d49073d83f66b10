// Intel 8254 programmable interval timer (ports 0x40-0x43) and the PC's
// port B (0x61: timer 2 gate, speaker data, refresh toggle, OUT2).
//
// Design note: counters do not tick. Each counter remembers the input-clock
// cycle at which its counting element was (re)loaded and how many cycles it
// had already counted before a gate pause; its count and OUT are computed on
// demand from the virtual time (1.193182 MHz input clock counted from virtual
// time 0, so every counter shares one clock grid). The only scheduled event
// is the next rising edge of OUT0, which pulses IRQ0; it is cancelled and
// re-armed whenever channel 0 is reprogrammed and after load().
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "devices/device.h"
#include "devices/time_source.h"

namespace faultline {

class Pit8254 final : public Device {
 public:
  static constexpr uint64_t kInputHz = 1'193'182;

  // `irq0` is driven by OUT0; `time` supplies virtual time and events.
  Pit8254(TimeSource& time, IrqLine& irq0);
  ~Pit8254() override;
  Pit8254(const Pit8254&) = delete;
  Pit8254& operator=(const Pit8254&) = delete;

  const char* name() const override { return "pit"; }
  void reset() override;
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;
  void after_load() override;
  // Per counter N = 0..2: "chN.count" (16 bits: the counting element now;
  // a write makes the element continue from that value: in modes 2/3 the
  // current period is cut to end after that count and the count register
  // reloads as usual, in the other modes the count restarts from it),
  // "chN.reload" (16 bits: the count the element reloads next, i.e. a
  // pending new count of a running mode 2/3 counter, else the current
  // reload value; a write replaces it, taking effect from the current
  // period on without restarting it), "chN.mode"
  // (3 bits; 6/7 alias 2/3). Every write re-arms the IRQ 0 event.
  FaultFields fault_fields() override;

  // GATE input of counter 0..2 (0 and 1 are tied high on a PC; port B drives 2).
  void set_gate(unsigned counter, bool level);
  bool gate(unsigned counter) const { return counters_.at(counter).gate; }
  // OUT of counter 0..2 at the current virtual time.
  bool out(unsigned counter);

  // Input-clock cycles elapsed at a virtual time, and the first virtual
  // nanosecond at which a given cycle has been reached.
  static uint64_t clock_at(uint64_t ns);
  static uint64_t ns_at_clock(uint64_t clock);

 private:
  struct Counter {
    // Programming (control word).
    uint8_t mode = 0;  // 0..5
    bool bcd = false;
    uint8_t access = 3;  // 1 LSB, 2 MSB, 3 LSB then MSB
    // Count register as written, and word-access sequencing.
    uint16_t count_register = 0;
    bool write_msb_next = false;
    uint8_t write_lsb = 0;
    bool read_msb_next = false;
    // Latches.
    bool count_latched = false;
    uint16_t latched_count = 0;
    bool latch_msb_next = false;
    bool status_latched = false;
    uint8_t latched_status = 0;
    // Counting element.
    bool gate = true;
    bool has_count = false;    // a count was written since the control word
    bool armed = false;        // a count was loaded and (for 1/5) triggered
    uint16_t reload = 0;       // count loaded into the counting element
    uint64_t start_clock = 0;  // cycle at which the current run began
    uint64_t counted = 0;      // cycles counted before start_clock (gate pauses)
    bool paused = false;       // modes 0/4: gate low stops counting
    uint64_t null_until = 0;   // null count until this cycle (UINT64_MAX: until loaded)
    bool pending_reload = false;  // modes 2/3: new count at the period end
    uint16_t pending_count = 0;
    uint64_t pending_clock = 0;
    uint16_t held_count = 0;   // count shown while not armed
  };

  // ---- behaviour (pit.cpp) ----
  uint32_t modulus(const Counter& c) const { return c.bcd ? 10000 : 65536; }
  uint32_t effective(const Counter& c, uint16_t value) const;
  void settle(Counter& c, uint64_t clock);
  uint64_t elapsed(const Counter& c, uint64_t clock) const;
  uint16_t current_count(Counter& c, uint64_t clock);
  bool output(Counter& c, uint64_t clock);
  uint8_t status(Counter& c, uint64_t clock);
  void load_count(unsigned index, uint16_t value, uint64_t clock);
  void program(unsigned index, uint8_t control, uint64_t clock);
  std::optional<uint64_t> next_rising_edge(Counter& c, uint64_t after_clock);
  void rearm_irq0();
  void fault_set_count(unsigned index, uint16_t value);
  void on_irq0_edge();
  uint64_t now_clock() const { return clock_at(time_.now_ns()); }
  // ---- register interface (pit_io.cpp) ----
  uint8_t read_counter(unsigned index);
  void write_counter(unsigned index, uint8_t value);
  void write_control(uint8_t value);
  // ---- state (pit_state.cpp) ----
  template <bool Saving, class Msg, class C>
  friend void transfer_counter(C& c, Msg& msg);

  TimeSource& time_;
  IrqLine& irq0_;
  std::array<Counter, 3> counters_;
  TimeSource::EventId irq0_event_ = 0;
};

// Port 0x61 (offset 0): bit 0 timer 2 gate, bit 1 speaker data, bits 2-3
// parity/channel-check enables (stored), bit 4 refresh toggle (flips every
// 15.085 us of virtual time), bit 5 OUT2, bits 6-7 error flags (read 0).
class PortB final : public Device {
 public:
  PortB(TimeSource& time, Pit8254& pit) : time_(time), pit_(pit) { reset(); }
  const char* name() const override { return "port-b"; }
  void reset() override;
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;
  void after_load() override;

  bool speaker_enabled() const { return (control_ & 0x03) == 0x03; }

 private:
  TimeSource& time_;
  Pit8254& pit_;
  uint8_t control_ = 0;  // bits 0..3 as written
};

}  // namespace faultline
