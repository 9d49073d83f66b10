// A GUI session: one Machine with its PcPlatform, the kernel it was loaded
// from, and slice-wise execution.
//
// Design note: this class is Qt-free so tests (and other front ends) can use
// it; the widgets only call into it. It owns no simulation logic of its own:
// it sets the machine up the way `faultline run --pc` / `--linux` does and
// forwards to Machine::run, the loaders and the FaultInjector. A platform
// cannot be recreated on the same machine, so reset() builds a new Machine
// and PcPlatform and loads the kernel again.
//
// Experiment replay (campaign monitor): load_experiment() opens a campaign
// database, rebuilds the campaign session exactly as `faultline replay` does
// (campaign::session_for_store, which reruns and checks the golden run),
// then takes a machine from it (campaign machines have no PC platform: the
// guest talks through the debug console), restores the checkpoint the
// experiment starts from and arms the stored fault, so the window runs the
// experiment slice by slice. The run ends like a campaign run: exit, halt,
// triple fault, an end pattern on the console, or the campaign's time limit
// (a hang). replay_verdict() then compares the console output's digest
// with the stored one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/boot/elf_image.h"
#include "core/machine.h"
#include "devices/pc/pc_platform.h"
#include "faults/injector.h"
#include "result.pb.h"

namespace faultline::campaign {
class Session;
struct Rig;
}

