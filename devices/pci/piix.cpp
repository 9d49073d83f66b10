// i440FX host bridge and PIIX3 ISA/IDE functions: identities, register
// defaults and write masks (from the 82441FX and 82371SB datasheets).
#include "devices/pci/piix.h"

namespace faultline {

using namespace pci;

// ---- i440FX -------------------------------------------------------------------

I440fxHost::I440fxHost() {
  init_header(0x8086, 0x1237, 0x060000, 0x02, 0x00);
  reset();
}

void I440fxHost::set_defaults() {
  set_word(kCommand, 0x0006, 0x0106);
  // Subsystem IDs of the virtual-machine host bridge that firmware built
  // for the QEMU platform (Debian's SeaBIOS) looks for.
  set_word(0x2C, 0x1AF4);
  set_word(0x2E, 0x1100);
  set_word(kStatus, 0x0280, 0, 0xF900);
  set_byte(kInterruptLine, 0);  // no interrupt
  set_word(0x50, 0x0000, 0x03F4);  // PMCCFG
  set_byte(0x53, 0x80, 0xFF);      // DBC
  set_byte(0x57, 0x01, 0xFF);      // DRAMC
  set_byte(0x58, 0x10, 0xFF);      // DRAMT
  set_byte(0x59, 0x00, 0x30);      // PAM0: only the 0xF0000 BIOS area
  for (uint8_t r = 0x5A; r <= 0x5F; ++r) set_byte(r, 0x00, 0x33);  // PAM1-6
  for (uint8_t r = 0x60; r <= 0x67; ++r) set_byte(r, 0x01, 0xFF);  // DRB0-7
  set_byte(0x68, 0x00, 0xC0);      // FDHC
  set_byte(0x72, 0x02, 0x78);      // SMRAM (bits 2:0 fixed 010b)
}

void I440fxHost::config_written(uint8_t offset, unsigned size) {
  if (!on_pam_change) return;
  for (unsigned i = 0; i < size; ++i) {
    unsigned at = offset + i;
    if (at >= 0x59 && at <= 0x5F) on_pam_change(at - 0x59, config_byte(static_cast<uint8_t>(at)));
  }
}

// ---- PIIX3 ISA bridge ---------------------------------------------------------

Piix3Isa::Piix3Isa() {
  init_header(0x8086, 0x7000, 0x060100, 0x00, 0x80);  // multi-function device
  reset();
}

void Piix3Isa::set_defaults() {
  set_word(kCommand, 0x0007, 0x0008);  // I/O, memory, bus master hardwired on; special cycles
  set_word(kStatus, 0x0200, 0, 0x7800);
  set_byte(kInterruptLine, 0);
  set_byte(0x4C, 0x4D, 0xFF);               // IORT
  set_word(0x4E, 0x0003, 0x07FF);           // XBCS
  for (uint8_t r = 0x60; r <= 0x63; ++r) set_byte(r, 0x80, 0x8F);  // PIRQRC[A-D]
  set_byte(0x69, 0x02, 0xFE);               // TOM
  set_word(0x6A, 0x0000, 0x00FF);           // MSTAT
  set_byte(0x70, 0x80, 0xCF);               // MBIRQ0
  set_byte(0x76, 0x04, 0x87);               // MBDMA0
  set_byte(0x77, 0x04, 0x87);               // MBDMA1
  set_word(0x78, 0x0002, 0xFFFF);           // PCSC
  set_byte(0x80, 0x00, 0x7F);               // APICBASE
  set_byte(0x82, 0x00, 0x0F);               // DLC
  set_word(0xA0, 0x0008, 0x001F);           // SMICNTL
  set_word(0xA2, 0x0000, 0x00FF);           // SMIEN
  set_word(0xA4, 0x0000, 0xFFFF);           // SEE (low word)
  set_word(0xA6, 0x0000, 0xFFFF);           // SEE (high word)
  set_byte(0xA8, 0x0F, 0xFF);               // FTMR
  set_word(0xAA, 0x0000, 0x01FF);           // SMIREQ
  set_byte(0xAC, 0x00, 0xFF);               // CTLTMR
  set_byte(0xAE, 0x00, 0xFF);               // CTHTMR
}

int Piix3Isa::pirq_route(unsigned pirq) const {
  uint8_t value = config_byte(static_cast<uint8_t>(0x60 + (pirq & 3)));
  if (value & 0x80) return -1;
  unsigned irq = value & 0x0F;
  // IRQ 0, 1, 2, 8 and 13 cannot be PCI interrupts.
  if (irq <= 2 || irq == 8 || irq == 13) return -1;
  return static_cast<int>(irq);
}

void Piix3Isa::config_written(uint8_t offset, unsigned size) {
  if (!on_pirq_change) return;
  for (unsigned i = 0; i < size; ++i) {
    unsigned at = offset + i;
    if (at >= 0x60 && at <= 0x63) on_pirq_change(at - 0x60, pirq_route(at - 0x60));
  }
}

// ---- PIIX3 IDE ----------------------------------------------------------------

Piix3Ide::Piix3Ide(IdeBusMaster& bus_master, uint32_t bus_master_base) : bus_master_(bus_master) {
  init_header(0x8086, 0x7010, 0x010180, 0x00, 0x00);  // IDE, legacy mode, bus master capable
  // BMIBA (BAR4): 16 I/O ports. The 82371SB hardwires address bits 31:16
  // to 0, but BIOS BAR sizing (write ~0, read back, size = ~value + 1 over
  // 32 bits, as Debian's SeaBIOS does it) then sees a 4 GiB-sized I/O BAR
  // and gives up; so, like the virtual PIIX3 that firmware is written for,
  // every address bit above the size is writable. Ports above 0xFFFF never
  // decode (x86 I/O space is 64 KiB).
  declare_io_bar(4, 16, &bus_master_, bus_master_base, 0xFFFFFFFF);
  for (unsigned i = 0; i < 2; ++i)
    bus_master_.channel(i).set_dma_gate([this] { return (command() & kCommandBusMaster) != 0; });
  reset();
}

Piix3Ide::~Piix3Ide() {
  for (unsigned i = 0; i < 2; ++i) bus_master_.channel(i).set_dma_gate({});
}

void Piix3Ide::set_defaults() {
  set_word(kCommand, 0x0000, kCommandIo | kCommandBusMaster);
  set_word(kStatus, 0x0280, 0, 0x3800);
  set_byte(kInterruptLine, 0);  // legacy mode: IRQ 14/15, no PCI interrupt
  set_word(0x40, 0x0000, 0xF3FF);  // IDETIM primary
  set_word(0x42, 0x0000, 0xF3FF);  // IDETIM secondary
  set_byte(0x44, 0x00, 0xFF);      // SIDETIM
}

}  // namespace faultline

namespace faultline {

void Piix3Ide::enable_legacy_decode() {
  config_write(0x41, 1, config_byte(0x41) | 0x80);
  config_write(0x43, 1, config_byte(0x43) | 0x80);
}

void Piix3Ide::config_written(uint8_t offset, unsigned size) {
  // Bus-master enable turned on: a transfer waiting for it starts.
  bool touches_command = offset <= pci::kCommand && offset + size > pci::kCommand;
  if (touches_command && (command() & pci::kCommandBusMaster))
    for (unsigned i = 0; i < 2; ++i) bus_master_.channel(i).dma_gate_changed();
}

}  // namespace faultline
