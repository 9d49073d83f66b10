// Protected-mode and system instructions: segment loads, interrupt delivery,
// far transfers through gates, task switches, v86 mode and the I/O bitmap.
// Expected values follow the Intel SDM vol. 2 pseudo-code and vol. 3
// chapters 5-7 (error codes, stack frames, busy bits, back links).
#include "tests/core/cpu_fixture.h"

namespace faultline::testing {
namespace {

constexpr uint32_t kGdt = 0x1000;
constexpr uint32_t kIdt = 0x2000;
constexpr uint32_t kTssA = 0x3000;   // 32-bit TSS, the current task
constexpr uint32_t kTssB = 0x3200;   // 32-bit TSS, another task
constexpr uint32_t kTss16 = 0x3400;  // 16-bit TSS
constexpr uint32_t kLdt = 0x3800;
constexpr uint32_t kHandler = 0x20000;
constexpr uint32_t kUserCode = 0x30000;
constexpr uint32_t kStack0 = 0x80000;   // ring-0 stack top (TSS.ESP0)
constexpr uint32_t kStack3 = 0x70000;   // ring-3 stack top

// Selectors of the test GDT.
constexpr uint16_t kKCode = 0x08, kKData = 0x10, kUCode = 0x1B, kUData = 0x23;
constexpr uint16_t kSelTssA = 0x28, kSelTssB = 0x30, kSelNotPresent = 0x38;
constexpr uint16_t kSelCallGate = 0x43, kSelRoData = 0x48, kSelLdt = 0x50;
constexpr uint16_t kSelTss16 = 0x58, kSelCode16 = 0x60, kSelTaskGate = 0x68;
constexpr uint16_t kSelConfCode = 0x70, kSelKData3 = 0x78;

uint64_t desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  return (uint64_t(base & 0xFF000000u) << 32) | (uint64_t(flags & 0xF) << 52) |
         (uint64_t(limit & 0xF0000u) << 32) | (uint64_t(access) << 40) |
         (uint64_t(base & 0xFFFFFFu) << 16) | (limit & 0xFFFFu);
}
uint64_t gate(uint16_t sel, uint32_t offset, uint8_t type_attr, uint8_t params = 0) {
  return (uint64_t(offset & 0xFFFF0000u) << 32) | (uint64_t(type_attr) << 40) |
         (uint64_t(params & 0x1F) << 32) | (uint64_t(sel) << 16) | (offset & 0xFFFFu);
}

class System : public CpuFixture {
 protected:
  System() {
    set_desc(0, 0);
    set_desc(1, desc(0, 0xFFFFF, 0x9A, 0xC));   // 0x08 ring-0 code
    set_desc(2, desc(0, 0xFFFFF, 0x92, 0xC));   // 0x10 ring-0 data (not accessed)
    set_desc(3, desc(0, 0xFFFFF, 0xFA, 0xC));   // 0x18 ring-3 code
    set_desc(4, desc(0, 0xFFFFF, 0xF2, 0xC));   // 0x20 ring-3 data
    set_desc(5, desc(kTssA, 0x67 + 0x2000 / 8 + 1, 0x8B, 0));  // 0x28 TSS A (busy)
    set_desc(6, desc(kTssB, 0x67, 0x89, 0));    // 0x30 TSS B (available)
    set_desc(7, desc(0, 0xFFFFF, 0x12, 0xC));   // 0x38 data, not present
    set_desc(8, gate(kKCode, kHandler, 0xEC, 2));  // 0x40 call gate DPL 3, 2 params
    set_desc(9, desc(0, 0xFFFFF, 0x90, 0xC));   // 0x48 read-only data
    set_desc(10, desc(kLdt, 0x17, 0x82, 0));    // 0x50 LDT
    set_desc(11, desc(kTss16, 0x2B, 0x81, 0));  // 0x58 16-bit TSS (available)
    set_desc(12, desc(0, 0xFFFF, 0x9A, 0));     // 0x60 16-bit code
    set_desc(13, gate(kSelTssB, 0, 0x85));      // 0x68 task gate to TSS B
    set_desc(14, desc(0, 0xFFFFF, 0x9E, 0xC));  // 0x70 conforming code DPL 0
    set_desc(15, desc(0, 0xFFFFF, 0xB2, 0xC));  // 0x78 data DPL 1
    cpu_.s.gdtr = {kGdt, 16 * 8 - 1};
    cpu_.s.idtr = {kIdt, 256 * 8 - 1};
    for (unsigned v = 0; v < 256; ++v) set_gate(v, gate(kKCode, kHandler + v, 0x8E));
    // TSS A: ring-0 stack, I/O bitmap right after the 0x68 bytes.
    poke32(kTssA + 4, kStack0);
    poke16(kTssA + 8, kKData);
    poke16(kTssA + 0x66, 0x68);
    SegmentCache tr = Cpu::cache_from_descriptor(kSelTssA, get_desc(5));
    cpu_.s.tr = tr;
    cpu_.s.ldtr = SegmentCache{};
    // Handlers: NOPs.
    std::memset(ram_.data() + kHandler, 0x90, 0x200);
    cpu_.stop_on_exception = true;
  }

  void set_desc(unsigned index, uint64_t d) { std::memcpy(ram_.data() + kGdt + 8 * index, &d, 8); }
  uint64_t get_desc(unsigned index) const {
    uint64_t d;
    std::memcpy(&d, ram_.data() + kGdt + 8 * index, 8);
    return d;
  }
  uint8_t access_byte(unsigned index) const { return ram_[kGdt + 8 * index + 5]; }
  void set_gate(unsigned v, uint64_t g) { std::memcpy(ram_.data() + kIdt + 8 * v, &g, 8); }
  void poke16(uint32_t a, uint16_t v) { std::memcpy(ram_.data() + a, &v, 2); }
  // Stores guest code after execution started (invalidates cached decodes).
  void patch(uint32_t a, std::initializer_list<uint8_t> bytes) {
    cpu_.write_phys(a, std::data(bytes), bytes.size());
  }
  uint16_t peek16(uint32_t a) const {
    uint16_t v;
    std::memcpy(&v, ram_.data() + a, 2);
    return v;
  }

