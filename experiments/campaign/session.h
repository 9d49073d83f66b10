// A campaign session: the golden run and single experiments on a Machine.
//
// Design note: everything an experiment needs is computed once from the
// campaign file in the golden run — the golden console output and its digest,
// how and when the run ended, and evenly spaced checkpoints. An experiment
// restores the latest checkpoint before its trigger point, arms the fault
// injector, runs to the end condition or the timeout and classifies the
// outcome against the golden run. Virtual time comes only from retired
// instructions, so the same campaign file and fault give the same result on
// any machine and in any worker process (that is what `replay` relies on).
//
// A Machine maps guest RAM MAP_SHARED, so forked worker processes must not
// share the golden machine: each builds its own with `make_machine()` and
// restores checkpoints into it (the checkpoints' snapshot files are read-only
// and may be shared).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "campaign.pb.h"
#include "core/boot/elf_image.h"
#include "core/machine.h"
#include "fault.pb.h"
#include "result.pb.h"

namespace faultline::faults {
class FaultSpace;
}

namespace faultline::campaign {

// The campaign's settings with the schema's defaults applied.
struct Settings {
  MachineConfig machine;
  uint64_t max_instructions = 2'000'000'000;
  double timeout_factor = 2.0;
  uint64_t timeout_margin = 100'000;
  uint32_t checkpoints = 8;
  std::vector<std::regex> end_patterns;
  std::vector<std::regex> detected_patterns;
  std::vector<std::regex> crash_patterns;
  std::vector<uint32_t> detected_statuses;
  std::vector<uint32_t> crash_statuses;
};
Settings settings_from(const pb::Campaign& c);

struct GoldenRun {
  std::string output;
  std::string digest;          // SHA-256 hex of `output`
  uint64_t end_ticks = 0;      // virtual time in instruction ticks
  uint64_t end_retired = 0;
  uint64_t end_time_ns = 0;
  RunOutcome outcome = RunOutcome::InstructionLimit;
  uint32_t exit_status = 0;
  std::string end_reason;
  double wall_seconds = 0;
};

// How a single run (golden or experiment) ended.
struct RunEnd {
  RunOutcome outcome = RunOutcome::InstructionLimit;
  bool end_pattern = false;
  uint32_t exit_status = 0;
  uint64_t ticks = 0;
};
std::string describe_end(const RunEnd& e, bool timeout);

// First difference between two outputs, one line each side, truncated.
std::string diff_summary(const std::string& golden, const std::string& faulty, uint32_t golden_status,
                         uint32_t faulty_status);

class Session {
 public:
  // `kernel_path` is the resolved multiboot kernel. Throws on bad settings
  // (e.g. a regex that does not compile) or a workload that is not multiboot.
  Session(pb::Campaign campaign, std::string kernel_path);
  ~Session();

  // Boots, runs the workload to its end and takes the checkpoints.
  void run_golden();

  const pb::Campaign& campaign() const { return campaign_; }
  const Settings& settings() const { return settings_; }
  const GoldenRun& golden() const { return golden_; }
  const faults::FaultSpace& fault_space() const { return *space_; }
  const SymbolTable& symbols() const { return image_.symbols; }
  const std::vector<Machine::Checkpoint>& checkpoints() const { return checkpoints_; }
  Machine& golden_machine() { return *machine_; }

  // Time spent in this process restoring checkpoints and running experiments
  // (benchmarks: the per-experiment reset cost).
  struct Timing {
    uint64_t experiments = 0;
    uint64_t restored_pages = 0;
    double restore_seconds = 0;
    double run_seconds = 0;
  };
  const Timing& timing() const { return timing_; }

  // A fresh machine for a worker process (same configuration, console hook
  // installed); experiments restore checkpoints into it.
  std::unique_ptr<Machine> make_machine() const;
  // Index of the checkpoint an experiment with this fault starts from.
  size_t checkpoint_for(const pb::Fault& fault) const;
  // Runs one experiment on `m` (the golden machine or one from make_machine).
  // Never throws: simulator exceptions become SIMULATOR_ERROR.
  pb::ExperimentResult run_experiment(Machine& m, uint64_t id, const pb::Fault& fault) const;

 private:
  RunEnd run_to_end(Machine& m, uint64_t budget) const;
  void install_console_hook(Machine& m) const;
  pb::Outcome classify(const RunEnd& end, bool timeout, const std::string& output) const;

  pb::Campaign campaign_;
  std::string kernel_path_;
  Settings settings_;
  std::unique_ptr<Machine> machine_;
  ElfImage image_;
  GoldenRun golden_;
  std::vector<Machine::Checkpoint> checkpoints_;
  std::unique_ptr<faults::FaultSpace> space_;
  // Set by the console hook when an end pattern matched (per process: one
  // machine runs at a time in a session).
  mutable bool end_pattern_hit_ = false;
  mutable Timing timing_;
};

}  // namespace faultline::campaign
