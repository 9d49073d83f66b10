#include "gui/lockstep.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace faultline::gui {

const char* to_string(Divergence::Kind k) {
  switch (k) {
    case Divergence::Kind::Registers: return "registers";
    case Divergence::Kind::Memory: return "memory";
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

// True when `a` and `b` are equal; their first `known` bytes were equal at
// the last call (output only grows), so only what was appended is compared.
bool same_output(const std::string& a, const std::string& b, size_t& known) {
  if (known > a.size() || known > b.size()) known = 0;  // output started again
  if (a.size() != b.size() || std::memcmp(a.data() + known, b.data() + known, a.size() - known) != 0) return false;
  known = a.size();
  return true;
}

}  // namespace

Lockstep::Lockstep(Session& origin) : golden_(origin.fork()), faulty_(origin.fork()) {
  // Equal at the fork: what was written before (the restore) is not news.
  for (Session* s : {golden_.get(), faulty_.get()}) s->machine()->take_written_pages([](size_t) {});
}

std::string Lockstep::registers_diff() const {
  const CpuState& g = golden_->cpu()->s;
  const CpuState& f = faulty_->cpu()->s;
  static const char* const kGpr[] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
  std::string regs;
  auto diff = [&](const char* name, uint32_t a, uint32_t b) {
    if (a == b) return;
    if (!regs.empty()) regs += ", ";
    regs += name;
    regs += " " + h32(a) + " vs " + h32(b);
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
  return regs;
}

std::string Lockstep::memory_diff() {
  // The pages either machine wrote since the last comparison: only their
  // state (equal or not) can have changed.
  written_.clear();
  auto note = [&](size_t page) { written_.push_back(page); };
  golden_->machine()->take_written_pages(note);
  const size_t from_golden = written_.size();
  faulty_->machine()->take_written_pages(note);
  if (written_.empty()) return {};
  std::inplace_merge(written_.begin(), written_.begin() + static_cast<std::ptrdiff_t>(from_golden), written_.end());
  written_.erase(std::unique(written_.begin(), written_.end()), written_.end());
  const uint8_t* g = golden_->machine()->memory().data();
  const uint8_t* f = faulty_->machine()->memory().data();
  const bool had = !differ_.empty();
  for (size_t page : written_) {
    const size_t at = page * kGuestPageSize;
    if (std::memcmp(g + at, f + at, kGuestPageSize) != 0) differ_.insert(page);
    else differ_.erase(page);
  }
  if (had || differ_.empty()) return {};
  // Newly differing: name the first differing byte.
  const size_t at = *differ_.begin() * kGuestPageSize;
  size_t k = 0;
  while (k + 1 < kGuestPageSize && g[at + k] == f[at + k]) ++k;
  char b[96];
  std::snprintf(b, sizeof b, "phys 0x%08zx: %02x vs %02x (%zu %s)", at + k, g[at + k], f[at + k], differ_.size(),
                differ_.size() == 1 ? "page differs" : "pages differ");
  return b;
}

std::string Lockstep::screen_diff() {
  Vga* gv = golden_->platform() ? golden_->platform()->vga() : nullptr;
  Vga* fv = faulty_->platform() ? faulty_->platform()->vga() : nullptr;
  if (!gv || !fv) return {};
  // Neither picture can have changed while the change counters stand still.
  if (gv->changes() == screen_seen_[0] && fv->changes() == screen_seen_[1]) return {};
  screen_seen_[0] = gv->changes();
  screen_seen_[1] = fv->changes();
  if (gv->text_mode() && fv->text_mode()) {
    const std::string a = gv->text_screen(), b = fv->text_screen();
    return a == b ? std::string() : "text screen " + first_line_diff(a, b);
  }
  const Image a = gv->render(), b = fv->render();
  if (a.width == b.width && a.height == b.height && a.rgb == b.rgb) return {};
  return "graphics screen differs (" + std::to_string(a.width) + "x" + std::to_string(a.height) + " vs " +
         std::to_string(b.width) + "x" + std::to_string(b.height) + ")";
}

void Lockstep::record(Divergence::Kind kind, uint64_t window_start, std::string what) {
  if (what.empty()) return;
  Divergence d;
  d.kind = kind;
  d.tick = golden_->cpu()->ticks();
  d.window_start = window_start;
  d.what = std::move(what);
  by_kind_[static_cast<int>(kind)] = d;
  if (!first_) first_ = std::move(d);
}

void Lockstep::compare(uint64_t window_start) {
  using K = Divergence::Kind;
  auto open = [&](K k) { return !by_kind_[static_cast<int>(k)]; };
  // In the kind order: a tie within one step goes to the earlier kind.
  if (open(K::Registers)) record(K::Registers, window_start, registers_diff());
  std::string mem = memory_diff();  // keeps the set of differing pages current
  if (open(K::Memory)) record(K::Memory, window_start, std::move(mem));
  if (open(K::Console) && !same_output(golden_->console_output(), faulty_->console_output(), console_equal_))
    record(K::Console, window_start, first_line_diff(golden_->console_output(), faulty_->console_output()));
  if (open(K::Serial) && !same_output(golden_->serial_output(), faulty_->serial_output(), serial_equal_))
    record(K::Serial, window_start, first_line_diff(golden_->serial_output(), faulty_->serial_output()));
  if (open(K::Screen)) record(K::Screen, window_start, screen_diff());
  if (open(K::Ending) &&
      (golden_->finished() != faulty_->finished() || golden_->finish_reason() != faulty_->finish_reason()))
    record(K::Ending, window_start,
           "golden: " + (golden_->finished() ? golden_->finish_reason() : std::string("running")) +
               "; faulty: " + (faulty_->finished() ? faulty_->finish_reason() : std::string("running")));
}

const std::optional<Divergence>& Lockstep::compare_now() {
  compare(golden_->cpu()->ticks());
  return first_;
}

const std::optional<Divergence>& Lockstep::step(uint64_t ticks) {
  const uint64_t start = golden_->cpu()->ticks();
  // Both run to the same tick (a run may stop early, e.g. at an end).
  for (Session* s : {golden_.get(), faulty_.get()}) {
    const uint64_t target = start + ticks;
    for (int guard = 0; guard < 64 && !s->finished() && s->cpu()->ticks() < target; ++guard)
      s->run_slice(target - s->cpu()->ticks());
  }
  compare(start);
  return first_;
}

}  // namespace faultline::gui