  // Switches the running context to CPL 3 with the flat user segments.
  void enter_user(uint32_t eip = kUserCode, uint32_t esp = kStack3) {
    cpu_.s.cpl = 3;
    set_seg(CS, Cpu::cache_from_descriptor(kUCode, get_desc(3)));
    for (unsigned s : {ES, SS, DS, FS, GS}) set_seg(s, Cpu::cache_from_descriptor(kUData, get_desc(4)));
    cpu_.s.eip = eip;
    cpu_.s.gpr[ESP] = esp;
    cpu_.refresh_segments();
  }

  // Fills a 32-bit TSS with a flat ring-0 task starting at `eip`.
  void make_task(uint32_t tss, uint32_t eip, uint32_t esp, uint32_t eax) {
    std::memset(ram_.data() + tss, 0, 0x68);
    poke32(tss + 0x20, eip);
    poke32(tss + 0x24, 0x2);
    poke32(tss + 0x28, eax);
    poke32(tss + 0x38, esp);
    poke16(tss + 0x48, kKData);
    poke16(tss + 0x4C, kKCode);
    poke16(tss + 0x50, kKData);
    poke16(tss + 0x54, kKData);
    poke16(tss + 0x58, kKData);
    poke16(tss + 0x5C, kKData);
  }

  void expect_exception(uint8_t vec, uint32_t err) {
    EXPECT_TRUE(cpu_.exc.pending);
    EXPECT_EQ(cpu_.exc.vector, vec);
    EXPECT_TRUE(cpu_.exc.has_error);
    EXPECT_EQ(cpu_.exc.error, err);
  }
};

// ---- segment loads ------------------------------------------------------------

TEST_F(System, LoadDsNotPresentRaisesNpWithSelector) {
  code({0x66, 0xB8, 0x38, 0x00,   // mov ax, 0x38
        0x8E, 0xD8});             // mov ds, ax
  ASSERT_EQ(step(2), StopReason::Exception);
  expect_exception(VEC_NP, kSelNotPresent);
  EXPECT_EQ(cpu_.s.seg[DS].selector, kKData);  // unchanged
  EXPECT_EQ(cpu_.s.eip, kCode + 4);
}

TEST_F(System, LoadSegmentErrorCodes) {
  // Selector beyond the GDT limit: #GP(selector with RPL cleared).
  EXPECT_FALSE(cpu_.load_seg(DS, 0x1FB));
  expect_exception(VEC_GP, 0x1F8);
  cpu_.exc = {};
  // Null selector into SS: #GP(0).
  EXPECT_FALSE(cpu_.load_seg(SS, 0));
  expect_exception(VEC_GP, 0);
  cpu_.exc = {};
  // SS with RPL != CPL.
  EXPECT_FALSE(cpu_.load_seg(SS, kKData | 1));
  expect_exception(VEC_GP, kKData);
  cpu_.exc = {};
  // Read-only data into SS.
  EXPECT_FALSE(cpu_.load_seg(SS, kSelRoData));
  expect_exception(VEC_GP, kSelRoData);
  cpu_.exc = {};
  // Not-present data into SS: #SS(selector).
  EXPECT_FALSE(cpu_.load_seg(SS, kSelNotPresent));
  expect_exception(VEC_SS, kSelNotPresent);
  cpu_.exc = {};
  // LDT selector with no LDT loaded.
  EXPECT_FALSE(cpu_.load_seg(ES, 0x0C));
  expect_exception(VEC_GP, 0x0C);
  cpu_.exc = {};
  // A system descriptor (TSS) into DS.
  EXPECT_FALSE(cpu_.load_seg(DS, kSelTssB));
  expect_exception(VEC_GP, kSelTssB);
  cpu_.exc = {};
  // Null into DS is fine and leaves the register unusable.
  EXPECT_TRUE(cpu_.load_seg(DS, 3));
  EXPECT_FALSE(cpu_.s.seg[DS].valid);
  EXPECT_EQ(cpu_.s.seg[DS].selector, 3);
  EXPECT_FALSE(cpu_.faulted());
}

TEST_F(System, LoadSegmentPrivilegeChecksAtCpl3) {
  enter_user();
  // Ring-0 data: DPL 0 < CPL 3.
  EXPECT_FALSE(cpu_.load_seg(DS, kKData | 3));
  expect_exception(VEC_GP, kKData);
  cpu_.exc = {};
  // Conforming code is readable from any ring.
  EXPECT_TRUE(cpu_.load_seg(DS, kSelConfCode | 3));
  // User data with RPL 3 at CPL 3.
  EXPECT_TRUE(cpu_.load_seg(ES, kUData));
  EXPECT_TRUE(cpu_.s.seg[ES].valid);
}

TEST_F(System, LoadSegmentSetsAccessedBitAndCachesDescriptor) {
  ASSERT_EQ(access_byte(2) & 1, 0);
  EXPECT_TRUE(cpu_.load_seg(DS, kKData));
  EXPECT_EQ(access_byte(2) & 1, 1);
  const SegmentCache& ds = cpu_.s.seg[DS];
  EXPECT_EQ(ds.base, 0u);
  EXPECT_EQ(ds.limit, 0xFFFFFFFFu);  // limit scaled by G
  EXPECT_TRUE(ds.attr & SEG_DB);
  EXPECT_TRUE(ds.valid);
}

TEST_F(System, MovSsSetsInterruptShadow) {
  cpu_.s.inhibit_interrupts = false;
  EXPECT_TRUE(cpu_.load_seg(SS, kKData));
  EXPECT_TRUE(cpu_.s.inhibit_interrupts);
  cpu_.s.inhibit_interrupts = false;
  EXPECT_TRUE(cpu_.load_seg(DS, kKData));
  EXPECT_FALSE(cpu_.s.inhibit_interrupts);
}

TEST_F(System, MovToCsIsUndefined) {
  code({0x8E, 0xC8});  // mov cs, ax
  ASSERT_EQ(step(1), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_UD);
}

TEST_F(System, Push32SegmentWritesOnlyLow16Bits) {
  cpu_.s.gpr[ESP] = kStack0;
  poke32(kStack0 - 4, 0xAAAAAAAA);
  code({0x1E});  // push ds
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ESP], kStack0 - 4);
  EXPECT_EQ(peek32(kStack0 - 4), 0xAAAA0000u | kKData);
}

