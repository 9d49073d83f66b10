// Reference interpreter: reset, flags, translation, slow memory paths,
// decoded-instruction cache and the run loop. See cpu.h for the design note.
#include "core/cpu.h"

#include <algorithm>
#include <cstdio>

#include "core/bus.h"
#include "core/fpu/fpu.h"

namespace faultline {

namespace {

void handler_ud(Cpu& c, const Insn&) { c.ud(); }

void handler_unimplemented(Cpu& c, const Insn& i) {
  std::fprintf(stderr, "faultline: unimplemented instruction %s%02X /%u at %04X:%08X\n",
               i.opcode >= 0x100 ? "0F " : "", i.opcode & 0xFF, i.reg, c.s.seg[CS].selector,
               c.insn_eip);
  c.ud();
}

inline bool parity8(uint32_t v) { return !__builtin_parity(v & 0xFF); }

bool is_contributory(uint8_t v) { return v == VEC_DE || (v >= VEC_TS && v <= VEC_GP); }

}  // namespace

Cpu::Cpu(uint8_t* ram, uint64_t ram_size, Bus& bus)
    : ram_(ram), ram_size_(ram_size), bus_(bus) {
  tlb_ = std::make_unique<TlbEntry[]>(kTlbSize);
  blocks_ = std::make_unique<Block[]>(kBlockCacheSize);
  page_gen_.assign(ram_size_ >> 12, 0);
  code_page_.assign(ram_size_ >> 12, 0);
  reset();
}

Cpu::~Cpu() = default;

void Cpu::reset() {
  s = CpuState{};
  fpu::power_on(s.fpu);
  s.cr0 = CR0_ET | CR0_CD | CR0_NW;
  s.eip = 0xFFF0;
  for (unsigned i = 0; i < 6; ++i) {
    SegmentCache c;
    c.selector = 0;
    c.base = 0;
    c.limit = 0xFFFF;
    c.attr = SEG_P | SEG_S | SEG_RW | SEG_ACCESSED;
    c.valid = true;
    s.seg[i] = c;
  }
  s.seg[CS].selector = 0xF000;
  s.seg[CS].base = 0xFFFF0000u;
  s.seg[CS].attr = SEG_P | SEG_S | SEG_CODE | SEG_RW | SEG_ACCESSED;
  s.gdtr = {0, 0xFFFF};
  s.idtr = {0, 0xFFFF};
  s.ldtr = SegmentCache{};
  s.ldtr.limit = 0xFFFF;
  s.tr = SegmentCache{};
  s.tr.limit = 0xFFFF;
  s.tr.attr = SEG_P | 0xB;
  s.gpr[EDX] = (model.family << 8) | (model.model << 4) | model.stepping;
  exc = {};
  delivering_vector_ = -1;
  trap_pending_ = false;
  stop_requested_ = false;
  refresh_segments();
  flush_tlb(true);
  async_ = true;
}

// ---- flags ------------------------------------------------------------------

uint32_t Cpu::lazy_arith_flags() const {
  const uint32_t sign = 1u << (s.lf_size * 8 - 1);
  const uint32_t res = s.lf_res, dst = s.lf_dst, src = s.lf_src;
  uint32_t f = 0;
  switch (s.lf_op) {
    case LazyOp::Add:
      if (res < dst) f |= FLAG_CF;
      if ((dst ^ res) & (src ^ res) & sign) f |= FLAG_OF;
      f |= (dst ^ src ^ res) & FLAG_AF;
      break;
    case LazyOp::Sub:
      if (dst < src) f |= FLAG_CF;
      if ((dst ^ src) & (dst ^ res) & sign) f |= FLAG_OF;
      f |= (dst ^ src ^ res) & FLAG_AF;
      break;
    case LazyOp::Inc:
      if (s.lf_cf) f |= FLAG_CF;
      if (res == sign) f |= FLAG_OF;
      f |= (dst ^ 1 ^ res) & FLAG_AF;
      break;
    case LazyOp::Dec:
      if (s.lf_cf) f |= FLAG_CF;
      if (res == sign - 1) f |= FLAG_OF;
      f |= (dst ^ 1 ^ res) & FLAG_AF;
      break;
    case LazyOp::Logic:
    case LazyOp::None:
      break;
  }
  if (res == 0) f |= FLAG_ZF;
  if (res & sign) f |= FLAG_SF;
  if (parity8(res)) f |= FLAG_PF;
  return f;
}

void Cpu::set_flag(uint32_t bit, bool on) {
  if ((bit & FLAGS_ARITH) && s.lf_op != LazyOp::None) {
    s.eflags_bits = eflags();
    s.lf_op = LazyOp::None;
  }
  if (on) s.eflags_bits |= bit; else s.eflags_bits &= ~bit;
  if (bit & (FLAG_TF | FLAG_IF | FLAG_AC | FLAG_VM)) write_eflags(s.eflags_bits, 0);
}

void Cpu::write_eflags(uint32_t value, uint32_t mask) {
  uint32_t old = eflags();
  uint32_t v = (old & ~mask) | (value & mask);
  v = (v | 0x2) & ~(0x8u | 0x20u | 0x8000u | 0xFFC00000u);
  s.eflags_bits = v;
  s.lf_op = LazyOp::None;
  if ((old ^ v) & FLAG_VM) refresh_segments();
  bool ac = (s.cr0 & CR0_AM) && (v & FLAG_AC);
  if (ac != ac_on_) {
    ac_on_ = ac;
    flush_tlb(true);
  }
  async_ = true;
}

// ---- segments -----------------------------------------------------------------

void Cpu::segment_changed(unsigned seg) {
  SegAccess& a = seg_acc_[seg];
  const SegmentCache& c = s.seg[seg];
  a = SegAccess{};
  if (!protected_mode() || v86()) {
    a.flags = SEGACC_R | SEGACC_W;
    a.lo = 0;
    a.hi = c.limit;
  } else if (!c.valid || !(c.attr & SEG_P)) {
    a.flags = 0;
  } else if (c.attr & SEG_CODE) {
    // Code segments: readable if R; never writable through a data access.
    a.flags = (c.attr & SEG_RW) ? SEGACC_R : 0;
    a.lo = 0;
    a.hi = c.limit;
  } else {
    a.flags = SEGACC_R | ((c.attr & SEG_RW) ? SEGACC_W : 0);
    if (c.attr & SEG_DC) {
      a.flags |= SEGACC_EXPDOWN;
      a.lo = c.limit + 1;
      a.hi = (c.attr & SEG_DB) ? 0xFFFFFFFFu : 0xFFFFu;
    } else {
      a.lo = 0;
      a.hi = c.limit;
    }
  }
  if (!(a.flags & SEGACC_EXPDOWN) && c.base == 0 && a.hi == 0xFFFFFFFFu && (a.flags & SEGACC_R))
    a.flags |= SEGACC_FLAT;
  if (seg == CS) fetch_epoch_ = ~0u;
}

void Cpu::refresh_segments() {
  for (unsigned i = 0; i < 6; ++i) segment_changed(i);
  fetch_epoch_ = ~0u;
}

void Cpu::seg_fault(unsigned seg) {
  if (seg == SS) raise(VEC_SS, 0);
  else raise(VEC_GP, 0);
}

bool Cpu::seg_check(unsigned seg, uint32_t off, uint32_t size, bool write) {
  const SegAccess& a = seg_acc_[seg];
  uint8_t need = write ? SEGACC_W : SEGACC_R;
  if (!(a.flags & need)) {
    seg_fault(seg);
    return false;
  }
  uint32_t last = off + (size - 1);
  if (last < off || off < a.lo || last > a.hi) {
    seg_fault(seg);
    return false;
  }
  return true;
}

// Translates every page of [lin, lin+len) for the access kind, so a later
// multi-part access cannot fault half way.
bool Cpu::probe_pages(uint32_t lin, uint32_t len, bool write, bool user) {
  if (len == 0) return true;
  const uint32_t first = lin & ~0xFFFu, last = (lin + len - 1) & ~0xFFFu;
  TlbEntry* e;
  for (uint32_t p = first;; p += 0x1000) {
    if (!translate(p == first ? lin : p, write, user, e)) return false;
    if (p == last) return true;
  }
}

bool Cpu::check_write(unsigned seg, uint32_t off, uint32_t len) {
  if (len == 0) return true;
  if (!seg_check(seg, off, len, true)) return false;
  return probe_pages(s.seg[seg].base + off, len, true, s.cpl == 3);
}

bool Cpu::check_read(unsigned seg, uint32_t off, uint32_t len) {
  if (len == 0) return true;
  if (!seg_check(seg, off, len, false)) return false;
  return probe_pages(s.seg[seg].base + off, len, false, s.cpl == 3);
}

// ---- translation --------------------------------------------------------------

void Cpu::flush_tlb(bool include_global) {
  for (unsigned i = 0; i < kTlbSize; ++i) {
    if (include_global || !tlb_[i].global) tlb_[i] = TlbEntry{};
  }
  ++tlb_epoch_;
}

void Cpu::revoke_tlb_writes() {
  for (unsigned i = 0; i < kTlbSize; ++i) tlb_[i].perm &= static_cast<uint8_t>(~(TLB_SW | TLB_UW));
}

void Cpu::flush_tlb_page(uint32_t lin) {
  TlbEntry& e = tlb_[(lin >> 12) & (kTlbSize - 1)];
  if (e.lpage == (lin & ~0xFFFu)) e = TlbEntry{};
  ++tlb_epoch_;
}

bool Cpu::page_walk(uint32_t lin, bool write, bool user, Walk& w) {
  // Translates with A/D updates; raises #PF on failure. The permissions the
  // walk proves are returned so the TLB entry needs no second walk.
  auto fault = [&](bool present) {
    s.cr2 = lin;
    raise(VEC_PF, (present ? 1u : 0u) | (write ? 2u : 0u) | (user ? 4u : 0u));
    return false;
  };
  uint32_t pde_addr = (s.cr3 & 0xFFFFF000u) | ((lin >> 22) << 2);
  uint32_t pde = static_cast<uint32_t>(phys_read(pde_addr, 4));
  if (!(pde & 1)) return fault(false);
  const bool wp = s.cr0 & CR0_WP;
  if ((pde & 0x80) && (s.cr4 & CR4_PSE)) {
    w.user_ok = pde & 4;
    w.writable = pde & 2;
    if (user && !w.user_ok) return fault(true);
    if (write && !w.writable && (user || wp)) return fault(true);
    uint32_t npde = pde | 0x20 | (write ? 0x40 : 0);
    if (npde != pde) phys_write(pde_addr, 4, npde);
    w.paddr = (pde & 0xFFC00000u) | (lin & 0x3FF000u);
    w.global = (pde & 0x100) && (s.cr4 & CR4_PGE);
    w.dirty = (npde & 0x40) != 0;
    return true;
  }
  uint32_t pte_addr = (pde & 0xFFFFF000u) | (((lin >> 12) & 0x3FF) << 2);
  uint32_t pte = static_cast<uint32_t>(phys_read(pte_addr, 4));
  if (!(pte & 1)) return fault(false);
  w.user_ok = (pde & 4) && (pte & 4);
  w.writable = (pde & 2) && (pte & 2);
  if (user && !w.user_ok) return fault(true);
  if (write && !w.writable && (user || wp)) return fault(true);
  if (!(pde & 0x20)) phys_write(pde_addr, 4, pde | 0x20);
  uint32_t npte = pte | 0x20 | (write ? 0x40 : 0);
  if (npte != pte) phys_write(pte_addr, 4, npte);
  w.paddr = pte & 0xFFFFF000u;
  w.global = (pte & 0x100) && (s.cr4 & CR4_PGE);
  w.dirty = (npte & 0x40) != 0;
  return true;
}

bool Cpu::translate(uint32_t lin, bool write, bool user, TlbEntry*& out) {
  TlbEntry& e = tlb_[(lin >> 12) & (kTlbSize - 1)];
  const uint8_t need = write ? (user ? TLB_UW : TLB_SW) : (user ? TLB_UR : TLB_SR);
  if (e.lpage == (lin & ~0xFFFu) && (e.perm & need)) {
    out = &e;
    return true;
  }
  uint32_t ppage;
  bool global = false;
  uint8_t perm;
  if (s.cr0 & CR0_PG) {
    Walk w;
    if (!page_walk(lin, write, user, w)) return false;
    ppage = w.paddr;
    global = w.global;
    // Reads as proven; writes only once D is set, so the first write to a
    // clean page walks again and sets it.
    perm = TLB_SR;
    if (w.user_ok) perm |= TLB_UR;
    if (w.dirty) {
      if (w.writable || !(s.cr0 & CR0_WP)) perm |= TLB_SW;
      if (w.user_ok && w.writable) perm |= TLB_UW;
    }
  } else {
    ppage = lin & 0xFFFFF000u;
    perm = TLB_SR | TLB_SW | TLB_UR | TLB_UW;
  }
  if (!s.a20_enabled) ppage &= ~(1u << 20);
  e.lpage = lin & ~0xFFFu;
  e.ppage = ppage;
  e.global = global;
  if (ppage < ram_size_ && !bus_.mmio_claimed(ppage)) {
    e.host = ram_ + ppage;
    uint64_t pg = ppage >> 12;
    if (code_page_[pg]) perm &= ~(TLB_SW | TLB_UW);
    if (FL_UNLIKELY(any_rom_) && rom_page(static_cast<uint32_t>(pg))) perm &= ~(TLB_SW | TLB_UW);
    if ((perm & (TLB_SW | TLB_UW)) && on_page_dirty) on_page_dirty(on_page_dirty_ctx, pg);
  } else {
    e.host = nullptr;
  }
  if (ac_on_) perm &= ~(TLB_UR | TLB_UW);
  if (data_watch_ || !phys_watches.empty()) perm = 0;
  // Entries without a host pointer never satisfy the fast path.
  e.perm = e.host ? perm : 0;
  out = &e;
  // For MMIO, code pages and alignment-checked pages the permission was
  // proven by the walk above even though the entry does not grant it.
  return true;
}

bool Cpu::translate_debug(uint32_t lin, uint32_t& paddr) const {
  if (!(s.cr0 & CR0_PG)) {
    paddr = lin;
    return true;
  }
  uint32_t pde = static_cast<uint32_t>(const_cast<Cpu*>(this)->phys_read(
      (s.cr3 & 0xFFFFF000u) | ((lin >> 22) << 2), 4));
  if (!(pde & 1)) return false;
  if ((pde & 0x80) && (s.cr4 & CR4_PSE)) {
    paddr = (pde & 0xFFC00000u) | (lin & 0x3FFFFFu);
    return true;
  }
  uint32_t pte = static_cast<uint32_t>(const_cast<Cpu*>(this)->phys_read(
      (pde & 0xFFFFF000u) | (((lin >> 12) & 0x3FF) << 2), 4));
  if (!(pte & 1)) return false;
  paddr = (pte & 0xFFFFF000u) | (lin & 0xFFF);
  return true;
}

// ---- physical memory ----------------------------------------------------------

uint64_t Cpu::phys_read(uint32_t paddr, unsigned size) {
  const bool mmio = bus_.mmio_claimed(paddr);
  if (mmio) return bus_.mmio_read(paddr, size);
  if (uint64_t(paddr) + size <= ram_size_) {
    uint64_t v = 0;
    std::memcpy(&v, ram_ + paddr, size);
    return v;
  }
  uint64_t v = 0;
  for (unsigned k = 0; k < size; ++k) {
    uint64_t a = uint64_t(paddr) + k;
    uint8_t b = 0xFF;
    if (a < ram_size_) b = ram_[a];
    else if (bus_.mmio_claimed(a)) b = static_cast<uint8_t>(bus_.mmio_read(a, 1));
    v |= uint64_t(b) << (8 * k);
  }
  return v;
}

void Cpu::phys_write(uint32_t paddr, unsigned size, uint64_t v) {
  for (unsigned k = 0; k < size;) {
    uint64_t a = uint64_t(paddr) + k;
    if (a < ram_size_ && !bus_.mmio_claimed(a)) {
      uint64_t pg = a >> 12;
      unsigned n = std::min<unsigned>(size - k, static_cast<unsigned>(0x1000 - (a & 0xFFF)));
      if (FL_UNLIKELY(any_rom_) && rom_page(static_cast<uint32_t>(pg))) {
        for (unsigned j = 0; j < n; ++j)
          if (on_rom_write) on_rom_write(static_cast<uint32_t>(a + j), static_cast<uint8_t>(v >> (8 * (k + j))));
        k += n;
        continue;
      }
      if (code_page_[pg]) code_page_written(static_cast<uint32_t>(a & ~0xFFFull));
      if (on_page_dirty) on_page_dirty(on_page_dirty_ctx, pg);
      std::memcpy(ram_ + a, reinterpret_cast<const uint8_t*>(&v) + k, n);
      k += n;
    } else {
      if (bus_.mmio_claimed(a)) bus_.mmio_write(a, 1, static_cast<uint8_t>(v >> (8 * k)));
      ++k;
    }
  }
}

bool Cpu::read_phys(uint64_t paddr, void* dst, size_t len) const {
  auto* out = static_cast<uint8_t*>(dst);
  for (size_t k = 0; k < len; ++k) {
    uint64_t a = paddr + k;
    if (a >= 0x100000000ull) return false;
    out[k] = static_cast<uint8_t>(const_cast<Cpu*>(this)->phys_read(static_cast<uint32_t>(a), 1));
  }
  return true;
}

bool Cpu::write_phys(uint64_t paddr, const void* src, size_t len) {
  const auto* in = static_cast<const uint8_t*>(src);
  for (size_t k = 0; k < len;) {
    uint64_t a = paddr + k;
    if (a >= 0x100000000ull) return false;
    size_t n = std::min<size_t>(len - k, 0x1000 - (a & 0xFFF));
    if (a + n <= ram_size_) {
      uint64_t pg = a >> 12;
      if (code_page_[pg]) code_page_written(static_cast<uint32_t>(a & ~0xFFFull));
      if (on_page_dirty) on_page_dirty(on_page_dirty_ctx, pg);
      std::memcpy(ram_ + a, in + k, n);
      k += n;
    } else {
      phys_write(static_cast<uint32_t>(a), 1, in[k]);
      ++k;
    }
  }
  return true;
}

// ---- slow linear paths ------------------------------------------------------

template <class T>
T Cpu::read_lin_slow(uint32_t lin, bool user) {
  if (ac_on_ && user && (lin & (sizeof(T) - 1))) {
    raise(VEC_AC, 0);
    return 0;
  }
  T v = 0;
  if ((lin & 0xFFF) <= 0x1000 - sizeof(T)) {
    TlbEntry* e;
    if (!translate(lin, false, user, e)) return 0;
    if (data_watch_) check_data_breakpoints(lin, sizeof(T), false);
    uint32_t pa = e->ppage | (lin & 0xFFF);
    if (e->host) std::memcpy(&v, e->host + (lin & 0xFFF), sizeof(T));
    else v = static_cast<T>(phys_read(pa, sizeof(T)));
    if (!phys_watches.empty()) check_phys_watches(pa, sizeof(T), false);
    return v;
  }
  // Crosses a page: translate both pages before reading.
  TlbEntry *e1, *e2;
  uint32_t lin2 = (lin + 0x1000) & ~0xFFFu;
  if (!translate(lin, false, user, e1)) return 0;
  uint32_t p1 = e1->ppage;
  if (!translate(lin2, false, user, e2)) return 0;
  uint32_t p2 = e2->ppage;
  if (data_watch_) check_data_breakpoints(lin, sizeof(T), false);
  uint8_t buf[sizeof(T)];
  for (unsigned k = 0; k < sizeof(T); ++k) {
    uint32_t l = lin + k;
    uint32_t pa = ((l & ~0xFFFu) == (lin & ~0xFFFu) ? p1 : p2) | (l & 0xFFF);
    buf[k] = static_cast<uint8_t>(phys_read(pa, 1));
    if (!phys_watches.empty()) check_phys_watches(pa, 1, false);
  }
  std::memcpy(&v, buf, sizeof(T));
  return v;
}

bool Cpu::write_probe(uint32_t lin, unsigned size, bool user) {
  if (ac_on_ && user && size > 1 && (lin & (size - 1))) {
    raise(VEC_AC, 0);
    return false;
  }
  TlbEntry* e;
  if (!translate(lin, true, user, e)) return false;
  if ((lin & 0xFFF) + size > 0x1000) {
    if (!translate((lin + 0x1000) & ~0xFFFu, true, user, e)) return false;
  }
  return true;
}

template <class T>
void Cpu::write_lin_slow(uint32_t lin, T v, bool user) {
  if (ac_on_ && user && (lin & (sizeof(T) - 1))) {
    raise(VEC_AC, 0);
    return;
  }
  TlbEntry *e1, *e2 = nullptr;
  if (!translate(lin, true, user, e1)) return;
  uint32_t p1 = e1->ppage;
  uint32_t p2 = 0;
  bool cross = (lin & 0xFFF) > 0x1000 - sizeof(T);
  if (cross) {
    if (!translate((lin + 0x1000) & ~0xFFFu, true, user, e2)) return;
    p2 = e2->ppage;
  }
  if (data_watch_) check_data_breakpoints(lin, sizeof(T), true);
  if (!cross) {
    phys_write(p1 | (lin & 0xFFF), sizeof(T), v);
    if (!phys_watches.empty()) check_phys_watches(p1 | (lin & 0xFFF), sizeof(T), true);
    return;
  }
  for (unsigned k = 0; k < sizeof(T); ++k) {
    uint32_t l = lin + k;
    uint32_t pa = ((l & ~0xFFFu) == (lin & ~0xFFFu) ? p1 : p2) | (l & 0xFFF);
    phys_write(pa, 1, static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * k)));
    if (!phys_watches.empty()) check_phys_watches(pa, 1, true);
  }
}

