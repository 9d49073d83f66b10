// Integer instruction handlers: hand-checked cases from the Intel SDM for the
// tricky corners (faults without commit, write-back semantics, odd operand
// addressing, BCD adjustments, restartable string instructions).
#include "core/cpu.h"  // before gtest: <signal.h> macros must not hit cpu.h
#include "tests/core/cpu_fixture.h"

namespace faultline::testing {
namespace {

class OpsInt : public CpuFixture {
 protected:
  uint32_t eax() const { return cpu_.s.gpr[EAX]; }
  uint32_t flags() const { return cpu_.eflags(); }
  void set_flags(uint32_t f) { cpu_.write_eflags(f | 2, 0xFFFFFFFFu); }
  StopReason fault_step() {
    cpu_.stop_on_exception = true;
    return step(1);
  }
  uint8_t peek8(uint32_t a) const { return ram_[a]; }
  uint16_t peek16(uint32_t a) const {
    uint16_t v;
    std::memcpy(&v, ram_.data() + a, 2);
    return v;
  }
  void poke16(uint32_t a, uint16_t v) { std::memcpy(ram_.data() + a, &v, 2); }
};

constexpr uint32_t kArith = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;

// ---- DIV / IDIV ---------------------------------------------------------------

TEST_F(OpsInt, DivQuotientOverflowRaisesDeWithoutChangingState) {
  cpu_.s.gpr[EDX] = 2;
  cpu_.s.gpr[EAX] = 0x12345678;
  cpu_.s.gpr[ECX] = 2;
  code({0xF7, 0xF1});  // div ecx: 0x2_12345678 / 2 does not fit 32 bits
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_DE);
  EXPECT_EQ(cpu_.s.gpr[EDX], 2u);
  EXPECT_EQ(eax(), 0x12345678u);
  EXPECT_EQ(cpu_.s.eip, kCode);
}

TEST_F(OpsInt, DivByZeroRaisesDe) {
  cpu_.s.gpr[EAX] = 100;
  cpu_.s.gpr[EBX] = 0;
  code({0xF6, 0xF3});  // div bl
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_DE);
  EXPECT_EQ(eax(), 100u);
}

TEST_F(OpsInt, IdivMostNegativeByMinusOneRaisesDe) {
  cpu_.s.gpr[EDX] = 0xFFFFFFFFu;
  cpu_.s.gpr[EAX] = 0x80000000u;
  cpu_.s.gpr[ECX] = 0xFFFFFFFFu;
  code({0xF7, 0xF9});  // idiv ecx
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_DE);
  EXPECT_EQ(eax(), 0x80000000u);
}

TEST_F(OpsInt, IdivByteAllowsMinus128AndRejects128) {
  cpu_.s.gpr[EAX] = 0xFF80;  // -128
  cpu_.s.gpr[EBX] = 1;
  code({0xF6, 0xFB});  // idiv bl
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax() & 0xFFFF, 0x0080u);  // AL = -128, AH = 0
  cpu_.s.eip = kCode;
  cpu_.s.gpr[EAX] = 0x0080;  // +128 / 1
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_DE);
}

TEST_F(OpsInt, IdivRemainderTakesTheSignOfTheDividend) {
  cpu_.s.gpr[EDX] = 0xFFFFFFFFu;
  cpu_.s.gpr[EAX] = static_cast<uint32_t>(-7);
  cpu_.s.gpr[ECX] = 2;
  code({0xF7, 0xF9});  // idiv ecx
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), static_cast<uint32_t>(-3));
  EXPECT_EQ(cpu_.s.gpr[EDX], static_cast<uint32_t>(-1));
}

// ---- MUL / IMUL -----------------------------------------------------------------

TEST_F(OpsInt, MulSetsCarryAndOverflowWhenHighHalfNonZero) {
  cpu_.s.gpr[EAX] = 0x80000000u;
  cpu_.s.gpr[EBX] = 4;
  code({0xF7, 0xE3});  // mul ebx
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0u);
  EXPECT_EQ(cpu_.s.gpr[EDX], 2u);
  EXPECT_EQ(flags() & (FLAG_CF | FLAG_OF), FLAG_CF | FLAG_OF);
}

