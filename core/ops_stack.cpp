// Stack instructions: PUSH/POP (registers, immediates, r/m), PUSHA/POPA,
// ENTER, LEAVE. The stack width (ESP or SP) follows the SS B bit; the pushed
// or popped width follows the operand size.
#include "core/ops_int.h"

namespace faultline {
namespace {

using namespace ops;

FL_INLINE uint32_t stack_mask(const Cpu& c) { return c.stack32() ? 0xFFFFFFFFu : 0xFFFFu; }

// PUSH r/m: an [ESP]-based operand is read with ESP before the decrement.
template <class T> FL_INLINE void push_E(Cpu& c, const Insn& i) {
  with_src<T>(c, i, [](Cpu& c, const Insn&, T v) { c.push<T>(v); });
}

// POP r/m: with an ESP-based memory operand the address is computed after
// ESP is incremented. A fault leaves ESP unchanged.
template <class T> FL_INLINE void pop_E(Cpu& c, const Insn& i) {
  T v = c.peek<T>(0);
  if (c.faulted()) return;
  uint32_t old_esp = c.s.gpr[ESP];
  c.set_sp(c.sp() + sizeof(T));
  if (i.is_reg()) {
    c.set_reg<T>(i.rm, v);
    return;
  }
  c.write<T>(i.seg, c.ea(i), v);
  if (c.faulted()) c.s.gpr[ESP] = old_esp;
}

// PUSHA: AX CX DX BX (original SP) BP SI DI. All eight slots are checked
// before anything is written.
template <class T> FL_INLINE void pusha(Cpu& c) {
  const uint32_t mask = stack_mask(c);
  const uint32_t sp = c.sp();
  T vals[8];
  for (unsigned r = 0; r < 8; ++r) vals[r] = c.reg<T>(r);
  for (unsigned r = 0; r < 8; ++r) {
    if (!c.check_write(SS, (sp - (r + 1) * sizeof(T)) & mask, sizeof(T))) return;
  }
  for (unsigned r = 0; r < 8; ++r) {
    c.write<T>(SS, (sp - (r + 1) * sizeof(T)) & mask, vals[r]);
    if (c.faulted()) return;
  }
  c.set_sp(sp - 8 * sizeof(T));
}

// POPA: DI SI BP (skip) BX DX CX AX.
template <class T> FL_INLINE void popa(Cpu& c) {
  const uint32_t mask = stack_mask(c);
  const uint32_t sp = c.sp();
  T vals[8];
  for (unsigned k = 0; k < 8; ++k) {
    vals[7 - k] = c.read<T>(SS, (sp + k * sizeof(T)) & mask);
    if (c.faulted()) return;
  }
  for (unsigned r = 0; r < 8; ++r) {
    if (r != ESP) c.set_reg<T>(r, vals[r]);
  }
  c.set_sp(sp + 8 * sizeof(T));
}

// ENTER imm16, imm8: push (E)BP, copy level-1 frame pointers from the old
// frame, push the new frame pointer, (E)BP = frame, (E)SP -= size.
// Nothing is committed before every access has succeeded: the pushes are
// write-checked in the hardware's order (so the first fault is the one the
// hardware reports) and buffered; the frame-pointer reads see the buffered
// pushes that precede them, as they would with the hardware's interleaving
// of reads and writes. Finally a write at the final stack pointer is checked.
template <class T> FL_NOINLINE void enter(Cpu& c, const Insn& i) {
  constexpr uint32_t kSz = sizeof(T);
  const uint32_t mask = stack_mask(c);
  const uint32_t alloc = i.imm & 0xFFFF;
  const unsigned level = i.imm2 & 0x1F;
  uint32_t sp = c.sp();
  T vals[33];
  uint32_t addrs[33];
  unsigned n = 0;
  auto push_checked = [&](T v) {
    sp = (sp - kSz) & mask;
    if (!c.check_write(SS, sp, kSz)) return false;
    addrs[n] = sp;
    vals[n++] = v;
    return true;
  };
  // A read of [bp] as it would be after the buffered pushes.
  auto read_through = [&](uint32_t bp, T& out) {
    T v = c.read<T>(SS, bp);
    if (c.faulted()) return false;
    for (unsigned k = 0; k < n; ++k) {
      for (uint32_t b = 0; b < kSz; ++b) {
        uint32_t rel = (((bp + b) & mask) - addrs[k]) & mask;
        if (rel < kSz) {
          const T byte = static_cast<T>((vals[k] >> (8 * rel)) & 0xFF);
          v = static_cast<T>((v & ~(T(0xFF) << (8 * b))) | (byte << (8 * b)));
        }
      }
    }
    out = v;
    return true;
  };
  if (!push_checked(c.reg<T>(EBP))) return;
  const uint32_t frame = sp;
  if (level > 0) {
    uint32_t bp = c.reg<uint32_t>(EBP) & mask;
    for (unsigned k = 1; k < level; ++k) {
      bp = (bp - kSz) & mask;
      T v;
      if (!read_through(bp, v)) return;
      if (!push_checked(v)) return;
    }
    if (!push_checked(static_cast<T>(frame))) return;
  }
  const uint32_t final_sp = (sp - alloc) & mask;
  if (!c.check_write(SS, final_sp, kSz)) return;
  for (unsigned k = 0; k < n; ++k) {
    c.write<T>(SS, addrs[k], vals[k]);
    if (c.faulted()) return;
  }
  c.set_reg<T>(EBP, static_cast<T>(frame));
  c.set_sp(final_sp);
}

// LEAVE: (E)SP = (E)BP (stack width), then pop (E)BP (operand size).
template <class T> FL_INLINE void leave(Cpu& c) {
  const uint32_t bp = c.reg<uint32_t>(EBP) & stack_mask(c);
  T v = c.read<T>(SS, bp);
  if (c.faulted()) return;
  c.set_sp(bp + sizeof(T));
  c.set_reg<T>(EBP, v);
}

}  // namespace

// PUSH reg: PUSH (E)SP pushes the value before the decrement.
void PUSH_RX(Cpu& c, const Insn& i) { c.push<uint16_t>(c.reg<uint16_t>(i.opcode & 7)); }
void PUSH_ERX(Cpu& c, const Insn& i) { c.push<uint32_t>(c.reg<uint32_t>(i.opcode & 7)); }

// POP reg: POP (E)SP loads the popped value (the increment is overridden).
void POP_RX(Cpu& c, const Insn& i) {
  uint16_t v = c.pop<uint16_t>();
  if (!c.faulted()) c.set_reg<uint16_t>(i.opcode & 7, v);
}
void POP_ERX(Cpu& c, const Insn& i) {
  uint32_t v = c.pop<uint32_t>();
  if (!c.faulted()) c.set_reg<uint32_t>(i.opcode & 7, v);
}

void PUSH_Iw(Cpu& c, const Insn& i) { c.push<uint16_t>(static_cast<uint16_t>(i.imm)); }
void PUSH_Id(Cpu& c, const Insn& i) { c.push<uint32_t>(i.imm); }
void PUSH_sIb16(Cpu& c, const Insn& i) { c.push<uint16_t>(simm8<uint16_t>(i)); }
void PUSH_sIb32(Cpu& c, const Insn& i) { c.push<uint32_t>(simm8<uint32_t>(i)); }

void PUSH_Ew(Cpu& c, const Insn& i) { push_E<uint16_t>(c, i); }
void PUSH_Ed(Cpu& c, const Insn& i) { push_E<uint32_t>(c, i); }
void POP_Ew(Cpu& c, const Insn& i) { pop_E<uint16_t>(c, i); }
void POP_Ed(Cpu& c, const Insn& i) { pop_E<uint32_t>(c, i); }

void PUSHA16(Cpu& c, const Insn&) { pusha<uint16_t>(c); }
void PUSHA32(Cpu& c, const Insn&) { pusha<uint32_t>(c); }
void POPA16(Cpu& c, const Insn&) { popa<uint16_t>(c); }
void POPA32(Cpu& c, const Insn&) { popa<uint32_t>(c); }

void ENTER16(Cpu& c, const Insn& i) { enter<uint16_t>(c, i); }
void ENTER32(Cpu& c, const Insn& i) { enter<uint32_t>(c, i); }
void LEAVE16(Cpu& c, const Insn&) { leave<uint16_t>(c); }
void LEAVE32(Cpu& c, const Insn&) { leave<uint32_t>(c); }

}  // namespace faultline
