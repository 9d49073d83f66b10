// System instruction handlers: segment register moves/pushes/pops and far
// pointer loads, far JMP/CALL/RET, INT/IRET, flags with privilege rules
// (PUSHF/POPF/CLI/STI), HLT, port I/O (IN/OUT/INS/OUTS), descriptor-table and
// task registers, LAR/LSL/VERR/VERW/ARPL, control and debug registers, CPUID,
// TSC/PMC/MSR access, SYSENTER/SYSEXIT and UD1/UD2.
//
// Each handler follows its Intel SDM vol. 2 page, including the "Real-Address
// Mode", "Virtual-8086 Mode" and "Protected Mode" exception tables; the far
// transfers and interrupt delivery live in control.cpp / interrupts.cpp.
#include <cstring>

#include "core/cpu.h"
#include "core/handlers.h"
#include "core/sys_internal.h"

namespace faultline {
namespace {

using sys::Desc;
using sys::sel_err;

// Protected mode proper (PE = 1, VM = 0).
inline bool pm(const Cpu& c) { return c.protected_mode() && !c.v86(); }
// Instructions that need CPL 0 in protected and virtual-8086 mode (#GP(0)).
inline bool need_cpl0(Cpu& c) {
  if (c.protected_mode() && c.cpl() != 0) {
    c.gp(0);
    return false;
  }
  return true;
}
// Instructions not recognised in real and virtual-8086 mode (#UD).
inline bool need_pm(Cpu& c) {
  if (!pm(c)) {
    c.ud();
    return false;
  }
  return true;
}

// ---- segment registers ---------------------------------------------------------

template <class T> void push_seg(Cpu& c, unsigned seg) {
  const uint16_t sel = c.s.seg[seg].selector;
  if constexpr (sizeof(T) == 2) {
    c.push<uint16_t>(sel);
  } else {
    // P6: a 32-bit push of a segment register decrements ESP by 4 but writes
    // only the low 16 bits of the slot.
    const uint32_t nsp = c.stack32() ? c.s.gpr[ESP] - 4 : ((c.s.gpr[ESP] - 4) & 0xFFFF);
    if (!c.check_write(SS, nsp, 4)) return;
    c.write<uint16_t>(SS, nsp, sel);
    if (c.faulted()) return;
    c.set_sp(nsp);
  }
}

template <class T> void pop_seg(Cpu& c, unsigned seg) {
  const T v = c.read<T>(SS, c.sp());
  if (c.faulted()) return;
  const uint32_t new_esp = sys::esp_add(c.s.gpr[ESP], sizeof(T), c.stack32());
  if (!c.load_seg(seg, uint16_t(v))) return;  // POP SS sets the interrupt shadow
  c.s.gpr[ESP] = new_esp;
}

// LDS/LES/LSS/LFS/LGS: offset then selector from memory.
template <class T> void load_far_pointer(Cpu& c, const Insn& i, unsigned seg) {
  if (i.is_reg()) return c.ud();
  const uint32_t off = c.ea(i);
  const T v = c.read<T>(i.seg, off);
  if (c.faulted()) return;
  const uint16_t sel = c.read<uint16_t>(i.seg, off + sizeof(T));
  if (c.faulted()) return;
  if (!c.load_seg(seg, sel)) return;
  // Unlike MOV SS/POP SS, LSS does not inhibit interrupts.
  if (seg == SS) c.s.inhibit_interrupts = false;
  c.set_reg<T>(i.reg, v);
}

// m16:16 / m16:32 operand of JMP/CALL far indirect.
template <class T> bool read_far_operand(Cpu& c, const Insn& i, uint16_t& sel, uint32_t& off) {
  if (i.is_reg()) {
    c.ud();
    return false;
  }
  const uint32_t a = c.ea(i);
  off = c.read<T>(i.seg, a);
  if (c.faulted()) return false;
  sel = c.read<uint16_t>(i.seg, a + sizeof(T));
  return !c.faulted();
}

// ---- flags ---------------------------------------------------------------------

// CLI/STI: IF may change if CPL <= IOPL (protected mode) or IOPL = 3 (v86).
bool if_change_allowed(Cpu& c) {
  if (!c.protected_mode()) return true;
  if (c.v86()) return c.iopl() == 3;
  return c.cpl() <= c.iopl();
}

template <class T> void pushf(Cpu& c) {
  if (c.v86() && c.iopl() < 3) return c.gp(0);
  const uint32_t f = c.eflags() & ~uint32_t(FLAG_VM | FLAG_RF);
  c.push<T>(T(f));
}

template <class T> void popf(Cpu& c) {
  if (c.v86() && c.iopl() < 3) return c.gp(0);
  const T v = c.pop<T>();
  if (c.faulted()) return;
  uint32_t mask = sys::kEflagsBasic;
  if (sizeof(T) == 4) mask |= FLAG_AC | FLAG_ID | FLAG_RF;  // RF is cleared
  if (c.v86()) {
    mask |= FLAG_IF;  // IOPL is 3 here
  } else if (c.cpl() == 0) {
    mask |= FLAG_IF | FLAG_IOPL;
  } else if (c.cpl() <= c.iopl()) {
    mask |= FLAG_IF;
  }
  uint32_t value = v;
  if (sizeof(T) == 4) value &= ~uint32_t(FLAG_RF);
  else mask &= 0xFFFF;
  c.write_eflags(value, mask);
  c.async_check();
}

// ---- port I/O --------------------------------------------------------------------

bool io_check(Cpu& c, uint16_t port, unsigned size) {
  if (c.io_allowed(port, size)) return true;
  if (!c.faulted()) c.gp(0);
  return false;
}

template <class T> void in_port(Cpu& c, uint16_t port) {
  if (!io_check(c, port, sizeof(T))) return;
  c.set_reg<T>(EAX, T(c.io_read(port, sizeof(T))));
}

template <class T> void out_port(Cpu& c, uint16_t port) {
  if (!io_check(c, port, sizeof(T))) return;
  c.io_write(port, sizeof(T), c.reg<T>(EAX));
}

// INS/OUTS with optional REP; the count, index registers and wrap follow the
// address size. Registers are committed after every iteration.
template <class T, bool In> void string_io(Cpu& c, const Insn& i) {
  const uint32_t amask = i.ad32 ? 0xFFFFFFFFu : 0xFFFFu;
  const bool rep = (i.prefixes & (P_REP | P_REPNE)) != 0;
  const uint16_t port = c.reg<uint16_t>(EDX);
  if (rep && (c.s.gpr[ECX] & amask) == 0) return;
  if (!io_check(c, port, sizeof(T))) return;
  const uint32_t step =
      (c.s.eflags_bits & FLAG_DF) ? uint32_t(0) - uint32_t(sizeof(T)) : uint32_t(sizeof(T));
  const unsigned idx = In ? EDI : ESI;
  auto put = [&](unsigned r, uint32_t v) { c.s.gpr[r] = (c.s.gpr[r] & ~amask) | (v & amask); };
  uint32_t budget = (c.s.eflags_bits & FLAG_TF) ? 1 : 4096;
  for (;;) {
    const uint32_t a = c.s.gpr[idx] & amask;
    if constexpr (In) {
      // Check the destination first: the port read has side effects.
      if (!c.check_write(ES, a, sizeof(T))) return;
      const T v = T(c.io_read(port, sizeof(T)));
      c.write<T>(ES, a, v);
      if (c.faulted()) return;
    } else {
      const T v = c.read<T>(i.seg, a);
      if (c.faulted()) return;
      c.io_write(port, sizeof(T), v);
    }
    put(idx, a + step);
    if (!rep) return;
    const uint32_t cnt = (c.s.gpr[ECX] - 1) & amask;
    put(ECX, cnt);
    if (cnt == 0) return;
    if (--budget == 0) {
      c.next_eip = c.insn_eip;
      return;
    }
  }
}

// ---- descriptor queries --------------------------------------------------------------

// Privilege check shared by LAR/LSL/VERR/VERW: conforming code is always
// visible; everything else needs DPL >= max(CPL, RPL).
bool visible(const Cpu& c, uint16_t sel, const Desc& d) {
  if (d.conforming()) return true;
  return c.cpl() <= d.dpl() && sys::rpl(sel) <= d.dpl();
}

// LAR/LSL: reads the selector and the descriptor; false (ZF = 0) if it is
// not acceptable. A fault (memory operand, #PF on the table) sets exc.
bool query_descriptor(Cpu& c, const Insn& i, bool lar, uint16_t& sel, Desc& d) {
  sel = c.read_rm<uint16_t>(i);
  if (c.faulted()) return false;
  if (!sys::probe_desc(c, sel, d)) return false;
  if (!d.s()) {
    const unsigned t = d.type();
    const bool ok_lsl = t == sys::DT_TSS16_AVAIL || t == sys::DT_LDT || t == sys::DT_TSS16_BUSY ||
                        t == sys::DT_TSS32_AVAIL || t == sys::DT_TSS32_BUSY;
    const bool ok_lar = ok_lsl || t == sys::DT_CALL16 || t == sys::DT_TASK || t == sys::DT_CALL32;
    if (!(lar ? ok_lar : ok_lsl)) return false;
  }
  return visible(c, sel, d);
}

template <class T> void lar(Cpu& c, const Insn& i) {
  if (!need_pm(c)) return;
  uint16_t sel;
  Desc d;
  const bool ok = query_descriptor(c, i, true, sel, d);
  if (c.faulted()) return;
  if (ok) c.set_reg<T>(i.reg, T(uint32_t(d.raw >> 32) & 0x00FFFF00u));
  c.set_flag(FLAG_ZF, ok);
}

template <class T> void lsl(Cpu& c, const Insn& i) {
  if (!need_pm(c)) return;
  uint16_t sel;
  Desc d;
  const bool ok = query_descriptor(c, i, false, sel, d);
  if (c.faulted()) return;
  if (ok) c.set_reg<T>(i.reg, T(Cpu::cache_from_descriptor(sel, d.raw).limit));
  c.set_flag(FLAG_ZF, ok);
}

void verify(Cpu& c, const Insn& i, bool write) {
  if (!need_pm(c)) return;
  const uint16_t sel = c.read_rm<uint16_t>(i);
  if (c.faulted()) return;
  Desc d;
  bool ok = sys::probe_desc(c, sel, d);
  if (c.faulted()) return;
  ok = ok && d.s() && visible(c, sel, d) && (write ? d.writable_data() : d.readable());
  c.set_flag(FLAG_ZF, ok);
}

// SLDT/STR/SMSW: a register destination takes the operand size (P6: upper
// bits zero for SLDT/STR); memory gets 16 bits.
void store_selector(Cpu& c, const Insn& i, uint32_t v) {
  if (i.is_reg()) {
    if (i.op32) c.set_reg<uint32_t>(i.rm, v);
    else c.set_reg<uint16_t>(i.rm, uint16_t(v));
  } else {
    c.write_rm<uint16_t>(i, uint16_t(v));
  }
}

// SGDT/SIDT.
void store_table(Cpu& c, const Insn& i, const TableRegister& t) {
  if (i.is_reg()) return c.ud();
  const uint32_t a = c.ea(i);
  if (!c.check_write(i.seg, a, 6)) return;
  // 16-bit operand size stores a 24-bit base (the high byte as zero).
  const uint32_t base = i.op32 ? t.base : (t.base & 0xFFFFFF);
  c.write<uint16_t>(i.seg, a, uint16_t(t.limit));
  if (c.faulted()) return;
  c.write<uint32_t>(i.seg, a + 2, base);
}

// LGDT/LIDT.
void load_table(Cpu& c, const Insn& i, TableRegister& t) {
  if (i.is_reg()) return c.ud();
  if (!need_cpl0(c)) return;
  const uint32_t a = c.ea(i);
  const uint16_t limit = c.read<uint16_t>(i.seg, a);
  if (c.faulted()) return;
  uint32_t base = c.read<uint32_t>(i.seg, a + 2);
  if (c.faulted()) return;
  if (!i.op32) base &= 0xFFFFFF;
  t.base = base;
  t.limit = limit;
}

// ---- model-specific registers --------------------------------------------------------

int fixed_mtrr_index(uint32_t msr) {
  if (msr == 0x250) return 0;
  if (msr == 0x258) return 1;
  if (msr == 0x259) return 2;
  if (msr >= 0x268 && msr <= 0x26F) return int(msr - 0x268) + 3;
  return -1;
}

bool rdmsr(Cpu& c, uint32_t msr, uint64_t& v) {
  CpuState& s = c.s;
  if (msr >= 0x200 && msr <= 0x20F) {
    v = s.msr_mtrr_var[msr - 0x200];
    return true;
  }
  if (int k = fixed_mtrr_index(msr); k >= 0) {
    v = s.msr_mtrr_fixed[unsigned(k)];
    return true;
  }
  switch (msr) {
    case 0x10: v = c.tsc(); return true;
    case 0x17: v = 0; return true;                 // IA32_PLATFORM_ID
    case 0x1B: v = s.msr_apic_base; return true;   // IA32_APIC_BASE
    case 0x79: v = 0; return true;                 // BIOS_UPDT_TRIG
    case 0x8B: v = 0; return true;                 // BIOS_SIGN_ID: no update loaded
    case 0xFE: v = 0x508; return true;             // MTRRcap: 8 variable, fixed, WC
    case 0x174: v = s.msr_sysenter_cs; return true;
    case 0x175: v = s.msr_sysenter_esp; return true;
    case 0x176: v = s.msr_sysenter_eip; return true;
    case 0x179: v = 0; return true;                // MCG_CAP: no banks
    case 0x17A: v = 0; return true;                // MCG_STATUS
    case 0x1A0: v = s.msr_misc_enable; return true;
    case 0x277: v = s.msr_pat; return true;
    case 0x2FF: v = s.msr_mtrr_def_type; return true;
    default: return false;
  }
}

bool wrmsr(Cpu& c, uint32_t msr, uint64_t v) {
  CpuState& s = c.s;
  if (msr >= 0x200 && msr <= 0x20F) {
    s.msr_mtrr_var[msr - 0x200] = v;
    return true;
  }
  if (int k = fixed_mtrr_index(msr); k >= 0) {
    s.msr_mtrr_fixed[unsigned(k)] = v;
    return true;
  }
  switch (msr) {
    case 0x10: {
      // P6: only the low 32 bits are written; the high half is cleared.
      const uint64_t want = v & 0xFFFFFFFFu;
      s.tsc_offset += want - c.tsc();
      return true;
    }
    case 0x1B:
      if (v & ~0xFFFFFF900ull) return false;
      s.msr_apic_base = (v & ~0x100ull) | (s.msr_apic_base & 0x100);  // BSP is read-only
      return true;
    case 0x79:   // microcode update trigger: ignored
    case 0x8B:   // BIOS_SIGN_ID: written with 0 before CPUID; ignored
    case 0x17A:  // MCG_STATUS
      return true;
    case 0x174: s.msr_sysenter_cs = v; return true;
    case 0x175: s.msr_sysenter_esp = v; return true;
    case 0x176: s.msr_sysenter_eip = v; return true;
    case 0x1A0: s.msr_misc_enable = v; return true;
    case 0x277:
      for (unsigned k = 0; k < 8; ++k) {
        const unsigned t = unsigned(v >> (8 * k)) & 0xFF;
        if (t == 2 || t == 3 || t > 7) return false;
      }
      s.msr_pat = v;
      return true;
    case 0x2FF:
      if (v & ~0xCFFull) return false;
      s.msr_mtrr_def_type = v;
      return true;
    default: return false;  // unknown or read-only (PLATFORM_ID, MTRRcap, MCG_CAP)
  }
}

// ---- CPUID ------------------------------------------------------------------------

constexpr uint32_t kMaxBasicLeaf = 2;

void cpuid_leaf(const CpuModel& m, uint32_t leaf, uint32_t r[4]) {
  r[0] = r[1] = r[2] = r[3] = 0;
  auto str4 = [](const std::string& str, size_t at) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4 && at + k < str.size(); ++k) v |= uint32_t(uint8_t(str[at + k])) << (8 * k);
    return v;
  };
  const bool ext = !m.brand.empty();
  if (leaf >= 0x80000000u && ext && leaf <= 0x80000004u) {
    if (leaf == 0x80000000u) {
      r[0] = 0x80000004u;
    } else if (leaf >= 0x80000002u) {
      const size_t at = (leaf - 0x80000002u) * 16;
      for (unsigned k = 0; k < 4; ++k) r[k] = str4(m.brand, at + 4 * k);
    }
    return;
  }
  // Beyond the supported range: a P6 returns the highest basic leaf.
  if (leaf > kMaxBasicLeaf) leaf = kMaxBasicLeaf;
  switch (leaf) {
    case 0:
      r[0] = kMaxBasicLeaf;
      r[1] = str4(m.vendor, 0);
      r[3] = str4(m.vendor, 4);
      r[2] = str4(m.vendor, 8);
      break;
    case 1: {
      const uint32_t fam = m.family, mod = m.model;
      uint32_t sig = (m.stepping & 0xF) | ((mod & 0xF) << 4) | ((fam < 0xF ? fam : 0xF) << 8);
      if (fam >= 0xF) sig |= ((fam - 0xF) & 0xFF) << 20;
      if (fam == 6 || fam >= 0xF) sig |= ((mod >> 4) & 0xF) << 16;
      r[0] = sig;
      r[2] = m.features_ecx;
      r[3] = m.features_edx;
      break;
    }
    case 2:
      // Pentium II descriptors: 01/02 instruction TLBs (4 KB/4 MB pages),
      // 03/04 data TLBs, 08 16 KB L1 instruction cache, 0C 16 KB L1 data
      // cache, 43 512 KB L2 (AL = 01: one CPUID(2) call needed).
      r[0] = 0x03020101u;
      r[3] = 0x0C040843u;
      break;
  }
}