TEST_F(OpsInt, ImulThreeOperandTruncatesAndFlagsOverflow) {
  cpu_.s.gpr[EBX] = 0x40000000u;
  code({0x6B, 0xC3, 0x04,               // imul eax, ebx, 4
        0x66, 0x69, 0xCB, 0xFE, 0xFF});  // imul cx, bx, -2
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0u);
  EXPECT_EQ(flags() & (FLAG_CF | FLAG_OF), FLAG_CF | FLAG_OF);
  cpu_.s.gpr[EBX] = 0x1234;
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ECX] & 0xFFFF, uint32_t(uint16_t(0x1234 * -2)));
  EXPECT_EQ(flags() & (FLAG_CF | FLAG_OF), 0u);
}

// ---- ALU --------------------------------------------------------------------

TEST_F(OpsInt, AdcWithCarryInComputesCarryAndOverflow) {
  set_flags(FLAG_CF);
  cpu_.s.gpr[EAX] = 0x7FFFFFFFu;
  code({0x83, 0xD0, 0x00});  // adc eax, 0
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0x80000000u);
  EXPECT_EQ(flags() & kArith, FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF);
}

TEST_F(OpsInt, SbbWithBorrowInFromZeroBorrowsOut) {
  set_flags(FLAG_CF);
  cpu_.s.gpr[EAX] = 0x00;
  code({0x1C, 0xFF});  // sbb al, 0xff: 0 - 255 - 1 = 0 with borrow
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax() & 0xFF, 0u);
  EXPECT_EQ(flags() & kArith, FLAG_CF | FLAG_ZF | FLAG_PF | FLAG_AF);
}

TEST_F(OpsInt, IncPreservesCarry) {
  set_flags(FLAG_CF);
  cpu_.s.gpr[ECX] = 0xFFFFFFFFu;
  code({0x41});  // inc ecx
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ECX], 0u);
  EXPECT_EQ(flags() & (FLAG_CF | FLAG_ZF | FLAG_OF), FLAG_CF | FLAG_ZF);
}

TEST_F(OpsInt, NegZeroClearsCarryNegNonZeroSetsIt) {
  cpu_.s.gpr[EAX] = 0;
  cpu_.s.gpr[EBX] = 5;
  code({0xF7, 0xD8, 0xF7, 0xDB});  // neg eax; neg ebx
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_FALSE(flags() & FLAG_CF);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EBX], static_cast<uint32_t>(-5));
  EXPECT_TRUE(flags() & FLAG_CF);
}

TEST_F(OpsInt, SahfLahfRoundTripKeepsOverflow) {
  set_flags(FLAG_OF);
  cpu_.s.gpr[EAX] = 0xD500;  // SF ZF AF PF CF
  code({0x9E, 0x9F});        // sahf; lahf
  ASSERT_EQ(step(2), StopReason::Budget);
  EXPECT_EQ(flags() & kArith, kArith);
  EXPECT_EQ((eax() >> 8) & 0xFF, 0xD7u);  // bit 1 reads as 1
}

// ---- shifts ------------------------------------------------------------------

TEST_F(OpsInt, ShiftByZeroChangesNoFlags) {
  set_flags(FLAG_CF | FLAG_OF | FLAG_ZF);
  cpu_.s.gpr[EAX] = 0x80;
  cpu_.s.gpr[ECX] = 0x20;  // masked to 0
  code({0xD3, 0xE0, 0xD2, 0xC0});  // shl eax, cl; rol al, cl
  ASSERT_EQ(step(2), StopReason::Budget);
  EXPECT_EQ(eax(), 0x80u);
  EXPECT_EQ(flags() & kArith, FLAG_CF | FLAG_OF | FLAG_ZF);
}

TEST_F(OpsInt, RclByteUsesCountModNine) {
  set_flags(FLAG_CF);
  cpu_.s.gpr[EAX] = 0x81;
  cpu_.s.gpr[ECX] = 9;  // 9 mod 9 = 0: nothing changes
  code({0xD2, 0xD0,     // rcl al, cl
        0xD0, 0xD0});   // rcl al, 1
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0x81u);
  EXPECT_TRUE(flags() & FLAG_CF);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0x03u);  // 1:10000001 -> 1:00000011
  EXPECT_TRUE(flags() & FLAG_CF);
  EXPECT_TRUE(flags() & FLAG_OF);  // MSB(0x03)=0 xor CF=1
}

