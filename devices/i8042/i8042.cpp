// i8042 behaviour: the output buffer, translation, IRQ lines, controller
// commands, output port (A20 / reset). Port decoding is in i8042_io.cpp,
// save/load in i8042_state.cpp.
#include "devices/i8042/i8042.h"

namespace faultline {

using namespace i8042;

namespace {
// Output port after power-on: reset released, A20 on, unused bits high,
// keyboard clock and data idle high.
constexpr uint8_t kOutputPortDefault = 0xCF;
// Command byte after power-on: keyboard interrupt on, translation on.
constexpr uint8_t kCommandByteDefault = kCmdKbdInt | kCmdTranslate;
}  // namespace

I8042::I8042(IrqLine& keyboard_irq, IrqLine& mouse_irq) : kbd_irq_(keyboard_irq), aux_irq_(mouse_irq) {
  reset();
}

void I8042::reset() {
  keyboard_.reset();
  mouse_.reset();
  ram_.fill(0);
  ram_[0] = kCommandByteDefault;
  output_port_ = kOutputPortDefault;
  obf_ = out_aux_ = false;
  out_byte_ = 0;
  a2_ = sys_ = false;
  pending_ = 0;
  break_prefix_ = false;
  replies_.clear();
  kbd_irq_level_ = aux_irq_level_ = false;
  kbd_irq_.lower();
  aux_irq_.lower();
}

uint8_t I8042::status() const {
  uint8_t s = kStatusInh;  // keyboard lock switch: not inhibited
  if (obf_) s |= kStatusObf;
  if (obf_ && out_aux_) s |= kStatusAuxb;
  if (sys_) s |= kStatusSys;
  if (a2_) s |= kStatusA2;
  return s;
}

void I8042::reply(uint8_t byte, bool aux) {
  replies_.push_back({byte, aux});
  service();
}

// Fills the output buffer if it is empty: controller replies first, then
// the keyboard (translated if enabled), then the mouse.
void I8042::service() {
  while (!obf_) {
    if (!replies_.empty()) {
      out_byte_ = replies_.front().byte;
      out_aux_ = replies_.front().aux;
      replies_.pop_front();
      obf_ = true;
    } else if (!(ram_[0] & kCmdKbdDisable) && keyboard_.has_output()) {
      uint8_t b = keyboard_.pop();
      if (ram_[0] & kCmdTranslate) {
        if (b == 0xF0) {  // break prefix: folds into bit 7 of the next byte
          break_prefix_ = true;
          continue;
        }
        b = translate_set2_to_set1(b);
        if (break_prefix_) b |= 0x80;
        break_prefix_ = false;
      }
      out_byte_ = b;
      out_aux_ = false;
      obf_ = true;
    } else if (!(ram_[0] & kCmdAuxDisable) && mouse_.has_output()) {
      out_byte_ = mouse_.pop();
      out_aux_ = true;
      obf_ = true;
    } else {
      break;
    }
  }
  update_irqs();
}

void I8042::update_irqs() {
  bool kbd = obf_ && !out_aux_ && (ram_[0] & kCmdKbdInt);
  bool aux = obf_ && out_aux_ && (ram_[0] & kCmdAuxInt);
  if (kbd != kbd_irq_level_) {
    kbd_irq_level_ = kbd;
    kbd_irq_.set(kbd);
  }
  if (aux != aux_irq_level_) {
    aux_irq_level_ = aux;
    aux_irq_.set(aux);
  }
}

void I8042::write_command_byte(uint8_t value) {
  ram_[0] = value & 0x7F;
  sys_ = value & kCmdSys;
  service();  // an enabled port may have data waiting; IRQ enables changed
}

void I8042::write_output_port(uint8_t value) {
  uint8_t old = output_port_;
  // Bits 4/5 mirror the buffer state and are not stored; bit 0 clear
  // asserts reset, which the system answers by resetting the CPU.
  output_port_ = static_cast<uint8_t>((value & ~(kOutKbdObf | kOutAuxObf)) | kOutReset);
  if (((old ^ output_port_) & kOutA20) && a20) a20(output_port_ & kOutA20);
  if (!(value & kOutReset) && cpu_reset) cpu_reset();
}

void I8042::pulse_output(uint8_t mask) {
  // Commands 0xF0-0xFF pulse low, for about 6 us, the output port bits
  // whose mask bit is clear; only the reset line has a visible effect.
  if (!(mask & kOutReset) && cpu_reset) cpu_reset();
}

void I8042::controller_command(uint8_t cmd) {
  if (cmd >= 0x20 && cmd <= 0x3F) {  // read controller RAM (0x20: command byte)
    reply(ram_[cmd & 0x1F]);
    return;
  }
  if ((cmd >= 0x60 && cmd <= 0x7F) || cmd == 0xD1 || cmd == 0xD2 || cmd == 0xD3 || cmd == 0xD4) {
    pending_ = cmd;  // the data byte follows on port 0x60
    return;
  }
  if (cmd >= 0xF0) {
    pulse_output(cmd & 0x0F);
    return;
  }
  switch (cmd) {
    case 0xA4:      // password installed?
      reply(0xF1);  // no
      break;
    case 0xA7:  // disable aux interface
      ram_[0] |= kCmdAuxDisable;
      break;
    case 0xA8:  // enable aux interface
      ram_[0] &= static_cast<uint8_t>(~kCmdAuxDisable);
      service();
      break;
    case 0xA9:  // aux interface test: no error
      reply(0x00);
      break;
    case 0xAA:  // controller self test
      sys_ = true;
      ram_[0] |= kCmdSys;
      reply(0x55);
      break;
    case 0xAB:  // keyboard interface test: no error
      reply(0x00);
      break;
    case 0xAD:  // disable keyboard interface
      ram_[0] |= kCmdKbdDisable;
      break;
    case 0xAE:  // enable keyboard interface
      ram_[0] &= static_cast<uint8_t>(~kCmdKbdDisable);
      service();
      break;
    case 0xC0:  // read input port: keyboard not inhibited
      reply(0x80);
      break;
    case 0xD0: {  // read output port; bits 4/5 show the buffer
      uint8_t v = output_port_ & static_cast<uint8_t>(~(kOutKbdObf | kOutAuxObf));
      if (obf_) v |= out_aux_ ? kOutAuxObf : kOutKbdObf;
      reply(v);
      break;
    }
    case 0xDD:  // A20 off (HP Vectra style)
      write_output_port(output_port_ & static_cast<uint8_t>(~kOutA20));
      break;
    case 0xDF:  // A20 on
      write_output_port(output_port_ | kOutA20);
      break;
    case 0xE0:  // read test inputs
      reply(0x00);
      break;
    default:
      ++unknown_commands_;
      break;
  }
}

void I8042::controller_data(uint8_t cmd, uint8_t data) {
  if (cmd >= 0x60 && cmd <= 0x7F) {
    if (cmd == 0x60)
      write_command_byte(data);
    else
      ram_[cmd & 0x1F] = data;
    return;
  }
  switch (cmd) {
    case 0xD1:
      write_output_port(data);
      break;
    case 0xD2:  // as if from the keyboard (not translated)
      reply(data, false);
      break;
    case 0xD3:  // as if from the mouse
      reply(data, true);
      break;
    case 0xD4:  // to the mouse; re-enables its interface like a keyboard write
      ram_[0] &= static_cast<uint8_t>(~kCmdAuxDisable);
      mouse_.command(data);
      service();
      break;
  }
}

void I8042::press(KeyCode key) {
  keyboard_.press(key);
  service();
}

void I8042::release(KeyCode key) {
  keyboard_.release(key);
  service();
}

bool I8042::type_text(std::string_view text) {
  bool all = true;
  for (char c : text) {
    KeyCode key;
    bool shift;
    if (!key_for_char(c, key, shift)) {
      all = false;
      continue;
    }
    if (shift) keyboard_.press(KeyCode::ShiftLeft);
    keyboard_.press(key);
    keyboard_.release(key);
    if (shift) keyboard_.release(KeyCode::ShiftLeft);
  }
  service();
  return all;
}

void I8042::mouse_move(int dx, int dy, uint8_t buttons, int dz) {
  mouse_.move(dx, dy, buttons, dz);
  service();
}

}  // namespace faultline