// ---- SYSENTER/SYSEXIT flat segments -----------------------------------------------------

SegmentCache flat_segment(uint16_t sel, bool code, unsigned dpl) {
  SegmentCache sc;
  sc.selector = sel;
  sc.base = 0;
  sc.limit = 0xFFFFFFFFu;
  sc.attr = uint16_t(SEG_P | SEG_S | SEG_RW | SEG_ACCESSED | SEG_DB | SEG_G |
                     (dpl << SEG_DPL_SHIFT) | (code ? SEG_CODE : 0));
  sc.valid = true;
  return sc;
}

}  // namespace

// ==== handlers ===========================================================================

// PUSH/POP segment registers.
void PUSH16_ES(Cpu& c, const Insn&) { push_seg<uint16_t>(c, ES); }
void PUSH32_ES(Cpu& c, const Insn&) { push_seg<uint32_t>(c, ES); }
void PUSH16_CS(Cpu& c, const Insn&) { push_seg<uint16_t>(c, CS); }
void PUSH32_CS(Cpu& c, const Insn&) { push_seg<uint32_t>(c, CS); }
void PUSH16_SS(Cpu& c, const Insn&) { push_seg<uint16_t>(c, SS); }
void PUSH32_SS(Cpu& c, const Insn&) { push_seg<uint32_t>(c, SS); }
void PUSH16_DS(Cpu& c, const Insn&) { push_seg<uint16_t>(c, DS); }
void PUSH32_DS(Cpu& c, const Insn&) { push_seg<uint32_t>(c, DS); }
void PUSH16_FS(Cpu& c, const Insn&) { push_seg<uint16_t>(c, FS); }
void PUSH32_FS(Cpu& c, const Insn&) { push_seg<uint32_t>(c, FS); }
void PUSH16_GS(Cpu& c, const Insn&) { push_seg<uint16_t>(c, GS); }
void PUSH32_GS(Cpu& c, const Insn&) { push_seg<uint32_t>(c, GS); }
void POP16_ES(Cpu& c, const Insn&) { pop_seg<uint16_t>(c, ES); }
void POP32_ES(Cpu& c, const Insn&) { pop_seg<uint32_t>(c, ES); }
void POP16_SS(Cpu& c, const Insn&) { pop_seg<uint16_t>(c, SS); }
void POP32_SS(Cpu& c, const Insn&) { pop_seg<uint32_t>(c, SS); }
void POP16_DS(Cpu& c, const Insn&) { pop_seg<uint16_t>(c, DS); }
void POP32_DS(Cpu& c, const Insn&) { pop_seg<uint32_t>(c, DS); }
void POP16_FS(Cpu& c, const Insn&) { pop_seg<uint16_t>(c, FS); }
void POP32_FS(Cpu& c, const Insn&) { pop_seg<uint32_t>(c, FS); }
void POP16_GS(Cpu& c, const Insn&) { pop_seg<uint16_t>(c, GS); }
void POP32_GS(Cpu& c, const Insn&) { pop_seg<uint32_t>(c, GS); }