TEST_F(System, PopSegmentCommitsEspOnlyOnSuccess) {
  cpu_.s.gpr[ESP] = kStack0 - 4;
  poke32(kStack0 - 4, kSelNotPresent);
  code({0x1F});  // pop ds
  ASSERT_EQ(step(1), StopReason::Exception);
  expect_exception(VEC_NP, kSelNotPresent);
  EXPECT_EQ(cpu_.s.gpr[ESP], kStack0 - 4);
}

// ---- interrupts -----------------------------------------------------------------

TEST_F(System, IntSamePrivilegePushesEflagsCsEip) {
  cpu_.write_eflags(FLAG_IF, FLAG_IF);
  code({0xCD, 0x30});  // int 0x30
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.eip, kHandler + 0x30);
  EXPECT_EQ(cpu_.s.gpr[ESP], kStack0 - 12);
  EXPECT_EQ(peek32(kStack0 - 12), kCode + 2);
  EXPECT_EQ(peek32(kStack0 - 8), kKCode);
  EXPECT_TRUE(peek32(kStack0 - 4) & FLAG_IF);
  EXPECT_FALSE(cpu_.eflags() & FLAG_IF);  // interrupt gate
}

TEST_F(System, TrapGateKeepsIf) {
  set_gate(0x31, gate(kKCode, kHandler, 0x8F));
  cpu_.write_eflags(FLAG_IF, FLAG_IF);
  code({0xCD, 0x31});
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_TRUE(cpu_.eflags() & FLAG_IF);
}

TEST_F(System, SoftwareIntChecksGateDplButExceptionsDoNot) {
  enter_user();
  code({0xCD, 0x30}, kUserCode);  // gate DPL 0 < CPL 3
  ASSERT_EQ(step(1), StopReason::Exception);
  expect_exception(VEC_GP, 0x30 * 8 + 2);
  // The same gate used for an exception: no DPL check, stack switch.
  cpu_.exc = {};
  cpu_.s.eip = kUserCode;
  ASSERT_TRUE(cpu_.deliver_interrupt(0x30, IntKind::Exception, true, 0x1234, kUserCode));
  EXPECT_EQ(cpu_.cpl(), 0);
  EXPECT_EQ(cpu_.s.gpr[ESP], kStack0 - 24);
  EXPECT_EQ(peek32(kStack0 - 24), 0x1234u);  // error code
  EXPECT_EQ(peek32(kStack0 - 20), kUserCode);
  EXPECT_EQ(peek32(kStack0 - 16), kUCode);
  EXPECT_EQ(peek32(kStack0 - 8), kStack3);
  EXPECT_EQ(peek32(kStack0 - 4), kUData);
  EXPECT_EQ(cpu_.s.seg[SS].selector, kKData);
  EXPECT_EQ(cpu_.s.seg[CS].selector, kKCode);
}

TEST_F(System, DeliveryFaultsCarryExtBitAndLeaveStateUntouched) {
  set_gate(13, gate(kKCode, kHandler, 0x0E));  // not present
  const uint32_t esp = cpu_.s.gpr[ESP];
  EXPECT_FALSE(cpu_.deliver_interrupt(13, IntKind::Exception, true, 0, kCode));
  expect_exception(VEC_NP, 13 * 8 + 2 + 1);
  EXPECT_EQ(cpu_.s.gpr[ESP], esp);
  EXPECT_EQ(cpu_.s.eip, kCode);
  // Gate to a not-present code segment: #NP(selector + EXT).
  set_gate(14, gate(kSelNotPresent, kHandler, 0x8E));
  set_desc(7, desc(0, 0xFFFFF, 0x1A, 0xC));  // code, not present
  EXPECT_FALSE(cpu_.deliver_interrupt(14, IntKind::External, false, 0, kCode));
  expect_exception(VEC_NP, kSelNotPresent | 1);
  // Software INT: EXT clear.
  EXPECT_FALSE(cpu_.deliver_interrupt(14, IntKind::Software, false, 0, kCode));
  expect_exception(VEC_NP, kSelNotPresent);
}

TEST_F(System, InterStackOverflowRaisesSsWithNewSelector) {
  enter_user();
  set_gate(0x80, gate(kKCode, kHandler, 0xEF));
  // Ring-0 stack segment with a byte-granular limit of 0xFFFF and ESP0 too
  // low for the 20-byte frame.
  set_desc(2, desc(0, 0xFFFF, 0x92, 0x4));
  poke32(kTssA + 4, 0x10);
  EXPECT_FALSE(cpu_.deliver_interrupt(0x80, IntKind::Software, false, 0, kUserCode));
  expect_exception(VEC_SS, kKData);
  EXPECT_EQ(cpu_.cpl(), 3);
  EXPECT_EQ(cpu_.s.gpr[ESP], kStack3);
  EXPECT_EQ(cpu_.s.seg[SS].selector, kUData);
  // The same for an external interrupt carries EXT.
  EXPECT_FALSE(cpu_.deliver_interrupt(0x80, IntKind::External, false, 0, kUserCode));
  expect_exception(VEC_SS, kKData | 1);
}

