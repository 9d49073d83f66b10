// Declarations of every instruction handler named in insn_table.def.
// Handlers are defined in the ops_*.cpp files by topic and in fpu/.
#pragma once

#include "core/insn.h"

namespace faultline {

#define OP(opcode, h16, h32, decode, attr, uflags) \
  void h16(Cpu&, const Insn&);                      \
  void h32(Cpu&, const Insn&);
#define GRP(opcode, reg, h16, h32, decode, attr, uflags) OP(opcode, h16, h32, decode, attr, uflags)
#include "core/insn_table.def"
#undef OP
#undef GRP

}  // namespace faultline
