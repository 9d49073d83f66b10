// Hardware task switching (Intel SDM vol. 3 chapter 7, "Task Management")
// for 32-bit and 16-bit TSSs, and the I/O permission check (vol. 1
// chapter 19 / vol. 3 "I/O permission bit map").
//
// The switch follows SDM 7.3: everything that can fault in the context of the
// outgoing task (TSS limit, reading the incoming TSS, saving the outgoing
// state, back link and busy bits) is done first; then the new state is
// committed (TR, CR0.TS, CR3, general registers, EFLAGS, EIP, segment
// selectors); finally LDTR and the segment registers are validated and
// loaded, and faults there are raised in the context of the new task (with
// `insn_eip` pointing at the new task's EIP, so the run loop reports them
// there).
#include <cstring>

#include "core/cpu.h"
#include "core/sys_internal.h"

namespace faultline {

using sys::Desc;
using sys::sel_err;
using Src = Cpu::TaskSwitchSource;

namespace {

// Offsets of the dynamic fields in the two TSS formats.
struct TssFormat {
  uint32_t min_limit;   // smallest valid descriptor limit
  uint32_t dyn_begin;   // first byte of the area saved on a switch
  uint32_t dyn_end;     // one past the last byte
  uint32_t eip, eflags, gpr, seg, ldt;
  unsigned width;       // register field size
  unsigned nsegs;       // segment registers held (ES CS SS DS [FS GS])
  uint32_t seg_stride;
};
constexpr TssFormat kTss32{0x67, 0x20, 0x60, 0x20, 0x24, 0x28, 0x48, 0x60, 4, 6, 4};
constexpr TssFormat kTss16{0x2B, 0x0E, 0x2A, 0x0E, 0x10, 0x12, 0x22, 0x2A, 2, 4, 2};

uint32_t get(const uint8_t* img, uint32_t off, unsigned width) {
  uint32_t v = 0;
  std::memcpy(&v, img + off, width);
  return v;
}
void put(uint8_t* img, uint32_t off, unsigned width, uint32_t v) { std::memcpy(img + off, &v, width); }

bool fault(Cpu& c, uint8_t vec, uint32_t err) {
  c.raise(vec, err);
  return false;
}

// Loads LDTR and the segment registers of the new task (SDM table 7-1).
bool load_task_segments(Cpu& c, const uint16_t sel[6], uint16_t ldt, uint32_t ext) {
  // LDT: must be a present LDT descriptor in the GDT, or null.
  if (!sys::sel_null(ldt)) {
    if (ldt & 4) return fault(c, VEC_TS, sel_err(ldt, ext));
    Desc d;
    if (!sys::read_desc(c, ldt, d, VEC_TS, ext)) return false;
    if (d.s() || d.type() != sys::DT_LDT || !d.present())
      return fault(c, VEC_TS, sel_err(ldt, ext));
    c.s.ldtr = Cpu::cache_from_descriptor(ldt, d.raw);
  }

  if (c.v86()) {
    for (unsigned seg = 0; seg < 6; ++seg) c.load_seg_real(seg, sel[seg]);
    return true;
  }

  // Code segment: its RPL is the new CPL.
  const uint16_t cs_sel = sel[CS];
  if (sys::sel_null(cs_sel)) return fault(c, VEC_TS, sel_err(cs_sel, ext));
  Desc cs;
  if (!sys::read_desc(c, cs_sel, cs, VEC_TS, ext)) return false;
  if (!cs.is_code() || (cs.conforming() ? cs.dpl() > sys::rpl(cs_sel) : cs.dpl() != sys::rpl(cs_sel)))
    return fault(c, VEC_TS, sel_err(cs_sel, ext));
  if (!cs.present()) return fault(c, VEC_NP, sel_err(cs_sel, ext));
  if (!sys::mark_accessed(c, cs_sel, cs)) return false;
  c.set_seg_cache(CS, Cpu::cache_from_descriptor(cs_sel, cs.raw));

  // Stack segment: writable data with RPL == DPL == CPL.
  const uint16_t ss_sel = sel[SS];
  if (sys::sel_null(ss_sel)) return fault(c, VEC_TS, sel_err(ss_sel, ext));
  Desc ss;
  if (!sys::read_desc(c, ss_sel, ss, VEC_TS, ext)) return false;
  if (!ss.writable_data() || ss.dpl() != c.cpl() || sys::rpl(ss_sel) != c.cpl())
    return fault(c, VEC_TS, sel_err(ss_sel, ext));
  if (!ss.present()) return fault(c, VEC_SS, sel_err(ss_sel, ext));
  if (!sys::mark_accessed(c, ss_sel, ss)) return false;
  c.set_seg_cache(SS, Cpu::cache_from_descriptor(ss_sel, ss.raw));

  // Data segments.
  for (unsigned seg : {ES, DS, FS, GS}) {
    const uint16_t s = sel[seg];
    if (sys::sel_null(s)) {
      c.set_seg_cache(seg, sys::null_cache(s));
      continue;
    }
    Desc d;
    if (!sys::read_desc(c, s, d, VEC_TS, ext)) return false;
    if (!d.readable() ||
        (!d.conforming() && (sys::rpl(s) > d.dpl() || c.cpl() > d.dpl())))
      return fault(c, VEC_TS, sel_err(s, ext));
    if (!d.present()) return fault(c, VEC_NP, sel_err(s, ext));
    if (!sys::mark_accessed(c, s, d)) return false;
    c.set_seg_cache(seg, Cpu::cache_from_descriptor(s, d.raw));
  }
  return true;
}

}  // namespace

bool sys::task_switch_ext(Cpu& c, uint16_t tss_sel, uint64_t tss_desc, Src src, uint32_t ret_eip,
                          bool has_error, uint32_t error, uint32_t ext) {
  const Desc nd{tss_desc};
  const bool new32 = (nd.type() & 8) != 0;
  const TssFormat& nf = new32 ? kTss32 : kTss16;
  SegmentCache ntr = Cpu::cache_from_descriptor(tss_sel, tss_desc);
  if (ntr.limit < nf.min_limit) return fault(c, VEC_TS, sel_err(tss_sel, ext));

  const SegmentCache otr = c.s.tr;
  const bool old32 = (otr.attr & 8) != 0;
  const TssFormat& of = old32 ? kTss32 : kTss16;
  if (otr.limit < of.dyn_end - 1) return fault(c, VEC_TS, sel_err(otr.selector, ext));

  // Incoming task's TSS (faults here are in the outgoing context).
  uint8_t in[0x68] = {};
  if (!c.read_lin_bytes(ntr.base, in, nf.min_limit + 1, false)) return false;

  // Outgoing state, written over the current contents so reserved words
  // keep their values.
  uint8_t out[0x60];
  const uint32_t dyn_len = of.dyn_end - of.dyn_begin;
  if (!c.read_lin_bytes(otr.base + of.dyn_begin, out, dyn_len, false)) return false;
  uint32_t flags = c.eflags();
  if (src == Src::Iret) flags &= ~FLAG_NT;
  put(out, of.eip - of.dyn_begin, of.width, ret_eip);
  put(out, of.eflags - of.dyn_begin, of.width, flags);
  for (unsigned r = 0; r < 8; ++r) put(out, of.gpr - of.dyn_begin + r * of.width, of.width, c.s.gpr[r]);
  for (unsigned seg = 0; seg < of.nsegs; ++seg)
    put(out, of.seg - of.dyn_begin + seg * of.seg_stride, 2, c.s.seg[seg].selector);

  // Writes, ordered so that a fault part-way leaves the outgoing task
  // runnable: back link first, then the saved state, then the busy bits.
  const bool nest = src == Src::Call || src == Src::Interrupt;
  if (nest) {
    const uint16_t link = otr.selector;
    if (!c.write_lin_bytes(ntr.base, &link, 2, false)) return false;
  }
  if (!c.write_lin_bytes(otr.base + of.dyn_begin, out, dyn_len, false)) return false;
  if (src != Src::Iret && !sys::set_tss_busy(c, tss_sel, true)) return false;
  if ((src == Src::Jump || src == Src::Iret) && !sys::set_tss_busy(c, otr.selector, false))
    return false;

  // ---- commit: from here on we are in the new task -------------------------
  uint32_t new_eip = get(in, nf.eip, nf.width);
  uint32_t new_flags = get(in, nf.eflags, nf.width);
  if (nest) new_flags |= FLAG_NT;
  uint16_t sel[6] = {};
  for (unsigned seg = 0; seg < nf.nsegs; ++seg)
    sel[seg] = uint16_t(get(in, nf.seg + seg * nf.seg_stride, 2));
  const uint16_t ldt = uint16_t(get(in, nf.ldt, 2));

  ntr.attr |= 2;  // busy
  c.s.tr = ntr;
  c.write_cr0(c.s.cr0 | CR0_TS);
  if (new32 && (c.s.cr0 & CR0_PG)) c.write_cr3(get(in, 0x1C, 4));
  for (unsigned r = 0; r < 8; ++r) c.s.gpr[r] = get(in, nf.gpr + r * nf.width, nf.width);
  c.write_eflags(new_flags, sys::kEflagsDefined);
  c.s.eip = c.next_eip = new_eip;
  c.insn_eip = new_eip;  // faults from here on belong to the new task
  // Selectors are loaded first; descriptors follow and are validated.
  for (unsigned seg = 0; seg < 6; ++seg) c.s.seg[seg] = sys::null_cache(sel[seg]);
  c.s.ldtr = sys::null_cache(ldt);
  c.s.cpl = c.v86() ? 3 : uint8_t(sys::rpl(sel[CS]));
  c.refresh_segments();

  if (!load_task_segments(c, sel, ldt, ext)) return false;

  if (has_error) {
    const unsigned n = new32 ? 4 : 2;
    sys::StackPush st(c, c.s.seg[SS], c.s.gpr[ESP], c.cpl() == 3);
    if (!st.room(n, ext)) return false;
    if (!st.push_sized(error, n)) return false;
    c.s.gpr[ESP] = st.esp();
  }
  if (c.s.eip > c.s.seg[CS].limit) return fault(c, VEC_GP, ext);
  return true;
}

bool Cpu::task_switch(uint16_t tss_selector, uint64_t tss_desc, TaskSwitchSource src,
                      uint32_t ret_eip, bool has_error, uint32_t error) {
  return sys::task_switch_ext(*this, tss_selector, tss_desc, src, ret_eip, has_error, error, 0);
}

bool Cpu::io_allowed(uint16_t port, unsigned size) {
  if (!protected_mode()) return true;
  if (!v86() && cpl() <= iopl()) return true;
  // The I/O permission bitmap of a 32-bit TSS.
  const SegmentCache& tr = s.tr;
  if ((tr.attr & 0x1F) != sys::DT_TSS32_BUSY || tr.limit < 0x67) return false;
  const uint16_t map = read_lin<uint16_t>(tr.base + 0x66, false);
  if (faulted()) return false;
  const uint32_t byte = uint32_t(map) + (port >> 3);
  if (byte + 1 > tr.limit) return false;
  const uint16_t bits = read_lin<uint16_t>(tr.base + byte, false);
  if (faulted()) return false;
  const uint32_t mask = ((1u << size) - 1) << (port & 7);
  return (bits & mask) == 0;
}

}  // namespace faultline