TEST_F(System, IretToOuterRingInvalidatesKernelDataSegments) {
  // Frame for IRET to CPL 3.
  uint32_t sp = kStack0 - 20;
  poke32(sp, kUserCode);
  poke32(sp + 4, kUCode);
  poke32(sp + 8, 0x202);
  poke32(sp + 12, kStack3);
  poke32(sp + 16, kUData);
  cpu_.s.gpr[ESP] = sp;
  cpu_.load_seg(FS, kUData);  // stays valid
  code({0xCF});  // iret
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.cpl(), 3);
  EXPECT_EQ(cpu_.s.eip, kUserCode);
  EXPECT_EQ(cpu_.s.seg[CS].selector, kUCode);
  EXPECT_EQ(cpu_.s.seg[SS].selector, kUData);
  EXPECT_EQ(cpu_.s.gpr[ESP], kStack3);
  EXPECT_TRUE(cpu_.eflags() & FLAG_IF);
  EXPECT_FALSE(cpu_.s.seg[DS].valid);  // DPL 0 data
  EXPECT_EQ(cpu_.s.seg[DS].selector, 0);
  EXPECT_TRUE(cpu_.s.seg[FS].valid);
}

TEST_F(System, IretAtCpl3CannotChangeIoplOrIf) {
  enter_user();
  uint32_t sp = kStack3 - 12;
  poke32(sp, kUserCode + 1);
  poke32(sp + 4, kUCode);
  poke32(sp + 8, 0x3202 | FLAG_CF);
  cpu_.s.gpr[ESP] = sp;
  code({0xCF}, kUserCode);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.iopl(), 0);
  EXPECT_FALSE(cpu_.eflags() & FLAG_IF);
  EXPECT_TRUE(cpu_.eflags() & FLAG_CF);
  EXPECT_EQ(cpu_.s.eip, kUserCode + 1);
}

TEST_F(System, RealModeIntAndIret) {
  real_mode();
  cpu_.s.idtr = {0, 0x3FF};
  poke16(0x21 * 4, 0x0100);       // IP
  poke16(0x21 * 4 + 2, 0x2000);   // CS
  ram_[0x20100] = 0xCF;           // iret
  cpu_.write_eflags(FLAG_IF, FLAG_IF);
  code({0xCD, 0x21, 0x90});        // int 0x21; nop
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.seg[CS].selector, 0x2000);
  EXPECT_EQ(cpu_.s.seg[CS].base, 0x20000u);
  EXPECT_EQ(cpu_.s.eip, 0x100u);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x8000u - 6);
  EXPECT_EQ(peek16(0x8000 - 6), 2);       // IP after int
  EXPECT_EQ(peek16(0x8000 - 4), kCode >> 4);
  EXPECT_TRUE(peek16(0x8000 - 2) & FLAG_IF);
  EXPECT_FALSE(cpu_.eflags() & FLAG_IF);
  ASSERT_EQ(step(1), StopReason::Budget);  // iret
  EXPECT_EQ(cpu_.s.seg[CS].selector, kCode >> 4);
  EXPECT_EQ(cpu_.s.eip, 2u);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x8000u);
  EXPECT_TRUE(cpu_.eflags() & FLAG_IF);
}

TEST_F(System, RealModeSegmentLoadKeepsLimit) {
  real_mode();
  cpu_.s.seg[ES].limit = 0xFFFFFFFFu;  // "unreal" mode left behind
  EXPECT_TRUE(cpu_.load_seg(ES, 0x1234));
  EXPECT_EQ(cpu_.s.seg[ES].base, 0x12340u);
  EXPECT_EQ(cpu_.s.seg[ES].limit, 0xFFFFFFFFu);
}

// ---- far transfers -----------------------------------------------------------------

TEST_F(System, CallGateToRing0CopiesParameters) {
  enter_user(kUserCode, kStack3 - 8);
  poke32(kStack3 - 8, 0x11111111);  // parameter 0 (pushed last)
  poke32(kStack3 - 4, 0x22222222);  // parameter 1
  code({0x9A, 0, 0, 0, 0, 0x43, 0x00}, kUserCode);  // call 0x43:0
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.cpl(), 0);
  EXPECT_EQ(cpu_.s.eip, kHandler);
  EXPECT_EQ(cpu_.s.seg[CS].selector, kKCode);
  EXPECT_EQ(cpu_.s.seg[SS].selector, kKData);
  const uint32_t esp = cpu_.s.gpr[ESP];
  EXPECT_EQ(esp, kStack0 - 24);
  EXPECT_EQ(peek32(esp), kUserCode + 7);      // return EIP
  EXPECT_EQ(peek32(esp + 4), kUCode);         // return CS
  EXPECT_EQ(peek32(esp + 8), 0x11111111u);    // parameters, same order
  EXPECT_EQ(peek32(esp + 12), 0x22222222u);
  EXPECT_EQ(peek32(esp + 16), kStack3 - 8);   // caller ESP
  EXPECT_EQ(peek32(esp + 20), kUData);        // caller SS

  // RETF 8 back to ring 3 removes the parameters from both stacks.
  patch(kHandler, {0xCA, 8, 0});  // retf 8
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.cpl(), 3);
  EXPECT_EQ(cpu_.s.eip, kUserCode + 7);
  EXPECT_EQ(cpu_.s.gpr[ESP], kStack3);
  EXPECT_EQ(cpu_.s.seg[SS].selector, kUData);
}