// MOV r/m, Sreg (8C): register destination with 32-bit operand size is
// zero-extended (P6); memory always gets 16 bits.
static void mov_from_sreg(Cpu& c, const Insn& i) {
  if (i.reg > GS) return c.ud();
  store_selector(c, i, c.s.seg[i.reg].selector);
}
void MOV_EwSw(Cpu& c, const Insn& i) { mov_from_sreg(c, i); }
void MOV_EdSw(Cpu& c, const Insn& i) { mov_from_sreg(c, i); }

// MOV Sreg, r/m (8E): CS and reg 6/7 are #UD; MOV SS sets the shadow.
void MOV_SwEw(Cpu& c, const Insn& i) {
  if (i.reg == CS || i.reg > GS) return c.ud();
  const uint16_t sel = c.read_rm<uint16_t>(i);
  if (c.faulted()) return;
  c.load_seg(i.reg, sel);
}

void LES_GwMp(Cpu& c, const Insn& i) { load_far_pointer<uint16_t>(c, i, ES); }
void LES_GdMp(Cpu& c, const Insn& i) { load_far_pointer<uint32_t>(c, i, ES); }
void LDS_GwMp(Cpu& c, const Insn& i) { load_far_pointer<uint16_t>(c, i, DS); }
void LDS_GdMp(Cpu& c, const Insn& i) { load_far_pointer<uint32_t>(c, i, DS); }
void LSS_GwMp(Cpu& c, const Insn& i) { load_far_pointer<uint16_t>(c, i, SS); }
void LSS_GdMp(Cpu& c, const Insn& i) { load_far_pointer<uint32_t>(c, i, SS); }
void LFS_GwMp(Cpu& c, const Insn& i) { load_far_pointer<uint16_t>(c, i, FS); }
void LFS_GdMp(Cpu& c, const Insn& i) { load_far_pointer<uint32_t>(c, i, FS); }
void LGS_GwMp(Cpu& c, const Insn& i) { load_far_pointer<uint16_t>(c, i, GS); }
void LGS_GdMp(Cpu& c, const Insn& i) { load_far_pointer<uint32_t>(c, i, GS); }

