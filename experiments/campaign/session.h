// A campaign session: the golden run and single experiments, on the bare
// Machine or on the full PC platform, optionally driven by a script.
//
// Design note: everything an experiment needs is computed once from the
// campaign file in the golden run — the golden output and its digest, how
// and when the run ended, and checkpoints. An experiment restores a
// checkpoint, arms (or, at an `inject` step, applies) the fault, runs to the
// end condition or the timeout and classifies the outcome against the golden
// run. Virtual time comes only from retired instructions (plus halted
// ticks), so the same campaign file and fault give the same result on any
// machine and in any worker process (that is what `replay` relies on).
//
// Rigs. A Rig is one Machine plus, for `linux` workloads and `multiboot
// { pc: true }`, its PcPlatform (created right after the machine; COM1 is
// captured in memory). Machine::checkpoint()/restore() then include the
// devices' state, COM1's output and the disks' copy-on-write overlays
// through the platform's hooks. Guest RAM is MAP_SHARED, so forked workers
// never share the golden rig: each builds its own with make_machine() and
// restores checkpoints into it (the checkpoints' snapshots are read-only).
//
// Output. What a run's classification compares ("the output") is every
// byte the guest wrote to the debug console (port 0xE9) and to COM1's
// transmitter, in the order the guest wrote them, interleaved byte by byte
// (on the bare machine: the debug console only). When the script has a
// step on SCREEN, the VGA text screen at the end of the run follows,
// after a line "--- screen ---" (so guests that answer on the screen are
// classified too; the screen is not part of the output otherwise). COM1
// bytes reach it when the UART hands them to its backend (with
// PcConfig::uart_timed off, at the THR write). The exit status is the guest's write to the exit port 0xF4 (the
// Linux guest's /init writes its status there before powering off).
// `end.end_patterns` are matched against each complete line of each source
// separately (a line of the debug console or a line of COM1).
//
// Scripts. Steps run one after the other in virtual time, in the golden run
// and in every experiment:
//  - type_keys / serial_input queue their text at once (i8042 keyboard
//    queue, COM1 host input; both are device state, so checkpoints keep
//    text not yet read by the guest) and take no virtual time;
//  - wait_for / expect run the machine until the regex matches the source's
//    output that no earlier wait_for/expect on the same source consumed (the
//    match's end becomes the new start). CONSOLE and SERIAL are checked after
//    every byte: the run stops at the instruction boundary after the byte
//    that completes the match. A pattern that cannot match a line break is
//    searched in the current line, others in the last 1 KiB; `^`/`$` also
//    match at line breaks, and `$` matches at the end of the output so far
//    ("fl\\$ $" waits for a prompt with nothing after it). SCREEN matches the
//    whole VGA text screen (rows joined with '\n'), checked when the step
//    begins, after every byte of output (either source) and at every
//    multiple of 1 ms of virtual time; it consumes nothing;
//  - wait_ns runs that much virtual time; inject applies the experiment's
//    fault now (FaultInjector::inject_now); end ends the run (classified
//    like a guest exit with status 0, by comparing outputs).
//  After the last step the run goes on to the end condition.
//  A wait_for whose timeout expires ends the run as a hang (HANG). An expect
//  whose timeout expires ends the run too and is classified after the
//  detected/crash patterns: HANG if the expect's source produced no byte
//  since the step began, else SDC (the guest answered something else). In
//  the golden run every wait_for/expect must match and an inject step must
//  be reached, or the session throws GoldenRunError naming the step.
//
// Checkpoints and scripts. A checkpoint stores, besides the machine (and
// devices), the run state outside it: the merged output, the partial lines
// of the end-pattern matcher and the script position (step index, the
// virtual time the step began — its timeout counts from there — and the
// consumed offsets of CONSOLE and SERIAL). An experiment restored from a
// checkpoint therefore continues the script at the same step with the same
// deadlines and runs exactly like the golden run up to the injection:
//  - a campaign whose script has an `inject` step takes one checkpoint in
//    the golden run right before that step; every experiment restores it
//    and injects at once (no second golden pass);
//  - otherwise the golden run is replayed from checkpoint 0 to take
//    `checkpoints` evenly spaced ones (each with its script position), and
//    an experiment restores the latest one before its trigger point
//    (instruction and time triggers; others start from checkpoint 0).
// Everything the script does at one virtual tick happens before any
// instruction at that tick and before a checkpoint taken at it, and a step's
// start actions (type/serial input, the first search of a wait) run once,
// flagged in the position; later checks are idempotent (a SCREEN poll at a
// tick where the screen did not change), so slicing the run differently
// (pass 2 stops at checkpoint ticks) changes nothing. The script never
// schedules clock events (it runs the machine in slices), so checkpoints
// hold only device events, which the platform re-arms. A reset request
// (PC platform) ends a run as a crash unless the golden run ended that way.
// rerun_from() checks all this: every checkpoint continues to the golden
// end and output (tests/experiments/campaign_pc_script_test.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "campaign.pb.h"
#include "core/boot/elf_image.h"
#include "core/machine.h"
#include "fault.pb.h"
#include "result.pb.h"