TEST_F(System, CallGateDplCheck) {
  set_desc(8, gate(kKCode, kHandler, 0x8C));  // DPL 0 call gate
  enter_user();
  code({0x9A, 0, 0, 0, 0, 0x43, 0x00}, kUserCode);
  ASSERT_EQ(step(1), StopReason::Exception);
  expect_exception(VEC_GP, 0x40);
  EXPECT_EQ(cpu_.cpl(), 3);
}

TEST_F(System, FarJumpNonConformingNeedsDplEqualCpl) {
  code({0xEA, 0, 0, 2, 0, 0x1B, 0x00});  // jmp 0x1B:0x20000 at CPL 0
  ASSERT_EQ(step(1), StopReason::Exception);
  expect_exception(VEC_GP, 0x18);
}

TEST_F(System, FarCallConformingKeepsCpl) {
  enter_user();
  code({0x9A, 0, 0, 2, 0, 0x73, 0x00}, kUserCode);  // call 0x73:0x20000
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.cpl(), 3);
  EXPECT_EQ(cpu_.s.seg[CS].selector, kSelConfCode | 3);
  EXPECT_EQ(cpu_.s.gpr[ESP], kStack3 - 8);
  EXPECT_EQ(peek32(kStack3 - 4), kUCode);
}

// ---- task switching ----------------------------------------------------------------

TEST_F(System, JmpToTssSwitchesTaskAndBusyBits) {
  make_task(kTssB, kHandler, 0x60000, 0xB0B0B0B0);
  cpu_.s.gpr[EAX] = 0xA0A0A0A0;
  code({0xEA, 0, 0, 0, 0, 0x30, 0x00});  // jmp 0x30:0
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.tr.selector, kSelTssB);
  EXPECT_EQ(cpu_.s.eip, kHandler);
  EXPECT_EQ(cpu_.s.gpr[EAX], 0xB0B0B0B0u);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x60000u);
  EXPECT_TRUE(cpu_.s.cr0 & CR0_TS);
  EXPECT_EQ(access_byte(5) & 0xF, 0x9);  // old task available
  EXPECT_EQ(access_byte(6) & 0xF, 0xB);  // new task busy
  // Outgoing state saved in TSS A.
  EXPECT_EQ(peek32(kTssA + 0x20), kCode + 7);
  EXPECT_EQ(peek32(kTssA + 0x28), 0xA0A0A0A0u);
  EXPECT_EQ(peek16(kTssA + 0x4C), kKCode);
  EXPECT_FALSE(cpu_.eflags() & FLAG_NT);
}

TEST_F(System, CallTaskNestsAndIretReturns) {
  make_task(kTssB, kHandler, 0x60000, 0);
  ram_[kHandler] = 0xCF;  // iret
  code({0x9A, 0, 0, 0, 0, 0x30, 0x00, 0x90});  // call 0x30:0; nop
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.tr.selector, kSelTssB);
  EXPECT_TRUE(cpu_.eflags() & FLAG_NT);
  EXPECT_EQ(peek16(kTssB), kSelTssA);       // back link
  EXPECT_EQ(access_byte(5) & 0xF, 0xB);     // caller stays busy
  EXPECT_EQ(access_byte(6) & 0xF, 0xB);
  ASSERT_EQ(step(1), StopReason::Budget);   // iret: task return
  EXPECT_EQ(cpu_.s.tr.selector, kSelTssA);
  EXPECT_EQ(cpu_.s.eip, kCode + 7);
  EXPECT_EQ(access_byte(6) & 0xF, 0x9);     // returned-from task available
  EXPECT_EQ(access_byte(5) & 0xF, 0xB);
  EXPECT_FALSE(peek32(kTssB + 0x24) & FLAG_NT);  // saved with NT cleared
}

TEST_F(System, JmpToBusyTssFaults) {
  code({0xEA, 0, 0, 0, 0, 0x28, 0x00});  // jmp to the current (busy) TSS
  ASSERT_EQ(step(1), StopReason::Exception);
  expect_exception(VEC_GP, kSelTssA);
}

TEST_F(System, TaskGateForExceptionPushesErrorCodeOnNewStack) {
  make_task(kTssB, kHandler, 0x60000, 0);
  set_gate(13, gate(kSelTssB, 0, 0x85));
  ASSERT_TRUE(cpu_.deliver_interrupt(13, IntKind::Exception, true, 0x58, kCode));
  EXPECT_EQ(cpu_.s.tr.selector, kSelTssB);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x60000u - 4);
  EXPECT_EQ(peek32(0x60000 - 4), 0x58u);
  EXPECT_EQ(peek16(kTssB), kSelTssA);
  EXPECT_TRUE(cpu_.eflags() & FLAG_NT);
  EXPECT_EQ(peek32(kTssA + 0x20), kCode);  // faulting EIP saved
}

TEST_F(System, TaskSwitchSegmentFaultHappensInNewTask) {
  make_task(kTssB, kHandler, 0x60000, 0x77);
  poke16(kTssB + 0x54, kSelNotPresent);  // DS not present
  code({0xEA, 0, 0, 0, 0, 0x30, 0x00});
  ASSERT_EQ(step(1), StopReason::Exception);
  expect_exception(VEC_NP, kSelNotPresent);
  EXPECT_EQ(cpu_.s.tr.selector, kSelTssB);  // switch completed
  EXPECT_EQ(cpu_.s.gpr[EAX], 0x77u);
  EXPECT_EQ(cpu_.insn_eip, kHandler);       // reported at the new task's EIP
}

TEST_F(System, TssLimitTooSmallRaisesTs) {
  set_desc(6, desc(kTssB, 0x50, 0x89, 0));
  code({0xEA, 0, 0, 0, 0, 0x30, 0x00});
  ASSERT_EQ(step(1), StopReason::Exception);
  expect_exception(VEC_TS, kSelTssB);
  EXPECT_EQ(cpu_.s.tr.selector, kSelTssA);
}

