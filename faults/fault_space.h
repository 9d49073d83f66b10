// The fault space of a campaign: every concrete fault its groups describe,
// addressed by index without ever materialising the whole set.
//
// A FaultGroup expands to target variants × trigger points:
//  - target variants: memory cells ([start, end) in `width` steps; a symbol
//    gives its [value, value + size) as *virtual* addresses) or register
//    names ("gpr" = the eight GPRs); times the bit dimension of the model:
//      bit_flip / stuck_at: one variant per bit position (memory: width*8;
//        registers: 32, EFLAGS only its 18 defined bits, segment selectors,
//        fcw and fsw 16, st0..st7 the 64 significand bits). For bit_flip with
//        bits = k > 1 the variant's bit is the first of the mask; the other
//        k-1 bits are drawn deterministically from the fault's index.
//      set_value / random_value: one variant per cell/register (the whole
//        value; bit_mask = the full mask of the cell).
//    Device fields (DeviceSpace, names or "prefix*" in file order, each
//      field once): like registers, one variant per bit of the field's
//      width for bit models, one per field otherwise.
//    Disk: read corruption: sectors x cells (byte range / width) x bits
//      (bit models) or x 1; read/write error and timeout: one per sector
//      (no model). The concrete fault covers one sector (count 1).
//    Serial: corruption: 8 bit positions (bit models) or 1; drop: 1.
//    IRQ lines: one per listed line (no model).
//    A group's `bit_mask` replaces the bit dimension: one variant per
//      cell/register/field/byte, hit at exactly those bits.
//    Targets without a model (disk errors/timeouts, serial drop, irq) get
//    a Fault without model and bit_mask; a group giving them a model is
//    rejected.
//  - trigger points: instructions / time_ns Range{start, end, step} (end 0 =
//    the golden run's end), or the occurrences Range of a pc, memory_access,
//    port or output trigger (default: the first occurrence only). A group
//    without a trigger has one point (an empty Trigger: inject at arming,
//    used by scripted `inject` steps).
// Index order: groups in file order; inside a group target variant major,
// trigger point minor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "campaign.pb.h"
#include "core/boot/elf_image.h"
#include "fault.pb.h"
#include "faults/device_fields.h"

namespace faultline::faults {

struct GoldenInfo {
  uint64_t end_instruction = 0;
  uint64_t end_time_ns = 0;
  const SymbolTable* symbols = nullptr;
  uint64_t ram_bytes = 0;  // 0: physical ranges are not checked against RAM
  // Device register fields and widths (device_field_infos(platform)); empty:
  // default_pc_device_fields() is used when a group needs them.
  std::vector<DeviceFieldInfo> device_fields;
};

class FaultSpace {
 public:
  // Throws std::invalid_argument with a clear message if a group cannot be
  // expanded (unknown symbol or register, empty range, bad width, ...).
  FaultSpace(const pb::Campaign& campaign, const GoldenInfo& golden);
  // Total number of distinct faults (summed over groups).
  uint64_t size() const { return size_; }
  // The fault with this index (deterministic, O(groups)). Throws
  // std::out_of_range for index >= size().
  pb::Fault at(uint64_t index) const;
  // Indices of the experiments a campaign runs, sorted ascending: all of them
  // (sampling.full, or no mode set) or `samples` distinct indices drawn
  // uniformly with xoshiro256** seeded from sampling.seed (identical across
  // runs and machines). samples >= size() gives all indices. Throws
  // std::invalid_argument if a full plan would exceed 2^27 experiments.
  std::vector<uint64_t> plan(const pb::Sampling& sampling) const;

 private:
  enum class TargetKind : uint8_t { Physical, Virtual, Register, Field, Disk, Serial, Irq };
  enum class ModelKind : uint8_t { BitFlip, StuckAt, SetValue, RandomValue };
  struct Group {
    std::string name;
    uint64_t group_no = 0;
    TargetKind target = TargetKind::Physical;
    uint64_t start = 0;       // memory: first cell
    uint32_t width = 1;       // memory: bytes per cell
    uint64_t cells = 0;       // memory: number of cells
    std::vector<std::string> regs;
    std::vector<uint64_t> reg_offsets;  // prefix sums of variants per register/field (size regs+1)
    std::vector<unsigned> field_bits;   // device fields: width of regs[i]
    bool modelless = false;             // disk error/timeout, serial drop, irq
    uint64_t byte_start = 0, cells_per_sector = 1;  // disk corruption
    std::vector<uint32_t> lines;                    // irq
    pb::Model model;
    pb::TargetSpace target_space;
    ModelKind model_kind = ModelKind::BitFlip;
    unsigned flip_bits = 1;
    bool per_bit = true;
    uint64_t fixed_mask = 0;  // FaultGroup.bit_mask: these bits, no bit dimension
    pb::TriggerSpace trigger;
    uint64_t pc_address = 0;  // resolved pc trigger address
    uint64_t t_start = 0, t_step = 1, t_count = 1;
    pb::Duration duration;
    uint64_t variants = 0;    // target variants
    uint64_t size = 0;
    uint64_t offset = 0;      // first global index
  };
  Group expand(const pb::FaultGroup& g, uint64_t group_no, const GoldenInfo& golden) const;
  std::vector<Group> groups_;
  uint64_t size_ = 0;
};

}  // namespace faultline::faults
