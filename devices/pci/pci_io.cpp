// Configuration mechanism #1 (0xCF8 address, 0xCFC-0xCFF data) and the
// PIIX3 reset control register at 0xCF9.
#include "devices/pci/pci.h"

namespace faultline {

namespace {
constexpr uint32_t kEnable = 0x80000000u;
constexpr uint32_t kAddressBits = 0x80FFFFFCu;  // bits 30:24 reserved, 1:0 zero
constexpr uint8_t kResetCpu = 0x04;
constexpr uint8_t kResetControlBits = 0x0E;

uint32_t all_ones(unsigned size) { return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }
}  // namespace

void PciHost::reset() {
  address_ = 0;
  reset_control_ = 0;
}

PciFunction* PciHost::target(uint8_t* reg) const {
  if (!(address_ & kEnable)) return nullptr;
  if (((address_ >> 16) & 0xFF) != 0) return nullptr;  // only bus 0 exists
  *reg = static_cast<uint8_t>(address_ & 0xFC);
  return bus_.find((address_ >> 11) & 0x1F, (address_ >> 8) & 7);
}

uint32_t PciHost::read(uint32_t offset, unsigned size) {
  if (offset == 0 && size == 4) return address_;
  if (offset == 1 && size == 1) return reset_control_;
  if (offset < 4) return all_ones(size);
  uint8_t reg = 0;
  PciFunction* fn = target(&reg);
  if (!fn) return all_ones(size);
  return fn->config_read(static_cast<uint8_t>(reg + (offset - 4)), size);
}

void PciHost::write(uint32_t offset, unsigned size, uint32_t value) {
  if (offset == 0 && size == 4) {
    address_ = value & kAddressBits;
    return;
  }
  if (offset == 1 && size == 1) {
    uint8_t old = reset_control_;
    reset_control_ = static_cast<uint8_t>(value & kResetControlBits);
    if ((reset_control_ & kResetCpu) && !(old & kResetCpu) && on_reset) on_reset(reset_control_);
    return;
  }
  if (offset < 4) return;  // other accesses to 0xCF8-0xCFB pass to the ISA bus (nothing there)
  uint8_t reg = 0;
  if (PciFunction* fn = target(&reg)) fn->config_write(static_cast<uint8_t>(reg + (offset - 4)), size, value);
}

}  // namespace faultline
