// The i440FX/PIIX3 chipset functions on PCI bus 0: the host bridge
// (00:00.0, 8086:1237), the PIIX3 PCI-to-ISA bridge (00:01.0, 8086:7000) and
// the PIIX3 IDE controller (00:01.1, 8086:7010).
//
// Design note: these functions are configuration space only; the ISA
// devices behind the bridge (PIC, PIT, RTC, ...) are separate Devices the
// platform registers at fixed ports. Registers whose effect lives elsewhere
// (PAM shadowing, PIRQ routing) are stored and announced through callbacks
// rather than acted on here. The IDE function runs in legacy ("compatibility")
// mode: its channels sit at 0x1F0/0x3F6 (IRQ 14) and 0x170/0x376 (IRQ 15)
// whatever IDETIM says; only its BAR4 (bus-master registers) is relocatable,
// and the command register gates it: I/O enable decodes BAR4, bus-master
// enable lets DMA touch memory.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/ide/ide.h"
#include "devices/pci/pci.h"

namespace faultline {

class I440fxHost final : public PciFunction {
 public:
  I440fxHost();
  const char* name() const override { return "i440fx"; }
  // PAM0-PAM6 (0x59-0x5F): BIOS shadow read/write enables.
  uint8_t pam(unsigned index) const { return config_byte(static_cast<uint8_t>(0x59 + index)); }
  // Called with the register index 0-6 when a PAM register is written.
  std::function<void(unsigned index, uint8_t value)> on_pam_change;

 private:
  void set_defaults() override;
  void config_written(uint8_t offset, unsigned size) override;
};

class Piix3Isa final : public PciFunction {
 public:
  Piix3Isa();
  const char* name() const override { return "piix3-isa"; }
  // PIRQ[A-D] route (0x60-0x63): the ISA IRQ a PCI interrupt goes to, or
  // -1 when routing is disabled (bit 7) or the IRQ number is reserved.
  int pirq_route(unsigned pirq) const;
  // Called with the PIRQ index 0-3 when its route register is written.
  std::function<void(unsigned pirq, int irq)> on_pirq_change;

 private:
  void set_defaults() override;
  void config_written(uint8_t offset, unsigned size) override;
};

class Piix3Ide final : public PciFunction {
 public:
  static constexpr uint32_t kDefaultBusMasterBase = 0xC000;
  // `bus_master` (and its channels) must outlive this function.
  explicit Piix3Ide(IdeBusMaster& bus_master, uint32_t bus_master_base = kDefaultBusMasterBase);
  ~Piix3Ide() override;
  const char* name() const override { return "piix3-ide"; }
  // Sets IDETIM "IDE decode enable" (bit 15 of 0x40 and 0x42) as firmware
  // does; guests such as Linux's ata_piix treat a channel without it as
  // disabled. For boots without firmware. The bit is stored, not enforced:
  // the legacy ports decode regardless.
  void enable_legacy_decode();
  bool legacy_decode_enabled(unsigned channel) const { return config_byte(channel ? 0x43 : 0x41) & 0x80; }

 private:
  void set_defaults() override;
  void config_written(uint8_t offset, unsigned size) override;
  IdeBusMaster& bus_master_;
};

}  // namespace faultline