TEST_F(OpsInt, SarAndShrCarryAndOverflow) {
  cpu_.s.gpr[EAX] = 0x80000001u;
  cpu_.s.gpr[EBX] = 0x80000001u;
  code({0xD1, 0xF8,    // sar eax, 1
        0xD1, 0xEB});  // shr ebx, 1
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0xC0000000u);
  EXPECT_EQ(flags() & (FLAG_CF | FLAG_OF | FLAG_SF), FLAG_CF | FLAG_SF);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EBX], 0x40000000u);
  EXPECT_EQ(flags() & (FLAG_CF | FLAG_OF | FLAG_SF), FLAG_CF | FLAG_OF);
}

TEST_F(OpsInt, ShldShrd) {
  cpu_.s.gpr[EAX] = 0x12345678u;
  cpu_.s.gpr[EBX] = 0x9ABCDEF0u;
  code({0x0F, 0xA4, 0xD8, 0x08,    // shld eax, ebx, 8
        0x0F, 0xAC, 0xD8, 0x04});  // shrd eax, ebx, 4
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0x3456789Au);
  EXPECT_FALSE(flags() & FLAG_CF);  // last bit out: bit 24 of 0x12345678 = 0
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0x03456789u);
  EXPECT_TRUE(flags() & FLAG_CF);  // bit 3 of 0x3456789A = 1
}

// ---- bit instructions -----------------------------------------------------------

TEST_F(OpsInt, BtMemoryWithNegativeRegisterOffsetAddressesBelowTheOperand) {
  poke32(0x20000 - 4, 0x80000000u);
  cpu_.s.gpr[EAX] = 0xFFFFFFFFu;  // bit -1: bit 31 of the dword at -4
  cpu_.s.gpr[ECX] = static_cast<uint32_t>(-33);  // bit 31 of the dword at -8
  code({0x0F, 0xA3, 0x05, 0x00, 0x00, 0x02, 0x00,    // bt [0x20000], eax
        0x0F, 0xAB, 0x0D, 0x00, 0x00, 0x02, 0x00});  // bts [0x20000], ecx
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_TRUE(flags() & FLAG_CF);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_FALSE(flags() & FLAG_CF);
  EXPECT_EQ(peek32(0x20000 - 8), 0x80000000u);
  EXPECT_EQ(peek32(0x20000), 0u);
}

TEST_F(OpsInt, BtImmediateOffsetIsMaskedToOperandSize) {
  poke32(0x20000, 0x2);
  code({0x0F, 0xBA, 0x25, 0x00, 0x00, 0x02, 0x00, 0x21});  // bt dword [0x20000], 33
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_TRUE(flags() & FLAG_CF);
}

TEST_F(OpsInt, BsfZeroSourceSetsZfAndKeepsDestination) {
  cpu_.s.gpr[EAX] = 0xDEADBEEFu;
  cpu_.s.gpr[EBX] = 0;
  cpu_.s.gpr[ECX] = 0x00F00000u;
  code({0x0F, 0xBC, 0xC3,    // bsf eax, ebx
        0x0F, 0xBD, 0xD1});  // bsr edx, ecx
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0xDEADBEEFu);
  EXPECT_TRUE(flags() & FLAG_ZF);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EDX], 23u);
  EXPECT_FALSE(flags() & FLAG_ZF);
}

TEST_F(OpsInt, Bswap16ClearsLowWord) {
  cpu_.s.gpr[EAX] = 0x11223344u;
  cpu_.s.gpr[EBX] = 0x11223344u;
  code({0x66, 0x0F, 0xC8, 0x0F, 0xCB});  // bswap ax; bswap ebx
  ASSERT_EQ(step(2), StopReason::Budget);
  EXPECT_EQ(eax(), 0x11220000u);
  EXPECT_EQ(cpu_.s.gpr[EBX], 0x44332211u);
}

TEST_F(OpsInt, CmovWithFalseConditionStillReadsMemory) {
  identity_paging();
  set_pte(0x407000, 0);
  set_flags(0);  // ZF = 0
  cpu_.s.gpr[EAX] = 7;
  code({0x0F, 0x44, 0x05, 0x00, 0x70, 0x40, 0x00});  // cmovz eax, [0x407000]
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_PF);
  EXPECT_EQ(eax(), 7u);
}

