// PCI configuration mechanism #1, the i440FX/PIIX3 functions, BAR sizing
// and decoding, command-register gating of the IDE bus master, save/load.
#include "devices/pci/pci.h"
#include "devices/pci/piix.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace faultline {
namespace {

class NullIrq final : public IrqLine {
 public:
  void raise() override {}
  void lower() override {}
};

uint32_t address(unsigned dev, unsigned fn, unsigned reg) {
  return 0x80000000u | dev << 11 | fn << 8 | (reg & 0xFC);
}

class PciTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bus.add(0, 0, host_bridge);
    bus.add(1, 0, isa);
    bus.add(1, 1, ide);
  }
  uint32_t cfg_read(unsigned dev, unsigned fn, unsigned reg, unsigned size) {
    host.write(0, 4, address(dev, fn, reg));
    return host.read(4 + (reg & 3), size);
  }
  void cfg_write(unsigned dev, unsigned fn, unsigned reg, unsigned size, uint32_t value) {
    host.write(0, 4, address(dev, fn, reg));
    host.write(4 + (reg & 3), size, value);
  }

  NullIrq irq14, irq15;
  IdeChannel primary{"ide0", irq14};
  IdeChannel secondary{"ide1", irq15};
  IdeBusMaster bus_master{primary, secondary};
  PciBus bus;
  PciHost host{bus};
  I440fxHost host_bridge;
  Piix3Isa isa;
  Piix3Ide ide{bus_master};
};

TEST_F(PciTest, VendorAndDeviceIdsThroughConfigMechanism) {
  EXPECT_EQ(cfg_read(0, 0, 0, 4), 0x12378086u);
  EXPECT_EQ(cfg_read(1, 0, 0, 4), 0x70008086u);
  EXPECT_EQ(cfg_read(1, 1, 0, 4), 0x70108086u);
  EXPECT_EQ(cfg_read(1, 1, 0x08, 4) >> 8, 0x010180u);  // IDE, legacy, bus master
  EXPECT_EQ(cfg_read(0, 0, 0x08, 4) >> 8, 0x060000u);
  EXPECT_EQ(cfg_read(1, 0, 0x0E, 1), 0x80u);          // multi-function
  EXPECT_EQ(cfg_read(1, 0, 0x0A, 2), 0x0601u);
  EXPECT_EQ(host.read(0, 4), address(1, 0, 0x0A));
}

TEST_F(PciTest, ByteAndWordAccessAtDataOffsets) {
  host.write(0, 4, address(0, 0, 0));
  EXPECT_EQ(host.read(4, 1), 0x86u);
  EXPECT_EQ(host.read(5, 1), 0x80u);
  EXPECT_EQ(host.read(6, 1), 0x37u);  // 0xCFE: device ID low byte
  EXPECT_EQ(host.read(7, 1), 0x12u);
  EXPECT_EQ(host.read(6, 2), 0x1237u);
  // Byte write at 0xCFE: the secondary IDETIM low byte (0x42).
  host.write(0, 4, address(1, 1, 0x40));
  host.write(6, 1, 0xA5);
  EXPECT_EQ(host.read(4, 4), 0x00A50000u);
  EXPECT_EQ(ide.config_byte(0x42), 0xA5);
  // The PIIX3 functions have no interrupt line register: it stays 0.
  host.write(0, 4, address(1, 1, 0x3C));
  host.write(4, 1, 0x0E);
  EXPECT_EQ(host.read(4, 2), 0x0000u);
}

TEST_F(PciTest, UnmappedAndDisabledAccessesReadAllOnes) {
  EXPECT_EQ(cfg_read(5, 0, 0, 4), 0xFFFFFFFFu);
  EXPECT_EQ(cfg_read(0, 3, 0, 2), 0xFFFFu);
  host.write(0, 4, 0x00000000);  // enable bit clear
  EXPECT_EQ(host.read(4, 4), 0xFFFFFFFFu);
  host.write(0, 4, 0x80010000);  // bus 1 does not exist
  EXPECT_EQ(host.read(4, 4), 0xFFFFFFFFu);
  cfg_write(5, 0, 0x04, 2, 0x0007);  // ignored
  EXPECT_EQ(cfg_read(5, 0, 0x04, 2), 0xFFFFu);
}

TEST_F(PciTest, Bar4SizingAndDefault) {
  EXPECT_EQ(cfg_read(1, 1, 0x20, 4), Piix3Ide::kDefaultBusMasterBase | 1);
  cfg_write(1, 1, 0x20, 4, 0xFFFFFFFF);
  EXPECT_EQ(cfg_read(1, 1, 0x20, 4), 0xFFFFFFF1u);  // 16 bytes of I/O (sizing as firmware expects)
  cfg_write(1, 1, 0x20, 4, 0xD000);
  EXPECT_EQ(cfg_read(1, 1, 0x20, 4), 0xD001u);
  // Unimplemented BARs read 0 and stay 0.
  cfg_write(1, 1, 0x10, 4, 0xFFFFFFFF);
  EXPECT_EQ(cfg_read(1, 1, 0x10, 4), 0u);
}

