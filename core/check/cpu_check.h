// `faultline cpu-check`: differential testing of the reference interpreter
// against the host CPU.
//
// Design note: each case from the generator (core/check/generator.h) runs
// twice: natively in a traced child process in compatibility mode
// (core/direct/native_child.h) and in the interpreter, set up as flat 32-bit
// protected mode at CPL 3 with paging mapping the same linear pages. The
// interpreter runs one instruction at a time, which gives the trace used to
// (a) know which instructions ran and which one faulted (coverage), (b) track
// which arithmetic flags and x87 condition codes are architecturally
// undefined at the end (masked in the comparison) and (c) detect cases whose
// outcome depends on undefined state (skipped, counted by reason). Compared:
// fault class and address (SIGSEGV page fault <-> #PF with CR2, SIGSEGV
// SI_KERNEL <-> #GP/#BR, SIGBUS <-> #SS/#NP/#AC, SIGFPE <-> #DE/#MF, SIGILL
// <-> #UD, SIGTRAP <-> #DB/#BP), EIP, the eight GPRs, EFLAGS, the x87 control
// and status words, tags (empty or not) and registers bit for bit, and all
// data pages. Instruction lengths of every generated instruction are also
// checked against Zydis. A mismatching case is shrunk (units removed while
// it still mismatches) before its reproducer is printed.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace faultline::check {

struct CpuCheckOptions {
  uint64_t cases = 10000;
  uint64_t seed = 1;
  std::string opcode;            // "" = all forms; "D8", "0FAF": only this opcode
  unsigned max_mismatches = 20;  // reproducers printed (all are counted)
  bool verbose = false;          // a line per case, full state for mismatches
  int64_t only_case = -1;        // >= 0: run just this case number (reproduce)
  uint64_t first_case = 0;       // case numbers run: first_case .. first_case+cases-1
  unsigned max_units = 10;       // units (main instructions) per case
  bool minimize = true;          // shrink mismatching cases before printing
  bool coverage_table = true;    // print the per-form table
};

struct CpuCheckSummary {
  bool setup_ok = false;          // native child and interpreter could be set up
  std::string setup_error;
  uint64_t cases = 0;             // generated
  uint64_t compared = 0;          // compared (not skipped)
  uint64_t mismatches = 0;        // cases with any difference (incl. lengths)
  uint64_t length_mismatches = 0; // instructions whose length differs from Zydis
  uint64_t skipped = 0;
  std::map<std::string, uint64_t> skipped_by_reason;
  std::vector<std::string> never_exercised;  // eligible forms never executed
  std::vector<std::string> zydis_undecodable;  // forms Zydis cannot decode
  double seconds = 0;
};

// Runs the check, printing reproducers, the coverage table and totals to
// `out`. The summary is returned for tests.
CpuCheckSummary cpu_check(const CpuCheckOptions& opt, std::ostream& out);

// The CLI entry: 0 if no mismatch, 1 if any, 2 if the check could not run.
int run_cpu_check(const CpuCheckOptions& opt, std::ostream& out);

}  // namespace faultline::check
