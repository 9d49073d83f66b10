// Test fixture: a bare CPU over a RAM buffer, in flat 32-bit protected mode
// (or real mode), with helpers to place code and build page tables.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <vector>

#include "core/bus.h"
#include "core/cpu.h"

namespace faultline::testing {

class CpuFixture : public ::testing::Test {
 protected:
  static constexpr uint32_t kRamSize = 8u << 20;
  static constexpr uint32_t kCode = 0x10000;

  CpuFixture() : ram_(kRamSize, 0), cpu_(ram_.data(), ram_.size(), bus_) { flat32(); }

  // Flat 32-bit protected mode, CPL 0, paging off.
  void flat32(uint8_t cpl = 0) {
    cpu_.s.cr0 = CR0_PE | CR0_ET | CR0_NE;
    SegmentCache code;
    code.selector = static_cast<uint16_t>(0x08 | cpl);
    code.limit = 0xFFFFFFFFu;
    code.attr = static_cast<uint16_t>(SEG_P | SEG_S | SEG_CODE | SEG_RW | SEG_ACCESSED | SEG_DB | SEG_G |
                                      (cpl << SEG_DPL_SHIFT));
    code.valid = true;
    SegmentCache data = code;
    data.selector = static_cast<uint16_t>(0x10 | cpl);
    data.attr = static_cast<uint16_t>(SEG_P | SEG_S | SEG_RW | SEG_ACCESSED | SEG_DB | SEG_G |
                                      (cpl << SEG_DPL_SHIFT));
    set_seg(CS, code);
    for (unsigned s : {ES, SS, DS, FS, GS}) set_seg(s, data);
    cpu_.s.cpl = cpl;
    cpu_.s.eip = kCode;
    cpu_.s.gpr[ESP] = 0x80000;
    cpu_.refresh_segments();
    cpu_.flush_tlb(true);
  }

  // Real mode at 0000:kCode-relative addressing: CS=0x1000 so IP=0 is kCode.
  void real_mode() {
    cpu_.s.cr0 = CR0_ET;
    for (unsigned s = 0; s < 6; ++s) {
      SegmentCache c;
      c.selector = s == CS ? static_cast<uint16_t>(kCode >> 4) : 0;
      c.base = s == CS ? kCode : 0;
      c.limit = 0xFFFF;
      c.attr = SEG_P | SEG_S | SEG_RW | SEG_ACCESSED | (s == CS ? SEG_CODE : 0);
      c.valid = true;
      set_seg(s, c);
    }
    cpu_.s.cpl = 0;
    cpu_.s.eip = 0;
    cpu_.s.gpr[ESP] = 0x8000;
    cpu_.refresh_segments();
    cpu_.flush_tlb(true);
  }

  // Sets a segment cache without going through load_seg.
  void set_seg(unsigned s, const SegmentCache& c) {
    cpu_.s.seg[s] = c;
    cpu_.segment_changed(s);
  }

  void code(std::initializer_list<uint8_t> bytes, uint32_t at = kCode) {
    std::memcpy(ram_.data() + at, std::data(bytes), bytes.size());
  }
  void poke32(uint32_t a, uint32_t v) { std::memcpy(ram_.data() + a, &v, 4); }
  uint32_t peek32(uint32_t a) const {
    uint32_t v;
    std::memcpy(&v, ram_.data() + a, 4);
    return v;
  }

  // Identity-maps [0, 8 MiB) with 4 KiB pages (page directory at 0x200000,
  // tables after it), user+writable unless changed with set_pte.
  static constexpr uint32_t kPageDir = 0x200000;
  void identity_paging() {
    for (uint32_t t = 0; t < 2; ++t) {
      uint32_t table = kPageDir + 0x1000 * (t + 1);
      poke32(kPageDir + 4 * t, table | 7);
      for (uint32_t i = 0; i < 1024; ++i) poke32(table + 4 * i, ((t * 1024 + i) << 12) | 7);
    }
    cpu_.s.cr3 = kPageDir;
    cpu_.s.cr0 |= CR0_PG;
    cpu_.flush_tlb(true);
  }
  uint32_t pte_addr(uint32_t lin) const { return kPageDir + 0x1000 * (1 + (lin >> 22)) + 4 * ((lin >> 12) & 0x3FF); }
  void set_pte(uint32_t lin, uint32_t value) {
    poke32(pte_addr(lin), value);
    cpu_.flush_tlb(true);
  }

  StopReason step(uint64_t n = 1) { return cpu_.run(n); }

  std::vector<uint8_t> ram_;
  Bus bus_;
  Cpu cpu_;
};

}  // namespace faultline::testing
