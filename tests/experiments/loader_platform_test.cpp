// Experiment-file loader: linux workloads, multiboot on the PC platform and
// the script steps that need it (file:line:col of each mistake).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "experiments/loader/campaign_loader.h"
#include "tests/experiments/loader_diagnostics.h"

namespace fs = std::filesystem;
using faultline::experiments::CampaignError;
using faultline::experiments::Diagnostic;
using faultline::experiments::load_campaign_text;
using faultline::experiments::LoadedCampaign;
using faultline::experiments::LoaderVars;

namespace {

// A directory with stand-in guest files: a minimal bzImage (boot flag,
// "HdrS", protocol 2.15), an old-protocol one, an initrd and a disk.
class PlatformLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("FAULTLINE_GUEST_DIR");
    ::unsetenv("G");
    // One directory per process: ctest runs the cases of this suite in
    // parallel processes, and rewriting shared files would race.
    dir_ = fs::path(::testing::TempDir()) / ("faultline_loader_platform_test." + std::to_string(::getpid()));
    fs::create_directories(dir_);
    write("bzImage", bzimage(0x020F));
    write("old-bzImage", bzimage(0x0204));
    write("initrd.gz", "x");
    write("disk.img", std::string(512, '\0'));
    file_ = (dir_ / "exp.textproto").string();
  }
  static std::string bzimage(unsigned version) {
    std::string bz(0x400, '\0');
    bz[0x1FE] = char(0x55);
    bz[0x1FF] = char(0xAA);
    bz.replace(0x202, 4, "HdrS");
    bz[0x206] = char(version & 0xFF);
    bz[0x207] = char(version >> 8);
    return bz;
  }
  void write(const std::string& name, const std::string& contents) {
    std::ofstream(dir_ / name, std::ios::binary) << contents;
  }
  LoaderVars vars() const { return {{"FAULTLINE_GUEST_DIR", FAULTLINE_GUEST_DIR}, {"G", dir_.string()}}; }

  using Expect = faultline::experiments::loader_test::Expect;
  std::vector<Diagnostic> errors_of(const std::string& text) {
    return faultline::experiments::loader_test::errors_of(text, file_, vars());
  }
  void expect_errors(const std::string& text, const std::vector<Expect>& want) {
    faultline::experiments::loader_test::expect_errors(text, file_, vars(), want);
  }

  fs::path dir_;
  std::string file_;
};

// A register group without a trigger (for scripts with an inject step) and
// one with a trigger.
const std::string kRegs =
    "fault_space {\n"
    "  target { registers { names: \"eax\" } }\n"
    "  model { bit_flip {} }\n"
    "}\n";
const std::string kRegsTriggered =
    "fault_space {\n"
    "  target { registers { names: \"eax\" } }\n"
    "  model { bit_flip {} }\n"
    "  trigger { instructions { start: 0 end: 0 } }\n"
    "}\n";
const std::string kSampling = "sampling { samples: 4 seed: 1 }\n";

TEST_F(PlatformLoaderTest, LinuxWorkloadLoadsWithResolvedPaths) {
  LoadedCampaign c = load_campaign_text(
      "workload { linux {\n"
      "  kernel: \"${G}/bzImage\"\n"
      "  initrd: \"initrd.gz\"\n"
      "  append: \"console=ttyS0 fl.shell=1\"\n"
      "  disks: [\"${G}/disk.img\", \"disk.img\"]\n"
      "} }\n" +
          kSampling + kRegs +
          "script { wait_for { pattern: \"fl\\\\$ $\" source: SERIAL timeout_ns: 5000000000 } }\n"
          "script { serial_input: \"run checksum\\n\" }\n"
          "script { type_keys: \"x\\n\" }\n"
          "script { wait_ns: 1000000 }\n"
          "script { inject: true }\n"
          "script { expect { pattern: \"workload checksum: ok\" source: SERIAL timeout_ns: 1000000000 } }\n"
          "script { wait_for { pattern: \"login\" source: SCREEN } }\n"
          "script { end: true }\n",
      file_, vars());
  const auto& l = c.campaign.workload().linux();
  EXPECT_EQ(c.kernel_path, (dir_ / "bzImage").string());
  EXPECT_EQ(l.kernel(), (dir_ / "bzImage").string());
  EXPECT_EQ(l.initrd(), (dir_ / "initrd.gz").string());  // relative to the experiment file
  ASSERT_EQ(l.disks_size(), 2);
  EXPECT_EQ(l.disks(0), (dir_ / "disk.img").string());
  EXPECT_EQ(l.disks(1), (dir_ / "disk.img").string());
  EXPECT_EQ(l.append(), "console=ttyS0 fl.shell=1");
  EXPECT_EQ(c.campaign.script_size(), 8);
  EXPECT_TRUE(c.warnings.empty());
}

TEST_F(PlatformLoaderTest, MissingLinuxFiles) {
  expect_errors("workload { linux {\n"
                "  kernel: \"${G}/nope\"\n"
                "  initrd: \"${G}/no-initrd\"\n"
                "  disks: [\"${G}/disk.img\", \"${G}/no-disk.img\"]\n"
                "} }\n" +
                    kSampling + kRegsTriggered,
                {{2, 3, "workload.linux.kernel: " + (dir_ / "nope").string() + ": no such file"},
                 {3, 3, "workload.linux.initrd: " + (dir_ / "no-initrd").string() + ": no such file"},
                 {4, 3, "workload.linux.disks[1]: " + (dir_ / "no-disk.img").string() + ": no such file"}});
}

