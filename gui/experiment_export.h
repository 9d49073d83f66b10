// "Export experiment file": turns what was done by hand in a GUI session
// into a campaign file (.textproto) whose single experiment replays it.
//
// Design note: the campaign format draws faults from spaces (a bit flip
// group enumerates every bit of a cell), so a hand-made fault cannot be
// named bit by bit. A transient fault is instead exported as what it did:
// `set_value` of the value the injector wrote (from its record) on exactly
// that cell or register, triggered at the tick it happened (the
// instruction trigger fires before the instruction at that tick, where the
// hand injection happened too). Set and random values (whole cell) and
// register faults of any duration export the same way. A bit flip or
// stuck-at held in memory (intermittent or permanent) enforces only its
// bits, which the format cannot express: the export refuses it with that
// reason. The space then holds exactly one fault; `sampling { full: true }`
// runs it. Only multiboot sessions can be exported (campaigns run
// multiboot workloads) and exactly one injection since the last reset.
#pragma once

#include <stdexcept>
#include <string>

#include "gui/session.h"

namespace faultline::gui {

class ExportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The campaign file text (throws ExportError naming what cannot be
// exported). `name` becomes the campaign name.
std::string export_experiment(const Session& s, const std::string& name);

}  // namespace faultline::gui
