#include "gui/lockstep.h"

#include <cstdio>

namespace faultline::gui {

const char* to_string(Divergence::Kind k) {
  switch (k) {
    case Divergence::Kind::Registers: return "registers";
    case Divergence::Kind::Console: return "console output";
    case Divergence::Kind::Serial: return "serial output";
    case Divergence::Kind::Screen: return "screen";
    case Divergence::Kind::Ending: return "end of run";
  }
  return "?";
}

namespace {

std::string h32(uint32_t v) {
  char b[12];
  std::snprintf(b, sizeof b, "%08X", v);
  return b;
}

// First differing line of two texts: "line N: \"golden\" vs \"faulty\"".
std::string first_line_diff(const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  size_t start = i;
  while (start > 0 && a[start - 1] != '\n') --start;
  size_t line = 1;
  for (size_t k = 0; k < start; ++k) line += a[k] == '\n';
  auto cut = [&](const std::string& s) {
    if (start >= s.size()) return std::string("(nothing)");
    size_t end = s.find('\n', start);
    std::string l = s.substr(start, (end == std::string::npos ? s.size() : end) - start);
    if (l.size() > 80) l = l.substr(0, 80) + "...";
    return "\"" + l + "\"";
  };
  return "line " + std::to_string(line) + ": " + cut(a) + " vs " + cut(b);
}

}  // namespace

Lockstep::Lockstep(Session& origin) : golden_(origin.fork()), faulty_(origin.fork()) {}

std::optional<Divergence> Lockstep::compare() const {
  Divergence d;
  d.tick = golden_->cpu()->ticks();
  const CpuState& g = golden_->cpu()->s;
  const CpuState& f = faulty_->cpu()->s;
  static const char* const kGpr[] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
  std::string regs;
  auto diff = [&](const std::string& name, uint32_t a, uint32_t b) {
    if (a != b) regs += (regs.empty() ? "" : ", ") + name + " " + h32(a) + " vs " + h32(b);
  };
  for (int i = 0; i < 8; ++i) diff(kGpr[i], g.gpr[i], f.gpr[i]);
  diff("EIP", g.eip, f.eip);
  diff("EFLAGS", golden_->cpu()->eflags(), faulty_->cpu()->eflags());
  static const char* const kSeg[] = {"ES", "CS", "SS", "DS", "FS", "GS"};
  for (int i = 0; i < 6; ++i) diff(kSeg[i], g.seg[i].selector, f.seg[i].selector);
  diff("CR0", g.cr0, f.cr0);
  diff("CR2", g.cr2, f.cr2);
  diff("CR3", g.cr3, f.cr3);
  diff("CR4", g.cr4, f.cr4);
  if (!regs.empty()) {
    d.kind = Divergence::Kind::Registers;
    d.what = regs;
    return d;
  }
  if (golden_->console_output() != faulty_->console_output()) {
    d.kind = Divergence::Kind::Console;
    d.what = first_line_diff(golden_->console_output(), faulty_->console_output());
    return d;
  }
  if (golden_->serial_output() != faulty_->serial_output()) {
    d.kind = Divergence::Kind::Serial;
    d.what = first_line_diff(golden_->serial_output(), faulty_->serial_output());
    return d;
  }
  Vga* gv = golden_->platform() ? golden_->platform()->vga() : nullptr;
  Vga* fv = faulty_->platform() ? faulty_->platform()->vga() : nullptr;
  if (gv && fv) {
    if (gv->text_mode() && fv->text_mode()) {
      const std::string a = gv->text_screen(), b = fv->text_screen();
      if (a != b) {
        d.kind = Divergence::Kind::Screen;
        d.what = "text screen " + first_line_diff(a, b);
        return d;
      }
    } else {
      const Image a = gv->render(), b = fv->render();
      if (a.width != b.width || a.height != b.height || a.rgb != b.rgb) {
        d.kind = Divergence::Kind::Screen;
        d.what = "graphics screen differs (" + std::to_string(a.width) + "x" + std::to_string(a.height) + " vs " +
                 std::to_string(b.width) + "x" + std::to_string(b.height) + ")";
        return d;
      }
    }
  }
  if (golden_->finished() != faulty_->finished() || golden_->finish_reason() != faulty_->finish_reason()) {
    d.kind = Divergence::Kind::Ending;
    d.what = "golden: " + (golden_->finished() ? golden_->finish_reason() : std::string("running")) +
             "; faulty: " + (faulty_->finished() ? faulty_->finish_reason() : std::string("running"));
    return d;
  }
  return std::nullopt;
}

const std::optional<Divergence>& Lockstep::step(uint64_t ticks) {
  const uint64_t start = golden_->cpu()->ticks();
  // Both run to the same tick (a run may stop early, e.g. at an end).
  for (Session* s : {golden_.get(), faulty_.get()}) {
    const uint64_t target = start + ticks;
    for (int guard = 0; guard < 64 && !s->finished() && s->cpu()->ticks() < target; ++guard)
      s->run_slice(target - s->cpu()->ticks());
  }
  if (!first_) {
    first_ = compare();
    if (first_) first_->window_start = start;
  }
  return first_;
}

}  // namespace faultline::gui
