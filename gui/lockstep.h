// Golden versus faulty: two forks of one machine run in lockstep and are
// compared after every step until the first divergence.
//
// Design note: Qt-free. Both sessions come from Session::fork() of the same
// state, so everything is equal until a fault is injected into `faulty`.
// step() runs both the same number of instruction ticks (the granularity:
// 1 finds the exact first divergent instruction, larger values bound it to
// a window) and compares, in this order: CPU registers (GPRs, EIP, EFLAGS,
// segment selectors, CR0/2/3/4), the debug console, COM1, the VGA text
// screen (or the rendered picture in graphics modes). The first difference
// found is kept; the runner keeps stepping on request so the user can watch
// the runs drift apart. A run that finished stops; the other goes on.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gui/session.h"

namespace faultline::gui {

struct Divergence {
  enum class Kind : uint8_t { Registers, Console, Serial, Screen, Ending };
  Kind kind = Kind::Registers;
  uint64_t tick = 0;         // golden's tick count after the step that showed it
  uint64_t window_start = 0; // the step began here: the divergence is in (start, tick]
  std::string what;          // "EAX 00000001 vs 00000003", "console line 2: ...", ...
};
const char* to_string(Divergence::Kind k);

class Lockstep {
 public:
  // Forks `origin` twice (origin itself is left as it was).
  explicit Lockstep(Session& origin);

  Session& golden() { return *golden_; }
  Session& faulty() { return *faulty_; }
  // Runs both `ticks` instruction ticks further; returns the first
  // divergence once there is one (found now or earlier).
  const std::optional<Divergence>& step(uint64_t ticks);
  const std::optional<Divergence>& divergence() const { return first_; }
  bool finished() const { return golden_->finished() && faulty_->finished(); }
  // Compares the two machines now (no stepping); "" when equal.
  std::optional<Divergence> compare() const;

 private:
  std::unique_ptr<Session> golden_, faulty_;
  std::optional<Divergence> first_;
};

}  // namespace faultline::gui
