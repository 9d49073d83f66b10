// cpu-check end to end: the interpreter against the host CPU.
#include "core/check/cpu_check.h"

#include <gtest/gtest.h>

#include <sstream>

namespace faultline::check {
namespace {

CpuCheckSummary run(uint64_t seed, uint64_t cases, const std::string& opcode = "") {
  CpuCheckOptions o;
  o.seed = seed;
  o.cases = cases;
  o.opcode = opcode;
  o.coverage_table = false;
  o.max_mismatches = 10;
  std::ostringstream out;
  CpuCheckSummary s = cpu_check(o, out);
  if (s.mismatches || !s.setup_ok) ADD_FAILURE() << out.str();
  return s;
}

TEST(CpuCheckTest, ShortRunHasNoMismatches) {
  CpuCheckSummary s = run(1, 3000);
  ASSERT_TRUE(s.setup_ok) << s.setup_error;
  EXPECT_EQ(s.mismatches, 0u);
  EXPECT_GT(s.compared, 2000u);
}

TEST(CpuCheckTest, X87OpcodesHaveNoMismatches) {
  for (const char* op : {"D8", "D9", "DA", "DB", "DC", "DD", "DE", "DF"}) {
    CpuCheckSummary s = run(2, 300, op);
    EXPECT_EQ(s.mismatches, 0u) << op;
  }
}

TEST(CpuCheckTest, BadOpcodeIsASetupError) {
  CpuCheckOptions o;
  o.opcode = "0FZZ";
  std::ostringstream out;
  EXPECT_EQ(run_cpu_check(o, out), 2);
}

TEST(CpuCheckSlowTest, SeedVariedLongRuns) {
  for (uint64_t seed : {101u, 202u, 303u}) {
    CpuCheckSummary s = run(seed, 100000);
    EXPECT_EQ(s.mismatches, 0u) << "seed " << seed;
    EXPECT_TRUE(s.never_exercised.empty()) << "seed " << seed;
  }
}

}  // namespace
}  // namespace faultline::check
