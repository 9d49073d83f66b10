#include "faults/fault_space.h"

#include <algorithm>
#include <cstdio>
#include <regex>
#include <stdexcept>
#include <unordered_set>

#include "faults/prng.h"
#include "faults/registers.h"

namespace faultline::faults {

namespace {

constexpr uint64_t kMaxFullPlan = uint64_t(1) << 27;

uint64_t mul_checked(uint64_t a, uint64_t b, const std::string& what) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw std::invalid_argument(what + ": fault space too large");
  return r;
}

uint64_t full_mask(unsigned bits) { return bits >= 64 ? ~0ull : (uint64_t(1) << bits) - 1; }

std::string hex_text(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

struct Points {
  uint64_t start, step, count;
};

// A Range of trigger points; end 0 = `default_end` (the golden run's end).
Points expand_range(const pb::Range& r, uint64_t default_end, const std::string& what) {
  uint64_t end = r.end();
  if (end == 0) {
    if (default_end == 0)
      throw std::invalid_argument(what + ": range end 0 means the golden run's end, which is not known");
    end = default_end;
  }
  uint64_t step = r.step() == 0 ? 1 : r.step();
  if (end <= r.start())
    throw std::invalid_argument(what + ": empty range [" + std::to_string(r.start()) + ", " +
                                std::to_string(end) + ")");
  return {r.start(), step, (end - r.start() - 1) / step + 1};
}

// An occurrences Range (1-based). Unset = the first occurrence only; end 0 =
// only `start`.
Points expand_occurrences(const pb::Range& r, const std::string& what) {
  uint64_t start = r.start() == 0 ? 1 : r.start();
  uint64_t end = r.end() == 0 ? start + 1 : r.end();
  uint64_t step = r.step() == 0 ? 1 : r.step();
  if (end <= start)
    throw std::invalid_argument(what + ": empty occurrences range [" + std::to_string(start) + ", " +
                                std::to_string(end) + ")");
  return {start, step, (end - start - 1) / step + 1};
}

}  // namespace

FaultSpace::FaultSpace(const pb::Campaign& campaign, const GoldenInfo& golden) {
  uint64_t offset = 0;
  for (int i = 0; i < campaign.fault_space_size(); ++i) {
    Group g = expand(campaign.fault_space(i), static_cast<uint64_t>(i), golden);
    g.offset = offset;
    if (__builtin_add_overflow(offset, g.size, &offset))
      throw std::invalid_argument("fault space too large (more than 2^64 faults)");
    groups_.push_back(std::move(g));
  }
  size_ = offset;
}

FaultSpace::Group FaultSpace::expand(const pb::FaultGroup& fg, uint64_t group_no,
                                     const GoldenInfo& golden) const {
  Group g;
  g.group_no = group_no;
  g.name = fg.name();
  const std::string what =
      "fault group " + (fg.name().empty() ? "#" + std::to_string(group_no + 1) : "'" + fg.name() + "'");

  // ---- model
  const pb::TargetSpace& ts0 = fg.target();
  g.modelless = (ts0.has_disk() && ts0.disk().kind() != pb::DISK_CORRUPT_READ) ||
                (ts0.has_serial() && ts0.serial().action() == pb::SERIAL_DROP) || ts0.has_irq();
  g.model = fg.model();
  if (g.modelless) {
    if (fg.model().kind_case() != pb::Model::KIND_NOT_SET)
      throw std::invalid_argument(what +
                                  ": this target kind takes no model (disk errors and timeouts, serial "
                                  "drops and interrupt faults have no value to corrupt)");
    g.model.Clear();
    g.per_bit = false;
  } else {
    switch (fg.model().kind_case()) {
      case pb::Model::KIND_NOT_SET:
        g.model.mutable_bit_flip()->set_bits(1);
        [[fallthrough]];
      case pb::Model::kBitFlip:
        g.model_kind = ModelKind::BitFlip;
        g.flip_bits = g.model.bit_flip().bits() == 0 ? 1 : g.model.bit_flip().bits();
        g.per_bit = true;
        break;
      case pb::Model::kStuckAt:
        if (fg.model().stuck_at().value() > 1)
          throw std::invalid_argument(what + ": stuck_at value must be 0 or 1, got " +
                                      std::to_string(fg.model().stuck_at().value()));
        g.model_kind = ModelKind::StuckAt;
        g.per_bit = true;
        break;
      case pb::Model::kSetValue:
        g.model_kind = ModelKind::SetValue;
        g.per_bit = false;
        break;
      case pb::Model::kRandomValue:
        g.model_kind = ModelKind::RandomValue;
        g.per_bit = false;
        break;
      default:
        throw std::invalid_argument(what + ": this fault model is not supported by the injector yet");
    }
  }
  g.duration = fg.duration();
  g.target_space = fg.target();
  g.fixed_mask = fg.bit_mask();
  if (g.fixed_mask != 0) {
    if (g.modelless)
      throw std::invalid_argument(what + ": bit_mask on a target without a model (nothing to mask)");
    const unsigned n = static_cast<unsigned>(__builtin_popcountll(g.fixed_mask));
    if (g.model_kind == ModelKind::BitFlip && fg.model().bit_flip().bits() != 0 && fg.model().bit_flip().bits() != n)
      throw std::invalid_argument(what + ": bit_flip of " + std::to_string(fg.model().bit_flip().bits()) +
                                  " bits contradicts bit_mask, which has " + std::to_string(n));
    g.flip_bits = n;
    g.per_bit = false;  // one variant per cell, at exactly these bits
  }

  // ---- target
  const pb::TargetSpace& t = fg.target();
  switch (t.kind_case()) {
    case pb::TargetSpace::kMemory: {
      const pb::MemorySpace& ms = t.memory();
      g.width = ms.width() == 0 ? 1 : ms.width();
      if (g.width != 1 && g.width != 2 && g.width != 4)
        throw std::invalid_argument(what + ": memory width must be 1, 2 or 4 bytes, got " +
                                    std::to_string(g.width));
      uint64_t start = 0, end = 0;
      switch (ms.where_case()) {
        case pb::MemorySpace::kPhysical:
          g.target = TargetKind::Physical;
          start = ms.physical().start();
          end = ms.physical().end();
          if (golden.ram_bytes != 0 && end > golden.ram_bytes)
            throw std::invalid_argument(what + ": physical range ends at " + std::to_string(end) +
                                        ", beyond RAM (" + std::to_string(golden.ram_bytes) + " bytes)");
          break;
        case pb::MemorySpace::kVirtual:
          g.target = TargetKind::Virtual;
          start = ms.virtual_().start();
          end = ms.virtual_().end();
          break;
        case pb::MemorySpace::kSymbol: {
          g.target = TargetKind::Virtual;
          if (!golden.symbols)
            throw std::invalid_argument(what + ": symbol '" + ms.symbol() +
                                        "' needs the kernel's symbol table, which is not available");
          auto sym = golden.symbols->find(ms.symbol());
          if (!sym) throw std::invalid_argument(what + ": unknown symbol '" + ms.symbol() + "'");
          if (sym->size == 0)
            throw std::invalid_argument(what + ": symbol '" + ms.symbol() + "' has size 0");
          start = sym->value;
          end = uint64_t(sym->value) + sym->size;
          break;
        }
        default:
          throw std::invalid_argument(what + ": memory target needs physical, virtual or symbol");
      }
      if (end > 0x100000000ull)
        throw std::invalid_argument(what + ": memory range ends beyond 4 GiB");
      if (end <= start || end - start < g.width)
        throw std::invalid_argument(what + ": empty memory range [" + std::to_string(start) + ", " +
                                    std::to_string(end) + ") for width " + std::to_string(g.width));
      g.start = start;
      g.cells = (end - start) / g.width;
      const uint64_t bits = g.per_bit ? uint64_t(g.width) * 8 : 1;
      if (g.model_kind == ModelKind::BitFlip && g.flip_bits > g.width * 8u)
        throw std::invalid_argument(what + ": bit_flip of " + std::to_string(g.flip_bits) +
                                    " bits does not fit a " + std::to_string(g.width) + "-byte cell");
      g.variants = mul_checked(g.cells, bits, what);
      break;
    }
    case pb::TargetSpace::kRegisters: {
      g.target = TargetKind::Register;
      if (g.duration.kind_case() == pb::Duration::kPermanent)
        throw std::invalid_argument(what + ": permanent register faults are not supported");
      std::vector<std::string> names(t.registers().names().begin(), t.registers().names().end());
      if (names.empty()) throw std::invalid_argument(what + ": register target lists no names");
      try {
        g.regs = expand_register_names(names);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(what + ": " + e.what());
      }
      g.reg_offsets.push_back(0);
      for (const std::string& r : g.regs) {
        RegisterInfo info = *find_register(r);
        uint64_t nbits = register_bit_positions(info).size();
        if (g.model_kind == ModelKind::BitFlip && g.flip_bits > nbits)
          throw std::invalid_argument(what + ": bit_flip of " + std::to_string(g.flip_bits) +
                                      " bits does not fit register " + r);
        g.reg_offsets.push_back(g.reg_offsets.back() + (g.per_bit ? nbits : 1));
      }
      g.variants = g.reg_offsets.back();
      break;
    }
    case pb::TargetSpace::kDevice: {
      g.target = TargetKind::Field;
      if (g.duration.kind_case() == pb::Duration::kPermanent)
        throw std::invalid_argument(what + ": permanent device register faults are not supported");
      if (t.device().fields_size() == 0)
        throw std::invalid_argument(what + ": device target lists no fields");
      const std::vector<DeviceFieldInfo> catalog =
          golden.device_fields.empty() ? default_pc_device_fields() : golden.device_fields;
      g.reg_offsets.push_back(0);
      for (const std::string& pattern : t.device().fields()) {
        std::vector<DeviceFieldInfo> m = match_device_fields(catalog, pattern);
        if (m.empty())
          throw std::invalid_argument(what + ": unknown device field '" + pattern + "'" +
                                      device_field_suggestion(catalog, pattern));
        for (const DeviceFieldInfo& fi : m) {
          if (std::find(g.regs.begin(), g.regs.end(), fi.name) != g.regs.end()) continue;
          if (g.model_kind == ModelKind::BitFlip && g.flip_bits > fi.bits)
            throw std::invalid_argument(what + ": bit_flip of " + std::to_string(g.flip_bits) +
                                        " bits does not fit device field " + fi.name);
          g.regs.push_back(fi.name);
          g.field_bits.push_back(fi.bits);
          g.reg_offsets.push_back(g.reg_offsets.back() + (g.per_bit ? fi.bits : 1));
        }
      }
      g.variants = g.reg_offsets.back();
      break;
    }
    case pb::TargetSpace::kDisk: {
      g.target = TargetKind::Disk;
      const pb::DiskSpace& d = t.disk();
      if (d.drive() > 3)
        throw std::invalid_argument(what + ": disk drive " + std::to_string(d.drive()) + " is not 0..3");
      if (d.sectors().end() <= d.sectors().start())
        throw std::invalid_argument(what + ": empty sector range");
      g.start = d.sectors().start();
      const uint64_t sectors = d.sectors().end() - d.sectors().start();
      if (g.modelless) {
        g.variants = sectors;
        break;
      }
      g.width = d.width() == 0 ? 1 : d.width();
      if (g.width != 1 && g.width != 2 && g.width != 4)
        throw std::invalid_argument(what + ": disk width must be 1, 2 or 4 bytes, got " +
                                    std::to_string(g.width));
      const uint64_t b0 = d.has_bytes() ? d.bytes().start() : 0, b1 = d.has_bytes() ? d.bytes().end() : 512;
      if (b1 > 512 || b1 <= b0 || b1 - b0 < g.width)
        throw std::invalid_argument(what + ": byte range [" + std::to_string(b0) + ", " + std::to_string(b1) +
                                    ") is not inside a 512-byte sector or holds no " +
                                    std::to_string(g.width) + "-byte cell");
      if (g.model_kind == ModelKind::BitFlip && g.flip_bits > g.width * 8u)
        throw std::invalid_argument(what + ": bit_flip of " + std::to_string(g.flip_bits) +
                                    " bits does not fit a " + std::to_string(g.width) + "-byte cell");
      g.byte_start = b0;
      g.cells_per_sector = (b1 - b0) / g.width;
      g.cells = sectors;
      g.variants =
          mul_checked(mul_checked(sectors, g.cells_per_sector, what), g.per_bit ? g.width * 8u : 1, what);
      break;
    }
    case pb::TargetSpace::kSerial: {
      g.target = TargetKind::Serial;
      if (t.serial().com() < 1 || t.serial().com() > 4)
        throw std::invalid_argument(what + ": serial com " + std::to_string(t.serial().com()) +
                                    " is not 1..4");
      if (!g.modelless && g.model_kind == ModelKind::BitFlip && g.flip_bits > 8)
        throw std::invalid_argument(what + ": bit_flip of " + std::to_string(g.flip_bits) +
                                    " bits does not fit a serial byte");
      g.width = 1;
      g.variants = g.per_bit ? 8 : 1;
      break;
    }
    case pb::TargetSpace::kIrq: {
      g.target = TargetKind::Irq;
      if (t.irq().lines_size() == 0) throw std::invalid_argument(what + ": irq target lists no lines");
      for (uint32_t l : t.irq().lines()) {
        if (l > 15) throw std::invalid_argument(what + ": irq line " + std::to_string(l) + " is not 0..15");
        g.lines.push_back(l);
      }
      if (t.irq().kind() == pb::IRQ_SPURIOUS &&
          (g.duration.kind_case() == pb::Duration::kPermanent ||
           g.duration.kind_case() == pb::Duration::kIntermittentInstructions))
        throw std::invalid_argument(what + ": spurious interrupts are transient only");
      g.variants = g.lines.size();
      break;
    }
    case pb::TargetSpace::KIND_NOT_SET:
      throw std::invalid_argument(what + ": no target (memory, registers, disk, device, serial or irq)");
    default:
      throw std::invalid_argument(what + ": this target kind is not supported by the fault injector yet");
  }

  if (g.fixed_mask != 0) {
    auto check = [&](uint64_t valid, const std::string& of) {
      if (g.fixed_mask & ~valid)
        throw std::invalid_argument(what + ": bit_mask " + hex_text(g.fixed_mask) + " has bits outside " + of +
                                    " (valid " + hex_text(valid) + ")");
    };
    switch (g.target) {
      case TargetKind::Register:
        for (const std::string& r : g.regs) check(find_register(r)->valid_mask, "register " + r);
        break;
      case TargetKind::Field:
        for (size_t i = 0; i < g.regs.size(); ++i) check(full_mask(g.field_bits[i]), "device field " + g.regs[i]);
        break;
      case TargetKind::Serial: check(0xFF, "a serial byte"); break;
      default: check(full_mask(g.width * 8), "a " + std::to_string(g.width) + "-byte cell"); break;
    }
  }

  // ---- trigger
  g.trigger = fg.trigger();
  Points p{0, 1, 1};
  switch (fg.trigger().kind_case()) {
    case pb::TriggerSpace::kInstructions:
      p = expand_range(fg.trigger().instructions(), golden.end_instruction, what + " instructions");
      break;
    case pb::TriggerSpace::kTimeNs:
      p = expand_range(fg.trigger().time_ns(), golden.end_time_ns, what + " time_ns");
      break;
    case pb::TriggerSpace::kPc: {
      const pb::PcTrigger& pc = fg.trigger().pc();
      if (pc.at_case() == pb::PcTrigger::kSymbol) {
        if (!golden.symbols)
          throw std::invalid_argument(what + ": pc symbol '" + pc.symbol() +
                                      "' needs the kernel's symbol table, which is not available");
        auto sym = golden.symbols->find(pc.symbol());
        if (!sym) throw std::invalid_argument(what + ": unknown symbol '" + pc.symbol() + "'");
        g.pc_address = sym->value;
      } else if (pc.at_case() == pb::PcTrigger::kAddress) {
        g.pc_address = pc.address();
      } else {
        throw std::invalid_argument(what + ": pc trigger needs an address or a symbol");
      }
      p = expand_occurrences(pc.occurrences(), what + " pc");
      break;
    }
    case pb::TriggerSpace::kMemoryAccess: {
      const auto& ma = fg.trigger().memory_access();
      if (ma.range().end() <= ma.range().start())
        throw std::invalid_argument(what + ": memory_access trigger has an empty range");
      p = expand_occurrences(ma.occurrences(), what + " memory_access");
      break;
    }
    case pb::TriggerSpace::kPort:
      if (fg.trigger().port().port() > 0xFFFF)
        throw std::invalid_argument(what + ": port " + std::to_string(fg.trigger().port().port()) +
                                    " is beyond 0xFFFF");
      p = expand_occurrences(fg.trigger().port().occurrences(), what + " port");
      break;
    case pb::TriggerSpace::kOutput:
      if (fg.trigger().output().pattern().empty())
        throw std::invalid_argument(what + ": output trigger pattern is empty");
      try {
        std::regex re(fg.trigger().output().pattern(), std::regex::ECMAScript | std::regex::multiline);
      } catch (const std::regex_error& e) {
        throw std::invalid_argument(what + ": bad output pattern '" + fg.trigger().output().pattern() +
                                    "': " + e.what());
      }
      p = expand_occurrences(fg.trigger().output().occurrences(), what + " output");
      break;
    case pb::TriggerSpace::KIND_NOT_SET:
      break;
    default:
      throw std::invalid_argument(what + ": this trigger kind is not supported by the injector yet");
  }
  g.t_start = p.start;
  g.t_step = p.step;
  g.t_count = p.count;
  g.size = mul_checked(g.variants, g.t_count, what);
  return g;
}

pb::Fault FaultSpace::at(uint64_t index) const {
  if (index >= size_)
    throw std::out_of_range("fault index " + std::to_string(index) + " outside the fault space (size " +
                            std::to_string(size_) + ")");
  // Groups are few: a linear scan is O(groups).
  const Group* gp = &groups_.front();
  for (const Group& g : groups_)
    if (index >= g.offset && index - g.offset < g.size) {
      gp = &g;
      break;
    }
  const Group& g = *gp;
  const uint64_t local = index - g.offset;
  const uint64_t tv = local / g.t_count;
  const uint64_t tp = local % g.t_count;

  pb::Fault f;
  f.set_group(g.name);
  *f.mutable_model() = g.model;
  *f.mutable_duration() = g.duration;

  // ---- target and bit mask
  std::vector<unsigned> positions;  // bit positions of the target
  uint64_t position_index = 0;
  uint64_t cell_mask = 0;
  const pb::TargetSpace& ts = g.target_space;
  if (g.modelless) {
    f.clear_model();
    if (g.target == TargetKind::Disk) {
      auto* d = f.mutable_disk();
      d->set_drive(ts.disk().drive());
      d->set_lba(g.start + tv);
      d->set_count(1);
      d->set_kind(ts.disk().kind());
    } else if (g.target == TargetKind::Serial) {
      auto* st = f.mutable_serial();
      st->set_com(ts.serial().com());
      st->set_direction(ts.serial().direction());
      st->set_action(ts.serial().action());
    } else {
      f.mutable_irq()->set_line(g.lines[tv]);
      f.mutable_irq()->set_kind(ts.irq().kind());
    }
  } else if (g.target == TargetKind::Field) {
    auto it = std::upper_bound(g.reg_offsets.begin(), g.reg_offsets.end(), tv);
    size_t r = static_cast<size_t>(it - g.reg_offsets.begin()) - 1;
    f.set_device_field(g.regs[r]);
    for (unsigned b = 0; b < g.field_bits[r]; ++b) positions.push_back(b);
    position_index = tv - g.reg_offsets[r];
    cell_mask = full_mask(g.field_bits[r]);
  } else if (g.target == TargetKind::Disk) {
    const uint64_t per_cell = g.per_bit ? uint64_t(g.width) * 8 : 1;
    const uint64_t cell = tv / per_cell;
    position_index = tv % per_cell;
    auto* d = f.mutable_disk();
    d->set_drive(ts.disk().drive());
    d->set_lba(g.start + cell / g.cells_per_sector);
    d->set_count(1);
    d->set_kind(pb::DISK_CORRUPT_READ);
    d->set_offset(static_cast<uint32_t>(g.byte_start + (cell % g.cells_per_sector) * g.width));
    f.set_width(g.width);
    for (unsigned b = 0; b < g.width * 8; ++b) positions.push_back(b);
    cell_mask = full_mask(g.width * 8);
  } else if (g.target == TargetKind::Serial) {
    auto* st = f.mutable_serial();
    st->set_com(ts.serial().com());
    st->set_direction(ts.serial().direction());
    st->set_action(pb::SERIAL_CORRUPT);
    for (unsigned b = 0; b < 8; ++b) positions.push_back(b);
    position_index = tv;
    cell_mask = 0xFF;
  } else if (g.target == TargetKind::Register) {
    auto it = std::upper_bound(g.reg_offsets.begin(), g.reg_offsets.end(), tv);
    size_t r = static_cast<size_t>(it - g.reg_offsets.begin()) - 1;
    f.set_register_name(g.regs[r]);
    RegisterInfo info = *find_register(g.regs[r]);
    positions = register_bit_positions(info);
    position_index = tv - g.reg_offsets[r];
    cell_mask = info.valid_mask;
  } else {
    const uint64_t per_cell = g.per_bit ? uint64_t(g.width) * 8 : 1;
    const uint64_t cell = tv / per_cell;
    position_index = tv % per_cell;
    const uint64_t addr = g.start + cell * g.width;
    if (g.target == TargetKind::Physical) f.set_physical_address(addr);
    else f.set_virtual_address(addr);
    f.set_width(g.width);
    for (unsigned b = 0; b < g.width * 8; ++b) positions.push_back(b);
    cell_mask = full_mask(g.width * 8);
  }
  if (g.modelless) {
    // no mask
  } else if (!g.per_bit) {
    f.set_bit_mask(g.fixed_mask != 0 ? g.fixed_mask : cell_mask);
  } else {
    uint64_t mask = uint64_t(1) << positions[position_index];
    if (g.model_kind == ModelKind::BitFlip && g.flip_bits > 1) {
      // The other k-1 bits: a partial Fisher-Yates shuffle of the remaining
      // positions with a generator seeded from the global index.
      std::vector<unsigned> rest;
      for (size_t i = 0; i < positions.size(); ++i)
        if (i != position_index) rest.push_back(positions[i]);
      Xoshiro256 rng(mix64(index ^ mix64(g.group_no + 0x6d61736b)));
      for (unsigned k = 0; k + 1 < g.flip_bits; ++k) {
        size_t j = k + static_cast<size_t>(rng.below(rest.size() - k));
        std::swap(rest[k], rest[j]);
        mask |= uint64_t(1) << rest[k];
      }
    }
    f.set_bit_mask(mask);
  }
  if (g.model_kind == ModelKind::RandomValue) f.set_random_seed(mix64(index ^ 0x72616e646f6dull));

  // ---- trigger point
  const uint64_t point = g.t_start + tp * g.t_step;
  pb::Trigger* tr = f.mutable_trigger();
  switch (g.trigger.kind_case()) {
    case pb::TriggerSpace::kInstructions: tr->set_instruction(point); break;
    case pb::TriggerSpace::kTimeNs: tr->set_time_ns(point); break;
    case pb::TriggerSpace::kPc:
      tr->mutable_pc()->set_address(g.pc_address);
      tr->mutable_pc()->set_occurrence(point);
      break;
    case pb::TriggerSpace::kMemoryAccess: {
      const auto& ma = g.trigger.memory_access();
      auto* ap = tr->mutable_memory_access();
      ap->set_start(ma.range().start());
      ap->set_end(ma.range().end());
      ap->set_on_read(ma.on_read());
      ap->set_on_write(ma.on_write());
      ap->set_occurrence(point);
      break;
    }
    case pb::TriggerSpace::kPort: {
      const auto& pt = g.trigger.port();
      auto* ap = tr->mutable_port();
      ap->set_start(pt.port());
      ap->set_end(uint64_t(pt.port()) + 1);
      ap->set_on_read(pt.on_read());
      ap->set_on_write(pt.on_write());
      ap->set_occurrence(point);
      break;
    }
    case pb::TriggerSpace::kOutput:
      tr->mutable_output()->set_pattern(g.trigger.output().pattern());
      tr->mutable_output()->set_occurrence(point);
      break;
    default:  // no trigger (kinds the constructor rejects never get here)
      f.clear_trigger();
      break;
  }
  return f;
}

std::vector<uint64_t> FaultSpace::plan(const pb::Sampling& sampling) const {
  std::vector<uint64_t> out;
  const bool full = sampling.mode_case() != pb::Sampling::kSamples || sampling.samples() >= size_;
  if (full) {
    if (size_ > kMaxFullPlan)
      throw std::invalid_argument("the fault space has " + std::to_string(size_) +
                                  " faults; a full campaign over more than " + std::to_string(kMaxFullPlan) +
                                  " is refused: use sampling { samples: N }");
    out.resize(size_);
    for (uint64_t i = 0; i < size_; ++i) out[i] = i;
    return out;
  }
  // Floyd's algorithm: exactly `samples` draws, every subset equally likely.
  const uint64_t k = sampling.samples();
  Xoshiro256 rng(sampling.seed());
  std::unordered_set<uint64_t> chosen;
  chosen.reserve(k * 2);
  for (uint64_t j = size_ - k; j < size_; ++j) {
    uint64_t t = rng.below(j + 1);
    if (!chosen.insert(t).second) chosen.insert(j);
  }
  out.assign(chosen.begin(), chosen.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace faultline::faults
