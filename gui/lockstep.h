// Golden versus faulty: two forks of one machine run in lockstep and are
// compared after every step.
//
// Design note: Qt-free and single-threaded (gui/lockstep_thread.h runs it on
// a worker). Both sessions come from Session::fork() of the same state, so
// everything is equal until a fault is injected into `faulty`. step() runs
// both the same number of instruction ticks (the granularity: 1 finds the
// exact first divergent instruction, larger values bound it to a window)
// and compares CPU registers (GPRs, EIP, EFLAGS, segment selectors,
// CR0/2/3/4), guest RAM, the debug console, COM1, the screen (VGA text, or
// the rendered picture in graphics modes) and how the runs ended. The first
// divergence of each kind is kept with the step that showed it (a memory
// fault shows in RAM at once and may reach registers or output later), and
// the overall first (ties within one step go by the kind order). A kind
// that diverged is not compared again, except RAM, whose set of differing
// pages stays current. A run that finished stops; the other goes on.
//
// Each comparison costs what changed, not the machines' size:
//   * RAM: only pages written by either machine since the last comparison
//     (Machine::take_written_pages, the memfile's write watching) are
//     compared, page by page; a set of the pages known to differ is kept.
//   * console and COM1: only output appended since the last comparison.
//   * screen: only when either card's change counter (Vga::changes()) moved.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gui/session.h"

namespace faultline::gui {

struct Divergence {
  enum class Kind : uint8_t { Registers, Memory, Console, Serial, Screen, Ending };
  static constexpr int kKinds = 6;
  Kind kind = Kind::Registers;
  uint64_t tick = 0;          // golden's tick count after the step that showed it
  uint64_t window_start = 0;  // the step began here: the divergence is in (start, tick]
  std::string what;           // "EAX 00000001 vs 00000003", "phys 0x00123456: 5a vs 5b (1 page differs)", ...
};
const char* to_string(Divergence::Kind k);

class Lockstep {
 public:
  // Forks `origin` twice (origin itself is left as it was).
  explicit Lockstep(Session& origin);

  Session& golden() { return *golden_; }
  Session& faulty() { return *faulty_; }
  // Runs both `ticks` instruction ticks further and compares; returns the
  // first divergence once there is one (found now or earlier).
  const std::optional<Divergence>& step(uint64_t ticks);
  // Compares without stepping (after a hand injection between steps: a
  // memory or register fault then shows at the tick it was applied, with
  // window_start == tick).
  const std::optional<Divergence>& compare_now();
  // The overall first divergence, and the first of each kind.
  const std::optional<Divergence>& divergence() const { return first_; }
  const std::optional<Divergence>& first(Divergence::Kind k) const { return by_kind_[static_cast<int>(k)]; }
  // Guest RAM pages that differ as of the last comparison.
  size_t pages_differing() const { return differ_.size(); }
  bool finished() const { return golden_->finished() && faulty_->finished(); }

 private:
  void compare(uint64_t window_start);
  void record(Divergence::Kind kind, uint64_t window_start, std::string what);
  std::string registers_diff() const;
  std::string memory_diff();
  std::string screen_diff();

  std::unique_ptr<Session> golden_, faulty_;
  std::optional<Divergence> first_;
  std::array<std::optional<Divergence>, Divergence::kKinds> by_kind_;
  std::set<size_t> differ_;                      // RAM pages known to differ
  std::vector<size_t> written_;                  // scratch: pages written since the last comparison
  size_t console_equal_ = 0, serial_equal_ = 0;  // output bytes known equal
  uint64_t screen_seen_[2] = {~uint64_t{0}, ~uint64_t{0}};  // Vga::changes() at the last screen comparison
};

}  // namespace faultline::gui
