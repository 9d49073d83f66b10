// A GUI session: one Machine with its PcPlatform, the kernel it was loaded
// from, and slice-wise execution.
//
// Design note: this class is Qt-free so tests (and other front ends) can use
// it; the widgets only call into it. It owns no simulation logic of its own:
// it sets the machine up the way `faultline run --pc` / `--linux` does and
// forwards to Machine::run, the loaders and the FaultInjector. A platform
// cannot be recreated on the same machine, so reset() builds a new Machine
// and PcPlatform and loads the kernel again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/machine.h"
#include "devices/pc/pc_platform.h"
#include "faults/injector.h"

namespace faultline::gui {

enum class GuestKind : uint8_t { None, Multiboot, Linux };

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
  void load_linux(const std::string& kernel, const std::string& initrd = {}, const std::string& cmdline = {});
  // Reloads the kernel last loaded into a fresh machine.
  void reset();

  bool loaded() const { return machine_ != nullptr; }
  GuestKind kind() const { return kind_; }
  const std::string& kernel_path() const { return kernel_; }

  // Runs at most `max_instructions`; the run ends for good (finished())
  // when the guest exits, halts for ever, triple-faults or asks for a reset.
  RunResult run_slice(uint64_t max_instructions);
  bool finished() const { return finished_; }
  // Why the run ended ("" while not finished).
  const std::string& finish_reason() const { return finish_reason_; }

  // Null until a kernel is loaded.
  Machine* machine() { return machine_.get(); }
  PcPlatform* platform() { return platform_.get(); }
  Cpu* cpu() { return machine_ ? &machine_->cpu() : nullptr; }
  uint64_t retired() const { return machine_ ? machine_->cpu().retired() : 0; }

  // Debug console (port 0xE9) and COM1 output so far ("" without a machine).
  const std::string& console_output() const;
  const std::string& serial_output() const;

  // Applies `fault` now (trigger ignored) and returns what happened. Throws
  // std::invalid_argument for a fault that cannot be applied and
  // std::logic_error without a machine.
  faults::InjectionRecord inject_now(const pb::Fault& fault);

 private:
  void create_machine();

  SessionConfig config_;
  GuestKind kind_ = GuestKind::None;
  std::string kernel_, initrd_, cmdline_;
  // Order matters: the platform is destroyed before its machine.
  std::unique_ptr<Machine> machine_;
  std::unique_ptr<PcPlatform> platform_;
  bool finished_ = false;
  std::string finish_reason_;
};

}  // namespace faultline::gui
