// Experiment-file loader: syntax and semantic diagnostics (file:line:col and
// message), defaults, ${VAR} expansion, and the example files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "experiments/loader/campaign_loader.h"
#include "tests/experiments/loader_diagnostics.h"

namespace fs = std::filesystem;
using faultline::experiments::CampaignError;
using faultline::experiments::Diagnostic;
using faultline::experiments::load_campaign;
using faultline::experiments::load_campaign_text;
using faultline::experiments::LoadedCampaign;
using faultline::experiments::LoaderVars;

namespace {

const std::string kGuestDir = FAULTLINE_GUEST_DIR;
const std::string kExamplesDir = FAULTLINE_EXAMPLES_DIR;
const std::string kFile = "/nonexistent-dir/exp.textproto";

LoaderVars vars() { return {{"FAULTLINE_GUEST_DIR", kGuestDir}}; }

// Lines 1-3 of most test files: a valid name, workload and sampling.
const std::string kHead =
    "name: \"t\"\n"
    "workload { multiboot { kernel: \"${FAULTLINE_GUEST_DIR}/checksum.elf\" } }\n"
    "sampling { samples: 10 seed: 1 }\n";

// A valid group (5 lines).
const std::string kGroup =
    "fault_space {\n"
    "  target { memory { symbol: \"data_buffer\" } }\n"
    "  model { bit_flip {} }\n"
    "  trigger { instructions { start: 0 end: 0 } }\n"
    "}\n";

using faultline::experiments::loader_test::dump;
using faultline::experiments::loader_test::Expect;

std::vector<Diagnostic> errors_of(const std::string& text) {
  return faultline::experiments::loader_test::errors_of(text, kFile, vars());
}

void expect_errors(const std::string& text, const std::vector<Expect>& want) {
  faultline::experiments::loader_test::expect_errors(text, kFile, vars(), want);
}

void expect_error(const std::string& text, int line, int column, const std::string& substr) {
  expect_errors(text, {{line, column, substr}});
}

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("FAULTLINE_GUEST_DIR"); }
  fs::path temp_file(const std::string& name, const std::string& contents) {
    fs::path dir = fs::path(::testing::TempDir()) / ("faultline_loader_test." + std::to_string(::getpid()));
    fs::create_directories(dir);
    fs::path p = dir / name;
    std::ofstream(p, std::ios::binary) << contents;
    return p;
  }
};

// ---- valid files, defaults ------------------------------------------------------

TEST_F(LoaderTest, MinimalFileLoadsWithDefaults) {
  LoadedCampaign c = load_campaign_text(kHead + kGroup, kFile, vars());
  EXPECT_EQ(c.kernel_path, kGuestDir + "/checksum.elf");
  EXPECT_EQ(c.campaign.workload().multiboot().kernel(), c.kernel_path);
  EXPECT_EQ(c.base_dir, fs::path("/nonexistent-dir"));
  EXPECT_EQ(c.text, kHead + kGroup);
  EXPECT_EQ(c.campaign.machine().memory_mib(), 32u);
  EXPECT_EQ(c.campaign.machine().instructions_per_second(), 100'000'000u);
  EXPECT_EQ(c.campaign.checkpoints(), 8u);
  EXPECT_EQ(c.campaign.end().max_instructions(), 2'000'000'000u);
  EXPECT_DOUBLE_EQ(c.campaign.end().timeout_factor(), 2.0);
  EXPECT_EQ(c.campaign.end().timeout_margin(), 100'000u);
  const auto& g = c.campaign.fault_space(0);
  EXPECT_EQ(g.name(), "group1");
  EXPECT_EQ(g.target().memory().width(), 1u);
  EXPECT_EQ(g.model().bit_flip().bits(), 1u);
  EXPECT_TRUE(g.duration().transient());
  EXPECT_EQ(g.trigger().instructions().step(), 1u);
  EXPECT_TRUE(c.warnings.empty()) << dump(c.warnings);
}

TEST_F(LoaderTest, ExplicitValuesAreKept) {
  std::string text = kHead +
                     "machine { memory_mib: 64 }\n"
                     "checkpoints: 3\n"
                     "end { timeout_factor: 1.5 timeout_margin: 0 max_instructions: 5000000 }\n"
                     "fault_space {\n"
                     "  name: \"regs\"\n"
                     "  target { registers { names: [\"gpr\", \"EIP\"] } }\n"
                     "  model { bit_flip { bits: 2 } }\n"
                     "  trigger { pc { symbol: \"compute_checksum\" } }\n"
                     "  duration { intermittent_instructions: 100 }\n"
                     "}\n";
  LoadedCampaign c = load_campaign_text(text, kFile, vars());
  EXPECT_EQ(c.campaign.machine().memory_mib(), 64u);
  EXPECT_EQ(c.campaign.checkpoints(), 3u);
  EXPECT_DOUBLE_EQ(c.campaign.end().timeout_factor(), 1.5);
  EXPECT_EQ(c.campaign.end().timeout_margin(), 0u);  // written 0 stays 0
  EXPECT_EQ(c.campaign.end().max_instructions(), 5'000'000u);
  const auto& g = c.campaign.fault_space(0);
  EXPECT_EQ(g.name(), "regs");
  EXPECT_EQ(g.model().bit_flip().bits(), 2u);
  EXPECT_EQ(g.duration().intermittent_instructions(), 100u);
  EXPECT_EQ(g.trigger().pc().occurrences().start(), 1u);  // default first occurrence
  EXPECT_EQ(g.trigger().pc().occurrences().end(), 2u);
}

TEST_F(LoaderTest, RelativeKernelPathResolvesAgainstTheFile) {
  fs::path dir = fs::path(kGuestDir) / "sub";
  std::string text = "workload { multiboot { kernel: \"../checksum.elf\" } }\n"
                     "sampling { full: true }\n" + kGroup;
  LoadedCampaign c = load_campaign_text(text, dir / "x.textproto");
  EXPECT_EQ(fs::path(c.kernel_path), (fs::path(kGuestDir) / "checksum.elf").lexically_normal());
}

TEST_F(LoaderTest, EnvironmentOverridesVars) {
  ::setenv("FAULTLINE_GUEST_DIR", kGuestDir.c_str(), 1);
  LoadedCampaign c = load_campaign_text(kHead + kGroup, kFile, {{"FAULTLINE_GUEST_DIR", "/nowhere"}});
  EXPECT_EQ(c.kernel_path, kGuestDir + "/checksum.elf");
  ::unsetenv("FAULTLINE_GUEST_DIR");
}

TEST_F(LoaderTest, LoadFromFileAndUnreadableFile) {
  fs::path p = temp_file("ok.textproto", kHead + kGroup);
  LoadedCampaign c = load_campaign(p, vars());
  EXPECT_EQ(c.file, p);
  EXPECT_EQ(c.base_dir, p.parent_path());
  try {
    load_campaign("/nonexistent-dir/missing.textproto");
    FAIL() << "no exception";
  } catch (const CampaignError&) {
    FAIL() << "CampaignError for an unreadable file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/missing.textproto"), std::string::npos) << e.what();
  }
}

