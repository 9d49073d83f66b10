// A decoded instruction and the instruction-table metadata.
//
// Design note: the decoder turns guest bytes into an `Insn` once; the
// interpreter's decoded-instruction cache keeps `Insn`s keyed by physical
// address so hot code is decoded only once. Everything a handler needs is in
// the `Insn`: the effective operand/address size, the resolved default
// segment, the ModRM fields split out, immediates and the handler pointer.
#pragma once

#include <cstdint>

namespace faultline {

class Cpu;
struct Insn;
using Handler = void (*)(Cpu&, const Insn&);

// Decode flags: which bytes follow the opcode.
enum : uint16_t {
  D_MODRM = 1u << 0,
  D_IMM8 = 1u << 1,
  D_IMM16 = 1u << 2,
  D_IMMZ = 1u << 3,    // 16 or 32 bits by operand size
  D_MOFFS = 1u << 4,   // 16 or 32 bits by address size
  D_FAR = 1u << 5,     // ptr16:16 or ptr16:32
  D_IMM8_2 = 1u << 6,  // a second, 8-bit immediate (ENTER)
};

// Attributes: how the JIT and the differential tester treat the instruction.
enum : uint16_t {
  A_LOCK = 1u << 0,     // LOCK allowed with a memory destination
  A_BRANCH = 1u << 1,   // changes EIP other than by falling through
  A_SYS = 1u << 2,      // reads or writes system state (call into simulator)
  A_PRIV = 1u << 3,     // privileged (CPL 0 only)
  A_IO = 1u << 4,       // port I/O
  A_FPU = 1u << 5,      // x87
  A_STRING = 1u << 6,   // string instruction, REP prefixes apply
  A_SEGLOAD = 1u << 7,  // loads or stores a segment register
  A_SHIFT = 1u << 8,    // flags depend on the shift/rotate count
  A_NOCHECK = 1u << 9,  // not comparable natively (raises #UD by design)
};

// Undefined-flag masks (EFLAGS bit positions).
enum : uint16_t {
  U_CF = 1u << 0, U_PF = 1u << 2, U_AF = 1u << 4, U_ZF = 1u << 6,
  U_SF = 1u << 7, U_OF = 1u << 11,
  U_ALL = U_CF | U_PF | U_AF | U_ZF | U_SF | U_OF,
  // Shifts: AF always, OF when count > 1, CF when count >= operand size; the
  // differential tester refines this per executed count.
  U_SHIFT = 1u << 15,
};

struct InsnInfo {
  const char* name16 = nullptr;
  const char* name32 = nullptr;
  Handler h16 = nullptr;
  Handler h32 = nullptr;
  uint16_t decode = 0;
  uint16_t attr = 0;
  uint16_t undefined_flags = 0;
  bool defined = false;
};

// Prefix flags recorded in Insn::prefixes.
enum : uint8_t {
  P_LOCK = 1u << 0,
  P_REP = 1u << 1,    // F3
  P_REPNE = 1u << 2,  // F2
  P_OPSIZE = 1u << 3, // 66 seen
  P_ADSIZE = 1u << 4, // 67 seen
  P_SEG = 1u << 5,    // a segment override was given
};

struct Insn {
  Handler handler = nullptr;
  const InsnInfo* info = nullptr;
  uint32_t disp = 0;
  uint32_t imm = 0;
  uint32_t imm2 = 0;     // selector of far pointers, ENTER's nesting level
  uint16_t opcode = 0;   // 0x000-0x1FF
  uint8_t len = 0;
  uint8_t prefixes = 0;
  uint8_t op32 = 0;      // effective operand size is 32 bits
  uint8_t ad32 = 0;      // effective address size is 32 bits
  uint8_t seg = 0;       // segment of the memory operand (override or default)
  uint8_t modrm = 0;
  uint8_t mod = 0, reg = 0, rm = 0;
  uint8_t base = 0xFF;   // base register or 0xFF
  uint8_t index = 0xFF;  // index register or 0xFF
  uint8_t scale = 0;
  bool is_reg() const { return mod == 3; }
};

enum class DecodeStatus : uint8_t { Ok, Undefined, TooLong, NeedMoreBytes };

// Decodes one instruction from `bytes` (up to `avail` bytes; an instruction is
// at most 15 bytes). `code32` is the D bit of CS.
DecodeStatus decode(const uint8_t* bytes, unsigned avail, bool code32, Insn& out);

// The table row for an opcode (and ModRM reg for group opcodes).
const InsnInfo& insn_info(uint16_t opcode, uint8_t reg);
bool insn_is_group(uint16_t opcode);

}  // namespace faultline
