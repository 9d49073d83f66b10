// 8254 register interface: counter ports 0-2 (LSB/MSB/word access, latched
// reads) and the control port 3 (control words, counter latch, read-back);
// port B at 0x61.
#include "devices/pit/pit.h"

namespace faultline {

namespace {
constexpr uint8_t kAccessLsb = 1, kAccessMsb = 2, kAccessWord = 3;
constexpr uint64_t kRefreshPeriodNs = 15'085;  // DRAM refresh request toggle
}  // namespace

uint32_t Pit8254::read(uint32_t offset, unsigned size) {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t byte = 0xFF;  // the control port is write-only
    if (offset + i < 3) byte = read_counter(offset + i);
    value |= byte << (8 * i);
  }
  return value;
}

void Pit8254::write(uint32_t offset, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    auto byte = static_cast<uint8_t>(value >> (8 * i));
    if (offset + i < 3)
      write_counter(offset + i, byte);
    else if (offset + i == 3)
      write_control(byte);
  }
}

uint8_t Pit8254::read_counter(unsigned index) {
  Counter& c = counters_[index];
  if (c.status_latched) {
    c.status_latched = false;
    return c.latched_status;
  }
  auto pick = [&](uint16_t v, bool msb) { return static_cast<uint8_t>(msb ? v >> 8 : v); };
  if (c.count_latched) {
    switch (c.access) {
      case kAccessLsb:
        c.count_latched = false;
        return pick(c.latched_count, false);
      case kAccessMsb:
        c.count_latched = false;
        return pick(c.latched_count, true);
      default: {
        bool msb = c.latch_msb_next;
        c.latch_msb_next = !msb;
        if (msb) c.count_latched = false;
        return pick(c.latched_count, msb);
      }
    }
  }
  uint16_t count = current_count(c, now_clock());
  switch (c.access) {
    case kAccessLsb: return pick(count, false);
    case kAccessMsb: return pick(count, true);
    default: {
      bool msb = c.read_msb_next;
      c.read_msb_next = !msb;
      return pick(count, msb);
    }
  }
}

void Pit8254::write_counter(unsigned index, uint8_t value) {
  Counter& c = counters_[index];
  uint64_t clock = now_clock();
  switch (c.access) {
    case kAccessLsb:
      load_count(index, value, clock);
      break;
    case kAccessMsb:
      load_count(index, static_cast<uint16_t>(value << 8), clock);
      break;
    case kAccessWord:
      if (!c.write_msb_next) {
        c.write_lsb = value;
        c.write_msb_next = true;
        if (c.mode == 0) {
          // Mode 0: writing the first byte stops counting and drops OUT.
          c.held_count = current_count(c, clock);
          c.armed = false;
          if (index == 0) {
            irq0_.lower();
            rearm_irq0();
          }
        }
      } else {
        c.write_msb_next = false;
        load_count(index, static_cast<uint16_t>(c.write_lsb | (value << 8)), clock);
      }
      break;
    default:
      break;
  }
}

void Pit8254::write_control(uint8_t value) {
  uint64_t clock = now_clock();
  unsigned select = value >> 6;
  if (select == 3) {
    // Read-back: bits 3..1 select counters 2..0; bit 5 clear latches the
    // count, bit 4 clear latches the status. A latch already held is kept.
    for (unsigned i = 0; i < 3; ++i) {
      if (!(value & (2u << i))) continue;
      Counter& c = counters_[i];
      if (!(value & 0x20) && !c.count_latched) {
        c.latched_count = current_count(c, clock);
        c.count_latched = true;
        c.latch_msb_next = false;
      }
      if (!(value & 0x10) && !c.status_latched) {
        c.latched_status = status(c, clock);
        c.status_latched = true;
      }
    }
    return;
  }
  if (((value >> 4) & 3) == 0) {  // counter latch command
    Counter& c = counters_[select];
    if (!c.count_latched) {
      c.latched_count = current_count(c, clock);
      c.count_latched = true;
      c.latch_msb_next = false;
    }
    return;
  }
  program(select, value, clock);
}

// ---- PortB -------------------------------------------------------------------

uint32_t PortB::read(uint32_t offset, unsigned size) {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t byte = 0xFF;
    if (offset + i == 0) {
      byte = control_ & 0x0F;
      if ((time_.now_ns() / kRefreshPeriodNs) & 1) byte |= 0x10;
      if (pit_.out(2)) byte |= 0x20;
    }
    value |= byte << (8 * i);
  }
  return value;
}

void PortB::write(uint32_t offset, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    if (offset + i != 0) continue;
    control_ = static_cast<uint8_t>(value >> (8 * i)) & 0x0F;
    pit_.set_gate(2, control_ & 1);
  }
}

}  // namespace faultline