// Far JMP/CALL/RET.
void JMPF_Ap16(Cpu& c, const Insn& i) { c.far_jump(uint16_t(i.imm2), i.imm & 0xFFFF, c.next_eip); }
void JMPF_Ap32(Cpu& c, const Insn& i) { c.far_jump(uint16_t(i.imm2), i.imm, c.next_eip); }
void CALLF_Ap16(Cpu& c, const Insn& i) {
  c.far_call(uint16_t(i.imm2), i.imm & 0xFFFF, c.next_eip, false);
}
void CALLF_Ap32(Cpu& c, const Insn& i) { c.far_call(uint16_t(i.imm2), i.imm, c.next_eip, true); }
void JMPF_Ep16(Cpu& c, const Insn& i) {
  uint16_t sel;
  uint32_t off;
  if (read_far_operand<uint16_t>(c, i, sel, off)) c.far_jump(sel, off, c.next_eip);
}
void JMPF_Ep32(Cpu& c, const Insn& i) {
  uint16_t sel;
  uint32_t off;
  if (read_far_operand<uint32_t>(c, i, sel, off)) c.far_jump(sel, off, c.next_eip);
}
void CALLF_Ep16(Cpu& c, const Insn& i) {
  uint16_t sel;
  uint32_t off;
  if (read_far_operand<uint16_t>(c, i, sel, off)) c.far_call(sel, off, c.next_eip, false);
}
void CALLF_Ep32(Cpu& c, const Insn& i) {
  uint16_t sel;
  uint32_t off;
  if (read_far_operand<uint32_t>(c, i, sel, off)) c.far_call(sel, off, c.next_eip, true);
}
void RETF16(Cpu& c, const Insn&) { c.far_return(false, 0); }
void RETF32(Cpu& c, const Insn&) { c.far_return(true, 0); }
void RETF16_Iw(Cpu& c, const Insn& i) { c.far_return(false, uint16_t(i.imm)); }
void RETF32_Iw(Cpu& c, const Insn& i) { c.far_return(true, uint16_t(i.imm)); }

