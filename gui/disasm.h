// Disassembly of guest code for the inspection view (Zydis, Intel syntax).
//
// Design note: guest bytes are read through the page tables like the CPU
// would fetch them (Cpu::translate_debug, then physical reads), so the
// listing follows paging. x86 cannot be decoded backwards, so "around EIP"
// starts at the symbol containing EIP when that is near (the listing then
// lines up with real instruction boundaries), else at EIP itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/boot/elf_image.h"
#include "core/cpu.h"

namespace faultline::gui {

struct DisasmLine {
  uint32_t address = 0;   // linear
  std::string bytes;      // hex
  std::string text;       // "mov eax, [ebx+0x4]" or "(not mapped)" / "(bad)"
  std::string symbol;     // "name+0x12" when the kernel has symbols
  bool current = false;   // at EIP
};

// `count` instructions starting at linear address `start` (32-bit code).
std::vector<DisasmLine> disassemble(const Cpu& cpu, uint32_t start, int count, const SymbolTable* symbols);
// About `before` instructions before EIP and `after` from it.
std::vector<DisasmLine> disassemble_around_eip(const Cpu& cpu, int before, int after, const SymbolTable* symbols);
// "name+0x12" for an address inside a symbol, "" otherwise.
std::string symbolize(uint32_t address, const SymbolTable* symbols);

}  // namespace faultline::gui
