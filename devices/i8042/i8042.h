// Intel 8042 keyboard controller (PC/AT and PS/2) with a PS/2 keyboard and
// mouse.
//
// Design note: one Device whose range holds the data port at offset 0 and
// the status/command port at offset 4; the platform registers port 0x60 ->
// offset 0 and port 0x64 -> offset 4 separately (0x61-0x63 belong to other
// devices). Commands run to completion at once, so IBF never reads set.
// The controller has one output buffer; its own replies go first, then the
// keyboard's queue (translated from set 2 to set 1 when command byte bit 6
// is set), then the mouse's. IRQ1 follows "buffer full with keyboard data"
// and IRQ12 "buffer full with mouse data", each gated by its command byte
// enable bit; reading port 0x60 lowers the line and the next byte (if any)
// raises it again, giving the PIC one edge per byte. Writing to a device
// (port 0x60, or 0xD4 + data) clears that port's disable bit, as the real
// controller does; firmware relies on it to read replies.
//
// A20 and reset leave through callbacks: `a20` when output port bit 1
// changes (0xD1, 0xDD/0xDF), `cpu_reset` when the reset line (output port
// bit 0) is pulsed (0xFE and the other 0xF0-0xFF pulses with bit 0 clear,
// or 0xD1 writing bit 0 clear). The platform combines this A20 with port
// 0x92's. Neither callback runs on reset().
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>

#include "devices/device.h"
#include "devices/i8042/ps2.h"
#include "devices/i8042/scancodes.h"

namespace faultline {

namespace pb::dev {
class I8042State;
}

namespace i8042 {
// Port offsets inside the device.
inline constexpr uint32_t kDataOffset = 0, kStatusOffset = 4;
// Status register.
inline constexpr uint8_t kStatusObf = 0x01, kStatusIbf = 0x02, kStatusSys = 0x04, kStatusA2 = 0x08,
                         kStatusInh = 0x10, kStatusAuxb = 0x20, kStatusTimeout = 0x40, kStatusParity = 0x80;
// Command byte.
inline constexpr uint8_t kCmdKbdInt = 0x01, kCmdAuxInt = 0x02, kCmdSys = 0x04, kCmdKbdDisable = 0x10,
                         kCmdAuxDisable = 0x20, kCmdTranslate = 0x40;
// Output port.
inline constexpr uint8_t kOutReset = 0x01, kOutA20 = 0x02, kOutKbdObf = 0x10, kOutAuxObf = 0x20;
}  // namespace i8042

class I8042 final : public Device {
 public:
  static constexpr uint32_t kVersion = 1;

  // The lines must outlive the controller.
  I8042(IrqLine& keyboard_irq, IrqLine& mouse_irq);

  // Device.
  const char* name() const override { return "i8042"; }
  void reset() override;
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;
  void after_load() override;

  std::function<void(bool enabled)> a20;
  std::function<void()> cpu_reset;

  // Host input.
  void press(i8042::KeyCode key);
  void release(i8042::KeyCode key);
  // Types US-layout text as press/release pairs (Shift as needed); returns
  // false if some characters have no key (they are skipped).
  bool type_text(std::string_view text);
  void mouse_move(int dx, int dy, uint8_t buttons, int dz = 0);

  // Introspection.
  const i8042::Ps2Keyboard& keyboard() const { return keyboard_; }
  const i8042::Ps2Mouse& mouse() const { return mouse_; }
  uint8_t command_byte() const { return ram_[0]; }
  uint8_t output_port() const { return output_port_; }
  bool a20_enabled() const { return output_port_ & i8042::kOutA20; }
  uint8_t status() const;
  uint64_t unknown_commands() const { return unknown_commands_; }

 private:
  struct Reply {
    uint8_t byte;
    bool aux;
  };

  // i8042.cpp: behaviour.
  void reply(uint8_t byte, bool aux = false);
  void service();
  void update_irqs();
  void controller_command(uint8_t cmd);
  void controller_data(uint8_t cmd, uint8_t data);
  void write_command_byte(uint8_t value);
  void write_output_port(uint8_t value);
  void pulse_output(uint8_t mask);

  // i8042_io.cpp: port interface.
  uint8_t read_data();
  void write_data(uint8_t value);
  void write_command(uint8_t value);

  // i8042_state.cpp.
  void sync(pb::dev::I8042State& state, bool saving);

  IrqLine& kbd_irq_;
  IrqLine& aux_irq_;
  i8042::Ps2Keyboard keyboard_;
  i8042::Ps2Mouse mouse_;

  std::array<uint8_t, 32> ram_{};  // ram_[0] = command byte
  uint8_t output_port_ = 0;
  bool obf_ = false;
  bool out_aux_ = false;
  uint8_t out_byte_ = 0;
  bool a2_ = false;
  bool sys_ = false;
  uint8_t pending_ = 0;  // controller command waiting for its data byte
  bool break_prefix_ = false;
  std::deque<Reply> replies_;
  uint64_t unknown_commands_ = 0;
  bool kbd_irq_level_ = false, aux_irq_level_ = false;
};

}  // namespace faultline
