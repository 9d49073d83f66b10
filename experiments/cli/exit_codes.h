// Process exit statuses of the faultline CLI. Guest exit statuses pass
// through unchanged (low 8 bits); the simulator's own outcomes use the
// reserved range 64..79 so scripts can tell them apart. A guest that writes
// one of these values itself is indistinguishable by status alone; the
// message on stderr always says which it was.
#pragma once

namespace faultline::exit_code {
constexpr int kUsage = 64;             // bad command line
constexpr int kBadInput = 65;          // unreadable or malformed input file
constexpr int kTripleFault = 66;       // guest shut down by triple fault
constexpr int kInstructionLimit = 67;  // --max-instructions reached
constexpr int kHalted = 68;            // HLT with interrupts off: guest is stuck
constexpr int kInternal = 70;          // simulator error
constexpr int kMismatch = 71;          // cpu-check found mismatches
}  // namespace faultline::exit_code