template uint8_t Cpu::read_lin_slow<uint8_t>(uint32_t, bool);
template uint16_t Cpu::read_lin_slow<uint16_t>(uint32_t, bool);
template uint32_t Cpu::read_lin_slow<uint32_t>(uint32_t, bool);
template uint64_t Cpu::read_lin_slow<uint64_t>(uint32_t, bool);
template void Cpu::write_lin_slow<uint8_t>(uint32_t, uint8_t, bool);
template void Cpu::write_lin_slow<uint16_t>(uint32_t, uint16_t, bool);
template void Cpu::write_lin_slow<uint32_t>(uint32_t, uint32_t, bool);
template void Cpu::write_lin_slow<uint64_t>(uint32_t, uint64_t, bool);

bool Cpu::read_lin_bytes(uint32_t lin, void* dst, uint32_t len, bool user) {
  auto* out = static_cast<uint8_t*>(dst);
  for (uint32_t k = 0; k < len; ++k) {
    out[k] = read_lin<uint8_t>(lin + k, user);
    if (exc.pending) return false;
  }
  return true;
}

bool Cpu::write_lin_bytes(uint32_t lin, const void* src, uint32_t len, bool user) {
  // Probe every page first so a fault leaves memory untouched.
  if (!probe_pages(lin, len, true, user)) return false;
  const auto* in = static_cast<const uint8_t*>(src);
  for (uint32_t k = 0; k < len; ++k) {
    write_lin<uint8_t>(lin + k, in[k], user);
    if (exc.pending) return false;
  }
  return true;
}