TEST_F(PciTest, CommandRegisterGatesBusMasterRegisters) {
  std::vector<std::pair<uint32_t, uint32_t>> moves;
  ide.on_bar_change = [&](PciFunction&, unsigned bar, const PciBarMapping& before, const PciBarMapping& after) {
    EXPECT_EQ(bar, 4u);
    moves.emplace_back(before.enabled ? before.base : 0, after.enabled ? after.base : 0);
  };
  primary.bm_write_prd(0x12340);
  EXPECT_EQ(bus.io_read(0xC004, 4), 0xFFFFFFFFu);  // I/O decode off
  cfg_write(1, 1, 0x04, 2, 0x0001);
  EXPECT_EQ(bus.io_read(0xC004, 4), 0x12340u);
  cfg_write(1, 1, 0x20, 4, 0xD000);
  EXPECT_EQ(bus.io_read(0xC004, 4), 0xFFFFFFFFu);
  EXPECT_EQ(bus.io_read(0xD004, 4), 0x12340u);
  bus.io_write(0xD00C, 4, 0x5670);  // secondary channel's PRD pointer
  EXPECT_EQ(secondary.bm_prd(), 0x5670u);
  ASSERT_EQ(moves.size(), 2u);
  EXPECT_EQ(moves[0], std::make_pair(0u, 0xC000u));
  EXPECT_EQ(moves[1], std::make_pair(0xC000u, 0xD000u));
  // The memory-space bit is not implemented on the IDE function.
  cfg_write(1, 1, 0x04, 2, 0x0007);
  EXPECT_EQ(cfg_read(1, 1, 0x04, 2), 0x0005u);
  // The bus window adapter for Bus::register_io.
  IoHandler window = bus.io_window(0xD000);
  EXPECT_EQ(window.read(4, 4), 0x12340u);
}

TEST_F(PciTest, LegacyDecodeEnableAsFirmwareSetsIt) {
  EXPECT_FALSE(ide.legacy_decode_enabled(0));
  ide.enable_legacy_decode();
  EXPECT_TRUE(ide.legacy_decode_enabled(0));
  EXPECT_TRUE(ide.legacy_decode_enabled(1));
  EXPECT_EQ(cfg_read(1, 1, 0x40, 4), 0x80008000u);
}

TEST_F(PciTest, PirqRouteRegisters) {
  for (unsigned r = 0x60; r <= 0x63; ++r) EXPECT_EQ(cfg_read(1, 0, r, 1), 0x80u);
  EXPECT_EQ(isa.pirq_route(0), -1);
  std::vector<std::pair<unsigned, int>> changes;
  isa.on_pirq_change = [&](unsigned pirq, int irq) { changes.emplace_back(pirq, irq); };
  cfg_write(1, 0, 0x60, 4, 0x0B0A8F05);  // A=5, B=disabled, C=10, D=11
  EXPECT_EQ(cfg_read(1, 0, 0x60, 4), 0x0B0A8F05u);
  EXPECT_EQ(isa.pirq_route(0), 5);
  EXPECT_EQ(isa.pirq_route(1), -1);
  EXPECT_EQ(isa.pirq_route(2), 10);
  EXPECT_EQ(isa.pirq_route(3), 11);
  ASSERT_EQ(changes.size(), 4u);
  cfg_write(1, 0, 0x61, 1, 0x7F);  // bits 6:4 are reserved
  EXPECT_EQ(cfg_read(1, 0, 0x61, 1), 0x0Fu);
}

TEST_F(PciTest, HostBridgePamAndStatusWriteOneToClear) {
  std::vector<std::pair<unsigned, uint8_t>> pams;
  host_bridge.on_pam_change = [&](unsigned i, uint8_t v) { pams.emplace_back(i, v); };
  cfg_write(0, 0, 0x59, 1, 0xFF);
  EXPECT_EQ(host_bridge.pam(0), 0x30);
  cfg_write(0, 0, 0x5A, 2, 0xFFFF);
  EXPECT_EQ(host_bridge.pam(1), 0x33);
  EXPECT_EQ(pams.size(), 3u);
  EXPECT_EQ(cfg_read(0, 0, 0x06, 2), 0x0280u);
  cfg_write(0, 0, 0x06, 2, 0xFFFF);  // nothing set, nothing cleared, nothing invented
  EXPECT_EQ(cfg_read(0, 0, 0x06, 2), 0x0280u);
}

