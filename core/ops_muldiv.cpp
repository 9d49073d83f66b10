// MUL, IMUL (one, two and three operand forms), DIV, IDIV.
//
// Flags: MUL/IMUL set CF = OF = "the result does not fit the destination";
// SF ZF AF PF are undefined (we produce SF and PF of the low half, ZF = AF = 0,
// as Intel hardware does).
// DIV/IDIV leave all flags undefined; we leave them unchanged.
#include <climits>

#include "core/ops_int.h"

namespace faultline {
namespace {

using namespace ops;

template <class T> FL_INLINE void mul_flags(Cpu& c, T low, bool overflow) {
  c.set_arith_flags((szp(low) & ~FLAG_ZF) | flag_if(overflow, FLAG_CF | FLAG_OF));
}

// Two/three-operand IMUL: truncated signed product with overflow check.
template <class T> FL_INLINE void imul_to(Cpu& c, unsigned dst, T a, T b) {
  int64_t p = int64_t(Signed<T>(a)) * int64_t(Signed<T>(b));
  T r = static_cast<T>(p);
  c.set_reg<T>(dst, r);
  mul_flags<T>(c, r, p != int64_t(Signed<T>(r)));
}

template <class T> FL_INLINE void imul_G(Cpu& c, const Insn& i) {
  with_src<T>(c, i, [](Cpu& c, const Insn& i, T s) { imul_to<T>(c, i.reg, c.reg<T>(i.reg), s); });
}

// The immediate is taken from the Insn: imm16/imm32 (IMM) or sign-extended imm8.
template <class T, bool IMM8> FL_INLINE void imul_GI(Cpu& c, const Insn& i) {
  with_src<T>(c, i, [](Cpu& c, const Insn& i, T s) {
    imul_to<T>(c, i.reg, s, IMM8 ? simm8<T>(i) : static_cast<T>(i.imm));
  });
}

}  // namespace

// ---- one-operand MUL/IMUL ---------------------------------------------------
void MUL_ALEb(Cpu& c, const Insn& i) {
  with_src<uint8_t>(c, i, [](Cpu& c, const Insn&, uint8_t s) {
    uint16_t p = uint16_t(c.reg<uint8_t>(EAX) * s);
    c.set_reg<uint16_t>(EAX, p);
    mul_flags<uint8_t>(c, uint8_t(p), (p >> 8) != 0);
  });
}
void MUL_AXEw(Cpu& c, const Insn& i) {
  with_src<uint16_t>(c, i, [](Cpu& c, const Insn&, uint16_t s) {
    uint32_t p = uint32_t(c.reg<uint16_t>(EAX)) * s;
    c.set_reg<uint16_t>(EAX, uint16_t(p));
    c.set_reg<uint16_t>(EDX, uint16_t(p >> 16));
    mul_flags<uint16_t>(c, uint16_t(p), (p >> 16) != 0);
  });
}
void MUL_EAXEd(Cpu& c, const Insn& i) {
  with_src<uint32_t>(c, i, [](Cpu& c, const Insn&, uint32_t s) {
    uint64_t p = uint64_t(c.reg<uint32_t>(EAX)) * s;
    c.set_reg<uint32_t>(EAX, uint32_t(p));
    c.set_reg<uint32_t>(EDX, uint32_t(p >> 32));
    mul_flags<uint32_t>(c, uint32_t(p), (p >> 32) != 0);
  });
}
void IMUL_ALEb(Cpu& c, const Insn& i) {
  with_src<uint8_t>(c, i, [](Cpu& c, const Insn&, uint8_t s) {
    int32_t p = int32_t(int8_t(c.reg<uint8_t>(EAX))) * int32_t(int8_t(s));
    c.set_reg<uint16_t>(EAX, uint16_t(p));
    mul_flags<uint8_t>(c, uint8_t(p), p != int32_t(int8_t(p)));
  });
}
void IMUL_AXEw(Cpu& c, const Insn& i) {
  with_src<uint16_t>(c, i, [](Cpu& c, const Insn&, uint16_t s) {
    int32_t p = int32_t(int16_t(c.reg<uint16_t>(EAX))) * int32_t(int16_t(s));
    c.set_reg<uint16_t>(EAX, uint16_t(p));
    c.set_reg<uint16_t>(EDX, uint16_t(uint32_t(p) >> 16));
    mul_flags<uint16_t>(c, uint16_t(p), p != int32_t(int16_t(p)));
  });
}
void IMUL_EAXEd(Cpu& c, const Insn& i) {
  with_src<uint32_t>(c, i, [](Cpu& c, const Insn&, uint32_t s) {
    int64_t p = int64_t(int32_t(c.reg<uint32_t>(EAX))) * int64_t(int32_t(s));
    c.set_reg<uint32_t>(EAX, uint32_t(p));
    c.set_reg<uint32_t>(EDX, uint32_t(uint64_t(p) >> 32));
    mul_flags<uint32_t>(c, uint32_t(p), p != int64_t(int32_t(p)));
  });
}

// ---- two/three-operand IMUL -------------------------------------------------
void IMUL_GwEw(Cpu& c, const Insn& i) { imul_G<uint16_t>(c, i); }
void IMUL_GdEd(Cpu& c, const Insn& i) { imul_G<uint32_t>(c, i); }
void IMUL_GwEwIw(Cpu& c, const Insn& i) { imul_GI<uint16_t, false>(c, i); }
void IMUL_GdEdId(Cpu& c, const Insn& i) { imul_GI<uint32_t, false>(c, i); }
void IMUL_GwEwIb(Cpu& c, const Insn& i) { imul_GI<uint16_t, true>(c, i); }
void IMUL_GdEdIb(Cpu& c, const Insn& i) { imul_GI<uint32_t, true>(c, i); }

// ---- DIV/IDIV: #DE on a zero divisor or a quotient that does not fit --------
void DIV_ALEb(Cpu& c, const Insn& i) {
  with_src<uint8_t>(c, i, [](Cpu& c, const Insn&, uint8_t s) {
    uint16_t n = c.reg<uint16_t>(EAX);
    if (s == 0 || (n >> 8) >= s) {
      c.raise(VEC_DE);
      return;
    }
    c.set_reg<uint16_t>(EAX, uint16_t((n / s) | ((n % s) << 8)));
  });
}
void DIV_AXEw(Cpu& c, const Insn& i) {
  with_src<uint16_t>(c, i, [](Cpu& c, const Insn&, uint16_t s) {
    uint16_t hi = c.reg<uint16_t>(EDX);
    if (s == 0 || hi >= s) {
      c.raise(VEC_DE);
      return;
    }
    uint32_t n = (uint32_t(hi) << 16) | c.reg<uint16_t>(EAX);
    c.set_reg<uint16_t>(EAX, uint16_t(n / s));
    c.set_reg<uint16_t>(EDX, uint16_t(n % s));
  });
}
void DIV_EAXEd(Cpu& c, const Insn& i) {
  with_src<uint32_t>(c, i, [](Cpu& c, const Insn&, uint32_t s) {
    uint32_t hi = c.reg<uint32_t>(EDX);
    if (s == 0 || hi >= s) {
      c.raise(VEC_DE);
      return;
    }
    uint64_t n = (uint64_t(hi) << 32) | c.reg<uint32_t>(EAX);
    c.set_reg<uint32_t>(EAX, uint32_t(n / s));
    c.set_reg<uint32_t>(EDX, uint32_t(n % s));
  });
}
void IDIV_ALEb(Cpu& c, const Insn& i) {
  with_src<uint8_t>(c, i, [](Cpu& c, const Insn&, uint8_t s) {
    int32_t d = int8_t(s);
    int32_t n = int16_t(c.reg<uint16_t>(EAX));
    if (d == 0) {
      c.raise(VEC_DE);
      return;
    }
    int32_t q = n / d, r = n % d;
    if (q > 127 || q < -128) {
      c.raise(VEC_DE);
      return;
    }
    c.set_reg<uint16_t>(EAX, uint16_t(uint8_t(q) | (uint8_t(r) << 8)));
  });
}
void IDIV_AXEw(Cpu& c, const Insn& i) {
  with_src<uint16_t>(c, i, [](Cpu& c, const Insn&, uint16_t s) {
    int64_t d = int16_t(s);
    int64_t n = int32_t((uint32_t(c.reg<uint16_t>(EDX)) << 16) | c.reg<uint16_t>(EAX));
    if (d == 0) {
      c.raise(VEC_DE);
      return;
    }
    int64_t q = n / d, r = n % d;
    if (q > 32767 || q < -32768) {
      c.raise(VEC_DE);
      return;
    }
    c.set_reg<uint16_t>(EAX, uint16_t(q));
    c.set_reg<uint16_t>(EDX, uint16_t(r));
  });
}
void IDIV_EAXEd(Cpu& c, const Insn& i) {
  with_src<uint32_t>(c, i, [](Cpu& c, const Insn&, uint32_t s) {
    int64_t d = int32_t(s);
    int64_t n = int64_t((uint64_t(c.reg<uint32_t>(EDX)) << 32) | c.reg<uint32_t>(EAX));
    // INT64_MIN / -1 overflows the host division as well as the quotient.
    if (d == 0 || (d == -1 && n == INT64_MIN)) {
      c.raise(VEC_DE);
      return;
    }
    int64_t q = n / d, r = n % d;
    if (q > INT32_MAX || q < INT32_MIN) {
      c.raise(VEC_DE);
      return;
    }
    c.set_reg<uint32_t>(EAX, uint32_t(q));
    c.set_reg<uint32_t>(EDX, uint32_t(r));
  });
}

}  // namespace faultline