// ---- observation hooks ------------------------------------------------------------

void Cpu::hooks_changed() {
  pc_hook_armed_ = !pc_breakpoints.empty();
  hooks_armed_ = pc_hook_armed_ || !phys_watches.empty();
  flush_tlb(true);  // watches take effect through TLB permissions
  async_ = true;
}

void Cpu::check_phys_watches(uint32_t paddr, unsigned size, bool write) {
  if (!on_watch) return;
  for (const PhysWatch& w : phys_watches) {
    if (paddr < w.end && w.start < paddr + size && (write ? w.on_write : w.on_read)) {
      on_watch(on_watch_ctx, paddr, size, write);
      return;
    }
  }
}

bool Cpu::block_has_breakpoint(uint32_t lin_start, uint32_t bytes) const {
  for (uint32_t bp : pc_breakpoints)
    if (bp - lin_start < bytes) return true;
  return false;
}

void Cpu::load_state(const CpuState& state, uint64_t ticks, uint64_t halted_ticks) {
  s = state;
  icount_ = ticks;
  halted_ticks_ = halted_ticks;
  exc = {};
  trap_pending_ = false;
  stop_requested_ = false;
  db_hits_ = 0;
  ac_on_ = (s.cr0 & CR0_AM) && (s.eflags_bits & FLAG_AC);
  dr7_seen_ = ~s.dr[7];  // recompute debug-register state on the next run
  refresh_segments();
  flush_tlb(true);
  invalidate_code();
  async_ = true;
}