TEST_F(LoaderTest, WhatListsEveryDiagnostic) {
  try {
    load_campaign_text("nme: 1\nfoo: 2\n", "f.textproto");
    FAIL() << "no exception";
  } catch (const CampaignError& e) {
    ASSERT_EQ(e.diagnostics.size(), 2u);
    EXPECT_EQ(std::string(e.what()),
              "f.textproto:1:1: error: " + e.diagnostics[0].message + "\n" +
                  "f.textproto:2:1: error: " + e.diagnostics[1].message);
  }
}

// ---- syntax errors ----------------------------------------------------------------

TEST_F(LoaderTest, UnknownField) {
  expect_error(kHead + kGroup + "fault_spaec {\n  name: \"x\"\n}\n", 9, 1, "no field named \"fault_spaec\"");
}

TEST_F(LoaderTest, UnknownNestedField) {
  expect_error(kHead + "machine {\n  memory_mb: 64\n}\n" + kGroup, 5, 3, "no field named \"memory_mb\"");
}

TEST_F(LoaderTest, WrongValueType) {
  expect_error(kHead + "machine { memory_mib: \"big\" }\n" + kGroup, 4, 23, "Expected integer");
}

TEST_F(LoaderTest, BadEnumValue) {
  expect_error(kHead + kGroup + "script { wait_for { pattern: \"x\" source: SERIALL } }\n", 9, 42,
               "Unknown enumeration value of \"SERIALL\"");
}

TEST_F(LoaderTest, MissingClosingBrace) {
  expect_error(kHead + "fault_space {\n  target { memory { symbol: \"data_buffer\" } }\n", 6, 1, "Expected identifier");
}

TEST_F(LoaderTest, FieldSpecifiedTwice) {
  expect_error(kHead + "machine { memory_mib: 64 memory_mib: 32 }\n" + kGroup, 4, 26, "specified multiple times");
}

TEST_F(LoaderTest, SeveralSyntaxErrorsReportedTogether) {
  expect_errors(kHead + "machine {\n  memory_mb: 64\n}\n" + kGroup + "checkpionts: 3\nend { max_instruction: 3 }\n",
                {{5, 3, "no field named \"memory_mb\""},
                 {12, 1, "no field named \"checkpionts\""},
                 {13, 7, "no field named \"max_instruction\""}});
}

// ---- semantic errors ---------------------------------------------------------------

TEST_F(LoaderTest, MissingWorkload) {
  expect_error("sampling { full: true }\n" + kGroup, 1, 1, "workload: missing");
}

// Firmware workloads: the BIOS image and VGA BIOS default to Debian's
// SeaBIOS files (package seabios); bad images are reported at their field.
const std::string kPhysGroup =
    "fault_space {\n  target { memory { physical { start: 0x40 end: 0x70 } } }\n  model { bit_flip {} }\n"
    "  trigger { instructions { start: 0 end: 100 } }\n}\n";

TEST_F(LoaderTest, FirmwareWorkloadLoadsWithDefaults) {
  fs::path disk = temp_file("fw-disk.img", std::string(512, '\0'));
  LoadedCampaign c = load_campaign_text("workload { firmware { disks: \"" + disk.string() + "\" } }\n" +
                                            "sampling { full: true }\n" + kPhysGroup,
                                        kFile, vars());
  EXPECT_EQ(c.kernel_path, "/usr/share/seabios/bios-256k.bin");
  EXPECT_EQ(c.campaign.workload().firmware().vga_bios(), "/usr/share/seabios/vgabios-stdvga.bin");
  EXPECT_EQ(c.campaign.workload().firmware().disks(0), disk.string());
}

