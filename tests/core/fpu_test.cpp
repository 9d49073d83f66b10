// The x87 FPU: exact results for SDM-specified cases (rounding of 1/3 under
// each rounding and precision control, FIST rounding, stack faults and the
// indefinite, FCOMI flags, FXAM classes, FNSAVE/FNSTENV layouts, #NM, #MF,
// #UD of opcodes the P6 does not have), and a randomised check that the fast
// host-execution path agrees bit for bit with the full FRSTOR/FNSAVE path.
#include <array>
#include <cstdlib>
#include <random>
#include <vector>

#include "core/cpu.h"  // before gtest: <signal.h> defines SA_STACK
#include "core/fpu/fpu.h"
#include "tests/core/cpu_fixture.h"

namespace faultline::testing {
namespace {

using namespace faultline::fpu;

constexpr uint32_t kData = 0x20000;

long double make80(uint16_t se, uint64_t m) {
  long double v = 0.0L;
  std::memcpy(&v, &m, 8);
  std::memcpy(reinterpret_cast<uint8_t*>(&v) + 8, &se, 2);
  return v;
}
uint64_t mant(const long double& v) {
  uint64_t m;
  std::memcpy(&m, &v, 8);
  return m;
}
uint16_t sexp(const long double& v) {
  uint16_t se;
  std::memcpy(&se, reinterpret_cast<const uint8_t*>(&v) + 8, 2);
  return se;
}
bool same80(const long double& a, const long double& b) { return std::memcmp(&a, &b, 10) == 0; }

constexpr uint64_t kIndefM = 0xC000000000000000ull;
constexpr uint16_t kIndefSE = 0xFFFF;

std::string dump(const FpuState& s);

class Fpu : public CpuFixture {
 protected:
  Fpu() {
    cpu_.stop_on_exception = true;
    fpu::finit(cpu_.s.fpu);
  }
  ~Fpu() override { set_force_full_path(false); }

  // Program builder: instructions are appended and placed at kCode.
  void emit(std::initializer_list<uint8_t> b) { prog_.insert(prog_.end(), b.begin(), b.end()); ++count_; }
  // esc /reg with a [disp32] operand.
  void emit_mem(uint8_t esc, unsigned reg, uint32_t addr) {
    prog_.push_back(esc);
    prog_.push_back(static_cast<uint8_t>((reg << 3) | 5));
    for (int k = 0; k < 4; ++k) prog_.push_back(static_cast<uint8_t>(addr >> (8 * k)));
    ++count_;
  }
  uint32_t here() const { return kCode + static_cast<uint32_t>(prog_.size()); }
  // Places the program (through write_phys, so cached decodes of earlier
  // programs at the same address are dropped) and runs the instructions
  // emitted since the last run; expects no exception.
  void run_all() {
    cpu_.write_phys(kCode, prog_.data(), prog_.size());
    const uint64_t n = count_ - ran_;
    ran_ = count_;
    ASSERT_EQ(step(n), StopReason::Budget) << "vector " << int(cpu_.exc.vector);
  }
  // Runs the new instructions and expects the last one to raise `vec`.
  void run_expect(uint8_t vec) {
    cpu_.write_phys(kCode, prog_.data(), prog_.size());
    const uint64_t n = count_ - ran_;
    ran_ = count_;
    ASSERT_EQ(step(n), StopReason::Exception);
    EXPECT_EQ(cpu_.exc.vector, vec);
  }
  void reset_prog() {
    prog_.clear();
    count_ = 0;
    ran_ = 0;
    cpu_.s.eip = kCode;
    cpu_.exc = {};
  }

  FpuState& f() { return cpu_.s.fpu; }
  long double& st(unsigned i) { return f().st[(top(f()) + i) & 7]; }
  unsigned st_tag(unsigned i) { return tag_of(f(), (top(f()) + i) & 7); }
  void poke16(uint32_t a, uint16_t v) { std::memcpy(ram_.data() + a, &v, 2); }
  void poke64(uint32_t a, uint64_t v) { std::memcpy(ram_.data() + a, &v, 8); }
  void poke_double(uint32_t a, double d) { std::memcpy(ram_.data() + a, &d, 8); }
  void poke80(uint32_t a, uint16_t se, uint64_t m) {
    poke64(a, m);
    poke16(a + 8, se);
  }
  uint16_t peek16(uint32_t a) const {
    uint16_t v;
    std::memcpy(&v, ram_.data() + a, 2);
    return v;
  }
  uint64_t peek64(uint32_t a) const {
    uint64_t v;
    std::memcpy(&v, ram_.data() + a, 8);
    return v;
  }

