// Integer ALU instructions: ADD OR ADC SBB AND SUB XOR CMP TEST in all forms,
// INC DEC NOT NEG, flag-bit instructions, SAHF/LAHF, SALC, CBW/CWDE/CWD/CDQ.
#include "core/ops_int.h"

namespace faultline {
namespace {

using namespace ops;

enum class Alu : uint8_t { Add, Or, Adc, Sbb, And, Sub, Xor, Cmp, Test };

// Computes dst OP src, stores the result with `put` (unless CMP/TEST), then
// records the flags.
template <Alu OP, class T, class Put> FL_INLINE void alu(Cpu& c, T d, T s, Put put) {
  constexpr bool kWrites = OP != Alu::Cmp && OP != Alu::Test;
  T r;
  LazyOp lz;
  if constexpr (OP == Alu::Add) {
    r = static_cast<T>(d + s);
    lz = LazyOp::Add;
  } else if constexpr (OP == Alu::Sub || OP == Alu::Cmp) {
    r = static_cast<T>(d - s);
    lz = LazyOp::Sub;
  } else if constexpr (OP == Alu::Or) {
    r = static_cast<T>(d | s);
    lz = LazyOp::Logic;
  } else if constexpr (OP == Alu::And || OP == Alu::Test) {
    r = static_cast<T>(d & s);
    lz = LazyOp::Logic;
  } else if constexpr (OP == Alu::Xor) {
    r = static_cast<T>(d ^ s);
    lz = LazyOp::Logic;
  } else if constexpr (OP == Alu::Adc) {
    if (c.cf()) {
      r = static_cast<T>(d + s + 1);
      put(r);
      c.set_arith_flags(add_flags<T>(d, s, r, r <= d));
      return;
    }
    r = static_cast<T>(d + s);
    lz = LazyOp::Add;
  } else {  // Sbb
    if (c.cf()) {
      r = static_cast<T>(d - s - 1);
      put(r);
      c.set_arith_flags(sub_flags<T>(d, s, r, d <= s));
      return;
    }
    r = static_cast<T>(d - s);
    lz = LazyOp::Sub;
  }
  if constexpr (kWrites) put(r);
  c.lazy<T>(lz, r, d, s);
}

struct NoPut {
  template <class T> void operator()(T) const {}
};

// r/m destination, given source.
template <Alu OP, class T> FL_INLINE void alu_E(Cpu& c, const Insn& i, T src) {
  if constexpr (OP == Alu::Cmp || OP == Alu::Test) {
    with_src<T>(c, i, [src](Cpu& c, const Insn&, T d) { alu<OP, T>(c, d, src, NoPut{}); });
  } else {
    with_rmw<T>(c, i, [src](Cpu& c, T d, auto put) { alu<OP, T>(c, d, src, put); });
  }
}

// Register destination, r/m source.
template <Alu OP, class T> FL_INLINE void alu_G(Cpu& c, const Insn& i) {
  with_src<T>(c, i, [](Cpu& c, const Insn& i, T s) {
    const unsigned g = i.reg;
    alu<OP, T>(c, c.reg<T>(g), s, [&c, g](T r) { c.set_reg<T>(g, r); });
  });
}

// Accumulator destination, immediate source.
template <Alu OP, class T> FL_INLINE void alu_A(Cpu& c, const Insn& i) {
  alu<OP, T>(c, c.reg<T>(EAX), static_cast<T>(i.imm), [&c](T r) { c.set_reg<T>(EAX, r); });
}

// INC/DEC keep CF.
template <bool INC, class T, class Put> FL_INLINE void incdec(Cpu& c, T d, Put put) {
  c.s.lf_cf = c.cf();
  T r = static_cast<T>(INC ? d + 1 : d - 1);
  put(r);
  c.lazy<T>(INC ? LazyOp::Inc : LazyOp::Dec, r, d, T(1));
}

template <bool INC, class T> FL_INLINE void incdec_E(Cpu& c, const Insn& i) {
  with_rmw<T>(c, i, [](Cpu& c, T d, auto put) { incdec<INC, T>(c, d, put); });
}

template <bool INC, class T> FL_INLINE void incdec_R(Cpu& c, const Insn& i) {
  const unsigned r = i.opcode & 7;
  incdec<INC, T>(c, c.reg<T>(r), [&c, r](T v) { c.set_reg<T>(r, v); });
}

template <class T> FL_INLINE void not_E(Cpu& c, const Insn& i) {
  with_rmw<T>(c, i, [](Cpu&, T d, auto put) { put(static_cast<T>(~d)); });
}

template <class T> FL_INLINE void neg_E(Cpu& c, const Insn& i) {
  with_rmw<T>(c, i, [](Cpu& c, T d, auto put) {
    T r = static_cast<T>(T(0) - d);
    put(r);
    c.lazy<T>(LazyOp::Sub, r, T(0), d);
  });
}

}  // namespace

#define FL_ALU_HANDLERS(NAME, OP)                                                              \
  void NAME##_EbGb(Cpu& c, const Insn& i) { alu_E<OP, uint8_t>(c, i, c.reg<uint8_t>(i.reg)); }  \
  void NAME##_EwGw(Cpu& c, const Insn& i) { alu_E<OP, uint16_t>(c, i, c.reg<uint16_t>(i.reg)); } \
  void NAME##_EdGd(Cpu& c, const Insn& i) { alu_E<OP, uint32_t>(c, i, c.reg<uint32_t>(i.reg)); } \
  void NAME##_GbEb(Cpu& c, const Insn& i) { alu_G<OP, uint8_t>(c, i); }                        \
  void NAME##_GwEw(Cpu& c, const Insn& i) { alu_G<OP, uint16_t>(c, i); }                       \
  void NAME##_GdEd(Cpu& c, const Insn& i) { alu_G<OP, uint32_t>(c, i); }                       \
  void NAME##_ALIb(Cpu& c, const Insn& i) { alu_A<OP, uint8_t>(c, i); }                        \
  void NAME##_AXIw(Cpu& c, const Insn& i) { alu_A<OP, uint16_t>(c, i); }                       \
  void NAME##_EAXId(Cpu& c, const Insn& i) { alu_A<OP, uint32_t>(c, i); }                      \
  void NAME##_EbIb(Cpu& c, const Insn& i) { alu_E<OP, uint8_t>(c, i, uint8_t(i.imm)); }        \
  void NAME##_EwIw(Cpu& c, const Insn& i) { alu_E<OP, uint16_t>(c, i, uint16_t(i.imm)); }      \
  void NAME##_EdId(Cpu& c, const Insn& i) { alu_E<OP, uint32_t>(c, i, i.imm); }                \
  void NAME##_EwsIb(Cpu& c, const Insn& i) { alu_E<OP, uint16_t>(c, i, simm8<uint16_t>(i)); }  \
  void NAME##_EdsIb(Cpu& c, const Insn& i) { alu_E<OP, uint32_t>(c, i, simm8<uint32_t>(i)); }

FL_ALU_HANDLERS(ADD, Alu::Add)
FL_ALU_HANDLERS(OR, Alu::Or)
FL_ALU_HANDLERS(ADC, Alu::Adc)
FL_ALU_HANDLERS(SBB, Alu::Sbb)
FL_ALU_HANDLERS(AND, Alu::And)
FL_ALU_HANDLERS(SUB, Alu::Sub)
FL_ALU_HANDLERS(XOR, Alu::Xor)
FL_ALU_HANDLERS(CMP, Alu::Cmp)
#undef FL_ALU_HANDLERS

// TEST: 84/85 (r/m, reg), A8/A9 (acc, imm), F6/F7 /0 /1 (r/m, imm).
void TEST_EbGb(Cpu& c, const Insn& i) { alu_E<Alu::Test, uint8_t>(c, i, c.reg<uint8_t>(i.reg)); }
void TEST_EwGw(Cpu& c, const Insn& i) { alu_E<Alu::Test, uint16_t>(c, i, c.reg<uint16_t>(i.reg)); }
void TEST_EdGd(Cpu& c, const Insn& i) { alu_E<Alu::Test, uint32_t>(c, i, c.reg<uint32_t>(i.reg)); }
void TEST_ALIb(Cpu& c, const Insn& i) { alu_A<Alu::Test, uint8_t>(c, i); }
void TEST_AXIw(Cpu& c, const Insn& i) { alu_A<Alu::Test, uint16_t>(c, i); }
void TEST_EAXId(Cpu& c, const Insn& i) { alu_A<Alu::Test, uint32_t>(c, i); }
void TEST_EbIb(Cpu& c, const Insn& i) { alu_E<Alu::Test, uint8_t>(c, i, uint8_t(i.imm)); }
void TEST_EwIw(Cpu& c, const Insn& i) { alu_E<Alu::Test, uint16_t>(c, i, uint16_t(i.imm)); }
void TEST_EdId(Cpu& c, const Insn& i) { alu_E<Alu::Test, uint32_t>(c, i, i.imm); }

// INC/DEC.
void INC_RX(Cpu& c, const Insn& i) { incdec_R<true, uint16_t>(c, i); }
void INC_ERX(Cpu& c, const Insn& i) { incdec_R<true, uint32_t>(c, i); }
void DEC_RX(Cpu& c, const Insn& i) { incdec_R<false, uint16_t>(c, i); }
void DEC_ERX(Cpu& c, const Insn& i) { incdec_R<false, uint32_t>(c, i); }
void INC_Eb(Cpu& c, const Insn& i) { incdec_E<true, uint8_t>(c, i); }
void INC_Ew(Cpu& c, const Insn& i) { incdec_E<true, uint16_t>(c, i); }
void INC_Ed(Cpu& c, const Insn& i) { incdec_E<true, uint32_t>(c, i); }
void DEC_Eb(Cpu& c, const Insn& i) { incdec_E<false, uint8_t>(c, i); }
void DEC_Ew(Cpu& c, const Insn& i) { incdec_E<false, uint16_t>(c, i); }
void DEC_Ed(Cpu& c, const Insn& i) { incdec_E<false, uint32_t>(c, i); }

// NOT/NEG.
void NOT_Eb(Cpu& c, const Insn& i) { not_E<uint8_t>(c, i); }
void NOT_Ew(Cpu& c, const Insn& i) { not_E<uint16_t>(c, i); }
void NOT_Ed(Cpu& c, const Insn& i) { not_E<uint32_t>(c, i); }
void NEG_Eb(Cpu& c, const Insn& i) { neg_E<uint8_t>(c, i); }
void NEG_Ew(Cpu& c, const Insn& i) { neg_E<uint16_t>(c, i); }
void NEG_Ed(Cpu& c, const Insn& i) { neg_E<uint32_t>(c, i); }

// Flag bits.
void CMC(Cpu& c, const Insn&) { c.set_flag(FLAG_CF, !c.cf()); }
void CLC(Cpu& c, const Insn&) { c.set_flag(FLAG_CF, false); }
void STC(Cpu& c, const Insn&) { c.set_flag(FLAG_CF, true); }
void CLD(Cpu& c, const Insn&) { c.set_flag(FLAG_DF, false); }
void STD(Cpu& c, const Insn&) { c.set_flag(FLAG_DF, true); }

// SAHF: SF ZF AF PF CF <- AH; OF unchanged.
void SAHF(Cpu& c, const Insn&) {
  uint32_t ah = c.reg<uint8_t>(4);
  constexpr uint32_t kMask = FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF;
  c.set_arith_flags((ah & kMask) | flag_if(c.of(), FLAG_OF));
}
// LAHF: AH <- SF:ZF:0:AF:0:PF:1:CF.
void LAHF(Cpu& c, const Insn&) {
  uint32_t f = c.eflags();
  c.set_reg<uint8_t>(4, static_cast<uint8_t>((f & (FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF)) | 2u));
}
// SALC (undocumented D6): AL <- CF ? FF : 00, flags unchanged.
void SALC(Cpu& c, const Insn&) { c.set_reg<uint8_t>(EAX, c.cf() ? 0xFF : 0x00); }

// Sign extensions of the accumulator.
void CBW(Cpu& c, const Insn&) {
  c.set_reg<uint16_t>(EAX, static_cast<uint16_t>(static_cast<int8_t>(c.reg<uint8_t>(EAX))));
}
void CWDE(Cpu& c, const Insn&) {
  c.set_reg<uint32_t>(EAX, static_cast<uint32_t>(static_cast<int16_t>(c.reg<uint16_t>(EAX))));
}
void CWD(Cpu& c, const Insn&) {
  c.set_reg<uint16_t>(EDX, (c.reg<uint16_t>(EAX) & 0x8000) ? 0xFFFF : 0);
}
void CDQ(Cpu& c, const Insn&) {
  c.set_reg<uint32_t>(EDX, (c.reg<uint32_t>(EAX) & 0x80000000u) ? 0xFFFFFFFFu : 0);
}

}  // namespace faultline