TEST_F(System, SixteenBitTaskSwitch) {
  std::memset(ram_.data() + kTss16, 0, 0x2C);
  poke16(kTss16 + 0x0E, 0x1234);           // IP
  poke16(kTss16 + 0x10, 0x0002);           // FLAGS
  poke16(kTss16 + 0x12, 0xBEEF);           // AX
  poke16(kTss16 + 0x1A, 0x7000);           // SP
  poke16(kTss16 + 0x22, kKData);           // ES
  poke16(kTss16 + 0x24, kSelCode16);       // CS
  poke16(kTss16 + 0x26, kKData);           // SS
  poke16(kTss16 + 0x28, kKData);           // DS
  code({0xEA, 0, 0, 0, 0, 0x58, 0x00});
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.tr.selector, kSelTss16);
  EXPECT_EQ(cpu_.s.eip, 0x1234u);
  EXPECT_EQ(cpu_.s.gpr[EAX] & 0xFFFF, 0xBEEFu);
  EXPECT_FALSE(cpu_.code32());
  EXPECT_EQ(access_byte(11) & 0xF, 0x3);   // 16-bit busy
  EXPECT_FALSE(cpu_.s.seg[FS].valid);
}

TEST_F(System, LtrMarksBusyAndStrReads) {
  set_desc(5, desc(kTssA, 0x67, 0x89, 0));  // available
  cpu_.s.gpr[EAX] = kSelTssA;
  code({0x0F, 0x00, 0xD8,        // ltr ax
        0x0F, 0x00, 0xCB});      // str ebx
  cpu_.s.gpr[EBX] = 0xFFFFFFFF;
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(access_byte(5) & 0xF, 0xB);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EBX], uint32_t(kSelTssA));  // P6: upper half cleared
}

TEST_F(System, LldtLoadsLdtAndLdtSelectorsWork) {
  // LDT entry 1: user data.
  uint64_t d = desc(0x5000, 0xFFF, 0xF2, 0x4);
  std::memcpy(ram_.data() + kLdt + 8, &d, 8);
  cpu_.s.gpr[EAX] = kSelLdt;
  code({0x0F, 0x00, 0xD0});  // lldt ax
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.ldtr.base, kLdt);
  EXPECT_TRUE(cpu_.load_seg(ES, 0x0F));
  EXPECT_EQ(cpu_.s.seg[ES].base, 0x5000u);
}

// ---- virtual-8086 mode ---------------------------------------------------------------

TEST_F(System, IretToV86AndInterruptBack) {
  // IRET frame at CPL 0 with VM set.
  uint32_t sp = kStack0 - 36;
  poke32(sp, 0x0010);              // EIP
  poke32(sp + 4, 0x3000);          // CS
  poke32(sp + 8, FLAG_VM | 0x3202);  // EFLAGS, IOPL 3
  poke32(sp + 12, 0x0FFE);         // ESP
  poke32(sp + 16, 0x4000);         // SS
  poke32(sp + 20, 0x1111);         // ES
  poke32(sp + 24, 0x2222);         // DS
  poke32(sp + 28, 0x3333);         // FS
  poke32(sp + 32, 0x4444);         // GS
  cpu_.s.gpr[ESP] = sp;
  code({0xCF});
  // v86 code at 0x3000:0x10: int 0x21
  ram_[0x30010] = 0xCD;
  ram_[0x30011] = 0x21;
  set_gate(0x21, gate(kKCode, kHandler, 0xEE));  // DPL 3 interrupt gate
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_TRUE(cpu_.v86());
  EXPECT_EQ(cpu_.cpl(), 3);
  EXPECT_EQ(cpu_.s.seg[CS].base, 0x30000u);
  EXPECT_EQ(cpu_.s.seg[DS].base, 0x22220u);
  EXPECT_EQ(cpu_.s.seg[GS].selector, 0x4444);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x0FFEu);
  EXPECT_EQ(cpu_.s.eip, 0x10u);

  ASSERT_EQ(step(1), StopReason::Budget);  // int 0x21 from v86
  EXPECT_FALSE(cpu_.v86());
  EXPECT_EQ(cpu_.cpl(), 0);
  EXPECT_EQ(cpu_.s.eip, kHandler);
  const uint32_t esp = cpu_.s.gpr[ESP];
  EXPECT_EQ(esp, kStack0 - 36);
  EXPECT_EQ(peek32(esp), 0x12u);            // EIP
  EXPECT_EQ(peek32(esp + 4), 0x3000u);      // CS
  EXPECT_TRUE(peek32(esp + 8) & FLAG_VM);   // EFLAGS
  EXPECT_EQ(peek32(esp + 12), 0x0FFEu);     // ESP
  EXPECT_EQ(peek32(esp + 16), 0x4000u);     // SS
  EXPECT_EQ(peek32(esp + 20), 0x1111u);     // ES
  EXPECT_EQ(peek32(esp + 32), 0x4444u);     // GS
  for (unsigned s : {ES, DS, FS, GS}) {
    EXPECT_EQ(cpu_.s.seg[s].selector, 0);
    EXPECT_FALSE(cpu_.s.seg[s].valid);
  }

  // IRET back into v86 from the handler.
  patch(kHandler, {0xCF});
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_TRUE(cpu_.v86());
  EXPECT_EQ(cpu_.s.eip, 0x12u);
  EXPECT_EQ(cpu_.s.seg[ES].selector, 0x1111);
}

