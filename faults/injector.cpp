#include "faults/injector.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "devices/pc/pc_platform.h"
#include "faults/prng.h"

namespace faultline::faults {

namespace {

constexpr size_t kOutputWindow = 1024;

uint64_t full_mask(unsigned bits) { return bits >= 64 ? ~0ull : (uint64_t(1) << bits) - 1; }

std::string hex(uint64_t v, unsigned digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%0*llx", static_cast<int>(digits), static_cast<unsigned long long>(v));
  return buf;
}

// Whether a match of the pattern may contain a line break (conservative:
// any construct that can match '\n' counts).
bool pattern_may_span_lines(const std::string& p) {
  if (p.find('\n') != std::string::npos || p.find('\r') != std::string::npos) return true;
  for (const char* c : {"\\n", "\\r", "\\s", "\\S", "\\W", "\\D", "[^", "\\x0", "\\u000", "\\c"})
    if (p.find(c) != std::string::npos) return true;
  return false;
}

const char* cell_name(unsigned width) {
  return width == 1 ? "byte" : width == 2 ? "word" : "dword";
}

constexpr uint64_t kMaxListedHits = 8;

const char* disk_kind_name(pb::DiskFaultKind k) {
  switch (k) {
    case pb::DISK_READ_ERROR: return "read error";
    case pb::DISK_WRITE_ERROR: return "write error";
    case pb::DISK_TIMEOUT: return "timeout";
    default: return "read corruption";
  }
}

bool has_model(const pb::Fault& f) { return f.model().kind_case() != pb::Model::KIND_NOT_SET; }

}  // namespace

FaultInjector::FaultInjector(Machine& m, const SymbolTable* symbols, PcPlatform* pc)
    : m_(m), symbols_(symbols), pc_(pc) {}

FaultInjector::~FaultInjector() { disarm(); }

// ---- validation ------------------------------------------------------------------

void FaultInjector::validate(const pb::Fault& f, bool check_trigger) {
  reg_.reset();
  field_.reset();
  target_ = Target::Memory;
  const bool whole_value = f.model().kind_case() == pb::Model::kSetValue ||
                           f.model().kind_case() == pb::Model::kRandomValue;
  uint64_t valid = 0;
  std::string what;
  bool modelled = true;
  switch (f.target_case()) {
    case pb::Fault::kPhysicalAddress:
    case pb::Fault::kVirtualAddress: {
      width_ = f.width() == 0 ? 1 : f.width();
      if (width_ != 1 && width_ != 2 && width_ != 4)
        throw std::invalid_argument("fault width must be 1, 2 or 4 bytes, got " + std::to_string(width_));
      uint64_t a = f.target_case() == pb::Fault::kPhysicalAddress ? f.physical_address() : f.virtual_address();
      if (a + width_ > 0x100000000ull)
        throw std::invalid_argument("fault address " + hex(a, 8) + " is beyond 4 GiB");
      if (f.target_case() == pb::Fault::kPhysicalAddress && a + width_ > m_.cpu().ram_size())
        throw std::invalid_argument("physical address " + hex(a, 8) + " is outside RAM (" +
                                    std::to_string(m_.cpu().ram_size()) + " bytes)");
      valid = full_mask(width_ * 8);
      what = std::to_string(width_) + "-byte cell";
      break;
    }
    case pb::Fault::kDeviceField:
    case pb::Fault::kDisk:
    case pb::Fault::kSerial:
    case pb::Fault::kIrq:
      validate_platform_target(f);
      if (target_ == Target::Field) {
        valid = full_mask(field_->bits);
        what = "device field " + field_->name;
        break;
      }
      if (target_ == Target::Disk && f.disk().kind() == pb::DISK_CORRUPT_READ) {
        valid = full_mask(width_ * 8);
        what = std::to_string(width_) + "-byte disk cell";
        break;
      }
      if (target_ == Target::Serial && f.serial().action() == pb::SERIAL_CORRUPT) {
        valid = 0xFF;
        what = "serial byte";
        break;
      }
      // Kinds without a model (errors, timeouts, drops, interrupts).
      modelled = false;
      break;
    case pb::Fault::kRegisterName: {
      target_ = Target::Register;
      reg_ = find_register(f.register_name());
      if (!reg_) throw std::invalid_argument("unknown register '" + f.register_name() + "'");
      if (f.duration().kind_case() == pb::Duration::kPermanent)
        throw std::invalid_argument("permanent register faults are not supported (register " +
                                    f.register_name() + ")");
      valid = reg_->valid_mask;
      what = "register " + f.register_name();
      break;
    }
    case pb::Fault::TARGET_NOT_SET:
      throw std::invalid_argument(
          "fault has no target (physical_address, virtual_address, register_name, device_field, disk, "
          "serial or irq)");
    default:
      throw std::invalid_argument("this fault target kind is not supported by the injector yet");
  }
  mask_ = 0;
  if (modelled) {
    switch (f.model().kind_case()) {
      case pb::Model::KIND_NOT_SET:  // no model: flip the bit_mask bits
      case pb::Model::kBitFlip:
      case pb::Model::kStuckAt:
      case pb::Model::kSetValue:
      case pb::Model::kRandomValue:
        break;
      default:
        throw std::invalid_argument("this fault model is not supported by the injector yet");
    }
    mask_ = f.bit_mask();
    if (mask_ == 0) {
      if (!whole_value) throw std::invalid_argument("fault bit_mask is 0: no bit to flip or force");
      mask_ = valid;
    }
    if (mask_ & ~valid)
      throw std::invalid_argument("bit_mask " + hex(f.bit_mask(), 1) + " has bits outside the " + what +
                                  " (valid " + hex(valid, 1) + ")");
    if (f.model().kind_case() == pb::Model::kStuckAt && f.model().stuck_at().value() > 1)
      throw std::invalid_argument("stuck_at value must be 0 or 1, got " +
                                  std::to_string(f.model().stuck_at().value()));
  }
  if (f.duration().kind_case() == pb::Duration::kIntermittentInstructions &&
      f.duration().intermittent_instructions() == 0)
    throw std::invalid_argument("intermittent_instructions must be at least 1");
  if (!check_trigger) return;
  const pb::Trigger& t = f.trigger();
  switch (t.kind_case()) {
    case pb::Trigger::kPc:
      if (t.pc().address() > 0xFFFFFFFFull)
        throw std::invalid_argument("pc trigger address " + hex(t.pc().address(), 1) + " is beyond 4 GiB");
      break;
    case pb::Trigger::kMemoryAccess:
      if (t.memory_access().end() <= t.memory_access().start() || t.memory_access().end() > 0x100000000ull)
        throw std::invalid_argument("memory_access trigger needs a physical range [start, end) below 4 GiB");
      break;
    case pb::Trigger::kPort:
      if (t.port().start() > 0xFFFF)
        throw std::invalid_argument("port trigger port " + hex(t.port().start(), 1) + " is beyond 0xFFFF");
      break;
    case pb::Trigger::kOutput:
      if (t.output().pattern().empty()) throw std::invalid_argument("output trigger pattern is empty");
      try {
        pattern_ = std::regex(t.output().pattern(), std::regex::ECMAScript | std::regex::multiline);
        may_span_lines_ = pattern_may_span_lines(t.output().pattern());
      } catch (const std::regex_error& e) {
        throw std::invalid_argument("bad output trigger pattern '" + t.output().pattern() + "': " + e.what());
      }
      break;
    case pb::Trigger::KIND_NOT_SET:
    case pb::Trigger::kInstruction:
    case pb::Trigger::kTimeNs:
      break;
    default:
      throw std::invalid_argument("this trigger kind is not supported by the injector yet");
  }
}

void FaultInjector::validate_platform_target(const pb::Fault& f) {
  const char* kind = f.target_case() == pb::Fault::kDeviceField ? "a device register"
                     : f.target_case() == pb::Fault::kDisk      ? "a disk"
                     : f.target_case() == pb::Fault::kSerial    ? "a serial"
                                                                : "an interrupt line";
  if (!pc_) throw std::invalid_argument(std::string(kind) + " fault needs the PC platform");
  const bool permanent = f.duration().kind_case() == pb::Duration::kPermanent;
  switch (f.target_case()) {
    case pb::Fault::kDeviceField: {
      target_ = Target::Field;
      for (FaultField& ff : pc_->fault_fields())
        if (ff.name == f.device_field()) field_ = std::move(ff);
      if (!field_)
        throw std::invalid_argument("unknown device field '" + f.device_field() + "' on this platform");
      if (permanent)
        throw std::invalid_argument("permanent device register faults are not supported (field " +
                                    f.device_field() + ")");
      return;
    }
    case pb::Fault::kDisk: {
      target_ = Target::Disk;
      const pb::DiskTarget& d = f.disk();
      if (d.drive() > 3)
        throw std::invalid_argument("disk drive " + std::to_string(d.drive()) + " is not 0..3");
      IdeChannel* ch = pc_->ide(d.drive() / 2);
      if (!ch || !ch->present(d.drive() % 2))
        throw std::invalid_argument("disk drive " + std::to_string(d.drive()) + " has no disk attached");
      const uint64_t count = d.count() == 0 ? 1 : d.count();
      if (d.lba() + count < d.lba()) throw std::invalid_argument("disk sector range overflows");
      switch (d.kind()) {
        case pb::DISK_CORRUPT_READ:
          width_ = f.width() == 0 ? 1 : f.width();
          if (width_ != 1 && width_ != 2 && width_ != 4)
            throw std::invalid_argument("disk cell width must be 1, 2 or 4 bytes, got " +
                                        std::to_string(width_));
          if (d.offset() + width_ > DiskImage::kSectorSize)
            throw std::invalid_argument("disk cell at offset " + std::to_string(d.offset()) +
                                        " does not fit a 512-byte sector");
          return;
        case pb::DISK_READ_ERROR:
        case pb::DISK_WRITE_ERROR:
        case pb::DISK_TIMEOUT:
          if (has_model(f))
            throw std::invalid_argument(std::string("disk ") + disk_kind_name(d.kind()) +
                                        " faults take no model (a model only applies to read corruption)");
          return;
        default:
          throw std::invalid_argument("unknown disk fault kind " + std::to_string(d.kind()));
      }
    }
    case pb::Fault::kSerial: {
      target_ = Target::Serial;
      const pb::SerialTarget& st = f.serial();
      if (st.com() < 1 || st.com() > 4)
        throw std::invalid_argument("serial com " + std::to_string(st.com()) + " is not 1..4");
      if (!pc_->com(st.com() - 1))
        throw std::invalid_argument("COM" + std::to_string(st.com()) + " is not present on this platform");
      if (st.direction() != pb::SERIAL_TX && st.direction() != pb::SERIAL_RX)
        throw std::invalid_argument("unknown serial direction " + std::to_string(st.direction()));
      if (st.action() == pb::SERIAL_DROP) {
        if (has_model(f))
          throw std::invalid_argument("serial drop faults take no model (drop loses the byte)");
      } else if (st.action() != pb::SERIAL_CORRUPT) {
        throw std::invalid_argument("unknown serial action " + std::to_string(st.action()));
      }
      return;
    }
    case pb::Fault::kIrq: {
      const pb::IrqTarget& it = f.irq();
      if (it.line() > 15)
        throw std::invalid_argument("irq line " + std::to_string(it.line()) + " is not 0..15");
      if (has_model(f)) throw std::invalid_argument("interrupt line faults take no model");
      if (it.kind() == pb::IRQ_LOST) {
        target_ = Target::IrqLost;
      } else if (it.kind() == pb::IRQ_SPURIOUS) {
        target_ = Target::IrqSpurious;
        if (f.duration().kind_case() == pb::Duration::kPermanent ||
            f.duration().kind_case() == pb::Duration::kIntermittentInstructions)
          throw std::invalid_argument("spurious interrupts are transient only (one pulse at the trigger)");
      } else {
        throw std::invalid_argument("unknown irq fault kind " + std::to_string(it.kind()));
      }
      return;
    }
    default:
      return;
  }
}

// ---- arming ------------------------------------------------------------------------

void FaultInjector::arm(const pb::Fault& fault) {
  disarm();
  validate(fault, true);
  fault_ = fault;
  record_ = {};
  armed_ = true;
  install_trigger();
}

void FaultInjector::inject_now(const pb::Fault& fault) {
  disarm();
  validate(fault, false);
  fault_ = fault;
  record_ = {};
  armed_ = true;
  trigger_done_ = true;
  apply();
}

void FaultInjector::install_trigger() {
  Cpu& cpu = m_.cpu();
  const pb::Trigger& t = fault_.trigger();
  count_ = 0;
  trigger_done_ = false;
  switch (t.kind_case()) {
    case pb::Trigger::KIND_NOT_SET:
      fire();
      return;
    case pb::Trigger::kInstruction:
    case pb::Trigger::kTimeNs: {
      uint64_t tick = t.kind_case() == pb::Trigger::kInstruction ? t.instruction()
                                                                  : m_.clock().ns_to_ticks(t.time_ns());
      if (tick <= cpu.ticks()) {
        fire();
        return;
      }
      trigger_event_ = schedule_tick(tick, [this] {
        trigger_event_.reset();
        fire();
      });
      return;
    }
    case pb::Trigger::kPc:
      occurrence_ = t.pc().occurrence() == 0 ? 1 : t.pc().occurrence();
      pc_address_ = static_cast<uint32_t>(t.pc().address());
      cpu.pc_breakpoints.push_back(pc_address_);
      pc_bp_ = true;
      set_pc_hook(true);
      cpu.hooks_changed();
      return;
    case pb::Trigger::kMemoryAccess: {
      const auto& a = t.memory_access();
      occurrence_ = a.occurrence() == 0 ? 1 : a.occurrence();
      range_start_ = a.start();
      range_end_ = a.end();
      on_read_ = a.on_read() || !a.on_write();
      on_write_ = a.on_write() || !a.on_read();
      trigger_watch_ = true;
      sync_watches();
      return;
    }
    case pb::Trigger::kPort: {
      const auto& a = t.port();
      occurrence_ = a.occurrence() == 0 ? 1 : a.occurrence();
      range_start_ = a.start();
      range_end_ = a.end() == 0 ? a.start() + 1 : a.end();
      on_read_ = a.on_read() || !a.on_write();
      on_write_ = a.on_write() || !a.on_read();
      Bus& bus = m_.bus();
      prev_io_observer_ = bus.io_observer;
      bus.io_observer = [this](uint16_t port, unsigned size, bool write, uint32_t value) {
        if (prev_io_observer_) prev_io_observer_(port, size, write, value);
        if (trigger_done_) return;
        if (!(write ? on_write_ : on_read_)) return;
        if (!(port < range_end_ && range_start_ < uint64_t(port) + size)) return;
        if (++count_ == occurrence_) trigger_met_deferred();
      };
      io_hooked_ = true;
      return;
    }
    case pb::Trigger::kOutput:
      occurrence_ = t.output().occurrence() == 0 ? 1 : t.output().occurrence();
      console_buf_.clear();
      scan_from_ = 0;
      line_start_ = 0;
      console_id_ = m_.add_console_observer([this](char ch) { console_char(ch); });
      // With the PC platform, COM1 (when captured) is guest output too: the
      // pattern runs over both streams as the guest writes them.
      if (pc_)
        if (CapturedSerialOutput* com1 = pc_->com_capture(0)) {
          com1_observer_ = com1->add_observer([this](uint8_t b) { console_char(static_cast<char>(b)); });
          com1_hooked_ = com1;
        }
      return;
    default:  // rejected by validate()
      return;
  }
}

void FaultInjector::console_char(char ch) {
  if (trigger_done_) return;
  console_buf_.push_back(ch);
  for (;;) {
    // A pattern that cannot match a line break only needs the current line.
    size_t from = scan_from_;
    if (!may_span_lines_ && line_start_ > from) from = line_start_;
    std::smatch mr;
    auto flags = std::regex_constants::match_not_null | std::regex_constants::match_not_eol;
    if (from > 0) flags |= std::regex_constants::match_prev_avail;
    if (!std::regex_search(console_buf_.cbegin() + static_cast<std::ptrdiff_t>(from), console_buf_.cend(), mr,
                           pattern_, flags))
      break;
    scan_from_ = from + static_cast<size_t>(mr.position(0) + mr.length(0));
    if (++count_ == occurrence_) {
      trigger_met_deferred();
      return;
    }
  }
  if (ch == '\n') line_start_ = console_buf_.size();
  // Bound the work per character: matches span at most kOutputWindow bytes.
  if (console_buf_.size() - scan_from_ > kOutputWindow) scan_from_ = console_buf_.size() - kOutputWindow;
  const size_t live = may_span_lines_ ? scan_from_ : std::max(scan_from_, line_start_);
  if (live > 2 * kOutputWindow) {
    const size_t drop = live - 1;  // keep one character for ^ and \b
    console_buf_.erase(0, drop);
    scan_from_ -= std::min(scan_from_, drop);
    line_start_ -= std::min(line_start_, drop);
  }
}

// The trigger condition was met inside an instruction (a watch, a port
// access, console output): inject at the next instruction boundary.
void FaultInjector::trigger_met_deferred() {
  trigger_done_ = true;
  deferred_event_ = schedule_tick(m_.cpu().ticks(), [this] {
    deferred_event_.reset();
    fire();
  });
}

void FaultInjector::fire() {
  trigger_done_ = true;
  remove_trigger_hooks(false);
  apply();
}

// ---- hooks -------------------------------------------------------------------------

void FaultInjector::pc_thunk(void* ctx, uint32_t lin) {
  auto* self = static_cast<FaultInjector*>(ctx);
  if (self->prev_on_pc_) self->prev_on_pc_(self->prev_on_pc_ctx_, lin);
  if (!self->pc_bp_ || self->trigger_done_ || lin != self->pc_address_) return;
  if (++self->count_ == self->occurrence_) self->fire();  // before the instruction runs
}

void FaultInjector::watch_thunk(void* ctx, uint32_t paddr, unsigned size, bool write) {
  auto* self = static_cast<FaultInjector*>(ctx);
  if (self->prev_on_watch_) self->prev_on_watch_(self->prev_on_watch_ctx_, paddr, size, write);
  if (self->enforcing_ && write) self->enforce(paddr, size);
  if (self->trigger_watch_ && !self->trigger_done_ && (write ? self->on_write_ : self->on_read_) &&
      paddr < self->range_end_ && self->range_start_ < uint64_t(paddr) + size) {
    if (++self->count_ == self->occurrence_) self->trigger_met_deferred();
  }
}

void FaultInjector::set_pc_hook(bool on) {
  Cpu& cpu = m_.cpu();
  if (on && !pc_hooked_) {
    prev_on_pc_ = cpu.on_pc;
    prev_on_pc_ctx_ = cpu.on_pc_ctx;
    cpu.on_pc = &pc_thunk;
    cpu.on_pc_ctx = this;
    pc_hooked_ = true;
  } else if (!on && pc_hooked_) {
    cpu.on_pc = prev_on_pc_;
    cpu.on_pc_ctx = prev_on_pc_ctx_;
    prev_on_pc_ = nullptr;
    prev_on_pc_ctx_ = nullptr;
    pc_hooked_ = false;
  }
}

void FaultInjector::set_watch_hook(bool on) {
  Cpu& cpu = m_.cpu();
  if (on && !watch_hooked_) {
    prev_on_watch_ = cpu.on_watch;
    prev_on_watch_ctx_ = cpu.on_watch_ctx;
    cpu.on_watch = &watch_thunk;
    cpu.on_watch_ctx = this;
    watch_hooked_ = true;
  } else if (!on && watch_hooked_) {
    cpu.on_watch = prev_on_watch_;
    cpu.on_watch_ctx = prev_on_watch_ctx_;
    prev_on_watch_ = nullptr;
    prev_on_watch_ctx_ = nullptr;
    watch_hooked_ = false;
  }
}

// Rebuilds this injector's entries in cpu.phys_watches: the trigger range
// (until the trigger fired) and the enforced cell bytes.
void FaultInjector::sync_watches() {
  Cpu& cpu = m_.cpu();
  for (const Cpu::PhysWatch& w : my_watches_) {
    auto it = std::find_if(cpu.phys_watches.begin(), cpu.phys_watches.end(), [&](const Cpu::PhysWatch& x) {
      return x.start == w.start && x.end == w.end && x.on_read == w.on_read && x.on_write == w.on_write;
    });
    if (it != cpu.phys_watches.end()) cpu.phys_watches.erase(it);
  }
  my_watches_.clear();
  if (trigger_watch_ && !trigger_done_)
    my_watches_.push_back({static_cast<uint32_t>(range_start_), static_cast<uint32_t>(range_end_), on_read_,
                           on_write_});
  if (enforcing_)
    for (uint32_t b : cell_) my_watches_.push_back({b, b + 1, false, true});
  for (const Cpu::PhysWatch& w : my_watches_) cpu.phys_watches.push_back(w);
  // The hook slot stays taken until disarm() (see unhook below).
  if (!my_watches_.empty()) set_watch_hook(true);
  cpu.hooks_changed();
}

// `unhook`: also give back the chained hook slots (Cpu::on_pc, Bus::
// io_observer). Only disarm() does: another injector armed later may have
// chained behind this one, and the chain stays intact when injectors give
// their slots back in the reverse order of taking them.
void FaultInjector::remove_trigger_hooks(bool unhook) {
  Cpu& cpu = m_.cpu();
  cancel(trigger_event_);
  cancel(deferred_event_);
  if (pc_bp_) {
    auto it = std::find(cpu.pc_breakpoints.begin(), cpu.pc_breakpoints.end(), pc_address_);
    if (it != cpu.pc_breakpoints.end()) cpu.pc_breakpoints.erase(it);
    pc_bp_ = false;
    cpu.hooks_changed();
  }
  if (trigger_watch_) {
    trigger_watch_ = false;
    sync_watches();
  }
  if (unhook) set_pc_hook(false);
  if (io_hooked_ && unhook) {
    m_.bus().io_observer = std::move(prev_io_observer_);
    prev_io_observer_ = nullptr;
    io_hooked_ = false;
  }
  if (com1_hooked_) {
    com1_hooked_->remove_observer(com1_observer_);
    com1_hooked_ = nullptr;
  }
  if (console_id_) {
    m_.remove_console_observer(*console_id_);
    console_id_.reset();
    console_buf_.clear();
    scan_from_ = 0;
  }
}

void FaultInjector::disarm() {
  remove_trigger_hooks(true);
  cancel(window_event_);
  remove_platform_hooks();
  if (enforcing_) {
    enforcing_ = false;
    sync_watches();
  }
  set_watch_hook(false);
  armed_ = false;
}

VirtualClock::EventId FaultInjector::schedule_tick(uint64_t tick, std::function<void()> fn) {
  EventId id = m_.clock().schedule_at_tick(tick, std::move(fn));
  m_.cpu().next_event_at = m_.clock().next_due();
  m_.cpu().async_check();
  return id;
}

void FaultInjector::cancel(std::optional<EventId>& id) {
  if (!id) return;
  m_.clock().cancel(*id);
  id.reset();
  m_.cpu().next_event_at = m_.clock().next_due();
}

// ---- applying the model -------------------------------------------------------------

uint64_t FaultInjector::read_cell() const {
  uint64_t v = 0;
  for (size_t k = 0; k < cell_.size(); ++k) {
    uint8_t b = 0;
    m_.cpu().read_phys(cell_[k], &b, 1);
    v |= uint64_t(b) << (8 * k);
  }
  return v;
}

void FaultInjector::write_cell(uint64_t v) {
  for (size_t k = 0; k < cell_.size(); ++k) {
    uint8_t b = static_cast<uint8_t>(v >> (8 * k));
    m_.cpu().write_phys(cell_[k], &b, 1);
  }
}

uint64_t FaultInjector::read_target() const {
  if (field_) return field_->get() & full_mask(field_->bits);
  return reg_ ? read_register(m_.cpu(), *reg_) : read_cell();
}

void FaultInjector::write_target(uint64_t v) {
  if (field_) {
    field_->set(v & full_mask(field_->bits));
    m_.cpu().async_check();  // an interrupt output may have changed
    return;
  }
  if (reg_) {
    write_register(m_.cpu(), *reg_, v);
    return;
  }
  write_cell(v);
  uint64_t last_page = ~0ull;
  for (uint32_t b : cell_)
    if ((b >> 12) != last_page) {
      last_page = b >> 12;
      m_.cpu().invalidate_code_page(b);
    }
  m_.cpu().async_check();
}

uint64_t FaultInjector::apply_model(uint64_t original) const {
  const pb::Model& model = fault_.model();
  switch (model.kind_case()) {
    case pb::Model::KIND_NOT_SET:
    case pb::Model::kBitFlip:
      return original ^ mask_;
    case pb::Model::kStuckAt:
      return model.stuck_at().value() ? (original | mask_) : (original & ~mask_);
    case pb::Model::kSetValue:
      return (original & ~mask_) | (model.set_value().value() & mask_);
    case pb::Model::kRandomValue: {
      Xoshiro256 rng(fault_.random_seed());
      return (original & ~mask_) | (rng.next() & mask_);
    }
    default:  // rejected by validate()
      return original;
  }
}

void FaultInjector::apply() {
  Cpu& cpu = m_.cpu();
  record_.at_instruction = cpu.ticks();
  record_.at_time_ns = m_.now_ns();
  if (target_ != Target::Memory && target_ != Target::Register && target_ != Target::Field) {
    apply_platform();
    return;
  }
  std::string where;
  cell_.clear();
  if (fault_.target_case() == pb::Fault::kPhysicalAddress) {
    for (unsigned k = 0; k < width_; ++k) cell_.push_back(static_cast<uint32_t>(fault_.physical_address() + k));
    where = "phys " + hex(cell_[0], 1);
  } else if (fault_.target_case() == pb::Fault::kVirtualAddress) {
    for (unsigned k = 0; k < width_; ++k) {
      uint32_t pa = 0;
      uint32_t va = static_cast<uint32_t>(fault_.virtual_address() + k);
      if (!cpu.translate_debug(va, pa)) {
        record_.injected = false;
        record_.detail = "virtual address not mapped";
        cell_.clear();
        return;
      }
      if (uint64_t(pa) >= cpu.ram_size()) {
        record_.injected = false;
        record_.detail = "virtual address " + hex(va, 8) + " maps outside RAM (phys " + hex(pa, 8) + ")";
        cell_.clear();
        return;
      }
      cell_.push_back(pa);
    }
    where = "virt " + hex(fault_.virtual_address(), 1) + " (phys " + hex(cell_[0], 1) + ")";
  } else if (field_) {
    where = field_->name;
  } else {
    where = fault_.register_name();
  }

  original_ = read_target();
  const uint64_t v = apply_model(original_);
  forced_ = v & mask_;
  write_target(v);
  const uint64_t now = read_target();
  const bool memory = target_ == Target::Memory;
  const unsigned digits = reg_ ? (reg_->bits + 3) / 4 : field_ ? (field_->bits + 3) / 4 : width_ * 2;
  record_.injected = true;
  record_.value = now;
  record_.detail = where + (!memory ? " " : std::string(" ") + cell_name(width_) + " ") +
                   hex(original_, digits) + "->" + hex(now, digits);

  // Duration.
  const pb::Duration& d = fault_.duration();
  if (d.kind_case() == pb::Duration::kPermanent ||
      d.kind_case() == pb::Duration::kIntermittentInstructions) {
    if (memory) {
      enforcing_ = true;
      sync_watches();
    }
    if (d.kind_case() == pb::Duration::kIntermittentInstructions)
      window_event_ = schedule_tick(cpu.ticks() + d.intermittent_instructions(), [this] {
        window_event_.reset();
        end_window();
      });
  }
}

// Re-applies the faulty bits after a guest write to the cell (on_watch runs
// after the write completed).
void FaultInjector::enforce(uint32_t paddr, unsigned size) {
  bool hit = false;
  for (uint32_t b : cell_)
    if (b >= paddr && b - paddr < size) hit = true;
  if (!hit) return;
  uint64_t cur = read_cell();
  if ((cur & mask_) == forced_) return;
  write_cell((cur & ~mask_) | forced_);  // write_phys keeps decoded code coherent
}

void FaultInjector::end_window() {
  if (target_ != Target::Memory && target_ != Target::Register && target_ != Target::Field) {
    end_stream();
    stream_suffix_ += "; window ended at tick " + std::to_string(m_.cpu().ticks());
    update_stream_detail();
    return;
  }
  if (enforcing_) {
    enforcing_ = false;
    sync_watches();
  }
  uint64_t cur = read_target();
  uint64_t still_faulty = ~(cur ^ forced_) & mask_;
  uint64_t changed = (original_ ^ forced_) & still_faulty;
  uint64_t v = (cur & ~changed) | (original_ & changed);
  write_target(v);
  record_.detail += "; restored at tick " + std::to_string(m_.cpu().ticks());
}

// ---- platform targets: disk, serial, interrupt lines -----------------------------------

void FaultInjector::update_stream_detail() {
  record_.detail = stream_base_ + stream_hits_;
  if (hits_ > kMaxListedHits) record_.detail += "; " + std::to_string(hits_) + " hits in all";
  record_.detail += stream_suffix_;
}

void FaultInjector::note_hit(const std::string& what) {
  record_.injected = true;
  ++hits_;
  if (hits_ <= kMaxListedHits) stream_hits_ += "; " + what + " at tick " + std::to_string(m_.cpu().ticks());
  // A transient fault hits once.
  if (fault_.duration().kind_case() != pb::Duration::kPermanent &&
      fault_.duration().kind_case() != pb::Duration::kIntermittentInstructions)
    stream_active_ = false;
  update_stream_detail();
}

// The window of an intermittent stream fault ended (or disarm): no more hits.
// A lost-interrupt line the device still drives high is raised again.
void FaultInjector::end_stream() {
  stream_active_ = false;
  if (irq_hooked_) {
    const unsigned line = fault_.irq().line();
    if (device_level_ && !pc_->pic().line_level(line)) pc_->pic().force_line(line, true);
  }
}

void FaultInjector::apply_platform() {
  hits_ = 0;
  stream_hits_.clear();
  stream_suffix_.clear();
  record_.injected = false;
  PicPair& pic = pc_->pic();
  switch (target_) {
    case Target::IrqSpurious: {
      const unsigned line = fault_.irq().line();
      if (pic.line_level(line)) {
        pic.force_line(line, false);
        pic.force_line(line, true);
        record_.detail =
            "irq " + std::to_string(line) + " was asserted: dropped and raised again (spurious edge)";
      } else {
        pic.force_line(line, true);
        pic.force_line(line, false);
        record_.detail = "irq " + std::to_string(line) + " pulsed (spurious interrupt)";
      }
      record_.injected = true;
      m_.cpu().async_check();
      return;
    }
    case Target::IrqLost: {
      const unsigned line = fault_.irq().line();
      stream_base_ = "irq " + std::to_string(line) + " lost interrupt armed";
      device_level_ = pic.line_level(line);
      prev_line_filter_ = pic.line_filter;
      pic.line_filter = [this, line](unsigned irq, bool level) {
        if (prev_line_filter_ && !prev_line_filter_(irq, level)) return false;
        if (irq != line) return true;
        device_level_ = level;
        if (!stream_active_ || !level || pc_->pic().line_level(line)) return true;
        note_hit("assertion of irq " + std::to_string(line) + " dropped");
        return false;
      };
      irq_hooked_ = true;
      break;
    }
    case Target::Disk: {
      const pb::DiskTarget& d = fault_.disk();
      const uint64_t first = d.lba(), count = d.count() == 0 ? 1 : d.count();
      stream_base_ = "disk " + std::to_string(d.drive()) + " lba " + std::to_string(first) +
                     (count > 1 ? ".." + std::to_string(first + count - 1) : "") + " " +
                     disk_kind_name(d.kind());
      if (d.kind() == pb::DISK_CORRUPT_READ)
        stream_base_ += std::string(" (") + cell_name(width_) + " at offset " + std::to_string(d.offset()) +
                        ", mask " + hex(mask_, width_ * 2) + ")";
      stream_base_ += " armed";
      IdeChannel* ch = pc_->ide(d.drive() / 2);
      ch->set_fault_hook(d.drive() % 2, [this, first, count](uint64_t lba, bool write) -> IoFault {
        if (!stream_active_ || lba < first || lba - first >= count) return IoFault::none();
        const pb::DiskFaultKind kind = fault_.disk().kind();
        switch (kind) {
          case pb::DISK_CORRUPT_READ:
            if (write) return IoFault::none();
            return IoFault::corruption([this, lba](std::span<uint8_t> sector) {
              const unsigned off = fault_.disk().offset();
              uint64_t before = 0;
              for (unsigned k = 0; k < width_; ++k) before |= uint64_t(sector[off + k]) << (8 * k);
              const uint64_t after = apply_model(before);
              for (unsigned k = 0; k < width_; ++k) sector[off + k] = static_cast<uint8_t>(after >> (8 * k));
              note_hit("read of lba " + std::to_string(lba) + " corrupted: offset " + std::to_string(off) +
                       " " + hex(before, width_ * 2) + "->" + hex(after, width_ * 2));
            });
          case pb::DISK_READ_ERROR:
            if (write) return IoFault::none();
            note_hit("read of lba " + std::to_string(lba) + " failed (UNC)");
            return IoFault::fail(ata::kErrorUnc);
          case pb::DISK_WRITE_ERROR:
            if (!write) return IoFault::none();
            note_hit("write of lba " + std::to_string(lba) + " failed (IDNF)");
            return IoFault::fail(ata::kErrorIdnf);
          case pb::DISK_TIMEOUT:
            note_hit(std::string(write ? "write" : "read") + " of lba " + std::to_string(lba) +
                     " hung (timeout)");
            return IoFault::timeout();
          default:
            return IoFault::none();
        }
      });
      disk_hooked_ = true;
      break;
    }
    case Target::Serial: {
      const pb::SerialTarget& st = fault_.serial();
      Uart* u = pc_->com(st.com() - 1);
      const bool rx = st.direction() == pb::SERIAL_RX;
      const bool drop = st.action() == pb::SERIAL_DROP;
      const std::string name = "com" + std::to_string(st.com()) + (rx ? " rx" : " tx");
      stream_base_ =
          name + (drop ? " byte drop" : " byte corruption (mask " + hex(mask_, 2) + ")") + " armed";
      auto& filter = rx ? u->rx_filter : u->tx_filter;
      prev_serial_filter_ = filter;
      filter = [this, drop, name](uint8_t& b) {
        if (prev_serial_filter_ && !prev_serial_filter_(b)) return false;
        if (!stream_active_) return true;
        if (drop) {
          note_hit(name + " byte " + hex(b, 2) + " dropped");
          return false;
        }
        const auto after = static_cast<uint8_t>(apply_model(b));
        note_hit(name + " byte " + hex(b, 2) + "->" + hex(after, 2));
        b = after;
        return true;
      };
      serial_hooked_ = true;
      break;
    }
    default:
      return;
  }
  stream_active_ = true;
  update_stream_detail();
  const pb::Duration& d = fault_.duration();
  if (d.kind_case() == pb::Duration::kIntermittentInstructions)
    window_event_ = schedule_tick(m_.cpu().ticks() + d.intermittent_instructions(), [this] {
      window_event_.reset();
      end_window();
    });
}

void FaultInjector::remove_platform_hooks() {
  if (!pc_) return;
  if (irq_hooked_) {
    end_stream();
    pc_->pic().line_filter = std::move(prev_line_filter_);
    prev_line_filter_ = nullptr;
    irq_hooked_ = false;
  }
  if (disk_hooked_) {
    pc_->ide(fault_.disk().drive() / 2)->set_fault_hook(fault_.disk().drive() % 2, nullptr);
    disk_hooked_ = false;
  }
  if (serial_hooked_) {
    Uart* u = pc_->com(fault_.serial().com() - 1);
    (fault_.serial().direction() == pb::SERIAL_RX ? u->rx_filter : u->tx_filter) =
        std::move(prev_serial_filter_);
    prev_serial_filter_ = nullptr;
    serial_hooked_ = false;
  }
  stream_active_ = false;
}

}  // namespace faultline::faults