// Software interrupts. In v86 mode with IOPL < 3 only INT n (CD) faults;
// INT3 and INTO go to the protected-mode handler (SDM INT n decision table).
void INT_Ib(Cpu& c, const Insn& i) {
  if (c.v86() && c.iopl() < 3) return c.gp(0);
  c.deliver_interrupt(uint8_t(i.imm), IntKind::Software, false, 0, c.next_eip);
}
void INT3(Cpu& c, const Insn&) { c.deliver_interrupt(VEC_BP, IntKind::Software, false, 0, c.next_eip); }
void INTO(Cpu& c, const Insn&) {
  if (c.of()) c.deliver_interrupt(VEC_OF, IntKind::Software, false, 0, c.next_eip);
}
void INT1(Cpu& c, const Insn&) { c.deliver_interrupt(VEC_DB, IntKind::Icebp, false, 0, c.next_eip); }
void IRET16(Cpu& c, const Insn&) { c.iret(false); }
void IRET32(Cpu& c, const Insn&) { c.iret(true); }

// Flags.
void PUSHF16(Cpu& c, const Insn&) { pushf<uint16_t>(c); }
void PUSHF32(Cpu& c, const Insn&) { pushf<uint32_t>(c); }
void POPF16(Cpu& c, const Insn&) { popf<uint16_t>(c); }
void POPF32(Cpu& c, const Insn&) { popf<uint32_t>(c); }
void CLI(Cpu& c, const Insn&) {
  if (!if_change_allowed(c)) return c.gp(0);
  c.write_eflags(0, FLAG_IF);
}
void STI(Cpu& c, const Insn&) {
  if (!if_change_allowed(c)) return c.gp(0);
  if (!(c.s.eflags_bits & FLAG_IF)) {
    // Interrupts stay inhibited until after the next instruction.
    c.s.inhibit_interrupts = true;
    c.write_eflags(FLAG_IF, FLAG_IF);
  }
  c.async_check();
}
void HLT(Cpu& c, const Insn&) {
  if (!need_cpl0(c)) return;
  c.enter_halt();
  c.async_check();
}

