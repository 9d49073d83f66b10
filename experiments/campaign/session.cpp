#include "experiments/campaign/session.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "core/boot/linux_boot.h"
#include "core/boot/multiboot.h"
#include "devices/pc/pc_platform.h"
#include "experiments/campaign/sha256.h"
#include "faults/fault_space.h"
#include "faults/injector.h"

namespace faultline::campaign {

namespace {

// Script patterns: ^ and $ also match at line breaks.
constexpr auto kScriptRegexFlags = std::regex::ECMAScript | std::regex::multiline;

std::vector<std::regex> compile(const google::protobuf::RepeatedPtrField<std::string>& patterns,
                                const char* field) {
  std::vector<std::regex> out;
  for (const std::string& p : patterns) {
    try {
      out.emplace_back(p, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument(std::string(field) + ": bad regex \"" + p + "\": " + e.what());
    }
  }
  return out;
}

bool any_match(const std::vector<std::regex>& res, const std::string& text) {
  for (const std::regex& re : res)
    if (std::regex_search(text, re)) return true;
  return false;
}

bool contains(const std::vector<uint32_t>& v, uint32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

std::string printable(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u >= 0x20 && u < 0x7F) {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

}  // namespace

Settings settings_from(const pb::Campaign& c) {
  Settings s;
  if (c.machine().memory_mib()) s.machine.memory_mib = c.machine().memory_mib();
  if (c.machine().instructions_per_second()) s.machine.instructions_per_second = c.machine().instructions_per_second();
  const pb::EndCondition& e = c.end();
  if (e.max_instructions()) s.max_instructions = e.max_instructions();
  if (e.timeout_factor() > 0) s.timeout_factor = e.timeout_factor();
  if (e.timeout_margin()) s.timeout_margin = e.timeout_margin();
  if (c.checkpoints()) s.checkpoints = c.checkpoints();
  s.end_patterns = compile(e.end_patterns(), "end.end_patterns");
  const pb::Classification& k = c.classification();
  s.detected_patterns = compile(k.detected_patterns(), "classification.detected_patterns");
  s.crash_patterns = compile(k.crash_patterns(), "classification.crash_patterns");
  s.detected_statuses.assign(k.detected_exit_statuses().begin(), k.detected_exit_statuses().end());
  s.crash_statuses.assign(k.crash_exit_statuses().begin(), k.crash_exit_statuses().end());
  return s;
}

bool uses_pc_platform(const pb::Campaign& c) {
  return c.workload().has_linux() || c.workload().has_firmware() ||
         (c.workload().has_multiboot() && c.workload().multiboot().pc());
}

std::string describe_end(const RunEnd& e) {
  switch (e.by) {
    case RunEnd::By::Machine: break;
    case RunEnd::By::EndPattern: return "end pattern";
    case RunEnd::By::Reset: return "reset";
    case RunEnd::By::ScriptEnd: return "script end";
    case RunEnd::By::Limit: return "timeout";
    case RunEnd::By::WaitTimeout: return "script[" + std::to_string(e.step) + "] wait_for timed out";
    case RunEnd::By::ExpectTimeout: return "script[" + std::to_string(e.step) + "] expect timed out";
  }
  switch (e.outcome) {
    case RunOutcome::Exited: return "exited";
    case RunOutcome::TripleFault: return "triple fault";
    case RunOutcome::Halted: return "halted";
    case RunOutcome::InstructionLimit: return "instruction limit";
    case RunOutcome::Stopped: return "stopped";
  }
  return "?";
}

std::string diff_summary(const std::string& golden, const std::string& faulty, uint32_t golden_status,
                         uint32_t faulty_status) {
  constexpr size_t kMax = 80;
  if (golden == faulty) {
    if (golden_status == faulty_status) return "";
    return "exit status " + std::to_string(golden_status) + " vs " + std::to_string(faulty_status);
  }
  size_t pos = 0, line = 1;
  const size_t common = std::min(golden.size(), faulty.size());
  size_t line_start = 0;
  while (pos < common && golden[pos] == faulty[pos]) {
    if (golden[pos] == '\n') {
      line++;
      line_start = pos + 1;
    }
    pos++;
  }
  auto line_of = [&](const std::string& s) -> std::string {
    if (line_start >= s.size()) return "<end of output>";
    size_t nl = s.find('\n', line_start);
    return "\"" + printable(std::string_view(s).substr(line_start, nl == std::string::npos ? s.npos : nl - line_start), kMax) + "\"";
  };
  return "line " + std::to_string(line) + ": golden " + line_of(golden) + " vs faulty " + line_of(faulty);
}


namespace {

constexpr int kConsole = 0, kSerial = 1;
constexpr uint64_t kScreenPollNs = 1'000'000;  // SCREEN patterns: every 1 ms of virtual time
constexpr size_t kMultilineWindow = 1024;      // patterns that may span lines: the last 1 KiB

// Whether a script pattern can match a line break (then it is searched in
// the last 1 KiB of output instead of the current line).
bool may_span_lines(const std::string& p) {
  static const char* const kinds[] = {"\\n", "\\r", "\\s", "\\S", "\\W", "\\D", "[^", "\\x0", "\\u000", "\\c"};
  for (const char* k : kinds)
    if (p.find(k) != std::string::npos) return true;
  return p.find('\n') != std::string::npos || p.find('\r') != std::string::npos;
}

// Leftmost match of `re` in text[from, end); returns the absolute end offset.
std::optional<uint64_t> search_from(const std::string& text, uint64_t from, const std::regex& re) {
  if (from > text.size()) return std::nullopt;
  auto flags = std::regex_constants::match_default;
  if (from > 0) flags |= std::regex_constants::match_prev_avail;
  std::smatch m;
  if (!std::regex_search(text.begin() + static_cast<std::ptrdiff_t>(from), text.end(), m, re, flags))
    return std::nullopt;
  return from + static_cast<uint64_t>(m.position(0) + m.length(0));
}

const pb::WaitFor& wait_of(const pb::Step& st) { return st.has_wait_for() ? st.wait_for() : st.expect(); }

std::string step_text(const pb::Campaign& c, int i) {
  const pb::Step& st = c.script(i);
  std::string what = "script[" + std::to_string(i) + "]";
  if (st.has_wait_for() || st.has_expect()) {
    const pb::WaitFor& w = wait_of(st);
    what += std::string(st.has_wait_for() ? " wait_for" : " expect") + " \"" + printable(w.pattern(), 60) +
            "\" on " + pb::WaitFor::Source_Name(w.source());
  }
  return what;
}

}  // namespace

Rig::~Rig() {
  platform.reset();  // before the machine it hooks
}

const std::string& Rig::source_text(int source) const {
  static const std::string kEmpty;
  if (source == kConsole) return machine->console_output();
  if (platform)
    if (const CapturedSerialOutput* c = platform->com_capture(0)) return c->output();
  return kEmpty;
}

Session::Session(pb::Campaign campaign, std::string kernel_path)
    : campaign_(std::move(campaign)), kernel_path_(std::move(kernel_path)), settings_(settings_from(campaign_)) {
  const pb::Workload& w = campaign_.workload();
  if (!w.has_multiboot() && !w.has_linux() && !w.has_firmware())
    throw std::invalid_argument("campaign workload: missing");
  pc_ = uses_pc_platform(campaign_);
  for (int i = 0; i < campaign_.script_size(); ++i) {
    const pb::Step& st = campaign_.script(i);
    step_patterns_.emplace_back();
    step_line_mode_.push_back(true);
    if (st.has_wait_for() || st.has_expect()) {
      const pb::WaitFor& wf = wait_of(st);
      try {
        step_patterns_.back() = std::regex(wf.pattern(), kScriptRegexFlags);
      } catch (const std::regex_error& e) {
        throw std::invalid_argument(step_text(campaign_, i) + ": bad regex: " + e.what());
      }
      step_line_mode_.back() = !may_span_lines(wf.pattern());
      if (wf.source() == pb::WaitFor::SCREEN) screen_output_ = true;
      if (wf.source() != pb::WaitFor::CONSOLE && !pc_)
        throw std::invalid_argument(step_text(campaign_, i) + ": needs the PC platform");
    }
    if ((st.has_type_keys() || st.has_serial_input()) && !pc_)
      throw std::invalid_argument("script[" + std::to_string(i) + "]: needs the PC platform");
  }
}

Session::~Session() = default;

void Session::on_output(Rig& rig, int source, char ch) const {
  // A rig whose machine was taken over by another owner (the GUI's replay
  // window drives the machine itself) has no run to track.
  if (!rig.machine) return;
  rig.state.output.push_back(ch);
  const std::string& text = rig.source_text(source);
  const uint64_t size = text.size();
  uint64_t& line_start = rig.state.line_start[source];
  Rig::Watch& w = rig.watch;
  if (w.active && !w.matched && !w.screen && w.source == source) {
    uint64_t from = w.line_mode ? std::max(w.from, line_start)
                                : std::max<uint64_t>(w.from, size > kMultilineWindow ? size - kMultilineWindow : 0);
    if (auto end = search_from(text, from, *w.re)) {
      w.matched = true;
      w.match_end = *end;
      rig.machine->cpu().request_stop(StopReason::Requested);
    }
  }
  if (w.active && !w.matched && w.screen && rig.platform && rig.platform->vga() &&
      std::regex_search(rig.platform->vga()->text_screen(), *w.re)) {
    w.matched = true;
    rig.machine->cpu().request_stop(StopReason::Requested);
  }
  if (ch == '\n') {
    if (!settings_.end_patterns.empty() && size > line_start) {
      std::string line = text.substr(line_start, size - 1 - line_start);
      if (any_match(settings_.end_patterns, line)) {
        rig.end_pattern_hit = true;
        rig.machine->cpu().request_stop(StopReason::Requested);
      }
    }
    line_start = size;
  }
}

void Session::install_hooks(Rig& rig) const {
  Rig* r = &rig;
  rig.machine->add_console_observer([this, r](char ch) { on_output(*r, kConsole, ch); });
  if (rig.platform)
    if (CapturedSerialOutput* c = rig.platform->com_capture(0))
      c->add_observer([this, r](uint8_t b) { on_output(*r, kSerial, static_cast<char>(b)); });
}

std::unique_ptr<Rig> Session::make_machine() const {
  auto r = std::make_unique<Rig>();
  r->machine = std::make_unique<Machine>(settings_.machine);
  if (pc_) {
    PcConfig pcc;  // COM1 captured in memory (restored with checkpoints)
    if (campaign_.workload().has_linux()) {
      const auto& disks = campaign_.workload().linux().disks();
      if (disks.size() > 4) throw std::invalid_argument("workload.linux.disks: at most 4 disks");
      for (int i = 0; i < disks.size(); ++i) pcc.ide_disks[i] = disks[i];
    }
    if (campaign_.workload().has_firmware()) {
      const pb::FirmwareBoot& fw = campaign_.workload().firmware();
      if (fw.disks_size() > 4) throw std::invalid_argument("workload.firmware.disks: at most 4 disks");
      for (int i = 0; i < fw.disks_size(); ++i) pcc.ide_disks[i] = fw.disks(i);
      pcc.bios = kernel_path_;  // the loader resolved and checked the BIOS image
      pcc.vga_bios = fw.vga_bios() == "none" ? "" : fw.vga_bios();
    }
    r->platform = std::make_unique<PcPlatform>(*r->machine, pcc);
  }
  install_hooks(*r);
  return r;
}

void Session::boot(Rig& rig) {
  const pb::Workload& w = campaign_.workload();
  if (w.has_linux()) {
    LinuxBootOptions lb;
    lb.kernel_path = kernel_path_;
    lb.initrd_path = w.linux().initrd();
    lb.cmdline = w.linux().append();
    lb.vga_text = rig.platform && rig.platform->vga();
    linux_load(*rig.machine, lb);
    image_ = ElfImage{};
  } else if (w.has_firmware()) {
    rig.machine->cpu().reset();  // F000:FFF0: the firmware the platform mapped starts there
    image_ = ElfImage{};
  } else {
    MultibootOptions mb;
    mb.kernel_path = kernel_path_;
    mb.cmdline = w.multiboot().cmdline();
    for (const pb::Module& mod : w.multiboot().modules()) mb.modules.push_back({mod.path(), mod.cmdline()});
    image_ = multiboot_load(*rig.machine, mb);
  }
}

SessionCheckpoint Session::checkpoint(Rig& rig) const { return {rig.machine->checkpoint(), rig.state}; }

void Session::restore(Rig& rig, const SessionCheckpoint& cp) const {
  rig.machine->restore(cp.machine);
  if (rig.platform) rig.platform->clear_reset_request();
  rig.state = cp.state;
  rig.watch = {};
  rig.end_pattern_hit = false;
}

// Golden-run bookkeeping for drive(): checkpoints to take.
struct Session::Drive {
  std::vector<uint64_t> cp_ticks;  // pass 2: take a checkpoint at each of these ticks
  size_t next_cp = 0;
  std::vector<SessionCheckpoint>* out = nullptr;
  bool want_inject_cp = false;     // pass 1: a checkpoint right before the inject step
  std::vector<uint64_t>* step_ticks = nullptr;  // pass 1: when each step began
  std::optional<SessionCheckpoint> inject_cp;
  uint64_t inject_ticks = 0;
};

RunEnd Session::drive(Rig& rig, uint64_t limit, faults::FaultInjector* injector, const pb::Fault* fault,
                      Drive* g) const {
  Machine& m = *rig.machine;
  Cpu& cpu = m.cpu();
  ScriptPos& sp = rig.state.script;
  const uint32_t nsteps = static_cast<uint32_t>(campaign_.script_size());
  rig.end_pattern_hit = false;
  rig.watch = {};
  RunEnd e;
  auto finish = [&](RunEnd::By by) {
    rig.watch.active = false;
    e.by = by;
    if (by != RunEnd::By::Machine && by != RunEnd::By::Limit) e.outcome = RunOutcome::Stopped;
    e.ticks = cpu.ticks();
    e.end_pattern = by == RunEnd::By::EndPattern;
    return e;
  };
  auto advance = [&] {
    sp.step++;
    sp.begun = false;
    rig.watch = {};
  };
  for (;;) {
    const uint64_t now = cpu.ticks();
    // 1. Script steps due now (they take no virtual time, except waits).
    uint64_t stop = limit;
    while (sp.step < nsteps) {
      const pb::Step& st = campaign_.script(static_cast<int>(sp.step));
      const bool fresh = !sp.begun;
      if (fresh) {
        sp.begun = true;
        sp.step_start = now;
        if (g && g->step_ticks && g->step_ticks->size() == sp.step) g->step_ticks->push_back(now);
      }
      if (st.has_type_keys()) {
        rig.platform->i8042().type_text(st.type_keys());
        advance();
      } else if (st.has_serial_input()) {
        if (Uart* com1 = rig.platform->com(0)) com1->receive(std::string_view(st.serial_input()));
        advance();
      } else if (st.has_inject()) {
        if (g && g->want_inject_cp && !g->inject_cp) {
          sp.begun = false;  // an experiment restoring it starts the step afresh
          g->inject_cp = checkpoint(rig);
          g->inject_ticks = now;
        }
        if (injector && fault) injector->inject_now(*fault);
        advance();
      } else if (st.has_end()) {
        return finish(RunEnd::By::ScriptEnd);
      } else if (st.has_wait_ns()) {
        const uint64_t deadline = sp.step_start + m.clock().ns_to_ticks(st.wait_ns());
        if (now >= deadline) {
          advance();
          continue;
        }
        stop = std::min(stop, deadline);
        break;
      } else if (st.has_wait_for() || st.has_expect()) {
        const pb::WaitFor& wf = wait_of(st);
        const std::regex& re = step_patterns_[sp.step];
        bool matched = false;
        if (wf.source() == pb::WaitFor::SCREEN) {
          if (fresh) sp.begin_size = rig.state.output.size();
          // Polled at step start and at every multiple of the poll interval.
          const uint64_t period = std::max<uint64_t>(1, m.clock().ns_to_ticks(kScreenPollNs));
          if (rig.watch.active && rig.watch.matched)
            matched = true;
          else if ((fresh || now % period == 0) && rig.platform && rig.platform->vga())
            matched = std::regex_search(rig.platform->vga()->text_screen(), re);
          if (!matched) {
            stop = std::min(stop, (now / period + 1) * period);
            if (!rig.watch.active) {
              rig.watch.active = true;
              rig.watch.screen = true;
              rig.watch.re = &re;
              rig.watch.matched = false;
            }
          }
        } else {
          const int src = wf.source() == pb::WaitFor::SERIAL ? kSerial : kConsole;
          const std::string& text = rig.source_text(src);
          if (fresh) {
            sp.begin_size = text.size();
            if (auto end = search_from(text, sp.consumed[src], re)) {
              matched = true;
              sp.consumed[src] = *end;
            }
          } else if (rig.watch.active && rig.watch.matched) {
            matched = true;
            sp.consumed[src] = rig.watch.match_end;
          }
          if (!matched && !rig.watch.active) {
            rig.watch.active = true;
            rig.watch.source = src;
            rig.watch.re = &re;
            rig.watch.line_mode = step_line_mode_[sp.step];
            rig.watch.from = sp.consumed[src];
            rig.watch.matched = false;
          }
        }
        if (matched) {
          advance();
          continue;
        }
        if (wf.timeout_ns()) {
          const uint64_t deadline = sp.step_start + m.clock().ns_to_ticks(wf.timeout_ns());
          if (now >= deadline) {
            e.step = static_cast<int>(sp.step);
            if (st.has_expect()) {
              const uint64_t size = wf.source() == pb::WaitFor::SCREEN ? rig.state.output.size()
                                    : rig.source_text(wf.source() == pb::WaitFor::SERIAL ? kSerial : kConsole).size();
              e.step_saw_output = size > sp.begin_size;
              return finish(RunEnd::By::ExpectTimeout);
            }
            return finish(RunEnd::By::WaitTimeout);
          }
          stop = std::min(stop, deadline);
        }
        break;
      } else {
        advance();  // an empty step (the loader rejects these)
      }
    }
    // 2. Golden pass 2: checkpoints due now.
    if (g) {
      while (g->next_cp < g->cp_ticks.size() && g->cp_ticks[g->next_cp] <= now) {
        if (g->cp_ticks[g->next_cp] == now && g->out) g->out->push_back(checkpoint(rig));
        g->next_cp++;
      }
      if (g->next_cp < g->cp_ticks.size()) stop = std::min(stop, g->cp_ticks[g->next_cp]);
    }
    // 3. The budget.
    if (now >= limit) return finish(RunEnd::By::Limit);
    // 4. Run to the next point of interest.
    RunResult r = m.run(stop - now);
    switch (r.outcome) {
      case RunOutcome::Exited:
      case RunOutcome::TripleFault:
      case RunOutcome::Halted:
        e.outcome = r.outcome;
        e.exit_status = r.outcome == RunOutcome::Exited ? r.exit_status : 0;
        return finish(RunEnd::By::Machine);
      case RunOutcome::Stopped:
        if (rig.platform && rig.platform->reset_requested()) {
          e.outcome = RunOutcome::Stopped;
          return finish(RunEnd::By::Reset);
        }
        if (rig.end_pattern_hit) {
          e.outcome = RunOutcome::Stopped;
          return finish(RunEnd::By::EndPattern);
        }
        break;  // a script match (or another hook): go on
      case RunOutcome::InstructionLimit: break;
    }
  }
}

void Session::run_golden() {
  auto t0 = std::chrono::steady_clock::now();
  rig_ = make_machine();
  boot(*rig_);
  rig_->state = RunState{};
  checkpoints_.clear();
  checkpoints_.push_back(checkpoint(*rig_));
  const uint64_t start = checkpoints_[0].machine.ticks;

  int inject_step = -1;
  for (int i = 0; i < campaign_.script_size(); ++i)
    if (campaign_.script(i).has_inject()) inject_step = i;

  Drive pass1;
  pass1.want_inject_cp = inject_step >= 0;
  golden_.step_ticks.clear();
  pass1.step_ticks = &golden_.step_ticks;
  RunEnd end = drive(*rig_, start + settings_.max_instructions, nullptr, nullptr, &pass1);
  Machine& m = *rig_->machine;

  // The script must fit the golden run.
  const uint32_t at = rig_->state.script.step;
  if (end.by == RunEnd::By::WaitTimeout || end.by == RunEnd::By::ExpectTimeout)
    throw GoldenRunError("golden run: " + step_text(campaign_, end.step) + " timed out after " +
                         std::to_string(wait_of(campaign_.script(end.step)).timeout_ns()) +
                         " ns of virtual time (the script does not match the workload's output)");
  if (end.by != RunEnd::By::ScriptEnd && at < static_cast<uint32_t>(campaign_.script_size()) &&
      (campaign_.script(at).has_wait_for() || campaign_.script(at).has_expect()))
    throw GoldenRunError("golden run: the run ended (" +
                         (end.by == RunEnd::By::Limit ? std::string("end.max_instructions reached") : describe_end(end)) +
                         ") while " + step_text(campaign_, static_cast<int>(at)) + " was waiting");
  if (inject_step >= 0 && !pass1.inject_cp)
    throw GoldenRunError("golden run: the run ended (" + describe_end(end) + ") before script[" +
                         std::to_string(inject_step) + "] (inject) was reached");

  golden_.output = run_output(*rig_);
  golden_.digest = sha256_hex(golden_.output);
  golden_.end_ticks = end.ticks;
  golden_.end_retired = m.cpu().retired();
  golden_.end_time_ns = m.clock().ticks_to_ns(end.ticks);
  golden_.outcome = end.outcome;
  golden_.reset = end.by == RunEnd::By::Reset;
  golden_.exit_status = end.exit_status;
  golden_.end_reason = end.by == RunEnd::By::Limit ? "instruction limit" : describe_end(end);
  golden_.inject_step = inject_step;

  if (pass1.inject_cp) {
    // Every experiment starts right before the inject step.
    golden_.inject_ticks = pass1.inject_ticks;
    checkpoints_.push_back(std::move(*pass1.inject_cp));
  } else {
    // Second pass: evenly spaced checkpoints now that the end is known.
    const uint64_t span = golden_.end_ticks - start;
    Drive pass2;
    pass2.out = &checkpoints_;
    for (uint32_t k = 1; k < settings_.checkpoints; k++) {
      uint64_t target = start + span * k / settings_.checkpoints;
      if (target > start && (pass2.cp_ticks.empty() || target > pass2.cp_ticks.back())) pass2.cp_ticks.push_back(target);
    }
    if (!pass2.cp_ticks.empty()) {
      restore(*rig_, checkpoints_[0]);
      drive(*rig_, pass2.cp_ticks.back(), nullptr, nullptr, &pass2);
    }
  }
  restore(*rig_, checkpoints_[0]);

  faults::GoldenInfo info;
  info.end_instruction = golden_.end_ticks;
  info.end_time_ns = golden_.end_time_ns;
  info.symbols = &image_.symbols;
  info.ram_bytes = m.memory().size();
  if (rig_->platform) info.device_fields = faults::device_field_infos(*rig_->platform);
  space_ = std::make_unique<faults::FaultSpace>(campaign_, info);
  golden_.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

size_t Session::checkpoint_for(const pb::Fault& fault) const {
  if (golden_.inject_step >= 0) return checkpoints_.size() - 1;  // the one right before the inject step
  size_t best = 0;
  const pb::Trigger& t = fault.trigger();
  if (t.has_instruction()) {
    // Instruction triggers count CPU ticks (retired plus halted), like
    // checkpoint ticks.
    for (size_t i = 1; i < checkpoints_.size(); i++)
      if (checkpoints_[i].machine.ticks < t.instruction()) best = i;
  } else if (t.has_time_ns()) {
    for (size_t i = 1; i < checkpoints_.size(); i++)
      if (rig_->machine->clock().ticks_to_ns(checkpoints_[i].machine.ticks) < t.time_ns()) best = i;
  }
  return best;
}

std::string Session::run_output(const std::string& merged, const PcPlatform* platform) const {
  if (!screen_output_ || !platform || !platform->vga()) return merged;
  std::string out = merged;
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out + "--- screen ---\n" + platform->vga()->text_screen();
}

RunEnd Session::rerun_from(Rig& rig, size_t index) const {
  restore(rig, checkpoints_.at(index));
  return drive(rig, checkpoints_[0].machine.ticks + settings_.max_instructions, nullptr, nullptr, nullptr);
}

pb::Outcome Session::classify(const RunEnd& end, const std::string& output) const {
  const Settings& s = settings_;
  // A triple fault, a stuck halt or a reset is a crash, unless the golden
  // run itself ends that way (then the output decides).
  const bool machine_end = end.by == RunEnd::By::Machine;
  if (machine_end && (end.outcome == RunOutcome::TripleFault || end.outcome == RunOutcome::Halted) &&
      end.outcome != golden_.outcome)
    return pb::CRASH;
  if (end.by == RunEnd::By::Reset && !golden_.reset) return pb::CRASH;
  const bool exited = machine_end && end.outcome == RunOutcome::Exited;
  if (any_match(s.detected_patterns, output) || (exited && contains(s.detected_statuses, end.exit_status)))
    return pb::DETECTED;
  if (any_match(s.crash_patterns, output) || (exited && contains(s.crash_statuses, end.exit_status)))
    return pb::CRASH;
  if (end.by == RunEnd::By::Limit || end.by == RunEnd::By::WaitTimeout) return pb::HANG;
  if (end.by == RunEnd::By::ExpectTimeout) return end.step_saw_output ? pb::SDC : pb::HANG;
  // Without an explicit crash list, any status other than the golden one
  // (and not a detection) is a crash.
  if (exited && s.crash_statuses.empty() && end.exit_status != 0 && end.exit_status != golden_.exit_status)
    return pb::CRASH;
  if (output != golden_.output || end.exit_status != golden_.exit_status) return pb::SDC;
  return pb::BENIGN;
}

pb::ExperimentResult Session::run_experiment(Rig& rig, uint64_t id, const pb::Fault& fault) const {
  auto t0 = std::chrono::steady_clock::now();
  pb::ExperimentResult r;
  r.set_id(id);
  *r.mutable_fault() = fault;
  r.set_seed(campaign_.sampling().seed());
  r.set_attempts(1);
  try {
    const SessionCheckpoint& cp = checkpoints_[checkpoint_for(fault)];
    restore(rig, cp);
    auto t1 = std::chrono::steady_clock::now();
    timing_.restore_seconds += std::chrono::duration<double>(t1 - t0).count();
    timing_.restored_pages += rig.machine->memory().last_restore_pages();
    const uint64_t limit = static_cast<uint64_t>(static_cast<double>(golden_.end_ticks) * settings_.timeout_factor) +
                           settings_.timeout_margin;
    const bool scripted_inject = golden_.inject_step >= 0;
    RunEnd end;
    faults::InjectionRecord rec;
    {
      faults::FaultInjector injector(*rig.machine, &image_.symbols, rig.platform.get());
      if (!scripted_inject) injector.arm(fault);
      end = drive(rig, limit, &injector, scripted_inject ? &fault : nullptr, nullptr);
      rec = injector.record();
      injector.disarm();
    }
    const std::string out = run_output(rig);
    r.set_trigger_instruction(rec.at_instruction);
    r.set_end_instruction(end.ticks);
    r.set_exit_status(end.exit_status);
    r.set_end_reason(describe_end(end));
    r.set_output_digest(sha256_hex(out));
    r.set_diff_summary(diff_summary(golden_.output, out, golden_.exit_status, end.exit_status));
    r.set_outcome(rec.injected ? classify(end, out) : pb::NOT_TRIGGERED);
  } catch (const std::exception& e) {
    r.set_outcome(pb::SIMULATOR_ERROR);
    r.set_end_reason(std::string("simulator error: ") + e.what());
  }
  r.set_wall_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  timing_.experiments++;
  timing_.run_seconds += r.wall_seconds();
  return r;
}

}  // namespace faultline::campaign