void Cpu::invalidate_code() {
  for (size_t p = 0; p < page_gen_.size(); ++p) {
    ++page_gen_[p];
    code_page_[p] = 0;
  }
  flush_tlb(true);
  async_ = true;
}

void Cpu::set_rom_pages(uint32_t first_page, uint32_t count, bool rom) {
  for (uint32_t p = first_page; p < first_page + count && p < kRomPages; ++p) rom_page_[p] = rom ? 1 : 0;
  any_rom_ = false;
  for (uint8_t r : rom_page_) any_rom_ |= r != 0;
  flush_tlb(true);
  async_ = true;
}

void Cpu::invalidate_code_page(uint64_t paddr) {
  if (paddr >= ram_size_) return;
  code_page_written(static_cast<uint32_t>(paddr & ~0xFFFull));
  flush_tlb(true);
}

// ---- debug registers --------------------------------------------------------------

void Cpu::debug_registers_changed() {
  dr7_seen_ = s.dr[7];
  bool watch = false;
  for (unsigned i = 0; i < 4; ++i) {
    bool enabled = (s.dr[7] >> (2 * i)) & 3;
    unsigned rw = (s.dr[7] >> (16 + 4 * i)) & 3;
    if (enabled && (rw == 1 || rw == 3)) watch = true;
  }
  if (watch != data_watch_) {
    data_watch_ = watch;
    flush_tlb(true);
  }
}