// Port I/O.
void IN_ALIb(Cpu& c, const Insn& i) { in_port<uint8_t>(c, uint8_t(i.imm)); }
void IN_AXIb(Cpu& c, const Insn& i) { in_port<uint16_t>(c, uint8_t(i.imm)); }
void IN_EAXIb(Cpu& c, const Insn& i) { in_port<uint32_t>(c, uint8_t(i.imm)); }
void OUT_IbAL(Cpu& c, const Insn& i) { out_port<uint8_t>(c, uint8_t(i.imm)); }
void OUT_IbAX(Cpu& c, const Insn& i) { out_port<uint16_t>(c, uint8_t(i.imm)); }
void OUT_IbEAX(Cpu& c, const Insn& i) { out_port<uint32_t>(c, uint8_t(i.imm)); }
void IN_ALDX(Cpu& c, const Insn&) { in_port<uint8_t>(c, c.reg<uint16_t>(EDX)); }
void IN_AXDX(Cpu& c, const Insn&) { in_port<uint16_t>(c, c.reg<uint16_t>(EDX)); }
void IN_EAXDX(Cpu& c, const Insn&) { in_port<uint32_t>(c, c.reg<uint16_t>(EDX)); }
void OUT_DXAL(Cpu& c, const Insn&) { out_port<uint8_t>(c, c.reg<uint16_t>(EDX)); }
void OUT_DXAX(Cpu& c, const Insn&) { out_port<uint16_t>(c, c.reg<uint16_t>(EDX)); }
void OUT_DXEAX(Cpu& c, const Insn&) { out_port<uint32_t>(c, c.reg<uint16_t>(EDX)); }
void INSB(Cpu& c, const Insn& i) { string_io<uint8_t, true>(c, i); }
void INSW(Cpu& c, const Insn& i) { string_io<uint16_t, true>(c, i); }
void INSD(Cpu& c, const Insn& i) { string_io<uint32_t, true>(c, i); }
void OUTSB(Cpu& c, const Insn& i) { string_io<uint8_t, false>(c, i); }
void OUTSW(Cpu& c, const Insn& i) { string_io<uint16_t, false>(c, i); }
void OUTSD(Cpu& c, const Insn& i) { string_io<uint32_t, false>(c, i); }

// ARPL r/m16, r16.
void ARPL_EwGw(Cpu& c, const Insn& i) {
  if (!need_pm(c)) return;
  const uint16_t dst = c.read_rm_rmw<uint16_t>(i);
  if (c.faulted()) return;
  const uint16_t src = c.reg<uint16_t>(i.reg);
  if ((dst & 3) < (src & 3)) {
    c.write_rm<uint16_t>(i, uint16_t((dst & ~3) | (src & 3)));
    if (c.faulted()) return;
    c.set_flag(FLAG_ZF, true);
  } else {
    c.set_flag(FLAG_ZF, false);
  }
}

void LAR_GwEw(Cpu& c, const Insn& i) { lar<uint16_t>(c, i); }
void LAR_GdEw(Cpu& c, const Insn& i) { lar<uint32_t>(c, i); }
void LSL_GwEw(Cpu& c, const Insn& i) { lsl<uint16_t>(c, i); }
void LSL_GdEw(Cpu& c, const Insn& i) { lsl<uint32_t>(c, i); }
void VERR_Ew(Cpu& c, const Insn& i) { verify(c, i, false); }
void VERW_Ew(Cpu& c, const Insn& i) { verify(c, i, true); }