  std::vector<uint8_t> prog_;
  uint64_t count_ = 0;
  uint64_t ran_ = 0;
};

// ---- rounding ------------------------------------------------------------------

TEST_F(Fpu, OneThirdRoundsPerRoundingAndPrecisionControl) {
  struct Case {
    uint16_t cw;
    uint64_t m;
    bool c1;
  };
  const Case cases[] = {
      {0x037F, 0xAAAAAAAAAAAAAAABull, true},   // 64-bit, nearest: up
      {0x077F, 0xAAAAAAAAAAAAAAAAull, false},  // down
      {0x0B7F, 0xAAAAAAAAAAAAAAABull, true},   // up
      {0x0F7F, 0xAAAAAAAAAAAAAAAAull, false},  // toward zero
      {0x007F, 0xAAAAAB0000000000ull, true},   // 24-bit, nearest
      {0x047F, 0xAAAAAA0000000000ull, false},  // 24-bit, down
      {0x027F, 0xAAAAAAAAAAAAA800ull, false},  // 53-bit, nearest: ...0101|0101.. -> down
      {0x0A7F, 0xAAAAAAAAAAAAB000ull, true},   // 53-bit, up
  };
  for (const Case& k : cases) {
    reset_prog();
    fpu::finit(f());
    poke16(kData, k.cw);
    poke32(kData + 4, 3);
    emit_mem(0xD9, 5, kData);      // fldcw [kData]
    emit({0xD9, 0xE8});            // fld1
    emit_mem(0xDA, 6, kData + 4);  // fidiv dword [kData+4]
    run_all();
    EXPECT_EQ(sexp(st(0)), 0x3FFD) << std::hex << k.cw;
    EXPECT_EQ(mant(st(0)), k.m) << std::hex << k.cw;
    EXPECT_TRUE(f().status & SW_PE);
    EXPECT_EQ((f().status & SW_C1) != 0, k.c1) << std::hex << k.cw;
  }
  // -1/3 rounded down grows in magnitude.
  reset_prog();
  fpu::finit(f());
  poke16(kData, 0x077F);
  poke32(kData + 4, 3);
  emit_mem(0xD9, 5, kData);
  emit({0xD9, 0xE8});            // fld1
  emit({0xD9, 0xE0});            // fchs
  emit_mem(0xDA, 6, kData + 4);  // fidiv
  run_all();
  EXPECT_EQ(sexp(st(0)), 0xBFFD);
  EXPECT_EQ(mant(st(0)), 0xAAAAAAAAAAAAAAABull);
}

TEST_F(Fpu, FistRoundsPerRoundingControl) {
  const double in[] = {2.5, 3.5, -2.5, -3.5, 2.4999, -0.5};
  // nearest-even, down, up, toward zero
  const int32_t expect[4][6] = {{2, 4, -2, -4, 2, 0},
                                {2, 3, -3, -4, 2, -1},
                                {3, 4, -2, -3, 3, 0},
                                {2, 3, -2, -3, 2, 0}};
  for (unsigned rc = 0; rc < 4; ++rc) {
    for (unsigned k = 0; k < 6; ++k) {
      reset_prog();
      fpu::finit(f());
      poke16(kData, static_cast<uint16_t>(0x037F | (rc << 10)));
      poke_double(kData + 8, in[k]);
      poke32(kData + 16, 0xDEADBEEF);
      emit_mem(0xD9, 5, kData);       // fldcw
      emit_mem(0xDD, 0, kData + 8);   // fld qword
      emit_mem(0xDB, 3, kData + 16);  // fistp dword
      run_all();
      EXPECT_EQ(static_cast<int32_t>(peek32(kData + 16)), expect[rc][k]) << "rc " << rc << " in " << in[k];
      EXPECT_EQ(top(f()), 0u);
      EXPECT_EQ(f().tag, 0xFFFF);
    }
  }
}

TEST_F(Fpu, FistOutOfRangeStoresIntegerIndefinite) {
  poke_double(kData, 1e10);
  poke16(kData + 8, 0x1234);
  emit_mem(0xDD, 0, kData);      // fld qword 1e10
  emit_mem(0xDF, 2, kData + 8);  // fist word
  run_all();
  EXPECT_EQ(peek16(kData + 8), 0x8000);
  EXPECT_TRUE(f().status & SW_IE);
  EXPECT_FALSE(f().status & SW_SF);
}

// ---- stack faults --------------------------------------------------------------

TEST_F(Fpu, StackOverflowWritesIndefinite) {
  for (int k = 0; k < 8; ++k) emit({0xD9, 0xE8});  // fld1 x8
  run_all();
  EXPECT_EQ(top(f()), 0u);
  EXPECT_EQ(f().tag, 0x0000);
  EXPECT_EQ(f().status & (SW_EXC | SW_SF), 0);
  emit({0xD9, 0xEB});  // fldpi: overflow
  run_all();
  EXPECT_EQ(f().status & (SW_IE | SW_SF | SW_C1), SW_IE | SW_SF | SW_C1);
  EXPECT_EQ(top(f()), 7u);
  EXPECT_EQ(sexp(st(0)), kIndefSE);
  EXPECT_EQ(mant(st(0)), kIndefM);
  EXPECT_EQ(st_tag(0), TAG_SPECIAL);
  EXPECT_FALSE(f().status & SW_ES);  // masked
}

TEST_F(Fpu, StackUnderflowClearsC1AndWritesIndefinite) {
  f().status |= SW_C1;
  emit({0xD8, 0xC1});  // fadd st(0), st(1) on an empty stack
  run_all();
  EXPECT_EQ(f().status & (SW_IE | SW_SF | SW_C1), SW_IE | SW_SF);
  EXPECT_EQ(sexp(st(0)), kIndefSE);
  EXPECT_EQ(mant(st(0)), kIndefM);
  EXPECT_EQ(top(f()), 0u);
}

TEST_F(Fpu, UnmaskedStackFaultLeavesStackAlone) {
  poke16(kData, 0x037E);  // IE unmasked
  emit_mem(0xD9, 5, kData);
  emit({0xDE, 0xC1});  // faddp on an empty stack
  run_all();
  EXPECT_EQ(f().status & (SW_IE | SW_SF | SW_ES | SW_B), SW_IE | SW_SF | SW_ES | SW_B);
  EXPECT_EQ(f().tag, 0xFFFF);
  EXPECT_EQ(top(f()), 0u);
}

// ---- compare and classify ------------------------------------------------------

TEST_F(Fpu, FcomiSetsZfPfCfAndClearsOfSfAf) {
  struct Case {
    double a, b;  // st(0), st(1)
    uint32_t flags;
    bool ie;
  };
  const double qnan = __builtin_nan("");
  const Case cases[] = {
      {2.0, 1.0, 0, false},
      {1.0, 2.0, FLAG_CF, false},
      {1.5, 1.5, FLAG_ZF, false},
      {qnan, 1.0, FLAG_ZF | FLAG_PF | FLAG_CF, true},
  };
  for (const Case& k : cases) {
    for (uint8_t modrm : {0xF1, 0xE9}) {  // fcomi / fucomi st(0), st(1)
      reset_prog();
      fpu::finit(f());
      cpu_.set_arith_flags(FLAG_OF | FLAG_SF | FLAG_AF);
      poke_double(kData, k.b);
      poke_double(kData + 8, k.a);
      emit_mem(0xDD, 0, kData);
      emit_mem(0xDD, 0, kData + 8);
      emit({0xDB, modrm});
      run_all();
      EXPECT_EQ(cpu_.eflags() & FLAGS_ARITH, k.flags) << k.a << " " << k.b;
      EXPECT_EQ((f().status & SW_IE) != 0, k.ie && modrm == 0xF1) << k.a << " " << k.b;
      EXPECT_EQ(top(f()), 6u);
    }
  }
  // FCOMIP pops once, FUCOMPP pops twice.
  reset_prog();
  fpu::finit(f());
  emit({0xD9, 0xE8});
  emit({0xD9, 0xEE});
  emit({0xDF, 0xF1});  // fcomip st(0), st(1): 0 < 1
  run_all();
  EXPECT_EQ(cpu_.eflags() & FLAGS_ARITH, FLAG_CF);
  EXPECT_EQ(top(f()), 7u);
}

TEST_F(Fpu, FcomAndFtstConditionCodes) {
  // fld 1; fld 2; fcom st(1): 2 > 1 -> C3 C2 C0 = 000
  emit({0xD9, 0xE8});
  emit({0xD9, 0xE8});
  emit({0xD8, 0xC1});  // fadd st(0), st(1): 2
  emit({0xD8, 0xD1});  // fcom st(1)
  run_all();
  EXPECT_EQ(f().status & SW_CC, 0);
  emit({0xD9, 0xC9});  // fxch
  emit({0xD8, 0xD1});  // fcom: 1 < 2 -> C0
  run_all();
  EXPECT_EQ(f().status & SW_CC, SW_C0);
  emit({0xD9, 0xEE});  // fldz
  emit({0xD9, 0xE4});  // ftst: 0 -> C3
  run_all();
  EXPECT_EQ(f().status & SW_CC, SW_C3);
  emit({0xDE, 0xD9});  // fcompp: 0 vs 1 -> C0, pops two
  run_all();
  EXPECT_EQ(f().status & SW_CC, SW_C0);
  EXPECT_EQ(top(f()), 7u);
}

TEST_F(Fpu, FxamClassifies) {
  struct Case {
    uint16_t se;
    uint64_t m;
    uint16_t cc;
  };
  const Case cases[] = {
      {0x3FFF, 0x8000000000000000ull, SW_C2},                  // +normal
      {0xBFFF, 0x8000000000000000ull, SW_C2 | SW_C1},          // -normal
      {0x0000, 0, SW_C3},                                      // +0
      {0x8000, 0, SW_C3 | SW_C1},                              // -0
      {0x7FFF, 0x8000000000000000ull, SW_C2 | SW_C0},          // +inf
      {0x7FFF, 0xC000000000000000ull, SW_C0},                  // QNaN
      {0xFFFF, 0x8000000000000001ull, SW_C0 | SW_C1},          // -SNaN
      {0x0000, 0x0000000000000001ull, SW_C3 | SW_C2},          // denormal
      {0x3FFF, 0x4000000000000000ull, 0},                      // unnormal
      {0x7FFF, 0x4000000000000000ull, 0},                      // pseudo-NaN
  };
  for (const Case& k : cases) {
    reset_prog();
    fpu::finit(f());
    poke80(kData, k.se, k.m);
    emit_mem(0xDB, 5, kData);  // fld tbyte
    emit({0xD9, 0xE5});        // fxam
    run_all();
    EXPECT_EQ(f().status & SW_CC, k.cc) << std::hex << k.se << ":" << k.m;
    EXPECT_EQ(f().status & SW_EXC, 0) << std::hex << k.se << ":" << k.m;  // FLD m80 never faults
    EXPECT_EQ(sexp(st(0)), k.se);
    EXPECT_EQ(mant(st(0)), k.m);
  }
  // Empty ST(0): C3 C0, sign from the stale register.
  reset_prog();
  fpu::finit(f());
  emit({0xD9, 0xE5});
  run_all();
  EXPECT_EQ(f().status & (SW_C3 | SW_C2 | SW_C0), SW_C3 | SW_C0);
}

// ---- loads, stores, conversions ------------------------------------------------

TEST_F(Fpu, LoadsAndStoresAllFormats) {
  const float one_half = 1.5f;
  uint32_t fbits;
  std::memcpy(&fbits, &one_half, 4);
  poke32(kData, fbits);
  poke16(kData + 4, static_cast<uint16_t>(-7));
  poke64(kData + 8, 0x0123456789ABCDEFull);
  // BCD -1234567: sign byte 80h
  poke64(kData + 16, 0x0000000001234567ull);
  poke16(kData + 24, 0x8000);
  emit_mem(0xD9, 0, kData);        // fld dword 1.5
  emit_mem(0xDF, 0, kData + 4);    // fild word -7
  emit_mem(0xDF, 5, kData + 8);    // fild qword
  emit_mem(0xDF, 4, kData + 16);   // fbld
  emit_mem(0xDF, 6, kData + 32);   // fbstp -> same BCD
  emit_mem(0xDF, 7, kData + 48);   // fistp qword
  emit_mem(0xDE, 1, kData + 4);    // fimul word -7: -7 * -7 = 49
  emit_mem(0xDD, 3, kData + 56);   // fstp qword 49.0
  emit_mem(0xDD, 2, kData + 64);   // fst qword 1.5
  emit_mem(0xDB, 7, kData + 80);   // fstp tbyte 1.5
  run_all();
  EXPECT_EQ(peek64(kData + 32), 0x0000000001234567ull);
  EXPECT_EQ(peek16(kData + 40), 0x8000);
  EXPECT_EQ(peek64(kData + 48), 0x0123456789ABCDEFull);
  double d;
  std::memcpy(&d, ram_.data() + kData + 56, 8);
  EXPECT_EQ(d, 49.0);
  std::memcpy(&d, ram_.data() + kData + 64, 8);
  EXPECT_EQ(d, 1.5);
  EXPECT_EQ(peek64(kData + 80), 0xC000000000000000ull);
  EXPECT_EQ(peek16(kData + 88), 0x3FFF);
  EXPECT_EQ(f().tag, 0xFFFF);
  EXPECT_EQ(top(f()), 0u);
  EXPECT_EQ(f().status & SW_EXC, 0);
}

TEST_F(Fpu, ConstantsAreExact) {
  emit({0xD9, 0xEB});  // fldpi
  emit({0xD9, 0xEA});  // fldl2e
  emit({0xD9, 0xEE});  // fldz
  run_all();
  EXPECT_EQ(mant(st(2)), 0xC90FDAA22168C235ull);  // pi, rounded to nearest
  EXPECT_EQ(sexp(st(2)), 0x4000);
  EXPECT_EQ(mant(st(1)), 0xB8AA3B295C17F0BCull);  // log2(e)
  EXPECT_EQ(sexp(st(1)), 0x3FFF);
  EXPECT_EQ(st_tag(0), TAG_ZERO);
  EXPECT_EQ(tag_word(f()), f().tag);
}

TEST_F(Fpu, TranscendentalsAndFprem) {
  // fsqrt 2, fsin 0 -> 0, fptan pushes 1.0, fprem of 7 by 2 -> 1, quotient bits.
  poke32(kData, 7);
  poke32(kData + 4, 2);
  emit_mem(0xDB, 0, kData + 4);  // fild 2
  emit_mem(0xDB, 0, kData);      // fild 7
  emit({0xD9, 0xF8});            // fprem: st0 = 7 mod 2 = 1, q = 3
  run_all();
  EXPECT_EQ(mant(st(0)), 0x8000000000000000ull);
  EXPECT_EQ(sexp(st(0)), 0x3FFF);
  // q = 3 = binary 011: C0 = q2 = 0, C3 = q1 = 1, C1 = q0 = 1; C2 = 0 (complete)
  EXPECT_EQ(f().status & SW_CC, SW_C3 | SW_C1);
  emit({0xD9, 0xEE});  // fldz
  emit({0xD9, 0xF2});  // fptan: tan 0 = 0, push 1
  run_all();
  EXPECT_EQ(mant(st(0)), 0x8000000000000000ull);
  EXPECT_EQ(st_tag(1), TAG_ZERO);
  EXPECT_FALSE(f().status & SW_C2);
}

TEST_F(Fpu, FcmovFollowsEflags) {
  emit({0xD9, 0xE8});  // fld1   -> st(1)
  emit({0xD9, 0xEE});  // fldz   -> st(0)
  run_all();
  cpu_.set_arith_flags(0);
  emit({0xDA, 0xC1});  // fcmovb: CF=0, no move
  run_all();
  EXPECT_EQ(st_tag(0), TAG_ZERO);
  cpu_.set_arith_flags(FLAG_CF);
  emit({0xDA, 0xC1});  // fcmovb: move
  run_all();
  EXPECT_EQ(mant(st(0)), 0x8000000000000000ull);
  cpu_.set_arith_flags(FLAG_ZF);
  emit({0xD9, 0xEE});  // fldz
  emit({0xDB, 0xCA});  // fcmovne st(0), st(2): ZF=1, no move
  run_all();
  EXPECT_EQ(st_tag(0), TAG_ZERO);
  emit({0xDA, 0xDA});  // fcmovu: PF=0, no move
  run_all();
  EXPECT_EQ(st_tag(0), TAG_ZERO);
}

TEST_F(Fpu, UndocumentedAliases) {
  emit({0xD9, 0xE8});  // fld1
  emit({0xD9, 0xEE});  // fldz
  emit({0xDD, 0xC9});  // fxch4 st(1): st0=1, st1=0
  run_all();
  EXPECT_EQ(st_tag(0), TAG_VALID);
  EXPECT_EQ(st_tag(1), TAG_ZERO);
  emit({0xD9, 0xD9});  // fstp1 st(1): st1 = 1, pop
  run_all();
  EXPECT_EQ(top(f()), 7u);
  EXPECT_EQ(st_tag(0), TAG_VALID);
  emit({0xD9, 0xEE});  // fldz
  emit({0xDF, 0xC1});  // ffreep st(1): free st(1), pop
  run_all();
  EXPECT_EQ(f().tag, 0xFFFF);
  EXPECT_EQ(top(f()), 7u);
}

TEST_F(Fpu, OpcodesTheP6LacksAreUndefined) {
  const std::vector<std::vector<uint8_t>> bad = {
      {0xDB, 0x0D, 0, 0, 2, 0},  // fisttp dword (SSE3)
      {0xDD, 0x0D, 0, 0, 2, 0},  // fisttp qword
      {0xDF, 0x0D, 0, 0, 2, 0},  // fisttp word
      {0xD9, 0x0D, 0, 0, 2, 0},  // D9 /1
      {0xDB, 0x25, 0, 0, 2, 0},  // DB /4
      {0xDD, 0x2D, 0, 0, 2, 0},  // DD /5
      {0xD9, 0xD1}, {0xD9, 0xE2}, {0xD9, 0xE7}, {0xD9, 0xEF}, {0xDA, 0xE8}, {0xDA, 0xF0},
      {0xDB, 0xE5}, {0xDB, 0xF8}, {0xDD, 0xF0}, {0xDE, 0xD8}, {0xDE, 0xDA}, {0xDF, 0xE1},
      {0xDF, 0xF8},
  };
  for (const auto& b : bad) {
    reset_prog();
    prog_ = b;
    count_ = 1;
    run_expect(VEC_UD);
  }
  // FENI, FDISI, FSETPM are no-ops.
  reset_prog();
  fpu::finit(f());
  emit({0xDB, 0xE0});
  emit({0xDB, 0xE1});
  emit({0xDB, 0xE4});
  run_all();
  EXPECT_EQ(f().control, 0x037F);
  EXPECT_EQ(f().status, 0);
}

// ---- control instructions ------------------------------------------------------

TEST_F(Fpu, FldcwNormalisesReservedBits) {
  poke16(kData, 0x0000);
  poke16(kData + 2, 0xFFFF);
  emit_mem(0xD9, 5, kData);
  emit_mem(0xD9, 7, kData + 4);  // fnstcw
  emit_mem(0xD9, 5, kData + 2);
  emit_mem(0xD9, 7, kData + 6);
  run_all();
  EXPECT_EQ(peek16(kData + 4), 0x0040);
  EXPECT_EQ(peek16(kData + 6), 0x1F7F);
}

TEST_F(Fpu, FnsaveLayout32AndFrstorRoundTrip) {
  const float two = 2.0f;
  uint32_t b;
  std::memcpy(&b, &two, 4);
  poke32(kData, b);
  emit({0xD9, 0xE8});  // fld1
  emit({0xD9, 0xEB});  // fldpi
  const uint32_t fld_at = here();
  emit_mem(0xD9, 0, kData);  // fld dword 2.0
  const uint32_t save = kData + 0x100;
  emit_mem(0xDD, 6, save);  // fnsave
  run_all();
  EXPECT_EQ(peek32(save + 0), 0xFFFF037Fu);
  EXPECT_EQ(peek32(save + 4), 0xFFFF2800u);  // TOP = 5
  EXPECT_EQ(peek32(save + 8), 0xFFFF03FFu);  // R5..R7 valid
  EXPECT_EQ(peek32(save + 12), fld_at);
  EXPECT_EQ(peek32(save + 16), 0x08u | (0x105u << 16));  // CS, FOP D9 05
  EXPECT_EQ(peek32(save + 20), kData);
  EXPECT_EQ(peek32(save + 24), 0xFFFF0010u);
  EXPECT_EQ(peek64(save + 28), 0x8000000000000000ull);  // ST(0) = 2.0
  EXPECT_EQ(peek16(save + 36), 0x4000);
  EXPECT_EQ(peek64(save + 48), 0x8000000000000000ull);  // ST(2) = 1.0
  EXPECT_EQ(peek16(save + 56), 0x3FFF);
  // FNSAVE reinitialises.
  EXPECT_EQ(f().control, 0x037F);
  EXPECT_EQ(f().status, 0);
  EXPECT_EQ(f().tag, 0xFFFF);
  emit_mem(0xDD, 4, save);  // frstor
  run_all();
  EXPECT_EQ(top(f()), 5u);
  EXPECT_EQ(f().tag, 0x03FF);
  EXPECT_EQ(f().last_ip, fld_at);
  EXPECT_EQ(f().last_opcode, 0x105);
  EXPECT_EQ(f().last_dp, kData);
  EXPECT_EQ(mant(st(1)), 0xC90FDAA22168C235ull);
}

TEST_F(Fpu, FnstenvMasksExceptionsAndFldenvRecomputesTagsAndEs) {
  poke16(kData, 0x037B);  // ZE unmasked
  emit_mem(0xD9, 5, kData);
  emit({0xD9, 0xEE});  // fldz
  emit({0xD9, 0xE8});  // fld1
  emit({0xD8, 0xF1});  // fdiv st(0), st(1): 1/0, ZE unmasked -> not written
  run_all();
  EXPECT_EQ(f().status & (SW_ZE | SW_ES | SW_B), SW_ZE | SW_ES | SW_B);
  EXPECT_EQ(mant(st(0)), 0x8000000000000000ull);  // destination unchanged
  EXPECT_EQ(sexp(st(0)), 0x3FFF);
  const uint32_t env = kData + 0x40;
  emit_mem(0xD9, 6, env);  // fnstenv (no-wait: no #MF)
  run_all();
  EXPECT_EQ(peek32(env + 4) & 0xFFFF, f().status | SW_ES | SW_B);
  EXPECT_EQ(f().control, 0x037F);
  EXPECT_FALSE(f().status & SW_ES);
  // Reload with every tag "valid": the zero register gets tag 01 back.
  poke32(env + 8, 0xFFFF0000u);
  emit_mem(0xD9, 4, env);  // fldenv
  run_all();
  EXPECT_EQ(f().control, 0x037B);
  EXPECT_EQ(f().status & (SW_ZE | SW_ES | SW_B), SW_ZE | SW_ES | SW_B);  // recomputed
  EXPECT_EQ(top(f()), 6u);
  // R6 = 1.0 valid, R7 = +0 zero, R0..R5 hold +0 (FNINIT keeps contents): zero.
  EXPECT_EQ(f().tag, 0x4555);
}

TEST_F(Fpu, RealModeFnstenv16UsesLinearPointers) {
  real_mode();
  cpu_.stop_on_exception = true;
  reset_prog();
  cpu_.s.eip = 0;
  // CS = 0x1000 (kCode >> 4), IP = 0
  emit({0xD9, 0xE8});                     // fld1 at 1000:0000 = 0x10000
  emit({0xD9, 0x36, 0x00, 0x30});         // fnstenv [0x3000] (16-bit)
  std::memcpy(ram_.data() + kCode, prog_.data(), prog_.size());
  ASSERT_EQ(step(2), StopReason::Budget);
  EXPECT_EQ(peek16(0x3000), 0x037F);
  EXPECT_EQ(peek16(0x3002), 0x3800);
  EXPECT_EQ(peek16(0x3004), 0x3FFF);
  EXPECT_EQ(peek16(0x3006), 0x0000);           // IP 15..0 of linear 0x10000
  EXPECT_EQ(peek16(0x3008), (1u << 12) | 0x1E8);  // IP 19..16, FOP D9 E8
}

TEST_F(Fpu, Fnstenv16ProtectedModeAndRealMode32Formats) {
  // 16-bit protected-mode format (66h prefix in 32-bit code): offsets and
  // selectors, no opcode.
  emit({0xD9, 0xE8});  // fld1
  const uint32_t fld_at = here();
  emit_mem(0xD9, 0, kData);  // fld dword [kData]
  const uint32_t env = kData + 0x80;
  prog_.push_back(0x66);
  emit_mem(0xD9, 6, env);  // fnstenv (14 bytes)
  run_all();
  EXPECT_EQ(peek16(env + 0), 0x037F);
  EXPECT_EQ(peek16(env + 2), 0x3000);
  EXPECT_EQ(peek16(env + 4), 0x1FFF);  // R7 valid, R6 zero
  EXPECT_EQ(peek16(env + 6), fld_at & 0xFFFF);
  EXPECT_EQ(peek16(env + 8), 0x08);
  EXPECT_EQ(peek16(env + 10), kData & 0xFFFF);
  EXPECT_EQ(peek16(env + 12), 0x10);
  EXPECT_EQ(peek16(env + 14), 0);  // nothing beyond 14 bytes

  // 32-bit real-mode format (66h prefix in real mode): linear pointers split
  // into 16 low bits and bits 31..16 next to the opcode.
  real_mode();
  cpu_.stop_on_exception = true;
  reset_prog();
  cpu_.s.eip = 0;
  fpu::finit(f());
  emit({0xD9, 0xE8});                            // fld1 at 1000:0000
  emit({0xDD, 0x06, 0x34, 0x12});                // fld qword [0x1234]
  emit({0x66, 0xD9, 0x36, 0x00, 0x30});          // fnstenv [0x3000] (28 bytes)
  emit({0xDB, 0xE3});                            // fninit
  emit({0x66, 0xD9, 0x26, 0x00, 0x30});          // fldenv [0x3000]
  std::memcpy(ram_.data() + kCode, prog_.data(), prog_.size());
  ASSERT_EQ(step(3), StopReason::Budget);
  EXPECT_EQ(peek32(0x3000), 0xFFFF037Fu);
  EXPECT_EQ(peek32(0x3004) & 0xFFFF, 0x3000u);
  EXPECT_EQ(peek32(0x3008) & 0xFFFF, 0x1FFFu);
  EXPECT_EQ(peek32(0x300C) & 0xFFFF, 0x0002u);             // IP 15..0 of 0x10002
  EXPECT_EQ(peek32(0x3010), (0x0001u << 12) | 0x506u);     // IP 31..16, FOP DD 06
  EXPECT_EQ(peek32(0x3014) & 0xFFFF, 0x1234u);             // DP 15..0 (DS = 0)
  EXPECT_EQ(peek32(0x3018), 0u);
  ASSERT_EQ(step(2), StopReason::Budget);
  EXPECT_EQ(f().last_ip, 0x10002u);
  EXPECT_EQ(f().last_cs, 0u);
  EXPECT_EQ(f().last_opcode, 0x506);
  EXPECT_EQ(f().last_dp, 0x1234u);
  EXPECT_EQ(f().tag, 0x1FFF);
}

// ---- #NM, #MF ------------------------------------------------------------------

TEST_F(Fpu, DeviceNotAvailable) {
  cpu_.s.cr0 |= CR0_TS;
  emit({0xD9, 0xE8});
  run_expect(VEC_NM);
  reset_prog();
  emit({0x9B});  // fwait: TS without MP is fine
  run_all();
  cpu_.s.cr0 |= CR0_MP;
  reset_prog();
  emit({0x9B});
  run_expect(VEC_NM);
  // EM: every escape opcode, also undefined ones, raises #NM; WAIT does not.
  cpu_.s.cr0 = (cpu_.s.cr0 & ~(CR0_TS | CR0_MP)) | CR0_EM;
  reset_prog();
  emit({0xD9, 0xD1});
  run_expect(VEC_NM);
  reset_prog();
  emit({0x9B});
  run_all();
}

TEST_F(Fpu, PendingExceptionRaisesMfOnNextWaitingInstruction) {
  poke16(kData, 0x037B);  // ZE unmasked
  emit_mem(0xD9, 5, kData);
  emit({0xD9, 0xE8});  // fld1
  emit({0xD9, 0xEE});  // fldz
  emit({0xDE, 0xF9});  // fdivp st(1), st(0): 1/0 -> ZE pending, nothing written, no pop
  run_all();
  EXPECT_EQ(top(f()), 6u);
  const uint32_t fdiv_at = kCode + 6 + 2 + 2;
  EXPECT_EQ(f().last_ip, fdiv_at);
  EXPECT_EQ(f().last_opcode, 0x6F9);
  emit({0xDF, 0xE0});  // fnstsw ax: no-wait
  const uint32_t fld_at = here();
  emit({0xD9, 0xE8});  // fld1: #MF
  run_expect(VEC_MF);
  EXPECT_EQ(cpu_.s.eip, fld_at);
  EXPECT_EQ(cpu_.s.gpr[EAX] & 0xFFFF, 0u + (SW_ZE | SW_ES | SW_B | (6u << 11)));
  EXPECT_EQ(top(f()), 6u);
  // FWAIT reports it too; FNCLEX clears it.
  reset_prog();
  cpu_.s.eip = kCode;
  emit({0x9B});
  run_expect(VEC_MF);
  reset_prog();
  emit({0xDB, 0xE2});  // fnclex
  emit({0x9B});
  emit({0xD9, 0xE8});
  run_all();
  EXPECT_EQ(top(f()), 5u);
}

TEST_F(Fpu, PendingExceptionWithNeClearRecordsFerr) {
  cpu_.s.cr0 &= ~CR0_NE;
  poke16(kData, 0x037B);
  emit_mem(0xD9, 5, kData);
  emit({0xD9, 0xE8});
  emit({0xD9, 0xEE});
  emit({0xDE, 0xF9});  // fdivp 1/0
  run_all();
  EXPECT_TRUE(f().ferr_pending);  // FERR# at the end of the faulting instruction
  f().ferr_pending = false;
  emit({0xD9, 0xE8});  // fld1: no #MF, FERR# again, executes
  run_all();
  EXPECT_TRUE(f().ferr_pending);
  EXPECT_EQ(top(f()), 5u);
}

// ---- faults do not commit ------------------------------------------------------

TEST_F(Fpu, StoreFaultCommitsNothing) {
  identity_paging();
  set_pte(0x409000, 0x409000 | 5);  // read-only (WP off at CPL 0: use CPL 3)
  flat32(3);
  cpu_.s.cr0 |= CR0_PG;
  cpu_.flush_tlb(true);
  emit({0xD9, 0xE8});              // fld1
  emit_mem(0xDB, 7, 0x408FFC);     // fstp tbyte crossing into the read-only page
  run_expect(VEC_PF);
  EXPECT_EQ(top(f()), 7u);
  EXPECT_EQ(st_tag(0), TAG_VALID);
  EXPECT_EQ(f().last_opcode, 0x1E8);
  EXPECT_EQ(peek32(0x408FFC), 0u);  // first page untouched
  EXPECT_EQ(cpu_.s.cr2, 0x409000u);
  // Like Intel CPUs, the 10-byte store is an 8-byte and a 2-byte write: when
  // only the last two bytes fault, the first eight are already written. The
  // FPU state is still unchanged (the instruction restarts).
  reset_prog();
  emit_mem(0xDB, 7, 0x408FF8);
  run_expect(VEC_PF);
  EXPECT_EQ(peek64(0x408FF8), 0x8000000000000000ull);
  EXPECT_EQ(top(f()), 7u);
  EXPECT_EQ(cpu_.s.cr2, 0x409000u);
  // FNSAVE across the boundary faults on its last byte and writes nothing.
  reset_prog();
  emit_mem(0xDD, 6, 0x408FC0);
  run_expect(VEC_PF);
  EXPECT_EQ(cpu_.s.cr2, 0x408FC0u + 107);
  EXPECT_EQ(peek32(0x408FC0), 0u);
  EXPECT_EQ(top(f()), 7u);
}

TEST_F(Fpu, UnmaskedOverflowWritesBiasAdjustedResult) {
  poke16(kData, 0x0377);  // OE unmasked
  poke80(kData + 16, 0x7FFE, 0xFFFFFFFFFFFFFFFFull);
  emit_mem(0xD9, 5, kData);
  emit_mem(0xDB, 5, kData + 16);
  emit({0xD8, 0xC0});  // fadd st(0), st(0)
  run_all();
  EXPECT_TRUE(f().status & SW_OE);
  EXPECT_TRUE(f().status & SW_ES);
  EXPECT_EQ(sexp(st(0)), 0x1FFF);  // 2*max: exponent 8000h, wrapped by 6000h
  EXPECT_EQ(mant(st(0)), 0xFFFFFFFFFFFFFFFFull);
}

// ---- host paths agree ----------------------------------------------------------

long double random_value(std::mt19937_64& rng) {
  uint64_t m = rng();
  uint16_t sign = (rng() & 1) ? 0x8000 : 0;
  switch (rng() % 14) {
    case 0: return make80(sign, 0);
    case 1: return make80(sign | 0x7FFF, 0x8000000000000000ull);           // inf
    case 2: return make80(sign | 0x7FFF, 0xC000000000000000ull | (m >> 2)); // QNaN
    case 3: return make80(sign | 0x7FFF, 0x8000000000000000ull | ((m >> 2) | 1));  // SNaN
    case 4: return make80(sign, m >> 1);                                   // denormal
    case 5: return make80(sign, m | 0x8000000000000000ull);                // pseudo-denormal
    case 6: return make80(sign | static_cast<uint16_t>(1 + rng() % 0x7FFE), m >> 1);  // unnormal
    case 7: return make80(sign | static_cast<uint16_t>(0x7FFE - rng() % 64), m | (1ull << 63));
    case 8: return make80(sign | static_cast<uint16_t>(1 + rng() % 64), m | (1ull << 63));
    case 9: return static_cast<long double>(static_cast<int32_t>(rng() % 2001) - 1000);
    default: return make80(sign | static_cast<uint16_t>(0x3FFF - 70 + rng() % 140), m | (1ull << 63));
  }
}

void random_mem(std::mt19937_64& rng, uint8_t* mem, unsigned esc, unsigned size) {
  uint64_t r = rng();
  std::memcpy(mem, &r, 8);
  r = rng();
  std::memcpy(mem + 8, &r, 8);
  if (size == 10 && (esc == 3) && (rng() & 1)) {  // a proper extended value
    long double v = random_value(rng);
    std::memcpy(mem, &v, 10);
  }
  if (size == 4 && esc == 1 && (rng() % 3 == 0)) {
    float fv = static_cast<float>(rng() % 1000) / 7.0f;
    std::memcpy(mem, &fv, 4);
  }
  if (size == 8 && (esc == 4 || esc == 5) && (rng() % 3 == 0)) {
    double dv = static_cast<double>(rng() % 100000) / 3.0;
    std::memcpy(mem, &dv, 8);
  }
  if (size <= 4 && (esc == 2 || esc == 6 || esc == 3 || esc == 7) && (rng() & 1)) {
    uint32_t small = static_cast<uint32_t>(static_cast<int32_t>(rng() % 201) - 100);
    std::memcpy(mem, &small, 4);
  }
  if (size == 10 && esc == 7 && (rng() & 1)) {  // valid BCD
    for (unsigned k = 0; k < 9; ++k) mem[k] = static_cast<uint8_t>(((rng() % 10) << 4) | (rng() % 10));
    mem[9] = (rng() & 1) ? 0x80 : 0;
  }
}

FpuState random_state(std::mt19937_64& rng, const HostOp& op) {
  FpuState s;
  for (auto& r : s.st) r = random_value(rng);
  static const uint16_t pcs[] = {0x000, 0x200, 0x300, 0x300};
  uint16_t masks = (rng() % 4 == 0) ? static_cast<uint16_t>(rng() & 0x3F) : 0x3F;
  s.control = sanitize_cw(static_cast<uint16_t>(masks | pcs[rng() % 4] | ((rng() % 4) << 10)));
  s.status = static_cast<uint16_t>(rng() & (SW_CC | SW_TOP));
  if (rng() % 4 == 0) s.status |= static_cast<uint16_t>(rng() & (SW_EXC | SW_SF));
  s.tag = 0;
  const unsigned t = top(s);
  for (unsigned p = 0; p < 8; ++p) set_tag(s, p, (rng() % 4 == 0) ? TAG_EMPTY : classify(s.st[p]));
  if (rng() % 3 != 0) {  // mostly eligible for the fast path
    for (unsigned j = 0; j < op.nread; ++j) {
      unsigned p = (t + j) & 7;
      if (rng() % 4 != 0) {  // mostly ordinary operands
        uint64_t m = rng() | (1ull << 63);
        uint16_t se = static_cast<uint16_t>(((rng() & 1) ? 0x8000 : 0) | (0x3FFF - 40 + rng() % 80));
        s.st[p] = (rng() % 8 == 0) ? make80(se & 0x8000, 0) : make80(se, m);
      }
      set_tag(s, p, classify(s.st[p]));
    }
    if (op.push) set_tag(s, (t + 7) & 7, TAG_EMPTY);
  }
  update_es(s);
  return s;
}

std::string dump(const FpuState& s) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, "cw %04x sw %04x tw %04x |", s.control, s.status, s.tag);
  for (unsigned p = 0; p < 8 && n < 400; ++p)
    n += std::snprintf(buf + n, sizeof buf - n, " %04x:%016llx", sexp(s.st[p]),
                       static_cast<unsigned long long>(mant(s.st[p])));
  return buf;
}