TEST_F(LoaderTest, FirmwareBadBiosImageAndMissingDisk) {
  fs::path bios = temp_file("short-bios.bin", std::string(1000, '\0'));
  const std::string line2 = "  firmware { bios: \"" + bios.string() + "\" disks: \"/nonexistent/disk.img\" }";
  const int disks_col = static_cast<int>(line2.find("disks:")) + 1;
  expect_errors("workload {\n" + line2 + "\n}\nsampling { full: true }\n" + kPhysGroup,
                {{2, 14, "is 1000 bytes; a BIOS image is a non-empty multiple of 64 KiB"},
                 {2, disks_col, "/nonexistent/disk.img"}});
}

TEST_F(LoaderTest, FirmwareWorkloadHasNoSymbols) {
  fs::path disk = temp_file("fw-disk.img", std::string(512, '\0'));
  expect_error("workload { firmware { disks: \"" + disk.string() + "\" } }\nsampling { full: true }\n" +
                   "fault_space {\n  target { memory { symbol: \"data_buffer\" } }\n  model { bit_flip {} }\n"
                   "  trigger { instructions { start: 0 end: 100 } }\n}\n",
               4, 21, "a firmware workload has no ELF symbols");
}

TEST_F(LoaderTest, MissingKernelFile) {
  expect_error("workload { multiboot { kernel: \"no_such_kernel.elf\" } }\nsampling { full: true }\n" + kGroup, 1,
               24, "/nonexistent-dir/no_such_kernel.elf: cannot open");
}

TEST_F(LoaderTest, KernelNotElf) {
  fs::path p = temp_file("not_elf.bin", "this is not an ELF file at all, just text\n");
  expect_error("workload { multiboot { kernel: \"" + p.string() + "\" } }\nsampling { full: true }\n" + kGroup, 1,
               24, "not an ELF file");
}

TEST_F(LoaderTest, KernelWrongElfClass) {
  expect_error("workload { multiboot { kernel: \"/proc/self/exe\" } }\nsampling { full: true }\n" + kGroup, 1, 24,
               "not a 32-bit ELF file");
}

TEST_F(LoaderTest, KernelWithoutMultibootHeader) {
  std::ifstream in(kGuestDir + "/checksum.elf", std::ios::binary);
  std::string elf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(elf.size(), 0x100Cu);
  ASSERT_EQ(elf.compare(0x1008, 4, std::string("\x02\xB0\xAD\x1B", 4)), 0);  // header at 0x1008
  elf.replace(0x1008, 4, std::string(4, '\0'));
  fs::path p = temp_file("no_multiboot.elf", elf);
  expect_error("workload { multiboot { kernel: \"" + p.string() + "\" } }\nsampling { full: true }\n" + kGroup, 1,
               24, "not a multiboot kernel");
}

TEST_F(LoaderTest, KernelDoesNotFitInRam) {
  expect_error(kHead + "machine { memory_mib: 1 }\n" + kGroup, 2, 24, "does not fit in 1 MiB of RAM");
}

TEST_F(LoaderTest, MissingModuleFile) {
  expect_error("workload { multiboot {\n"
               "  kernel: \"${FAULTLINE_GUEST_DIR}/checksum.elf\"\n"
               "  modules { path: \"initrd.bin\" }\n"
               "} }\n"
               "sampling { full: true }\n" + kGroup,
               3, 13, "workload.multiboot.modules[0].path: /nonexistent-dir/initrd.bin: no such file");
}

TEST_F(LoaderTest, AccessTriggerProblems) {
  expect_errors(kHead +
                    "fault_space {\n"
                    "  target { memory { symbol: \"data_buffer\" } }\n"
                    "  model { bit_flip {} }\n"
                    "  trigger { memory_access { range { start: 0x100 end: 0x100 } on_read: true } }\n"
                    "}\n"
                    "fault_space {\n"
                    "  target { memory { symbol: \"data_buffer\" } }\n"
                    "  model { bit_flip {} }\n"
                    "  trigger { port { port: 0x10000 } }\n"
                    "}\n",
                {{7, 29, "trigger.memory_access.range: empty range"},
                 {12, 13, "trigger.port: neither on_read nor on_write"},
                 {12, 20, "trigger.port.port: 0x10000 is not an I/O port"}});
}

TEST_F(LoaderTest, UndefinedVariable) {
  std::string text = "workload { multiboot { kernel: \"${NO_SUCH_VAR}/x.elf\" } }\nsampling { full: true }\n" + kGroup;
  expect_error(text, 1, 24, "undefined variable ${NO_SUCH_VAR}");
}

TEST_F(LoaderTest, MemoryMibOutOfRange) {
  expect_error(kHead + "machine { memory_mib: 4096 }\n" + kGroup, 4, 11, "machine.memory_mib: 4096 is out of range (1..3072)");
}

TEST_F(LoaderTest, EmptyFaultSpace) {
  expect_error(kHead, 1, 1, "fault_space: no fault groups");
}

TEST_F(LoaderTest, GroupWithoutTargetModelTrigger) {
  expect_errors(kHead + kGroup + "fault_space {\n  name: \"empty\"\n}\n",
                {{9, 1, "fault_space[1].target: missing"},
                 {9, 1, "fault_space[1].model: missing"},
                 {9, 1, "fault_space[1].trigger: missing"}});
}

