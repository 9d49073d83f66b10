// The x87 FPU: state helpers shared by the handlers (fpu_ops.cpp), the
// environment instructions (fpu_env.cpp) and the host-execution core
// (fpu_host.cpp).
//
// Design note: every x87 instruction that computes (loads, stores, arithmetic,
// compares, transcendental functions, FXCH, FCMOVcc, ...) is executed by the
// host's own x87 on a copy of the guest state, with the guest's control word
// (precision, rounding and exception masks) loaded on the host. The result,
// the status flags, C0-C3, stack faults, NaN propagation, unmasked-exception
// behaviour (no result written, bias-adjusted results on OE/UE) and
// transcendental values are then bit-identical to the host CPU, which is the
// oracle of the differential tester. Two host paths exist:
//  - fast: the registers ST(0)..ST(n-1) the instruction reads are pushed onto
//    the empty host stack (FLD m80), the very same instruction encoding runs,
//    and the registers left are popped back (FSTP m80). Used when no stack
//    fault is possible (all read registers valid, ST(7) empty for pushes) and
//    the operands are ordinary (no NaN, infinity, denormal or unsupported
//    encoding); an instruction that raises IE or DE there is redone on the
//    full path. The host's C0-C3 are not seeded on this path, so only the
//    condition bits the instruction defines for ordinary operands are taken
//    from it (HostOp::cc); with special operands some instructions leave
//    bits unchanged, which only the full path reproduces.
//  - full: the whole guest state goes through FRSTOR/FNSAVE around the
//    instruction; exact in every case (stack faults, empty registers), slow.
// Control instructions (FNINIT, FLDCW, FNSTENV, FRSTOR, ...), FFREE/FFREEP,
// FINCSTP/FDECSTP, FNOP and, when no stack fault is possible, the register
// moves (FLD ST(i), FXCH, FST/FSTP ST(i) and their aliases) are emulated
// directly; tests/core/fpu_test.cpp checks them against the host.
//
// Stores: a store suppressed by an unmasked IE/OE/UE makes no memory access;
// 10-byte stores are an 8-byte then a 2-byte write (as on Intel CPUs);
// FNSTENV/FLDENV/FNSAVE/FRSTOR probe their first and last byte before any
// access. Nothing in the FPU state is committed before the memory accesses
// succeeded.
//
// FERR#: the P6 asserts FERR# when an instruction completes with a new
// unmasked exception; with CR0.NE=0 this sets FpuState::ferr_pending (the
// platform turns it into IRQ13). A waiting instruction that meets a pending
// exception with CR0.NE=0 sets it again and executes (IGNNE# taken as
// asserted); with CR0.NE=1 it raises #MF.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/cpu_state.h"