TEST(FpuHost, FastPathMatchesFullPathForEveryHostEncoding) {
  // FL_FPU_TRIALS / FL_FPU_SEED widen the search when run by hand.
  const char* env_trials = std::getenv("FL_FPU_TRIALS");
  const char* env_seed = std::getenv("FL_FPU_SEED");
  const int trials = env_trials ? std::atoi(env_trials) : 300;
  std::mt19937_64 rng(env_seed ? std::strtoull(env_seed, nullptr, 0) : 20240611);
  unsigned checked = 0, fast_runs = 0;
  for (unsigned esc = 0; esc < 8; ++esc) {
    for (unsigned m = 0; m < 256; ++m) {
      if (m < 0xC0 && (m & 0xC7) != 0x05) continue;  // one memory form per reg
      const HostOp* op = host_op(esc, static_cast<uint8_t>(m));
      if (!op) continue;
      for (int trial = 0; trial < trials; ++trial) {
        FpuState in = random_state(rng, *op);
        uint8_t mem[16];
        random_mem(rng, mem, esc, op->mem_in);
        uint32_t efl = static_cast<uint32_t>(rng()) & FLAGS_ARITH;
        HostResult a, b;
        const PathStats before = path_stats();
        set_force_full_path(false);
        host_execute(in, efl, esc, static_cast<uint8_t>(m), *op, mem, a);
        fast_runs += static_cast<unsigned>(path_stats().fast - before.fast);
        set_force_full_path(true);
        host_execute(in, efl, esc, static_cast<uint8_t>(m), *op, mem, b);
        set_force_full_path(false);
        const std::string where = "esc D" + std::string(1, "89ABCDEF"[esc]) + " modrm " + std::to_string(m) +
                                  "\n in  " + dump(in) + "\n fast " + dump(a.f) + "\n full " + dump(b.f);
        ASSERT_EQ(a.f.status, b.f.status) << where;
        ASSERT_EQ(a.f.tag, b.f.tag) << where;
        for (unsigned p = 0; p < 8; ++p) ASSERT_TRUE(same80(a.f.st[p], b.f.st[p])) << where << " R" << p;
        ASSERT_EQ(a.store, b.store) << where;
        if (op->mem_out && a.store) {
          ASSERT_EQ(std::memcmp(a.mem, b.mem, op->mem_out), 0) << where;
        }
        if (op->eflags_out) {
          ASSERT_EQ(a.eflags, b.eflags) << where;
        }
        // The tag word must match the contents.
        ASSERT_EQ(b.f.tag, tag_word(b.f)) << where;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 400u * static_cast<unsigned>(trials));
  EXPECT_GT(fast_runs, checked / 4);
}

// Instructions emulated directly (FNOP, FDECSTP, FINCSTP, FFREE, FFREEP and
// the register moves FLD ST(i), FXCH, FST/FSTP ST(i) and their aliases) agree
// with the host executing them (through the full path).
TEST_F(Fpu, EmulatedStackControlMatchesHost) {
  std::mt19937_64 rng(7);
  const HostOp none{};
  std::vector<std::array<uint8_t, 2>> encs = {{0xD9, 0xD0}, {0xD9, 0xF6}, {0xD9, 0xF7}};
  for (uint8_t i = 0; i < 8; ++i) {
    for (uint8_t b : {0xC0, 0xC8, 0xD8}) encs.push_back({0xD9, static_cast<uint8_t>(b + i)});
    for (uint8_t b : {0xC0, 0xC8, 0xD0, 0xD8}) encs.push_back({0xDD, static_cast<uint8_t>(b + i)});
    for (uint8_t b : {0xC0, 0xC8, 0xD0, 0xD8}) encs.push_back({0xDF, static_cast<uint8_t>(b + i)});
  }
  for (const auto& e : encs) {
    for (int trial = 0; trial < 100; ++trial) {
      HostOp shape{};
      shape.nread = static_cast<uint8_t>((e[1] & 7) + 1);
      shape.push = e[0] == 0xD9 && e[1] < 0xC8;
      FpuState in = random_state(rng, (trial & 1) ? shape : none);
      in.control |= 0x3F;
      in.status &= static_cast<uint16_t>(~(SW_EXC | SW_SF | SW_ES | SW_B));
      HostResult want;
      set_force_full_path(true);
      host_execute(in, 0, e[0] - 0xD8u, e[1], none, nullptr, want);
      set_force_full_path(false);
      reset_prog();
      f() = in;
      emit({e[0], e[1]});
      run_all();
      EXPECT_EQ(f().status, want.f.status) << std::hex << int(e[0]) << " " << int(e[1]) << "\n in " << dump(in);
      EXPECT_EQ(f().tag, want.f.tag) << std::hex << int(e[0]) << " " << int(e[1]);
      for (unsigned p = 0; p < 8; ++p)
        EXPECT_TRUE(same80(f().st[p], want.f.st[p])) << std::hex << int(e[0]) << " " << int(e[1]) << " R" << p;
    }
  }
}

}  // namespace
}  // namespace faultline::testing