TEST_F(LoaderTest, UnknownTargetSymbol) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { symbol: \"data_bufer\" } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "}\n",
               5, 21, "unknown symbol 'data_bufer' in " + kGuestDir + "/checksum.elf (did you mean 'data_buffer'?)");
}

TEST_F(LoaderTest, UnknownPcSymbol) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { registers { names: \"eax\" } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { pc { symbol: \"no_such_function\" } }\n"
                   "}\n",
               7, 18, "fault_space[0].trigger.pc.symbol: unknown symbol 'no_such_function'");
}

TEST_F(LoaderTest, PhysicalRangeBeyondRam) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { physical { start: 0x1ff0000 end: 0x2000100 } } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "}\n",
               5, 21, "is beyond guest RAM of 32 MiB");
}

TEST_F(LoaderTest, PhysicalRangeEmpty) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { physical { start: 0x3000 end: 0x3000 } } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "}\n",
               5, 21, "target.memory.physical: empty range (end 0x3000 <= start 0x3000)");
}

TEST_F(LoaderTest, VirtualRangeBeyond4GiB) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { virtual { start: 0xfffff000 end: 0x100001000 } } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "}\n",
               5, 21, "beyond the 4 GiB virtual address space");
}

TEST_F(LoaderTest, WidthThree) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { symbol: \"data_buffer\" width: 3 } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "}\n",
               5, 43, "target.memory.width: 3 is not 1, 2 or 4");
}

TEST_F(LoaderTest, BadRegisterName) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { registers { names: \"eax\" names: \"rax\" } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "}\n",
               5, 37, "names[1]: unknown register 'rax' (valid: eax ecx edx ebx esp ebp esi edi eip eflags");
}

TEST_F(LoaderTest, TooManyBits) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { symbol: \"data_buffer\" width: 1 } }\n"
                   "  model { bit_flip { bits: 9 } }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "}\n",
               6, 22, "model.bit_flip.bits: 9 bits do not fit a 8-bit target");
}

TEST_F(LoaderTest, ZeroBits) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { symbol: \"data_buffer\" } }\n"
                   "  model { bit_flip { bits: 0 } }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "}\n",
               6, 22, "bits: must be at least 1");
}

TEST_F(LoaderTest, StuckAtNotABit) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { symbol: \"data_buffer\" } }\n"
                   "  model { stuck_at { value: 2 } }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "  duration { permanent: true }\n"
                   "}\n",
               6, 22, "stuck_at.value: 2 is not a bit value (0 or 1)");
}

TEST_F(LoaderTest, SetValueDoesNotFitWidth) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { symbol: \"data_buffer\" width: 2 } }\n"
                   "  model { set_value { value: 0x10000 } }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "}\n",
               6, 23, "set_value.value: 0x10000 does not fit a 16-bit target");
}

TEST_F(LoaderTest, PermanentRegisterFault) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { registers { names: \"gpr\" } }\n"
                   "  model { stuck_at { value: 1 } }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "  duration { permanent: true }\n"
                   "}\n",
               8, 14, "permanent register faults are not supported");
}

TEST_F(LoaderTest, IntermittentWindowZero) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { symbol: \"data_buffer\" } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "  duration { intermittent_instructions: 0 }\n"
                   "}\n",
               8, 14, "window must be at least 1 instruction");
}

TEST_F(LoaderTest, TriggerRangeEndBeforeStart) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { symbol: \"data_buffer\" } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { instructions { start: 1000 end: 500 } }\n"
                   "}\n",
               7, 40, "trigger.instructions: empty range (end 500 <= start 1000");
}

TEST_F(LoaderTest, TriggerStepZero) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { symbol: \"data_buffer\" } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { time_ns { start: 0 end: 1000 step: 0 } }\n"
                   "}\n",
               7, 42, "trigger.time_ns.step: must be at least 1");
}

TEST_F(LoaderTest, OccurrencesStartZero) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { symbol: \"data_buffer\" } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { pc { symbol: \"compute_checksum\" occurrences { start: 0 end: 3 } } }\n"
                   "}\n",
               7, 59, "occurrences.start: occurrences count from 1");
}

TEST_F(LoaderTest, BadRegexInClassification) {
  expect_error(kHead + kGroup + "classification {\n  crash_patterns: \"FAIL\"\n  detected_patterns: \"(unclosed\"\n}\n",
               11, 3, "classification.detected_patterns[0]: invalid regular expression \"(unclosed\"");
}

TEST_F(LoaderTest, BadRegexInEndPatternsAndOutputTrigger) {
  expect_errors(kHead + "end { end_patterns: \"ok\" end_patterns: \"[x\" }\n" +
                    "fault_space {\n"
                    "  target { memory { symbol: \"data_buffer\" } }\n"
                    "  model { bit_flip {} }\n"
                    "  trigger { output { pattern: \"(a\" } }\n"
                    "}\n",
                {{4, 26, "end.end_patterns[1]: invalid regular expression"},
                 {8, 22, "trigger.output.pattern: invalid regular expression"}});
}

