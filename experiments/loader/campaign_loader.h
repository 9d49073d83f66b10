// Loading and validating experiment (campaign) files.
//
// An experiment file is a protobuf text-format `faultline.pb.Campaign`
// (experiments/proto/campaign.proto). Loading parses it, checks it against
// what the simulator can run, and applies the defaults; a file with any
// problem is rejected with every problem found, each naming file, line and
// column (1-based), so nothing runs on a half-understood file.
//
// Syntax errors (unknown field, wrong value type, unknown enum value,
// malformed text) come from the protobuf parser. The parser stops at the first
// error, so the loader blanks the offending statement (keeping line numbers)
// and parses again to find the next one. When there are syntax errors only
// those are reported (semantic checks of a partially parsed file would
// mislead). Otherwise all semantic errors are reported together; each is
// located at the field it is about (the start of the field's name), or at
// the enclosing message for a missing field, or at 1:1 for a missing
// top-level field.
//
// Variables: `${NAME}` in the workload's file paths (kernel, modules, initrd,
// bios, disks) is replaced by the environment variable NAME, else by
// vars[NAME]; an undefined name is an error. So `vars` holds defaults (the CLI
// passes the compiled-in FAULTLINE_GUEST_DIR) that the environment overrides.
// `$` not followed by `{` is kept as is. After expansion, relative paths are
// resolved against the experiment file's directory.
//
// Decisions on contradictory or not-yet-possible options (see
// docs in experiments/examples/README.md):
//  - `linux` workloads: the kernel must be a bzImage (boot protocol 2.06+),
//    initrd and disks (at most 4) must exist. `firmware` workloads are not
//    implemented in campaigns yet (an error).
//  - script steps type_keys / serial_input and wait_for/expect on SERIAL or
//    SCREEN need the PC platform: an error on a bare multiboot workload
//    (`multiboot { pc: true }` or a linux workload provide it).
//  - device, serial and irq targets need the PC platform too; disk targets
//    need a linux workload (its disks). They are validated here (device
//    field names against faults::default_pc_device_fields(), drive 0..3, COM
//    1..4, lines 0..15, disk byte ranges inside a sector); whether the
//    machine that runs them has the disk or the COM port is the injector's
//    check. A model on a target without a value (disk read/write error or
//    timeout, serial drop, irq) is "contradictory"; cell options (width,
//    bytes) on a disk error/timeout are errors; permanent device-field faults
//    and non-transient spurious interrupts are not supported.
//  - a linux workload has no ELF symbols: symbol targets and pc symbol
//    triggers are errors.
//  - permanent faults in registers are not supported (an error).
//  - A script with an `inject` step injects the experiment's fault at that
//    step: its groups must not have triggers (a trigger would contradict
//    the step), and there must be exactly one inject step. A script without
//    an `inject` step (or no script) needs a trigger in every group.
//
// Defaults applied to the returned campaign (fields absent from the file):
// machine.memory_mib 32, machine.instructions_per_second 100 M, checkpoints
// 8, end.max_instructions 2e9, end.timeout_factor 2.0, end.timeout_margin
// 100000, group name "group<N>" (1-based), memory/disk width 1, bit_flip bits
// 1, duration transient, trigger Range step 1, trigger occurrences
// {start: 1 end: 2}. The workload's file paths in `campaign` are replaced by
// their resolved absolute paths (`text` keeps the file as written).
#pragma once

#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "campaign.pb.h"

namespace faultline::experiments {

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  std::string message;
  // "file:line:col: <severity>: message"
  std::string format(const char* severity = "error") const;
};

// A rejected experiment file: every problem found, in file order.
class CampaignError : public std::runtime_error {
 public:
  explicit CampaignError(std::vector<Diagnostic> diags);
  std::vector<Diagnostic> diagnostics;
};

struct LoadedCampaign {
  pb::Campaign campaign;           // validated, defaults applied
  std::filesystem::path file;      // as given
  std::filesystem::path base_dir;  // directory of the file (absolute)
  std::string text;                // the file's contents (for resume/replay)
  std::string kernel_path;         // resolved absolute path of the workload kernel
  std::vector<Diagnostic> warnings;  // accepted, but probably not what was meant
};

// Variables for `${NAME}` substitution (defaults; the environment wins).
using LoaderVars = std::map<std::string, std::string>;

// Reads and validates `file`. Throws CampaignError for a bad file,
// std::runtime_error (naming the file) when it cannot be read.
LoadedCampaign load_campaign(const std::filesystem::path& file, const LoaderVars& vars = {});

// Same for text already in memory; `file_for_messages` names it in
// diagnostics and its directory is the base for relative paths.
LoadedCampaign load_campaign_text(const std::string& text,
                                  const std::filesystem::path& file_for_messages,
                                  const LoaderVars& vars = {});

// `${NAME}` expansion as described above. Throws std::runtime_error naming
// the first undefined variable.
std::string expand_vars(const std::string& s, const LoaderVars& vars);

// Register names accepted in RegisterSpace.names ("gpr" = the eight GPRs;
// case-insensitive, as faults/registers.h), and their width in bits (0 for
// an unknown name; st0..st7 count as 64, the significand, the part a fault
// may hit).
const std::vector<std::string>& register_names();
unsigned register_bits(const std::string& name);

}  // namespace faultline::experiments
