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
constexpr int kBadDatabase = 72;       // result database missing, unreadable or not a campaign's
constexpr int kUnknownExperiment = 73; // replay: no experiment with that id in the database
constexpr int kNotReproduced = 74;     // replay: outcome or output digest differ from the stored row
constexpr int kGoldenMismatch = 75;    // resume/replay: the golden run no longer reproduces
constexpr int kDatabaseExists = 76;    // campaign run: the database already exists
}  // namespace faultline::exit_code