TEST_F(LoaderTest, SamplingMissingOrZero) {
  expect_error("workload { multiboot { kernel: \"${FAULTLINE_GUEST_DIR}/checksum.elf\" } }\n" + kGroup, 1, 1,
               "sampling: missing mode");
  expect_error("workload { multiboot { kernel: \"${FAULTLINE_GUEST_DIR}/checksum.elf\" } }\n"
               "sampling { samples: 0 seed: 3 }\n" + kGroup,
               2, 12, "sampling.samples: must be at least 1");
}

TEST_F(LoaderTest, TimeoutFactorBelowOne) {
  expect_error(kHead + "end {\n  timeout_factor: 0.5\n}\n" + kGroup, 5, 3, "end.timeout_factor: 0.5 is less than 1");
}

TEST_F(LoaderTest, TooManyCheckpoints) {
  expect_error(kHead + "checkpoints: 2000\n" + kGroup, 4, 1, "checkpoints: 2000 is out of range (1..1000)");
}

TEST_F(LoaderTest, ExitStatusBothDetectedAndCrash) {
  expect_error(kHead + kGroup + "classification {\n  detected_exit_statuses: 2\n  crash_exit_statuses: [1, 2]\n}\n",
               11, 3, "crash_exit_statuses[1]: exit status 2 is also listed in detected_exit_statuses");
}

TEST_F(LoaderTest, ScriptStepsNeedingDevices) {
  expect_errors(kHead + kGroup +
                    "script { wait_for { pattern: \"login:\" source: SERIAL } }\n"
                    "script { type_keys: \"root\\n\" }\n"
                    "script { serial_input: \"ls\\n\" }\n"
                    "script { expect { pattern: \"ok\" source: SCREEN } }\n",
                {{9, 39, "source: SERIAL needs the PC platform"},
                 {10, 10, "script[1].type_keys: needs the PC platform's keyboard"},
                 {11, 10, "script[2].serial_input: needs the PC platform's COM1"},
                 {12, 33, "source: SCREEN needs the PC platform"}});
}

TEST_F(LoaderTest, ScriptInjectStepWithGroupTrigger) {
  expect_error(kHead + kGroup + "script { wait_for { pattern: \"start\" } }\nscript { inject: true }\n", 7, 3,
               "trigger: not allowed when the script has an `inject` step");
}

TEST_F(LoaderTest, ScriptInjectStepWithoutTriggersIsValid) {
  std::string text = kHead +
                     "fault_space {\n"
                     "  target { memory { symbol: \"data_buffer\" } }\n"
                     "  model { bit_flip {} }\n"
                     "}\n"
                     "script { wait_for { pattern: \"checksum=\" timeout_ns: 1000000 } }\n"
                     "script { inject: true }\n"
                     "script { end: true }\n";
  LoadedCampaign c = load_campaign_text(text, kFile, vars());
  EXPECT_EQ(c.campaign.script_size(), 3);
  EXPECT_FALSE(c.campaign.fault_space(0).has_trigger());
}

// ---- device, disk, serial and irq targets ------------------------------------------

// Stand-in Linux guest files (a minimal bzImage header, an initrd and a
// disk), written once into the test's temporary directory.
fs::path linux_stub_dir() {
  fs::path dir = fs::path(::testing::TempDir()) / ("faultline_loader_linux_stub." + std::to_string(::getpid()));
  if (!fs::exists(dir / "bzImage")) {
    fs::create_directories(dir);
    std::string bz(0x400, '\0');
    bz[0x1FE] = char(0x55);
    bz[0x1FF] = char(0xAA);
    bz.replace(0x202, 4, "HdrS");
    bz[0x206] = 0x0F;
    bz[0x207] = 0x02;
    std::ofstream(dir / "bzImage", std::ios::binary) << bz;
    std::ofstream(dir / "disk.img", std::ios::binary) << std::string(512, '\0');
  }
  return dir;
}

// One group under a 3-line head that provides what the target needs: the
// PC platform (`multiboot { pc: true }`) for device, serial and irq targets,
// a linux workload with a disk for disk targets.
std::string group(const std::string& target, const std::string& model = "  model { bit_flip {} }\n",
                  const std::string& extra = "") {
  std::string head = target.find("disk {") != std::string::npos
                         ? "name: \"t\"\nworkload { linux { kernel: \"" + (linux_stub_dir() / "bzImage").string() +
                               "\" disks: \"" + (linux_stub_dir() / "disk.img").string() +
                               "\" } }\nsampling { samples: 10 seed: 1 }\n"
                         : "name: \"t\"\nworkload { multiboot { kernel: \"${FAULTLINE_GUEST_DIR}/checksum.elf\" pc: "
                           "true } }\nsampling { samples: 10 seed: 1 }\n";
  return head + "fault_space {\n" + target + model + "  trigger { instructions { start: 0 end: 0 } }\n" + extra +
         "}\n";
}

