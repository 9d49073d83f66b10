// Random instruction sequences for differential testing against the host CPU.
//
// Design note: the generator knows instructions only through
// core/insn_table.def (expanded with its own OP/GRP macros). Every row that
// can be compared with a 32-bit user-mode process on the host is "eligible";
// a row splits into forms (16/32-bit operand size where the handlers differ;
// x87 rows by ModRM reg field and register/memory operand). A test case is a
// short list of units; a unit is one main instruction of a chosen form plus
// the setup instructions that give it meaningful operands (MOVs that point
// base/index registers into the data pages, a count into ECX, a pushed return
// target ...), followed by the terminator `int 0x80`. Branches only go
// forward to unit starts (or the terminator), so every case terminates.
// Values the instructions need in memory (branch targets, bounds, BCD and
// floating-point operands) are written into the initial memory image.
// Everything is derived from (seed, case index): a case can be regenerated
// on its own.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace faultline::check {

// ---- guest memory layout (same linear addresses natively and simulated) ----
namespace layout {
constexpr uint32_t kCode = 0x0000F000;   // below 64 KiB: 16-bit branches stay inside
constexpr uint32_t kCodeSize = 0x1000;
constexpr uint32_t kLow = 0x00004000;    // data reachable with 16-bit addressing
constexpr uint32_t kLowSize = 0x8000;
constexpr uint32_t kHigh = 0x20000000;   // data
constexpr uint32_t kHighSize = 0x4000;
constexpr uint32_t kStack = 0x30000000;  // stack
constexpr uint32_t kStackSize = 0x2000;
constexpr uint8_t kCodeFill = 0xF4;      // HLT (#GP at CPL 3) after the terminator
}  // namespace layout

struct GuestRegionDesc {
  const char* name;
  uint32_t addr;
  uint32_t size;
  bool writable;
  bool executable;
};
// Code first, then the data regions in the order of TestCase::mem.
const std::array<GuestRegionDesc, 4>& guest_regions();
constexpr uint32_t kDataBytes = layout::kLowSize + layout::kHighSize + layout::kStackSize;

// ---- the instruction table, as rows ------------------------------------------
struct TableRow {
  uint16_t opcode;  // 0x000-0x1FF
  int8_t reg;       // ModRM reg for GRP rows, -1 for OP rows
  const char* name16;
  const char* name32;
  uint16_t decode, attr, uflags;
};
const std::vector<TableRow>& table_rows();

// A form: what the coverage table counts.
struct Form {
  int row = -1;         // index into table_rows()
  int op32 = 2;         // 0: 16-bit operand size, 1: 32-bit, 2: names equal, either
  bool fpu = false;
  bool fpu_mem = false; // x87: memory operand form (else register form)
  uint8_t fpu_reg = 0;  // x87: ModRM reg field
  std::string key;      // e.g. "0F AF IMUL_GdEd", "D9 /5 m FPU_D9"
};

// ---- a generated case ---------------------------------------------------------
struct Patch {
  enum Kind : uint8_t { Rel, AbsImm, AbsMem } kind = Rel;
  uint8_t size = 4;          // bytes of the field
  uint32_t pos = 0;          // Rel/AbsImm: byte index in the unit; AbsMem: guest address
  int target = -1;           // unit index; == units.size(): the terminator
  bool wild = false;         // use wild_value instead (deliberately outside the code)
  uint32_t wild_value = 0;   // Rel: displacement; Abs*: address
};

struct Unit {
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> lens;  // instruction lengths; the last one is the main instruction
  int form = -1;              // index into Generator::forms()
  std::vector<Patch> patches;
};

struct FpuInit {
  uint16_t fcw = 0x037F;
  uint16_t fsw = 0;           // includes TOP
  uint8_t valid = 0;          // bit p: physical register p not empty
  uint8_t st[8][10] = {};     // physical registers R0..R7
};

struct TestCase {
  uint64_t seed = 0;
  uint64_t index = 0;
  std::vector<Unit> units;
  uint32_t gpr[8] = {};
  uint32_t eflags = 0x202;
  FpuInit fpu;
  std::vector<uint8_t> mem;  // initial data: low, high, stack regions concatenated

  // Filled by assemble():
  std::vector<uint8_t> code;          // kCodeSize bytes
  std::vector<uint32_t> insn_off;     // offset of every instruction
  std::vector<int> insn_unit;         // its unit
  std::vector<bool> insn_main;        // main instruction of its unit (not setup)
  uint32_t end_off = 0;               // offset of `int 0x80`

  uint8_t* mem_at(uint32_t addr, uint32_t len);  // nullptr unless inside one data region
};

// Resolves patches, lays out the code page and writes AbsMem patches into mem.
void assemble(TestCase& tc);

struct GenOptions {
  int opcode = -1;         // only forms of this opcode (0x000-0x1FF), -1 = all
  unsigned max_units = 10; // units per case: 1..max_units
};

class Generator {
 public:
  explicit Generator(const GenOptions& opt = {});
  const std::vector<Form>& forms() const { return forms_; }
  // Human-readable list of what is never generated and why.
  const std::vector<std::string>& exclusions() const { return exclusions_; }
  TestCase generate(uint64_t seed, uint64_t index) const;
  const GenOptions& options() const { return opt_; }

 private:
  GenOptions opt_;
  std::vector<Form> forms_;
  std::vector<int> active_;  // forms matching the opcode filter
  std::vector<std::string> exclusions_;
};

// Parses "D8", "0xD8", "0FAF", "0F AF" into 0x0D8 / 0x1AF; -1 on error.
int parse_opcode(const std::string& s);

}  // namespace faultline::check
