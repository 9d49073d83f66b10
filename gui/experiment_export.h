// "Export experiment file": turns what was done by hand in a GUI session
// into a campaign file (.textproto) whose single experiment replays it.
//
// Design note: the experiment names the hand-made fault exactly: its target
// as a one-cell space (memory cell, register, device field, disk sector and
// byte offset, COM port stream, IRQ line), its model with the group's
// `bit_mask` (the bits the hand-made fault hit, so no bit dimension), its
// duration, and an instruction trigger at the tick it was applied (the
// instruction trigger fires before the instruction at that tick, where the
// hand injection happened too; an armed PC/time trigger is written as the
// tick it fired at, which names the same instant). A random value on a
// memory cell, register or device field is written as the value the
// injector drew (set_value, from its record). The workload is the
// session's: a multiboot kernel on the PC platform (`pc: true`, the GUI's
// machine), a Linux kernel with initrd, command line and disks, or a
// firmware boot of the session's disks; memory size as in the session.
// `sampling { full: true }` runs the one fault. Bytes sent by hand into
// COM1 become script steps: `wait_ns` to the tick they were sent at, then
// `serial_input` (the campaign run stops at exactly that tick, so the guest
// gets them when it did in the window).
//
// Refused with the reason: no fault or more than one since the last reset
// (an experiment holds one); keyboard or mouse input given by hand since
// the reset (script steps type text at their own pace, not at the instants
// the keys were pressed);
// a disk fault over several sectors (groups give one fault per sector); a
// random value on a disk or serial stream (drawn per hit from a seed the
// campaign derives itself); a replayed campaign experiment.
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