TEST_F(LoaderTest, PlatformTargetsLoad) {
  std::string text =
      "name: \"t\"\nworkload { linux { kernel: \"" + (linux_stub_dir() / "bzImage").string() + "\" disks: \"" +
      (linux_stub_dir() / "disk.img").string() + "\" } }\nsampling { samples: 10 seed: 1 }\n" +
      "fault_space {\n"
      "  target { disk { drive: 1 sectors { start: 10 end: 20 } bytes { start: 4 end: 8 } } }\n"
      "  model { bit_flip {} }\n"
      "  trigger { instructions { start: 0 end: 0 } }\n"
      "}\n"
      "fault_space {\n"
      "  target { disk { sectors { start: 10 end: 20 } kind: DISK_TIMEOUT } }\n"
      "  trigger { instructions { start: 0 end: 0 } }\n"
      "  duration { permanent: true }\n"
      "}\n"
      "fault_space {\n"
      "  target { device { fields: \"pic.master.*\" fields: \"com1.lcr\" fields: \"rtc.cmos[0x10]\" } }\n"
      "  model { stuck_at { value: 1 } }\n"
      "  trigger { instructions { start: 0 end: 0 } }\n"
      "}\n"
      "fault_space {\n"
      "  target { serial { com: 2 direction: SERIAL_RX action: SERIAL_DROP } }\n"
      "  trigger { instructions { start: 0 end: 0 } }\n"
      "}\n"
      "fault_space {\n"
      "  target { irq { lines: 0 lines: 14 kind: IRQ_SPURIOUS } }\n"
      "  trigger { instructions { start: 0 end: 0 } }\n"
      "}\n";
  LoadedCampaign c = load_campaign_text(text, kFile, vars());
  ASSERT_EQ(c.campaign.fault_space_size(), 5);
  EXPECT_EQ(c.campaign.fault_space(0).target().disk().drive(), 1u);
  EXPECT_EQ(c.campaign.fault_space(1).target().disk().kind(), faultline::pb::DISK_TIMEOUT);
  EXPECT_EQ(c.campaign.fault_space(2).target().device().fields_size(), 3);
  EXPECT_FALSE(c.campaign.fault_space(3).has_model());
  EXPECT_EQ(c.campaign.fault_space(4).target().irq().lines_size(), 2);
}

TEST_F(LoaderTest, BadDiskDrive) {
  expect_error(group("  target { disk { drive: 7 sectors { start: 0 end: 100 } } }\n"), 5, 19,
               "fault_space[0].target.disk.drive: 7 is not an IDE drive");
}

TEST_F(LoaderTest, DiskWriteErrorWithModelIsContradictory) {
  expect_error(group("  target { disk { sectors { start: 0 end: 100 } kind: DISK_WRITE_ERROR } }\n"), 6, 3,
               "contradictory: this target (disk DISK_WRITE_ERROR) has no value a model could corrupt");
}

TEST_F(LoaderTest, DiskErrorWithCellOptions) {
  expect_errors(
      group("  target { disk { sectors { start: 0 end: 100 } kind: DISK_READ_ERROR width: 2 "
            "bytes { start: 0 end: 4 } } }\n",
            ""),
      {{5, 71, "only read corruption has cells"}, {5, 80, "only read corruption has byte offsets"}});
}

TEST_F(LoaderTest, DiskBytesOutsideSector) {
  expect_error(group("  target { disk { sectors { start: 0 end: 1 } bytes { start: 500 end: 600 } } }\n"), 5,
               47, "[500, 600) is not a range of at least one 1-byte cell inside a 512-byte sector");
}

TEST_F(LoaderTest, DiskCorruptionNeedsModel) {
  expect_error(group("  target { disk { sectors { start: 0 end: 1 } } }\n", ""), 4, 1, "model: missing");
}

TEST_F(LoaderTest, UnknownDeviceField) {
  expect_error(group("  target { device { fields: \"pic.master.imx\" } }\n"), 5, 21,
               "unknown device field 'pic.master.imx' (fields of pic.master: pic.master.irr pic.master.isr "
               "pic.master.imr");
}

TEST_F(LoaderTest, UnknownDevice) {
  expect_error(group("  target { device { fields: \"floppy.*\" } }\n"), 5, 21, "(devices: pic.master.*");
}

TEST_F(LoaderTest, PermanentDeviceField) {
  expect_error(group("  target { device { fields: \"pit.ch0.count\" } }\n", "  model { bit_flip {} }\n",
                     "  duration { permanent: true }\n"),
               8, 14, "permanent device register faults are not supported");
}

TEST_F(LoaderTest, BadComIndex) {
  expect_error(group("  target { serial { com: 5 } }\n"), 5, 21,
               "fault_space[0].target.serial.com: 5 is not a COM port");
  expect_error(group("  target { serial { direction: SERIAL_TX } }\n"), 5, 12, "0 is not a COM port");
}

TEST_F(LoaderTest, SerialDropWithModelIsContradictory) {
  expect_error(group("  target { serial { com: 1 action: SERIAL_DROP } }\n"), 6, 3,
               "contradictory: this target (serial SERIAL_DROP)");
}

TEST_F(LoaderTest, SerialCorruptionBitsDoNotFit) {
  expect_error(group("  target { serial { com: 1 } }\n", "  model { bit_flip { bits: 9 } }\n"), 6, 22,
               "9 bits do not fit a 8-bit target");
}

TEST_F(LoaderTest, BadIrqLine) {
  expect_error(group("  target { irq { lines: 16 } }\n", ""), 5, 18,
               "fault_space[0].target.irq.lines[0]: 16 is not an ISA interrupt line (0..15)");
}

TEST_F(LoaderTest, IrqWithModelIsContradictory) {
  expect_error(group("  target { irq { lines: 4 } }\n"), 6, 3, "contradictory: this target (irq IRQ_LOST)");
}

TEST_F(LoaderTest, PermanentSpuriousInterrupt) {
  expect_error(
      group("  target { irq { lines: 4 kind: IRQ_SPURIOUS } }\n", "", "  duration { permanent: true }\n"), 7,
      3, "spurious interrupts are transient only");
}