TEST_F(PciTest, ResetControlRegister) {
  int resets = 0;
  host.on_reset = [&](uint8_t v) {
    ++resets;
    EXPECT_EQ(v & 0x04, 0x04);
  };
  host.write(1, 1, 0x02);
  EXPECT_EQ(resets, 0);
  host.write(1, 1, 0x06);
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(host.read(1, 1), 0x06u);
}

TEST_F(PciTest, BusRejectsDuplicateSlots) {
  I440fxHost another;
  EXPECT_THROW(bus.add(0, 0, another), std::invalid_argument);
  EXPECT_THROW(bus.add(32, 0, another), std::invalid_argument);
}

TEST_F(PciTest, SaveLoadSaveIsStable) {
  cfg_write(1, 1, 0x04, 2, 0x0005);
  cfg_write(1, 1, 0x20, 4, 0xE000);
  cfg_write(1, 0, 0x60, 1, 0x0B);
  cfg_write(0, 0, 0x5F, 1, 0x33);
  host.write(0, 4, address(1, 1, 0x20));

  NullIrq a, b;
  IdeChannel p2{"ide0", a}, s2{"ide1", b};
  IdeBusMaster bm2{p2, s2};
  I440fxHost host_bridge2;
  Piix3Isa isa2;
  Piix3Ide ide2{bm2};
  PciBus bus2;
  PciHost host2{bus2};

  host_bridge2.load(host_bridge.save());
  EXPECT_EQ(host_bridge2.save(), host_bridge.save());
  isa2.load(isa.save());
  EXPECT_EQ(isa2.save(), isa.save());
  EXPECT_EQ(isa2.pirq_route(0), 11);
  int moved = 0;
  ide2.on_bar_change = [&](PciFunction&, unsigned, const PciBarMapping&, const PciBarMapping& after) {
    ++moved;
    EXPECT_EQ(after.base, 0xE000u);
    EXPECT_TRUE(after.enabled);
  };
  ide2.load(ide.save());
  EXPECT_EQ(ide2.save(), ide.save());
  EXPECT_EQ(moved, 1);
  host2.load(host.save());
  EXPECT_EQ(host2.save(), host.save());
  EXPECT_EQ(host2.address(), address(1, 1, 0x20));

  EXPECT_THROW(isa2.load(ide.save()), std::runtime_error);  // another function's state
  EXPECT_THROW(host2.load("\x08\x02"), std::runtime_error);
}

// DMA through the PCI function: bus-master enable in the command register
// holds a started transfer until the guest sets it.
TEST_F(PciTest, BusMasterEnableGatesDma) {
  std::string path = ::testing::TempDir() + "pci_test_disk.img";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 8 * 512; ++i) out.put(static_cast<char>(i * 3));
  }
  primary.attach(0, std::make_shared<DiskImage>(DiskImageConfig{path}));
  std::filesystem::remove(path);  // the open descriptor keeps it readable
  std::vector<uint8_t> ram(1 << 16);
  primary.set_dma_memory(DmaMemory{[&](uint64_t a, void* d, size_t n) {
                                     if (a + n > ram.size()) return false;
                                     std::memcpy(d, ram.data() + a, n);
                                     return true;
                                   },
                                   [&](uint64_t a, const void* src, size_t n) {
                                     if (a + n > ram.size()) return false;
                                     std::memcpy(ram.data() + a, src, n);
                                     return true;
                                   }});
  uint32_t prd[2] = {0x4000, 0x80000000u | 512};
  std::memcpy(ram.data() + 0x100, prd, sizeof prd);
  cfg_write(1, 1, 0x04, 2, pci::kCommandIo);  // registers decoded, no bus mastering
  bus.io_write(0xC004, 4, 0x100);
  primary.write(6, 1, 0xE0);
  primary.write(2, 1, 1);
  primary.write(3, 1, 2);  // LBA 2
  primary.write(4, 1, 0);
  primary.write(5, 1, 0);
  primary.write(7, 1, 0xC8);
  bus.io_write(0xC000, 1, 0x09);
  EXPECT_EQ(bus.io_read(0xC002, 1) & 0x05, 0x01u);  // active, no interrupt yet
  EXPECT_EQ(ram[0x4000], 0);
  cfg_write(1, 1, 0x04, 2, pci::kCommandIo | pci::kCommandBusMaster);
  EXPECT_EQ(bus.io_read(0xC002, 1) & 0x05, 0x04u);  // done
  for (int i = 0; i < 512; ++i) ASSERT_EQ(ram[0x4000 + i], static_cast<uint8_t>((2 * 512 + i) * 3)) << i;
}

}  // namespace
}  // namespace faultline