TEST_F(OpsInt, BoundOutOfRangeRaisesBrAndRegisterFormIsUd) {
  poke32(0x20000, 10);
  poke32(0x20004, 20);
  cpu_.s.gpr[EAX] = 21;
  code({0x62, 0x05, 0x00, 0x00, 0x02, 0x00});  // bound eax, [0x20000]
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_BR);
  cpu_.exc = {};
  cpu_.s.gpr[EAX] = 20;
  ASSERT_EQ(step(1), StopReason::Budget);
  cpu_.s.eip = kCode + 0x100;
  code({0x62, 0xC0}, kCode + 0x100);  // bound eax, eax
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_UD);
}

// ---- MOV / XCHG / CMPXCHG ---------------------------------------------------------

TEST_F(OpsInt, CmpxchgFailureWritesDestinationBack) {
  identity_paging();
  set_pte(0x408000, 0x408000 | 5);  // present, user, read-only
  flat32(3);
  cpu_.s.cr0 |= CR0_PG;
  cpu_.flush_tlb(true);
  poke32(0x408000, 5);
  cpu_.s.gpr[EAX] = 1;  // != 5: compare fails, but the write-back faults
  cpu_.s.gpr[ECX] = 9;
  code({0x0F, 0xB1, 0x0D, 0x00, 0x80, 0x40, 0x00});  // cmpxchg [0x408000], ecx
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_PF);
  EXPECT_EQ(cpu_.exc.error, 7u);  // present | write | user
  EXPECT_EQ(eax(), 1u);
}

TEST_F(OpsInt, CmpxchgSuccessAndFailure) {
  poke32(0x20000, 5);
  cpu_.s.gpr[EAX] = 5;
  cpu_.s.gpr[ECX] = 9;
  code({0x0F, 0xB1, 0x0D, 0x00, 0x00, 0x02, 0x00,    // cmpxchg [0x20000], ecx
        0x0F, 0xB1, 0x0D, 0x00, 0x00, 0x02, 0x00});
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(peek32(0x20000), 9u);
  EXPECT_TRUE(flags() & FLAG_ZF);
  ASSERT_EQ(step(1), StopReason::Budget);  // EAX 5 != 9
  EXPECT_EQ(peek32(0x20000), 9u);
  EXPECT_EQ(eax(), 9u);
  EXPECT_FALSE(flags() & FLAG_ZF);
}

TEST_F(OpsInt, Cmpxchg8bCompareAndRegisterFormUd) {
  poke32(0x20000, 1);
  poke32(0x20004, 2);
  cpu_.s.gpr[EAX] = 1;
  cpu_.s.gpr[EDX] = 3;
  cpu_.s.gpr[EBX] = 0xAA;
  cpu_.s.gpr[ECX] = 0xBB;
  code({0x0F, 0xC7, 0x0D, 0x00, 0x00, 0x02, 0x00,    // cmpxchg8b [0x20000]
        0x0F, 0xC7, 0x0D, 0x00, 0x00, 0x02, 0x00,
        0x0F, 0xC7, 0xC9});                          // cmpxchg8b ecx (invalid)
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_FALSE(flags() & FLAG_ZF);
  EXPECT_EQ(eax(), 1u);
  EXPECT_EQ(cpu_.s.gpr[EDX], 2u);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_TRUE(flags() & FLAG_ZF);
  EXPECT_EQ(peek32(0x20000), 0xAAu);
  EXPECT_EQ(peek32(0x20004), 0xBBu);
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_UD);
}

TEST_F(OpsInt, XaddSameRegisterKeepsSum) {
  cpu_.s.gpr[EAX] = 3;
  cpu_.s.gpr[EBX] = 4;
  code({0x0F, 0xC1, 0xD8,    // xadd eax, ebx
        0x0F, 0xC1, 0xC9});  // xadd ecx, ecx
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 7u);
  EXPECT_EQ(cpu_.s.gpr[EBX], 3u);
  cpu_.s.gpr[ECX] = 21;
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ECX], 42u);
}

TEST_F(OpsInt, LeaWithSixteenBitAddressSizeWraps) {
  cpu_.s.gpr[EBX] = 0x12340000u;  // BX = 0
  code({0x67, 0x8D, 0x47, 0xFF,   // lea eax, [bx-1]
        0x8D, 0xC0});             // lea eax, eax (invalid)
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0xFFFFu);
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_UD);
}

