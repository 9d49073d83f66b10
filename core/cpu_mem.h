// Inline fast paths of guest memory access (included by cpu.h).
//
// The fast path is: segment check folded into a precomputed flat flag, one
// TLB compare, one permission-bit test, a memcpy from the host pointer. All
// else (page walks, page-crossing accesses, MMIO, code-page writes, alignment
// checks) is in cpu.cpp's slow paths.
#pragma once

namespace faultline {

#define FL_LIKELY(x) __builtin_expect(!!(x), 1)
#define FL_UNLIKELY(x) __builtin_expect(!!(x), 0)

inline bool parity8_(uint32_t v) { return !__builtin_parity(v & 0xFF); }

inline bool Cpu::cf() const {
  switch (s.lf_op) {
    case LazyOp::None: return s.eflags_bits & FLAG_CF;
    case LazyOp::Add: return s.lf_res < s.lf_dst;
    case LazyOp::Sub: return s.lf_dst < s.lf_src;
    case LazyOp::Logic: return false;
    default: return s.lf_cf;
  }
}
inline bool Cpu::zf() const { return s.lf_op == LazyOp::None ? (s.eflags_bits & FLAG_ZF) : s.lf_res == 0; }
inline bool Cpu::sf() const {
  return s.lf_op == LazyOp::None ? (s.eflags_bits & FLAG_SF) : (s.lf_res >> (s.lf_size * 8 - 1)) & 1;
}
inline bool Cpu::of() const { return s.lf_op == LazyOp::None ? (s.eflags_bits & FLAG_OF) : (lazy_arith_flags() & FLAG_OF); }
inline bool Cpu::pf() const { return s.lf_op == LazyOp::None ? (s.eflags_bits & FLAG_PF) : parity8_(s.lf_res); }
inline bool Cpu::af() const { return s.lf_op == LazyOp::None ? (s.eflags_bits & FLAG_AF) : (lazy_arith_flags() & FLAG_AF); }

inline bool Cpu::cond(unsigned cc) const {
  if (s.lf_op == LazyOp::Sub) {
    // Fast paths for CMP/SUB followed by a condition.
    const unsigned shift = 32 - s.lf_size * 8;
    const int32_t sd = static_cast<int32_t>(s.lf_dst << shift);
    const int32_t ss = static_cast<int32_t>(s.lf_src << shift);
    switch (cc) {
      case 2: return s.lf_dst < s.lf_src;
      case 3: return s.lf_dst >= s.lf_src;
      case 4: return s.lf_res == 0;
      case 5: return s.lf_res != 0;
      case 6: return s.lf_dst <= s.lf_src;
      case 7: return s.lf_dst > s.lf_src;
      case 12: return sd < ss;
      case 13: return sd >= ss;
      case 14: return sd <= ss;
      case 15: return sd > ss;
      default: break;
    }
  }
  bool r;
  switch (cc >> 1) {
    case 0: r = of(); break;
    case 1: r = cf(); break;
    case 2: r = zf(); break;
    case 3: r = cf() || zf(); break;
    case 4: r = sf(); break;
    case 5: r = pf(); break;
    case 6: r = sf() != of(); break;
    default: r = zf() || (sf() != of()); break;
  }
  return (cc & 1) ? !r : r;
}


inline uint32_t Cpu::eflags() const {
  if (s.lf_op == LazyOp::None) return s.eflags_bits;
  return (s.eflags_bits & ~FLAGS_ARITH) | lazy_arith_flags();
}

inline void Cpu::set_arith_flags(uint32_t flags) {
  s.eflags_bits = (s.eflags_bits & ~FLAGS_ARITH) | (flags & FLAGS_ARITH);
  s.lf_op = LazyOp::None;
}

inline uint32_t Cpu::ea(const Insn& i) const {
  uint32_t a = i.disp;
  if (i.base != 0xFF) a += s.gpr[i.base];
  if (i.index != 0xFF) a += s.gpr[i.index] << i.scale;
  return i.ad32 ? a : (a & 0xFFFF);
}

inline uint32_t Cpu::seg_lin(unsigned seg, uint32_t off, unsigned size, bool write) {
  const SegAccess& a = seg_acc_[seg];
  uint8_t need = write ? SEGACC_W : SEGACC_R;
  if (FL_LIKELY((a.flags & (SEGACC_FLAT | need)) == (SEGACC_FLAT | need) && off <= 0xFFFFFFFFu - (size - 1)))
    return off;
  if (!seg_check(seg, off, size, write)) return 0;
  return s.seg[seg].base + off;
}

template <class T>
inline T Cpu::read_lin(uint32_t lin, bool user) {
  const TlbEntry& e = tlb_[(lin >> 12) & (kTlbSize - 1)];
  uint8_t need = user ? TLB_UR : TLB_SR;
  if (FL_LIKELY(e.lpage == (lin & ~0xFFFu) && (e.perm & need) && (lin & 0xFFF) <= 0x1000 - sizeof(T))) {
    T v;
    std::memcpy(&v, e.host + (lin & 0xFFF), sizeof(T));
    return v;
  }
  return read_lin_slow<T>(lin, user);
}

template <class T>
inline void Cpu::write_lin(uint32_t lin, T v, bool user) {
  const TlbEntry& e = tlb_[(lin >> 12) & (kTlbSize - 1)];
  uint8_t need = user ? TLB_UW : TLB_SW;
  if (FL_LIKELY(e.lpage == (lin & ~0xFFFu) && (e.perm & need) && (lin & 0xFFF) <= 0x1000 - sizeof(T))) {
    std::memcpy(e.host + (lin & 0xFFF), &v, sizeof(T));
    return;
  }
  write_lin_slow<T>(lin, v, user);
}

template <class T>
inline T Cpu::read(unsigned seg, uint32_t off) {
  uint32_t lin = seg_lin(seg, off, sizeof(T), false);
  if (FL_UNLIKELY(exc.pending)) return 0;
  return read_lin<T>(lin, s.cpl == 3);
}

template <class T>
inline void Cpu::write(unsigned seg, uint32_t off, T v) {
  uint32_t lin = seg_lin(seg, off, sizeof(T), true);
  if (FL_UNLIKELY(exc.pending)) return;
  write_lin<T>(lin, v, s.cpl == 3);
}

template <class T>
inline T Cpu::read_rmw(unsigned seg, uint32_t off) {
  uint32_t lin = seg_lin(seg, off, sizeof(T), true);
  if (FL_UNLIKELY(exc.pending)) return 0;
  bool user = s.cpl == 3;
  const TlbEntry& e = tlb_[(lin >> 12) & (kTlbSize - 1)];
  uint8_t need = user ? TLB_UW : TLB_SW;
  if (FL_LIKELY(e.lpage == (lin & ~0xFFFu) && (e.perm & need) && (lin & 0xFFF) <= 0x1000 - sizeof(T))) {
    T v;
    std::memcpy(&v, e.host + (lin & 0xFFF), sizeof(T));
    return v;
  }
  // Probe the write first (sets D, faults as a write), then read.
  if (!write_probe(lin, sizeof(T), user)) return 0;
  return read_lin_slow<T>(lin, user);
}

template <class T>
inline T Cpu::read_rm(const Insn& i) {
  if (i.is_reg()) return reg<T>(i.rm);
  return read<T>(i.seg, ea(i));
}

template <class T>
inline T Cpu::read_rm_rmw(const Insn& i) {
  if (i.is_reg()) return reg<T>(i.rm);
  return read_rmw<T>(i.seg, ea(i));
}

template <class T>
inline void Cpu::write_rm(const Insn& i, T v) {
  if (i.is_reg()) set_reg<T>(i.rm, v);
  else write<T>(i.seg, ea(i), v);
}

template <class T>
inline void Cpu::push(T v) {
  uint32_t nsp = stack32() ? s.gpr[ESP] - sizeof(T) : ((s.gpr[ESP] - sizeof(T)) & 0xFFFF);
  write<T>(SS, nsp, v);
  if (FL_UNLIKELY(exc.pending)) return;
  set_sp(nsp);
}

template <class T>
inline T Cpu::pop() {
  uint32_t osp = sp();
  T v = read<T>(SS, osp);
  if (FL_UNLIKELY(exc.pending)) return 0;
  set_sp(osp + sizeof(T));
  return v;
}

template <class T>
inline T Cpu::peek(uint32_t offset_from_sp) {
  uint32_t a = sp() + offset_from_sp;
  if (!stack32()) a &= 0xFFFF;
  return read<T>(SS, a);
}

}  // namespace faultline
