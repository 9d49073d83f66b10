// Far control transfers: JMP far, CALL far, RET far and IRET in real,
// virtual-8086 and protected mode, including call gates (with the
// inter-privilege stack switch and parameter copy), task gates and TSS
// descriptors. Structure and fault order follow the JMP/CALL/RET/IRET
// pseudo-code of the Intel SDM vol. 2.
#include "core/cpu.h"
#include "core/sys_internal.h"

namespace faultline {

using sys::Desc;
using sys::sel_err;
using sys::StackPop;
using sys::StackPush;

namespace {

// Commits CS and EIP (and the fetch window via set_seg_cache).
void commit_cs(Cpu& c, const SegmentCache& cs, uint32_t eip) {
  c.set_seg_cache(CS, cs);
  c.s.eip = c.next_eip = eip;
}

// After a return to an outer privilege level: data segment registers that
// the new CPL may not use become null (SDM RET/IRET "FOR each SegReg").
void invalidate_data_segments(Cpu& c) {
  for (unsigned seg : {ES, DS, FS, GS}) {
    const SegmentCache& sc = c.s.seg[seg];
    if (!sc.valid) continue;
    const bool conforming_code = (sc.attr & SEG_CODE) && (sc.attr & SEG_DC);
    if (!conforming_code && sc.dpl() < c.cpl()) c.set_seg_cache(seg, sys::null_cache(0));
  }
}

// Jump to a code segment whose privilege checks passed (CS.RPL = CPL).
void jump_to_code(Cpu& c, uint16_t sel, Desc& d, uint32_t offset) {
  SegmentCache cs = sys::code_cache(sel, d, c.cpl());
  if (offset > cs.limit) return c.gp(0);
  if (!sys::mark_accessed(c, sel, d)) return;
  commit_cs(c, sys::code_cache(sel, d, c.cpl()), offset);
}

// The TSS selector of a task gate reached by JMP/CALL, with its checks.
bool task_gate_target(Cpu& c, uint16_t gate_sel, const Desc& gate, Desc& tss, uint16_t& tss_sel) {
  if (gate.dpl() < c.cpl() || gate.dpl() < sys::rpl(gate_sel)) {
    c.gp(sel_err(gate_sel, 0));
    return false;
  }
  if (!gate.present()) {
    c.raise(VEC_NP, sel_err(gate_sel, 0));
    return false;
  }
  tss_sel = gate.gate_selector();
  if (tss_sel & 4) {
    c.gp(sel_err(tss_sel, 0));
    return false;
  }
  if (!sys::read_desc(c, tss_sel, tss, VEC_GP, 0)) return false;
  if (!tss.is_available_tss()) {
    c.gp(sel_err(tss_sel, 0));
    return false;
  }
  if (!tss.present()) {
    c.raise(VEC_NP, sel_err(tss_sel, 0));
    return false;
  }
  return true;
}

// A TSS descriptor named directly by JMP/CALL.
bool tss_target(Cpu& c, uint16_t sel, const Desc& tss) {
  if (tss.dpl() < c.cpl() || tss.dpl() < sys::rpl(sel)) {
    c.gp(sel_err(sel, 0));
    return false;
  }
  if (!tss.present()) {
    c.raise(VEC_NP, sel_err(sel, 0));
    return false;
  }
  return true;
}

// JMP/CALL through a task gate or straight to a TSS descriptor: checks the
// target and switches tasks. Returns false if `d` is neither (the caller
// handles the other system types).
bool far_task_transfer(Cpu& c, uint16_t selector, const Desc& d, Cpu::TaskSwitchSource src,
                       uint32_t ret_eip) {
  switch (d.type()) {
    case sys::DT_TASK: {
      Desc tss;
      uint16_t tss_sel;
      if (task_gate_target(c, selector, d, tss, tss_sel))
        c.task_switch(tss_sel, tss.raw, src, ret_eip, false, 0);
      return true;
    }
    case sys::DT_TSS16_AVAIL:
    case sys::DT_TSS32_AVAIL:
      if (tss_target(c, selector, d)) c.task_switch(selector, d.raw, src, ret_eip, false, 0);
      return true;
    default:
      return false;
  }
}

// Call-gate target code segment checks shared by JMP and CALL.
bool call_gate_code(Cpu& c, uint16_t gate_sel, const Desc& gate, uint16_t& cs_sel, Desc& cs) {
  if (gate.dpl() < c.cpl() || sys::rpl(gate_sel) > gate.dpl()) {
    c.gp(sel_err(gate_sel, 0));
    return false;
  }
  if (!gate.present()) {
    c.raise(VEC_NP, sel_err(gate_sel, 0));
    return false;
  }
  cs_sel = gate.gate_selector();
  if (sys::sel_null(cs_sel)) {
    c.gp(0);
    return false;
  }
  if (!sys::read_desc(c, cs_sel, cs, VEC_GP, 0)) return false;
  if (!cs.is_code() || cs.dpl() > c.cpl()) {
    c.gp(sel_err(cs_sel, 0));
    return false;
  }
  return true;
}

// Validates the stack segment for a return to privilege level `rpl`.
bool outer_stack(Cpu& c, uint16_t ss_sel, unsigned rpl, Desc& ss) {
  if (sys::sel_null(ss_sel)) {
    c.gp(0);
    return false;
  }
  if (!sys::read_desc(c, ss_sel, ss, VEC_GP, 0)) return false;
  if (sys::rpl(ss_sel) != rpl || !ss.writable_data() || ss.dpl() != rpl) {
    c.gp(sel_err(ss_sel, 0));
    return false;
  }
  if (!ss.present()) {
    c.raise(VEC_SS, sel_err(ss_sel, 0));
    return false;
  }
  return true;
}

// Return code segment checks shared by RET far and IRET (protected mode).
bool return_code(Cpu& c, uint16_t cs_sel, Desc& cs) {
  if (sys::sel_null(cs_sel)) {
    c.gp(0);
    return false;
  }
  if (!sys::read_desc(c, cs_sel, cs, VEC_GP, 0)) return false;
  const unsigned r = sys::rpl(cs_sel);
  if (!cs.is_code() || r < c.cpl() || (cs.conforming() && cs.dpl() > r) ||
      (!cs.conforming() && cs.dpl() != r)) {
    c.gp(sel_err(cs_sel, 0));
    return false;
  }
  if (!cs.present()) {
    c.raise(VEC_NP, sel_err(cs_sel, 0));
    return false;
  }
  return true;
}

// ESP after loading a new stack pointer value into a stack of size `big`.
uint32_t loaded_esp(uint32_t old_esp, uint32_t value, bool big) {
  return big ? value : (old_esp & 0xFFFF0000u) | (value & 0xFFFF);
}

}  // namespace

// ---- JMP far -------------------------------------------------------------------

void Cpu::far_jump(uint16_t selector, uint32_t offset, uint32_t ret_eip) {
  if (!protected_mode() || v86()) {
    if (offset > (v86() ? 0xFFFFu : s.seg[CS].limit)) return gp(0);
    load_seg_real(CS, selector);
    s.eip = next_eip = offset;
    return;
  }
  if (sys::sel_null(selector)) return gp(0);
  Desc d;
  if (!sys::read_desc(*this, selector, d, VEC_GP, 0)) return;

  if (d.s()) {
    if (!d.is_code()) return gp(sel_err(selector, 0));
    if (d.conforming() ? d.dpl() > cpl() : (sys::rpl(selector) > cpl() || d.dpl() != cpl()))
      return gp(sel_err(selector, 0));
    if (!d.present()) return raise(VEC_NP, sel_err(selector, 0));
    return jump_to_code(*this, selector, d, offset);
  }

  switch (d.type()) {
    case sys::DT_CALL16:
    case sys::DT_CALL32: {
      uint16_t cs_sel;
      Desc cs;
      if (!call_gate_code(*this, selector, d, cs_sel, cs)) return;
      // JMP through a call gate never changes privilege.
      if (!cs.conforming() && cs.dpl() != cpl()) return gp(sel_err(cs_sel, 0));
      if (!cs.present()) return raise(VEC_NP, sel_err(cs_sel, 0));
      const uint32_t target = d.gate32() ? d.gate_offset() : (d.gate_offset() & 0xFFFF);
      return jump_to_code(*this, cs_sel, cs, target);
    }
    default:
      if (!far_task_transfer(*this, selector, d, TaskSwitchSource::Jump, ret_eip))
        gp(sel_err(selector, 0));
      return;
  }
}

// ---- CALL far ------------------------------------------------------------------

void Cpu::far_call(uint16_t selector, uint32_t offset, uint32_t ret_eip, bool op32) {
  const unsigned n = op32 ? 4 : 2;
  const uint16_t old_cs = s.seg[CS].selector;

  if (!protected_mode() || v86()) {
    StackPush st(*this, s.seg[SS], s.gpr[ESP], cpl() == 3);
    if (!st.room(2 * n, 0)) return;
    if (offset > (v86() ? 0xFFFFu : s.seg[CS].limit)) return gp(0);
    if (!st.push_sized(old_cs, n) || !st.push_sized(ret_eip, n)) return;
    s.gpr[ESP] = st.esp();
    load_seg_real(CS, selector);
    s.eip = next_eip = offset;
    return;
  }

  if (sys::sel_null(selector)) return gp(0);
  Desc d;
  if (!sys::read_desc(*this, selector, d, VEC_GP, 0)) return;

  if (d.s()) {
    if (!d.is_code()) return gp(sel_err(selector, 0));
    if (d.conforming() ? d.dpl() > cpl() : (sys::rpl(selector) > cpl() || d.dpl() != cpl()))
      return gp(sel_err(selector, 0));
    if (!d.present()) return raise(VEC_NP, sel_err(selector, 0));
    StackPush st(*this, s.seg[SS], s.gpr[ESP], cpl() == 3);
    if (!st.room(2 * n, 0)) return;
    SegmentCache cs = sys::code_cache(selector, d, cpl());
    if (offset > cs.limit) return gp(0);
    if (!sys::mark_accessed(*this, selector, d)) return;
    cs.attr |= SEG_ACCESSED;  // as set in the descriptor just now
    if (!st.push_sized(old_cs, n) || !st.push_sized(ret_eip, n)) return;
    s.gpr[ESP] = st.esp();
    commit_cs(*this, cs, offset);
    return;
  }

  switch (d.type()) {
    case sys::DT_CALL16:
    case sys::DT_CALL32:
      break;
    default:
      if (!far_task_transfer(*this, selector, d, TaskSwitchSource::Call, ret_eip))
        gp(sel_err(selector, 0));
      return;
  }

  // Call gate.
  uint16_t cs_sel;
  Desc cs;
  if (!call_gate_code(*this, selector, d, cs_sel, cs)) return;
  if (!cs.present()) return raise(VEC_NP, sel_err(cs_sel, 0));
  const bool gate32 = d.gate32();
  const unsigned gn = gate32 ? 4 : 2;
  const uint32_t target = gate32 ? d.gate_offset() : (d.gate_offset() & 0xFFFF);

  if (!cs.conforming() && cs.dpl() < cpl()) {
    // MORE-PRIVILEGE: new stack from the TSS, parameters copied.
    const unsigned new_cpl = cs.dpl();
    uint16_t ss_sel;
    uint32_t new_esp;
    if (!sys::tss_stack(*this, new_cpl, 0, ss_sel, new_esp)) return;
    if (sys::sel_null(ss_sel)) return raise(VEC_TS, sel_err(ss_sel, 0));
    Desc ss;
    if (!sys::read_desc(*this, ss_sel, ss, VEC_TS, 0)) return;
    if (sys::rpl(ss_sel) != new_cpl || ss.dpl() != new_cpl || !ss.writable_data())
      return raise(VEC_TS, sel_err(ss_sel, 0));
    if (!ss.present()) return raise(VEC_SS, sel_err(ss_sel, 0));

    const unsigned count = d.gate_params();
    SegmentCache ss_cache = Cpu::cache_from_descriptor(ss_sel, ss.raw);
    StackPush st(*this, ss_cache, new_esp, new_cpl == 3);
    if (!st.room((4 + count) * gn, sel_err(ss_sel, 0))) return;
    SegmentCache cs_cache = sys::code_cache(cs_sel, cs, new_cpl);
    if (target > cs_cache.limit) return gp(0);

    // Parameters from the caller's stack (read at the caller's privilege).
    uint32_t params[32];
    {
      StackPop p(*this);
      for (unsigned k = 0; k < count; ++k)
        if (!p.pop(gn, params[k])) return;
    }
    if (!sys::mark_accessed(*this, ss_sel, ss) || !sys::mark_accessed(*this, cs_sel, cs)) return;
    ss_cache = Cpu::cache_from_descriptor(ss_sel, ss.raw);
    cs_cache = sys::code_cache(cs_sel, cs, new_cpl);

    if (!st.push_sized(s.seg[SS].selector, gn) || !st.push_sized(s.gpr[ESP], gn)) return;
    for (unsigned k = count; k-- > 0;)
      if (!st.push_sized(params[k], gn)) return;
    if (!st.push_sized(old_cs, gn) || !st.push_sized(ret_eip, gn)) return;

    s.cpl = uint8_t(new_cpl);
    set_seg_cache(SS, ss_cache);
    s.gpr[ESP] = st.esp();
    commit_cs(*this, cs_cache, target);
    refresh_segments();
    return;
  }

  // SAME-PRIVILEGE through the gate.
  StackPush st(*this, s.seg[SS], s.gpr[ESP], cpl() == 3);
  if (!st.room(2 * gn, 0)) return;
  SegmentCache cs_cache = sys::code_cache(cs_sel, cs, cpl());
  if (target > cs_cache.limit) return gp(0);
  if (!sys::mark_accessed(*this, cs_sel, cs)) return;
  if (!st.push_sized(old_cs, gn) || !st.push_sized(ret_eip, gn)) return;
  s.gpr[ESP] = st.esp();
  commit_cs(*this, sys::code_cache(cs_sel, cs, cpl()), target);
}

// ---- RET far -------------------------------------------------------------------

void Cpu::far_return(bool op32, uint16_t pop_bytes) {
  const unsigned n = op32 ? 4 : 2;
  StackPop p(*this);
  uint32_t eip, cs_val;
  if (!p.pop(n, eip) || !p.pop(n, cs_val)) return;
  const uint16_t cs_sel = uint16_t(cs_val);

  if (!protected_mode() || v86()) {
    if (eip > (v86() ? 0xFFFFu : s.seg[CS].limit)) return gp(0);
    p.skip(pop_bytes);
    s.gpr[ESP] = p.esp();
    load_seg_real(CS, cs_sel);
    s.eip = next_eip = eip;
    return;
  }

  Desc cs;
  if (!return_code(*this, cs_sel, cs)) return;
  const unsigned r = sys::rpl(cs_sel);

  if (r > cpl()) {
    // RETURN-TO-OUTER-PRIVILEGE-LEVEL.
    p.skip(pop_bytes);
    uint32_t new_esp, ss_val;
    if (!p.pop(n, new_esp) || !p.pop(n, ss_val)) return;
    const uint16_t ss_sel = uint16_t(ss_val);
    Desc ss;
    if (!outer_stack(*this, ss_sel, r, ss)) return;
    SegmentCache cs_cache = sys::code_cache(cs_sel, cs, r);
    if (eip > cs_cache.limit) return gp(0);
    if (!sys::mark_accessed(*this, cs_sel, cs) || !sys::mark_accessed(*this, ss_sel, ss)) return;
    const SegmentCache ss_cache = Cpu::cache_from_descriptor(ss_sel, ss.raw);

    s.cpl = uint8_t(r);
    commit_cs(*this, sys::code_cache(cs_sel, cs, r), eip);
    set_seg_cache(SS, ss_cache);
    const bool big = (ss_cache.attr & SEG_DB) != 0;
    s.gpr[ESP] = loaded_esp(s.gpr[ESP], new_esp + pop_bytes, big);
    invalidate_data_segments(*this);
    refresh_segments();
    return;
  }

  // RETURN-TO-SAME-PRIVILEGE-LEVEL.
  SegmentCache cs_cache = sys::code_cache(cs_sel, cs, cpl());
  if (eip > cs_cache.limit) return gp(0);
  if (!sys::mark_accessed(*this, cs_sel, cs)) return;
  p.skip(pop_bytes);
  s.gpr[ESP] = p.esp();
  commit_cs(*this, sys::code_cache(cs_sel, cs, cpl()), eip);
}

// ---- IRET ----------------------------------------------------------------------

void Cpu::iret(bool op32) {
  const unsigned n = op32 ? 4 : 2;

  if (protected_mode() && !v86() && (s.eflags_bits & FLAG_NT)) {
    // TASK-RETURN through the back link of the current TSS.
    const uint16_t link = read_lin<uint16_t>(s.tr.base, false);
    if (faulted()) return;
    if (link & 4) return raise(VEC_TS, sel_err(link, 0));
    Desc tss;
    if (!sys::read_desc(*this, link, tss, VEC_TS, 0)) return;
    if (!tss.is_busy_tss()) return raise(VEC_TS, sel_err(link, 0));
    if (!tss.present()) return raise(VEC_NP, sel_err(link, 0));
    task_switch(link, tss.raw, TaskSwitchSource::Iret, next_eip, false, 0);
    return;
  }

  StackPop p(*this);
  uint32_t eip, cs_val, flags;
  if (!p.pop(n, eip) || !p.pop(n, cs_val) || !p.pop(n, flags)) return;
  const uint16_t cs_sel = uint16_t(cs_val);

  if (!protected_mode()) {
    // REAL-ADDRESS-MODE.
    if (eip > s.seg[CS].limit) return gp(0);
    s.gpr[ESP] = p.esp();
    write_eflags(flags, op32 ? 0x257FD5u : 0x7FD5u);
    load_seg_real(CS, cs_sel);
    s.eip = next_eip = eip;
    return;
  }

  if (v86()) {
    // RETURN-FROM-VIRTUAL-8086-MODE: only with IOPL 3 (no VME).
    if (iopl() < 3) return gp(0);
    if (eip > 0xFFFF) return gp(0);
    s.gpr[ESP] = p.esp();
    const uint32_t mask = sys::kEflagsBasic | FLAG_IF | (op32 ? (FLAG_RF | FLAG_AC | FLAG_ID) : 0);
    write_eflags(flags, mask);
    load_seg_real(CS, cs_sel);
    s.eip = next_eip = eip;
    return;
  }

  if (op32 && (flags & FLAG_VM) && cpl() == 0) {
    // RETURN-TO-VIRTUAL-8086-MODE: pops ESP, SS, ES, DS, FS, GS.
    uint32_t v[6];
    for (uint32_t& x : v)
      if (!p.pop(4, x)) return;
    if (eip > 0xFFFF) return gp(0);
    write_eflags(flags, sys::kEflagsDefined);
    s.cpl = 3;
    load_seg_real(CS, cs_sel);
    load_seg_real(SS, uint16_t(v[1]));
    load_seg_real(ES, uint16_t(v[2]));
    load_seg_real(DS, uint16_t(v[3]));
    load_seg_real(FS, uint16_t(v[4]));
    load_seg_real(GS, uint16_t(v[5]));
    s.gpr[ESP] = v[0];
    s.eip = next_eip = eip & 0xFFFF;
    refresh_segments();
    return;
  }

  // PROTECTED-MODE-RETURN.
  Desc cs;
  if (!return_code(*this, cs_sel, cs)) return;
  const unsigned r = sys::rpl(cs_sel);

  // EFLAGS bits this IRET may change, decided with the current CPL/IOPL.
  uint32_t mask = sys::kEflagsBasic;
  if (op32) mask |= FLAG_RF | FLAG_AC | FLAG_ID;
  if (cpl() <= iopl()) mask |= FLAG_IF;
  if (cpl() == 0) mask |= FLAG_IOPL | (op32 ? (FLAG_VIF | FLAG_VIP) : 0);
  if (!op32) mask &= 0xFFFF;

  if (r > cpl()) {
    // RETURN-TO-OUTER-PRIVILEGE-LEVEL.
    uint32_t new_esp, ss_val;
    if (!p.pop(n, new_esp) || !p.pop(n, ss_val)) return;
    const uint16_t ss_sel = uint16_t(ss_val);
    Desc ss;
    if (!outer_stack(*this, ss_sel, r, ss)) return;
    SegmentCache cs_cache = sys::code_cache(cs_sel, cs, r);
    if (eip > cs_cache.limit) return gp(0);
    if (!sys::mark_accessed(*this, cs_sel, cs) || !sys::mark_accessed(*this, ss_sel, ss)) return;
    const SegmentCache ss_cache = Cpu::cache_from_descriptor(ss_sel, ss.raw);

    write_eflags(flags, mask);
    s.cpl = uint8_t(r);
    commit_cs(*this, sys::code_cache(cs_sel, cs, r), eip);
    set_seg_cache(SS, ss_cache);
    s.gpr[ESP] = loaded_esp(s.gpr[ESP], new_esp, (ss_cache.attr & SEG_DB) != 0);
    invalidate_data_segments(*this);
    refresh_segments();
    return;
  }

  // RETURN-TO-SAME-PRIVILEGE-LEVEL.
  SegmentCache cs_cache = sys::code_cache(cs_sel, cs, cpl());
  if (eip > cs_cache.limit) return gp(0);
  if (!sys::mark_accessed(*this, cs_sel, cs)) return;
  s.gpr[ESP] = p.esp();
  write_eflags(flags, mask);
  commit_cs(*this, sys::code_cache(cs_sel, cs, cpl()), eip);
}

}  // namespace faultline