void Cpu::check_data_breakpoints(uint32_t lin, unsigned size, bool write) {
  for (unsigned i = 0; i < 4; ++i) {
    if (!((s.dr[7] >> (2 * i)) & 3)) continue;
    unsigned rw = (s.dr[7] >> (16 + 4 * i)) & 3;
    if (rw == 0 || rw == 2) continue;  // execute / I/O
    if (rw == 1 && !write) continue;
    static constexpr uint32_t kLen[4] = {1, 2, 8, 4};
    uint32_t len = kLen[(s.dr[7] >> (18 + 4 * i)) & 3];
    uint32_t start = s.dr[i] & ~(len - 1);
    if (lin < start + len && start < lin + size) db_hits_ |= static_cast<uint8_t>(1u << i);
  }
}

bool Cpu::check_exec_breakpoints() {
  if (s.eflags_bits & FLAG_RF) return false;
  uint32_t lin = s.seg[CS].base + s.eip;
  uint8_t hits = 0;
  for (unsigned i = 0; i < 4; ++i) {
    if (!((s.dr[7] >> (2 * i)) & 3)) continue;
    if (((s.dr[7] >> (16 + 4 * i)) & 3) != 0) continue;
    if (s.dr[i] == lin) hits |= static_cast<uint8_t>(1u << i);
  }
  if (!hits) return false;
  s.dr[6] = (s.dr[6] & ~0xFu) | hits;
  raise(VEC_DB);
  return true;
}

