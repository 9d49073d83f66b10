// Port interface of the POST code port and port 0x92: one 8-bit register
// at offset 0; wider accesses use the low byte.
#include "devices/misc/misc.h"

namespace faultline {

namespace {
uint32_t widen(uint8_t v, unsigned size) { return (size == 1 ? 0u : size == 2 ? 0xFF00u : 0xFFFFFF00u) | v; }
}  // namespace

uint32_t PostCodePort::read(uint32_t offset, unsigned size) {
  return offset == 0 ? widen(last_code_, size) : 0xFFFFFFFFu;
}

void PostCodePort::write(uint32_t offset, unsigned size, uint32_t value) {
  (void)size;
  if (offset == 0) record(static_cast<uint8_t>(value));
}

uint32_t SystemControlPortA::read(uint32_t offset, unsigned size) {
  return offset == 0 ? widen(value_, size) : 0xFFFFFFFFu;
}

void SystemControlPortA::write(uint32_t offset, unsigned size, uint32_t value) {
  (void)size;
  if (offset == 0) update(static_cast<uint8_t>(value));
}

}  // namespace faultline
