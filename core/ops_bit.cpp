// Bit instructions: BT BTS BTR BTC (register and imm8 offsets), BSF BSR,
// BSWAP, SETcc, CMOVcc, BOUND.
#include "core/ops_int.h"

namespace faultline {
namespace {

using namespace ops;

enum class Bt : uint8_t { Test, Set, Reset, Complement };

template <Bt OP, class T> FL_INLINE T bt_apply(T d, unsigned bit) {
  T m = static_cast<T>(T(1) << bit);
  if constexpr (OP == Bt::Set) return static_cast<T>(d | m);
  else if constexpr (OP == Bt::Reset) return static_cast<T>(d & ~m);
  else if constexpr (OP == Bt::Complement) return static_cast<T>(d ^ m);
  else return d;
}

// Only CF changes (ZF is unaffected; OF SF AF PF are undefined and left
// unchanged, as Intel hardware does).
template <Bt OP, class T> FL_NOINLINE void bt_mem(Cpu& c, const Insn& i, uint32_t off, unsigned bit) {
  T d = OP == Bt::Test ? c.read<T>(i.seg, off) : c.read_rmw<T>(i.seg, off);
  if (c.faulted()) return;
  if constexpr (OP != Bt::Test) c.write<T>(i.seg, off, bt_apply<OP, T>(d, bit));
  c.set_flag(FLAG_CF, (d >> bit) & 1);
}

template <Bt OP, class T> FL_INLINE void bt_reg(Cpu& c, const Insn& i, unsigned bit) {
  T d = c.reg<T>(i.rm);
  if constexpr (OP != Bt::Test) c.set_reg<T>(i.rm, bt_apply<OP, T>(d, bit));
  c.set_flag(FLAG_CF, (d >> bit) & 1);
}

// Register bit offset: with a memory operand the offset is signed and may
// address outside the operand.
template <Bt OP, class T> FL_INLINE void bt_EG(Cpu& c, const Insn& i) {
  T o = c.reg<T>(i.reg);
  unsigned bit = o & (kBits<T> - 1);
  if (i.is_reg()) {
    bt_reg<OP, T>(c, i, bit);
    return;
  }
  constexpr unsigned kShift = sizeof(T) == 4 ? 5 : 4;
  int32_t units = int32_t(Signed<T>(o)) >> kShift;
  uint32_t off = c.ea(i) + uint32_t(units) * sizeof(T);
  if (!i.ad32) off &= 0xFFFF;
  bt_mem<OP, T>(c, i, off, bit);
}

// imm8 bit offset: masked to the operand size.
template <Bt OP, class T> FL_INLINE void bt_EI(Cpu& c, const Insn& i) {
  unsigned bit = i.imm & (kBits<T> - 1);
  if (i.is_reg()) bt_reg<OP, T>(c, i, bit);
  else bt_mem<OP, T>(c, i, c.ea(i), bit);
}

// BSF/BSR: source 0 sets ZF and leaves the destination unchanged. CF OF SF
// AF PF are undefined; we produce what Intel hardware does: all clear except
// PF, which reflects the bit index (or 0 for a zero source).
template <bool REVERSE, class T> FL_INLINE void bsf_bsr(Cpu& c, const Insn& i) {
  with_src<T>(c, i, [](Cpu& c, const Insn& i, T s) {
    if (s == 0) {
      c.set_arith_flags(FLAG_ZF | FLAG_PF);
      return;
    }
    unsigned idx = REVERSE ? 31u - unsigned(__builtin_clz(s)) : unsigned(__builtin_ctz(s));
    c.set_reg<T>(i.reg, static_cast<T>(idx));
    c.set_arith_flags(pf_of(idx));
  });
}

// CMOVcc: the source is read (and may fault) whatever the condition. One
// function per condition code (see cc_dispatch).
template <unsigned CC, class T> [[gnu::flatten, gnu::noinline]] void cmov_cc(Cpu& c, const Insn& i) {
  with_src<T>(c, i, [](Cpu& c, const Insn& i, T s) {
    if (c.cond(CC)) c.set_reg<T>(i.reg, s);
  });
}
template <class T> FL_INLINE void cmov(Cpu& c, const Insn& i) {
  cc_dispatch(i.opcode, [&](auto cc) { cmov_cc<decltype(cc)::value, T>(c, i); });
}

template <unsigned CC> [[gnu::flatten, gnu::noinline]] void setcc_cc(Cpu& c, const Insn& i) {
  with_dst<uint8_t>(c, i, [](Cpu& c, const Insn&, auto put) { put(uint8_t(c.cond(CC))); });
}

template <class T> FL_INLINE void bound(Cpu& c, const Insn& i) {
  if (i.is_reg()) {
    c.ud();
    return;
  }
  uint32_t off = c.ea(i);
  T lo = c.read<T>(i.seg, off);
  if (c.faulted()) return;
  T hi = c.read<T>(i.seg, off + sizeof(T));
  if (c.faulted()) return;
  Signed<T> idx = static_cast<Signed<T>>(c.reg<T>(i.reg));
  if (idx < static_cast<Signed<T>>(lo) || idx > static_cast<Signed<T>>(hi)) c.raise(VEC_BR);
}

}  // namespace

void BT_EwGw(Cpu& c, const Insn& i) { bt_EG<Bt::Test, uint16_t>(c, i); }
void BT_EdGd(Cpu& c, const Insn& i) { bt_EG<Bt::Test, uint32_t>(c, i); }
void BTS_EwGw(Cpu& c, const Insn& i) { bt_EG<Bt::Set, uint16_t>(c, i); }
void BTS_EdGd(Cpu& c, const Insn& i) { bt_EG<Bt::Set, uint32_t>(c, i); }
void BTR_EwGw(Cpu& c, const Insn& i) { bt_EG<Bt::Reset, uint16_t>(c, i); }
void BTR_EdGd(Cpu& c, const Insn& i) { bt_EG<Bt::Reset, uint32_t>(c, i); }
void BTC_EwGw(Cpu& c, const Insn& i) { bt_EG<Bt::Complement, uint16_t>(c, i); }
void BTC_EdGd(Cpu& c, const Insn& i) { bt_EG<Bt::Complement, uint32_t>(c, i); }
void BT_EwIb(Cpu& c, const Insn& i) { bt_EI<Bt::Test, uint16_t>(c, i); }
void BT_EdIb(Cpu& c, const Insn& i) { bt_EI<Bt::Test, uint32_t>(c, i); }
void BTS_EwIb(Cpu& c, const Insn& i) { bt_EI<Bt::Set, uint16_t>(c, i); }
void BTS_EdIb(Cpu& c, const Insn& i) { bt_EI<Bt::Set, uint32_t>(c, i); }
void BTR_EwIb(Cpu& c, const Insn& i) { bt_EI<Bt::Reset, uint16_t>(c, i); }
void BTR_EdIb(Cpu& c, const Insn& i) { bt_EI<Bt::Reset, uint32_t>(c, i); }
void BTC_EwIb(Cpu& c, const Insn& i) { bt_EI<Bt::Complement, uint16_t>(c, i); }
void BTC_EdIb(Cpu& c, const Insn& i) { bt_EI<Bt::Complement, uint32_t>(c, i); }

void BSF_GwEw(Cpu& c, const Insn& i) { bsf_bsr<false, uint16_t>(c, i); }
void BSF_GdEd(Cpu& c, const Insn& i) { bsf_bsr<false, uint32_t>(c, i); }
void BSR_GwEw(Cpu& c, const Insn& i) { bsf_bsr<true, uint16_t>(c, i); }
void BSR_GdEd(Cpu& c, const Insn& i) { bsf_bsr<true, uint32_t>(c, i); }

// BSWAP with a 16-bit operand is undefined; P6 and later clear the low word.
void BSWAP_RX(Cpu& c, const Insn& i) { c.set_reg<uint16_t>(i.opcode & 7, 0); }
void BSWAP_ERX(Cpu& c, const Insn& i) {
  unsigned r = i.opcode & 7;
  c.set_reg<uint32_t>(r, __builtin_bswap32(c.reg<uint32_t>(r)));
}

void SETCC_Eb(Cpu& c, const Insn& i) {
  cc_dispatch(i.opcode, [&](auto cc) { setcc_cc<decltype(cc)::value>(c, i); });
}

void CMOV_GwEw(Cpu& c, const Insn& i) { cmov<uint16_t>(c, i); }
void CMOV_GdEd(Cpu& c, const Insn& i) { cmov<uint32_t>(c, i); }

void BOUND_GwMa(Cpu& c, const Insn& i) { bound<uint16_t>(c, i); }
void BOUND_GdMa(Cpu& c, const Insn& i) { bound<uint32_t>(c, i); }

}  // namespace faultline
