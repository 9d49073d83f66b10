// FaultInjector: triggers, models and durations on small hand-placed
// programs in flat 32-bit protected mode, plus an end-to-end run of the
// checksum guest kernel.
#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <vector>

#include "core/boot/multiboot.h"
#include "core/machine.h"
#include "faults/fault_space.h"
#include "faults/injector.h"

namespace faultline::faults {
namespace {

constexpr uint32_t kCode = 0x10000;
constexpr uint32_t kData = 0x20000;

class InjectorTest : public ::testing::Test {
 protected:
  InjectorTest() : m_(MachineConfig{}) { flat32(); }

  void flat32() {
    Cpu& c = m_.cpu();
    c.s.cr0 = CR0_PE | CR0_ET | CR0_NE;
    SegmentCache code;
    code.selector = 0x08;
    code.limit = 0xFFFFFFFFu;
    code.attr = SEG_P | SEG_S | SEG_CODE | SEG_RW | SEG_ACCESSED | SEG_DB | SEG_G;
    code.valid = true;
    SegmentCache data = code;
    data.selector = 0x10;
    data.attr = SEG_P | SEG_S | SEG_RW | SEG_ACCESSED | SEG_DB | SEG_G;
    c.s.seg[CS] = code;
    for (unsigned s : {ES, SS, DS, FS, GS}) c.s.seg[s] = data;
    c.s.cpl = 0;
    c.s.eip = kCode;
    c.s.gpr[ESP] = 0x80000;
    c.refresh_segments();
    c.flush_tlb(true);
  }
  void code(std::initializer_list<uint8_t> bytes) {
    std::vector<uint8_t> v(bytes);
    m_.cpu().write_phys(kCode, v.data(), v.size());
  }
  uint8_t peek8(uint32_t a) {
    uint8_t v;
    m_.cpu().read_phys(a, &v, 1);
    return v;
  }
  uint32_t peek32(uint32_t a) {
    uint32_t v;
    m_.cpu().read_phys(a, &v, 4);
    return v;
  }
  void poke8(uint32_t a, uint8_t v) { m_.cpu().write_phys(a, &v, 1); }
  // Runs until the tick counter reaches `tick`.
  void run_to(uint64_t tick) {
    ASSERT_LE(m_.cpu().ticks(), tick);
    m_.run(tick - m_.cpu().ticks());
  }

  static pb::Fault phys_flip(uint32_t addr, uint64_t mask) {
    pb::Fault f;
    f.set_physical_address(addr);
    f.set_width(1);
    f.set_bit_mask(mask);
    f.mutable_model()->mutable_bit_flip()->set_bits(1);
    return f;
  }
  static pb::Fault reg_flip(const char* name, uint64_t mask) {
    pb::Fault f;
    f.set_register_name(name);
    f.set_bit_mask(mask);
    f.mutable_model()->mutable_bit_flip()->set_bits(1);
    return f;
  }
  void nops_then_load() {
    // 10 NOPs, then `mov al, [kData]` as the 11th instruction, then jmp $.
    std::vector<uint8_t> v(10, 0x90);
    for (uint8_t b : {0xA0, 0x00, 0x00, 0x02, 0x00, 0xEB, 0xFE}) v.push_back(b);
    m_.cpu().write_phys(kCode, v.data(), v.size());
  }