TEST_F(LoaderTest, DiskTargetNeedsALinuxWorkload) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { disk { sectors { start: 0 end: 100 } } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "}\n",
               5, 12, "disk faults need the IDE disks of a linux or firmware workload");
}

TEST_F(LoaderTest, DeviceTargetsNeedThePcPlatform) {
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { device { fields: \"pic.master.imr\" } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { instructions { start: 0 end: 0 } }\n"
                   "}\n",
               5, 3, "device, serial and irq faults need the PC platform");
}

TEST_F(LoaderTest, ManySemanticErrorsReportedTogetherInFileOrder) {
  std::string text = kHead +
                     "machine { memory_mib: 0 }\n"
                     "fault_space {\n"
                     "  target { memory { symbol: \"nope\" width: 8 } }\n"
                     "  model { bit_flip { bits: 40 } }\n"
                     "  trigger { instructions { start: 10 end: 5 } }\n"
                     "  duration { permanent: true }\n"
                     "}\n"
                     "fault_space {\n"
                     "  target { registers { names: \"gpr\" } }\n"
                     "  model { set_value { value: 0x100000000 } }\n"
                     "  trigger { port { port: 0xe9 } }\n"
                     "  duration { permanent: true }\n"
                     "}\n"
                     "checkpoints: 5000\n";
  expect_errors(text, {{4, 11, "machine.memory_mib: 0 is out of range"},
                       {6, 21, "unknown symbol 'nope'"},
                       {6, 36, "width: 8 is not 1, 2 or 4"},
                       {8, 38, "empty range (end 5 <= start 10"},
                       {13, 23, "does not fit a 32-bit target"},
                       {14, 13, "neither on_read nor on_write"},
                       {15, 14, "permanent register faults are not supported"},
                       {17, 1, "checkpoints: 5000 is out of range"}});
}

// ---- the example files ----------------------------------------------------------

TEST_F(LoaderTest, RunnableExamplesLoad) {
  const char* runnable[] = {"memory_bitflips_checksum.textproto", "register_bitflips_sort.textproto",
                            "stuckat_array_sort.textproto"};
  for (const char* name : runnable) {
    SCOPED_TRACE(name);
    try {
      LoadedCampaign c = load_campaign(fs::path(kExamplesDir) / name, vars());
      EXPECT_TRUE(fs::exists(c.kernel_path)) << c.kernel_path;
      EXPECT_GT(c.campaign.fault_space_size(), 0);
      EXPECT_TRUE(c.warnings.empty()) << dump(c.warnings);
    } catch (const CampaignError& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

TEST_F(LoaderTest, EveryExampleIsCovered) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(kExamplesDir))
    if (e.path().extension() == ".textproto") ++n;
  EXPECT_EQ(n, 9u) << "a new example needs a test here";
}

TEST_F(LoaderTest, DeviceFaultExampleLoads) {
  LoadedCampaign c = load_campaign(fs::path(kExamplesDir) / "pc_device_faults_checksum.textproto", vars());
  ASSERT_EQ(c.campaign.fault_space_size(), 5);
  EXPECT_TRUE(c.warnings.empty()) << dump(c.warnings);
  EXPECT_EQ(c.campaign.fault_space(0).target().device().fields(2), "pit.ch0.*");
  EXPECT_TRUE(c.campaign.fault_space(2).target().has_serial());
  EXPECT_EQ(c.campaign.fault_space(4).target().irq().kind(), faultline::pb::IRQ_SPURIOUS);
}

// The Linux examples with stand-in guest files (a minimal bzImage header):
// the scripted shell and the checksum campaign load; the disk corruption
// example is rejected for its disk target only.
TEST_F(LoaderTest, LinuxExamples) {
  std::string bz(0x400, '\0');
  bz[0x1FE] = char(0x55);
  bz[0x1FF] = char(0xAA);
  bz.replace(0x202, 4, "HdrS");
  bz[0x206] = 0x0F;
  bz[0x207] = 0x02;
  fs::path dir = temp_file("bzImage", bz).parent_path();
  temp_file("initramfs.cpio.gz", "x");
  temp_file("disk.img", "x");
  LoaderVars v = vars();
  v["FAULTLINE_LINUX_GUEST_DIR"] = dir.string();
  ::unsetenv("FAULTLINE_LINUX_GUEST_DIR");
  for (const char* name : {"linux_scripted_shell.textproto", "linux_register_flips_checksum.textproto",
                           "linux_keyboard_screen.textproto", "linux_disk_corruption.textproto"}) {
    SCOPED_TRACE(name);
    try {
      LoadedCampaign c = load_campaign(fs::path(kExamplesDir) / name, v);
      EXPECT_EQ(c.kernel_path, (dir / "bzImage").string());
      EXPECT_EQ(c.campaign.workload().linux().initrd(), (dir / "initramfs.cpio.gz").string());
      EXPECT_GT(c.campaign.script_size(), 0);
      EXPECT_TRUE(c.warnings.empty()) << dump(c.warnings);
    } catch (const CampaignError& e) {
      ADD_FAILURE() << e.what();
    }
  }
  try {
    LoadedCampaign c = load_campaign(fs::path(kExamplesDir) / "firmware_ivt_flips.textproto", v);
    EXPECT_EQ(c.kernel_path, "/usr/share/seabios/bios-256k.bin");
    EXPECT_EQ(c.campaign.workload().firmware().disks(0), (dir / "disk.img").string());
  } catch (const CampaignError& e) {
    ADD_FAILURE() << e.what();
  }
}

}  // namespace

namespace {

TEST_F(LoaderTest, MissingClosingBraceMidFile) {
  // `machine {` is never closed: the parser takes the following fields as
  // fields of MachineConfig; the first error names the first of them.
  std::vector<Diagnostic> d = errors_of(kHead + "machine {\n  memory_mib: 64\n" + kGroup);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d[0].line, 6);
  EXPECT_EQ(d[0].column, 1);
  EXPECT_NE(d[0].message.find("MachineConfig\" has no field named \"fault_space\""), std::string::npos) << dump(d);
  ASSERT_EQ(d.size(), 2u) << dump(d);
  EXPECT_EQ(d[1].line, 11);
  EXPECT_NE(d[1].message.find("end of file (a closing \"}\" is missing?)"), std::string::npos) << dump(d);
}

TEST_F(LoaderTest, MissingClosingBraceAtEndMentionsIt) {
  expect_error(kHead + "fault_space {\n", 5, 1, "Expected identifier, got: end of file (a closing \"}\" is missing?)");
}

TEST_F(LoaderTest, DuplicateGroupNames) {
  std::string g = "fault_space {\n  name: \"a\"\n" + kGroup.substr(kGroup.find('\n') + 1);
  expect_error(kHead + g + g, 11, 3, "fault_space[1].name: duplicate group name \"a\"");
}

TEST_F(LoaderTest, FullFalseAndExitStatusZero) {
  expect_errors("workload { multiboot { kernel: \"${FAULTLINE_GUEST_DIR}/checksum.elf\" } }\n"
                "sampling { full: false }\n" + kGroup +
                "classification { detected_exit_statuses: 0 }\n",
                {{2, 12, "sampling.full: `full: false` selects nothing"},
                 {8, 18, "detected_exit_statuses[0]: exit status 0 is a pass"}});
}

TEST_F(LoaderTest, ScriptStepProblems) {
  expect_errors(kHead + kGroup +
                    "script { wait_for { pattern: \"\" } }\n"
                    "script { end: true }\n"
                    "script { wait_ns: 0 }\n"
                    "script { }\n",
                {{9, 21, "script[0].wait_for.pattern: empty pattern"},
                 {11, 1, "script[2]: step after an `end` step is never run"},
                 {11, 10, "script[2].wait_ns: must be at least 1"},
                 {12, 1, "script[3]: empty step"}});
}

TEST_F(LoaderTest, TwoInjectSteps) {
  std::string text = kHead +
                     "fault_space {\n"
                     "  target { memory { symbol: \"data_buffer\" } }\n"
                     "  model { bit_flip {} }\n"
                     "}\n"
                     "script { inject: true }\n"
                     "script { inject: true }\n";
  expect_error(text, 9, 10, "script[1].inject: more than one inject step");
}

TEST_F(LoaderTest, PatternMatchingEverythingIsAWarning) {
  LoadedCampaign c = load_campaign_text(kHead + kGroup + "classification { crash_patterns: \".*\" }\n", kFile, vars());
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0].line, 9);
  EXPECT_EQ(c.warnings[0].column, 18);
  EXPECT_NE(c.warnings[0].message.find("matches the empty string"), std::string::npos);
}