namespace faultline {
class PcPlatform;
}

namespace faultline::faults {
class FaultSpace;
class FaultInjector;
}  // namespace faultline::faults

namespace faultline::campaign {

// The golden run does not follow the campaign's script (a wait_for or
// expect that never matched, an inject step never reached).
class GoldenRunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

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

// Whether the workload runs on the PC platform.
bool uses_pc_platform(const pb::Campaign& c);

struct GoldenRun {
  std::string output;
  std::string digest;          // SHA-256 hex of `output`
  uint64_t end_ticks = 0;      // virtual time in instruction ticks
  uint64_t end_retired = 0;
  uint64_t end_time_ns = 0;
  RunOutcome outcome = RunOutcome::InstructionLimit;
  bool reset = false;          // ended by a reset request (PC platform)
  uint32_t exit_status = 0;
  std::string end_reason;
  double wall_seconds = 0;
  std::vector<uint64_t> step_ticks;  // when each script step began (ticks), as far as the run got
  int inject_step = -1;        // script index of the inject step, or -1
  uint64_t inject_ticks = 0;   // when the golden run reached it
};

// How a single run (golden or experiment) ended.
struct RunEnd {
  enum class By : uint8_t {
    Machine,        // the run loop's own outcome (exit, triple fault, halt)
    EndPattern,     // an end.end_patterns line
    Reset,          // the guest requested a system reset (PC platform)
    ScriptEnd,      // an `end` step
    Limit,          // the instruction budget (golden: max_instructions; experiment: timeout)
    WaitTimeout,    // a wait_for step timed out
    ExpectTimeout,  // an expect step timed out
  };
  By by = By::Limit;
  RunOutcome outcome = RunOutcome::InstructionLimit;
  uint32_t exit_status = 0;
  uint64_t ticks = 0;
  int step = -1;                 // the script step that timed out
  bool step_saw_output = false;  // ExpectTimeout: its source produced output meanwhile
  bool end_pattern = false;      // by == EndPattern (kept for callers)
};
std::string describe_end(const RunEnd& e);

// First difference between two outputs, one line each side, truncated.
std::string diff_summary(const std::string& golden, const std::string& faulty, uint32_t golden_status,
                         uint32_t faulty_status);

// The script position a checkpoint records (see the design note).
struct ScriptPos {
  uint32_t step = 0;
  bool begun = false;                       // the step's start actions ran
  uint64_t step_start = 0;                  // CPU ticks when the step began
  uint64_t begin_size = 0;                  // its source's output size then (expect: "saw output")
  std::array<uint64_t, 2> consumed{0, 0};  // CONSOLE, SERIAL: offsets into each source's output
};

// Run state outside the machine, saved with each checkpoint.
struct RunState {
  std::string output;                       // merged output (see the design note)
  std::array<uint64_t, 2> line_start{0, 0};  // CONSOLE, SERIAL: start of the current line
  ScriptPos script;
};

// One machine with its devices (when the workload uses the PC platform) and
// the output hooks a session installs. Not movable: hooks point into it.
struct Rig {
  Rig() = default;
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;
  ~Rig();

  std::unique_ptr<Machine> machine;
  std::unique_ptr<PcPlatform> platform;  // null on the bare machine
  RunState state;

