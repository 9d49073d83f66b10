// `faultline bench cpu`: interpreter speed on the benchmark-loop kernels.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "core/boot/multiboot.h"
#include "core/machine.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/exit_codes.h"

#if __has_include("core/check/cpu_check.h")
#include "core/check/cpu_check.h"
#define FAULTLINE_HAVE_CPU_CHECK 1
#endif

namespace faultline::cli {

namespace {
struct BenchOptions {
  std::string dir = FAULTLINE_GUEST_DIR;
  int repeat = 3;
  bool small = false;
};

int bench_kernel(const std::string& path, int repeat, const char* label) {
  double best = 0;
  uint64_t insns = 0;
  for (int k = 0; k < repeat; ++k) {
    Machine m(MachineConfig{});
    MultibootOptions mb;
    mb.kernel_path = path;
    multiboot_load(m, mb);
    auto t0 = std::chrono::steady_clock::now();
    RunResult r = m.run(UINT64_MAX);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.outcome != RunOutcome::Exited || r.exit_status != 0) {
      std::fprintf(stderr, "bench: %s did not pass (%s, status %u); output:\n%s\n", path.c_str(),
                   to_string(r.outcome), r.exit_status, m.console_output().c_str());
      return exit_code::kInternal;
    }
    double mips = r.retired / secs / 1e6;
    if (mips > best) best = mips;
    insns = r.retired;
  }
  std::printf("%-14s %12llu instructions  %8.1f MIPS (best of %d)\n", label, (unsigned long long)insns, best,
              repeat);
  return 0;
}
}  // namespace

Action add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* sub = app.add_subcommand("bench", "Measure simulator speed");
  CLI::App* cpu = sub->add_subcommand("cpu", "Interpreter MIPS on the benchmark-loop kernels");
  sub->require_subcommand(1);
  cpu->add_option("--kernel-dir", o->dir, "Directory with bench.elf and bench_paging.elf");
  cpu->add_option("--repeat", o->repeat, "Runs per kernel (best is reported)")->check(CLI::Range(1, 100));
  cpu->add_flag("--small", o->small, "Use the short bench_small kernels");
  return [o] {
    std::string suffix = o->small ? "_small" : "";
    int rc = bench_kernel(o->dir + "/bench" + suffix + ".elf", o->repeat, "no paging");
    if (rc) return rc;
    return bench_kernel(o->dir + "/bench_paging" + suffix + ".elf", o->repeat, "paging");
  };
}

Action add_cpu_check_command(CLI::App& app) {
#ifdef FAULTLINE_HAVE_CPU_CHECK
  auto o = std::make_shared<check::CpuCheckOptions>();
  CLI::App* sub = app.add_subcommand("cpu-check", "Differential test of the interpreter against the host CPU");
  sub->add_option("--cases", o->cases, "Number of random instruction sequences");
  sub->add_option("--seed", o->seed, "Random seed");
  sub->add_option("--opcode", o->opcode, "Only this opcode (hex, e.g. D8 or 0FAF)");
  sub->add_flag("--verbose", o->verbose, "Print every case");
  sub->add_option("--case", o->only_case, "Run only this case number (reproduce a mismatch)");
  sub->add_option("--max-units", o->max_units, "Instructions per case");
  sub->add_option("--max-mismatches", o->max_mismatches, "Reproducers printed");
  return [o] {
    int rc = check::run_cpu_check(*o, std::cout);
    if (rc == 2) return exit_code::kInternal;
    return rc == 0 ? 0 : exit_code::kMismatch;
  };
#else
  app.add_subcommand("cpu-check", "Differential test (not built)");
  return [] {
    std::fprintf(stderr, "faultline: cpu-check is not built into this binary\n");
    return exit_code::kInternal;
  };
#endif
}

}  // namespace faultline::cli
