// x87 instruction handlers: FPU_D8..FPU_DF (escape opcodes) and FWAIT.
//
// Each escape handler looks the encoding up in a table (register forms by the
// full ModRM byte, memory forms by ModRM.reg) that says whether it is
// undefined (#UD on the P6), a control instruction emulated here, or an
// instruction executed on the host x87 (fpu_host.cpp), with the metadata the
// host core needs. Order of checks, as on the P6: #NM (CR0.EM/TS, also for
// undefined escape opcodes), #UD, then for waiting instructions a pending
// unmasked exception (#MF), then memory faults; nothing is committed before
// all memory accesses succeeded.
#include <array>

#include "core/cpu.h"
#include "core/fpu/fpu.h"
#include "core/handlers.h"

namespace faultline {
namespace fpu {
namespace {

enum Kind : uint8_t {
  K_UD,
  K_HOST,       // executed on the host x87
  K_FNOP,
  K_FFREE,
  K_FFREEP,     // DF C0+i (undocumented on the P6): free ST(i), pop
  K_FINCSTP,
  K_FDECSTP,
  K_NOP_NW,     // FNENI, FNDISI, FNSETPM: no-ops on the 387 and later
  K_FNCLEX,
  K_FNINIT,
  K_FNSTSW_AX,
  K_FLDENV,
  K_FLDCW,
  K_FNSTENV,
  K_FNSTCW,
  K_FRSTOR,
  K_FNSAVE,
  K_FNSTSW_M,
};

// Register moves done without the host when no stack fault is possible (they
// raise no other exception and only clear C1); else executed on the host.
enum Move : uint8_t { MV_NONE, MV_FLD, MV_FXCH, MV_FST, MV_FSTP };

struct Enc {
  Kind kind = K_UD;
  Move move = MV_NONE;
  HostOp op{};
};

constexpr uint16_t kC1 = SW_C1;
constexpr uint16_t kCAll = SW_CC;
constexpr uint16_t kC12 = SW_C1 | SW_C2;

constexpr Enc host(uint8_t nread, uint8_t push, uint16_t cc, uint8_t mem_in = 0, uint8_t mem_out = 0,
                   uint8_t eflags_in = 0, uint8_t eflags_out = 0) {
  Enc e;
  e.kind = K_HOST;
  e.op.nread = nread;
  e.op.push = push;
  e.op.cc = cc;
  e.op.mem_in = mem_in;
  e.op.mem_out = mem_out;
  e.op.eflags_in = eflags_in;
  e.op.eflags_out = eflags_out;
  return e;
}
constexpr Enc native(Kind k) {
  Enc e;
  e.kind = k;
  return e;
}

constexpr unsigned kRegIdx = 0;      // + esc * 64 + (modrm - 0xC0)
constexpr unsigned kMemIdx = 8 * 64; // + esc * 8 + reg

constexpr std::array<Enc, 8 * 64 + 8 * 8> build_table() {
  std::array<Enc, 8 * 64 + 8 * 8> t{};
  auto R = [&t](unsigned esc, unsigned modrm) -> Enc& { return t[kRegIdx + esc * 64 + (modrm - 0xC0)]; };
  auto M = [&t](unsigned esc, unsigned reg) -> Enc& { return t[kMemIdx + esc * 8 + reg]; };
  for (unsigned i = 0; i < 8; ++i) {
    const uint8_t n = static_cast<uint8_t>(i + 1);
    // D8: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR ST(0), ST(i)
    for (unsigned r = 0; r < 8; ++r) R(0, 0xC0 + r * 8 + i) = host(n, 0, (r == 2 || r == 3) ? kCAll : kC1);
    // D9
    R(1, 0xC0 + i) = host(n, 1, kC1);  // FLD ST(i)
    R(1, 0xC0 + i).move = MV_FLD;
    R(1, 0xC8 + i) = host(n, 0, kC1);  // FXCH ST(i)
    R(1, 0xC8 + i).move = MV_FXCH;
    R(1, 0xD8 + i) = host(n, 0, kC1);  // FSTP1 (alias of FSTP ST(i))
    R(1, 0xD8 + i).move = MV_FSTP;
    // DA: FCMOVB FCMOVE FCMOVBE FCMOVU (C1 only changes on a stack fault)
    for (unsigned r = 0; r < 4; ++r) R(2, 0xC0 + r * 8 + i) = host(n, 0, 0, 0, 0, 1, 0);
    // DB: FCMOVNB FCMOVNE FCMOVNBE FCMOVNU, FUCOMI, FCOMI (C1 kept as well)
    for (unsigned r = 0; r < 4; ++r) R(3, 0xC0 + r * 8 + i) = host(n, 0, 0, 0, 0, 1, 0);
    R(3, 0xE8 + i) = host(n, 0, 0, 0, 0, 0, 1);
    R(3, 0xF0 + i) = host(n, 0, 0, 0, 0, 0, 1);
    // DC: FADD FMUL FCOM2 FCOMP3 FSUBR FSUB FDIVR FDIV ST(i), ST(0)
    for (unsigned r = 0; r < 8; ++r) R(4, 0xC0 + r * 8 + i) = host(n, 0, (r == 2 || r == 3) ? kCAll : kC1);
    // DD: FFREE, FXCH4, FST, FSTP, FUCOM, FUCOMP
    R(5, 0xC0 + i) = native(K_FFREE);
    R(5, 0xC8 + i) = host(n, 0, kC1);  // FXCH4
    R(5, 0xC8 + i).move = MV_FXCH;
    R(5, 0xD0 + i) = host(n, 0, kC1);  // FST ST(i)
    R(5, 0xD0 + i).move = MV_FST;
    R(5, 0xD8 + i) = host(n, 0, kC1);  // FSTP ST(i)
    R(5, 0xD8 + i).move = MV_FSTP;
    R(5, 0xE0 + i) = host(n, 0, kCAll);
    R(5, 0xE8 + i) = host(n, 0, kCAll);
    // DE: FADDP FMULP FCOMP5 (FCOMPP) FSUBRP FSUBP FDIVRP FDIVP
    for (unsigned r : {0u, 1u, 4u, 5u, 6u, 7u}) R(6, 0xC0 + r * 8 + i) = host(n, 0, kC1);
    R(6, 0xD0 + i) = host(n, 0, kCAll);
    // DF: FFREEP, FXCH7, FSTP8, FSTP9, FUCOMIP, FCOMIP
    R(7, 0xC0 + i) = native(K_FFREEP);
    R(7, 0xC8 + i) = host(n, 0, kC1);  // FXCH7
    R(7, 0xC8 + i).move = MV_FXCH;
    R(7, 0xD0 + i) = host(n, 0, kC1);  // FSTP8
    R(7, 0xD0 + i).move = MV_FSTP;
    R(7, 0xD8 + i) = host(n, 0, kC1);  // FSTP9
    R(7, 0xD8 + i).move = MV_FSTP;
    R(7, 0xE8 + i) = host(n, 0, 0, 0, 0, 0, 1);
    R(7, 0xF0 + i) = host(n, 0, 0, 0, 0, 0, 1);
  }
  // FADDP/FMULP/FSUBRP/FSUBP/FDIVRP/FDIVP ST(0), ST(0) leave the result in
  // the register they pop.
  for (unsigned r : {0u, 1u, 4u, 5u, 6u, 7u}) R(6, 0xC0 + r * 8).op.full_only = 1;
  // D9 specials.
  R(1, 0xD0) = native(K_FNOP);
  R(1, 0xE0) = host(1, 0, kC1);    // FCHS
  R(1, 0xE1) = host(1, 0, kC1);    // FABS
  R(1, 0xE4) = host(1, 0, kCAll);  // FTST
  R(1, 0xE5) = host(1, 0, kCAll);  // FXAM
  for (unsigned m = 0xE8; m <= 0xEE; ++m) R(1, m) = host(0, 1, kC1);  // FLD1 .. FLDZ
  R(1, 0xF0) = host(1, 0, kC1);    // F2XM1
  R(1, 0xF1) = host(2, 0, kC1);    // FYL2X
  R(1, 0xF2) = host(1, 1, kC12);   // FPTAN
  R(1, 0xF3) = host(2, 0, kC1);    // FPATAN
  R(1, 0xF4) = host(1, 1, kC1);    // FXTRACT
  R(1, 0xF5) = host(2, 0, kCAll);  // FPREM1
  R(1, 0xF6) = native(K_FDECSTP);
  R(1, 0xF7) = native(K_FINCSTP);
  R(1, 0xF8) = host(2, 0, kCAll);  // FPREM
  R(1, 0xF9) = host(2, 0, kC1);    // FYL2XP1
  R(1, 0xFA) = host(1, 0, kC1);    // FSQRT
  R(1, 0xFB) = host(1, 1, kC12);   // FSINCOS
  R(1, 0xFC) = host(1, 0, kC1);    // FRNDINT
  R(1, 0xFD) = host(2, 0, kC1);    // FSCALE
  R(1, 0xFE) = host(1, 0, kC12);   // FSIN
  R(1, 0xFF) = host(1, 0, kC12);   // FCOS
  R(2, 0xE9) = host(2, 0, kCAll);  // FUCOMPP
  R(3, 0xE0) = native(K_NOP_NW);   // FNENI
  R(3, 0xE1) = native(K_NOP_NW);   // FNDISI
  R(3, 0xE2) = native(K_FNCLEX);
  R(3, 0xE3) = native(K_FNINIT);
  R(3, 0xE4) = native(K_NOP_NW);   // FNSETPM
  R(6, 0xD9) = host(2, 0, kCAll);  // FCOMPP
  R(7, 0xE0) = native(K_FNSTSW_AX);

  // Memory forms. D8/DC/DA/DE: arithmetic with m32fp/m64fp/m32int/m16int.
  const uint8_t arith_size[4] = {4, 4, 8, 2};  // D8, DA, DC, DE
  const unsigned arith_esc[4] = {0, 2, 4, 6};
  for (unsigned k = 0; k < 4; ++k)
    for (unsigned r = 0; r < 8; ++r)
      M(arith_esc[k], r) = host(1, 0, (r == 2 || r == 3) ? kCAll : kC1, arith_size[k]);
  for (unsigned r = 0; r < 8; ++r) {
    M(0, r).op.mem_float = 4;
    M(4, r).op.mem_float = 8;
  }
  // D9: FLD m32, FST m32, FSTP m32, FLDENV, FLDCW, FNSTENV, FNSTCW
  M(1, 0) = host(0, 1, kC1, 4);
  M(1, 0).op.mem_float = 4;
  M(1, 2) = host(1, 0, kC1, 0, 4);
  M(1, 3) = host(1, 0, kC1, 0, 4);
  M(1, 4) = native(K_FLDENV);
  M(1, 5) = native(K_FLDCW);
  M(1, 6) = native(K_FNSTENV);
  M(1, 7) = native(K_FNSTCW);
  // DB: FILD m32, (FISTTP m32: SSE3, #UD), FIST m32, FISTP m32, FLD m80, FSTP m80
  M(3, 0) = host(0, 1, kC1, 4);
  M(3, 2) = host(1, 0, kC1, 0, 4);
  M(3, 3) = host(1, 0, kC1, 0, 4);
  M(3, 5) = host(0, 1, kC1, 10);
  M(3, 5).op.mem_float = 10;
  M(3, 7) = host(1, 0, kC1, 0, 10);
  // DD: FLD m64, (FISTTP m64), FST m64, FSTP m64, FRSTOR, FNSAVE, FNSTSW m16
  M(5, 0) = host(0, 1, kC1, 8);
  M(5, 0).op.mem_float = 8;
  M(5, 2) = host(1, 0, kC1, 0, 8);
  M(5, 3) = host(1, 0, kC1, 0, 8);
  M(5, 4) = native(K_FRSTOR);
  M(5, 6) = native(K_FNSAVE);
  M(5, 7) = native(K_FNSTSW_M);
  // DF: FILD m16, (FISTTP m16), FIST m16, FISTP m16, FBLD, FILD m64, FBSTP, FISTP m64
  M(7, 0) = host(0, 1, kC1, 2);
  M(7, 2) = host(1, 0, kC1, 0, 2);
  M(7, 3) = host(1, 0, kC1, 0, 2);
  M(7, 4) = host(0, 1, kC1, 10);
  M(7, 5) = host(0, 1, kC1, 8);
  M(7, 6) = host(1, 0, kC1, 0, 10);
  M(7, 7) = host(1, 0, kC1, 0, 8);
  return t;
}

constexpr auto kTable = build_table();

bool is_waiting(Kind k) {
  switch (k) {
    case K_NOP_NW: case K_FNCLEX: case K_FNINIT: case K_FNSTSW_AX: case K_FNSTENV: case K_FNSTCW:
    case K_FNSAVE: case K_FNSTSW_M:
      return false;
    default:
      return true;
  }
}

// FIP/FCS/FOP (and FDP/FDS for memory operands) of a non-control instruction.
void update_pointers(Cpu& c, const Insn& i, unsigned esc) {
  FpuState& f = c.s.fpu;
  f.last_ip = c.insn_eip;
  f.last_cs = c.s.seg[CS].selector;
  f.last_opcode = static_cast<uint16_t>((esc << 8) | i.modrm);
  if (!i.is_reg()) {
    f.last_dp = c.ea(i);
    f.last_ds = c.s.seg[i.seg].selector;
  }
}

void read_mem(Cpu& c, unsigned seg, uint32_t off, unsigned size, uint8_t* out) {
  switch (size) {
    case 2: { uint16_t v = c.read<uint16_t>(seg, off); std::memcpy(out, &v, 2); break; }
    case 4: { uint32_t v = c.read<uint32_t>(seg, off); std::memcpy(out, &v, 4); break; }
    case 8: { uint64_t v = c.read<uint64_t>(seg, off); std::memcpy(out, &v, 8); break; }
    case 10: {
      uint64_t lo = c.read<uint64_t>(seg, off);
      if (c.faulted()) return;
      uint16_t hi = c.read<uint16_t>(seg, off + 8);
      std::memcpy(out, &lo, 8);
      std::memcpy(out + 8, &hi, 2);
      break;
    }
    default: break;
  }
}

void write_mem(Cpu& c, unsigned seg, uint32_t off, unsigned size, const uint8_t* in) {
  switch (size) {
    case 2: { uint16_t v; std::memcpy(&v, in, 2); c.write<uint16_t>(seg, off, v); break; }
    case 4: { uint32_t v; std::memcpy(&v, in, 4); c.write<uint32_t>(seg, off, v); break; }
    case 8: { uint64_t v; std::memcpy(&v, in, 8); c.write<uint64_t>(seg, off, v); break; }
    case 10: {
      uint64_t lo;
      uint16_t hi;
      std::memcpy(&lo, in, 8);
      std::memcpy(&hi, in + 8, 2);
      c.write<uint64_t>(seg, off, lo);
      if (c.faulted()) return;
      c.write<uint16_t>(seg, off + 8, hi);
      break;
    }
    default: break;
  }
}

// Register moves: copying an 80-bit register raises nothing (not even for an
// SNaN) as long as the registers read are non-empty and a push finds ST(7)
// empty; C1 is cleared. Returns false if a stack fault is possible.
bool native_move(FpuState& f, Move mv, unsigned i) {
  const unsigned t = top(f);
  const unsigned p0 = t, pi = (t + i) & 7;
  switch (mv) {
    case MV_FLD: {
      const unsigned pn = (t + 7) & 7;
      if (empty(f, pi) || !empty(f, pn)) return false;
      f.st[pn] = f.st[pi];
      set_tag(f, pn, tag_of(f, pi));
      set_top(f, pn);
      break;
    }
    case MV_FXCH: {
      if (empty(f, p0) || empty(f, pi)) return false;
      const long double v = f.st[p0];
      const unsigned tg = tag_of(f, p0);
      f.st[p0] = f.st[pi];
      set_tag(f, p0, tag_of(f, pi));
      f.st[pi] = v;
      set_tag(f, pi, tg);
      break;
    }
    case MV_FST:
    case MV_FSTP:
      if (empty(f, p0)) return false;
      f.st[pi] = f.st[p0];
      set_tag(f, pi, tag_of(f, p0));
      if (mv == MV_FSTP) {
        set_tag(f, p0, TAG_EMPTY);
        set_top(f, t + 1);
      }
      break;
    case MV_NONE:
      return false;
  }
  f.status &= static_cast<uint16_t>(~SW_C1);
  return true;
}

void exec_host(Cpu& c, const Insn& i, unsigned esc, const HostOp& op) {
  uint8_t mem[16] = {};
  uint32_t off = 0;
  if (!i.is_reg()) {
    off = c.ea(i);
    if (op.mem_in) {
      read_mem(c, i.seg, off, op.mem_in, mem);
      if (c.faulted()) return;
    }
  }
  const uint32_t efl = (op.eflags_in || op.eflags_out) ? c.eflags() : 0;
  HostResult r;
  host_execute(c.s.fpu, efl, esc, i.modrm, op, mem, r);
  // A store suppressed by an unmasked exception makes no memory access at
  // all. A faulting store leaves the FPU state unchanged (the instruction is
  // restarted); like the hardware, a 10-byte store whose last two bytes fault
  // has already written the first eight.
  if (r.store) {
    write_mem(c, i.seg, off, op.mem_out, r.mem);
    if (c.faulted()) return;
  }
  const uint16_t old_status = c.s.fpu.status;
  const uint16_t control = c.s.fpu.control;
  c.s.fpu = r.f;
  c.s.fpu.control = control;
  update_pointers(c, i, esc);
  if (op.eflags_out) c.set_arith_flags(r.eflags);
  note_new_exceptions(c, old_status);
}

void fpu_escape(Cpu& c, const Insn& i, unsigned esc) {
  if (!check_nm(c)) return;
  const Enc& e = i.is_reg() ? kTable[kRegIdx + esc * 64 + (i.modrm & 0x3F)] : kTable[kMemIdx + esc * 8 + i.reg];
  if (e.kind == K_UD) {
    c.ud();
    return;
  }
  if (is_waiting(e.kind) && !check_pending(c)) return;
  FpuState& f = c.s.fpu;
  switch (e.kind) {
    case K_HOST:
      if (e.move != MV_NONE && !force_full_path() && native_move(f, e.move, i.rm)) {
        update_pointers(c, i, esc);
        return;
      }
      exec_host(c, i, esc, e.op);
      return;
    case K_FNOP:
      update_pointers(c, i, esc);
      return;
    case K_FFREE:  // C1 cleared (as the host does), C0 C2 C3 kept
      set_tag(f, (top(f) + i.rm) & 7, TAG_EMPTY);
      f.status &= static_cast<uint16_t>(~SW_C1);
      update_pointers(c, i, esc);
      return;
    case K_FFREEP:
      set_tag(f, (top(f) + i.rm) & 7, TAG_EMPTY);
      set_tag(f, top(f), TAG_EMPTY);
      set_top(f, top(f) + 1);
      f.status &= static_cast<uint16_t>(~SW_C1);
      update_pointers(c, i, esc);
      return;
    case K_FINCSTP:
      set_top(f, top(f) + 1);
      f.status &= static_cast<uint16_t>(~SW_C1);
      update_pointers(c, i, esc);
      return;
    case K_FDECSTP:
      set_top(f, top(f) - 1);
      f.status &= static_cast<uint16_t>(~SW_C1);
      update_pointers(c, i, esc);
      return;
    case K_NOP_NW:
      return;
    case K_FNCLEX:
      f.status &= static_cast<uint16_t>(~(SW_EXC | SW_SF | SW_ES | SW_B));
      return;
    case K_FNINIT:
      finit(f);
      return;
    case K_FNSTSW_AX:
      c.set_reg<uint16_t>(EAX, f.status);
      return;
    case K_FNSTSW_M:
      c.write<uint16_t>(i.seg, c.ea(i), f.status);
      return;
    case K_FNSTCW:
      c.write<uint16_t>(i.seg, c.ea(i), f.control);
      return;
    case K_FLDCW: {
      uint16_t v = c.read<uint16_t>(i.seg, c.ea(i));
      if (c.faulted()) return;
      const uint16_t old_status = f.status;
      f.control = sanitize_cw(v);
      update_es(f);
      note_new_exceptions(c, old_status);
      return;
    }
    case K_FNSTENV:
      fnstenv(c, i);
      return;
    case K_FLDENV:
      fldenv(c, i);
      return;
    case K_FNSAVE:
      fnsave(c, i);
      return;
    case K_FRSTOR:
      frstor(c, i);
      return;
    case K_UD:
      break;
  }
}

}  // namespace

const HostOp* host_op(unsigned esc, uint8_t modrm) {
  const Enc& e = modrm >= 0xC0 ? kTable[kRegIdx + (esc & 7) * 64 + (modrm & 0x3F)]
                               : kTable[kMemIdx + (esc & 7) * 8 + ((modrm >> 3) & 7)];
  return e.kind == K_HOST ? &e.op : nullptr;
}

}  // namespace fpu

void FPU_D8(Cpu& c, const Insn& i) { fpu::fpu_escape(c, i, 0); }
void FPU_D9(Cpu& c, const Insn& i) { fpu::fpu_escape(c, i, 1); }
void FPU_DA(Cpu& c, const Insn& i) { fpu::fpu_escape(c, i, 2); }
void FPU_DB(Cpu& c, const Insn& i) { fpu::fpu_escape(c, i, 3); }
void FPU_DC(Cpu& c, const Insn& i) { fpu::fpu_escape(c, i, 4); }
void FPU_DD(Cpu& c, const Insn& i) { fpu::fpu_escape(c, i, 5); }
void FPU_DE(Cpu& c, const Insn& i) { fpu::fpu_escape(c, i, 6); }
void FPU_DF(Cpu& c, const Insn& i) { fpu::fpu_escape(c, i, 7); }

// WAIT/FWAIT: #NM only with CR0.TS and CR0.MP both set; then a pending
// unmasked exception is reported.
void FWAIT(Cpu& c, const Insn&) {
  if ((c.s.cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP)) {
    c.raise(VEC_NM);
    return;
  }
  fpu::check_pending(c);
}

}  // namespace faultline