TEST_F(PlatformLoaderTest, LinuxKernelThatIsNotABzImage) {
  expect_errors("workload { linux { kernel: \"${FAULTLINE_GUEST_DIR}/checksum.elf\" } }\n" + kSampling +
                    kRegsTriggered,
                {{1, 20, "checksum.elf: not a bzImage"}});
  expect_errors("workload { linux { kernel: \"${G}/old-bzImage\" } }\n" + kSampling + kRegsTriggered,
                {{1, 20, "boot protocol 2.4 is older than 2.06"}});
  expect_errors("workload { linux { initrd: \"${G}/initrd.gz\" } }\n" + kSampling + kRegsTriggered,
                {{1, 12, "workload.linux.kernel: missing kernel path"}});
}

TEST_F(PlatformLoaderTest, TooManyDisks) {
  expect_errors("workload { linux {\n"
                "  kernel: \"${G}/bzImage\"\n"
                "  disks: \"disk.img\"\n"
                "  disks: \"disk.img\"\n"
                "  disks: \"disk.img\"\n"
                "  disks: \"disk.img\"\n"
                "  disks: \"disk.img\"\n"
                "} }\n" +
                    kSampling + kRegsTriggered,
                {{7, 3, "workload.linux.disks[4]: at most 4 disks"}});
}

TEST_F(PlatformLoaderTest, SymbolsOnALinuxWorkload) {
  expect_errors("workload { linux { kernel: \"${G}/bzImage\" } }\n" + kSampling +
                    "fault_space {\n"
                    "  target { memory { symbol: \"jiffies\" } }\n"
                    "  model { bit_flip {} }\n"
                    "  trigger { pc { symbol: \"schedule\" } }\n"
                    "}\n",
                {{4, 21, "symbol 'jiffies': a linux workload's bzImage has no ELF symbols"},
                 {6, 18, "symbol 'schedule': a linux workload's bzImage has no ELF symbols"}});
}

TEST_F(PlatformLoaderTest, StepsNeedingThePlatformOnABareMultibootWorkload) {
  const std::string head = "workload { multiboot { kernel: \"${FAULTLINE_GUEST_DIR}/keyboard.elf\" } }\n" + kSampling;
  expect_errors(head + kRegs +
                    "script { type_keys: \"abc\\n\" }\n"
                    "script { inject: true }\n"
                    "script { expect { pattern: \"typed: abc\" source: SCREEN } }\n",
                {{7, 10, "script[0].type_keys: needs the PC platform's keyboard"},
                 {9, 41, "SCREEN needs the PC platform"}});
  // The same script on the PC platform is fine.
  const std::string pc =
      "workload { multiboot { kernel: \"${FAULTLINE_GUEST_DIR}/keyboard.elf\" pc: true } }\n" + kSampling;
  LoadedCampaign c = load_campaign_text(pc + kRegs +
                                            "script { type_keys: \"abc\\n\" }\n"
                                            "script { inject: true }\n"
                                            "script { expect { pattern: \"typed: abc\" source: SCREEN } }\n",
                                        file_, vars());
  EXPECT_TRUE(c.campaign.workload().multiboot().pc());
}

TEST_F(PlatformLoaderTest, InjectStepContradictsGroupTriggers) {
  expect_errors("workload { linux { kernel: \"${G}/bzImage\" } }\n" + kSampling + kRegsTriggered +
                    "script { wait_for { pattern: \"fl\\\\$ \" source: SERIAL } }\n"
                    "script { inject: true }\n",
                {{6, 3, "fault_space[0].trigger: not allowed when the script has an `inject` step"}});
}

TEST_F(PlatformLoaderTest, BadRegexInWaitForAndExpect) {
  expect_errors("workload { linux { kernel: \"${G}/bzImage\" } }\n" + kSampling + kRegs +
                    "script { wait_for { pattern: \"fl(\" source: SERIAL } }\n"
                    "script { inject: true }\n"
                    "script { expect { pattern: \"[ok\" source: SERIAL } }\n",
                {{7, 21, "script[0].wait_for.pattern: invalid regular expression \"fl(\""},
                 {9, 19, "script[2].expect.pattern: invalid regular expression \"[ok\""}});
}

TEST_F(PlatformLoaderTest, OutputTriggerOnThePlatformLoadsWithoutWarning) {
  LoadedCampaign c = load_campaign_text("workload { linux { kernel: \"${G}/bzImage\" } }\n" + kSampling +
                                            "fault_space {\n"
                                            "  target { registers { names: \"eax\" } }\n"
                                            "  model { bit_flip {} }\n"
                                            "  trigger { output { pattern: \"checksum\" } }\n"
                                            "}\n",
                                        file_, vars());
  EXPECT_TRUE(c.warnings.empty());  // output triggers see COM1 too
  EXPECT_EQ(c.campaign.fault_space(0).trigger().output().pattern(), "checksum");
}

TEST_F(PlatformLoaderTest, DiskTargetOnLinuxLoads) {
  LoadedCampaign c = load_campaign_text("workload { linux { kernel: \"${G}/bzImage\" disks: \"${G}/disk.img\" } }\n" +
                                            kSampling +
                                            "fault_space {\n"
                                            "  target { disk { sectors { start: 0 end: 100 } } }\n"
                                            "  model { bit_flip {} }\n"
                                            "  trigger { instructions { start: 0 end: 0 } }\n"
                                            "}\n",
                                        file_, vars());
  ASSERT_EQ(c.campaign.fault_space_size(), 1);
  EXPECT_EQ(c.campaign.fault_space(0).target().disk().sectors().end(), 100u);
}

}  // namespace
