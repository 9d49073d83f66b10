// Machine-level behaviour: multiboot loading, deterministic runs, checkpoint
// restore reproducing a run exactly, and dirty tracking of guest writes.
#include <gtest/gtest.h>

#include <cstring>

#include "core/boot/multiboot.h"
#include "core/machine.h"

#ifndef FAULTLINE_GUEST_DIR
#error "FAULTLINE_GUEST_DIR must point at the built guest kernels"
#endif

namespace faultline {
namespace {

std::string guest(const char* name) { return std::string(FAULTLINE_GUEST_DIR) + "/" + name + ".elf"; }

TEST(Multiboot, LoadsSegmentsSymbolsAndInfo) {
  Machine m(MachineConfig{});
  MultibootOptions o;
  o.kernel_path = guest("checksum");
  o.cmdline = "alpha beta";
  ElfImage img = multiboot_load(m, o);
  EXPECT_EQ(m.cpu().s.gpr[EAX], 0x2BADB002u);
  EXPECT_TRUE(m.cpu().protected_mode());
  EXPECT_EQ(m.cpu().s.eip, img.entry);
  auto sym = img.symbols.find("data_buffer");
  ASSERT_TRUE(sym.has_value());
  EXPECT_EQ(sym->size, 16384u);
  auto within = img.symbols.lookup(sym->value + 100);
  ASSERT_TRUE(within.has_value());
  EXPECT_EQ(within->name, "data_buffer");
  // The info structure: flags, memory sizes, command line.
  uint32_t info[20];
  ASSERT_TRUE(m.cpu().read_phys(m.cpu().s.gpr[EBX], info, sizeof info));
  EXPECT_TRUE(info[0] & 1);
  EXPECT_EQ(info[2], (32u << 10) - 1024u);  // mem_upper in KiB for 32 MiB
  char cmdline[512] = {};  // the kernel path comes first; CI paths are long
  ASSERT_TRUE(m.cpu().read_phys(info[4], cmdline, sizeof cmdline - 1));
  EXPECT_NE(std::strstr(cmdline, "alpha beta"), nullptr);
}

TEST(Multiboot, KernelWithoutHeaderIsRejectedByName) {
  Machine m(MachineConfig{});
  MultibootOptions o;
  o.kernel_path = "/bin/true";  // a 64-bit ELF: wrong class
  try {
    multiboot_load(m, o);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/bin/true"), std::string::npos);
  }
}

TEST(Machine, TwoRunsAreIdentical) {
  auto run = [] {
    Machine m(MachineConfig{});
    MultibootOptions o;
    o.kernel_path = guest("sort");
    multiboot_load(m, o);
    RunResult r = m.run(UINT64_MAX);
    return std::make_pair(r.retired, m.console_output());
  };
  auto a = run();
  auto b = run();
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);
  EXPECT_GT(a.first, 1000u);
}

TEST(Machine, CheckpointRestoreReproducesTheRestOfTheRun) {
  Machine m(MachineConfig{});
  MultibootOptions o;
  o.kernel_path = guest("checksum");
  multiboot_load(m, o);
  ASSERT_EQ(m.run(100000).outcome, RunOutcome::InstructionLimit);
  Machine::Checkpoint cp = m.checkpoint();
  RunResult first = m.run(UINT64_MAX);
  ASSERT_EQ(first.outcome, RunOutcome::Exited);
  std::string out1 = m.console_output();
  // Corrupt guest memory and registers, then restore.
  std::vector<uint8_t> junk(0x4000, 0xCC);
  m.cpu().write_phys(0x100000, junk.data(), junk.size());
  m.cpu().s.gpr[EAX] = 0xDEADBEEF;
  m.restore(cp);
  EXPECT_EQ(m.cpu().ticks(), cp.ticks);
  RunResult second = m.run(UINT64_MAX);
  EXPECT_EQ(second.outcome, RunOutcome::Exited);
  EXPECT_EQ(second.exit_status, first.exit_status);
  EXPECT_EQ(second.retired, first.retired);
  EXPECT_EQ(m.console_output(), out1);
}

TEST(Machine, GuestWritesMarkMemfilePagesDirty) {
  Machine m(MachineConfig{});
  MultibootOptions o;
  o.kernel_path = guest("checksum");
  multiboot_load(m, o);
  m.checkpoint();  // clears the dirty bitmap
  EXPECT_EQ(m.memory().dirty_count(), 0u);
  m.run(UINT64_MAX);
  // The kernel fills a 16 KiB buffer: at least four pages must be dirty.
  EXPECT_GE(m.memory().dirty_count(), 4u);
}

}  // namespace
}  // namespace faultline
