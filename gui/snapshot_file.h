// Snapshot files: a whole GUI session on disk (Session::save_snapshot_file,
// load_snapshot_file; suffix .flsnap).
//
// Layout (integers little-endian):
//
//   offset  size       field
//   0       8          magic "FLTLSNAP"
//   8       4          format version (kSnapshotFormatVersion)
//   12      4          reserved, 0
//   16      8          M: length of the metadata message
//   24      8          P: number of guest RAM page records
//   32      M          pb::GuiSnapshot (gui/snapshot.proto): the session
//                      descriptor that rebuilds the machine (guest kind,
//                      kernel/initrd/cmdline, disk and BIOS images,
//                      memory size), the SHA-256 of every input file, the
//                      Machine::Checkpoint without RAM (CPU state, ticks,
//                      halted ticks, console output, PcPlatform::save()
//                      with disk overlays and captured COM1), the hand
//                      injection history and whether the run had ended
//   32+M    P*4104     page records: u64 page index, 4096 bytes; ascending
//                      indices, all-zero pages are left out
//   end-32  32         SHA-256 of every byte before it
//
// Design note: the CPU state is stored field by field (pb::CpuState of
// experiments/proto/result.proto: registers, segment caches, descriptor
// tables, control and debug registers, the x87 registers as 80-bit values,
// MSRs, A20 and the halt/interrupt-shadow state), not as the raw CpuState
// struct, so a file stays readable when the simulator's internal layout
// changes. Guest RAM stays outside the protobuf message so
// a large guest does not hit protobuf's 2 GiB message limit. Reading checks,
// in order: magic, version, size against the header (truncated or trailing
// bytes), the checksum, the metadata, the CPU state and the RAM pages
// against the memory size; every refusal is a std::runtime_error starting
// with the file's path. Writing goes to a temporary file in the same
// directory which is renamed over the final name, so a crash never leaves a
// half-written file under that name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/cpu_state.h"
#include "memfile/memfile.h"
#include "snapshot.pb.h"

namespace faultline::gui {

// 2: the CPU state field by field (pb::CpuState); 1 (never released) stored
// the raw struct.
inline constexpr uint32_t kSnapshotFormatVersion = 2;

// The CPU state in a file: `eflags` is the architectural value
// (Cpu::eflags()); the lazy-flag fields are not stored.
void cpu_state_to_proto(const CpuState& c, uint32_t eflags, pb::CpuState& out);
// Back (lazy flags empty, EFLAGS from the file); throws std::runtime_error
// naming `path` for a malformed message (wrong register counts).
CpuState cpu_state_from_proto(const pb::CpuState& p, const std::string& path);

// Writes `meta` and the non-zero pages of `ram` (`ram_size` bytes, a
// multiple of 4 KiB) to `path` atomically. Throws std::runtime_error naming
// the file.
void write_snapshot_file(const std::string& path, const pb::GuiSnapshot& meta, const uint8_t* ram,
                         size_t ram_size);

// A snapshot file read back and checked (see the layout above).
struct SnapshotFileData {
  pb::GuiSnapshot meta;
  CpuState cpu;
  std::string bytes;  // the whole file
  size_t pages_offset = 0;
  uint64_t page_count = 0;
  // Makes `ram` the saved guest RAM (pages not in the file become zero).
  // Throws std::runtime_error if its size is not the saved memory size.
  void fill_ram(const std::string& path, MemFile& ram) const;
};
SnapshotFileData read_snapshot_file(const std::string& path);

// Refuses (std::runtime_error naming the snapshot and the input) when an
// input file recorded in `meta` is missing or differs from when it was saved.
void check_snapshot_inputs(const std::string& path, const pb::GuiSnapshot& meta);

// SHA-256 of a file's contents (std::runtime_error naming it if unreadable).
std::string file_sha256(const std::string& file);

}  // namespace faultline::gui
