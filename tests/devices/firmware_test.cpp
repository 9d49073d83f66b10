// Firmware ROM and PAM shadow RAM: what the guest reads, executes and
// writes in each PAM mode, the ROM's top-of-4-GiB alias, the reset vector,
// and the state round trip through the platform.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/machine.h"
#include "devices/firmware/firmware.h"
#include "devices/pc/pc_platform.h"

namespace faultline {
namespace {

constexpr uint32_t kSize = 0x20000;  // a 128 KiB image: 0xE0000-0xFFFFF below 1 MiB

// Image byte i = (i * 7 + 3) & 0xFF, so every address has a known ROM value.
std::vector<uint8_t> pattern_image() {
  std::vector<uint8_t> img(kSize);
  for (uint32_t i = 0; i < kSize; ++i) img[i] = static_cast<uint8_t>(i * 7 + 3);
  return img;
}
uint8_t rom_at(uint32_t paddr) { return static_cast<uint8_t>((paddr - (0x100000 - kSize)) * 7 + 3); }

// A guest (CPU-path) byte write and read in real mode without paging.
void guest_write(Cpu& c, uint32_t paddr, uint8_t v) { c.write_lin<uint8_t>(paddr, v, false); }
uint8_t guest_read(Cpu& c, uint32_t paddr) { return c.read_lin<uint8_t>(paddr, false); }

std::string write_temp(const std::vector<uint8_t>& data, const char* name) {
  std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data.data()), data.size());
  return path;
}

TEST(Firmware, PowerOnReadsTheRomAndDropsWrites) {
  Machine m{MachineConfig{}};
  Firmware fw(m.cpu(), pattern_image());
  fw.apply_pam({0, 0, 0, 0, 0, 0, 0});
  Cpu& c = m.cpu();
  EXPECT_EQ(guest_read(c, 0xFFFF0), rom_at(0xFFFF0));
  EXPECT_EQ(guest_read(c, 0xE0010), rom_at(0xE0010));
  EXPECT_EQ(guest_read(c, 0xC0000), 0xFF);  // no option ROM decodes there
  guest_write(c, 0xF1234, 0x99);
  EXPECT_EQ(guest_read(c, 0xF1234), rom_at(0xF1234));
  EXPECT_EQ(fw.dropped_writes(), 1u);
}

TEST(Firmware, PlatformMapsTheImageBelowFourGiB) {
  PcConfig pcc;
  pcc.bios = write_temp(pattern_image(), "/top-bios.bin");
  Machine m{MachineConfig{}};
  PcPlatform pc(m, pcc);
  uint8_t top[16];
  ASSERT_TRUE(m.cpu().read_phys(0xFFFFFFF0u, top, sizeof top));
  for (unsigned i = 0; i < 16; ++i) EXPECT_EQ(top[i], rom_at(0xFFFF0 + i));
  uint8_t first = 0;
  ASSERT_TRUE(m.cpu().read_phys(0x100000000ull - kSize, &first, 1));
  EXPECT_EQ(first, 3);  // image byte 0
}

TEST(Firmware, ShadowingFollowsEachPamMode) {
  Machine m{MachineConfig{}};
  Firmware fw(m.cpu(), pattern_image());
  Cpu& c = m.cpu();
  fw.apply_pam({0, 0, 0, 0, 0, 0, 0});
  // Write-only (PAM0 = 0x20): reads still see ROM, writes reach the DRAM behind it.
  fw.pam_changed(0, 0x20);
  guest_write(c, 0xF0100, 0x5A);
  EXPECT_EQ(guest_read(c, 0xF0100), rom_at(0xF0100));
  // Read/write (0x30): the DRAM appears, with the byte written before.
  fw.pam_changed(0, 0x30);
  EXPECT_EQ(guest_read(c, 0xF0100), 0x5A);
  EXPECT_EQ(guest_read(c, 0xF0101), 0x00);
  guest_write(c, 0xF0101, 0x77);
  EXPECT_EQ(guest_read(c, 0xF0101), 0x77);
  // Read-only (0x10): DRAM stays visible, writes are dropped.
  fw.pam_changed(0, 0x10);
  uint64_t dropped = fw.dropped_writes();
  guest_write(c, 0xF0101, 0x11);
  EXPECT_EQ(guest_read(c, 0xF0101), 0x77);
  EXPECT_EQ(fw.dropped_writes(), dropped + 1);
  // Back to ROM and back to RAM: the DRAM contents survived.
  fw.pam_changed(0, 0x00);
  EXPECT_EQ(guest_read(c, 0xF0101), rom_at(0xF0101));
  fw.pam_changed(0, 0x30);
  EXPECT_EQ(guest_read(c, 0xF0101), 0x77);
  // PAM1 low nibble controls 0xC0000-0xC3FFF only.
  fw.pam_changed(1, 0x03);
  guest_write(c, 0xC0000, 0x42);
  guest_write(c, 0xC4000, 0x42);
  EXPECT_EQ(guest_read(c, 0xC0000), 0x42);
  EXPECT_EQ(guest_read(c, 0xC4000), 0xFF);
  EXPECT_EQ(fw.mode(1), 3);
  EXPECT_EQ(fw.mode(2), 0);
}