namespace faultline::gui {

enum class GuestKind : uint8_t { None, Multiboot, Linux, Firmware, Experiment };

struct SessionConfig {
  uint64_t memory_mib = 64;
};

class Session {
 public:
  explicit Session(const SessionConfig& config = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Load a kernel into a fresh machine (throws std::runtime_error naming the
  // file on bad input; the previous machine is gone then).
  void load_multiboot(const std::string& kernel, const std::string& cmdline = {});
  // `disks`: raw images on IDE primary master, primary slave, secondary
  // master, secondary slave (at most 4; guest writes stay in an overlay).
  void load_linux(const std::string& kernel, const std::string& initrd = {}, const std::string& cmdline = {},
                  const std::vector<std::string>& disks = {});
  // A PC booting `disk` through firmware from the reset vector (default
  // BIOS: Debian's SeaBIOS and its stdvga VGA BIOS, as `faultline run
  // --disk`). Bad files throw std::runtime_error naming them.
  void load_firmware(const std::vector<std::string>& disks, const std::string& bios = {},
                     const std::string& vga_bios = {});
  void load_firmware(const std::string& disk, const std::string& bios = {}, const std::string& vga_bios = {}) {
    load_firmware(std::vector<std::string>{disk}, bios, vga_bios);
  }
  // Boots the workload of an experiment (campaign) file like its golden run
  // (multiboot kernel and command line, Linux kernel with initrd, command
  // line and disks, or the firmware boot of its disks) in a machine of its
  // memory size, with the PC platform as every GUI machine; script steps
  // are not run (the user does that by hand). Throws
  // experiments::CampaignError (every problem as file:line:col) or
  // std::runtime_error.
  void load_experiment_file(const std::string& path);
  // Replays experiment `id` of the campaign database `db` (throws
  // store::StoreError, experiments::CampaignError, std::runtime_error with a
  // message naming the problem).
  void load_experiment(const std::string& db, uint64_t id);
  // Ends the run ("powered off"); reset() starts the machine again.
  void power_off() {
    if (machine_ && !finished_) finish("powered off");
  }
  // Reloads the kernel last loaded into a fresh machine (an experiment:
  // restores its checkpoint and arms its fault again).
  void reset();

  bool loaded() const { return machine_ != nullptr; }
  GuestKind kind() const { return kind_; }
  const std::string& kernel_path() const { return kernel_; }
  const std::string& initrd_path() const { return initrd_; }
  // Linux and firmware sessions: the IDE disk images. Firmware sessions:
  // the VGA BIOS as given ("" = default, "none" = no VGA BIOS);
  // kernel_path() is the BIOS image.
  const std::vector<std::string>& disks() const { return disks_; }
  const std::string& vga_bios_path() const { return vga_bios_; }

  // Keyboard or mouse input given by hand: the window reports it here with
  // the machine idle. The first one since the machine was (re)started is
  // kept (tick and what), because an experiment file cannot replay it at
  // the same instants (export refuses then).
  void note_input(const char* what);
  // Bytes sent by hand into COM1's receiver, with the tick (recorded with
  // the machine idle, between slices): export replays them as script steps
  // (`wait_ns` to that tick, then `serial_input`).
  void note_serial_input(const std::string& bytes);
  struct SerialInput {
    uint64_t tick = 0;
    std::string bytes;
  };
  const std::vector<SerialInput>& serial_inputs() const { return serial_inputs_; }
  struct InputNote {
    uint64_t tick = 0;
    std::string what;
  };
  const std::optional<InputNote>& first_input() const { return first_input_; }

  // Runs at most `max_instructions`; the run ends for good (finished())
  // when the guest exits, halts for ever, triple-faults or asks for a reset.
  RunResult run_slice(uint64_t max_instructions);
  bool finished() const { return finished_; }
  // Why the run ended ("" while not finished).
  const std::string& finish_reason() const { return finish_reason_; }

  // Null until a kernel is loaded.
  Machine* machine() { return machine_.get(); }
  const Machine* machine() const { return machine_.get(); }
  PcPlatform* platform() { return platform_.get(); }
  Cpu* cpu() { return machine_ ? &machine_->cpu() : nullptr; }
  uint64_t retired() const { return machine_ ? machine_->cpu().retired() : 0; }

  // Debug console (port 0xE9) and COM1 output so far ("" without a machine).
  const std::string& console_output() const;
  const std::string& serial_output() const;
  // The run's output as campaigns compare it (experiments/campaign/
  // session.h): debug console and COM1 bytes interleaved in write order.
  const std::string& output() const;

  // Hand-made faults: each gets its own FaultInjector, chained behind the
  // ones before (faults/injector.h), so several can be active at once (a
  // permanent cell, an armed trigger and a disk error, say). inject_now()
  // applies `fault` now (trigger ignored), arm() waits for its trigger;
  // both add to what is active. disarm() ends them all (in reverse order),
  // as do reset and loading a snapshot. A second disk fault on a drive that
  // has one active is refused (the drive has one fault hook). Both throw std::invalid_argument for a fault that cannot be
  // applied and std::logic_error without a machine or in a replay. A disk,
  // serial or lost-IRQ fault injected now is armed on the stream: its
  // record says "armed" (injected false) and it stays pending
  // (trigger_pending()) until the first matching transfer hits it.
  // `waiting` (optional): set when the fault waits for its first transfer.
  faults::InjectionRecord inject_now(const pb::Fault& fault, bool* waiting = nullptr);
  void arm(const pb::Fault& fault);
  void disarm();
  // True while an armed trigger has not fired yet (or a stream fault has
  // not hit yet).
  bool trigger_pending() const;
  // Hand-made faults active now (armed, enforced, or applied and not yet
  // disarmed).
  size_t active_faults() const { return active_.size(); }
  // Call after running: adds the armed faults that fired since the last
  // call to the history (in the order they fired); true if there was one.
  bool poll_armed();

  // Every applied hand-made fault since the machine was (re)started, in
  // order, with what the injector recorded (virtual time included).
  struct HandInjection {
    pb::Fault fault;
    faults::InjectionRecord record;
  };
  const std::vector<HandInjection>& history() const { return history_; }
  // ELF symbols of the multiboot kernel (or the replayed campaign's); null
  // for Linux.
  const SymbolTable* symbols() const;
  const std::string& cmdline() const { return cmdline_; }

  // Breakpoints on linear addresses: the run stops before the instruction
  // (Cpu::pc_breakpoints with the session's on_pc hook, installed when the
  // machine is created so a fault injector chains to it). Kept across
  // reset.
  void set_breakpoints(const std::vector<uint32_t>& addresses);
  const std::vector<uint32_t>& breakpoints() const { return breakpoints_; }
  // The breakpoint the last run_slice stopped at (cleared by the call).
  std::optional<uint32_t> take_breakpoint_hit();

  // One in-memory snapshot (Machine::checkpoint with the platform's device
  // state). save_snapshot() throws std::logic_error while a trigger is
  // armed (its clock events cannot be saved); load_snapshot() disarms the
  // hand-made fault and restores the injection history of that moment.
  void save_snapshot();
  void load_snapshot();
  bool has_snapshot() const { return snapshot_ != nullptr; }

  // Snapshot files (format in gui/snapshot_file.h): the whole session, so
  // another process can continue it. save_snapshot_file() has the refusals
  // of save_snapshot() and refuses a replayed experiment (std::logic_error);
  // file problems throw std::runtime_error naming the file. Loading checks
  // the whole file and its input files (kernel, initrd, disk, BIOS: same
  // SHA-256 as when saved) before it replaces the current machine: it
  // rebuilds the machine from the saved descriptor (kind, files, memory
  // size) like reset(), restores the checkpoint and takes the saved
  // injection history and end state. A failed load keeps the current
  // session when the file was refused, and leaves no machine when
  // rebuilding failed. The in-memory snapshot slot is emptied.
  void save_snapshot_file(const std::string& path);
  void load_snapshot_file(const std::string& path);

  // A second session whose machine (a new Machine and PcPlatform of the
  // same configuration and kernel) continues from this one's current state
  // (checkpoint/restore, device state and COM1 output included). Throws std::logic_error without a machine, for a replayed
  // experiment, or while a trigger is armed.
  std::unique_ptr<Session> fork();
  uint64_t snapshot_ticks() const;
  uint64_t memory_mib() const { return config_.memory_mib; }

  // Experiment replay: the stored row, the armed fault's record so far and,
  // once finished, "reproduced: ..." or "NOT reproduced: ..." ("" before).
  const pb::ExperimentResult* stored_experiment() const { return kind_ == GuestKind::Experiment ? &stored_ : nullptr; }
  faults::InjectionRecord experiment_injection() const;
  const std::string& replay_verdict() const { return verdict_; }
  // The campaign session of a replay (null otherwise).
  const campaign::Session* campaign_session() const { return campaign_.get(); }

 private:
  void drop_machine();  // injector, platform, machine and run state gone
  void create_machine();
  void restart_experiment();
  void finish(const std::string& reason);
  void install_breakpoint_hook();
  void record_output();  // hooks that append to output_
  void check_snapshot_allowed(const char* what);  // armed trigger, enforced fault
  static void pc_thunk(void* ctx, uint32_t lin);

  SessionConfig config_;
  std::vector<std::string> disks_;    // GuestKind::Linux, Firmware
  std::string bios_, vga_bios_;       // GuestKind::Firmware
  GuestKind kind_ = GuestKind::None;
  std::string kernel_, initrd_, cmdline_;
  // Order matters: the injector and platform are destroyed before their
  // machine, the machine before the campaign session that installed hooks.
  std::unique_ptr<campaign::Session> campaign_;
  std::unique_ptr<campaign::Rig> rig_;  // experiment replay: the rig whose hooks the machine carries
  std::unique_ptr<Machine> machine_;
  std::unique_ptr<PcPlatform> platform_;
  std::unique_ptr<faults::FaultInjector> injector_;  // experiment replay: the stored fault
  struct Active {
    std::unique_ptr<faults::FaultInjector> injector;
    pb::Fault fault;
    bool pending = false;  // armed, not fired (or no stream hit) yet
  };
  std::vector<Active> active_;  // hand-made faults, in arming order
  void disarm_all();            // in reverse order, then gone
  faults::FaultInjector& new_injector(const pb::Fault& fault);
  // inject_now (now) or arm: a new active fault; recorded in the history
  // once applied (at once, or by poll_armed).
  faults::InjectionRecord add_hand_fault(const pb::Fault& fault, bool now, bool* waiting);
  pb::ExperimentResult stored_;
  std::vector<HandInjection> history_;
  std::optional<InputNote> first_input_, snapshot_input_;
  std::vector<SerialInput> serial_inputs_, snapshot_serial_inputs_;
  std::string output_, snapshot_output_;  // merged console + COM1 (output())
  std::unique_ptr<ElfImage> image_;
  std::vector<uint32_t> breakpoints_, installed_bps_;
  std::optional<uint32_t> bp_hit_;
  std::unique_ptr<Machine::Checkpoint> snapshot_;
  std::vector<HandInjection> snapshot_history_;
  bool snapshot_finished_ = false;
  std::string snapshot_reason_;
  std::string db_path_, verdict_;
  uint64_t experiment_id_ = 0, limit_ticks_ = 0;
  bool finished_ = false;
  std::string finish_reason_;
};

}  // namespace faultline::gui
