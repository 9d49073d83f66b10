// x87 state helpers: tags, status bookkeeping, initialisation, the #NM/#MF
// checks done before an x87 instruction.
#include "core/fpu/fpu.h"

#include "core/cpu.h"

namespace faultline::fpu {

uint16_t tag_word(const FpuState& f) {
  uint16_t tw = 0;
  for (unsigned p = 0; p < 8; ++p) {
    unsigned t = empty(f, p) ? TAG_EMPTY : classify(f.st[p]);
    tw = static_cast<uint16_t>(tw | (t << (2 * p)));
  }
  return tw;
}

void retag(FpuState& f) { f.tag = tag_word(f); }

void update_es(FpuState& f) {
  if (f.status & ~f.control & SW_EXC) f.status |= SW_ES | SW_B;
  else f.status &= static_cast<uint16_t>(~(SW_ES | SW_B));
}

void finit(FpuState& f) {
  f.control = 0x037F;
  f.status = 0;
  f.tag = 0xFFFF;
  f.last_opcode = 0;
  f.last_ip = 0;
  f.last_cs = 0;
  f.last_dp = 0;
  f.last_ds = 0;
}

void power_on(FpuState& f) {
  finit(f);
  f.control = 0x0040;
  f.tag = 0x5555;
  for (auto& r : f.st) r = 0.0L;
  f.ferr_pending = false;
}

bool check_nm(Cpu& c) {
  if (c.s.cr0 & (CR0_EM | CR0_TS)) {
    c.raise(VEC_NM);
    return false;
  }
  return true;
}

bool check_pending(Cpu& c) {
  if (!(c.s.fpu.status & SW_ES)) return true;
  if (c.s.cr0 & CR0_NE) {
    c.raise(VEC_MF);
    return false;
  }
  // MS-DOS compatible reporting: FERR# (IRQ13 on a PC). IGNNE# is taken as
  // asserted, so the instruction executes.
  c.s.fpu.ferr_pending = true;
  return true;
}

void note_new_exceptions(Cpu& c, uint16_t old_status) {
  if ((c.s.fpu.status & SW_ES) && !(old_status & SW_ES) && !(c.s.cr0 & CR0_NE))
    c.s.fpu.ferr_pending = true;
}

}  // namespace faultline::fpu
