// CPU architectural state of the simulated i686.
//
// Design note: this is one plain struct with fixed offsets so the JIT, the
// fault injector and snapshots can read and write it directly. Arithmetic
// flags are kept lazily (the last flag-producing operation and its operands)
// because most flag results are never read; `Cpu::eflags()` materialises the
// architectural value at any time. Segment registers carry their hidden
// descriptor cache exactly as the hardware does, so real mode, protected mode
// and virtual-8086 mode all address memory through base/limit/attributes.
#pragma once

#include <array>
#include <cstdint>

namespace faultline {

enum Reg : uint8_t { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
enum SegReg : uint8_t { ES, CS, SS, DS, FS, GS, SEG_NONE = 7 };

// EFLAGS bits.
enum : uint32_t {
  FLAG_CF = 1u << 0,
  FLAG_PF = 1u << 2,
  FLAG_AF = 1u << 4,
  FLAG_ZF = 1u << 6,
  FLAG_SF = 1u << 7,
  FLAG_TF = 1u << 8,
  FLAG_IF = 1u << 9,
  FLAG_DF = 1u << 10,
  FLAG_OF = 1u << 11,
  FLAG_IOPL = 3u << 12,
  FLAG_NT = 1u << 14,
  FLAG_RF = 1u << 16,
  FLAG_VM = 1u << 17,
  FLAG_AC = 1u << 18,
  FLAG_VIF = 1u << 19,
  FLAG_VIP = 1u << 20,
  FLAG_ID = 1u << 21,
  FLAGS_ARITH = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF,
};

// CR0/CR4 bits.
enum : uint32_t {
  CR0_PE = 1u << 0, CR0_MP = 1u << 1, CR0_EM = 1u << 2, CR0_TS = 1u << 3,
  CR0_ET = 1u << 4, CR0_NE = 1u << 5, CR0_WP = 1u << 16, CR0_AM = 1u << 18,
  CR0_NW = 1u << 29, CR0_CD = 1u << 30, CR0_PG = 1u << 31,
  CR4_VME = 1u << 0, CR4_PVI = 1u << 1, CR4_TSD = 1u << 2, CR4_DE = 1u << 3,
  CR4_PSE = 1u << 4, CR4_PAE = 1u << 5, CR4_MCE = 1u << 6, CR4_PGE = 1u << 7,
  CR4_PCE = 1u << 8,
};

// Descriptor attribute layout in SegmentCache::attr: bits 0-7 are the access
// byte (type, S, DPL, P), bits 12-15 the flags nibble (AVL, L, D/B, G), as in
// bytes 5 and 6 of a descriptor.
enum : uint16_t {
  SEG_ACCESSED = 1u << 0,
  SEG_RW = 1u << 1,        // data: writable, code: readable
  SEG_DC = 1u << 2,        // data: expand-down, code: conforming
  SEG_CODE = 1u << 3,
  SEG_S = 1u << 4,         // code/data (1) or system (0)
  SEG_DPL_SHIFT = 5,
  SEG_P = 1u << 7,
  SEG_DB = 1u << 14,
  SEG_G = 1u << 15,
};

struct SegmentCache {
  uint16_t selector = 0;
  uint16_t attr = 0;
  uint32_t base = 0;
  uint32_t limit = 0;  // byte-granular effective limit
  bool valid = false;  // false for a null selector in protected mode
  uint8_t dpl() const { return (attr >> SEG_DPL_SHIFT) & 3; }
};

struct TableRegister {
  uint32_t base = 0;
  uint32_t limit = 0;
};

// x87 state. The host's 80-bit long double is the same format as the guest's
// register stack, so values are kept in their native representation.
struct FpuState {
  long double st[8] = {};   // physical registers R0..R7 (not stack-relative)
  uint16_t control = 0x037F;
  uint16_t status = 0;      // TOP lives in bits 11-13
  uint16_t tag = 0xFFFF;    // 2 bits per physical register, 11 = empty
  uint16_t last_opcode = 0; // 11-bit opcode of the last non-control instruction
  uint32_t last_ip = 0;
  uint16_t last_cs = 0;
  uint32_t last_dp = 0;
  uint16_t last_ds = 0;
  // FERR# was asserted (an unmasked x87 exception with CR0.NE=0, the PC's
  // IRQ13 path). Set by the FPU; the platform clears it when it raises IRQ13.
  bool ferr_pending = false;
};

// Lazy arithmetic flag kinds. `None` means EFLAGS holds the arithmetic bits.
enum class LazyOp : uint8_t { None, Add, Sub, Logic, Inc, Dec };

struct CpuState {
  uint32_t gpr[8] = {};
  uint32_t eip = 0;
  uint32_t eflags_bits = 0x2;  // architectural bits; arithmetic ones stale if lazy
  // Lazy flags: result and operands of the last flag-setting op.
  uint32_t lf_res = 0, lf_dst = 0, lf_src = 0;
  LazyOp lf_op = LazyOp::None;
  uint8_t lf_size = 4;     // operand size in bytes of the lazy op
  uint8_t lf_cf = 0;       // carry preserved across INC/DEC
  uint8_t cpl = 0;

  SegmentCache seg[6];
  TableRegister gdtr, idtr;
  SegmentCache ldtr, tr;  // tr.attr type distinguishes 16/32-bit busy TSS

  uint32_t cr0 = CR0_ET | CR0_CD | CR0_NW, cr2 = 0, cr3 = 0, cr4 = 0;
  uint32_t dr[8] = {0, 0, 0, 0, 0xFFFF0FF0, 0x400, 0xFFFF0FF0, 0x400};
  FpuState fpu;

  uint64_t tsc_offset = 0;         // TSC = retired instructions * rate + offset
  uint64_t msr_sysenter_cs = 0, msr_sysenter_esp = 0, msr_sysenter_eip = 0;
  uint64_t msr_apic_base = 0xFEE00900;
  uint64_t msr_misc_enable = 0;
  std::array<uint64_t, 16> msr_mtrr_var{};
  std::array<uint64_t, 11> msr_mtrr_fixed{};
  uint64_t msr_mtrr_def_type = 0;
  uint64_t msr_pat = 0x0007040600070406ull;
  bool a20_enabled = true;
  bool halted = false;
  // Interrupt shadow after MOV SS / POP SS / STI: set for one instruction.
  bool inhibit_interrupts = false;
};

}  // namespace faultline
