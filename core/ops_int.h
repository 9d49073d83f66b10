// Shared helpers of the integer instruction handlers (ops_alu.cpp,
// ops_muldiv.cpp, ops_shift.cpp, ops_bit.cpp, ops_mov.cpp, ops_stack.cpp,
// ops_branch.cpp, ops_string.cpp, ops_bcd.cpp). Internal to core/.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/cpu.h"
#include "core/handlers.h"

#define FL_INLINE [[gnu::always_inline]] inline
// Memory-operand paths live in separate functions so the register fast path
// of a handler needs no stack frame (the memory path is a tail call).
#define FL_NOINLINE [[gnu::noinline]]

namespace faultline::ops {

template <class T> inline constexpr unsigned kBits = sizeof(T) * 8;
template <class T> using Signed = std::make_signed_t<T>;

template <class T> FL_INLINE bool msb(T v) { return (v >> (kBits<T> - 1)) & 1; }

// PF: set when the low byte of the result has an even number of one bits.
FL_INLINE uint32_t pf_of(uint32_t v) { return __builtin_parity(v & 0xFFu) ? 0u : FLAG_PF; }

// ZF, SF and PF of a result.
template <class T> FL_INLINE uint32_t szp(T r) {
  return (r == 0 ? FLAG_ZF : 0u) | (msb(r) ? FLAG_SF : 0u) | pf_of(r);
}

FL_INLINE uint32_t flag_if(bool on, uint32_t bit) { return on ? bit : 0u; }

// Full flags of dst + src + carry_in / dst - src - borrow_in.
template <class T> FL_INLINE uint32_t add_flags(T d, T s, T r, bool cf) {
  return szp(r) | flag_if(cf, FLAG_CF) | flag_if(msb(T((d ^ r) & (s ^ r))), FLAG_OF) |
         ((d ^ s ^ r) & FLAG_AF);
}
template <class T> FL_INLINE uint32_t sub_flags(T d, T s, T r, bool cf) {
  return szp(r) | flag_if(cf, FLAG_CF) | flag_if(msb(T((d ^ s) & (d ^ r))), FLAG_OF) |
         ((d ^ s ^ r) & FLAG_AF);
}

// Replaces CF and OF, keeping SF ZF AF PF (rotates).
FL_INLINE void set_cf_of(Cpu& c, bool cf, bool of) {
  uint32_t f = c.eflags() & (FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF);
  c.set_arith_flags(f | flag_if(cf, FLAG_CF) | flag_if(of, FLAG_OF));
}

// Operand plumbing. The register form runs inline; the memory form is a
// separate (tail-called) function, so the register path needs no frame.
// `f` is a capture-less (or small, by-value) functor; each handler gets its
// own instantiation with `f` inlined.
//
// with_src: f(c, i, value) with the r/m operand read (faults return early).
template <class T, class F> FL_NOINLINE void src_mem(Cpu& c, const Insn& i, F f) {
  T v = c.read<T>(i.seg, c.ea(i));
  if (c.faulted()) return;
  f(c, i, v);
}
template <class T, class F> FL_INLINE void with_src(Cpu& c, const Insn& i, F f) {
  if (i.is_reg()) f(c, i, c.reg<T>(i.rm));
  else src_mem<T>(c, i, f);
}

// with_rmw: f(c, old_value, put) for a read-modify-write r/m operand; `put(r)`
// stores the result (it cannot fault: the memory operand was probed for
// writing). Handlers call put() before setting flags so that the flag update
// is the last, tail-called step.
template <class T, class F> FL_NOINLINE void rmw_mem(Cpu& c, const Insn& i, F f) {
  const uint32_t off = c.ea(i);
  const unsigned seg = i.seg;
  T d = c.read_rmw<T>(seg, off);
  if (c.faulted()) return;
  f(c, d, [&c, seg, off](T r) { c.write<T>(seg, off, r); });
}
template <class T, class F> FL_INLINE void with_rmw(Cpu& c, const Insn& i, F f) {
  if (i.is_reg()) {
    const unsigned rm = i.rm;
    f(c, c.reg<T>(rm), [&c, rm](T r) { c.set_reg<T>(rm, r); });
  } else {
    rmw_mem<T>(c, i, f);
  }
}

// with_dst: f(c, i, put) for a write-only r/m destination.
template <class T, class F> FL_NOINLINE void dst_mem(Cpu& c, const Insn& i, F f) {
  const uint32_t off = c.ea(i);
  const unsigned seg = i.seg;
  f(c, i, [&c, seg, off](T r) { c.write<T>(seg, off, r); });
}
template <class T, class F> FL_INLINE void with_dst(Cpu& c, const Insn& i, F f) {
  if (i.is_reg()) {
    const unsigned rm = i.rm;
    f(c, i, [&c, rm](T r) { c.set_reg<T>(rm, r); });
  } else {
    dst_mem<T>(c, i, f);
  }
}

// Calls f(std::integral_constant<unsigned, CC>{}) for the condition code
// cc (0-15), so that the condition is a compile-time constant in f and
// Cpu::cond folds to the tests it needs.
template <class F> FL_INLINE void cc_dispatch(unsigned cc, F f) {
  using std::integral_constant;
  switch (cc & 0xF) {
    case 0x0: return f(integral_constant<unsigned, 0x0>{});
    case 0x1: return f(integral_constant<unsigned, 0x1>{});
    case 0x2: return f(integral_constant<unsigned, 0x2>{});
    case 0x3: return f(integral_constant<unsigned, 0x3>{});
    case 0x4: return f(integral_constant<unsigned, 0x4>{});
    case 0x5: return f(integral_constant<unsigned, 0x5>{});
    case 0x6: return f(integral_constant<unsigned, 0x6>{});
    case 0x7: return f(integral_constant<unsigned, 0x7>{});
    case 0x8: return f(integral_constant<unsigned, 0x8>{});
    case 0x9: return f(integral_constant<unsigned, 0x9>{});
    case 0xA: return f(integral_constant<unsigned, 0xA>{});
    case 0xB: return f(integral_constant<unsigned, 0xB>{});
    case 0xC: return f(integral_constant<unsigned, 0xC>{});
    case 0xD: return f(integral_constant<unsigned, 0xD>{});
    case 0xE: return f(integral_constant<unsigned, 0xE>{});
    default: return f(integral_constant<unsigned, 0xF>{});
  }
}

// Sign-extended 8-bit immediate in operand type T.
template <class T> FL_INLINE T simm8(const Insn& i) {
  return static_cast<T>(static_cast<int32_t>(static_cast<int8_t>(i.imm)));
}

// Near branch: the target (already truncated to the operand size) must lie
// inside the CS limit.
FL_INLINE bool branch_ok(Cpu& c, uint32_t target) {
  if (__builtin_expect(target > c.s.seg[CS].limit, 0)) {
    c.gp(0);
    return false;
  }
  return true;
}

}  // namespace faultline::ops
