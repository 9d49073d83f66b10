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
  const VirtualClock& clock() const { return clock_; }
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
    std::string devices;  // save_devices() output; empty without hooks
  };
  // Without device-state hooks, devices are not part of checkpoints and
  // taking one with pending clock events is refused (std::logic_error).
  // With hooks (set by whoever owns the devices, e.g. PcPlatform), the
  // checkpoint stores save_devices() and pending events are allowed: they
  // belong to devices, which re-arm them from their state. restore() then
  // restores RAM and CPU (virtual time included), clears the clock, and
  // calls load_devices(), whose after_load() calls schedule the timers
  // again. Events scheduled by anyone else (fault injectors) are dropped by
  // restore() and must be re-armed by their owner.
  Checkpoint checkpoint();
  void restore(const Checkpoint& cp);
  void set_device_state_hooks(std::function<std::string()> save_devices,
                              std::function<void(const std::string&)> load_devices) {
    save_devices_ = std::move(save_devices);
    load_devices_ = std::move(load_devices);
  }
  bool has_device_state_hooks() const { return static_cast<bool>(save_devices_); }

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

  // Calls visit(page_index) for each guest RAM page written since the last
  // call (MemFile::take_written_pages) and re-arms the CPU's reporting of
  // writes, so the next call sees pages written again meanwhile.
  template <typename Visit>
  void take_written_pages(Visit&& visit) {
    memory_.take_written_pages(visit);
    cpu_->revoke_tlb_writes();
  }

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
  std::function<std::string()> save_devices_;
  std::function<void(const std::string&)> load_devices_;
};

}  // namespace faultline
