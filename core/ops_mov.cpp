// Data movement: MOV (non-segment forms), LEA, XCHG, XLAT, MOVZX/MOVSX, NOP,
// XADD, CMPXCHG, CMPXCHG8B.
#include "core/ops_int.h"

namespace faultline {
namespace {

using namespace ops;

template <class T> FL_INLINE void mov_E(Cpu& c, const Insn& i, T v) {
  with_dst<T>(c, i, [v](Cpu&, const Insn&, auto put) { put(v); });
}

template <class T> FL_INLINE void mov_G(Cpu& c, const Insn& i) {
  with_src<T>(c, i, [](Cpu& c, const Insn& i, T v) { c.set_reg<T>(i.reg, v); });
}

template <class D, class S, bool SIGNED> FL_INLINE void movx(Cpu& c, const Insn& i) {
  with_src<S>(c, i, [](Cpu& c, const Insn& i, S v) {
    if constexpr (SIGNED)
      c.set_reg<D>(i.reg, static_cast<D>(static_cast<std::make_signed_t<D>>(static_cast<Signed<S>>(v))));
    else
      c.set_reg<D>(i.reg, static_cast<D>(v));
  });
}

template <class T> FL_INLINE void xchg(Cpu& c, const Insn& i) {
  const unsigned g = i.reg;
  with_rmw<T>(c, i, [g](Cpu& c, T e, auto put) {
    put(c.reg<T>(g));
    c.set_reg<T>(g, e);
  });
}

// XADD: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP.
template <class T> FL_INLINE void xadd(Cpu& c, const Insn& i) {
  const unsigned g = i.reg;
  with_rmw<T>(c, i, [g](Cpu& c, T d, auto put) {
    T s = c.reg<T>(g);
    T r = static_cast<T>(d + s);
    c.set_reg<T>(g, d);
    put(r);
    c.lazy<T>(LazyOp::Add, r, d, s);
  });
}

// CMPXCHG: compare the accumulator with the destination. Equal: ZF = 1,
// destination = source. Otherwise ZF = 0, accumulator = destination, and a
// memory destination is written back with its old value (so a read-only
// destination faults either way).
template <class T> FL_NOINLINE void cmpxchg_mem(Cpu& c, const Insn& i) {
  const T a = c.reg<T>(EAX);
  const T s = c.reg<T>(i.reg);
  const uint32_t off = c.ea(i);
  T d = c.read_rmw<T>(i.seg, off);
  if (c.faulted()) return;
  c.write<T>(i.seg, off, a == d ? s : d);
  if (a != d) c.set_reg<T>(EAX, d);
  c.lazy<T>(LazyOp::Sub, static_cast<T>(a - d), a, d);
}

template <class T> FL_INLINE void cmpxchg(Cpu& c, const Insn& i) {
  if (!i.is_reg()) return cmpxchg_mem<T>(c, i);
  const T a = c.reg<T>(EAX);
  const T d = c.reg<T>(i.rm);
  if (a == d) c.set_reg<T>(i.rm, c.reg<T>(i.reg));
  else c.set_reg<T>(EAX, d);
  c.lazy<T>(LazyOp::Sub, static_cast<T>(a - d), a, d);
}

}  // namespace

// ---- MOV --------------------------------------------------------------------
void MOV_EbGb(Cpu& c, const Insn& i) { mov_E<uint8_t>(c, i, c.reg<uint8_t>(i.reg)); }
void MOV_EwGw(Cpu& c, const Insn& i) { mov_E<uint16_t>(c, i, c.reg<uint16_t>(i.reg)); }
void MOV_EdGd(Cpu& c, const Insn& i) { mov_E<uint32_t>(c, i, c.reg<uint32_t>(i.reg)); }
void MOV_GbEb(Cpu& c, const Insn& i) { mov_G<uint8_t>(c, i); }
void MOV_GwEw(Cpu& c, const Insn& i) { mov_G<uint16_t>(c, i); }
void MOV_GdEd(Cpu& c, const Insn& i) { mov_G<uint32_t>(c, i); }
void MOV_EbIb(Cpu& c, const Insn& i) { mov_E<uint8_t>(c, i, uint8_t(i.imm)); }
void MOV_EwIw(Cpu& c, const Insn& i) { mov_E<uint16_t>(c, i, uint16_t(i.imm)); }
void MOV_EdId(Cpu& c, const Insn& i) { mov_E<uint32_t>(c, i, i.imm); }
void MOV_RLIb(Cpu& c, const Insn& i) { c.set_reg<uint8_t>(i.opcode & 7, uint8_t(i.imm)); }
void MOV_RXIw(Cpu& c, const Insn& i) { c.set_reg<uint16_t>(i.opcode & 7, uint16_t(i.imm)); }
void MOV_ERXId(Cpu& c, const Insn& i) { c.set_reg<uint32_t>(i.opcode & 7, i.imm); }

// moffs forms: the offset is in i.disp, the segment in i.seg.
void MOV_ALOb(Cpu& c, const Insn& i) {
  uint8_t v = c.read<uint8_t>(i.seg, i.disp);
  if (!c.faulted()) c.set_reg<uint8_t>(EAX, v);
}
void MOV_AXOw(Cpu& c, const Insn& i) {
  uint16_t v = c.read<uint16_t>(i.seg, i.disp);
  if (!c.faulted()) c.set_reg<uint16_t>(EAX, v);
}
void MOV_EAXOd(Cpu& c, const Insn& i) {
  uint32_t v = c.read<uint32_t>(i.seg, i.disp);
  if (!c.faulted()) c.set_reg<uint32_t>(EAX, v);
}
void MOV_ObAL(Cpu& c, const Insn& i) { c.write<uint8_t>(i.seg, i.disp, c.reg<uint8_t>(EAX)); }
void MOV_OwAX(Cpu& c, const Insn& i) { c.write<uint16_t>(i.seg, i.disp, c.reg<uint16_t>(EAX)); }
void MOV_OdEAX(Cpu& c, const Insn& i) { c.write<uint32_t>(i.seg, i.disp, c.reg<uint32_t>(EAX)); }

// ---- LEA: the offset in the address size, then truncated to the operand size.
void LEA_GwM(Cpu& c, const Insn& i) {
  if (i.is_reg()) {
    c.ud();
    return;
  }
  c.set_reg<uint16_t>(i.reg, static_cast<uint16_t>(c.ea(i)));
}
void LEA_GdM(Cpu& c, const Insn& i) {
  if (i.is_reg()) {
    c.ud();
    return;
  }
  uint32_t a = c.ea(i);
  c.set_reg<uint32_t>(i.reg, i.ad32 ? a : (a & 0xFFFF));
}

// ---- XCHG -----------------------------------------------------------------
void XCHG_EbGb(Cpu& c, const Insn& i) { xchg<uint8_t>(c, i); }
void XCHG_EwGw(Cpu& c, const Insn& i) { xchg<uint16_t>(c, i); }
void XCHG_EdGd(Cpu& c, const Insn& i) { xchg<uint32_t>(c, i); }
void XCHG_RXAX(Cpu& c, const Insn& i) {
  unsigned r = i.opcode & 7;
  uint16_t a = c.reg<uint16_t>(EAX);
  c.set_reg<uint16_t>(EAX, c.reg<uint16_t>(r));
  c.set_reg<uint16_t>(r, a);
}
void XCHG_ERXEAX(Cpu& c, const Insn& i) {
  unsigned r = i.opcode & 7;
  uint32_t a = c.reg<uint32_t>(EAX);
  c.set_reg<uint32_t>(EAX, c.reg<uint32_t>(r));
  c.set_reg<uint32_t>(r, a);
}

// ---- NOP --------------------------------------------------------------------
void NOP(Cpu&, const Insn&) {}
// 0F 18-1F: hint/multi-byte NOP; the memory operand is not accessed.
void NOP_Ev(Cpu&, const Insn&) {}

// ---- XLAT: AL = [seg:(E)BX + AL] ---------------------------------------------
void XLAT(Cpu& c, const Insn& i) {
  uint32_t off = c.reg<uint32_t>(EBX) + c.reg<uint8_t>(EAX);
  if (!i.ad32) off &= 0xFFFF;
  uint8_t v = c.read<uint8_t>(i.seg, off);
  if (!c.faulted()) c.set_reg<uint8_t>(EAX, v);
}

// ---- MOVZX/MOVSX --------------------------------------------------------------
void MOVZX_GwEb(Cpu& c, const Insn& i) { movx<uint16_t, uint8_t, false>(c, i); }
void MOVZX_GdEb(Cpu& c, const Insn& i) { movx<uint32_t, uint8_t, false>(c, i); }
void MOVZX_GwEw(Cpu& c, const Insn& i) { movx<uint16_t, uint16_t, false>(c, i); }
void MOVZX_GdEw(Cpu& c, const Insn& i) { movx<uint32_t, uint16_t, false>(c, i); }
void MOVSX_GwEb(Cpu& c, const Insn& i) { movx<uint16_t, uint8_t, true>(c, i); }
void MOVSX_GdEb(Cpu& c, const Insn& i) { movx<uint32_t, uint8_t, true>(c, i); }
void MOVSX_GwEw(Cpu& c, const Insn& i) { movx<uint16_t, uint16_t, true>(c, i); }
void MOVSX_GdEw(Cpu& c, const Insn& i) { movx<uint32_t, uint16_t, true>(c, i); }

// ---- XADD / CMPXCHG -----------------------------------------------------------
void XADD_EbGb(Cpu& c, const Insn& i) { xadd<uint8_t>(c, i); }
void XADD_EwGw(Cpu& c, const Insn& i) { xadd<uint16_t>(c, i); }
void XADD_EdGd(Cpu& c, const Insn& i) { xadd<uint32_t>(c, i); }
void CMPXCHG_EbGb(Cpu& c, const Insn& i) { cmpxchg<uint8_t>(c, i); }
void CMPXCHG_EwGw(Cpu& c, const Insn& i) { cmpxchg<uint16_t>(c, i); }
void CMPXCHG_EdGd(Cpu& c, const Insn& i) { cmpxchg<uint32_t>(c, i); }

// CMPXCHG8B m64: compare EDX:EAX with m64. Equal: ZF = 1, m64 = ECX:EBX.
// Otherwise ZF = 0, EDX:EAX = m64 and m64 is written back unchanged. Only ZF
// changes. A register operand is #UD.
void CMPXCHG8B_Mq(Cpu& c, const Insn& i) {
  if (i.is_reg()) {
    c.ud();
    return;
  }
  uint32_t off = c.ea(i);
  uint32_t lo = c.read_rmw<uint32_t>(i.seg, off);
  if (c.faulted()) return;
  uint32_t hi = c.read_rmw<uint32_t>(i.seg, off + 4);
  if (c.faulted()) return;
  bool eq = lo == c.reg<uint32_t>(EAX) && hi == c.reg<uint32_t>(EDX);
  if (eq) {
    c.write<uint32_t>(i.seg, off, c.reg<uint32_t>(EBX));
    c.write<uint32_t>(i.seg, off + 4, c.reg<uint32_t>(ECX));
  } else {
    c.write<uint32_t>(i.seg, off, lo);
    c.write<uint32_t>(i.seg, off + 4, hi);
    c.set_reg<uint32_t>(EAX, lo);
    c.set_reg<uint32_t>(EDX, hi);
  }
  c.set_flag(FLAG_ZF, eq);
}

}  // namespace faultline