TEST_F(OpsInt, XlatUsesSegmentOverride) {
  SegmentCache fs = cpu_.s.seg[FS];
  fs.base = 0x30000;
  set_seg(FS, fs);
  ram_[0x30000 + 0x100 + 0x05] = 0x77;
  cpu_.s.gpr[EBX] = 0x100;
  cpu_.s.gpr[EAX] = 0x05;
  code({0x64, 0xD7});  // xlat fs:[ebx]
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0x77u);
}

TEST_F(OpsInt, MovMoffsAndMovsx) {
  poke32(0x20000, 0x000080F0u);
  code({0xA1, 0x00, 0x00, 0x02, 0x00,    // mov eax, [0x20000]
        0x0F, 0xBF, 0xD8,                // movsx ebx, ax
        0x0F, 0xB6, 0xCC});              // movzx ecx, ah
  ASSERT_EQ(step(3), StopReason::Budget);
  EXPECT_EQ(eax(), 0x80F0u);
  EXPECT_EQ(cpu_.s.gpr[EBX], 0xFFFF80F0u);
  EXPECT_EQ(cpu_.s.gpr[ECX], 0x80u);
}

// ---- stack ------------------------------------------------------------------

TEST_F(OpsInt, PushEspPushesValueBeforeDecrement) {
  code({0x54});  // push esp
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x7FFFCu);
  EXPECT_EQ(peek32(0x7FFFC), 0x80000u);
}

TEST_F(OpsInt, PopEspLoadsPoppedValue) {
  poke32(0x80000, 0x12345678u);
  code({0x5C});  // pop esp
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x12345678u);
}

TEST_F(OpsInt, PopToEspBasedMemoryUsesIncrementedEsp) {
  poke32(0x80000, 0xCAFEF00Du);
  code({0x8F, 0x04, 0x24});  // pop dword [esp]
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x80004u);
  EXPECT_EQ(peek32(0x80004), 0xCAFEF00Du);
}

TEST_F(OpsInt, PopToFaultingMemoryLeavesEspUnchanged) {
  identity_paging();
  set_pte(0x407000, 0);
  code({0x8F, 0x05, 0x00, 0x70, 0x40, 0x00});  // pop dword [0x407000]
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_PF);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x80000u);
}

TEST_F(OpsInt, PushaPopaRoundTripSkipsEsp) {
  for (unsigned r = 0; r < 8; ++r) {
    if (r != ESP) cpu_.s.gpr[r] = 0x1000 * (r + 1);
  }
  code({0x60, 0x61});  // pusha; popa
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x80000u - 32);
  EXPECT_EQ(peek32(0x80000 - 4), 0x1000u);        // EAX first
  EXPECT_EQ(peek32(0x80000 - 20), 0x80000u);      // original ESP
  EXPECT_EQ(peek32(0x80000 - 32), 0x8000u);       // EDI last
  poke32(0x80000 - 20, 0xDEAD);                   // ignored by POPA
  for (unsigned r = 0; r < 8; ++r) {
    if (r != ESP) cpu_.s.gpr[r] = 0;
  }
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x80000u);
  EXPECT_EQ(cpu_.s.gpr[EDI], 0x8000u);
  EXPECT_EQ(cpu_.s.gpr[EAX], 0x1000u);
}

TEST_F(OpsInt, EnterWithNestingLevelCopiesFramePointers) {
  cpu_.s.gpr[EBP] = 0x90000;
  poke32(0x90000 - 4, 0xAAAA);
  poke32(0x90000 - 8, 0xBBBB);
  code({0xC8, 0x08, 0x00, 0x03});  // enter 8, 3
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(peek32(0x7FFFC), 0x90000u);  // old EBP
  EXPECT_EQ(peek32(0x7FFF8), 0xAAAAu);
  EXPECT_EQ(peek32(0x7FFF4), 0xBBBBu);
  EXPECT_EQ(peek32(0x7FFF0), 0x7FFFCu);  // the new frame pointer
  EXPECT_EQ(cpu_.s.gpr[EBP], 0x7FFFCu);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x7FFF0u - 8);
}

TEST_F(OpsInt, EnterFramePointerReadsSeeEarlierPushes) {
  // EBP just above ESP: the third frame-pointer copy reads the slot that
  // ENTER itself pushed EBP into, as the hardware's read/push order implies.
  cpu_.s.gpr[EBP] = 0x80008;
  poke32(0x80004, 0xA);
  poke32(0x80000, 0xB);
  poke32(0x7FFFC, 0xDEAD);  // stale value below ESP
  code({0xC8, 0x00, 0x00, 0x04});  // enter 0, 4
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(peek32(0x7FFFC), 0x80008u);
  EXPECT_EQ(peek32(0x7FFF8), 0xAu);
  EXPECT_EQ(peek32(0x7FFF4), 0xBu);
  EXPECT_EQ(peek32(0x7FFF0), 0x80008u);  // not 0xDEAD
  EXPECT_EQ(peek32(0x7FFEC), 0x7FFFCu);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x7FFECu);
}

