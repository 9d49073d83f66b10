#include "gui/session.h"

#include <cstdio>
#include <stdexcept>

#include "core/boot/linux_boot.h"
#include "core/boot/multiboot.h"

namespace faultline::gui {

namespace {
const std::string kEmpty;
}

Session::Session(const SessionConfig& config) : config_(config) {}

Session::~Session() {
  platform_.reset();
  machine_.reset();
}

void Session::create_machine() {
  platform_.reset();
  machine_.reset();
  finished_ = false;
  finish_reason_.clear();
  MachineConfig mc;
  mc.memory_mib = config_.memory_mib;
  machine_ = std::make_unique<Machine>(mc);
  PcConfig pcc;  // COM1 captured in memory, VGA, PCI/IDE without disks
  platform_ = std::make_unique<PcPlatform>(*machine_, pcc);
}

void Session::load_multiboot(const std::string& kernel, const std::string& cmdline) {
  kind_ = GuestKind::Multiboot;
  kernel_ = kernel;
  initrd_.clear();
  cmdline_ = cmdline;
  reset();
}

void Session::load_linux(const std::string& kernel, const std::string& initrd, const std::string& cmdline) {
  kind_ = GuestKind::Linux;
  kernel_ = kernel;
  initrd_ = initrd;
  cmdline_ = cmdline;
  reset();
}

void Session::reset() {
  if (kind_ == GuestKind::None) return;
  create_machine();
  try {
    if (kind_ == GuestKind::Multiboot) {
      MultibootOptions mb;
      mb.kernel_path = kernel_;
      mb.cmdline = cmdline_;
      multiboot_load(*machine_, mb);
    } else {
      linux_load(*machine_, LinuxBootOptions{kernel_, initrd_, cmdline_});
    }
  } catch (...) {
    platform_.reset();
    machine_.reset();
    throw;
  }
}

RunResult Session::run_slice(uint64_t max_instructions) {
  RunResult r;
  if (!machine_ || finished_) {
    r.outcome = RunOutcome::Stopped;
    return r;
  }
  r = machine_->run(max_instructions);
  char buf[128];
  switch (r.outcome) {
    case RunOutcome::InstructionLimit:
      break;
    case RunOutcome::Exited:
      finished_ = true;
      std::snprintf(buf, sizeof buf, "guest exited with status %u", r.exit_status);
      finish_reason_ = buf;
      break;
    case RunOutcome::TripleFault:
      finished_ = true;
      std::snprintf(buf, sizeof buf, "triple fault at EIP=%08X", machine_->cpu().s.eip);
      finish_reason_ = buf;
      break;
    case RunOutcome::Halted:
      finished_ = true;
      std::snprintf(buf, sizeof buf, "halted with interrupts disabled at EIP=%08X", machine_->cpu().s.eip);
      finish_reason_ = buf;
      break;
    case RunOutcome::Stopped:
      if (platform_ && platform_->reset_requested()) {
        finished_ = true;
        finish_reason_ = "guest requested a system reset";
      }
      break;
  }
  return r;
}

const std::string& Session::console_output() const {
  return machine_ ? machine_->console_output() : kEmpty;
}

const std::string& Session::serial_output() const {
  if (!platform_) return kEmpty;
  const CapturedSerialOutput* cap = platform_->com_capture(0);
  return cap ? cap->output() : kEmpty;
}

faults::InjectionRecord Session::inject_now(const pb::Fault& fault) {
  if (!machine_) throw std::logic_error("no machine: load a kernel first");
  faults::FaultInjector injector(*machine_, nullptr);
  injector.inject_now(fault);
  return injector.record();
}

}  // namespace faultline::gui