TEST(Firmware, BadImagesAreRejectedByName) {
  std::string short_path = write_temp(std::vector<uint8_t>(1000), "/short-bios.bin");
  try {
    Firmware::load_image(short_path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(short_path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1000 bytes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Firmware::load_image("/nonexistent/bios.bin"), std::runtime_error);
  std::vector<uint8_t> rom(1024, 0);
  rom[0] = 0x55;
  rom[1] = 0xAA;
  rom[2] = 4;  // declares 2 KiB in a 1 KiB file
  EXPECT_THROW(Firmware::load_option_rom(write_temp(rom, "/bad-rom.bin")), std::runtime_error);
  rom[2] = 2;
  EXPECT_EQ(Firmware::load_option_rom(write_temp(rom, "/good-rom.bin")).size(), 1024u);
}

// Reset vector code at 0xFFFFFFF0 (the top alias) jumps to F000:0000 in the
// shadowed low copy, which writes into the still-ROM segment, reads the byte
// back, prints it on the debug console and exits with status 0.
TEST(Firmware, ResetVectorRunsFromTheTopAliasThenTheLowCopy) {
  std::vector<uint8_t> img(kSize, 0x90);
  const std::vector<uint8_t> reset = {0xEA, 0x00, 0x00, 0x00, 0xF0};  // jmp far F000:0000
  std::copy(reset.begin(), reset.end(), img.end() - 16);
  const std::vector<uint8_t> low = {
      0xB8, 0x00, 0xF0,        // mov ax, 0xF000
      0x8E, 0xD8,              // mov ds, ax
      0xC6, 0x06, 0x00, 0x80, 0x21,  // mov byte [0x8000], 0x21 (dropped: ROM)
      0xA0, 0x00, 0x80,        // mov al, [0x8000]
      0xE6, 0xE9,              // out 0xE9, al
      0xB0, 0x00, 0xE6, 0xF4,  // mov al, 0; out 0xF4, al
  };
  std::copy(low.begin(), low.end(), img.begin() + (kSize - 0x10000));
  img[kSize - 0x10000 + 0x8000] = 'R';
  PcConfig pcc;
  pcc.bios = write_temp(img, "/reset-bios.bin");
  Machine m{MachineConfig{}};
  PcPlatform pc(m, pcc);
  m.cpu().reset();
  RunResult r = m.run(10000);
  EXPECT_EQ(r.outcome, RunOutcome::Exited);
  EXPECT_EQ(m.console_output(), "R");
  EXPECT_EQ(pc.firmware()->dropped_writes(), 1u);
}

TEST(Firmware, PlatformStateRoundTripKeepsModesAndHiddenRam) {
  PcConfig pcc;
  pcc.bios = write_temp(pattern_image(), "/state-bios.bin");
  Machine m{MachineConfig{}};
  PcPlatform pc(m, pcc);
  Cpu& c = m.cpu();
  // Shadow 0xE0000-0xE3FFF read/write and leave data there, then hide it.
  // The host bridge is 00:00.0: program PAM5 through configuration space.
  auto cfg_write = [&](uint8_t reg, uint8_t v) {
    m.bus().io_write(0xCF8, 4, 0x80000000u | (reg & 0xFC));
    m.bus().io_write(static_cast<uint16_t>(0xCFC + (reg & 3)), 1, v);
  };
  cfg_write(0x5E, 0x03);
  guest_write(c, 0xE0000, 0xAB);
  cfg_write(0x5E, 0x00);  // ROM visible again; 0xAB is hidden DRAM
  EXPECT_EQ(guest_read(c, 0xE0000), rom_at(0xE0000));
  std::string saved = pc.save();
  cfg_write(0x5E, 0x03);
  guest_write(c, 0xE0000, 0xCD);
  // Restoring the device state restores the hidden DRAM and the mode; guest
  // RAM (the ROM bytes visible at save time) comes from the memory snapshot
  // in a real restore, so put it back by hand here.
  pc.load(saved);
  uint8_t rom_byte = rom_at(0xE0000);
  c.write_phys(0xE0000, &rom_byte, 1);
  EXPECT_EQ(pc.firmware()->mode(9), 0);
  EXPECT_EQ(guest_read(c, 0xE0000), rom_at(0xE0000));
  EXPECT_EQ(pc.save(), saved);
  cfg_write(0x5E, 0x03);
  EXPECT_EQ(guest_read(c, 0xE0000), 0xAB);
}

}  // namespace
}  // namespace faultline