TEST_F(OpsInt, EnterReportsThePushFaultBeforeFramePointerReads) {
  identity_paging();
  set_pte(0x7F000, 0);          // the first push faults...
  cpu_.s.gpr[EBP] = 0x500000;   // ...before [EBP-4] (unmapped too) is read
  set_pte(0x4FF000, 0);
  code({0xC8, 0x00, 0x00, 0x03});  // enter 0, 3
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_PF);
  EXPECT_EQ(cpu_.s.cr2, 0x7FFFCu);
}

TEST_F(OpsInt, EnterFaultCommitsNothing) {
  identity_paging();
  set_pte(0x7E000, 0);  // the page holding the final stack pointer
  cpu_.s.gpr[ESP] = 0x80000;
  cpu_.s.gpr[EBP] = 0x90000;
  code({0xC8, 0x00, 0x10, 0x00});  // enter 0x1000, 0
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_PF);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x80000u);
  EXPECT_EQ(cpu_.s.gpr[EBP], 0x90000u);
  EXPECT_EQ(peek32(0x7FFFC), 0u);
}

TEST_F(OpsInt, LeaveRestoresFrame) {
  cpu_.s.gpr[EBP] = 0x70000;
  poke32(0x70000, 0x12345);
  code({0xC9});  // leave
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x70004u);
  EXPECT_EQ(cpu_.s.gpr[EBP], 0x12345u);
}

TEST_F(OpsInt, Enter16AndLeave16InRealMode) {
  real_mode();
  cpu_.s.gpr[ESP] = 0xABCD8000u;  // 16-bit stack: only SP changes
  cpu_.s.gpr[EBP] = 0x00009000u;
  poke16(0x9000 - 2, 0x1234);
  code({0xC8, 0x04, 0x00, 0x02,  // enter 4, 2
        0xC9});                  // leave
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(peek16(0x7FFE), 0x9000u);  // old BP
  EXPECT_EQ(peek16(0x7FFC), 0x1234u);  // copied frame pointer
  EXPECT_EQ(peek16(0x7FFA), 0x7FFEu);  // new frame pointer
  EXPECT_EQ(cpu_.s.gpr[EBP], 0x7FFEu);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0xABCD7FF6u);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0xABCD8000u);
  EXPECT_EQ(cpu_.s.gpr[EBP], 0x9000u);
}

TEST_F(OpsInt, PushSpWrapsInSixteenBitStack) {
  real_mode();
  cpu_.s.gpr[ESP] = 0x0000;  // SP = 0: the push goes to SS:FFFE
  code({0x54});              // push sp
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0xFFFEu);
  EXPECT_EQ(peek16(0xFFFE), 0x0000u);
}

TEST_F(OpsInt, RepStringWithTrapFlagTrapsAfterEachIteration) {
  cpu_.s.gpr[ESI] = 0x20000;
  cpu_.s.gpr[EDI] = 0x21000;
  cpu_.s.gpr[ECX] = 3;
  set_flags(FLAG_TF);
  code({0xF3, 0xA4});  // rep movsb
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_DB);
  EXPECT_EQ(cpu_.s.gpr[ECX], 2u);
  EXPECT_EQ(cpu_.s.eip, kCode);  // the instruction resumes with the next iteration
}

// ---- branches --------------------------------------------------------------------

TEST_F(OpsInt, CallBeyondCsLimitPushesNothing) {
  SegmentCache cs = cpu_.s.seg[CS];
  cs.limit = 0x1FFFF;
  cs.attr &= ~SEG_G;
  set_seg(CS, cs);
  code({0xE8, 0x00, 0x00, 0x01, 0x00});  // call +0x10000 -> 0x20005
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_GP);
  EXPECT_EQ(cpu_.exc.error, 0u);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x80000u);
}