TEST_F(LoaderTest, ExpandVars) {
  using faultline::experiments::expand_vars;
  EXPECT_EQ(expand_vars("${A}/x/${B}$C$", {{"A", "1"}, {"B", "2"}}), "1/x/2$C$");
  EXPECT_THROW(expand_vars("${A", {{"A", "1"}}), std::runtime_error);
  EXPECT_THROW(expand_vars("${UNDEFINED_FAULTLINE_TEST_VAR}", {}), std::runtime_error);
}

}  // namespace

TEST_F(LoaderTest, GroupBitMaskIsChecked) {
  // Loads: two bits of a 2-byte cell, stuck-at.
  load_campaign_text(kHead +
                         "fault_space {\n"
                         "  target { memory { physical { start: 4096 end: 4098 } width: 2 } }\n"
                         "  model { stuck_at { value: 1 } }\n"
                         "  trigger { instructions { start: 0 end: 10 } }\n"
                   "  bit_mask: 0x8001\n"
                         "}\n",
                     kFile, vars());
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { physical { start: 4096 end: 4098 } } }\n"
                   "  model { bit_flip {} }\n"
                   "  trigger { instructions { start: 0 end: 10 } }\n"
                   "  bit_mask: 0x100\n"
                   "}\n",
               8, 3, "0x100 does not fit a 8-bit target");
  expect_error(kHead +
                   "fault_space {\n"
                   "  target { memory { physical { start: 4096 end: 4098 } } }\n"
                   "  model { bit_flip { bits: 2 } }\n"
                   "  trigger { instructions { start: 0 end: 10 } }\n"
                   "  bit_mask: 0x1\n"
                   "}\n",
               6, 22, "contradicts bit_mask 0x1");
  expect_error(group("  target { irq { lines: 3 } }\n", "", "  bit_mask: 0x1\n"), 7, 3, "has no value to mask");
}
