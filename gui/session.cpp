#include "gui/session.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <regex>
#include <stdexcept>

#include "core/boot/linux_boot.h"
#include "core/boot/multiboot.h"
#include "experiments/campaign/driver.h"
#include "experiments/campaign/session.h"
#include "experiments/campaign/sha256.h"
#include "experiments/loader/campaign_loader.h"
#include "experiments/store/store.h"
#include "gui/snapshot_file.h"

namespace faultline::gui {

namespace {
const std::string kEmpty;
}

Session::Session(const SessionConfig& config) : config_(config) {}

Session::~Session() {
  disarm_all();
  injector_.reset();
  platform_.reset();
  machine_.reset();
  rig_.reset();
  campaign_.reset();
}

void Session::drop_machine() {
  disarm_all();
  injector_.reset();
  platform_.reset();  // before the machine it hooks
  machine_.reset();
  rig_.reset();
  finished_ = false;
  finish_reason_.clear();
  history_.clear();
  output_.clear();
  first_input_.reset();
  serial_inputs_.clear();
}

void Session::disarm_all() {
  while (!active_.empty()) {
    active_.back().injector->disarm();
    active_.pop_back();
  }
}

faults::FaultInjector& Session::new_injector(const pb::Fault& fault) {
  if (!machine_) throw std::logic_error("no machine: load a kernel first");
  if (kind_ == GuestKind::Experiment)
    throw std::logic_error("a replayed experiment's fault is armed on this machine; inject by hand in a normal session");
  if (fault.has_disk())
    for (const Active& a : active_)
      if (a.fault.has_disk() && a.fault.disk().drive() == fault.disk().drive())
        throw std::invalid_argument("a disk fault on drive " + std::to_string(fault.disk().drive()) +
                                    " is already active (one per drive): disarm it first");
  active_.push_back({std::make_unique<faults::FaultInjector>(*machine_, symbols(), platform_.get()), fault, false});
  return *active_.back().injector;
}

void Session::note_input(const char* what) {
  if (machine_ && !first_input_) first_input_ = InputNote{machine_->cpu().ticks(), what};
}

void Session::note_serial_input(const std::string& bytes) {
  if (!machine_ || bytes.empty()) return;
  const uint64_t tick = machine_->cpu().ticks();
  if (!serial_inputs_.empty() && serial_inputs_.back().tick == tick) serial_inputs_.back().bytes += bytes;
  else serial_inputs_.push_back({tick, bytes});
}

void Session::create_machine() {
  drop_machine();
  MachineConfig mc;
  mc.memory_mib = config_.memory_mib;
  machine_ = std::make_unique<Machine>(mc);
  PcConfig pcc;  // COM1 captured in memory, VGA, PCI/IDE
  if (disks_.size() > pcc.ide_disks.size())
    throw std::invalid_argument(std::to_string(disks_.size()) +
                                " disk images: at most 4 (IDE primary master/slave, secondary master/slave)");
  for (size_t i = 0; i < disks_.size(); ++i) pcc.ide_disks[i] = disks_[i];
  if (kind_ == GuestKind::Firmware) {
    pcc.bios = bios_.empty() ? "/usr/share/seabios/bios-256k.bin" : bios_;
    pcc.vga_bios = vga_bios_.empty() ? "/usr/share/seabios/vgabios-stdvga.bin" : vga_bios_ == "none" ? "" : vga_bios_;
  }
  try {
    platform_ = std::make_unique<PcPlatform>(*machine_, pcc);
  } catch (...) {
    machine_.reset();
    throw;
  }
  record_output();
  install_breakpoint_hook();
}

void Session::record_output() {
  // The run's output as campaigns compare it: debug console and COM1
  // bytes in the order the guest wrote them.
  machine_->add_console_observer([this](char ch) { output_.push_back(ch); });
  if (CapturedSerialOutput* cap = platform_ ? platform_->com_capture(0) : nullptr)
    cap->add_observer([this](uint8_t b) { output_.push_back(static_cast<char>(b)); });
}

void Session::load_multiboot(const std::string& kernel, const std::string& cmdline) {
  snapshot_.reset();
  campaign_.reset();
  kind_ = GuestKind::Multiboot;
  kernel_ = kernel;
  initrd_.clear();
  cmdline_ = cmdline;
  disks_.clear();
  reset();
}

void Session::load_linux(const std::string& kernel, const std::string& initrd, const std::string& cmdline,
                         const std::vector<std::string>& disks) {
  snapshot_.reset();
  campaign_.reset();
  kind_ = GuestKind::Linux;
  kernel_ = kernel;
  initrd_ = initrd;
  cmdline_ = cmdline;
  disks_ = disks;
  reset();
}

void Session::load_firmware(const std::vector<std::string>& disks, const std::string& bios,
                            const std::string& vga_bios) {
  snapshot_.reset();
  campaign_.reset();
  kind_ = GuestKind::Firmware;
  kernel_ = bios.empty() ? "/usr/share/seabios/bios-256k.bin" : bios;
  if (disks.empty()) throw std::invalid_argument("a firmware boot needs a disk image");
  disks_ = disks;
  bios_ = bios;
  vga_bios_ = vga_bios;
  initrd_.clear();
  cmdline_.clear();
  try {
    reset();
  } catch (...) {
    kind_ = GuestKind::None;
    throw;
  }
}

void Session::load_experiment_file(const std::string& path) {
  experiments::LoaderVars vars{{"FAULTLINE_GUEST_DIR", FAULTLINE_GUEST_DIR}};
  const experiments::LoadedCampaign lc = experiments::load_campaign(path, vars);
  const pb::Workload& w = lc.campaign.workload();
  config_.memory_mib = lc.campaign.machine().memory_mib();
  // The loader resolved every path against the file and checked it.
  if (w.has_linux()) {
    load_linux(lc.kernel_path, w.linux().initrd(), w.linux().append(),
               std::vector<std::string>(w.linux().disks().begin(), w.linux().disks().end()));
  } else if (w.has_firmware()) {
    load_firmware(std::vector<std::string>(w.firmware().disks().begin(), w.firmware().disks().end()),
                  lc.kernel_path, w.firmware().vga_bios());
  } else {
    if (w.multiboot().modules_size() > 0)
      throw std::runtime_error(path + ": multiboot modules are not loaded by the GUI (nor by campaign runs)");
    load_multiboot(lc.kernel_path, w.multiboot().cmdline());
  }
}

void Session::load_experiment(const std::string& db_path, uint64_t id) {
  snapshot_.reset();
  drop_machine();
  campaign_.reset();
  kind_ = GuestKind::None;
  store::Store db = store::Store::open(db_path);
  std::optional<store::Row> row = db.row(id);
  if (!row)
    throw std::runtime_error(db_path + ": no experiment with id " + std::to_string(id) + " (" +
                             std::to_string(db.row_count()) + " done)");
  // The same variables as the CLI: the environment wins over the build's
  // guest-kernel directory.
  experiments::LoaderVars vars{{"FAULTLINE_GUEST_DIR", FAULTLINE_GUEST_DIR}};
  campaign_ = campaign::session_for_store(db, vars);
  stored_ = row->result;
  db_path_ = db_path;
  experiment_id_ = id;
  kernel_ = campaign_->campaign().workload().multiboot().kernel();
  const campaign::Settings& st = campaign_->settings();
  limit_ticks_ = static_cast<uint64_t>(static_cast<double>(campaign_->golden().end_ticks) * st.timeout_factor) +
                 st.timeout_margin;
  kind_ = GuestKind::Experiment;
  restart_experiment();
}

void Session::restart_experiment() {
  drop_machine();
  verdict_.clear();
  // The campaign's rig (machine, PC platform for PC campaigns, output
  // hooks): the window drives its machine and platform; the rig object
  // stays alive because its hooks refer to it.
  rig_ = campaign_->make_machine();
  machine_ = std::move(rig_->machine);
  platform_ = std::move(rig_->platform);
  install_breakpoint_hook();
  const campaign::SessionCheckpoint& cp = campaign_->checkpoints()[campaign_->checkpoint_for(stored_.fault())];
  machine_->restore(cp.machine);
  output_ = cp.state.output;  // the merged output of that moment
  record_output();
  injector_ = std::make_unique<faults::FaultInjector>(*machine_, &campaign_->symbols(), platform_.get());
  injector_->arm(stored_.fault());
}

faults::InjectionRecord Session::experiment_injection() const {
  return injector_ ? injector_->record() : faults::InjectionRecord{};
}

void Session::finish(const std::string& reason) {
  finished_ = true;
  finish_reason_ = reason;
  if (kind_ != GuestKind::Experiment) return;
  // What the campaign compared: its merged output (and the screen for
  // screen-scripted campaigns).
  const std::string digest = campaign::sha256_hex(campaign_->run_output(output_, platform_.get()));
  const bool same = digest == stored_.output_digest();
  verdict_ = std::string(same ? "reproduced" : "NOT reproduced") + ": stored outcome " +
             pb::Outcome_Name(stored_.outcome()) + ", console digest " + (same ? "matches" : "differs") +
             " (stored " + stored_.output_digest().substr(0, 16) + ", replayed " + digest.substr(0, 16) + ")";
}

void Session::reset() {
  if (kind_ == GuestKind::None) return;
  if (kind_ == GuestKind::Experiment) {
    restart_experiment();
    return;
  }
  create_machine();
  try {
    if (kind_ == GuestKind::Multiboot) {
      MultibootOptions mb;
      mb.kernel_path = kernel_;
      mb.cmdline = cmdline_;
      image_ = std::make_unique<ElfImage>(multiboot_load(*machine_, mb));
    } else if (kind_ == GuestKind::Firmware) {
      image_.reset();
      machine_->cpu().reset();  // F000:FFF0, where the mapped firmware starts
    } else {
      image_.reset();
      // screen_info describes the VGA's 80x25 text mode, so tty0 reaches
      // the VGA (linux_load leaves it zero otherwise).
      linux_load(*machine_, LinuxBootOptions{kernel_, initrd_, cmdline_, platform_ && platform_->vga()});
    }
  } catch (...) {
    platform_.reset();
    machine_.reset();
    rig_.reset();
    throw;
  }
}

RunResult Session::run_slice(uint64_t max_instructions) {
  RunResult r;
  if (!machine_ || finished_) {
    r.outcome = RunOutcome::Stopped;
    return r;
  }
  if (kind_ == GuestKind::Experiment) {
    // The campaign's time limit counts from the start of virtual time.
    const uint64_t now = machine_->cpu().ticks();
    if (now >= limit_ticks_) {
      finish("time limit reached (a hang in a campaign)");
      r.outcome = RunOutcome::InstructionLimit;
      return r;
    }
    max_instructions = std::min(max_instructions, limit_ticks_ - now);
  }
  r = machine_->run(max_instructions);
  poll_armed();
  if (bp_hit_) return r;  // stopped at a breakpoint (Stopped)
  char buf[128];
  switch (r.outcome) {
    case RunOutcome::InstructionLimit:
      if (kind_ == GuestKind::Experiment && machine_->cpu().ticks() >= limit_ticks_)
        finish("time limit reached (a hang in a campaign)");
      break;
    case RunOutcome::Exited:
      std::snprintf(buf, sizeof buf, "guest exited with status %u", r.exit_status);
      finish(buf);
      break;
    case RunOutcome::TripleFault:
      std::snprintf(buf, sizeof buf, "triple fault at EIP=%08X", machine_->cpu().s.eip);
      finish(buf);
      break;
    case RunOutcome::Halted:
      std::snprintf(buf, sizeof buf, "halted with interrupts disabled at EIP=%08X", machine_->cpu().s.eip);
      finish(buf);
      break;
    case RunOutcome::Stopped:
      if (platform_ && platform_->reset_requested()) {
        finish("guest requested a system reset");
      } else if (kind_ == GuestKind::Experiment) {
        // The campaign's end patterns stop the run at the end of a console
        // line; other stops (fault triggers) just continue.
        const std::string& out = machine_->console_output();
        if (!out.empty() && out.back() == '\n') {
          size_t start = out.size() >= 2 ? out.rfind('\n', out.size() - 2) : std::string::npos;
          start = start == std::string::npos ? 0 : start + 1;
          const std::string line = out.substr(start, out.size() - 1 - start);
          for (const auto& re : campaign_->settings().end_patterns)
            if (std::regex_search(line, re)) {
              finish("end pattern matched: " + line);
              break;
            }
        }
      }
      break;
  }
  return r;
}

const std::string& Session::console_output() const {
  return machine_ ? machine_->console_output() : kEmpty;
}

const std::string& Session::output() const { return output_; }

const std::string& Session::serial_output() const {
  if (!platform_) return kEmpty;
  const CapturedSerialOutput* cap = platform_->com_capture(0);
  return cap ? cap->output() : kEmpty;
}

faults::InjectionRecord Session::add_hand_fault(const pb::Fault& fault, bool now, bool* waiting) {
  faults::FaultInjector& inj = new_injector(fault);
  try {
    if (now) inj.inject_now(fault);
    else inj.arm(fault);
  } catch (...) {
    active_.pop_back();
    throw;
  }
  active_.back().pending = true;
  poll_armed();  // applied already (now, or a trigger already reached): into the history
  const faults::InjectionRecord rec = inj.record();
  if (waiting) *waiting = inj.waiting();
  if (!rec.injected && !inj.waiting()) {  // fired but could not apply (e.g. unmapped): nothing stays
    inj.disarm();
    active_.pop_back();
  }
  return rec;
}

faults::InjectionRecord Session::inject_now(const pb::Fault& fault, bool* waiting) {
  return add_hand_fault(fault, true, waiting);
}

void Session::arm(const pb::Fault& fault) { add_hand_fault(fault, false, nullptr); }

void Session::disarm() {
  if (kind_ == GuestKind::Experiment) return;
  disarm_all();
}

bool Session::trigger_pending() const {
  for (const Active& a : active_)
    if (a.pending) return true;
  return false;
}

bool Session::poll_armed() {
  std::vector<HandInjection> fired;
  for (Active& a : active_) {
    if (!a.pending) continue;
    if (a.injector->waiting()) continue;
    const faults::InjectionRecord& rec = a.injector->record();
    a.pending = false;
    if (rec.injected) fired.push_back({a.fault, rec});  // else fired but could not apply (e.g. unmapped)
  }
  std::stable_sort(fired.begin(), fired.end(), [](const HandInjection& x, const HandInjection& y) {
    return x.record.at_instruction < y.record.at_instruction;
  });
  history_.insert(history_.end(), fired.begin(), fired.end());
  return !fired.empty();
}

void Session::install_breakpoint_hook() {
  installed_bps_.clear();
  Cpu& cpu = machine_->cpu();
  cpu.on_pc = &Session::pc_thunk;
  cpu.on_pc_ctx = this;
  set_breakpoints(breakpoints_);
}

void Session::pc_thunk(void* ctx, uint32_t lin) {
  auto* self = static_cast<Session*>(ctx);
  if (std::find(self->breakpoints_.begin(), self->breakpoints_.end(), lin) == self->breakpoints_.end()) return;
  self->bp_hit_ = lin;
  self->machine_->cpu().request_stop(StopReason::Requested);
}

void Session::set_breakpoints(const std::vector<uint32_t>& addresses) {
  breakpoints_ = addresses;
  if (!machine_) return;
  Cpu& cpu = machine_->cpu();
  // Remove what this session added (one entry each; an injector's PC
  // trigger may have its own entry at the same address).
  for (uint32_t a : installed_bps_) {
    auto it = std::find(cpu.pc_breakpoints.begin(), cpu.pc_breakpoints.end(), a);
    if (it != cpu.pc_breakpoints.end()) cpu.pc_breakpoints.erase(it);
  }
  installed_bps_ = addresses;
  cpu.pc_breakpoints.insert(cpu.pc_breakpoints.end(), addresses.begin(), addresses.end());
  cpu.hooks_changed();
}

std::optional<uint32_t> Session::take_breakpoint_hit() {
  std::optional<uint32_t> hit = bp_hit_;
  bp_hit_.reset();
  return hit;
}

void Session::check_snapshot_allowed(const char* what) {
  if (!machine_) throw std::logic_error("no machine: load a kernel first");
  if (trigger_pending()) throw std::logic_error(std::string("a fault trigger is armed: disarm it before ") + what);
  for (const Active& a : active_) {
    const auto d = a.fault.duration().kind_case();
    if (d == pb::Duration::kPermanent || d == pb::Duration::kIntermittentInstructions)
      throw std::logic_error(std::string("a permanent or intermittent fault is being enforced: disarm it before ") +
                             what);
  }
  disarm_all();  // nothing left to do for transient faults
}

void Session::save_snapshot() {
  check_snapshot_allowed("taking a snapshot");
  snapshot_ = std::make_unique<Machine::Checkpoint>(machine_->checkpoint());
  snapshot_history_ = history_;
  snapshot_output_ = output_;
  snapshot_input_ = first_input_;
  snapshot_serial_inputs_ = serial_inputs_;
  snapshot_finished_ = finished_;
  snapshot_reason_ = finish_reason_;
}

void Session::load_snapshot() {
  if (!machine_ || !snapshot_) throw std::logic_error("no snapshot saved");
  disarm_all();
  machine_->restore(*snapshot_);
  history_ = snapshot_history_;
  output_ = snapshot_output_;
  first_input_ = snapshot_input_;
  serial_inputs_ = snapshot_serial_inputs_;
  finished_ = snapshot_finished_;
  finish_reason_ = snapshot_reason_;
  bp_hit_.reset();
}

std::unique_ptr<Session> Session::fork() {
  if (!machine_) throw std::logic_error("no machine: load a kernel first");
  if (kind_ == GuestKind::Experiment) throw std::logic_error("a replayed experiment cannot be forked");
  if (trigger_pending()) throw std::logic_error("a fault trigger is armed: disarm it before forking");
  const Machine::Checkpoint cp = machine_->checkpoint();
  auto copy = std::make_unique<Session>(config_);
  copy->kind_ = kind_;
  copy->kernel_ = kernel_;
  copy->initrd_ = initrd_;
  copy->cmdline_ = cmdline_;
  copy->disks_ = disks_;
  copy->bios_ = bios_;
  copy->vga_bios_ = vga_bios_;
  copy->reset();  // builds the machine and loads the kernel (symbols)
  copy->machine_->restore(cp);
  copy->first_input_ = first_input_;
  copy->serial_inputs_ = serial_inputs_;
  copy->output_ = output_;
  copy->finished_ = finished_;
  copy->finish_reason_ = finish_reason_;
  return copy;
}

namespace {

std::string absolute_path(const std::string& path) {
  return path.empty() ? path : std::filesystem::absolute(path).lexically_normal().string();
}

void add_input(pb::GuiSnapshot& meta, const char* role, const std::string& path) {
  if (path.empty()) return;
  pb::GuiSnapshotInput* in = meta.add_inputs();
  in->set_role(role);
  in->set_path(path);
  in->set_sha256(file_sha256(path));
}

}  // namespace

void Session::save_snapshot_file(const std::string& path) {
  if (kind_ == GuestKind::Experiment)
    throw std::logic_error("a replayed experiment cannot be saved to a snapshot file (its campaign database replays it)");
  check_snapshot_allowed("saving a snapshot");
  pb::GuiSnapshot meta;
  pb::GuiSnapshotSession& d = *meta.mutable_session();
  d.set_kind(kind_ == GuestKind::Multiboot ? pb::GuiSnapshotSession::MULTIBOOT
             : kind_ == GuestKind::Linux   ? pb::GuiSnapshotSession::LINUX
                                           : pb::GuiSnapshotSession::FIRMWARE);
  d.set_kernel(absolute_path(kernel_));
  d.set_initrd(absolute_path(initrd_));
  d.set_cmdline(cmdline_);
  d.set_memory_mib(config_.memory_mib);
  for (const std::string& disk : disks_) d.add_disks(absolute_path(disk));
  // The files create_machine() uses, defaults included.
  for (const std::string& disk : d.disks()) add_input(meta, "disk", disk);
  if (kind_ == GuestKind::Firmware) {
    d.set_bios(absolute_path(bios_));
    d.set_vga_bios(vga_bios_ == "none" ? vga_bios_ : absolute_path(vga_bios_));
    add_input(meta, "BIOS", d.kernel());
    add_input(meta, "VGA BIOS",
              vga_bios_.empty() ? "/usr/share/seabios/vgabios-stdvga.bin" : vga_bios_ == "none" ? "" : d.vga_bios());
  } else {
    add_input(meta, "kernel", d.kernel());
    add_input(meta, "initrd", d.initrd());
  }
  const Machine::Checkpoint cp = machine_->checkpoint();
  pb::GuiSnapshotMachine& m = *meta.mutable_machine();
  cpu_state_to_proto(cp.cpu, machine_->cpu().eflags(), *m.mutable_cpu());
  m.set_ticks(cp.ticks);
  m.set_halted_ticks(cp.halted_ticks);
  m.set_console(cp.console);
  m.set_devices(cp.devices);
  for (const HandInjection& h : history_) {
    pb::GuiSnapshotInjection* hi = meta.add_history();
    *hi->mutable_fault() = h.fault;
    hi->set_injected(h.record.injected);
    hi->set_at_instruction(h.record.at_instruction);
    hi->set_at_time_ns(h.record.at_time_ns);
    hi->set_detail(h.record.detail);
    hi->set_value(h.record.value);
  }
  meta.set_finished(finished_);
  meta.set_finish_reason(finish_reason_);
  meta.set_output(output_);
  if (first_input_) {
    meta.set_has_input(true);
    meta.set_input_tick(first_input_->tick);
    meta.set_input_what(first_input_->what);
  }
  for (const SerialInput& in : serial_inputs_) {
    pb::GuiSnapshotSerialInput* si = meta.add_serial_inputs();
    si->set_tick(in.tick);
    si->set_bytes(in.bytes);
  }
  write_snapshot_file(path, meta, cp.memory->data(), cp.memory->size());
}

void Session::load_snapshot_file(const std::string& path) {
  // Everything that can be checked without a machine is checked before the
  // current one goes.
  const SnapshotFileData f = read_snapshot_file(path);
  const pb::GuiSnapshotSession& d = f.meta.session();
  GuestKind kind = GuestKind::None;
  switch (d.kind()) {
    case pb::GuiSnapshotSession::MULTIBOOT: kind = GuestKind::Multiboot; break;
    case pb::GuiSnapshotSession::LINUX: kind = GuestKind::Linux; break;
    case pb::GuiSnapshotSession::FIRMWARE: kind = GuestKind::Firmware; break;
    default: throw std::runtime_error(path + ": unknown guest kind " + std::to_string(d.kind()));
  }
  check_snapshot_inputs(path, f.meta);
  std::vector<HandInjection> history;
  for (const pb::GuiSnapshotInjection& hi : f.meta.history())
    history.push_back({hi.fault(), faults::InjectionRecord{hi.injected(), hi.at_instruction(), hi.at_time_ns(), hi.detail(), hi.value()}});

  snapshot_.reset();
  campaign_.reset();
  kind_ = kind;
  config_.memory_mib = d.memory_mib();
  kernel_ = d.kernel();
  initrd_ = d.initrd();
  cmdline_ = d.cmdline();
  disks_.assign(d.disks().begin(), d.disks().end());
  bios_ = d.bios();
  vga_bios_ = d.vga_bios();
  try {
    reset();  // the machine and platform of the saved session, kernel loaded
    f.fill_ram(path, machine_->memory());
    Machine::Checkpoint cp;
    cp.cpu = f.cpu;
    cp.ticks = f.meta.machine().ticks();
    cp.halted_ticks = f.meta.machine().halted_ticks();
    cp.console = f.meta.machine().console();
    cp.devices = f.meta.machine().devices();
    // RAM now holds the saved contents; the checkpoint's image is a copy.
    cp.memory = std::make_shared<MemorySnapshot>(machine_->memory().snapshot_in_memory());
    machine_->restore(cp);
  } catch (const std::exception& e) {
    drop_machine();
    throw std::runtime_error(path + ": cannot restore the snapshot: " + e.what());
  }
  history_ = std::move(history);
  finished_ = f.meta.finished();
  finish_reason_ = f.meta.finish_reason();
  output_ = f.meta.output();
  if (f.meta.has_input()) first_input_ = InputNote{f.meta.input_tick(), f.meta.input_what()};
  for (const pb::GuiSnapshotSerialInput& si : f.meta.serial_inputs()) serial_inputs_.push_back({si.tick(), si.bytes()});
  bp_hit_.reset();
}

uint64_t Session::snapshot_ticks() const { return snapshot_ ? snapshot_->ticks : 0; }

const SymbolTable* Session::symbols() const {
  if (kind_ == GuestKind::Experiment && campaign_) return &campaign_->symbols();
  return kind_ == GuestKind::Multiboot && image_ ? &image_->symbols : nullptr;
}

}  // namespace faultline::gui
