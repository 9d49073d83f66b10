// 8259A register interface: ICW1-4, OCW1-3, IRR/ISR/IMR reads, the poll
// command, and the ELCR ports.
#include "devices/pic/pic.h"

namespace faultline {

namespace {
constexpr uint8_t kIcw1 = 0x10;      // command port, bit 4: ICW1
constexpr uint8_t kOcw3 = 0x08;      // command port, bit 3 (bit 4 clear): OCW3
constexpr uint8_t kIcw1NeedsIcw4 = 0x01;
constexpr uint8_t kIcw1Single = 0x02;
}  // namespace

uint32_t Pic8259::read(uint32_t offset, unsigned size) {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t byte = 0xFF;
    if (offset + i == 0) {
      if (poll_pending_) {
        poll_pending_ = false;
        byte = poll();
      } else {
        byte = read_isr_ ? isr_ : irr_;
      }
    } else if (offset + i == 1) {
      byte = imr_;
    }
    value |= byte << (8 * i);
  }
  return value;
}

void Pic8259::write(uint32_t offset, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    auto byte = static_cast<uint8_t>(value >> (8 * i));
    if (offset + i == 0)
      write_command(byte);
    else if (offset + i == 1)
      write_data(byte);
  }
}

void Pic8259::write_command(uint8_t value) {
  if (value & kIcw1) {
    // ICW1 starts initialisation: mask cleared, nothing in service, IR7
    // lowest, status reads IRR, edge detection re-armed.
    icw1_ = value;
    if (!(value & kIcw1NeedsIcw4)) icw4_ = 0;
    init_step_ = 2;
    imr_ = 0;
    isr_ = 0;
    irr_ = lines_ & level_mask();
    lowest_priority_ = 7;
    read_isr_ = poll_pending_ = special_mask_ = rotate_on_auto_eoi_ = false;
    changed();
    return;
  }
  if (value & kOcw3) {
    if (value & 0x04) poll_pending_ = true;
    if (value & 0x02) read_isr_ = value & 0x01;
    if (value & 0x40) special_mask_ = value & 0x20;
    changed();
    return;
  }
  // OCW2: R, SL, EOI in bits 7..5, level in bits 2..0.
  int level = value & 7;
  switch (value >> 5) {
    case 1: end_of_interrupt(-1, false); break;     // non-specific EOI
    case 3: end_of_interrupt(level, false); break;  // specific EOI
    case 5: end_of_interrupt(-1, true); break;      // rotate on non-specific EOI
    case 7: end_of_interrupt(level, true); break;   // rotate on specific EOI
    case 4: rotate_on_auto_eoi_ = true; break;
    case 0: rotate_on_auto_eoi_ = false; break;
    case 6:                                         // set priority: level is lowest
      lowest_priority_ = static_cast<uint8_t>(level);
      changed();
      break;
    default: break;  // 2: no operation
  }
}

void Pic8259::write_data(uint8_t value) {
  switch (init_step_) {
    case 2:
      icw2_ = value;
      if (!(icw1_ & kIcw1Single))
        init_step_ = 3;
      else
        init_step_ = (icw1_ & kIcw1NeedsIcw4) ? 4 : 0;
      break;
    case 3:
      icw3_ = value;
      init_step_ = (icw1_ & kIcw1NeedsIcw4) ? 4 : 0;
      break;
    case 4:
      icw4_ = value;
      init_step_ = 0;
      break;
    default:
      imr_ = value;  // OCW1
      break;
  }
  changed();
}

// ---- ELCR ------------------------------------------------------------------

namespace {
constexpr uint8_t kElcrMasterWritable = 0xF8;  // IRQ 0, 1, 2 always edge
constexpr uint8_t kElcrSlaveWritable = 0xDE;   // IRQ 8, 13 always edge
}  // namespace

void PicElcr::reset() {
  pair_.master().set_elcr(0);
  pair_.slave().set_elcr(0);
}

uint32_t PicElcr::read(uint32_t offset, unsigned size) {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t byte = 0xFF;
    if (offset + i == 0) byte = pair_.master().elcr();
    if (offset + i == 1) byte = pair_.slave().elcr();
    value |= byte << (8 * i);
  }
  return value;
}

void PicElcr::write(uint32_t offset, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    auto byte = static_cast<uint8_t>(value >> (8 * i));
    if (offset + i == 0) pair_.master().set_elcr(byte & kElcrMasterWritable);
    if (offset + i == 1) pair_.slave().set_elcr(byte & kElcrSlaveWritable);
  }
}

}  // namespace faultline
