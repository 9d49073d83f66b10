// String instructions: MOVS CMPS STOS LODS SCAS with REP/REPE/REPNE.
//
// The source segment is i.seg (DS or the override); the destination is always
// ES. Address size selects SI/DI/CX or ESI/EDI/ECX. REP loops run inside the
// handler and commit the registers after every completed iteration, so a fault
// in iteration k leaves a restartable state. After 4096 iterations (or one, if
// TF is set, so single-step traps after each iteration as on hardware) the
// handler returns with next_eip = insn_eip and the run loop re-executes it.
#include "core/ops_int.h"

namespace faultline {
namespace {

using namespace ops;

constexpr uint32_t kRepBatch = 4096;

template <bool A32> struct Addr {
  static constexpr uint32_t kMask = A32 ? 0xFFFFFFFFu : 0xFFFFu;
  FL_INLINE static uint32_t get(const Cpu& c, unsigned r) { return c.s.gpr[r] & kMask; }
  FL_INLINE static void put(Cpu& c, unsigned r, uint32_t v) {
    if constexpr (A32) c.s.gpr[r] = v;
    else c.s.gpr[r] = (c.s.gpr[r] & 0xFFFF0000u) | (v & 0xFFFFu);
  }
};

template <class T> FL_INLINE uint32_t step_of(const Cpu& c) {
  return (c.s.eflags_bits & FLAG_DF) ? uint32_t(0) - uint32_t(sizeof(T)) : uint32_t(sizeof(T));
}
FL_INLINE bool has_rep(const Insn& i) { return (i.prefixes & (P_REP | P_REPNE)) != 0; }
FL_INLINE uint32_t rep_budget(const Cpu& c) { return (c.s.eflags_bits & FLAG_TF) ? 1 : kRepBatch; }

template <class T, bool A32> void movs(Cpu& c, const Insn& i) {
  using A = Addr<A32>;
  const uint32_t d = step_of<T>(c);
  uint32_t si = A::get(c, ESI), di = A::get(c, EDI);
  if (!has_rep(i)) {
    T v = c.read<T>(i.seg, si);
    if (c.faulted()) return;
    c.write<T>(ES, di, v);
    if (c.faulted()) return;
    A::put(c, ESI, si + d);
    A::put(c, EDI, di + d);
    return;
  }
  uint32_t cnt = A::get(c, ECX);
  if (cnt == 0) return;
  uint32_t budget = rep_budget(c);
  for (;;) {
    T v = c.read<T>(i.seg, si);
    if (c.faulted()) break;
    c.write<T>(ES, di, v);
    if (c.faulted()) break;
    si = (si + d) & A::kMask;
    di = (di + d) & A::kMask;
    if (--cnt == 0) break;
    if (--budget == 0) {
      c.next_eip = c.insn_eip;
      break;
    }
  }
  A::put(c, ESI, si);
  A::put(c, EDI, di);
  A::put(c, ECX, cnt);
}

template <class T, bool A32> void stos(Cpu& c, const Insn& i) {
  using A = Addr<A32>;
  const uint32_t d = step_of<T>(c);
  const T v = c.reg<T>(EAX);
  uint32_t di = A::get(c, EDI);
  if (!has_rep(i)) {
    c.write<T>(ES, di, v);
    if (c.faulted()) return;
    A::put(c, EDI, di + d);
    return;
  }
  uint32_t cnt = A::get(c, ECX);
  if (cnt == 0) return;
  uint32_t budget = rep_budget(c);
  for (;;) {
    c.write<T>(ES, di, v);
    if (c.faulted()) break;
    di = (di + d) & A::kMask;
    if (--cnt == 0) break;
    if (--budget == 0) {
      c.next_eip = c.insn_eip;
      break;
    }
  }
  A::put(c, EDI, di);
  A::put(c, ECX, cnt);
}

template <class T, bool A32> void lods(Cpu& c, const Insn& i) {
  using A = Addr<A32>;
  const uint32_t d = step_of<T>(c);
  uint32_t si = A::get(c, ESI);
  if (!has_rep(i)) {
    T v = c.read<T>(i.seg, si);
    if (c.faulted()) return;
    c.set_reg<T>(EAX, v);
    A::put(c, ESI, si + d);
    return;
  }
  uint32_t cnt = A::get(c, ECX);
  if (cnt == 0) return;
  uint32_t budget = rep_budget(c);
  for (;;) {
    T v = c.read<T>(i.seg, si);
    if (c.faulted()) break;
    c.set_reg<T>(EAX, v);
    si = (si + d) & A::kMask;
    if (--cnt == 0) break;
    if (--budget == 0) {
      c.next_eip = c.insn_eip;
      break;
    }
  }
  A::put(c, ESI, si);
  A::put(c, ECX, cnt);
}

// CMPS: flags of [src] - ES:[dst]. REPE (F3) repeats while equal, REPNE (F2)
// while not equal.
template <class T, bool A32> void cmps(Cpu& c, const Insn& i) {
  using A = Addr<A32>;
  const uint32_t d = step_of<T>(c);
  uint32_t si = A::get(c, ESI), di = A::get(c, EDI);
  if (!has_rep(i)) {
    T a = c.read<T>(i.seg, si);
    if (c.faulted()) return;
    T b = c.read<T>(ES, di);
    if (c.faulted()) return;
    c.lazy<T>(LazyOp::Sub, static_cast<T>(a - b), a, b);
    A::put(c, ESI, si + d);
    A::put(c, EDI, di + d);
    return;
  }
  const bool repne = (i.prefixes & P_REPNE) != 0;
  uint32_t cnt = A::get(c, ECX);
  if (cnt == 0) return;
  uint32_t budget = rep_budget(c);
  for (;;) {
    T a = c.read<T>(i.seg, si);
    if (c.faulted()) break;
    T b = c.read<T>(ES, di);
    if (c.faulted()) break;
    c.lazy<T>(LazyOp::Sub, static_cast<T>(a - b), a, b);
    si = (si + d) & A::kMask;
    di = (di + d) & A::kMask;
    if (--cnt == 0) break;
    if ((a == b) == repne) break;
    if (--budget == 0) {
      c.next_eip = c.insn_eip;
      break;
    }
  }
  A::put(c, ESI, si);
  A::put(c, EDI, di);
  A::put(c, ECX, cnt);
}

// SCAS: flags of accumulator - ES:[dst].
template <class T, bool A32> void scas(Cpu& c, const Insn& i) {
  using A = Addr<A32>;
  const uint32_t d = step_of<T>(c);
  const T a = c.reg<T>(EAX);
  uint32_t di = A::get(c, EDI);
  if (!has_rep(i)) {
    T b = c.read<T>(ES, di);
    if (c.faulted()) return;
    c.lazy<T>(LazyOp::Sub, static_cast<T>(a - b), a, b);
    A::put(c, EDI, di + d);
    return;
  }
  const bool repne = (i.prefixes & P_REPNE) != 0;
  uint32_t cnt = A::get(c, ECX);
  if (cnt == 0) return;
  uint32_t budget = rep_budget(c);
  for (;;) {
    T b = c.read<T>(ES, di);
    if (c.faulted()) break;
    c.lazy<T>(LazyOp::Sub, static_cast<T>(a - b), a, b);
    di = (di + d) & A::kMask;
    if (--cnt == 0) break;
    if ((a == b) == repne) break;
    if (--budget == 0) {
      c.next_eip = c.insn_eip;
      break;
    }
  }
  A::put(c, EDI, di);
  A::put(c, ECX, cnt);
}

}  // namespace

#define FL_STRING_HANDLER(NAME, FN, T) \
  void NAME(Cpu& c, const Insn& i) { i.ad32 ? FN<T, true>(c, i) : FN<T, false>(c, i); }

FL_STRING_HANDLER(MOVSB, movs, uint8_t)
FL_STRING_HANDLER(MOVSW, movs, uint16_t)
FL_STRING_HANDLER(MOVSD, movs, uint32_t)
FL_STRING_HANDLER(CMPSB, cmps, uint8_t)
FL_STRING_HANDLER(CMPSW, cmps, uint16_t)
FL_STRING_HANDLER(CMPSD, cmps, uint32_t)
FL_STRING_HANDLER(STOSB, stos, uint8_t)
FL_STRING_HANDLER(STOSW, stos, uint16_t)
FL_STRING_HANDLER(STOSD, stos, uint32_t)
FL_STRING_HANDLER(LODSB, lods, uint8_t)
FL_STRING_HANDLER(LODSW, lods, uint16_t)
FL_STRING_HANDLER(LODSD, lods, uint32_t)
FL_STRING_HANDLER(SCASB, scas, uint8_t)
FL_STRING_HANDLER(SCASW, scas, uint16_t)
FL_STRING_HANDLER(SCASD, scas, uint32_t)
#undef FL_STRING_HANDLER

}  // namespace faultline
