// Shifts and rotates: ROL ROR RCL RCR SHL SHR SAR (by 1, CL, imm8) and
// SHLD/SHRD (imm8, CL).
//
// The count is masked to 5 bits. A masked count of 0 changes nothing (a memory
// operand is still accessed as read-modify-write, so access faults happen,
// but it is not written). ROL/ROR/RCL/RCR change only CF and OF; the shifts
// set CF OF SF ZF PF and AF = 0 (AF is undefined). OF is defined only for
// count 1; for larger counts we produce the OF
// of the first 1-bit step (see do_shift; the differential tester masks it).
#include "core/ops_int.h"

namespace faultline {
namespace {

using namespace ops;

enum class Sh : uint8_t { Rol, Ror, Rcl, Rcr, Shl, Shr, Sar };

// `cnt` is the masked count, 1..31. Stores the result with `put`, then
// records the flags.
// OF is defined for count 1 only; for every count we produce the OF of the
// first 1-bit step (a function of the original operand), which is the SDM
// value for count 1 and what Intel hardware produces, except that ROL/ROR of
// a register by an immediate count > 1 leave OF unchanged there (KEEP_OF).
template <Sh OP, class T, bool KEEP_OF, class Put> FL_INLINE void do_shift(Cpu& c, T d, unsigned cnt, Put put) {
  constexpr unsigned N = kBits<T>;
  const bool d_hi = msb(d), d_hi2 = (d >> (N - 2)) & 1;
  if constexpr (OP == Sh::Rol) {
    unsigned k = cnt & (N - 1);
    T r = k ? static_cast<T>((d << k) | (d >> (N - k))) : d;
    bool of = (KEEP_OF && cnt > 1) ? c.of() : (d_hi ^ d_hi2);
    put(r);
    set_cf_of(c, r & 1, of);
  } else if constexpr (OP == Sh::Ror) {
    unsigned k = cnt & (N - 1);
    T r = k ? static_cast<T>((d >> k) | (d << (N - k))) : d;
    bool of = (KEEP_OF && cnt > 1) ? c.of() : (d_hi ^ (d & 1));
    put(r);
    set_cf_of(c, msb(r), of);
  } else if constexpr (OP == Sh::Rcl || OP == Sh::Rcr) {
    unsigned k = N == 32 ? cnt : cnt % (N + 1);
    if (k == 0) return;  // rotated by the full width + 1: nothing changes
    // Rotate the (N+1)-bit value CF:d.
    const bool cf_in = c.cf();
    uint64_t v = (uint64_t(cf_in) << N) | d;
    constexpr uint64_t mask = (uint64_t(1) << (N + 1)) - 1;
    if constexpr (OP == Sh::Rcl)
      v = ((v << k) | (v >> (N + 1 - k))) & mask;
    else
      v = ((v >> k) | (v << (N + 1 - k))) & mask;
    put(static_cast<T>(v));
    set_cf_of(c, (v >> N) & 1, OP == Sh::Rcl ? (d_hi ^ d_hi2) : (d_hi ^ cf_in));
  } else if constexpr (OP == Sh::Shl) {
    uint64_t w = uint64_t(d) << cnt;
    T r = static_cast<T>(w);
    bool cf = (w >> N) & 1;
    put(r);
    c.set_arith_flags(szp(r) | flag_if(cf, FLAG_CF) | flag_if(d_hi ^ d_hi2, FLAG_OF));
  } else if constexpr (OP == Sh::Shr) {
    uint64_t w = uint64_t(d) >> (cnt - 1);
    T r = static_cast<T>(w >> 1);
    bool cf = w & 1;
    put(r);
    c.set_arith_flags(szp(r) | flag_if(cf, FLAG_CF) | flag_if(d_hi, FLAG_OF));
  } else {  // Sar
    int64_t w = int64_t(Signed<T>(d)) >> (cnt - 1);
    T r = static_cast<T>(w >> 1);
    bool cf = w & 1;
    put(r);
    c.set_arith_flags(szp(r) | flag_if(cf, FLAG_CF));
  }
}

enum class Cnt : uint8_t { One, CL, Imm };

template <Cnt K> FL_INLINE unsigned count_of(const Cpu& c, const Insn& i) {
  if constexpr (K == Cnt::One) return 1;
  else if constexpr (K == Cnt::CL) return c.reg<uint8_t>(ECX) & 0x1F;
  else return i.imm & 0x1F;
}

// A memory operand is accessed (read with a write check) even for count 0.
template <Sh OP, class T, Cnt K> FL_NOINLINE void shift_mem(Cpu& c, const Insn& i) {
  const unsigned cnt = count_of<K>(c, i);
  const uint32_t off = c.ea(i);
  const unsigned seg = i.seg;
  T d = c.read_rmw<T>(seg, off);
  if (c.faulted()) return;
  if (K != Cnt::One && cnt == 0) return;
  do_shift<OP, T, false>(c, d, cnt, [&c, seg, off](T r) { c.write<T>(seg, off, r); });
}

template <Sh OP, class T, Cnt K> FL_INLINE void shift_E(Cpu& c, const Insn& i) {
  constexpr bool kKeepOf = K == Cnt::Imm && (OP == Sh::Rol || OP == Sh::Ror);
  if (!i.is_reg()) return shift_mem<OP, T, K>(c, i);
  const unsigned cnt = count_of<K>(c, i);
  if (K != Cnt::One && cnt == 0) return;
  const unsigned rm = i.rm;
  do_shift<OP, T, kKeepOf>(c, c.reg<T>(rm), cnt, [&c, rm](T r) { c.set_reg<T>(rm, r); });
}

// SHLD/SHRD. 16-bit operands with counts above 16 shift through the 48-bit
// value dst:src:dst (undefined by Intel; deterministic here).
template <bool LEFT, class T, class Put> FL_INLINE void do_shd(Cpu& c, T d, T s, unsigned cnt, Put put) {
  T r;
  bool cf;
  if constexpr (sizeof(T) == 4) {
    if (LEFT) {
      uint64_t w = (uint64_t(d) << 32) | s;
      r = static_cast<T>((w << cnt) >> 32);
      cf = (w >> (64 - cnt)) & 1;
    } else {
      uint64_t w = (uint64_t(s) << 32) | d;
      r = static_cast<T>(w >> cnt);
      cf = (w >> (cnt - 1)) & 1;
    }
  } else {
    uint64_t w = (uint64_t(d) << 32) | (uint64_t(s) << 16) | d;
    if (LEFT) {
      r = static_cast<T>((w << cnt) >> 32);
      cf = (w >> (48 - cnt)) & 1;
    } else {
      r = static_cast<T>(w >> cnt);
      cf = (w >> (cnt - 1)) & 1;
    }
  }
  // OF of the first 1-bit step: the sign change from d to (d << 1 | src MSB)
  // or (src LSB : d >> 1).
  bool of = LEFT ? (msb(d) ^ bool((d >> (kBits<T> - 2)) & 1)) : (msb(d) ^ bool(s & 1));
  put(r);
  c.set_arith_flags(szp(r) | flag_if(cf, FLAG_CF) | flag_if(of, FLAG_OF));
}

template <bool LEFT, class T, Cnt K> FL_NOINLINE void shd_mem(Cpu& c, const Insn& i) {
  const unsigned cnt = count_of<K>(c, i);
  const T s = c.reg<T>(i.reg);
  const uint32_t off = c.ea(i);
  const unsigned seg = i.seg;
  T d = c.read_rmw<T>(seg, off);
  if (c.faulted()) return;
  if (cnt == 0) return;
  do_shd<LEFT, T>(c, d, s, cnt, [&c, seg, off](T r) { c.write<T>(seg, off, r); });
}

template <bool LEFT, class T, Cnt K> FL_INLINE void shd_E(Cpu& c, const Insn& i) {
  if (!i.is_reg()) return shd_mem<LEFT, T, K>(c, i);
  const unsigned cnt = count_of<K>(c, i);
  if (cnt == 0) return;
  const unsigned rm = i.rm;
  do_shd<LEFT, T>(c, c.reg<T>(rm), c.reg<T>(i.reg), cnt, [&c, rm](T r) { c.set_reg<T>(rm, r); });
}

}  // namespace

#define FL_SHIFT_HANDLERS(NAME, OP)                                                            \
  void NAME##_Eb1(Cpu& c, const Insn& i) { shift_E<OP, uint8_t, Cnt::One>(c, i); }            \
  void NAME##_Ew1(Cpu& c, const Insn& i) { shift_E<OP, uint16_t, Cnt::One>(c, i); }           \
  void NAME##_Ed1(Cpu& c, const Insn& i) { shift_E<OP, uint32_t, Cnt::One>(c, i); }           \
  void NAME##_EbCL(Cpu& c, const Insn& i) { shift_E<OP, uint8_t, Cnt::CL>(c, i); }            \
  void NAME##_EwCL(Cpu& c, const Insn& i) { shift_E<OP, uint16_t, Cnt::CL>(c, i); }           \
  void NAME##_EdCL(Cpu& c, const Insn& i) { shift_E<OP, uint32_t, Cnt::CL>(c, i); }           \
  void NAME##_EbIb(Cpu& c, const Insn& i) { shift_E<OP, uint8_t, Cnt::Imm>(c, i); }           \
  void NAME##_EwIb(Cpu& c, const Insn& i) { shift_E<OP, uint16_t, Cnt::Imm>(c, i); }          \
  void NAME##_EdIb(Cpu& c, const Insn& i) { shift_E<OP, uint32_t, Cnt::Imm>(c, i); }

FL_SHIFT_HANDLERS(ROL, Sh::Rol)
FL_SHIFT_HANDLERS(ROR, Sh::Ror)
FL_SHIFT_HANDLERS(RCL, Sh::Rcl)
FL_SHIFT_HANDLERS(RCR, Sh::Rcr)
FL_SHIFT_HANDLERS(SHL, Sh::Shl)
FL_SHIFT_HANDLERS(SHR, Sh::Shr)
FL_SHIFT_HANDLERS(SAR, Sh::Sar)
#undef FL_SHIFT_HANDLERS

void SHLD_EwGwIb(Cpu& c, const Insn& i) { shd_E<true, uint16_t, Cnt::Imm>(c, i); }
void SHLD_EdGdIb(Cpu& c, const Insn& i) { shd_E<true, uint32_t, Cnt::Imm>(c, i); }
void SHLD_EwGwCL(Cpu& c, const Insn& i) { shd_E<true, uint16_t, Cnt::CL>(c, i); }
void SHLD_EdGdCL(Cpu& c, const Insn& i) { shd_E<true, uint32_t, Cnt::CL>(c, i); }
void SHRD_EwGwIb(Cpu& c, const Insn& i) { shd_E<false, uint16_t, Cnt::Imm>(c, i); }
void SHRD_EdGdIb(Cpu& c, const Insn& i) { shd_E<false, uint32_t, Cnt::Imm>(c, i); }
void SHRD_EwGwCL(Cpu& c, const Insn& i) { shd_E<false, uint16_t, Cnt::CL>(c, i); }
void SHRD_EdGdCL(Cpu& c, const Insn& i) { shd_E<false, uint32_t, Cnt::CL>(c, i); }

}  // namespace faultline
