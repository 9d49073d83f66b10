// The traced native child: runs 32-bit code in compatibility mode and reports
// int 0x80 stops and signals.
#include "core/direct/native_child.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <vector>

namespace faultline::direct {
namespace {

constexpr uint32_t kCode = 0xF000;
constexpr uint32_t kData = 0x20000000;

class NativeChildTest : public ::testing::Test {
 protected:
  NativeChildTest()
      : child_({{kCode, 0x1000, false, true}, {kData, 0x2000, true, false}}, 5000) {}

  NativeResult run(const std::vector<uint8_t>& code, NativeRegs regs = {}, NativeFpu fpu = {}) {
    std::memset(child_.mem(kCode, 0x1000), 0xF4, 0x1000);
    std::memcpy(child_.mem(kCode, static_cast<uint32_t>(code.size())), code.data(), code.size());
    regs.eip = kCode;
    NativeResult out;
    child_.run(regs, fpu, out);
    return out;
  }

  NativeChild child_;
};

TEST_F(NativeChildTest, AddsAndStopsAtInt80) {
  // mov eax, 5; add eax, 7; int 0x80
  NativeResult r = run({0xB8, 5, 0, 0, 0, 0x83, 0xC0, 7, 0xCD, 0x80});
  EXPECT_EQ(r.stop, NativeStop::Int80);
  EXPECT_EQ(r.regs.gpr[0], 12u);
  EXPECT_EQ(r.int80_eax, 12u);
  EXPECT_EQ(r.regs.eip, kCode + 10);
}

TEST_F(NativeChildTest, GuestInt80NeverRunsAHostSystemCall) {
  // mov eax, 1 (exit); mov ebx, 3; int 0x80 -- twice: the child survives.
  const std::vector<uint8_t> code = {0xB8, 1, 0, 0, 0, 0xBB, 3, 0, 0, 0, 0xCD, 0x80};
  for (int k = 0; k < 2; ++k) {
    NativeResult r = run(code);
    EXPECT_EQ(r.stop, NativeStop::Int80);
    EXPECT_EQ(r.int80_eax, 1u);
  }
}

TEST_F(NativeChildTest, MemoryIsShared) {
  // mov dword [kData+4], 0x12345678; mov eax, [kData]; int 0x80
  uint32_t v = 0xCAFEF00D;
  std::memcpy(child_.mem(kData, 4), &v, 4);
  NativeResult r = run({0xC7, 0x05, 0x04, 0x00, 0x00, 0x20, 0x78, 0x56, 0x34, 0x12,
                        0xA1, 0x00, 0x00, 0x00, 0x20, 0xCD, 0x80});
  ASSERT_EQ(r.stop, NativeStop::Int80);
  EXPECT_EQ(r.regs.gpr[0], 0xCAFEF00Du);
  uint32_t w;
  std::memcpy(&w, child_.mem(kData + 4, 4), 4);
  EXPECT_EQ(w, 0x12345678u);
}

TEST_F(NativeChildTest, PageFaultReportsTheAddress) {
  // nop; mov eax, [kData + 0x2010]  (just past the mapped data)
  NativeResult r = run({0x90, 0xA1, 0x10, 0x20, 0x00, 0x20, 0xCD, 0x80});
  ASSERT_EQ(r.stop, NativeStop::Signal);
  EXPECT_EQ(r.signo, SIGSEGV);
  EXPECT_EQ(r.si_code, SEGV_MAPERR);
  EXPECT_EQ(r.sig_addr, kData + 0x2010u);
  EXPECT_EQ(r.regs.eip, kCode + 1);  // the faulting instruction
}

TEST_F(NativeChildTest, WriteToCodeIsAnAccessFault) {
  NativeResult r = run({0xA3, 0x00, 0xF0, 0x00, 0x00, 0xCD, 0x80});  // mov [0xF000], eax
  ASSERT_EQ(r.stop, NativeStop::Signal);
  EXPECT_EQ(r.signo, SIGSEGV);
  EXPECT_EQ(r.si_code, SEGV_ACCERR);
  EXPECT_EQ(r.sig_addr, kCode);
}

TEST_F(NativeChildTest, DivideByZeroIsSigfpe) {
  NativeRegs regs;
  regs.gpr[0] = 100;
  NativeResult r = run({0x31, 0xC9, 0xF7, 0xF1, 0xCD, 0x80}, regs);  // xor ecx,ecx; div ecx
  ASSERT_EQ(r.stop, NativeStop::Signal);
  EXPECT_EQ(r.signo, SIGFPE);
  EXPECT_EQ(r.si_code, FPE_INTDIV);
  EXPECT_EQ(r.regs.eip, kCode + 2);
  EXPECT_EQ(r.regs.gpr[0], 100u);
}

TEST_F(NativeChildTest, InvalidLockIsSigill) {
  NativeResult r = run({0xF0, 0x90, 0xCD, 0x80});  // lock nop
  ASSERT_EQ(r.stop, NativeStop::Signal);
  EXPECT_EQ(r.signo, SIGILL);
  EXPECT_EQ(r.regs.eip, kCode);
}

TEST_F(NativeChildTest, X87StateRoundTrips) {
  // fadd st0, st0 with ST(0) = 1.0 (TOP = 5, physical register 5).
  NativeFpu f;
  f.fsw = 5 << 11;
  f.ftw = 1u << 5;
  const long double one = 1.0L;
  std::memcpy(f.st[0], &one, 10);
  NativeResult r = run({0xD8, 0xC0, 0xCD, 0x80}, {}, f);
  ASSERT_EQ(r.stop, NativeStop::Int80);
  long double v = 0;
  std::memcpy(&v, r.fpu.st[0], 10);
  EXPECT_EQ(v, 2.0L);
  EXPECT_EQ((r.fpu.fsw >> 11) & 7, 5u);
  EXPECT_EQ(r.fpu.ftw, 1u << 5);
  EXPECT_EQ(r.fpu.fcw, 0x037F);
}

TEST_F(NativeChildTest, FlagsAndDirectionAreSetAndRead) {
  NativeRegs regs;
  regs.eflags = 0x202 | 0x400 | 0x1;  // DF, CF
  NativeResult r = run({0x90, 0xCD, 0x80}, regs);
  ASSERT_EQ(r.stop, NativeStop::Int80);
  EXPECT_EQ(r.regs.eflags & 0xCD5, 0x401u);
}

TEST_F(NativeChildTest, NoForeignMappingsBelow4GiB) {
  EXPECT_TRUE(child_.foreign_low_mappings().empty());
}

}  // namespace
}  // namespace faultline::direct
