// FaultSpace: size arithmetic, deterministic at(), seeded plan(), errors.
#include <gtest/gtest.h>

#include <bit>
#include <set>
#include <stdexcept>

#include "faults/fault_space.h"

namespace faultline::faults {
namespace {

pb::FaultGroup memory_group(uint64_t start, uint64_t end, uint32_t width) {
  pb::FaultGroup g;
  g.set_name("mem");
  auto* ms = g.mutable_target()->mutable_memory();
  ms->mutable_physical()->set_start(start);
  ms->mutable_physical()->set_end(end);
  ms->set_width(width);
  g.mutable_model()->mutable_bit_flip()->set_bits(1);
  auto* r = g.mutable_trigger()->mutable_instructions();
  r->set_start(0);
  r->set_end(100);
  r->set_step(10);
  return g;
}

pb::FaultGroup register_group() {
  pb::FaultGroup g;
  g.set_name("regs");
  for (const char* n : {"eax", "eflags", "cs", "st0"}) g.mutable_target()->mutable_registers()->add_names(n);
  g.mutable_model()->mutable_stuck_at()->set_value(1);
  auto* pc = g.mutable_trigger()->mutable_pc();
  pc->set_address(0x10000);
  pc->mutable_occurrences()->set_start(1);
  pc->mutable_occurrences()->set_end(4);
  return g;
}

GoldenInfo golden() {
  GoldenInfo gi;
  gi.end_instruction = 1000;
  gi.end_time_ns = 10000;
  gi.ram_bytes = 32u << 20;
  return gi;
}

TEST(FaultSpace, SizeArithmetic) {
  pb::Campaign c;
  *c.add_fault_space() = memory_group(0x1000, 0x1010, 2);  // 8 cells x 16 bits x 10 points
  *c.add_fault_space() = register_group();                 // (32+18+16+64) bits x 3 occurrences
  FaultSpace fs(c, golden());
  EXPECT_EQ(fs.size(), 8u * 16 * 10 + (32u + 18 + 16 + 64) * 3);
}

TEST(FaultSpace, SetAndRandomHaveNoBitDimensionAndEndZeroIsGoldenEnd) {
  pb::Campaign c;
  auto g = memory_group(0x2000, 0x2008, 4);
  g.mutable_model()->mutable_set_value()->set_value(0xdeadbeef);
  g.mutable_trigger()->mutable_instructions()->set_end(0);  // golden end: 1000
  g.mutable_trigger()->mutable_instructions()->set_step(100);
  *c.add_fault_space() = g;
  pb::FaultGroup r;
  r.mutable_target()->mutable_registers()->add_names("gpr");
  r.mutable_model()->mutable_random_value();
  *c.add_fault_space() = r;  // no trigger: one point
  FaultSpace fs(c, golden());
  EXPECT_EQ(fs.size(), 2u * 10 + 8u);
  pb::Fault f = fs.at(0);
  EXPECT_EQ(f.physical_address(), 0x2000u);
  EXPECT_EQ(f.bit_mask(), 0xFFFFFFFFu);
  EXPECT_EQ(f.trigger().instruction(), 0u);
  pb::Fault last_mem = fs.at(19);
  EXPECT_EQ(last_mem.physical_address(), 0x2004u);
  EXPECT_EQ(last_mem.trigger().instruction(), 900u);
  pb::Fault reg = fs.at(20 + 3);
  EXPECT_EQ(reg.register_name(), "ebx");
  EXPECT_EQ(reg.trigger().kind_case(), pb::Trigger::KIND_NOT_SET);
  EXPECT_TRUE(reg.model().has_random_value());
  EXPECT_NE(fs.at(20).random_seed(), fs.at(21).random_seed());
}

TEST(FaultSpace, AtDecodesTargetBitAndTrigger) {
  pb::Campaign c;
  *c.add_fault_space() = memory_group(0x1000, 0x1010, 2);
  *c.add_fault_space() = register_group();
  FaultSpace fs(c, golden());
  // Memory group: index = (cell * 16 + bit) * 10 + point.
  pb::Fault f = fs.at((3 * 16 + 9) * 10 + 4);
  EXPECT_EQ(f.group(), "mem");
  EXPECT_EQ(f.physical_address(), 0x1006u);
  EXPECT_EQ(f.width(), 2u);
  EXPECT_EQ(f.bit_mask(), 1u << 9);
  EXPECT_EQ(f.trigger().instruction(), 40u);
  EXPECT_TRUE(f.model().has_bit_flip());
  // Register group starts at 1280: eax (32 bits), then eflags' defined bits.
  pb::Fault e = fs.at(1280 + 32 * 3 + 1 * 3 + 2);  // eflags, second defined bit (PF), occurrence 3
  EXPECT_EQ(e.group(), "regs");
  EXPECT_EQ(e.register_name(), "eflags");
  EXPECT_EQ(e.bit_mask(), 1u << 2);
  EXPECT_EQ(e.trigger().pc().address(), 0x10000u);
  EXPECT_EQ(e.trigger().pc().occurrence(), 3u);
  pb::Fault st = fs.at(fs.size() - 1);
  EXPECT_EQ(st.register_name(), "st0");
  EXPECT_EQ(st.bit_mask(), 1ull << 63);
  // Deterministic.
  for (uint64_t i : {0ull, 17ull, 1279ull, 1280ull, 1669ull})
    EXPECT_EQ(fs.at(i).SerializeAsString(), fs.at(i).SerializeAsString());
  EXPECT_THROW(fs.at(fs.size()), std::out_of_range);
}

TEST(FaultSpace, OccurrenceTriggers) {
  pb::Campaign c;
  pb::FaultGroup g;
  g.mutable_target()->mutable_registers()->add_names("ecx");
  g.mutable_model()->mutable_set_value()->set_value(7);
  auto* port = g.mutable_trigger()->mutable_port();
  port->set_port(0x3F8);
  port->set_on_write(true);
  port->mutable_occurrences()->set_start(2);
  port->mutable_occurrences()->set_end(8);
  port->mutable_occurrences()->set_step(3);
  *c.add_fault_space() = g;
  pb::FaultGroup o = g;
  o.mutable_trigger()->mutable_output()->set_pattern("login:");
  *c.add_fault_space() = o;
  pb::FaultGroup ma = g;
  auto* m = ma.mutable_trigger()->mutable_memory_access();
  m->mutable_range()->set_start(0x5000);
  m->mutable_range()->set_end(0x5004);
  m->set_on_read(true);
  m->mutable_occurrences()->set_start(4);  // end 0: just the 4th
  *c.add_fault_space() = ma;
  pb::FaultGroup t = g;
  t.mutable_trigger()->mutable_time_ns()->set_start(5000);  // end 0: golden end 10000
  t.mutable_trigger()->mutable_time_ns()->set_step(2500);
  *c.add_fault_space() = t;
  FaultSpace fs(c, golden());
  ASSERT_EQ(fs.size(), 2u + 1 + 1 + 2);
  EXPECT_EQ(fs.at(0).trigger().port().start(), 0x3F8u);
  EXPECT_EQ(fs.at(0).trigger().port().end(), 0x3F9u);
  EXPECT_TRUE(fs.at(0).trigger().port().on_write());
  EXPECT_EQ(fs.at(0).trigger().port().occurrence(), 2u);
  EXPECT_EQ(fs.at(1).trigger().port().occurrence(), 5u);
  EXPECT_EQ(fs.at(0).register_name(), "ecx");
  EXPECT_EQ(fs.at(0).bit_mask(), 0xFFFFFFFFu);
  EXPECT_EQ(fs.at(2).trigger().output().pattern(), "login:");
  EXPECT_EQ(fs.at(2).trigger().output().occurrence(), 1u);
  EXPECT_EQ(fs.at(3).trigger().memory_access().start(), 0x5000u);
  EXPECT_EQ(fs.at(3).trigger().memory_access().occurrence(), 4u);
  EXPECT_TRUE(fs.at(3).trigger().memory_access().on_read());
  EXPECT_EQ(fs.at(4).trigger().time_ns(), 5000u);
  EXPECT_EQ(fs.at(5).trigger().time_ns(), 7500u);
  // A bad output pattern is an expansion error.
  pb::Campaign bad;
  o.mutable_trigger()->mutable_output()->set_pattern("(");
  *bad.add_fault_space() = o;
  EXPECT_THROW(FaultSpace(bad, golden()), std::invalid_argument);
}

TEST(FaultSpace, MultiBitFlipMasksAreDeterministic) {
  pb::Campaign c;
  auto g = memory_group(0x1000, 0x1004, 4);
  g.mutable_model()->mutable_bit_flip()->set_bits(3);
  *c.add_fault_space() = g;
  FaultSpace fs(c, golden());
  EXPECT_EQ(fs.size(), 1u * 32 * 10);
  FaultSpace fs2(c, golden());
  for (uint64_t i = 0; i < fs.size(); ++i) {
    pb::Fault f = fs.at(i);
    EXPECT_EQ(std::popcount(f.bit_mask()), 3);
    EXPECT_TRUE(f.bit_mask() & (1ull << ((i / 10) % 32)));  // the variant's own bit
    EXPECT_EQ(f.bit_mask() & ~0xFFFFFFFFull, 0u);
    EXPECT_EQ(f.bit_mask(), fs2.at(i).bit_mask());
  }
}

TEST(FaultSpace, PlanIsDistinctSortedAndSeeded) {
  pb::Campaign c;
  *c.add_fault_space() = memory_group(0x1000, 0x1010, 2);
  FaultSpace fs(c, golden());
  pb::Sampling s;
  s.set_samples(50);
  s.set_seed(1);
  auto a = fs.plan(s);
  auto b = fs.plan(s);
  ASSERT_EQ(a.size(), 50u);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::set<uint64_t>(a.begin(), a.end()).size(), 50u);
  for (uint64_t i : a) EXPECT_LT(i, fs.size());
  s.set_seed(2);
  EXPECT_NE(fs.plan(s), a);
  // Near-complete samples still work (Floyd's algorithm) and stay distinct.
  s.set_samples(fs.size() - 1);
  auto almost = fs.plan(s);
  EXPECT_EQ(std::set<uint64_t>(almost.begin(), almost.end()).size(), fs.size() - 1);
  pb::Sampling full;
  full.set_full(true);
  auto all = fs.plan(full);
  ASSERT_EQ(all.size(), fs.size());
  EXPECT_EQ(all.front(), 0u);
  EXPECT_EQ(all.back(), fs.size() - 1);
  s.set_samples(fs.size() + 10);
  EXPECT_EQ(fs.plan(s).size(), fs.size());
}

TEST(FaultSpace, SymbolTargetsAndErrors) {
  SymbolTable syms;
  syms.add(ElfSymbol{"data_buffer", 0x3000, 16, false});
  syms.add(ElfSymbol{"main", 0x1000, 40, true});
  GoldenInfo gi = golden();
  gi.symbols = &syms;
  pb::Campaign c;
  pb::FaultGroup g;
  g.set_name("sym");
  g.mutable_target()->mutable_memory()->set_symbol("data_buffer");
  g.mutable_trigger()->mutable_pc()->set_symbol("main");
  *c.add_fault_space() = g;
  FaultSpace fs(c, gi);
  EXPECT_EQ(fs.size(), 16u * 8);  // default model: 1-bit flips; one occurrence
  pb::Fault f = fs.at(8 * 5 + 2);
  EXPECT_EQ(f.virtual_address(), 0x3005u);
  EXPECT_EQ(f.bit_mask(), 4u);
  EXPECT_EQ(f.trigger().pc().address(), 0x1000u);
  EXPECT_EQ(f.trigger().pc().occurrence(), 1u);

  c.mutable_fault_space(0)->mutable_target()->mutable_memory()->set_symbol("no_such_symbol");
  try {
    FaultSpace bad(c, gi);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_symbol"), std::string::npos) << e.what();
  }
  // Without a symbol table.
  EXPECT_THROW(FaultSpace(c, golden()), std::invalid_argument);
  // Empty range, bad width, unknown register, permanent register faults.
  pb::Campaign e1;
  *e1.add_fault_space() = memory_group(0x1000, 0x1000, 1);
  EXPECT_THROW(FaultSpace(e1, golden()), std::invalid_argument);
  pb::Campaign e2;
  *e2.add_fault_space() = memory_group(0x1000, 0x1010, 3);
  EXPECT_THROW(FaultSpace(e2, golden()), std::invalid_argument);
  pb::Campaign e3;
  auto r = register_group();
  r.mutable_target()->mutable_registers()->add_names("xmm0");
  *e3.add_fault_space() = r;
  EXPECT_THROW(FaultSpace(e3, golden()), std::invalid_argument);
  pb::Campaign e4;
  auto p = register_group();
  p.mutable_duration()->set_permanent(true);
  *e4.add_fault_space() = p;
  EXPECT_THROW(FaultSpace(e4, golden()), std::invalid_argument);
  pb::Campaign e5;
  auto t = memory_group(0x1000, 0x1010, 1);
  t.mutable_trigger()->mutable_instructions()->set_start(200);  // end 100 < start
  *e5.add_fault_space() = t;
  EXPECT_THROW(FaultSpace(e5, golden()), std::invalid_argument);
}

TEST(FaultSpace, GroupBitMaskReplacesTheBitDimension) {
  // 4 two-byte cells x 10 trigger points; bits 3 and 9 of each cell.
  pb::Campaign c;
  auto g = memory_group(0x1000, 0x1008, 2);
  g.set_bit_mask(0x208);
  g.mutable_model()->mutable_bit_flip()->clear_bits();
  *c.add_fault_space() = g;
  // A register stuck-at on bit 7 only, and a serial corruption of bit 0.
  pb::FaultGroup r = register_group();
  r.set_bit_mask(0x80);
  *c.add_fault_space() = r;
  pb::FaultGroup sg;
  sg.mutable_target()->mutable_serial()->set_com(1);
  sg.mutable_model()->mutable_set_value()->set_value(0);
  sg.set_bit_mask(0x1);
  *c.add_fault_space() = sg;
  FaultSpace fs(c, golden());
  ASSERT_EQ(fs.size(), 4u * 10 + 4 * 3 + 1);
  std::set<uint64_t> cells;
  for (uint64_t i = 0; i < 40; ++i) {
    pb::Fault f = fs.at(i);
    EXPECT_EQ(f.bit_mask(), 0x208u);
    EXPECT_EQ(f.width(), 2u);
    cells.insert(f.physical_address());
  }
  EXPECT_EQ(cells, (std::set<uint64_t>{0x1000, 0x1002, 0x1004, 0x1006}));
  for (uint64_t i = 40; i < 52; ++i) {
    EXPECT_EQ(fs.at(i).bit_mask(), 0x80u);
    EXPECT_TRUE(fs.at(i).model().has_stuck_at());
  }
  EXPECT_EQ(fs.at(52).bit_mask(), 0x1u);
  EXPECT_TRUE(fs.at(52).has_serial());

  // Masks outside the target, on modelless targets, or against bit_flip's count.
  auto rejects = [](pb::FaultGroup bad, const std::string& what) {
    pb::Campaign cc;
    *cc.add_fault_space() = std::move(bad);
    try {
      FaultSpace fs2(cc, golden());
      ADD_FAILURE() << "accepted: " << what;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  auto wide = memory_group(0x1000, 0x1008, 1);
  wide.set_bit_mask(0x100);
  rejects(wide, "has bits outside a 1-byte cell");
  auto eflags = register_group();
  eflags.set_bit_mask(0x8);  // EFLAGS bit 3 is reserved
  rejects(eflags, "outside register eflags");
  auto three = memory_group(0x1000, 0x1008, 1);
  three.mutable_model()->mutable_bit_flip()->set_bits(3);
  three.set_bit_mask(0x3);
  rejects(three, "contradicts bit_mask");
  pb::FaultGroup irq;
  irq.mutable_target()->mutable_irq()->add_lines(4);
  irq.set_bit_mask(1);
  rejects(irq, "bit_mask on a target without a model");
}

}  // namespace
}  // namespace faultline::faults