  Machine m_;
};

TEST_F(InjectorTest, MemoryFlipAtInstructionChangesExactlyTheMaskAtThatCount) {
  nops_then_load();
  poke8(kData, 0xA5);
  FaultInjector inj(m_, nullptr);
  pb::Fault f = phys_flip(kData, 0x12);
  f.mutable_trigger()->set_instruction(10);
  inj.arm(f);
  run_to(9);
  EXPECT_FALSE(inj.record().injected);
  EXPECT_EQ(peek8(kData), 0xA5);
  run_to(12);
  ASSERT_TRUE(inj.record().injected);
  EXPECT_EQ(inj.record().at_instruction, 10u);
  EXPECT_EQ(peek8(kData), 0xA5 ^ 0x12);
  // The load at tick 10 (the 11th instruction) saw the flipped byte.
  EXPECT_EQ(m_.cpu().s.gpr[EAX] & 0xFF, 0xA5u ^ 0x12);
  EXPECT_EQ(inj.record().detail, "phys 0x20000 byte 0xa5->0xb7");
  EXPECT_EQ(m_.clock().pending(), 0u);
}

TEST_F(InjectorTest, InstructionTriggerOneLaterMissesTheLoad) {
  nops_then_load();
  poke8(kData, 0xA5);
  FaultInjector inj(m_, nullptr);
  pb::Fault f = phys_flip(kData, 0x01);
  f.mutable_trigger()->set_instruction(11);
  inj.arm(f);
  run_to(14);
  EXPECT_TRUE(inj.record().injected);
  EXPECT_EQ(inj.record().at_instruction, 11u);
  EXPECT_EQ(m_.cpu().s.gpr[EAX] & 0xFF, 0xA5u);
  EXPECT_EQ(peek8(kData), 0xA4);
}

TEST_F(InjectorTest, TimeTriggerUsesTheClockRate) {
  nops_then_load();
  FaultInjector inj(m_, nullptr);
  pb::Fault f = reg_flip("ebp", 0x4);
  f.mutable_trigger()->set_time_ns(50);  // 100 M instructions/s: tick 5
  m_.cpu().s.gpr[EBP] = 0;
  inj.arm(f);
  run_to(4);
  EXPECT_FALSE(inj.record().injected);
  run_to(8);
  ASSERT_TRUE(inj.record().injected);
  EXPECT_EQ(inj.record().at_instruction, 5u);
  EXPECT_EQ(inj.record().at_time_ns, 50u);
  EXPECT_EQ(m_.cpu().s.gpr[EBP], 4u);
}

TEST_F(InjectorTest, MemoryReadTriggerIgnoresWrites) {
  // mov [kData], eax; mov eax, [kData]; mov [kData], eax; mov eax, [kData]; jmp $
  code({0xA3, 0x00, 0x00, 0x02, 0x00, 0xA1, 0x00, 0x00, 0x02, 0x00,
        0xA3, 0x00, 0x00, 0x02, 0x00, 0xA1, 0x00, 0x00, 0x02, 0x00, 0xEB, 0xFE});
  FaultInjector inj(m_, nullptr);
  pb::Fault f = reg_flip("esi", 0x1);
  m_.cpu().s.gpr[ESI] = 0;
  auto* ap = f.mutable_trigger()->mutable_memory_access();
  ap->set_start(kData + 3);
  ap->set_end(kData + 4);
  ap->set_on_read(true);
  ap->set_occurrence(2);
  inj.arm(f);
  run_to(10);
  ASSERT_TRUE(inj.record().injected);
  EXPECT_EQ(inj.record().at_instruction, 4u);  // after the second read (tick 3)
  EXPECT_EQ(m_.cpu().s.gpr[ESI], 1u);
}

TEST_F(InjectorTest, PastInstructionTriggerFiresAtArming) {
  nops_then_load();
  run_to(5);
  FaultInjector inj(m_, nullptr);
  pb::Fault f = reg_flip("esi", 1u << 31);
  f.mutable_trigger()->set_instruction(3);
  inj.arm(f);
  EXPECT_TRUE(inj.record().injected);
  EXPECT_EQ(inj.record().at_instruction, 5u);
  EXPECT_EQ(m_.cpu().s.gpr[ESI], 0x80000000u);
}

TEST_F(InjectorTest, RegisterFlipAtThirdPcArrival) {
  // loop: inc ecx; cmp ecx, 5; jne loop; jmp $
  code({0x41, 0x83, 0xF9, 0x05, 0x75, 0xFA, 0xEB, 0xFE});
  FaultInjector inj(m_, nullptr);
  pb::Fault f = reg_flip("eax", 0x100);
  f.mutable_trigger()->mutable_pc()->set_address(kCode);
  f.mutable_trigger()->mutable_pc()->set_occurrence(3);
  inj.arm(f);
  EXPECT_EQ(m_.cpu().pc_breakpoints.size(), 1u);
  run_to(5);
  EXPECT_FALSE(inj.record().injected);
  EXPECT_TRUE(inj.waiting());
  run_to(40);
  ASSERT_TRUE(inj.record().injected);
  EXPECT_FALSE(inj.waiting());
  // Arrivals at the loop head are at ticks 0, 3 and 6.
  EXPECT_EQ(inj.record().at_instruction, 6u);
  EXPECT_EQ(m_.cpu().s.gpr[EAX], 0x100u);
  EXPECT_EQ(m_.cpu().s.gpr[ECX], 5u);
  EXPECT_TRUE(m_.cpu().pc_breakpoints.empty());
  // The hook slot stays chained until disarm (injectors armed later may
  // chain behind it); disarm gives it back.
  EXPECT_NE(m_.cpu().on_pc, nullptr);
  EXPECT_EQ(inj.record().detail, "eax 0x00000000->0x00000100");
  EXPECT_EQ(inj.record().value, 0x100u);
  inj.disarm();
  EXPECT_EQ(m_.cpu().on_pc, nullptr);
}

TEST_F(InjectorTest, PermanentStuckAtOneSurvivesGuestWrite) {
  // mov byte [kData], 0; mov al, [kData]; mov dword [kData], 0; jmp $
  code({0xC6, 0x05, 0x00, 0x00, 0x02, 0x00, 0x00, 0xA0, 0x00, 0x00, 0x02, 0x00,
        0xC7, 0x05, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xEB, 0xFE});
  poke8(kData, 0x00);
  FaultInjector inj(m_, nullptr);
  pb::Fault f = phys_flip(kData, 0x04);
  f.mutable_model()->mutable_stuck_at()->set_value(1);
  f.mutable_duration()->set_permanent(true);
  inj.arm(f);  // no trigger: now
  ASSERT_TRUE(inj.record().injected);
  EXPECT_EQ(peek8(kData), 0x04);
  run_to(2);
  EXPECT_EQ(m_.cpu().s.gpr[EAX] & 0xFF, 0x04u);  // the guest wrote 0 and read back the stuck bit
  run_to(4);
  EXPECT_EQ(peek32(kData), 0x04u);  // a wider write over the cell too
  EXPECT_FALSE(m_.cpu().phys_watches.empty());
  inj.disarm();
  EXPECT_TRUE(m_.cpu().phys_watches.empty());
  EXPECT_EQ(m_.cpu().on_watch, nullptr);
}

TEST_F(InjectorTest, PermanentBitFlipKeepsTheCorruptedValue) {
  // mov byte [kData], 0x8E; jmp $
  code({0xC6, 0x05, 0x00, 0x00, 0x02, 0x00, 0x8E, 0xEB, 0xFE});
  poke8(kData, 0xF0);
  FaultInjector inj(m_, nullptr);
  pb::Fault f = phys_flip(kData, 0x81);
  f.mutable_duration()->set_permanent(true);
  inj.arm(f);
  EXPECT_EQ(peek8(kData), 0x71);
  run_to(3);
  // The flip of 0xF0 left bit 7 = 0 and bit 0 = 1; they stay so after the
  // guest writes 0x8E.
  EXPECT_EQ(peek8(kData), 0x0F);
}

TEST_F(InjectorTest, IntermittentRestoresAfterTheWindow) {
  std::vector<uint8_t> nops(64, 0x90);
  m_.cpu().write_phys(kCode, nops.data(), nops.size());
  poke8(kData, 0x00);
  FaultInjector inj(m_, nullptr);
  pb::Fault f = phys_flip(kData, 0x01);
  f.mutable_trigger()->set_instruction(2);
  f.mutable_duration()->set_intermittent_instructions(5);
  inj.arm(f);
  run_to(3);
  EXPECT_EQ(peek8(kData), 0x01);
  run_to(6);
  EXPECT_EQ(peek8(kData), 0x01);
  run_to(9);
  EXPECT_EQ(peek8(kData), 0x00);
  EXPECT_NE(inj.record().detail.find("restored at tick 7"), std::string::npos) << inj.record().detail;
  EXPECT_TRUE(m_.cpu().phys_watches.empty());

  // A register window: ebx bit 4 set for 3 instructions.
  pb::Fault r = reg_flip("ebx", 0x10);
  r.mutable_trigger()->set_instruction(12);
  r.mutable_duration()->set_intermittent_instructions(3);
  inj.arm(r);
  run_to(13);
  EXPECT_EQ(m_.cpu().s.gpr[EBX], 0x10u);
  run_to(16);
  EXPECT_EQ(m_.cpu().s.gpr[EBX], 0x0u);
}

TEST_F(InjectorTest, MemoryAccessTriggerFiresAfterTheNthWrite) {
  // loop: mov [kData], ecx; inc ecx; jmp loop
  code({0x89, 0x0D, 0x00, 0x00, 0x02, 0x00, 0x41, 0xEB, 0xF7});
  FaultInjector inj(m_, nullptr);
  pb::Fault f = phys_flip(kData + 1, 0x01);
  auto* ap = f.mutable_trigger()->mutable_memory_access();
  ap->set_start(kData);
  ap->set_end(kData + 4);
  ap->set_on_write(true);
  ap->set_occurrence(3);
  inj.arm(f);
  EXPECT_EQ(m_.cpu().phys_watches.size(), 1u);
  run_to(6);
  EXPECT_FALSE(inj.record().injected);
  run_to(8);
  ASSERT_TRUE(inj.record().injected);
  // The third write (ecx = 2) is the instruction at tick 6; injection follows it.
  EXPECT_EQ(inj.record().at_instruction, 7u);
  EXPECT_EQ(peek32(kData), 0x102u);
  EXPECT_TRUE(m_.cpu().phys_watches.empty());
  inj.disarm();
  EXPECT_EQ(m_.cpu().on_watch, nullptr);
}

TEST_F(InjectorTest, PortTriggerFiresOnTheNthAccess) {
  // out 0x80, al (x3); in al, 0x80; jmp $
  code({0xE6, 0x80, 0xE6, 0x81, 0xE6, 0x80, 0xE4, 0x80, 0xEB, 0xFE});
  m_.cpu().s.gpr[EDX] = 0;
  FaultInjector inj(m_, nullptr);
  pb::Fault f = reg_flip("edx", 0x2);
  auto* ap = f.mutable_trigger()->mutable_port();
  ap->set_start(0x80);
  ap->set_on_write(true);
  ap->set_occurrence(2);
  inj.arm(f);
  EXPECT_TRUE(static_cast<bool>(m_.bus().io_observer));
  run_to(10);
  ASSERT_TRUE(inj.record().injected);
  EXPECT_EQ(inj.record().at_instruction, 3u);  // after the out at tick 2 (0x81 does not count)
  EXPECT_EQ(m_.cpu().s.gpr[EDX], 2u);
  inj.disarm();
  EXPECT_FALSE(static_cast<bool>(m_.bus().io_observer));
}

TEST_F(InjectorTest, OutputTriggerMatchesTheNthOccurrence) {
  // For each of "ab ab": mov al, c; out 0xE9, al. Then jmp $.
  std::vector<uint8_t> v;
  for (char ch : std::string("ab ab")) {
    v.insert(v.end(), {0xB0, static_cast<uint8_t>(ch), 0xE6, 0xE9});
  }
  v.insert(v.end(), {0xEB, 0xFE});
  m_.cpu().write_phys(kCode, v.data(), v.size());
  FaultInjector inj(m_, nullptr);
  pb::Fault f = reg_flip("edi", 0x1);
  f.mutable_trigger()->mutable_output()->set_pattern("a[b]");
  f.mutable_trigger()->mutable_output()->set_occurrence(2);
  inj.arm(f);
  run_to(30);
  EXPECT_EQ(m_.console_output(), "ab ab");
  ASSERT_TRUE(inj.record().injected);
  EXPECT_EQ(inj.record().at_instruction, 10u);  // after the 5th character's out (tick 9)
  EXPECT_EQ(m_.cpu().s.gpr[EDI], 1u);
}

TEST_F(InjectorTest, OutputTriggerAfterLongOutput) {
  code({0x90, 0x90, 0xEB, 0xFE});
  FaultInjector inj(m_, nullptr);
  pb::Fault f = reg_flip("edi", 0x4);
  m_.cpu().s.gpr[EDI] = 0;
  f.mutable_trigger()->mutable_output()->set_pattern("^need+le$");
  inj.arm(f);
  for (int i = 0; i < 5000; ++i) m_.bus().io_write(0xE9, 1, i % 80 == 79 ? '\n' : 'x');
  for (char ch : std::string("\nneedle\n")) m_.bus().io_write(0xE9, 1, static_cast<uint8_t>(ch));
  EXPECT_FALSE(inj.record().injected);  // at the next instruction boundary
  run_to(1);
  ASSERT_TRUE(inj.record().injected);
  EXPECT_EQ(inj.record().at_instruction, 0u);
  EXPECT_EQ(m_.cpu().s.gpr[EDI], 4u);
}

TEST_F(InjectorTest, OutputPatternAcrossLines) {
  code({0x90, 0x90, 0xEB, 0xFE});
  FaultInjector inj(m_, nullptr);
  pb::Fault f = reg_flip("edi", 0x8);
  m_.cpu().s.gpr[EDI] = 0;
  f.mutable_trigger()->mutable_output()->set_pattern("one\\ntwo");
  f.mutable_trigger()->mutable_output()->set_occurrence(2);
  inj.arm(f);
  for (char ch : std::string("one\ntwo one\ntwo\n")) m_.bus().io_write(0xE9, 1, static_cast<uint8_t>(ch));
  run_to(1);
  ASSERT_TRUE(inj.record().injected);
  EXPECT_EQ(m_.cpu().s.gpr[EDI], 8u);
}

TEST_F(InjectorTest, TwoInjectorsChainAndComeOffInReverseOrder) {
  // loop: inc ecx; cmp ecx, 5; jne loop; jmp $
  code({0x41, 0x83, 0xF9, 0x05, 0x75, 0xFA, 0xEB, 0xFE});
  m_.cpu().s.gpr[EAX] = 0;
  m_.cpu().s.gpr[EDX] = 0;
  FaultInjector first(m_, nullptr), second(m_, nullptr);
  // `first` fires at the 2nd arrival at the loop head, `second` (chained
  // behind it) at the 4th: the first firing must not cut the second's link.
  pb::Fault a = reg_flip("eax", 0x1);
  a.mutable_trigger()->mutable_pc()->set_address(kCode);
  a.mutable_trigger()->mutable_pc()->set_occurrence(2);
  first.arm(a);
  pb::Fault b = reg_flip("edx", 0x10);
  b.mutable_trigger()->mutable_pc()->set_address(kCode);
  b.mutable_trigger()->mutable_pc()->set_occurrence(4);
  second.arm(b);
  run_to(40);
  ASSERT_TRUE(first.record().injected);
  ASSERT_TRUE(second.record().injected);
  EXPECT_EQ(first.record().at_instruction, 3u);
  EXPECT_EQ(second.record().at_instruction, 9u);
  EXPECT_EQ(m_.cpu().s.gpr[EAX], 1u);
  EXPECT_EQ(m_.cpu().s.gpr[EDX], 0x10u);
  second.disarm();
  EXPECT_NE(m_.cpu().on_pc, nullptr);  // first's link
  first.disarm();
  EXPECT_EQ(m_.cpu().on_pc, nullptr);
  EXPECT_TRUE(m_.cpu().pc_breakpoints.empty());
}

TEST_F(InjectorTest, DisarmRemovesEveryHook) {
  code({0xEB, 0xFE});
  {
    FaultInjector inj(m_, nullptr);
    pb::Fault f = reg_flip("eax", 1);
    f.mutable_trigger()->mutable_pc()->set_address(0x12345);
    inj.arm(f);
    EXPECT_EQ(m_.cpu().pc_breakpoints.size(), 1u);
    EXPECT_NE(m_.cpu().on_pc, nullptr);
    inj.disarm();
    EXPECT_TRUE(m_.cpu().pc_breakpoints.empty());
    EXPECT_EQ(m_.cpu().on_pc, nullptr);

    f.mutable_trigger()->mutable_port()->set_start(0x60);
    inj.arm(f);
    EXPECT_TRUE(static_cast<bool>(m_.bus().io_observer));
    inj.disarm();
    EXPECT_FALSE(static_cast<bool>(m_.bus().io_observer));

    f.mutable_trigger()->set_instruction(1000);
    inj.arm(f);
    EXPECT_EQ(m_.clock().pending(), 1u);
    inj.disarm();
    EXPECT_EQ(m_.clock().pending(), 0u);

    auto* ap = f.mutable_trigger()->mutable_memory_access();
    ap->set_start(kData);
    ap->set_end(kData + 1);
    inj.arm(f);
    EXPECT_EQ(m_.cpu().phys_watches.size(), 1u);
    // Re-arming replaces the previous fault's hooks.
    f.mutable_trigger()->mutable_output()->set_pattern("x");
    inj.arm(f);
    EXPECT_TRUE(m_.cpu().phys_watches.empty());
    EXPECT_EQ(m_.cpu().on_watch, nullptr);
    // The destructor removes what is still armed.
    f.mutable_trigger()->mutable_pc()->set_address(0x12345);
    inj.arm(f);
  }
  EXPECT_TRUE(m_.cpu().pc_breakpoints.empty());
  EXPECT_EQ(m_.cpu().on_pc, nullptr);
  EXPECT_EQ(m_.clock().pending(), 0u);
  // Nothing armed: nothing runs.
  EXPECT_EQ(m_.run(100).outcome, RunOutcome::InstructionLimit);
}

TEST_F(InjectorTest, ModelsAndRegisters) {
  FaultInjector inj(m_, nullptr);
  // set_value on a 4-byte cell.
  pb::Fault s;
  s.set_physical_address(kData);
  s.set_width(4);
  s.mutable_model()->mutable_set_value()->set_value(0x1122334455ull);  // masked to 32 bits
  inj.inject_now(s);
  EXPECT_EQ(peek32(kData), 0x22334455u);
  EXPECT_EQ(inj.record().detail, "phys 0x20000 dword 0x00000000->0x22334455");
  // random_value: deterministic for a seed.
  pb::Fault r = s;
  r.mutable_model()->mutable_random_value();
  r.set_random_seed(7);
  inj.inject_now(r);
  uint32_t v1 = peek32(kData);
  inj.inject_now(r);
  EXPECT_EQ(peek32(kData), v1);
  // stuck-at-0 on eflags IF.
  m_.cpu().s.eflags_bits |= FLAG_IF;
  pb::Fault fl = reg_flip("eflags", FLAG_IF);
  fl.mutable_model()->mutable_stuck_at()->set_value(0);
  inj.inject_now(fl);
  EXPECT_EQ(m_.cpu().eflags() & FLAG_IF, 0u);
  // A selector flip leaves the descriptor cache alone.
  uint32_t base = m_.cpu().s.seg[DS].base;
  inj.inject_now(reg_flip("ds", 0x8));
  EXPECT_EQ(m_.cpu().s.seg[DS].selector, 0x18);
  EXPECT_EQ(m_.cpu().s.seg[DS].base, base);
  // st0 is stack-relative: TOP = 6 -> physical register 6; the mask hits the significand.
  m_.cpu().s.fpu.status = static_cast<uint16_t>(6 << 11);
  m_.cpu().s.fpu.st[6] = 1.0L;
  inj.inject_now(reg_flip("st0", 1ull << 62));
  EXPECT_EQ(m_.cpu().s.fpu.st[6], 1.5L);
  // cr0: written directly, no #GP checks.
  inj.inject_now(reg_flip("cr0", CR0_AM));
  EXPECT_TRUE(m_.cpu().s.cr0 & CR0_AM);
  // Rejected faults.
  pb::Fault perm = reg_flip("eax", 1);
  perm.mutable_duration()->set_permanent(true);
  try {
    inj.arm(perm);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("permanent register faults are not supported"), std::string::npos);
  }
  EXPECT_THROW(inj.arm(reg_flip("xmm0", 1)), std::invalid_argument);
  EXPECT_THROW(inj.arm(reg_flip("ds", 1u << 16)), std::invalid_argument);
  EXPECT_THROW(inj.arm(phys_flip(kData, 0)), std::invalid_argument);
  EXPECT_THROW(inj.arm(phys_flip(kData, 0x100)), std::invalid_argument);
  EXPECT_THROW(inj.arm(phys_flip(64u << 20, 1)), std::invalid_argument);
  pb::Fault badre = reg_flip("eax", 1);
  badre.mutable_trigger()->mutable_output()->set_pattern("(");
  EXPECT_THROW(inj.arm(badre), std::invalid_argument);
}

TEST_F(InjectorTest, VirtualAddressesTranslateAtInjection) {
  // Page directory at 0x300000 with one table mapping 0x400000.. to 0x20000..
  auto poke32 = [&](uint32_t a, uint32_t v) { m_.cpu().write_phys(a, &v, 4); };
  for (uint32_t a = 0x300000; a < 0x302000; a += 4) poke32(a, 0);
  poke32(0x300000 + 4 * 1, 0x301000 | 3);       // PDE for 0x400000
  poke32(0x301000 + 4 * 0, kData | 3);          // PTE: 0x400000 -> kData
  m_.cpu().s.cr3 = 0x300000;
  m_.cpu().s.cr0 |= CR0_PG;
  m_.cpu().flush_tlb(true);
  poke8(kData + 5, 0x10);
  FaultInjector inj(m_, nullptr);
  pb::Fault f;
  f.set_virtual_address(0x400005);
  f.set_bit_mask(0x01);
  f.mutable_model()->mutable_bit_flip();
  inj.inject_now(f);
  EXPECT_TRUE(inj.record().injected);
  EXPECT_EQ(peek8(kData + 5), 0x11);
  EXPECT_EQ(inj.record().detail, "virt 0x400005 (phys 0x20005) byte 0x10->0x11");
  f.set_virtual_address(0x800000);
  inj.inject_now(f);
  EXPECT_FALSE(inj.record().injected);
  EXPECT_EQ(inj.record().detail, "virtual address not mapped");
}

// End to end: the checksum kernel prints a wrong checksum when a bit of
// data_buffer flips after fill_buffer filled it.
TEST(InjectorGuest, ChecksumKernelSeesAFlipInDataBuffer) {
  const std::string kernel = std::string(FAULTLINE_GUEST_DIR) + "/checksum.elf";
  {
    Machine golden(MachineConfig{});
    MultibootOptions mb;
    mb.kernel_path = kernel;
    multiboot_load(golden, mb);
    RunResult r = golden.run(200'000'000);
    ASSERT_EQ(r.outcome, RunOutcome::Exited);
    EXPECT_EQ(r.exit_status, 0u);
    EXPECT_NE(golden.console_output().find("checksum=0xd660364e"), std::string::npos) << golden.console_output();
  }
  Machine m(MachineConfig{});
  MultibootOptions mb;
  mb.kernel_path = kernel;
  ElfImage img = multiboot_load(m, mb);
  auto buf = img.symbols.find("data_buffer");
  auto fn = img.symbols.find("compute_checksum");
  ASSERT_TRUE(buf && fn);
  // The fault comes out of a fault space over the kernel's symbols.
  pb::Campaign c;
  pb::FaultGroup* g = c.add_fault_space();
  g->set_name("data");
  g->mutable_target()->mutable_memory()->set_symbol("data_buffer");
  g->mutable_model()->mutable_bit_flip()->set_bits(1);
  g->mutable_trigger()->mutable_pc()->set_symbol("compute_checksum");
  GoldenInfo gi;
  gi.symbols = &img.symbols;
  gi.ram_bytes = m.memory().size();
  FaultSpace fs(c, gi);
  ASSERT_EQ(fs.size(), uint64_t(buf->size) * 8);
  pb::Fault f = fs.at(100 * 8 + 3);
  EXPECT_EQ(f.virtual_address(), buf->value + 100u);
  EXPECT_EQ(f.bit_mask(), 0x08u);
  EXPECT_EQ(f.trigger().pc().address(), fn->value);
  FaultInjector inj(m, &img.symbols);
  inj.arm(f);
  RunResult r = m.run(200'000'000);
  ASSERT_EQ(r.outcome, RunOutcome::Exited);
  ASSERT_TRUE(inj.record().injected);
  EXPECT_EQ(r.exit_status, 1u);
  EXPECT_NE(m.console_output().find("checksum mismatch"), std::string::npos) << m.console_output();
  EXPECT_EQ(m.console_output().find("checksum=0xd660364e"), std::string::npos);
}

}  // namespace
}  // namespace faultline::faults
