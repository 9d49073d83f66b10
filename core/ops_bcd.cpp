// BCD adjustments: DAA DAS AAA AAS AAM AAD, following the Intel SDM
// pseudo-code (AAA/AAS as on P6 and later: AX +/- 6 carries into AH).
//
// Undefined flags, as Intel hardware produces them (checked against the
// host): DAA/DAS clear OF; AAA/AAS set SF ZF PF from the final AL and clear
// OF; AAM clears OF AF CF; AAD sets OF AF CF as the 8-bit addition
// AL + AH * imm8 that it performs.
#include "core/ops_int.h"

namespace faultline {

using namespace ops;

void DAA(Cpu& c, const Insn&) {
  const uint8_t old_al = c.reg<uint8_t>(EAX);
  const bool old_cf = c.cf();
  uint8_t al = old_al;
  bool cf = false, af = false;
  if ((al & 0x0F) > 9 || c.af()) {
    cf = old_cf || al > 0xF9;
    al = uint8_t(al + 6);
    af = true;
  }
  if (old_al > 0x99 || old_cf) {
    al = uint8_t(al + 0x60);
    cf = true;
  } else {
    cf = false;
  }
  c.set_reg<uint8_t>(EAX, al);
  c.set_arith_flags(szp(al) | flag_if(cf, FLAG_CF) | flag_if(af, FLAG_AF));
}

void DAS(Cpu& c, const Insn&) {
  const uint8_t old_al = c.reg<uint8_t>(EAX);
  const bool old_cf = c.cf();
  uint8_t al = old_al;
  bool cf = false, af = false;
  if ((al & 0x0F) > 9 || c.af()) {
    cf = old_cf || al < 6;
    al = uint8_t(al - 6);
    af = true;
  }
  if (old_al > 0x99 || old_cf) {
    al = uint8_t(al - 0x60);
    cf = true;
  }
  c.set_reg<uint8_t>(EAX, al);
  c.set_arith_flags(szp(al) | flag_if(cf, FLAG_CF) | flag_if(af, FLAG_AF));
}

void AAA(Cpu& c, const Insn&) {
  uint16_t ax = c.reg<uint16_t>(EAX);
  bool adj = (ax & 0x0F) > 9 || c.af();
  if (adj) ax = uint16_t(ax + 0x106);
  ax &= 0xFF0F;
  c.set_reg<uint16_t>(EAX, ax);
  c.set_arith_flags(szp(uint8_t(ax)) | flag_if(adj, FLAG_AF | FLAG_CF));
}

void AAS(Cpu& c, const Insn&) {
  uint16_t ax = c.reg<uint16_t>(EAX);
  bool adj = (ax & 0x0F) > 9 || c.af();
  if (adj) ax = uint16_t(uint16_t(ax - 6) - 0x100);
  ax &= 0xFF0F;
  c.set_reg<uint16_t>(EAX, ax);
  c.set_arith_flags(szp(uint8_t(ax)) | flag_if(adj, FLAG_AF | FLAG_CF));
}

// AAM imm8: AH = AL / imm8, AL = AL % imm8; imm8 = 0 raises #DE.
void AAM(Cpu& c, const Insn& i) {
  const uint8_t base = uint8_t(i.imm);
  if (base == 0) {
    c.raise(VEC_DE);
    return;
  }
  const uint8_t al = c.reg<uint8_t>(EAX);
  const uint8_t q = al / base, r = al % base;
  c.set_reg<uint16_t>(EAX, uint16_t((q << 8) | r));
  c.set_arith_flags(szp(r));
}

// AAD imm8: AL = AL + AH * imm8, AH = 0.
void AAD(Cpu& c, const Insn& i) {
  const uint8_t al = c.reg<uint8_t>(EAX);
  const uint8_t prod = uint8_t(c.reg<uint8_t>(4) * uint8_t(i.imm));
  const uint8_t r = uint8_t(al + prod);
  c.set_reg<uint16_t>(EAX, r);
  c.set_arith_flags(add_flags<uint8_t>(al, prod, r, r < al));
}

}  // namespace faultline
