#include "core/machine.h"

#include <stdexcept>

namespace faultline {

const char* to_string(RunOutcome o) {
  switch (o) {
    case RunOutcome::Exited: return "exited";
    case RunOutcome::InstructionLimit: return "instruction limit reached";
    case RunOutcome::TripleFault: return "triple fault";
    case RunOutcome::Halted: return "halted with interrupts disabled";
    case RunOutcome::Stopped: return "stopped";
  }
  return "?";
}

static MemFile make_memory(const MachineConfig& c) {
  if (c.memory_mib == 0 || c.memory_mib > 3072)
    throw std::invalid_argument("memory size must be between 1 and 3072 MiB, got " +
                                std::to_string(c.memory_mib));
  size_t bytes = static_cast<size_t>(c.memory_mib) << 20;
  if (c.memory_file.empty()) return MemFile::create_anonymous(bytes);
  return MemFile::create_at_path(c.memory_file, bytes);
}

Machine::Machine(const MachineConfig& config)
    : config_(config), memory_(make_memory(config)), clock_(config.instructions_per_second) {
  cpu_ = std::make_unique<Cpu>(memory_.data(), memory_.size(), bus_);
  cpu_->on_page_dirty = [](void* ctx, uint64_t page) {
    static_cast<MemFile*>(ctx)->mark_dirty(page << 12);
  };
  cpu_->on_page_dirty_ctx = &memory_;
  cpu_->on_event = [](void* ctx) {
    auto* m = static_cast<Machine*>(ctx);
    m->clock_.dispatch(m->cpu_->ticks());
    m->update_next_event();
  };
  cpu_->on_event_ctx = this;
  // Debug console: one character per write.
  bus_.register_io(0xE9, 1, "debug-console",
                   IoHandler{[](uint32_t, unsigned) -> uint32_t { return 0xE9; },
                             [this](uint32_t, unsigned, uint32_t v) {
                               char ch = static_cast<char>(v & 0xFF);
                               console_.push_back(ch);
                               if (console_sink_) console_sink_(ch);
                               for (auto& [id, obs] : console_observers_) obs(ch);
                             }});
  // Exit port: a write ends the run with that status.
  bus_.register_io(0xF4, 4, "exit-port",
                   IoHandler{nullptr, [this](uint32_t, unsigned size, uint32_t v) {
                               uint32_t mask = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
                               cpu_->exit_status = v & mask;
                               cpu_->request_stop(StopReason::Exit);
                             }});
}

Machine::Checkpoint Machine::checkpoint() {
  if (clock_.pending() != 0 && !save_devices_)
    throw std::logic_error("checkpoint with pending device events needs device-state hooks");
  Checkpoint cp;
  if (save_devices_) cp.devices = save_devices_();
  cp.cpu = cpu_->s;
  cp.ticks = cpu_->ticks();
  cp.halted_ticks = cpu_->halted_ticks();
  cp.memory = std::make_shared<MemorySnapshot>(memory_.snapshot_in_memory());
  cp.console = console_;
  // The snapshot reset the dirty bitmap: writable TLB entries must be
  // refilled so the next write to each page marks it again.
  cpu_->flush_tlb(true);
  return cp;
}

void Machine::restore(const Checkpoint& cp) {
  memory_.restore_snapshot(*cp.memory);
  cpu_->load_state(cp.cpu, cp.ticks, cp.halted_ticks);
  console_ = cp.console;
  if (load_devices_) {
    // Devices re-arm their events relative to the restored virtual time.
    clock_.clear();
    load_devices_(cp.devices);
    update_next_event();
  }
}

Machine::ConsoleObserverId Machine::add_console_observer(std::function<void(char)> observer) {
  ConsoleObserverId id = next_console_observer_++;
  console_observers_.emplace_back(id, std::move(observer));
  return id;
}

void Machine::remove_console_observer(ConsoleObserverId id) {
  for (auto it = console_observers_.begin(); it != console_observers_.end(); ++it)
    if (it->first == id) {
      console_observers_.erase(it);
      return;
    }
}

VirtualClock::EventId Machine::schedule_in(uint64_t delay_ns, std::function<void()> fn) {
  auto id = clock_.schedule_at_tick(cpu_->ticks() + clock_.ns_to_ticks(delay_ns), std::move(fn));
  update_next_event();
  return id;
}

void Machine::update_next_event() {
  cpu_->next_event_at = clock_.next_due();
  cpu_->async_check();
}

RunResult Machine::run(uint64_t max_instructions) {
  RunResult r;
  StopReason why = cpu_->run(max_instructions);
  switch (why) {
    case StopReason::Exit:
      r.outcome = RunOutcome::Exited;
      r.exit_status = cpu_->exit_status;
      break;
    case StopReason::Budget: r.outcome = RunOutcome::InstructionLimit; break;
    case StopReason::TripleFault: r.outcome = RunOutcome::TripleFault; break;
    case StopReason::Halted: r.outcome = RunOutcome::Halted; break;
    default: r.outcome = RunOutcome::Stopped; break;
  }
  r.retired = cpu_->retired();
  r.ticks = cpu_->ticks();
  return r;
}

}  // namespace faultline