TEST_F(OpsInt, CallAndRetWithImmediate) {
  code({0xE8, 0x0B, 0x00, 0x00, 0x00});  // call +11 -> kCode+16
  code({0xC2, 0x08, 0x00}, kCode + 16);  // ret 8
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.eip, kCode + 16);
  EXPECT_EQ(peek32(0x7FFFC), kCode + 5);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.eip, kCode + 5);
  EXPECT_EQ(cpu_.s.gpr[ESP], 0x80008u);
}

TEST_F(OpsInt, SixteenBitJumpTruncatesTarget) {
  real_mode();
  code({0xE9, 0xFD, 0x00});               // jmp near +0xFD -> IP 0x100
  code({0xE9, 0x00, 0xFF}, kCode + 0x100);  // 0x103 + 0xFF00 wraps to 0x0003
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.eip, 0x100u);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.eip, 0x0003u);
}

TEST_F(OpsInt, LoopUsesAddressSizeCounter) {
  cpu_.s.gpr[ECX] = 0x00010001u;
  code({0x67, 0xE2, 0xFD});  // loop (cx) to itself
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ECX], 0x00010000u);  // CX hit zero: falls through
  EXPECT_EQ(cpu_.s.eip, kCode + 3);
}

TEST_F(OpsInt, LoopneStopsOnZf) {
  cpu_.s.gpr[ECX] = 5;
  set_flags(FLAG_ZF);
  code({0xE0, 0xFE});  // loopne $
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ECX], 4u);
  EXPECT_EQ(cpu_.s.eip, kCode + 2);
}

// ---- strings -------------------------------------------------------------------

TEST_F(OpsInt, RepMovsFaultInTheMiddleLeavesRestartableRegisters) {
  identity_paging();
  set_pte(0x402000, 0);
  for (uint32_t k = 0; k < 16; ++k) poke32(0x300000 + 4 * k, k + 1);
  cpu_.s.gpr[ESI] = 0x300000;
  cpu_.s.gpr[EDI] = 0x401FF0;  // four dwords fit before the missing page
  cpu_.s.gpr[ECX] = 16;
  code({0xF3, 0xA5});  // rep movsd
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_PF);
  EXPECT_EQ(cpu_.s.cr2, 0x402000u);
  EXPECT_EQ(cpu_.s.gpr[ECX], 12u);
  EXPECT_EQ(cpu_.s.gpr[ESI], 0x300010u);
  EXPECT_EQ(cpu_.s.gpr[EDI], 0x402000u);
  EXPECT_EQ(cpu_.s.eip, kCode);
  EXPECT_EQ(peek32(0x401FFC), 4u);
  // Map the page again and resume: the copy completes.
  set_pte(0x402000, 0x402000 | 7);
  cpu_.exc = {};
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ECX], 0u);
  EXPECT_EQ(peek32(0x40202C), 16u);
  EXPECT_EQ(cpu_.s.eip, kCode + 2);
}

TEST_F(OpsInt, RepStosBackwardsWithSixteenBitAddressing) {
  real_mode();
  set_flags(FLAG_DF);
  cpu_.s.gpr[EAX] = 0xAB;
  cpu_.s.gpr[EDI] = 0xFFFF0001u;  // DI = 1: wraps to 0xFFFF
  cpu_.s.gpr[ECX] = 0xFFFF0003u;  // CX = 3
  code({0xF3, 0xAA});  // rep stosb
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(peek8(1), 0xABu);
  EXPECT_EQ(peek8(0), 0xABu);
  EXPECT_EQ(peek8(0xFFFF), 0xABu);
  EXPECT_EQ(cpu_.s.gpr[EDI], 0xFFFFFFFEu);
  EXPECT_EQ(cpu_.s.gpr[ECX], 0xFFFF0000u);
}

TEST_F(OpsInt, RepeCmpsStopsAtFirstDifference) {
  const char a[] = "abcdef", b[] = "abcxef";
  std::memcpy(ram_.data() + 0x20000, a, 6);
  std::memcpy(ram_.data() + 0x21000, b, 6);
  cpu_.s.gpr[ESI] = 0x20000;
  cpu_.s.gpr[EDI] = 0x21000;
  cpu_.s.gpr[ECX] = 6;
  code({0xF3, 0xA6});  // repe cmpsb
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ECX], 2u);
  EXPECT_EQ(cpu_.s.gpr[ESI], 0x20004u);
  EXPECT_FALSE(flags() & FLAG_ZF);
  EXPECT_TRUE(flags() & FLAG_CF);  // 'd' < 'x'
}