// LDTR and TR.
void SLDT_Ew(Cpu& c, const Insn& i) {
  if (!need_pm(c)) return;
  store_selector(c, i, c.s.ldtr.selector);
}
void STR_Ew(Cpu& c, const Insn& i) {
  if (!need_pm(c)) return;
  store_selector(c, i, c.s.tr.selector);
}
void LLDT_Ew(Cpu& c, const Insn& i) {
  if (!need_pm(c) || !need_cpl0(c)) return;
  const uint16_t sel = c.read_rm<uint16_t>(i);
  if (c.faulted()) return;
  if (sys::sel_null(sel)) {
    c.s.ldtr = sys::null_cache(sel);
    return;
  }
  if (sel & 4) return c.gp(sel_err(sel, 0));
  Desc d;
  if (!sys::read_desc(c, sel, d, VEC_GP, 0)) return;
  if (d.s() || d.type() != sys::DT_LDT) return c.gp(sel_err(sel, 0));
  if (!d.present()) return c.raise(VEC_NP, sel_err(sel, 0));
  c.s.ldtr = Cpu::cache_from_descriptor(sel, d.raw);
}
void LTR_Ew(Cpu& c, const Insn& i) {
  if (!need_pm(c) || !need_cpl0(c)) return;
  const uint16_t sel = c.read_rm<uint16_t>(i);
  if (c.faulted()) return;
  if (sys::sel_null(sel)) return c.gp(0);
  if (sel & 4) return c.gp(sel_err(sel, 0));
  Desc d;
  if (!sys::read_desc(c, sel, d, VEC_GP, 0)) return;
  if (!d.is_available_tss()) return c.gp(sel_err(sel, 0));
  if (!d.present()) return c.raise(VEC_NP, sel_err(sel, 0));
  if (!sys::set_tss_busy(c, sel, true)) return;
  SegmentCache tr = Cpu::cache_from_descriptor(sel, d.raw);
  tr.attr |= 2;  // busy
  c.s.tr = tr;
}

// GDTR/IDTR/MSW.
void SGDT_Ms(Cpu& c, const Insn& i) { store_table(c, i, c.s.gdtr); }
void SIDT_Ms(Cpu& c, const Insn& i) { store_table(c, i, c.s.idtr); }
void LGDT_Ms(Cpu& c, const Insn& i) { load_table(c, i, c.s.gdtr); }
void LIDT_Ms(Cpu& c, const Insn& i) { load_table(c, i, c.s.idtr); }
void SMSW_Ew(Cpu& c, const Insn& i) { store_selector(c, i, c.s.cr0); }
void LMSW_Ew(Cpu& c, const Insn& i) {
  if (!need_cpl0(c)) return;
  const uint16_t v = c.read_rm<uint16_t>(i);
  if (c.faulted()) return;
  // Loads PE MP EM TS; PE can be set but not cleared.
  c.write_cr0((c.s.cr0 & ~0xFu) | (v & 0xFu) | (c.s.cr0 & CR0_PE));
}
void INVLPG_M(Cpu& c, const Insn& i) {
  if (i.is_reg()) return c.ud();
  if (!need_cpl0(c)) return;
  c.flush_tlb_page(c.s.seg[i.seg].base + c.ea(i));
}
void CLTS(Cpu& c, const Insn&) {
  if (!need_cpl0(c)) return;
  c.write_cr0(c.s.cr0 & ~CR0_TS);
}
void INVD(Cpu& c, const Insn&) { need_cpl0(c); }
void WBINVD(Cpu& c, const Insn&) { need_cpl0(c); }

// MOV to/from control registers: the ModRM mod field is ignored.
void MOV_RdCd(Cpu& c, const Insn& i) {
  if (!need_cpl0(c)) return;
  uint32_t v;
  switch (i.reg) {
    case 0: v = c.s.cr0; break;
    case 2: v = c.s.cr2; break;
    case 3: v = c.s.cr3; break;
    case 4: v = c.s.cr4; break;
    default: return c.ud();
  }
  c.set_reg<uint32_t>(i.rm, v);
}
void MOV_CdRd(Cpu& c, const Insn& i) {
  if (!need_cpl0(c)) return;
  const uint32_t v = c.reg<uint32_t>(i.rm);
  switch (i.reg) {
    case 0: {
      // Reserved CR0 bits are ignored; ET is hard-wired to 1 on a P6.
      constexpr uint32_t defined = CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP |
                                   CR0_AM | CR0_NW | CR0_CD | CR0_PG;
      c.write_cr0((v & defined) | CR0_ET);  // #GP(0) for PG without PE, NW without CD
      return;
    }
    case 2: c.s.cr2 = v; return;
    case 3: c.write_cr3(v); return;
    case 4: {
      // Only features the CPUID model reports may be enabled.
      const uint32_t f = c.model.features_edx;
      uint32_t ok = CR4_TSD | CR4_PCE;
      if (f & (1u << 1)) ok |= CR4_VME | CR4_PVI;
      if (f & (1u << 2)) ok |= CR4_DE;
      if (f & (1u << 3)) ok |= CR4_PSE;
      if (f & (1u << 6)) ok |= CR4_PAE;
      if (f & (1u << 7)) ok |= CR4_MCE;
      if (f & (1u << 13)) ok |= CR4_PGE;
      if (v & ~ok) return c.gp(0);
      c.write_cr4(v);
      return;
    }
    default: return c.ud();
  }
}

