// A real Linux guest (experiments/guests) checkpointed mid-boot with the PIT,
// RTC, UART and IDE live, then restored: the continuation must match the
// uninterrupted run exactly (virtual time, retired instructions, serial
// output). Needs the guest images: set FAULTLINE_LINUX_GUEST_DIR to the
// directory build-linux-guest.sh printed; skipped otherwise.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/boot/linux_boot.h"
#include "core/machine.h"
#include "devices/pc/pc_platform.h"

namespace faultline {
namespace {

TEST(PcLinuxCheckpointTest, RestoredBootMatchesUninterruptedBoot) {
  const char* dir = std::getenv("FAULTLINE_LINUX_GUEST_DIR");
  if (!dir || !std::filesystem::exists(std::string(dir) + "/bzImage"))
    GTEST_SKIP() << "FAULTLINE_LINUX_GUEST_DIR not set (see experiments/guests/README.md)";
  std::string d = dir;
  Machine m{MachineConfig{}};
  PcConfig cfg;
  if (std::filesystem::exists(d + "/disk.img")) cfg.ide_disks[0] = d + "/disk.img";  // in-memory overlay
  PcPlatform pc{m, cfg};
  linux_load(m, {d + "/bzImage", d + "/initramfs.cpio.gz", "console=ttyS0"});

  RunResult mid = m.run(150'000'000);  // inside the kernel's boot, timers running
  ASSERT_EQ(mid.outcome, RunOutcome::InstructionLimit);
  ASSERT_GT(m.clock().pending(), 0u);
  Machine::Checkpoint cp = m.checkpoint();

  RunResult first = m.run(4'000'000'000ull);
  ASSERT_EQ(first.outcome, RunOutcome::Exited) << pc.com_output(0);
  EXPECT_EQ(first.exit_status, 0u);
  std::string first_output = pc.com_output(0);
  EXPECT_NE(first_output.find("faultline-init: all workloads ok"), std::string::npos) << first_output;

  m.restore(cp);
  RunResult second = m.run(4'000'000'000ull);
  ASSERT_EQ(second.outcome, RunOutcome::Exited);
  EXPECT_EQ(second.ticks, first.ticks);
  EXPECT_EQ(second.retired, first.retired);
  EXPECT_EQ(pc.com_output(0), first_output);
}

}  // namespace
}  // namespace faultline