TEST_F(System, V86SensitiveInstructionsWithIoplBelow3) {
  uint32_t sp = kStack0 - 36;
  std::memset(ram_.data() + sp, 0, 36);
  poke32(sp, 0x0010);
  poke32(sp + 4, 0x3000);
  poke32(sp + 8, FLAG_VM | 0x0202);  // IOPL 0
  poke32(sp + 12, 0x0FFE);
  poke32(sp + 16, 0x4000);
  cpu_.s.gpr[ESP] = sp;
  code({0xCF});
  ASSERT_EQ(step(1), StopReason::Budget);
  ASSERT_TRUE(cpu_.v86());
  const uint8_t sensitive[][2] = {{0xCD, 0x21}, {0xFA, 0x90}, {0xFB, 0x90}, {0x9C, 0x90},
                                  {0x9D, 0x90}, {0xCF, 0x90}};
  for (const auto& insn : sensitive) {
    cpu_.exc = {};
    cpu_.s.eip = 0x10;
    patch(0x30010, {insn[0], insn[1]});
    ASSERT_EQ(step(1), StopReason::Exception) << std::hex << int(insn[0]);
    EXPECT_EQ(cpu_.exc.vector, VEC_GP);
    EXPECT_EQ(cpu_.exc.error, 0u);
  }
  // INT3 is not IOPL-sensitive: it goes through the IDT (gate DPL 0 -> #GP(0x1A)).
  cpu_.exc = {};
  cpu_.s.eip = 0x10;
  patch(0x30010, {0xCC});
  ASSERT_EQ(step(1), StopReason::Exception);
  expect_exception(VEC_GP, 3 * 8 + 2);
}

// ---- I/O permission -----------------------------------------------------------------

TEST_F(System, IoBitmapAtCpl3) {
  std::memset(ram_.data() + kTssA + 0x68, 0xFF, 0x2000 / 8 + 1);
  ram_[kTssA + 0x68 + 0x80 / 8] = 0xFE;  // port 0x80 allowed, 0x81 denied
  enter_user();
  EXPECT_TRUE(cpu_.io_allowed(0x80, 1));
  EXPECT_FALSE(cpu_.io_allowed(0x80, 2));
  EXPECT_FALSE(cpu_.io_allowed(0x81, 1));
  EXPECT_FALSE(cpu_.io_allowed(0xFFFF, 1));  // beyond the TSS limit
  code({0xE4, 0x80,   // in al, 0x80
        0xE5, 0x80},  // in eax, 0x80
       kUserCode);
  ASSERT_EQ(step(1), StopReason::Budget);
  ASSERT_EQ(step(1), StopReason::Exception);
  expect_exception(VEC_GP, 0);
}

// ---- descriptor queries -----------------------------------------------------------------

TEST_F(System, LarLslVerrVerw) {
  cpu_.s.gpr[ECX] = kKData;
  code({0x0F, 0x02, 0xC1,   // lar eax, ecx
        0x0F, 0x03, 0xD9,   // lsl ebx, ecx
        0x0F, 0x00, 0xE1,   // verr cx
        0x0F, 0x00, 0xEA}); // verw dx
  cpu_.s.gpr[EDX] = kSelRoData;
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EAX], 0x00CF9200u);
  EXPECT_TRUE(cpu_.zf());
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EBX], 0xFFFFFFFFu);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_TRUE(cpu_.zf());
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_FALSE(cpu_.zf());  // read-only data is not writable
}

TEST_F(System, LarRejectsGatesForLslAndPrivilege) {
  cpu_.s.gpr[ECX] = 0x40;  // call gate: LAR ok, LSL not
  cpu_.s.gpr[EBX] = 0x12345678;
  code({0x0F, 0x02, 0xC1,   // lar eax, ecx
        0x0F, 0x03, 0xD9}); // lsl ebx, ecx
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_TRUE(cpu_.zf());
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_FALSE(cpu_.zf());
  EXPECT_EQ(cpu_.s.gpr[EBX], 0x12345678u);
  // At CPL 3 a DPL-0 data segment is invisible; beyond the GDT too; no fault.
  enter_user();
  cpu_.s.gpr[ECX] = kKData;
  code({0x0F, 0x02, 0xC1, 0x0F, 0x02, 0xC2}, kUserCode);  // lar eax, ecx; lar eax, edx
  cpu_.s.gpr[EDX] = 0x7F8;
  ASSERT_EQ(step(2), StopReason::Budget);
  EXPECT_FALSE(cpu_.zf());
}

TEST_F(System, LarIsUndefinedInRealMode) {
  real_mode();
  code({0x0F, 0x02, 0xC1}, kCode);
  ASSERT_EQ(step(1), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_UD);
}

TEST_F(System, ArplAdjustsRpl) {
  cpu_.s.gpr[EAX] = 0x0010;
  cpu_.s.gpr[EBX] = 0x0003;
  code({0x63, 0xD8});  // arpl ax, bx
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EAX], 0x13u);
  EXPECT_TRUE(cpu_.zf());
}

// ---- system registers ----------------------------------------------------------------

TEST_F(System, Sgdt16StoresA24BitBase) {
  cpu_.s.gdtr = {0x12345678, 0x3FF};
  code({0x66, 0x0F, 0x01, 0x05, 0x00, 0x50, 0x00, 0x00});  // o16 sgdt [0x5000]
  poke32(0x5002, 0xFFFFFFFF);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(peek16(0x5000), 0x3FF);
  EXPECT_EQ(peek32(0x5002), 0x00345678u);
}

TEST_F(System, LmswCannotClearPe) {
  cpu_.s.gpr[EAX] = 0x000E;  // PE clear, MP EM TS set
  code({0x0F, 0x01, 0xF0});  // lmsw ax
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_TRUE(cpu_.s.cr0 & CR0_PE);
  EXPECT_TRUE(cpu_.s.cr0 & CR0_TS);
  EXPECT_TRUE(cpu_.s.cr0 & CR0_EM);
}

TEST_F(System, MovCrInvalidRegisterAndPrivilege) {
  code({0x0F, 0x20, 0xC8});  // mov eax, cr1
  ASSERT_EQ(step(1), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_UD);
  cpu_.exc = {};
  enter_user();
  code({0x0F, 0x20, 0xC0}, kUserCode);  // mov eax, cr0 at CPL 3
  ASSERT_EQ(step(1), StopReason::Exception);
  expect_exception(VEC_GP, 0);
}

