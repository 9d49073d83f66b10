// Segment register loads and descriptor-table access (Intel SDM vol. 3,
// chapter 3 "Protected-Mode Memory Management" and chapter 5 "Protection";
// vol. 2 MOV/POP/LDS pseudo-code for the checks).
#include "core/cpu.h"
#include "core/sys_internal.h"

namespace faultline {

namespace sys {

uint32_t desc_lin(const Cpu& c, uint16_t sel) {
  const uint32_t base = (sel & 4) ? c.s.ldtr.base : c.s.gdtr.base;
  return base + (sel & ~7u);
}

namespace {
// True if the 8 bytes of the descriptor lie inside the GDT or the loaded LDT
// (an LDT selector with no LDT loaded is outside every table).
bool in_table(const Cpu& c, uint16_t sel) {
  if ((sel & 4) && !c.s.ldtr.valid) return false;
  const uint32_t limit = (sel & 4) ? c.s.ldtr.limit : c.s.gdtr.limit;
  return (sel & ~7u) + 7 <= limit;
}
}  // namespace

bool read_desc(Cpu& c, uint16_t sel, Desc& d, uint8_t vec, uint32_t ext) {
  if (!in_table(c, sel)) {
    c.raise(vec, sel_err(sel, ext));
    return false;
  }
  d.raw = c.read_lin<uint64_t>(desc_lin(c, sel), false);
  return !c.faulted();
}

bool probe_desc(Cpu& c, uint16_t sel, Desc& d) {
  if (sel_null(sel) || !in_table(c, sel)) return false;
  d.raw = c.read_lin<uint64_t>(desc_lin(c, sel), false);
  return !c.faulted();
}

bool mark_accessed(Cpu& c, uint16_t sel, Desc& d) {
  if (!d.s() || d.accessed()) return true;
  const uint8_t access = uint8_t(d.access() | 1);
  if (!c.write_lin_bytes(desc_lin(c, sel) + 5, &access, 1, false)) return false;
  d.raw |= 1ull << 40;
  return true;
}

bool set_tss_busy(Cpu& c, uint16_t sel, bool busy) {
  const uint32_t lin = c.s.gdtr.base + (sel & ~7u) + 5;
  uint8_t access;
  if (!c.read_lin_bytes(lin, &access, 1, false)) return false;
  const uint8_t updated = busy ? uint8_t(access | 2) : uint8_t(access & ~2);
  if (updated == access) return true;
  return c.write_lin_bytes(lin, &updated, 1, false);
}

}  // namespace sys

using sys::Desc;
using sys::sel_err;

SegmentCache Cpu::cache_from_descriptor(uint16_t selector, uint64_t desc) {
  SegmentCache c;
  c.selector = selector;
  c.base = uint32_t((desc >> 16) & 0xFFFFFF) | (uint32_t(desc >> 56) << 24);
  uint32_t limit = uint32_t(desc & 0xFFFF) | (uint32_t(desc >> 32) & 0xF0000u);
  // Bits 0-7: access byte; bits 12-15: AVL, L, D/B, G (byte 6 high nibble).
  c.attr = uint16_t((desc >> 40) & 0xF0FF);
  if (c.attr & SEG_G) limit = (limit << 12) | 0xFFF;
  c.limit = limit;
  c.valid = true;
  return c;
}

void Cpu::set_seg_cache(unsigned seg, const SegmentCache& cache) {
  s.seg[seg] = cache;
  segment_changed(seg);
}

bool Cpu::read_descriptor(uint16_t selector, uint64_t& desc, uint8_t fault_vector) {
  Desc d;
  if (!sys::read_desc(*this, selector, d, fault_vector, 0)) return false;
  desc = d.raw;
  return true;
}

void Cpu::load_seg_real(unsigned seg, uint16_t selector) {
  SegmentCache c = s.seg[seg];
  c.selector = selector;
  c.base = uint32_t(selector) << 4;
  if (v86()) {
    // Virtual-8086 mode: 64 KiB, present, accessed read/write data (or
    // readable code) at DPL 3, 16-bit.
    c.limit = 0xFFFF;
    c.attr = SEG_P | SEG_S | SEG_RW | SEG_ACCESSED | (3u << SEG_DPL_SHIFT) |
             (seg == CS ? SEG_CODE : 0);
  } else {
    // Real mode: only selector and base change; the limit (and the D/B and
    // G bits) stay as they were ("unreal" mode). A register left invalid by
    // a protected-mode null load becomes an ordinary 64 KiB segment.
    if (!c.valid) {
      c.limit = 0xFFFF;
      c.attr = 0;
    }
    c.attr = uint16_t((c.attr & (SEG_DB | SEG_G)) | SEG_P | SEG_S | SEG_RW | SEG_ACCESSED |
                      (seg == CS ? SEG_CODE : 0));
  }
  c.valid = true;
  set_seg_cache(seg, c);
}

bool Cpu::load_seg(unsigned seg, uint16_t selector) {
  if (!protected_mode() || v86()) {
    load_seg_real(seg, selector);
    if (seg == SS) {
      s.inhibit_interrupts = true;
      async_check();
    }
    return true;
  }
  if (seg == CS) {
    // CS is loaded only by far transfers (control.cpp).
    gp(sel_err(selector, 0));
    return false;
  }

  Desc d;
  if (seg == SS) {
    if (sys::sel_null(selector)) {
      gp(0);
      return false;
    }
    if (!sys::read_desc(*this, selector, d, VEC_GP, 0)) return false;
    if (sys::rpl(selector) != cpl() || !d.writable_data() || d.dpl() != cpl()) {
      gp(sel_err(selector, 0));
      return false;
    }
    if (!d.present()) {
      raise(VEC_SS, sel_err(selector, 0));
      return false;
    }
  } else {
    if (sys::sel_null(selector)) {
      // Null selectors may be loaded into DS/ES/FS/GS; any use faults.
      set_seg_cache(seg, sys::null_cache(selector));
      return true;
    }
    if (!sys::read_desc(*this, selector, d, VEC_GP, 0)) return false;
    if (!d.readable()) {
      gp(sel_err(selector, 0));
      return false;
    }
    if (!d.conforming() && (sys::rpl(selector) > d.dpl() || cpl() > d.dpl())) {
      gp(sel_err(selector, 0));
      return false;
    }
    if (!d.present()) {
      raise(VEC_NP, sel_err(selector, 0));
      return false;
    }
  }
  if (!sys::mark_accessed(*this, selector, d)) return false;
  set_seg_cache(seg, cache_from_descriptor(selector, d.raw));
  if (seg == SS) {
    s.inhibit_interrupts = true;
    async_check();
  }
  return true;
}

}  // namespace faultline