// ---- code pages -----------------------------------------------------------------

void Cpu::mark_code_page(uint32_t ppage) {
  uint64_t pg = ppage >> 12;
  if (code_page_[pg]) return;
  code_page_[pg] = 1;
  for (unsigned i = 0; i < kTlbSize; ++i) {
    if (tlb_[i].lpage != 1 && tlb_[i].ppage == ppage) tlb_[i].perm &= ~(TLB_SW | TLB_UW);
  }
}

void Cpu::code_page_written(uint32_t ppage) {
  uint64_t pg = ppage >> 12;
  code_page_[pg] = 0;
  ++page_gen_[pg];
  async_ = true;  // leave the current block: it may have been overwritten
}

// ---- control registers ------------------------------------------------------------

void Cpu::write_cr0(uint32_t v) {
  v |= CR0_ET;
  if ((v & CR0_PG) && !(v & CR0_PE)) return gp(0);
  if ((v & CR0_NW) && !(v & CR0_CD)) return gp(0);
  uint32_t old = s.cr0;
  s.cr0 = v;
  if ((old ^ v) & (CR0_PG | CR0_PE | CR0_WP)) flush_tlb(true);
  if ((old ^ v) & CR0_PE) refresh_segments();
  bool ac = (v & CR0_AM) && (s.eflags_bits & FLAG_AC);
  if (ac != ac_on_) {
    ac_on_ = ac;
    flush_tlb(true);
  }
}

void Cpu::write_cr3(uint32_t v) {
  s.cr3 = v & 0xFFFFF018u;
  flush_tlb(false);
}

void Cpu::write_cr4(uint32_t v) {
  const uint32_t supported = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE | CR4_PGE | CR4_PCE;
  if (v & ~supported) return gp(0);
  uint32_t old = s.cr4;
  s.cr4 = v;
  if ((old ^ v) & (CR4_PSE | CR4_PGE)) flush_tlb(true);
}

uint64_t Cpu::tsc() const { return icount_ * tsc_rate_per_insn + s.tsc_offset; }

// ---- I/O ------------------------------------------------------------------------

uint32_t Cpu::io_read(uint16_t port, unsigned size) { return bus_.io_read(port, size); }
void Cpu::io_write(uint16_t port, unsigned size, uint32_t value) { bus_.io_write(port, size, value); }

// ---- fetch and decode -----------------------------------------------------------

bool Cpu::fetch_decode(Insn*& out) {
  // The single-step path (TF, debug registers, breakpoints) takes its
  // instruction from the block cache; only what cannot be cached (an
  // instruction crossing a page, code outside RAM, a fault) is decoded here.
  if (Block* b = lookup_block()) {
    out = &b->insns[0];
    return true;
  }
  const uint32_t eip = s.eip;
  const SegmentCache& cs = s.seg[CS];
  if (eip > cs.limit) {
    gp(0);
    return false;
  }
  const uint32_t lin = cs.base + eip;
  const bool user = s.cpl == 3;
  if ((lin & ~0xFFFu) != fetch_lpage_ || fetch_epoch_ != tlb_epoch_ || fetch_user_ != user) {
    TlbEntry* e;
    if (!translate(lin, false, user, e)) return false;
    fetch_lpage_ = lin & ~0xFFFu;
    fetch_ppage_ = e->ppage;
    fetch_host_ = e->host;
    fetch_epoch_ = tlb_epoch_;
    fetch_user_ = user;
  }
  const bool c32 = code32();
  const uint32_t paddr = fetch_ppage_ | (lin & 0xFFF);
  // Slow path: gather up to 15 bytes (possibly across a page) and decode.
  uint8_t buf[16];
  unsigned in_page = 0x1000 - (lin & 0xFFF);
  unsigned avail = std::min(15u, in_page);
  for (unsigned k = 0; k < avail; ++k) {
    buf[k] = fetch_host_ ? fetch_host_[(lin & 0xFFF) + k]
                         : static_cast<uint8_t>(phys_read(paddr + k, 1));
  }
  Insn& insn = scratch_insn_;
  DecodeStatus st = decode(buf, avail, c32, insn);
  if (st == DecodeStatus::NeedMoreBytes && avail < 15) {
    TlbEntry* e2;
    uint32_t lin2 = (lin + 0x1000) & ~0xFFFu;
    if (!translate(lin2, false, user, e2)) return false;
    for (unsigned k = avail; k < 15; ++k) {
      uint32_t pa = e2->ppage | (k - avail);
      buf[k] = e2->host ? e2->host[k - avail] : static_cast<uint8_t>(phys_read(pa, 1));
    }
    avail = 15;
    st = decode(buf, avail, c32, insn);
  }
  if (st == DecodeStatus::NeedMoreBytes || st == DecodeStatus::TooLong) {
    gp(0);
    return false;
  }
  ++decode_misses;
  if (st == DecodeStatus::Undefined) {
    insn.handler = (insn.info && insn.info->defined) ? handler_unimplemented : handler_ud;
  } else if ((insn.prefixes & P_LOCK) &&
             (!(insn.info->attr & A_LOCK) || insn.mod == 3)) {
    insn.handler = handler_ud;
  }
  if (eip + insn.len - 1 > cs.limit) {
    gp(0);
    return false;
  }
  out = &insn;
  return true;
}

