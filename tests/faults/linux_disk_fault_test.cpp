// Integration: silent read corruption on the Linux guest's ext2 data
// partition. The `filerw` workload (experiments/guests/userland/filerw.c)
// writes a 1 MiB file to /dev/sda2, unmounts, mounts again and verifies
// what it reads back. Without a fault it passes; with a permanent bit flip
// in byte 508 of every sector read from partition 2 (in file data: a
// changed byte; in an indirect block: a block pointer off by one) it must
// notice: a verify failure, an ext2 error or an I/O error from the kernel. The guest runs in
// shell mode (fl.shell=1) and is told `run filerw` over COM1, so the other
// workloads are skipped. Needs FAULTLINE_LINUX_GUEST_DIR (skips without).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/boot/linux_boot.h"
#include "core/machine.h"
#include "devices/pc/pc_platform.h"
#include "faults/injector.h"

namespace faultline::faults {
namespace {

struct GuestRun {
  RunResult result;
  std::string serial;
  InjectionRecord record;
};

GuestRun boot_filerw(const std::string& dir, const pb::Fault* fault) {
  MachineConfig mc;
  mc.memory_mib = 128;
  Machine m{mc};
  PcConfig pc;
  pc.ide_disks[0] = dir + "/disk.img";  // OverlayMemory: the file stays unchanged
  PcPlatform platform{m, pc};
  linux_load(m, LinuxBootOptions{dir + "/bzImage", dir + "/initramfs.cpio.gz", "console=ttyS0 fl.shell=1"});
  FaultInjector inj(m, nullptr, &platform);
  if (fault) inj.arm(*fault);
  bool sent = false;
  CapturedSerialOutput* out = platform.com_capture(0);
  out->add_observer([&](uint8_t) {
    const std::string& s = out->output();
    if (!sent && s.size() >= 4 && s.compare(s.size() - 4, 4, "fl$ ") == 0) {
      sent = true;
      platform.com(0)->receive("run filerw\nexit\n");
    }
  });
  GuestRun r;
  r.result = m.run(3'000'000'000ull);
  r.serial = out->output();
  r.record = inj.record();
  inj.disarm();
  return r;
}

// First LBA and length of MBR partition `n` (1-based) of the image.
std::pair<uint64_t, uint64_t> partition(const std::string& image, int n) {
  std::ifstream f(image, std::ios::binary);
  char mbr[512];
  f.read(mbr, 512);
  const unsigned char* e = reinterpret_cast<const unsigned char*>(mbr) + 0x1BE + 16 * (n - 1);
  auto le32 = [](const unsigned char* p) {
    return uint64_t(p[0]) | p[1] << 8 | p[2] << 16 | uint64_t(p[3]) << 24;
  };
  return {le32(e + 8), le32(e + 12)};
}

TEST(LinuxDiskFault, SilentReadCorruptionOnTheDataPartitionIsDetectedByFilerw) {
  const char* dir = std::getenv("FAULTLINE_LINUX_GUEST_DIR");
  if (!dir || !*dir) GTEST_SKIP() << "FAULTLINE_LINUX_GUEST_DIR not set";
  auto [first, count] = partition(std::string(dir) + "/disk.img", 2);
  ASSERT_GT(count, 1000u) << "partition 2 of disk.img";

  GuestRun golden = boot_filerw(dir, nullptr);
  ASSERT_EQ(golden.result.outcome, RunOutcome::Exited) << golden.serial.substr(golden.serial.size() - 2000);
  EXPECT_EQ(golden.result.exit_status, 0u);
  EXPECT_NE(golden.serial.find("filerw: verify ok"), std::string::npos);
  EXPECT_NE(golden.serial.find("workload filerw: ok"), std::string::npos);

  pb::Fault f;
  f.mutable_disk()->set_drive(0);
  f.mutable_disk()->set_lba(first);
  f.mutable_disk()->set_count(count);
  f.mutable_disk()->set_kind(pb::DISK_CORRUPT_READ);
  f.mutable_disk()->set_offset(508);
  f.set_width(1);
  f.set_bit_mask(0x01);
  f.mutable_model()->mutable_bit_flip()->set_bits(1);
  f.mutable_duration()->set_permanent(true);
  GuestRun faulty = boot_filerw(dir, &f);
  ASSERT_TRUE(faulty.record.injected) << faulty.record.detail;
  EXPECT_NE(faulty.record.detail.find("corrupted: offset 508"), std::string::npos) << faulty.record.detail;
  const bool verify_failed = faulty.serial.find("filerw: verify FAILED") != std::string::npos;
  const bool ext2_error = faulty.serial.find("EXT2-fs error") != std::string::npos;
  const bool io_error = faulty.serial.find("filerw: read back -1") != std::string::npos;
  EXPECT_TRUE(verify_failed || ext2_error || io_error)
      << faulty.serial.substr(faulty.serial.size() > 3000 ? faulty.serial.size() - 3000 : 0);
  EXPECT_NE(faulty.serial.find("workload filerw: FAILED"), std::string::npos);
  EXPECT_EQ(faulty.result.outcome, RunOutcome::Exited);
  EXPECT_EQ(faulty.result.exit_status, 1u) << "the shell reports the failed run";
  EXPECT_EQ(faulty.serial.find("filerw: verify ok"), std::string::npos);
  std::printf("filerw under the fault: %s\n", verify_failed ? "verify FAILED"
                                              : ext2_error  ? "ext2 error"
                                                            : "I/O error");
  std::printf("injection: %s\n", faulty.record.detail.substr(0, 400).c_str());
}

}  // namespace
}  // namespace faultline::faults