TEST_F(System, DebugRegisterAliasesAndCr4De) {
  cpu_.s.gpr[EAX] = 0x1;
  code({0x0F, 0x23, 0xF8,   // mov dr7, eax
        0x0F, 0x21, 0xEB}); // mov ebx, dr5 (alias of DR7)
  ASSERT_EQ(step(2), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EBX], 0x401u);
  cpu_.s.cr4 |= CR4_DE;
  cpu_.s.eip = kCode + 3;
  ASSERT_EQ(step(1), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_UD);
}

TEST_F(System, CpuidLeaves) {
  cpu_.s.gpr[EAX] = 0;
  code({0x0F, 0xA2, 0x0F, 0xA2, 0x0F, 0xA2});
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EAX], 2u);
  EXPECT_EQ(cpu_.s.gpr[EBX], 0x756E6547u);  // "Genu"
  EXPECT_EQ(cpu_.s.gpr[EDX], 0x49656E69u);  // "ineI"
  EXPECT_EQ(cpu_.s.gpr[ECX], 0x6C65746Eu);  // "ntel"
  cpu_.s.gpr[EAX] = 1;
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EAX], 0x652u);
  EXPECT_EQ(cpu_.s.gpr[EDX], cpu_.model.features_edx);
  cpu_.s.gpr[EAX] = 0x80000000u;  // no brand: highest basic leaf
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EAX], 0x03020101u);
}

TEST_F(System, MsrAccess) {
  cpu_.s.gpr[ECX] = 0x10;
  cpu_.s.gpr[EAX] = 1000;
  cpu_.s.gpr[EDX] = 5;  // ignored on a P6
  code({0x0F, 0x30,     // wrmsr
        0x0F, 0x32,     // rdmsr
        0x0F, 0x32});   // rdmsr (unknown)
  ASSERT_EQ(step(1), StopReason::Budget);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EDX], 0u);
  EXPECT_GE(cpu_.s.gpr[EAX], 1000u);
  EXPECT_LE(cpu_.s.gpr[EAX], 1002u);
  cpu_.s.gpr[ECX] = 0x12345;
  ASSERT_EQ(step(1), StopReason::Exception);
  expect_exception(VEC_GP, 0);
}

TEST_F(System, SysenterSysexit) {
  cpu_.s.msr_sysenter_cs = kKCode;
  cpu_.s.msr_sysenter_esp = 0x66000;
  cpu_.s.msr_sysenter_eip = kHandler;
  // GDT layout SYSEXIT expects: CS+16 = user code, CS+24 = user data.
  enter_user();
  code({0x0F, 0x34}, kUserCode);
  ram_[kHandler] = 0x0F;
  ram_[kHandler + 1] = 0x35;
  cpu_.s.gpr[ECX] = kStack3;
  cpu_.s.gpr[EDX] = kUserCode + 2;
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.cpl(), 0);
  EXPECT_EQ(cpu_.s.seg[CS].selector, kKCode);
  EXPECT_EQ(cpu_.s.seg[SS].selector, kKData);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x66000u);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.cpl(), 3);
  EXPECT_EQ(cpu_.s.seg[CS].selector, kUCode);
  EXPECT_EQ(cpu_.s.seg[SS].selector, kUData);
  EXPECT_EQ(cpu_.s.eip, kUserCode + 2);
}

TEST_F(System, PopfPrivilegeRules) {
  enter_user();
  cpu_.s.gpr[ESP] = kStack3 - 4;
  poke32(kStack3 - 4, 0x3000 | FLAG_IF | FLAG_CF);
  code({0x9D}, kUserCode);  // popf at CPL 3, IOPL 0
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.iopl(), 0);
  EXPECT_FALSE(cpu_.eflags() & FLAG_IF);
  EXPECT_TRUE(cpu_.eflags() & FLAG_CF);
}

TEST_F(System, StiShadowOnlyWhenIfWasClear) {
  code({0xFB, 0xFB});
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_TRUE(cpu_.eflags() & FLAG_IF);
}

TEST_F(System, RepInsbWritesMemoryAndUpdatesRegisters) {
  cpu_.s.gpr[ECX] = 4;
  cpu_.s.gpr[EDI] = 0x5000;
  cpu_.s.gpr[EDX] = 0x300;  // unclaimed port reads 0xFF
  code({0xF3, 0x6C});
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ECX], 0u);
  EXPECT_EQ(cpu_.s.gpr[EDI], 0x5004u);
  EXPECT_EQ(peek32(0x5000), 0xFFFFFFFFu);
}

TEST_F(System, SixteenBitInterruptGatePushesWords) {
  set_gate(0x40, gate(kKCode, kHandler, 0x86));  // 16-bit interrupt gate
  code({0xCD, 0x40});
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ESP], kStack0 - 6);
  EXPECT_EQ(peek16(kStack0 - 6), uint16_t(kCode + 2));  // IP
  EXPECT_TRUE(peek16(kStack0 - 2) & 2);                  // FLAGS
  EXPECT_EQ(peek16(kStack0 - 4), kKCode);
  EXPECT_EQ(cpu_.s.eip, kHandler & 0xFFFF);  // 16-bit gate offset
}

TEST_F(System, IretWithNtAndAvailableBackLinkRaisesTs) {
  poke16(kTssA, kSelTssB);  // back link to an available (not busy) TSS
  cpu_.write_eflags(FLAG_NT, FLAG_NT);
  code({0xCF});
  ASSERT_EQ(step(1), StopReason::Exception);
  expect_exception(VEC_TS, kSelTssB);
  EXPECT_EQ(cpu_.s.tr.selector, kSelTssA);
}

}  // namespace
}  // namespace faultline::testing
