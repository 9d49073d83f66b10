// i8042 port interface: offset 0 = data (port 0x60), offset 4 =
// status / command (port 0x64). Other offsets read as a floating bus.
#include "devices/i8042/i8042.h"

namespace faultline {

using namespace i8042;

uint32_t I8042::read(uint32_t offset, unsigned size) {
  uint32_t high = size == 1 ? 0 : size == 2 ? 0xFF00u : 0xFFFFFF00u;
  if (offset == kDataOffset) return high | read_data();
  if (offset == kStatusOffset) return high | status();
  return 0xFFFFFFFFu;
}

void I8042::write(uint32_t offset, unsigned size, uint32_t value) {
  (void)size;
  if (offset == kDataOffset)
    write_data(static_cast<uint8_t>(value));
  else if (offset == kStatusOffset)
    write_command(static_cast<uint8_t>(value));
}

uint8_t I8042::read_data() {
  // An empty buffer reads its last byte again.
  uint8_t v = out_byte_;
  if (obf_) {
    obf_ = false;
    update_irqs();  // lower first, so the next byte gives a new edge
    service();
  }
  return v;
}

void I8042::write_data(uint8_t value) {
  a2_ = false;
  if (pending_) {
    uint8_t cmd = pending_;
    pending_ = 0;
    controller_data(cmd, value);
    return;
  }
  // Sending to the keyboard re-enables its interface, as on the real
  // controller (firmware disables both ports around device commands and
  // relies on this to get the reply).
  ram_[0] &= static_cast<uint8_t>(~kCmdKbdDisable);
  keyboard_.command(value);
  service();
}

void I8042::write_command(uint8_t value) {
  a2_ = true;
  pending_ = 0;  // a new command abandons one waiting for data
  controller_command(value);
}

}  // namespace faultline
