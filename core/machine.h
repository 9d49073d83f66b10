// The Machine: one simulated PC. Owns guest memory (a memfile), the CPU, the
// bus, the virtual clock and the built-in debug ports.
//
// Design note: no globals. Everything a device or engine needs is reached
// through the Machine passed by reference, so several machines can live in
// one process (tests, campaign workers, golden and faulty side by side).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/bus.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "memfile/memfile.h"
#include "memfile/memory_snapshot.h"

namespace faultline {

struct MachineConfig {
  uint64_t memory_mib = 32;
  std::string memory_file;           // empty: anonymous memfd
  uint64_t instructions_per_second = 100'000'000;  // virtual clock rate
};

enum class RunOutcome : uint8_t {
  Exited,           // guest wrote its status to the exit port
  InstructionLimit, // the instruction budget ran out
  TripleFault,      // shutdown
  Halted,           // HLT with interrupts off and nothing pending
  Stopped,          // stopped by a hook or request
};

struct RunResult {
  RunOutcome outcome = RunOutcome::InstructionLimit;
  uint32_t exit_status = 0;
  uint64_t retired = 0;
  uint64_t ticks = 0;
};

const char* to_string(RunOutcome o);

class Machine {
 public:
  explicit Machine(const MachineConfig& config);
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  MemFile& memory() { return memory_; }
  Cpu& cpu() { return *cpu_; }
  Bus& bus() { return bus_; }
  VirtualClock& clock() { return clock_; }
  const MachineConfig& config() const { return config_; }

  // Runs until the guest exits, the budget runs out, or another stop.
  RunResult run(uint64_t max_instructions);

  // A checkpoint of the whole machine: CPU state, virtual time, guest RAM
  // (an in-memory memfile snapshot) and the console output so far.
  struct Checkpoint {
    CpuState cpu;
    uint64_t ticks = 0;
    uint64_t halted_ticks = 0;
    std::shared_ptr<MemorySnapshot> memory;
    std::string console;
  };
  // Devices with state are not part of checkpoints yet (there are none with
  // timers or state besides the debug ports); taking one with pending clock
  // events is refused.
  Checkpoint checkpoint();
  void restore(const Checkpoint& cp);

  // Debug console (port 0xE9) output goes here; default appends to
  // `console_output()` and, if set, to the sink.
  void set_console_sink(std::function<void(char)> sink) { console_sink_ = std::move(sink); }
  const std::string& console_output() const { return console_; }
  // Console observers (fault triggers, script steps, end patterns): called
  // for every console character, after it was appended and after the sink.
  // An observer must not add or remove observers from inside its call.
  // Returns an id for remove_console_observer (callers may ignore it).
  using ConsoleObserverId = uint64_t;
  ConsoleObserverId add_console_observer(std::function<void(char)> observer);
  void remove_console_observer(ConsoleObserverId id);
  void clear_console_observers() { console_observers_.clear(); }

  // Schedules a device event `delay_ns` of virtual time from now.
  VirtualClock::EventId schedule_in(uint64_t delay_ns, std::function<void()> fn);
  uint64_t now_ns() const { return clock_.ticks_to_ns(cpu_->ticks()); }

 private:
  void update_next_event();
  MachineConfig config_;
  MemFile memory_;
  Bus bus_;
  VirtualClock clock_;
  std::unique_ptr<Cpu> cpu_;
  std::string console_;
  std::function<void(char)> console_sink_;
  std::vector<std::pair<ConsoleObserverId, std::function<void(char)>>> console_observers_;
  ConsoleObserverId next_console_observer_ = 1;
};

}  // namespace faultline
