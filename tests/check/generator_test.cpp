// The random instruction generator: determinism, filters, layout.
#include "core/check/generator.h"

#include <gtest/gtest.h>

#include "core/insn.h"

#include <cstring>

namespace faultline::check {
namespace {

TEST(GeneratorTest, SameSeedAndCaseGiveTheSameCase) {
  Generator g;
  for (uint64_t k = 0; k < 200; ++k) {
    TestCase a = g.generate(7, k), b = g.generate(7, k);
    ASSERT_EQ(a.code, b.code) << "case " << k;
    ASSERT_EQ(a.mem, b.mem);
    for (int r = 0; r < 8; ++r) ASSERT_EQ(a.gpr[r], b.gpr[r]);
    ASSERT_EQ(a.eflags, b.eflags);
    ASSERT_EQ(0, std::memcmp(&a.fpu, &b.fpu, sizeof a.fpu));
  }
}

TEST(GeneratorTest, DifferentSeedsDiffer) {
  Generator g;
  int same = 0;
  for (uint64_t k = 0; k < 50; ++k) same += g.generate(1, k).code == g.generate(2, k).code;
  EXPECT_LT(same, 5);
}

TEST(GeneratorTest, CodeEndsWithInt80AndInstructionsTileIt) {
  Generator g;
  for (uint64_t k = 0; k < 500; ++k) {
    TestCase tc = g.generate(3, k);
    ASSERT_EQ(tc.code.size(), layout::kCodeSize);
    ASSERT_EQ(tc.code[tc.end_off], 0xCD);
    ASSERT_EQ(tc.code[tc.end_off + 1], 0x80);
    uint32_t off = 0;
    for (size_t i = 0; i < tc.insn_off.size(); ++i) {
      ASSERT_EQ(tc.insn_off[i], off);
      Insn insn;
      ASSERT_EQ(decode(tc.code.data() + off, 15, true, insn), DecodeStatus::Ok) << "case " << k;
      off += insn.len;
    }
    ASSERT_EQ(off, tc.end_off) << "case " << k;
  }
}

TEST(GeneratorTest, OpcodeFilterRestrictsMainInstructions) {
  GenOptions o;
  o.opcode = parse_opcode("0FAF");
  ASSERT_EQ(o.opcode, 0x1AF);
  Generator g(o);
  for (uint64_t k = 0; k < 100; ++k) {
    TestCase tc = g.generate(1, k);
    for (size_t i = 0; i < tc.insn_off.size(); ++i) {
      if (!tc.insn_main[i]) continue;
      Insn insn;
      ASSERT_EQ(decode(tc.code.data() + tc.insn_off[i], 15, true, insn), DecodeStatus::Ok);
      EXPECT_EQ(insn.opcode, 0x1AF);
    }
  }
  EXPECT_EQ(parse_opcode("d8"), 0xD8);
  EXPECT_EQ(parse_opcode("0F 18"), 0x118);
  EXPECT_EQ(parse_opcode("xyz"), -1);
}

TEST(GeneratorTest, RelativeBranchesLandOnInstructionStartsForward) {
  Generator g;
  int branches = 0;
  for (uint64_t k = 0; k < 2000; ++k) {
    TestCase tc = g.generate(5, k);
    for (size_t i = 0; i < tc.insn_off.size(); ++i) {
      Insn insn;
      const uint32_t off = tc.insn_off[i];
      ASSERT_EQ(decode(tc.code.data() + off, 15, true, insn), DecodeStatus::Ok);
      if (!insn.info || !(insn.info->attr & A_BRANCH) || (insn.info->decode & D_MODRM)) continue;
      if (!(insn.info->decode & (D_IMM8 | D_IMMZ))) continue;
      const Unit& u = tc.units[static_cast<size_t>(tc.insn_unit[i])];
      if (!u.patches.empty() && u.patches[0].wild) continue;
      ++branches;
      const int32_t disp = (insn.info->decode & D_IMM8) ? static_cast<int8_t>(insn.imm)
                           : insn.op32 ? static_cast<int32_t>(insn.imm) : static_cast<int16_t>(insn.imm);
      const uint32_t target = off + insn.len + static_cast<uint32_t>(disp);
      ASSERT_GE(disp, 0);
      bool ok = target == tc.end_off;
      for (uint32_t o : tc.insn_off) ok |= o == target;
      ASSERT_TRUE(ok) << "case " << k << " insn " << i;
    }
  }
  EXPECT_GT(branches, 50);
}

TEST(GeneratorTest, EveryEligibleFormIsGenerated) {
  Generator g;
  std::vector<int> seen(g.forms().size(), 0);
  for (uint64_t k = 0; k < 20000; ++k) {
    for (const Unit& u : g.generate(11, k).units) ++seen[static_cast<size_t>(u.form)];
  }
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_GT(seen[i], 0) << g.forms()[i].key;
  EXPECT_FALSE(g.exclusions().empty());
}

}  // namespace
}  // namespace faultline::check
