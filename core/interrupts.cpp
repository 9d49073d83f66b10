// Interrupt and exception delivery through the IVT (real mode) or the IDT
// (protected and virtual-8086 mode). Follows the INT n/INTO/INT3/INT1
// pseudo-code of the Intel SDM vol. 2 and vol. 3 chapter 6.
//
// Every check, and the writes of the new stack frame, happen before any
// register is changed: if delivery faults, CS/EIP/SS/ESP/CPL/EFLAGS are those
// of the interrupted context and the run loop's double-fault logic sees a
// consistent state.
#include "core/cpu.h"
#include "core/sys_internal.h"

namespace faultline {

using sys::Desc;
using sys::sel_err;
using sys::StackPush;

bool sys::tss_stack(Cpu& c, unsigned dpl, uint32_t ext, uint16_t& ss, uint32_t& esp) {
  const SegmentCache& tr = c.s.tr;
  const bool tss32 = (tr.attr & 8) != 0;
  if (tss32) {
    const uint32_t off = dpl * 8 + 4;
    if (off + 7 > tr.limit) {
      c.raise(VEC_TS, sel_err(tr.selector, ext));
      return false;
    }
    esp = c.read_lin<uint32_t>(tr.base + off, false);
    if (c.faulted()) return false;
    ss = c.read_lin<uint16_t>(tr.base + off + 4, false);
  } else {
    const uint32_t off = dpl * 4 + 2;
    if (off + 3 > tr.limit) {
      c.raise(VEC_TS, sel_err(tr.selector, ext));
      return false;
    }
    esp = c.read_lin<uint16_t>(tr.base + off, false);
    if (c.faulted()) return false;
    ss = c.read_lin<uint16_t>(tr.base + off + 2, false);
  }
  return !c.faulted();
}

namespace {

bool deliver_real(Cpu& c, uint8_t vector, uint32_t return_eip) {
  const uint32_t entry = uint32_t(vector) * 4;
  if (entry + 3 > c.s.idtr.limit) {
    c.gp(0);
    return false;
  }
  const uint16_t new_ip = c.read_lin<uint16_t>(c.s.idtr.base + entry, false);
  if (c.faulted()) return false;
  const uint16_t new_cs = c.read_lin<uint16_t>(c.s.idtr.base + entry + 2, false);
  if (c.faulted()) return false;

  StackPush st(c, c.s.seg[SS], c.s.gpr[ESP], false);
  if (!st.room(6, 0)) return false;
  const uint32_t flags = c.eflags();
  if (!st.push<uint16_t>(uint16_t(flags))) return false;
  if (!st.push<uint16_t>(c.s.seg[CS].selector)) return false;
  if (!st.push<uint16_t>(uint16_t(return_eip))) return false;

  c.s.gpr[ESP] = st.esp();
  c.write_eflags(0, FLAG_IF | FLAG_TF | FLAG_AC | FLAG_RF);
  c.load_seg_real(CS, new_cs);
  c.s.eip = c.next_eip = new_ip;
  return true;
}

bool deliver_task_gate(Cpu& c, const Desc& gate, uint32_t ext, bool has_error, uint32_t error,
                       uint32_t return_eip) {
  const uint16_t tss_sel = gate.gate_selector();
  if (tss_sel & 4) {
    c.gp(sel_err(tss_sel, ext));
    return false;
  }
  Desc tss;
  if (!sys::read_desc(c, tss_sel, tss, VEC_GP, ext)) return false;
  if (!tss.is_available_tss()) {
    c.gp(sel_err(tss_sel, ext));
    return false;
  }
  if (!tss.present()) {
    c.raise(VEC_NP, sel_err(tss_sel, ext));
    return false;
  }
  return sys::task_switch_ext(c, tss_sel, tss.raw, Cpu::TaskSwitchSource::Interrupt, return_eip,
                              has_error, error, ext);
}

bool deliver_protected(Cpu& c, uint8_t vector, IntKind kind, bool has_error, uint32_t error,
                       uint32_t return_eip) {
  const uint32_t ext = kind == IntKind::Software ? 0 : 1;
  const uint32_t idt_err = uint32_t(vector) * 8 + 2 + ext;

  // Gate from the IDT.
  if (uint32_t(vector) * 8 + 7 > c.s.idtr.limit) {
    c.gp(idt_err);
    return false;
  }
  Desc gate;
  gate.raw = c.read_lin<uint64_t>(c.s.idtr.base + uint32_t(vector) * 8, false);
  if (c.faulted()) return false;
  const unsigned type = gate.type();
  const bool gate_ok = !gate.s() && (type == sys::DT_TASK || type == sys::DT_INT16 ||
                                     type == sys::DT_TRAP16 || type == sys::DT_INT32 ||
                                     type == sys::DT_TRAP32);
  if (!gate_ok) {
    c.gp(idt_err);
    return false;
  }
  if (kind == IntKind::Software && gate.dpl() < c.cpl()) {
    c.gp(uint32_t(vector) * 8 + 2);
    return false;
  }
  if (!gate.present()) {
    c.raise(VEC_NP, idt_err);
    return false;
  }
  if (type == sys::DT_TASK) return deliver_task_gate(c, gate, ext, has_error, error, return_eip);

  // Interrupt or trap gate: the target code segment.
  const uint16_t cs_sel = gate.gate_selector();
  if (sys::sel_null(cs_sel)) {
    c.gp(ext);
    return false;
  }
  Desc cs;
  if (!sys::read_desc(c, cs_sel, cs, VEC_GP, ext)) return false;
  if (!cs.is_code() || cs.dpl() > c.cpl()) {
    c.gp(sel_err(cs_sel, ext));
    return false;
  }
  if (!cs.present()) {
    c.raise(VEC_NP, sel_err(cs_sel, ext));
    return false;
  }

  const bool from_v86 = c.v86();
  bool inter;
  if (!cs.conforming() && cs.dpl() < c.cpl()) {
    if (from_v86 && cs.dpl() != 0) {
      c.gp(sel_err(cs_sel, ext));
      return false;
    }
    inter = true;
  } else {
    if (from_v86) {
      c.gp(sel_err(cs_sel, ext));
      return false;
    }
    inter = false;  // conforming, or DPL == CPL
  }

  const bool gate32 = gate.gate32();
  const bool int_gate = (type & 1) == 0;
  const unsigned n = gate32 ? 4 : 2;
  const uint32_t offset = gate32 ? gate.gate_offset() : (gate.gate_offset() & 0xFFFF);
  const unsigned new_cpl = inter ? cs.dpl() : c.cpl();
  const uint32_t old_flags = c.eflags();
  const uint16_t old_cs = c.s.seg[CS].selector;
  // TF, NT, RF and VM are always cleared; IF only by interrupt gates.
  const uint32_t clear_flags =
      uint32_t(FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM) | (int_gate ? uint32_t(FLAG_IF) : 0u);

  if (inter) {
    // Stack for the new privilege level from the TSS.
    uint16_t ss_sel;
    uint32_t new_esp;
    if (!sys::tss_stack(c, new_cpl, ext, ss_sel, new_esp)) return false;
    if (sys::sel_null(ss_sel)) {
      c.raise(VEC_TS, ext);
      return false;
    }
    Desc ss;
    if (!sys::read_desc(c, ss_sel, ss, VEC_TS, ext)) return false;
    if (sys::rpl(ss_sel) != new_cpl || ss.dpl() != new_cpl || !ss.writable_data()) {
      c.raise(VEC_TS, sel_err(ss_sel, ext));
      return false;
    }
    if (!ss.present()) {
      c.raise(VEC_SS, sel_err(ss_sel, ext));
      return false;
    }
    SegmentCache ss_cache = Cpu::cache_from_descriptor(ss_sel, ss.raw);
    const unsigned slots = (from_v86 ? 9 : 5) + (has_error ? 1 : 0);
    StackPush st(c, ss_cache, new_esp, new_cpl == 3);
    if (!st.room(slots * n, sel_err(ss_sel, ext))) return false;
    SegmentCache cs_cache = sys::code_cache(cs_sel, cs, new_cpl);
    if (offset > cs_cache.limit) {
      c.gp(ext);
      return false;
    }
    if (!sys::mark_accessed(c, ss_sel, ss) || !sys::mark_accessed(c, cs_sel, cs)) return false;
    ss_cache = Cpu::cache_from_descriptor(ss_sel, ss.raw);
    cs_cache = sys::code_cache(cs_sel, cs, new_cpl);

    // The frame.
    if (from_v86) {
      if (!st.push_sized(c.s.seg[GS].selector, n) || !st.push_sized(c.s.seg[FS].selector, n) ||
          !st.push_sized(c.s.seg[DS].selector, n) || !st.push_sized(c.s.seg[ES].selector, n))
        return false;
    }
    if (!st.push_sized(c.s.seg[SS].selector, n) || !st.push_sized(c.s.gpr[ESP], n) ||
        !st.push_sized(old_flags, n) || !st.push_sized(old_cs, n) ||
        !st.push_sized(return_eip, n))
      return false;
    if (has_error && !st.push_sized(error, n)) return false;

    // Commit.
    c.write_eflags(0, clear_flags);
    c.s.cpl = uint8_t(new_cpl);
    if (from_v86) {
      for (unsigned seg : {ES, DS, FS, GS}) c.set_seg_cache(seg, sys::null_cache(0));
    }
    c.set_seg_cache(SS, ss_cache);
    c.s.gpr[ESP] = st.esp();
    c.set_seg_cache(CS, cs_cache);
    c.refresh_segments();
  } else {
    const unsigned slots = 3 + (has_error ? 1 : 0);
    StackPush st(c, c.s.seg[SS], c.s.gpr[ESP], c.cpl() == 3);
    if (!st.room(slots * n, ext)) return false;
    SegmentCache cs_cache = sys::code_cache(cs_sel, cs, new_cpl);
    if (offset > cs_cache.limit) {
      c.gp(ext);
      return false;
    }
    if (!sys::mark_accessed(c, cs_sel, cs)) return false;
    cs_cache = sys::code_cache(cs_sel, cs, new_cpl);
    if (!st.push_sized(old_flags, n) || !st.push_sized(old_cs, n) ||
        !st.push_sized(return_eip, n))
      return false;
    if (has_error && !st.push_sized(error, n)) return false;

    c.write_eflags(0, clear_flags);
    c.s.gpr[ESP] = st.esp();
    c.set_seg_cache(CS, cs_cache);
  }
  c.s.eip = c.next_eip = offset;
  return true;
}

}  // namespace

bool Cpu::deliver_interrupt(uint8_t vector, IntKind kind, bool has_error, uint32_t error,
                            uint32_t return_eip) {
  exc.pending = false;
  if (!protected_mode()) return deliver_real(*this, vector, return_eip);
  return deliver_protected(*this, vector, kind, has_error, error, return_eip);
}

}  // namespace faultline
