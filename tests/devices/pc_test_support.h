// Helpers for the platform tests: guest code in a real Machine in flat
// 32-bit protected mode (as tests/core/cpu_fixture.h sets up a bare CPU).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/cpu.h"
#include "core/machine.h"

namespace faultline::pc_test {

// Flat 32-bit ring-0 protected mode, paging and interrupts off, at `eip`,
// with a GDT at 0x1000 (0x08 code, 0x10 data) for interrupt delivery.
inline void enter_flat32(Machine& m, uint32_t eip, uint32_t esp = 0x80000) {
  Cpu& cpu = m.cpu();
  const uint64_t gdt[3] = {0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull};
  cpu.write_phys(0x1000, gdt, sizeof gdt);
  cpu.s.gdtr = {0x1000, sizeof gdt - 1};
  cpu.s.cr0 = CR0_PE | CR0_ET | CR0_NE;
  SegmentCache code;
  code.selector = 0x08;
  code.limit = 0xFFFFFFFFu;
  code.attr = SEG_P | SEG_S | SEG_CODE | SEG_RW | SEG_ACCESSED | SEG_DB | SEG_G;
  code.valid = true;
  SegmentCache data = code;
  data.selector = 0x10;
  data.attr = SEG_P | SEG_S | SEG_RW | SEG_ACCESSED | SEG_DB | SEG_G;
  cpu.set_seg_cache(CS, code);
  for (unsigned s : {ES, SS, DS, FS, GS}) cpu.set_seg_cache(s, data);
  cpu.set_cpl(0);
  cpu.s.eip = eip;
  cpu.s.gpr[ESP] = esp;
  cpu.write_eflags(0x2, 0xFFFFFFFFu);
  cpu.refresh_segments();
  cpu.flush_tlb(true);
}

inline void poke(Machine& m, uint32_t at, const std::vector<uint8_t>& bytes) {
  m.cpu().write_phys(at, bytes.data(), bytes.size());
}
inline uint32_t peek32(Machine& m, uint32_t at) {
  uint32_t v = 0;
  m.cpu().read_phys(at, &v, 4);
  return v;
}

// An IDT at `idt` whose vector `vector` is a 32-bit interrupt gate to
// `handler` in selector 0x08; loads IDTR (limit covers 256 entries).
inline void set_interrupt_gate(Machine& m, uint32_t idt, uint8_t vector, uint32_t handler) {
  uint8_t gate[8] = {static_cast<uint8_t>(handler), static_cast<uint8_t>(handler >> 8), 0x08, 0x00, 0x00, 0x8E,
                     static_cast<uint8_t>(handler >> 16), static_cast<uint8_t>(handler >> 24)};
  m.cpu().write_phys(idt + 8u * vector, gate, 8);
  m.cpu().s.idtr = {idt, 0x7FF};
}

}  // namespace faultline::pc_test