// ---- decoded blocks ---------------------------------------------------------------

namespace {
bool ends_block(const Insn& i) {
  if (!i.info || !i.info->defined) return true;
  return (i.info->attr & (A_BRANCH | A_SYS | A_PRIV | A_IO | A_SEGLOAD)) != 0 ||
         i.handler == handler_ud || i.handler == handler_unimplemented;
}
}  // namespace

void Cpu::build_block(Block& b, uint32_t paddr, bool c32) {
  const uint8_t* page = ram_ + (paddr & ~0xFFFu);
  unsigned off = paddr & 0xFFF;
  b.paddr = paddr;
  b.code32 = c32;
  b.count = 0;
  b.bytes = 0;
  while (b.count < kBlockMax) {
    unsigned avail = std::min(15u, 0x1000 - off);
    Insn& insn = b.insns[b.count];
    DecodeStatus st = decode(page + off, avail, c32, insn);
    if (st == DecodeStatus::NeedMoreBytes || st == DecodeStatus::TooLong) break;  // single-step path
    ++decode_misses;
    if (st == DecodeStatus::Undefined) {
      insn.handler = (insn.info && insn.info->defined) ? handler_unimplemented : handler_ud;
    } else if ((insn.prefixes & P_LOCK) && (!(insn.info->attr & A_LOCK) || insn.mod == 3)) {
      insn.handler = handler_ud;
    }
    ++b.count;
    off += insn.len;
    b.bytes = static_cast<uint16_t>(b.bytes + insn.len);
    if (ends_block(insn) || insn.handler == handler_ud || off >= 0x1000) break;
  }
  {
    const Insn& tail = b.insns[b.count ? b.count - 1 : 0];
    const uint16_t sys = A_SYS | A_PRIV | A_IO | A_SEGLOAD;
    b.chainable = b.count && tail.info && tail.info->defined && !(tail.info->attr & sys) &&
                  tail.handler != handler_ud && tail.handler != handler_unimplemented;
  }
  mark_code_page(paddr & ~0xFFFu);
  b.gen = page_gen_[paddr >> 12];
}

Cpu::Block* Cpu::lookup_block() {
  const uint32_t eip = s.eip;
  const SegmentCache& cs = s.seg[CS];
  if (eip > cs.limit) return nullptr;
  const uint32_t lin = cs.base + eip;
  const bool user = s.cpl == 3;
  if ((lin & ~0xFFFu) != fetch_lpage_ || fetch_epoch_ != tlb_epoch_ || fetch_user_ != user) {
    TlbEntry* e;
    if (!translate(lin, false, user, e)) {
      exc.pending = false;  // the single-step path re-raises it with the right state
      return nullptr;
    }
    fetch_lpage_ = lin & ~0xFFFu;
    fetch_ppage_ = e->ppage;
    fetch_host_ = e->host;
    fetch_epoch_ = tlb_epoch_;
    fetch_user_ = user;
  }
  if (!fetch_host_) return nullptr;
  const uint32_t paddr = fetch_ppage_ | (lin & 0xFFF);
  const bool c32 = (cs.attr & SEG_DB) != 0;
  Block& b = blocks_[(paddr ^ (paddr >> 12)) & (kBlockCacheSize - 1)];
  if (!(b.paddr == paddr && b.gen == page_gen_[paddr >> 12] && b.code32 == c32)) {
    build_block(b, paddr, c32);
    if (b.count == 0) {
      b.paddr = 0xFFFFFFFFu;
      return nullptr;
    }
  }
  if (eip + b.bytes - 1 > cs.limit) return nullptr;
  return &b;
}

// Runs a block's instructions back to back. Returns false if one faulted
// (s.eip then points at it and `exc` holds the exception).
template <bool kCode32>
bool Cpu::exec_block(const Block& b, uint64_t limit) {
  const Insn* in = b.insns;
  const Insn* last = in + std::min<uint64_t>(b.count, limit - icount_);
  uint32_t eip = s.eip;
  do {
    uint32_t fall = eip + in->len;
    if (!kCode32) fall &= 0xFFFF;
    insn_eip = eip;
    next_eip = fall;
    in->handler(*this, *in);
    if (FL_UNLIKELY(exc.pending)) {
      s.eip = eip;
      return false;
    }
    ++icount_;
    eip = next_eip;
    ++in;
    if (eip != fall) break;
  } while (in != last && !async_);
  s.eip = eip;
  return true;
}

// ---- exceptions -------------------------------------------------------------------

void Cpu::deliver_exception() {
  uint8_t v = exc.vector;
  bool has_err = exc.has_error;
  uint32_t err = exc.error;
  exc.pending = false;
  s.halted = false;
  for (;;) {
    if (deliver_interrupt(v, IntKind::Exception, has_err, err, insn_eip)) return;
    uint8_t nv = exc.vector;
    bool nhe = exc.has_error;
    uint32_t nerr = exc.error;
    exc.pending = false;
    if (v == VEC_DF) {
      request_stop(StopReason::TripleFault);
      return;
    }
    bool df = (is_contributory(v) && is_contributory(nv)) ||
              (v == VEC_PF && (nv == VEC_PF || is_contributory(nv)));
    if (df) {
      v = VEC_DF;
      has_err = true;
      err = 0;
    } else {
      v = nv;
      has_err = nhe;
      err = nerr;
    }
  }
}

// ---- run loop -------------------------------------------------------------------