TEST_F(OpsInt, RepneScasFindsByte) {
  std::memcpy(ram_.data() + 0x20000, "hello", 6);
  cpu_.s.gpr[EAX] = 0;
  cpu_.s.gpr[EDI] = 0x20000;
  cpu_.s.gpr[ECX] = 0xFFFFFFFFu;
  code({0xF2, 0xAE});  // repne scasb
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[EDI], 0x20006u);
  EXPECT_EQ(cpu_.s.gpr[ECX], 0xFFFFFFFFu - 6);
  EXPECT_TRUE(flags() & FLAG_ZF);
}

TEST_F(OpsInt, RepWithZeroCountDoesNothing) {
  cpu_.s.gpr[ECX] = 0;
  cpu_.s.gpr[ESI] = 0x20000;
  cpu_.s.gpr[EDI] = 0x21000;
  code({0xF3, 0xA4});
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ESI], 0x20000u);
  EXPECT_EQ(cpu_.s.eip, kCode + 2);
}

TEST_F(OpsInt, LongRepMovsRestartsInBatches) {
  cpu_.s.gpr[ESI] = 0x100000;
  cpu_.s.gpr[EDI] = 0x200000 + 0x100000;
  cpu_.s.gpr[ECX] = 10000;
  ram_[0x100000 + 9999] = 0x5A;
  code({0xF3, 0xA4});
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ECX], 10000u - 4096);
  EXPECT_EQ(cpu_.s.eip, kCode);  // re-executed by the loop
  ASSERT_EQ(step(2), StopReason::Budget);
  EXPECT_EQ(cpu_.s.gpr[ECX], 0u);
  EXPECT_EQ(cpu_.s.eip, kCode + 2);
  EXPECT_EQ(ram_[0x300000 + 9999], 0x5A);
}

// ---- BCD ------------------------------------------------------------------------

TEST_F(OpsInt, DaaSdmExample) {
  cpu_.s.gpr[EAX] = 0x79;
  cpu_.s.gpr[EBX] = 0x35;
  code({0x00, 0xD8, 0x27});  // add al, bl; daa
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0xAEu);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0x14u);
  EXPECT_EQ(flags() & (kArith & ~FLAG_OF), FLAG_AF | FLAG_PF | FLAG_CF);
}

TEST_F(OpsInt, DasSdmExample) {
  cpu_.s.gpr[EAX] = 0x35;
  cpu_.s.gpr[EBX] = 0x47;
  code({0x28, 0xD8, 0x2F});  // sub al, bl; das
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0xEEu);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0x88u);
  EXPECT_EQ(flags() & (kArith & ~FLAG_OF), FLAG_SF | FLAG_AF | FLAG_PF | FLAG_CF);
}

TEST_F(OpsInt, AaaCarriesIntoAhAsOnP6) {
  cpu_.s.gpr[EAX] = 0x00FA;
  set_flags(0);
  code({0x37});  // aaa: AX + 0x106 = 0x0200, AL &= 0x0F
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0x0200u);
  EXPECT_EQ(flags() & (FLAG_AF | FLAG_CF), FLAG_AF | FLAG_CF);
}

TEST_F(OpsInt, AasBorrowsFromAh) {
  cpu_.s.gpr[EAX] = 0x0203;
  set_flags(FLAG_AF);
  code({0x3F});  // aas: AX - 6 = 0x01FD, AH - 1 -> 0x00FD, AL &= 0x0F
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0x000Du);
  EXPECT_EQ(flags() & (FLAG_AF | FLAG_CF), FLAG_AF | FLAG_CF);
}

TEST_F(OpsInt, AamAadAndAamZeroDivides) {
  cpu_.s.gpr[EAX] = 0x3F;  // 63
  code({0xD4, 0x0A,        // aam: AH = 6, AL = 3
        0xD5, 0x0A,        // aad: AL = 63, AH = 0
        0xD4, 0x00});      // aam 0: #DE
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0x0603u);
  ASSERT_EQ(step(1), StopReason::Budget);
  EXPECT_EQ(eax(), 0x003Fu);
  ASSERT_EQ(fault_step(), StopReason::Exception);
  EXPECT_EQ(cpu_.exc.vector, VEC_DE);
  EXPECT_EQ(eax(), 0x003Fu);
}

}  // namespace
}  // namespace faultline::testing