  // Hook state of the current run (not part of checkpoints).
  bool end_pattern_hit = false;
  struct Watch {
    bool active = false;
    bool screen = false;      // SCREEN: check the VGA text screen on every output byte
    int source = 0;           // 0 CONSOLE, 1 SERIAL
    const std::regex* re = nullptr;
    bool line_mode = true;
    uint64_t from = 0;        // absolute offset in the source's output
    bool matched = false;
    uint64_t match_end = 0;
  } watch;

  // The output of CONSOLE (0) or SERIAL (1) so far.
  const std::string& source_text(int source) const;
};

struct SessionCheckpoint {
  Machine::Checkpoint machine;
  RunState state;
};

class Session {
 public:
  // `kernel_path` is the resolved workload kernel (multiboot ELF, bzImage,
  // or the BIOS image of a firmware workload;
  // the other paths come resolved in `campaign`). Throws on bad settings
  // (e.g. a regex that does not compile) or a workload that cannot run.
  Session(pb::Campaign campaign, std::string kernel_path);
  ~Session();

  // Boots, runs the workload (and script) to its end and takes the
  // checkpoints. Throws GoldenRunError when the script does not fit the run.
  void run_golden();

  const pb::Campaign& campaign() const { return campaign_; }
  const Settings& settings() const { return settings_; }
  const GoldenRun& golden() const { return golden_; }
  const faults::FaultSpace& fault_space() const { return *space_; }
  const SymbolTable& symbols() const { return image_.symbols; }
  const std::vector<SessionCheckpoint>& checkpoints() const { return checkpoints_; }
  Rig& golden_rig() { return *rig_; }
  bool pc_platform() const { return pc_; }

  // Time spent in this process restoring checkpoints and running experiments
  // (benchmarks: the per-experiment reset cost).
  struct Timing {
    uint64_t experiments = 0;
    uint64_t restored_pages = 0;
    double restore_seconds = 0;
    double run_seconds = 0;
  };
  const Timing& timing() const { return timing_; }

  // A fresh rig for a worker process (same configuration: machine, PC
  // platform when the workload needs it, output hooks installed);
  // experiments restore checkpoints into it.
  std::unique_ptr<Rig> make_machine() const;
  // Index of the checkpoint an experiment with this fault starts from.
  size_t checkpoint_for(const pb::Fault& fault) const;
  // Runs one experiment on `rig` (the golden rig or one from make_machine).
  // Never throws: simulator exceptions become SIMULATOR_ERROR.
  pb::ExperimentResult run_experiment(Rig& rig, uint64_t id, const pb::Fault& fault) const;
  // Runs the rest of the golden run from checkpoint `index` without a fault
  // (script included) and returns how it ended; `rig.state.output` then
  // holds the output. Must equal the golden run (determinism checks).
  RunEnd rerun_from(Rig& rig, size_t index) const;
  // The output of the run that just ended on `rig` (see the design note:
  // the merged output, then the screen when the script uses SCREEN).
  std::string run_output(const Rig& rig) const { return run_output(rig.state.output, rig.platform.get()); }
  // The same from the merged output and the platform (null: none) of a run
  // driven by someone else (the GUI's replay window).
  std::string run_output(const std::string& merged, const PcPlatform* platform) const;

 private:
  struct Drive;
  RunEnd drive(Rig& rig, uint64_t limit_ticks, faults::FaultInjector* injector, const pb::Fault* fault,
               Drive* golden) const;
  void install_hooks(Rig& rig) const;
  void on_output(Rig& rig, int source, char ch) const;
  void restore(Rig& rig, const SessionCheckpoint& cp) const;
  SessionCheckpoint checkpoint(Rig& rig) const;
  void boot(Rig& rig);
  pb::Outcome classify(const RunEnd& end, const std::string& output) const;

  pb::Campaign campaign_;
  std::string kernel_path_;
  Settings settings_;
  bool pc_ = false;
  bool screen_output_ = false;  // a script step waits on SCREEN
  std::vector<std::regex> step_patterns_;  // per script step (wait_for/expect), else empty regex
  std::vector<bool> step_line_mode_;
  std::unique_ptr<Rig> rig_;
  ElfImage image_;
  GoldenRun golden_;
  std::vector<SessionCheckpoint> checkpoints_;
  // Script campaigns with an inject step: the checkpoint right before it.
  std::optional<SessionCheckpoint> inject_checkpoint_;
  std::unique_ptr<faults::FaultSpace> space_;
  mutable Timing timing_;
};

}  // namespace faultline::campaign