StopReason Cpu::run(uint64_t max_instructions) {
  const uint64_t end = max_instructions > UINT64_MAX - icount_ ? UINT64_MAX : icount_ + max_instructions;
  for (;;) {
    if (FL_UNLIKELY(async_)) {
      async_ = false;
      if (stop_requested_) {
        stop_requested_ = false;
        return stop_request_;
      }
      if (icount_ >= next_event_at && on_event) {
        on_event(on_event_ctx);
        async_ = true;
        continue;
      }
      if (s.inhibit_interrupts) {
        s.inhibit_interrupts = false;
        async_ = true;  // look again after this instruction
      } else if ((s.eflags_bits & FLAG_IF) && irq_source && irq_source->interrupt_pending()) {
        s.halted = false;
        uint8_t vec = irq_source->acknowledge();
        insn_eip = s.eip;
        if (!deliver_interrupt(vec, IntKind::External, false, 0, s.eip)) deliver_exception();
        async_ = true;
        continue;
      }
      if (s.halted) {
        if (!(s.eflags_bits & FLAG_IF) && next_event_at == UINT64_MAX) return StopReason::Halted;
        uint64_t target = std::min(end, next_event_at);
        if (target == UINT64_MAX) return StopReason::Halted;
        if (target > icount_) {
          halted_ticks_ += target - icount_;
          icount_ = target;
        }
        async_ = true;
        if (icount_ >= end) return StopReason::Budget;
        continue;
      }
      if (s.eflags_bits & FLAG_TF) {
        trap_pending_ = true;
        async_ = true;
      }
    }
    if (FL_UNLIKELY(icount_ >= end)) return StopReason::Budget;
    if (FL_UNLIKELY(icount_ >= next_event_at)) {
      async_ = true;
      continue;
    }
    if (FL_UNLIKELY(s.dr[7] != dr7_seen_)) debug_registers_changed();
    bool debug = (s.dr[7] & 0xFF) != 0 || (s.eflags_bits & FLAG_RF);
    if (FL_UNLIKELY(pc_hook_armed_)) {
      uint32_t lin = s.seg[CS].base + s.eip;
      for (uint32_t bp : pc_breakpoints) {
        if (bp == lin && on_pc && !pc_hit_done_) {
          pc_hit_done_ = true;  // fire once per arrival at this instruction
          on_pc(on_pc_ctx, lin);
          break;
        }
      }
      if (async_) continue;  // the hook asked for a stop or changed state
      pc_hit_done_ = false;
    }
    Block* b = FL_LIKELY(!trap_pending_ && !debug) ? lookup_block() : nullptr;
    // A breakpoint inside the block (past its first instruction, which was
    // just checked) sends this instruction through the single-step path.
    if (FL_UNLIKELY(pc_hook_armed_) && b && b->bytes > 1 &&
        block_has_breakpoint(s.seg[CS].base + s.eip + 1, b->bytes - 1u))
      b = nullptr;
    if (b) {
      // Run blocks back to back while nothing asks for attention. Only
      // blocks ending in ordinary instructions chain: system instructions
      // may change what the outer loop checks (debug registers, hooks).
      const uint64_t limit = std::min(end, next_event_at);
      const bool chain = !pc_hook_armed_;
      for (;;) {
        bool ok = b->code32 ? exec_block<true>(*b, limit) : exec_block<false>(*b, limit);
        if (FL_UNLIKELY(!ok)) {
          if (stop_on_exception) return StopReason::Exception;
          trap_pending_ = false;
          deliver_exception();
          async_ = true;
          break;
        }
        if (!chain || !b->chainable || async_ || icount_ >= limit) break;
        b = lookup_block();
        if (!b) break;
      }
      continue;
    }
    Insn* insn;
    insn_eip = s.eip;
    db_hits_ = 0;
    if (FL_UNLIKELY(debug && check_exec_breakpoints())) {
      if (stop_on_exception) return StopReason::Exception;
      trap_pending_ = false;
      deliver_exception();
      async_ = true;
      continue;
    }
    if (FL_UNLIKELY(!fetch_decode(insn))) {
      if (stop_on_exception) return StopReason::Exception;
      trap_pending_ = false;
      deliver_exception();
      async_ = true;
      continue;
    }
    next_eip = insn_eip + insn->len;
    if (!code32()) next_eip &= 0xFFFF;
    insn->handler(*this, *insn);
    if (FL_UNLIKELY(exc.pending)) {
      if (stop_on_exception) return StopReason::Exception;
      trap_pending_ = false;
      deliver_exception();
      async_ = true;
      continue;
    }
    s.eip = next_eip;
    ++icount_;
    s.eflags_bits &= ~FLAG_RF;
    if (FL_UNLIKELY(db_hits_)) {
      s.dr[6] = (s.dr[6] & ~0xFu) | db_hits_;
      db_hits_ = 0;
      trap_pending_ = false;
      insn_eip = s.eip;
      if (stop_on_exception) {
        raise(VEC_DB);
        return StopReason::Exception;
      }
      if (!deliver_interrupt(VEC_DB, IntKind::Exception, false, 0, s.eip)) deliver_exception();
      async_ = true;
      continue;
    }
    if (FL_UNLIKELY(trap_pending_)) {
      trap_pending_ = false;
      s.dr[6] |= 0x4000;  // BS: single step
      insn_eip = s.eip;
      if (stop_on_exception) {
        raise(VEC_DB);
        return StopReason::Exception;
      }
      if (!deliver_interrupt(VEC_DB, IntKind::Exception, false, 0, s.eip)) deliver_exception();
      async_ = true;
    }
  }
}

}  // namespace faultline