namespace faultline {

class Cpu;
struct Insn;

namespace fpu {

// Status word bits.
enum : uint16_t {
  SW_IE = 1u << 0, SW_DE = 1u << 1, SW_ZE = 1u << 2, SW_OE = 1u << 3,
  SW_UE = 1u << 4, SW_PE = 1u << 5, SW_SF = 1u << 6, SW_ES = 1u << 7,
  SW_C0 = 1u << 8, SW_C1 = 1u << 9, SW_C2 = 1u << 10, SW_TOP = 7u << 11,
  SW_C3 = 1u << 14, SW_B = 1u << 15,
  SW_EXC = 0x3F,                       // IE..PE
  SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3,
};

// Control word bits.
enum : uint16_t {
  CW_IM = 1u << 0, CW_DM = 1u << 1, CW_ZM = 1u << 2, CW_OM = 1u << 3,
  CW_UM = 1u << 4, CW_PM = 1u << 5, CW_MASKS = 0x3F,
  CW_PC = 3u << 8, CW_RC = 3u << 10, CW_IC = 1u << 12,
};

// Tag values.
constexpr unsigned TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3;

inline unsigned top(const FpuState& f) { return (f.status >> 11) & 7; }
inline void set_top(FpuState& f, unsigned t) {
  f.status = static_cast<uint16_t>((f.status & ~SW_TOP) | ((t & 7) << 11));
}
inline unsigned tag_of(const FpuState& f, unsigned phys) { return (f.tag >> (2 * phys)) & 3; }
inline void set_tag(FpuState& f, unsigned phys, unsigned t) {
  f.tag = static_cast<uint16_t>((f.tag & ~(3u << (2 * phys))) | ((t & 3) << (2 * phys)));
}
inline bool empty(const FpuState& f, unsigned phys) { return tag_of(f, phys) == TAG_EMPTY; }

// Tag of a value held in a non-empty register: valid, zero or special (NaN,
// infinity, denormal, pseudo-denormal, unnormal and other unsupported forms).
inline unsigned classify(const long double& v) {
  uint64_t m;
  uint16_t se;
  std::memcpy(&m, &v, 8);
  std::memcpy(&se, reinterpret_cast<const uint8_t*>(&v) + 8, 2);
  unsigned e = se & 0x7FFF;
  if (e == 0x7FFF) return TAG_SPECIAL;
  if (e == 0) return m == 0 ? TAG_ZERO : TAG_SPECIAL;
  return (m >> 63) ? TAG_VALID : TAG_SPECIAL;
}

// The full tag word as FNSTENV/FNSAVE store it: empty registers from `f.tag`,
// the others classified from their contents.
uint16_t tag_word(const FpuState& f);
// Recomputes the non-empty tags from the register contents (after FLDENV etc.).
void retag(FpuState& f);
// ES and B follow the unmasked exception flags (as FLDCW/FLDENV/FRSTOR and
// every instruction leave them).
void update_es(FpuState& f);
// FNINIT: CW 037F, SW 0, all empty, pointers cleared. Registers keep contents.
void finit(FpuState& f);
// Power-on state of the P6 (SDM Vol. 3 table 9-1): CW 0040, SW 0, TW 5555,
// registers +0.0, pointers 0.
void power_on(FpuState& f);
// A control word as FLDCW stores it (reserved bits: 6 reads as 1, 7 and 13-15
// as 0).
inline uint16_t sanitize_cw(uint16_t v) { return static_cast<uint16_t>((v & 0x1F3F) | 0x0040); }

// Raw 80-bit register access (10 bytes).
inline void load80(long double& dst, const uint8_t* src) {
  dst = 0.0L;  // clears the 6 padding bytes of the host type
  std::memcpy(&dst, src, 10);
}
inline void store80(uint8_t* dst, const long double& src) { std::memcpy(dst, &src, 10); }

// ---- checks done by the handlers -------------------------------------------
// #NM for an escape opcode (CR0.EM or CR0.TS). Returns false if raised.
bool check_nm(Cpu& c);
// Pending unmasked exception before a waiting instruction: #MF with CR0.NE=1;
// with NE=0 the FERR# path is recorded (fpu.ferr_pending) and the instruction
// proceeds as with IGNNE# asserted. Returns false if #MF was raised.
bool check_pending(Cpu& c);
// After an instruction set new unmasked exceptions: with CR0.NE=0 the P6
// asserts FERR# at the end of that instruction; record it.
void note_new_exceptions(Cpu& c, uint16_t old_status);

// Environment instructions (fpu_env.cpp). `i` must be a memory form.
void fnstenv(Cpu& c, const Insn& i);
void fldenv(Cpu& c, const Insn& i);
void fnsave(Cpu& c, const Insn& i);
void frstor(Cpu& c, const Insn& i);

// ---- host execution core (fpu_host.cpp) -------------------------------------
// Metadata of one host-executed encoding.
struct HostOp {
  uint8_t nread = 0;     // ST(0)..ST(nread-1) are read (fast path needs them valid)
  uint8_t push = 0;      // pushes (fast path needs ST(7) empty)
  uint8_t mem_in = 0;    // bytes read from memory
  uint8_t mem_out = 0;   // bytes stored to memory
  uint16_t cc = 0;       // condition bits the instruction defines (fast path)
  uint8_t eflags_in = 0; // reads CF/PF/ZF (FCMOVcc)
  uint8_t eflags_out = 0;// writes CF/PF/ZF/AF/SF/OF (FCOMI family)
  uint8_t mem_float = 0; // the memory input is a 4/8/10-byte float
  uint8_t full_only = 0; // writes the register it pops: needs the full path
};

struct HostResult {
  FpuState f;               // the new state (C1, TOP, tags, registers, flags)
  uint32_t eflags = 0;      // arithmetic flags after (eflags_out)
  uint8_t mem[16] = {};     // the stored memory operand (mem_out bytes)
  bool store = false;       // memory must be written (no unmasked IE/OE/UE/DE/ZE)
};

// Runs the encoding (`esc` 0..7 for D8..DF, `modrm`: for memory forms only the
// reg field is used) on the host for state `in`, with `eflags` the guest's
// arithmetic flags and `mem` the memory operand (mem_in bytes). Pointers and
// the control word are not changed.
void host_execute(const FpuState& in, uint32_t eflags, unsigned esc, uint8_t modrm,
                  const HostOp& op, const uint8_t* mem, HostResult& out);

// The host metadata of an encoding (`modrm` >= C0h: register form, else the
// memory form of ModRM.reg), or null if it is not executed on the host
// (undefined on the P6, or a control instruction emulated directly).
const HostOp* host_op(unsigned esc, uint8_t modrm);

// Test hooks: force the full (FRSTOR/FNSAVE) path for all threads (this also
// turns off the native register moves); count path use (per thread).
void set_force_full_path(bool on);
bool force_full_path();
struct PathStats {
  uint64_t fast = 0, full = 0;
};
PathStats path_stats();

}  // namespace fpu
}  // namespace faultline
