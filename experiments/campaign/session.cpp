#include "experiments/campaign/session.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "core/boot/multiboot.h"
#include "experiments/campaign/sha256.h"
#include "faults/fault_space.h"
#include "faults/injector.h"

namespace faultline::campaign {

namespace {

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

std::string describe_end(const RunEnd& e, bool timeout) {
  if (timeout) return "timeout";
  if (e.end_pattern) return "end pattern";
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

Session::Session(pb::Campaign campaign, std::string kernel_path)
    : campaign_(std::move(campaign)), kernel_path_(std::move(kernel_path)), settings_(settings_from(campaign_)) {
  if (!campaign_.workload().has_multiboot())
    throw std::invalid_argument("campaign workload: only multiboot kernels can run campaigns so far");
  if (campaign_.script_size() > 0)
    throw std::invalid_argument("campaign script: scripted campaigns (`script` steps) are not supported by the "
                                "campaign runner yet; use fault group triggers");
}

Session::~Session() = default;

void Session::install_console_hook(Machine& m) const {
  if (settings_.end_patterns.empty()) return;
  // End patterns are matched against each complete console line.
  Machine* mp = &m;
  m.add_console_observer([this, mp](char ch) {
    if (ch != '\n') return;
    const std::string& out = mp->console_output();
    size_t end = out.size() - 1;
    size_t start = end == 0 ? std::string::npos : out.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string line = out.substr(start, end - start);
    if (any_match(settings_.end_patterns, line)) {
      end_pattern_hit_ = true;
      mp->cpu().request_stop(StopReason::Requested);
    }
  });
}

std::unique_ptr<Machine> Session::make_machine() const {
  auto m = std::make_unique<Machine>(settings_.machine);
  install_console_hook(*m);
  return m;
}

RunEnd Session::run_to_end(Machine& m, uint64_t budget) const {
  end_pattern_hit_ = false;
  const uint64_t limit = m.cpu().ticks() + budget;
  RunEnd e;
  for (;;) {
    uint64_t now = m.cpu().ticks();
    RunResult r = m.run(limit > now ? limit - now : 0);
    // Something other than the end pattern (a fault trigger) may stop the
    // run loop; keep going until a real end.
    if (r.outcome == RunOutcome::Stopped && !end_pattern_hit_ && r.ticks < limit) continue;
    e.outcome = r.outcome;
    e.end_pattern = end_pattern_hit_;
    e.exit_status = r.outcome == RunOutcome::Exited ? r.exit_status : 0;
    e.ticks = r.ticks;
    return e;
  }
}

void Session::run_golden() {
  auto t0 = std::chrono::steady_clock::now();
  machine_ = make_machine();
  MultibootOptions mb;
  mb.kernel_path = kernel_path_;
  mb.cmdline = campaign_.workload().multiboot().cmdline();
  image_ = multiboot_load(*machine_, mb);
  checkpoints_.clear();
  checkpoints_.push_back(machine_->checkpoint());

  RunEnd end = run_to_end(*machine_, settings_.max_instructions);
  golden_.output = machine_->console_output();
  golden_.digest = sha256_hex(golden_.output);
  golden_.end_ticks = end.ticks;
  golden_.end_retired = machine_->cpu().retired();
  golden_.end_time_ns = machine_->clock().ticks_to_ns(end.ticks);
  golden_.outcome = end.outcome;
  golden_.exit_status = end.exit_status;
  golden_.end_reason = describe_end(end, false);

  // Second pass: evenly spaced checkpoints now that the end is known.
  const uint64_t start = checkpoints_[0].ticks;
  const uint64_t span = golden_.end_ticks - start;
  machine_->restore(checkpoints_[0]);
  for (uint32_t k = 1; k < settings_.checkpoints; k++) {
    uint64_t target = start + span * k / settings_.checkpoints;
    uint64_t now = machine_->cpu().ticks();
    if (target <= now) continue;
    RunResult r = machine_->run(target - now);
    if (r.outcome != RunOutcome::InstructionLimit) break;  // cannot happen in a deterministic replay
    checkpoints_.push_back(machine_->checkpoint());
  }
  machine_->restore(checkpoints_[0]);

  faults::GoldenInfo info;
  info.end_instruction = golden_.end_ticks;
  info.end_time_ns = golden_.end_time_ns;
  info.symbols = &image_.symbols;
  info.ram_bytes = machine_->memory().size();
  space_ = std::make_unique<faults::FaultSpace>(campaign_, info);
  golden_.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

size_t Session::checkpoint_for(const pb::Fault& fault) const {
  size_t best = 0;
  const pb::Trigger& t = fault.trigger();
  if (t.has_instruction()) {
    // Instruction triggers count CPU ticks (retired plus halted), like
    // checkpoint ticks.
    for (size_t i = 1; i < checkpoints_.size(); i++)
      if (checkpoints_[i].ticks < t.instruction()) best = i;
  } else if (t.has_time_ns()) {
    for (size_t i = 1; i < checkpoints_.size(); i++)
      if (machine_->clock().ticks_to_ns(checkpoints_[i].ticks) < t.time_ns()) best = i;
  }
  return best;
}

pb::Outcome Session::classify(const RunEnd& end, bool timeout, const std::string& output) const {
  const Settings& s = settings_;
  // A triple fault or a stuck halt is a crash, unless the golden run itself
  // ends that way (then the output decides).
  if ((end.outcome == RunOutcome::TripleFault || end.outcome == RunOutcome::Halted) && end.outcome != golden_.outcome)
    return pb::CRASH;
  const bool exited = end.outcome == RunOutcome::Exited;
  if (any_match(s.detected_patterns, output) || (exited && contains(s.detected_statuses, end.exit_status)))
    return pb::DETECTED;
  if (any_match(s.crash_patterns, output) || (exited && contains(s.crash_statuses, end.exit_status)))
    return pb::CRASH;
  if (timeout) return pb::HANG;
  // Without an explicit crash list, any status other than the golden one
  // (and not a detection) is a crash.
  if (exited && s.crash_statuses.empty() && end.exit_status != 0 && end.exit_status != golden_.exit_status)
    return pb::CRASH;
  if (output != golden_.output || end.exit_status != golden_.exit_status) return pb::SDC;
  return pb::BENIGN;
}

pb::ExperimentResult Session::run_experiment(Machine& m, uint64_t id, const pb::Fault& fault) const {
  auto t0 = std::chrono::steady_clock::now();
  pb::ExperimentResult r;
  r.set_id(id);
  *r.mutable_fault() = fault;
  r.set_seed(campaign_.sampling().seed());
  r.set_attempts(1);
  try {
    const Machine::Checkpoint& cp = checkpoints_[checkpoint_for(fault)];
    m.restore(cp);
    auto t1 = std::chrono::steady_clock::now();
    timing_.restore_seconds += std::chrono::duration<double>(t1 - t0).count();
    timing_.restored_pages += m.memory().last_restore_pages();
    const uint64_t limit = static_cast<uint64_t>(static_cast<double>(golden_.end_ticks) * settings_.timeout_factor) +
                           settings_.timeout_margin;
    RunEnd end;
    faults::InjectionRecord rec;
    {
      faults::FaultInjector injector(m, &image_.symbols);
      injector.arm(fault);
      end = run_to_end(m, limit > cp.ticks ? limit - cp.ticks : 0);
      rec = injector.record();
      injector.disarm();
    }
    const bool timeout = end.outcome == RunOutcome::InstructionLimit;
    const std::string& out = m.console_output();
    r.set_trigger_instruction(rec.at_instruction);
    r.set_end_instruction(end.ticks);
    r.set_exit_status(end.exit_status);
    r.set_end_reason(describe_end(end, timeout));
    r.set_output_digest(sha256_hex(out));
    r.set_diff_summary(diff_summary(golden_.output, out, golden_.exit_status, end.exit_status));
    r.set_outcome(rec.injected ? classify(end, timeout, out) : pb::NOT_TRIGGERED);
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
