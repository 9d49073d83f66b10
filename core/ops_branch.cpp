// Near branches: Jcc, JMP, CALL, RET (near), LOOP/LOOPE/LOOPNE/JCXZ.
//
// With 16-bit operand size the target is truncated to 16 bits. A target
// beyond the CS limit raises #GP(0) before anything is committed (CALL pushes
// nothing, RET pops nothing, LOOP leaves the counter).
#include "core/ops_int.h"

namespace faultline {
namespace {

using namespace ops;

template <bool OP32> FL_INLINE uint32_t rel_target(const Cpu& c, int32_t disp) {
  uint32_t t = c.next_eip + static_cast<uint32_t>(disp);
  return OP32 ? t : (t & 0xFFFF);
}

template <bool OP32> FL_INLINE void jump_rel(Cpu& c, int32_t disp) {
  uint32_t t = rel_target<OP32>(c, disp);
  if (branch_ok(c, t)) c.next_eip = t;
}

template <class T> FL_INLINE void call_to(Cpu& c, uint32_t target) {
  if (!branch_ok(c, target)) return;
  c.push<T>(static_cast<T>(c.next_eip));
  if (c.faulted()) return;
  c.next_eip = target;
}

template <class T> FL_INLINE void ret_near(Cpu& c, uint32_t extra) {
  T t = c.peek<T>(0);
  if (c.faulted()) return;
  if (!branch_ok(c, t)) return;
  c.set_sp(c.sp() + sizeof(T) + extra);
  c.next_eip = t;
}

enum class Loop : uint8_t { Loop, LoopE, LoopNE };

template <Loop K, bool OP32> FL_INLINE void loop(Cpu& c, const Insn& i) {
  uint32_t cnt = (i.ad32 ? c.s.gpr[ECX] : (c.s.gpr[ECX] & 0xFFFF)) - 1;
  if (!i.ad32) cnt &= 0xFFFF;
  bool take = cnt != 0;
  if constexpr (K == Loop::LoopE) take = take && c.zf();
  if constexpr (K == Loop::LoopNE) take = take && !c.zf();
  if (take) {
    uint32_t t = rel_target<OP32>(c, int8_t(i.imm));
    if (!branch_ok(c, t)) return;
    c.next_eip = t;
  }
  if (i.ad32) c.s.gpr[ECX] = cnt;
  else c.set_reg<uint16_t>(ECX, static_cast<uint16_t>(cnt));
}

template <bool OP32> FL_INLINE void jcxz(Cpu& c, const Insn& i) {
  uint32_t cnt = i.ad32 ? c.s.gpr[ECX] : (c.s.gpr[ECX] & 0xFFFF);
  if (cnt == 0) jump_rel<OP32>(c, int8_t(i.imm));
}

// Jcc with the condition as a constant, so that Cpu::cond folds to the few
// tests that condition needs. DISP: the immediate's width (8, 16, 32).
template <unsigned CC, bool OP32, int DISP> [[gnu::flatten, gnu::noinline]] void jcc(Cpu& c, const Insn& i) {
  if (!c.cond(CC)) return;
  int32_t d = DISP == 8 ? int32_t(int8_t(i.imm)) : DISP == 16 ? int32_t(int16_t(i.imm)) : int32_t(i.imm);
  jump_rel<OP32>(c, d);
}

template <bool OP32, int DISP> FL_INLINE void jcc_dispatch(Cpu& c, const Insn& i) {
  cc_dispatch(i.opcode, [&](auto cc) { jcc<decltype(cc)::value, OP32, DISP>(c, i); });
}

}  // namespace

// ---- Jcc --------------------------------------------------------------------
void JCC_Jb16(Cpu& c, const Insn& i) { jcc_dispatch<false, 8>(c, i); }
void JCC_Jb32(Cpu& c, const Insn& i) { jcc_dispatch<true, 8>(c, i); }
void JCC_Jw(Cpu& c, const Insn& i) { jcc_dispatch<false, 16>(c, i); }
void JCC_Jd(Cpu& c, const Insn& i) { jcc_dispatch<true, 32>(c, i); }

// ---- JMP --------------------------------------------------------------------
void JMP_Jb16(Cpu& c, const Insn& i) { jump_rel<false>(c, int8_t(i.imm)); }
void JMP_Jb32(Cpu& c, const Insn& i) { jump_rel<true>(c, int8_t(i.imm)); }
void JMP_Jw(Cpu& c, const Insn& i) { jump_rel<false>(c, int16_t(i.imm)); }
void JMP_Jd(Cpu& c, const Insn& i) { jump_rel<true>(c, int32_t(i.imm)); }
void JMP_Ew(Cpu& c, const Insn& i) {
  with_src<uint16_t>(c, i, [](Cpu& c, const Insn&, uint16_t t) {
    if (branch_ok(c, t)) c.next_eip = t;
  });
}
void JMP_Ed(Cpu& c, const Insn& i) {
  with_src<uint32_t>(c, i, [](Cpu& c, const Insn&, uint32_t t) {
    if (branch_ok(c, t)) c.next_eip = t;
  });
}

// ---- CALL -------------------------------------------------------------------
void CALL_Jw(Cpu& c, const Insn& i) { call_to<uint16_t>(c, rel_target<false>(c, int16_t(i.imm))); }
void CALL_Jd(Cpu& c, const Insn& i) { call_to<uint32_t>(c, rel_target<true>(c, int32_t(i.imm))); }
void CALL_Ew(Cpu& c, const Insn& i) {
  with_src<uint16_t>(c, i, [](Cpu& c, const Insn&, uint16_t t) { call_to<uint16_t>(c, t); });
}
void CALL_Ed(Cpu& c, const Insn& i) {
  with_src<uint32_t>(c, i, [](Cpu& c, const Insn&, uint32_t t) { call_to<uint32_t>(c, t); });
}

// ---- RET near ---------------------------------------------------------------
void RETN16(Cpu& c, const Insn&) { ret_near<uint16_t>(c, 0); }
void RETN32(Cpu& c, const Insn&) { ret_near<uint32_t>(c, 0); }
void RETN16_Iw(Cpu& c, const Insn& i) { ret_near<uint16_t>(c, i.imm & 0xFFFF); }
void RETN32_Iw(Cpu& c, const Insn& i) { ret_near<uint32_t>(c, i.imm & 0xFFFF); }

// ---- LOOP / JCXZ: counter by address size, target by operand size -----------
void LOOP16(Cpu& c, const Insn& i) { loop<Loop::Loop, false>(c, i); }
void LOOP32(Cpu& c, const Insn& i) { loop<Loop::Loop, true>(c, i); }
void LOOPE16(Cpu& c, const Insn& i) { loop<Loop::LoopE, false>(c, i); }
void LOOPE32(Cpu& c, const Insn& i) { loop<Loop::LoopE, true>(c, i); }
void LOOPNE16(Cpu& c, const Insn& i) { loop<Loop::LoopNE, false>(c, i); }
void LOOPNE32(Cpu& c, const Insn& i) { loop<Loop::LoopNE, true>(c, i); }
void JCXZ16(Cpu& c, const Insn& i) { jcxz<false>(c, i); }
void JCXZ32(Cpu& c, const Insn& i) { jcxz<true>(c, i); }

}  // namespace faultline
