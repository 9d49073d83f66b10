// The PC platform on a real Machine: guest code programs the PIC and the PIT
// and counts timer interrupts through an IDT in virtual time; ports, A20,
// reset, state round trips and checkpoints with running timers.
#include "devices/pc/pc_platform.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "core/machine.h"
#include "tests/devices/pc_test_support.h"

namespace faultline {
namespace {

using pc_test::enter_flat32;
using pc_test::peek32;
using pc_test::poke;

constexpr uint32_t kMain = 0x10000, kHandler = 0x11000, kIdt = 0x20000, kCounter = 0x30000;

// Main program: remap the master PIC to 0x20 and unmask IRQ 0 only, PIT
// channel 0 in mode 2 at 100 Hz (11932 = 0x2E9C), STI, then HLT until the
// handler has counted `ticks` interrupts; exits with the count.
std::vector<uint8_t> main_program(uint32_t ticks) {
  std::vector<uint8_t> c = {
      0xB0, 0x11, 0xE6, 0x20,  // ICW1
      0xB0, 0x20, 0xE6, 0x21,  // ICW2: vectors 0x20..
      0xB0, 0x04, 0xE6, 0x21,  // ICW3: slave on IR2
      0xB0, 0x01, 0xE6, 0x21,  // ICW4: 8086 mode
      0xB0, 0xFE, 0xE6, 0x21,  // OCW1: only IRQ 0
      0xB0, 0x34, 0xE6, 0x43,  // PIT: channel 0, lo/hi, mode 2
      0xB0, 0x9C, 0xE6, 0x40,  // count low
      0xB0, 0x2E, 0xE6, 0x40,  // count high
      0xFB,                    // sti
      0xF4,                    // loop: hlt
      0x81, 0x3D, 0x00, 0x00, 0x03, 0x00,  // cmp dword [0x30000], imm32
      static_cast<uint8_t>(ticks), static_cast<uint8_t>(ticks >> 8), static_cast<uint8_t>(ticks >> 16),
      static_cast<uint8_t>(ticks >> 24),
      0x72, 0xF3,                    // jb loop
      0xFA,                          // cli
      0xA1, 0x00, 0x00, 0x03, 0x00,  // mov eax, [0x30000]
      0xE7, 0xF4,                    // out 0xF4, eax: exit
  };
  return c;
}

// IRQ 0 handler: count, send '.' to COM1, EOI, IRET.
const std::vector<uint8_t> kTimerHandler = {
    0xFF, 0x05, 0x00, 0x00, 0x03, 0x00,  // inc dword [0x30000]
    0x66, 0xBA, 0xF8, 0x03,              // mov dx, 0x3F8
    0xB0, 0x2E,                          // mov al, '.'
    0xEE,                                // out dx, al
    0xB0, 0x20, 0xE6, 0x20,              // EOI
    0xCF,                                // iret
};

void load_timer_guest(Machine& m, uint32_t ticks) {
  poke(m, kMain, main_program(ticks));
  poke(m, kHandler, kTimerHandler);
  pc_test::set_interrupt_gate(m, kIdt, 0x20, kHandler);
  enter_flat32(m, kMain);
}

TEST(PcPlatformTest, GuestCountsPitInterruptsThroughPicAndIdt) {
  Machine m{MachineConfig{}};
  PcPlatform pc{m};
  load_timer_guest(m, 100);
  RunResult r = m.run(1'000'000'000);
  ASSERT_EQ(r.outcome, RunOutcome::Exited);
  EXPECT_EQ(r.exit_status, 100u);
  EXPECT_EQ(peek32(m, kCounter), 100u);
  EXPECT_EQ(pc.com_output(0), std::string(100, '.'));
  // 100 periods of 11932 input clocks at 1.193182 MHz: just under a second
  // of virtual time, nearly all of it spent halted.
  uint64_t expected_ns = Pit8254::ns_at_clock(100 * 11932);
  EXPECT_GE(m.now_ns(), expected_ns);
  EXPECT_LT(m.now_ns(), expected_ns + 100'000);
  EXPECT_LT(r.retired, 5000u);
  EXPECT_EQ(pc.pic().master().isr(), 0u);
}

TEST(PcPlatformTest, TimerRunIsDeterministic) {
  auto run = [] {
    Machine m{MachineConfig{}};
    PcPlatform pc{m};
    load_timer_guest(m, 25);
    RunResult r = m.run(1'000'000'000);
    return std::tuple{r.outcome, r.ticks, r.retired, pc.com_output(0)};
  };
  EXPECT_EQ(run(), run());
}

TEST(PcPlatformTest, PortsAreAtTheirPcAddresses) {
  MachineConfig cfg;
  cfg.memory_mib = 64;
  Machine m{cfg};
  PcPlatform pc{m};
  Bus& bus = m.bus();
  // CMOS 0x34/0x35: 64 KiB blocks above 16 MiB.
  bus.io_write(0x70, 1, 0x34);
  uint32_t lo = bus.io_read(0x71, 1);
  bus.io_write(0x70, 1, 0x35);
  uint32_t hi = bus.io_read(0x71, 1);
  EXPECT_EQ((hi << 8) | lo, (64u - 16u) * 16u);
  // COM1 scratch register, COM2 absent.
  bus.io_write(0x3FF, 1, 0x5A);
  EXPECT_EQ(bus.io_read(0x3FF, 1), 0x5Au);
  EXPECT_EQ(bus.io_read(0x2FF, 1), 0xFFu);
  EXPECT_EQ(pc.com(1), nullptr);
  // POST codes, i8042 status, fw_cfg signature.
  bus.io_write(0x80, 1, 0x42);
  EXPECT_EQ(pc.post_codes().last_code(), 0x42);
  EXPECT_EQ(bus.io_read(0x64, 1) & i8042::kStatusIbf, 0u);
  bus.io_write(0x510, 2, 0x0000);
  std::string sig;
  for (int i = 0; i < 4; ++i) sig.push_back(static_cast<char>(bus.io_read(0x511, 1)));
  EXPECT_EQ(sig, "QEMU");
  EXPECT_EQ(m.cpu().irq_source, &pc.pic());
  // One platform per machine.
  EXPECT_THROW(PcPlatform second{m}, std::invalid_argument);
}

TEST(PcPlatformTest, GuestWritesToVgaTextMemory) {
  Machine m{MachineConfig{}};
  PcPlatform pc{m};
  ASSERT_NE(pc.vga(), nullptr);
  enter_flat32(m, kMain);
  // mov dword [0xB8000], 0x0F690F48 ("Hi", white on black); exit 0.
  poke(m, kMain, {0xC7, 0x05, 0x00, 0x80, 0x0B, 0x00, 0x48, 0x0F, 0x69, 0x0F, 0x31, 0xC0, 0xE7, 0xF4});
  RunResult r = m.run(100);
  ASSERT_EQ(r.outcome, RunOutcome::Exited);
  EXPECT_EQ(pc.vga()->text_screen().substr(0, 2), "Hi");
  // The write went to the card, not to guest RAM underneath.
  uint32_t ram_word;
  std::memcpy(&ram_word, m.memory().data() + 0xB8000, 4);
  EXPECT_EQ(ram_word, 0u);

  PcConfig no_vga;
  no_vga.vga = false;
  Machine m2{MachineConfig{}};
  PcPlatform pc2{m2, no_vga};
  EXPECT_EQ(pc2.vga(), nullptr);
  EXPECT_EQ(m2.bus().io_read(0x3DA, 1), 0xFFu);
}

TEST(PcPlatformTest, PciConfigAndIdeDiskReadThroughLegacyPorts) {
  std::string image = ::testing::TempDir() + "fl_pc_disk_" + std::to_string(::getpid()) + ".img";
  {
    std::vector<uint8_t> data(64 * 512);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i / 512 + i);
    std::ofstream(image, std::ios::binary).write(reinterpret_cast<const char*>(data.data()), data.size());
  }
  Machine m{MachineConfig{}};
  PcConfig cfg;
  cfg.ide_disks[0] = image;
  PcPlatform pc{m, cfg};
  std::remove(image.c_str());
  Bus& bus = m.bus();
  // Configuration mechanism #1: 00:01.1 is the PIIX3 IDE function.
  bus.io_write(0xCF8, 4, 0x80000900u);
  EXPECT_EQ(bus.io_read(0xCFC, 4), 0x70108086u);
  bus.io_write(0xCF8, 4, 0x80000000u);
  EXPECT_EQ(bus.io_read(0xCFC, 4), 0x12378086u);
  // READ SECTORS (PIO), LBA 3, one sector, primary master.
  bus.io_write(0x1F6, 1, 0xE0);
  bus.io_write(0x1F2, 1, 1);
  bus.io_write(0x1F3, 1, 3);
  bus.io_write(0x1F4, 1, 0);
  bus.io_write(0x1F5, 1, 0);
  bus.io_write(0x1F7, 1, 0x20);
  EXPECT_NE(bus.io_read(0x3F6, 1) & 0x08, 0u);  // DRQ (alternate status)
  for (uint32_t i = 0; i < 512; i += 2) {
    uint32_t w = bus.io_read(0x1F0, 2);
    ASSERT_EQ(w & 0xFF, static_cast<uint8_t>(3 + 3 * 512 + i)) << i;
    ASSERT_EQ(w >> 8, static_cast<uint8_t>(3 + 3 * 512 + i + 1)) << i;
  }
  EXPECT_TRUE(pc.ide(0)->irq_pending());
  // The secondary channel has no drive.
  EXPECT_EQ(bus.io_read(0x177, 1), 0xFFu);
  // Platform state includes the PCI functions, IDE channels and the
  // guest's disk writes.
  std::string a = pc.save();
  pc.load(a);
  EXPECT_EQ(pc.save(), a);
  auto sector_byte0 = [&bus](uint8_t lba) {
    bus.io_write(0x1F6, 1, 0xE0);
    bus.io_write(0x1F2, 1, 1);
    bus.io_write(0x1F3, 1, lba);
    bus.io_write(0x1F7, 1, 0x20);
    uint32_t first = bus.io_read(0x1F0, 2);
    for (int i = 1; i < 256; ++i) bus.io_read(0x1F0, 2);
    return first & 0xFF;
  };
  bus.io_write(0x1F6, 1, 0xE0);
  bus.io_write(0x1F2, 1, 1);
  bus.io_write(0x1F3, 1, 5);
  bus.io_write(0x1F7, 1, 0x30);  // WRITE SECTORS
  for (int i = 0; i < 256; ++i) bus.io_write(0x1F0, 2, 0xA5A5);
  EXPECT_EQ(sector_byte0(5), 0xA5u);
  std::string with_write = pc.save();
  pc.load(a);
  EXPECT_EQ(sector_byte0(5), static_cast<uint8_t>(5 + 5 * 512));
  pc.load(with_write);
  EXPECT_EQ(sector_byte0(5), 0xA5u);

  PcConfig bad;
  bad.pci_ide = false;
  bad.ide_disks[0] = "/nonexistent.img";
  Machine m2{MachineConfig{}};
  EXPECT_THROW(PcPlatform(m2, bad), std::invalid_argument);
}

TEST(PcPlatformTest, A20IsTheOrOfI8042AndPort92AndResetStopsTheRun) {
  Machine m{MachineConfig{}};
  PcPlatform pc{m};
  Bus& bus = m.bus();
  EXPECT_TRUE(m.cpu().s.a20_enabled);
  bus.io_write(0x64, 1, 0xD1);  // write output port: A20 off, reset line high
  bus.io_write(0x60, 1, 0xCD);
  EXPECT_FALSE(m.cpu().s.a20_enabled);
  bus.io_write(0x92, 1, 0x02);  // fast A20
  EXPECT_TRUE(m.cpu().s.a20_enabled);
  bus.io_write(0x92, 1, 0x00);
  EXPECT_FALSE(m.cpu().s.a20_enabled);
  // Guest memory wraps at 1 MiB with A20 off.
  uint32_t v = 0x12345678;
  m.cpu().write_phys(0x0, &v, 4);
  enter_flat32(m, kMain);
  poke(m, kMain, {0xA1, 0x00, 0x00, 0x10, 0x00, 0xE7, 0xF4});  // mov eax,[0x100000]; out 0xF4,eax
  RunResult r = m.run(100);
  ASSERT_EQ(r.outcome, RunOutcome::Exited);
  EXPECT_EQ(r.exit_status, 0x12345678u);
  // Keyboard controller reset pulse.
  EXPECT_FALSE(pc.reset_requested());
  enter_flat32(m, kMain);
  poke(m, kMain, {0xB0, 0xFE, 0xE6, 0x64, 0xEB, 0xFE});  // out 0x64, 0xFE; jmp $
  r = m.run(1000);
  EXPECT_EQ(r.outcome, RunOutcome::Stopped);
  EXPECT_TRUE(pc.reset_requested());
  pc.reset();
  EXPECT_FALSE(pc.reset_requested());
  EXPECT_TRUE(m.cpu().s.a20_enabled);
}

TEST(PcPlatformTest, SaveLoadSaveIsIdentical) {
  Machine m{MachineConfig{}};
  PcPlatform pc{m};
  load_timer_guest(m, 1000);
  m.run(3'000'000);  // mid-run: PIT armed, PIC initialised
  std::string a = pc.save();
  pc.load(a);
  EXPECT_EQ(pc.save(), a);
  EXPECT_THROW(pc.load("garbage"), std::runtime_error);
}

TEST(PcPlatformTest, LoadRejectsADifferentDeviceList) {
  Machine m1{MachineConfig{}};
  PcPlatform pc1{m1};
  Machine m2{MachineConfig{}};
  PcConfig cfg;
  cfg.com[1].backend = SerialBackend::Discard;
  PcPlatform pc2{m2, cfg};
  EXPECT_THROW(pc2.load(pc1.save()), std::runtime_error);
}

TEST(PcPlatformTest, CheckpointWithRunningPitRestoresIdentically) {
  Machine m{MachineConfig{}};
  PcPlatform pc{m};
  load_timer_guest(m, 60);
  RunResult mid = m.run(30'000'000);  // 0.3 s: about 30 ticks in
  ASSERT_EQ(mid.outcome, RunOutcome::InstructionLimit);
  ASSERT_GT(m.clock().pending(), 0u);
  uint32_t ticks_at_checkpoint = peek32(m, kCounter);
  EXPECT_GT(ticks_at_checkpoint, 20u);
  Machine::Checkpoint cp = m.checkpoint();
  EXPECT_FALSE(cp.devices.empty());

  RunResult first = m.run(1'000'000'000);
  ASSERT_EQ(first.outcome, RunOutcome::Exited);
  std::string first_output = pc.com_output(0);
  EXPECT_EQ(first_output, std::string(60, '.'));

  m.restore(cp);
  EXPECT_EQ(peek32(m, kCounter), ticks_at_checkpoint);
  EXPECT_EQ(pc.com_output(0), std::string(ticks_at_checkpoint, '.'));
  EXPECT_GT(m.clock().pending(), 0u);  // the PIT re-armed IRQ 0
  RunResult second = m.run(1'000'000'000);
  ASSERT_EQ(second.outcome, RunOutcome::Exited);
  EXPECT_EQ(second.exit_status, first.exit_status);
  EXPECT_EQ(second.ticks, first.ticks);
  EXPECT_EQ(second.retired, first.retired);
  EXPECT_EQ(pc.com_output(0), first_output);

  // Restoring twice from the same checkpoint gives the same run again.
  m.restore(cp);
  RunResult third = m.run(1'000'000'000);
  EXPECT_EQ(third.ticks, first.ticks);
}

TEST(PcPlatformTest, CheckpointWithoutPlatformStillRefusesPendingEvents) {
  Machine m{MachineConfig{}};
  m.schedule_in(1000, [] {});
  EXPECT_THROW(m.checkpoint(), std::logic_error);
  {
    PcPlatform pc{m};
    EXPECT_NO_THROW(m.checkpoint());
  }
  EXPECT_FALSE(m.has_device_state_hooks());
  EXPECT_EQ(m.cpu().irq_source, nullptr);
  EXPECT_THROW(m.checkpoint(), std::logic_error);
}

}  // namespace
}  // namespace faultline