// MOV to/from debug registers. DR4/DR5 alias DR6/DR7 unless CR4.DE.
static bool debug_reg_index(Cpu& c, unsigned& n) {
  if (!need_cpl0(c)) return false;
  if (n == 4 || n == 5) {
    if (c.s.cr4 & CR4_DE) {
      c.ud();
      return false;
    }
    n += 2;
  }
  if (c.s.dr[7] & (1u << 13)) {
    // DR7.GD: general-detect fault before the access; BD set, GD cleared.
    c.s.dr[6] |= 1u << 13;
    c.s.dr[7] &= ~(1u << 13);
    c.raise(VEC_DB);
    return false;
  }
  return true;
}
void MOV_RdDd(Cpu& c, const Insn& i) {
  unsigned n = i.reg;
  if (!debug_reg_index(c, n)) return;
  c.set_reg<uint32_t>(i.rm, c.s.dr[n]);
}
void MOV_DdRd(Cpu& c, const Insn& i) {
  unsigned n = i.reg;
  if (!debug_reg_index(c, n)) return;
  const uint32_t v = c.reg<uint32_t>(i.rm);
  if (n == 6) c.s.dr[6] = (v & 0x0000E00Fu) | 0xFFFF0FF0u;
  else if (n == 7) c.s.dr[7] = (v & 0xFFFF27FFu) | 0x400u;
  else c.s.dr[n] = v;
  c.async_check();
}

// Identification, counters and MSRs.
void CPUID(Cpu& c, const Insn&) {
  uint32_t r[4];
  cpuid_leaf(c.model, c.s.gpr[EAX], r);
  c.s.gpr[EAX] = r[0];
  c.s.gpr[EBX] = r[1];
  c.s.gpr[ECX] = r[2];
  c.s.gpr[EDX] = r[3];
}
void RDTSC(Cpu& c, const Insn&) {
  if ((c.s.cr4 & CR4_TSD) && c.protected_mode() && c.cpl() != 0) return c.gp(0);
  const uint64_t t = c.tsc();
  c.s.gpr[EAX] = uint32_t(t);
  c.s.gpr[EDX] = uint32_t(t >> 32);
}
void RDPMC(Cpu& c, const Insn&) {
  if (!(c.s.cr4 & CR4_PCE) && c.protected_mode() && c.cpl() != 0) return c.gp(0);
  if (c.s.gpr[ECX] > 1) return c.gp(0);  // two counters on a P6
  c.s.gpr[EAX] = 0;
  c.s.gpr[EDX] = 0;
}
void RDMSR(Cpu& c, const Insn&) {
  if (!need_cpl0(c)) return;
  uint64_t v;
  if (!rdmsr(c, c.s.gpr[ECX], v)) return c.gp(0);
  c.s.gpr[EAX] = uint32_t(v);
  c.s.gpr[EDX] = uint32_t(v >> 32);
}
void WRMSR(Cpu& c, const Insn&) {
  if (!need_cpl0(c)) return;
  const uint64_t v = (uint64_t(c.s.gpr[EDX]) << 32) | c.s.gpr[EAX];
  if (!wrmsr(c, c.s.gpr[ECX], v)) return c.gp(0);
}

// SYSENTER/SYSEXIT: flat segments derived from IA32_SYSENTER_CS.
void SYSENTER(Cpu& c, const Insn&) {
  const uint16_t cs = uint16_t(c.s.msr_sysenter_cs);
  if (!c.protected_mode() || (cs & 0xFFFC) == 0) return c.gp(0);
  c.write_eflags(0, FLAG_VM | FLAG_IF | FLAG_RF);
  c.s.cpl = 0;
  c.set_seg_cache(CS, flat_segment(uint16_t(cs & 0xFFFC), true, 0));
  c.set_seg_cache(SS, flat_segment(uint16_t((cs & 0xFFFC) + 8), false, 0));
  c.refresh_segments();
  c.s.gpr[ESP] = uint32_t(c.s.msr_sysenter_esp);
  c.s.eip = c.next_eip = uint32_t(c.s.msr_sysenter_eip);
}
void SYSEXIT(Cpu& c, const Insn&) {
  const uint16_t cs = uint16_t(c.s.msr_sysenter_cs);
  if (!c.protected_mode() || (cs & 0xFFFC) == 0 || c.cpl() != 0) return c.gp(0);
  c.s.cpl = 3;
  c.set_seg_cache(CS, flat_segment(uint16_t((cs + 16) | 3), true, 3));
  c.set_seg_cache(SS, flat_segment(uint16_t((cs + 24) | 3), false, 3));
  c.refresh_segments();
  c.s.gpr[ESP] = c.s.gpr[ECX];
  c.s.eip = c.next_eip = c.s.gpr[EDX];
}

void UD2(Cpu& c, const Insn&) { c.ud(); }
void UD1(Cpu& c, const Insn&) { c.ud(); }

}  // namespace faultline
