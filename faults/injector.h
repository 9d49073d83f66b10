// The injection controller: arms one concrete fault (pb::Fault) on a
// Machine, waits for its trigger, applies the model to the target and keeps
// up the duration's semantics.
//
// Targets
//  - physical memory: `physical_address`, `width` 1/2/4 bytes (0 = 1),
//    `bit_mask` selects the bits (little-endian value of the cell);
//  - virtual memory: `virtual_address`, translated through the page tables
//    at injection time (Cpu::translate_debug, byte by byte); unmapped gives
//    a record with injected=false and detail "virtual address not mapped".
//    Non-transient virtual faults stay on the physical cell found then;
//  - registers by name (see faults/registers.h for the exact semantics of
//    segment selectors, control registers, EFLAGS and st0..st7, where the
//    mask applies to the 64-bit significand of the stack-relative register).
//  Memory is written through Cpu::write_phys (decoded code and dirty
//  tracking stay coherent) followed by Cpu::invalidate_code_page.
//  The remaining targets need the PC platform (constructor argument `pc`;
//  without it they throw std::invalid_argument "... needs the PC
//  platform"):
//  - device registers: `device_field`, a PcPlatform::fault_fields() name
//    ("pic.master.imr", "pit.ch0.count", "com1.lcr", "ide0.status",
//    "rtc.cmos[0x10]", ...; devices/fault_field.h). The model works on the
//    field's value like on a register (bit_mask inside the field's width;
//    0 = the whole field for set/random); the new value is written through
//    the device, which keeps itself consistent (PIC re-evaluates INTR, PIT
//    re-arms its IRQ 0 event, UART/IDE/RTC re-evaluate their IRQ).
//    Transient or intermittent (restored like a register); permanent is
//    rejected. Detail: "pic.master.imr 0xb8->0xb9".
//  - disk sectors: `disk` {drive 0..3 (with a disk attached), lba, count
//    (0 = 1), kind, offset}. Installed as the drive's IDE IoFaultHook when
//    the trigger fires; a matching sector transfer is then hit:
//      DISK_CORRUPT_READ: the model (bit_mask over the `width`-byte cell at
//        `offset`, little-endian) changes the data a read returns; the
//        image and overlay keep the true data; writes are not affected;
//      DISK_READ_ERROR / DISK_WRITE_ERROR: the read (write) command ends
//        with ERR, error UNC (IDNF), the LBA registers at the sector; a
//        failed write does not reach the image;
//      DISK_TIMEOUT: a read or write never completes (BSY stays set, no
//        interrupt) until the guest resets the channel (SRST).
//  - serial bytes: `serial` {com 1..4 (present), direction, action}: TX
//    bytes before they reach the host backend (Uart::tx_filter), RX host
//    bytes before the receiver (rx_filter); SERIAL_DROP loses the byte,
//    SERIAL_CORRUPT applies the model to it (bit_mask within 0xff).
//  - IRQ lines: `irq` {line 0..15, kind} on PicPair::line_filter (device
//    lines before the IRQ 2 -> 9 routing). IRQ_LOST: an assertion (a
//    rising level the PIC does not already see) is kept from the PIC;
//    the device's later lowering passes. IRQ_SPURIOUS: at the trigger the
//    line is pulsed (raised and lowered; a line the device holds high is
//    lowered and raised again: one extra edge); transient only.
//  Disk, serial and lost-IRQ faults are stream faults: the trigger arms
//  them, and the duration says which transfers they hit: transient = the
//  first matching one after the trigger (one sector, one byte, one
//  assertion), permanent = every one until disarm, intermittent K = every
//  one during K instruction ticks (a lost-IRQ line the device still holds
//  high is raised at the window's end). For them record().injected turns
//  true at the first hit, not at the trigger (at_instruction/at_time_ns
//  are the trigger's); the detail names what was armed and lists the
//  first 8 hits ("disk 0 lba 100 read error armed; read of lba 100 failed
//  (UNC) at tick 1234"), then the total ("; 20 hits in all"). Disk,
//  serial and IRQ faults take no model except disk read corruption and
//  serial corruption (a model on the others is rejected). The platform
//  must outlive the injector. disarm() removes the hooks: the serial and
//  line filters found at arming are chained and put back; the drive's IDE
//  fault hook is cleared (IdeChannel has no getter to chain it). A
//  lost-IRQ line the device still holds high is raised at disarm too.
// Models: bit_flip (flip the masked bits), stuck_at 0/1 (force them),
//  set_value (masked value; bit_mask 0 = the whole cell), random_value (a
//  xoshiro256** value seeded with random_seed, masked the same way).
// Duration
//  - transient (default): applied once;
//  - intermittent_instructions K: applied, then after K instruction ticks the
//    affected bits that still hold the faulty value get their original value
//    back (bits the guest overwrote meanwhile are left alone). During the
//    window a memory cell is enforced like a permanent one;
//  - permanent (memory only): the faulty bits are re-applied after every
//    guest write to the cell (a physical watch; on_watch runs after the
//    write completed), so the cell behaves as stuck. Register faults cannot
//    be permanent (rejected).
// Triggers (pb::Trigger)
//  - none: inject when armed; instruction N: when the CPU tick count
//    (retired instructions plus halted ticks) reaches N, i.e. before the
//    instruction at tick N executes; if N is already reached, at arming.
//    (If a Machine::run() call ends exactly at tick N, the injection happens
//    at the start of the next run, before any instruction.)
//  - time_ns: the same at clock().ns_to_ticks(time_ns);
//  - pc: at the occurrence-th arrival at the linear address, before that
//    instruction executes (a Cpu PC breakpoint, removed once fired);
//  - memory_access: after the occurrence-th data access overlapping the
//    physical range [start, end) (on_read / on_write; neither = both).
//    Instruction fetches and page-table walks do not count;
//  - port: the occurrence-th access to a port in [start, end) (end 0 =
//    start + 1; on_read/on_write as above);
//  - output: the occurrence-th non-overlapping, non-empty match of the
//    ECMAScript regex (multiline: ^ and $ match at line breaks; $ only once
//    the line break was written) in the guest output written since arming:
//    the debug console, and with a PC platform also COM1 when it is
//    captured in memory (both streams in write order); a match counts as soon as it is complete. A match may span at
//    most 1 KiB; a pattern that cannot match a line break (no \n \r \s \S
//    \W \D [^ \x0 \u000 \c in it) is searched in the current line only,
//    which keeps the per-character regex work small while armed.
//  The last three fire in the middle of an instruction; the injection then
//  happens at the next instruction boundary (a clock event at the current
//  tick), so registers are never changed under a running instruction.
//  Occurrence 0 means 1.
// Hooks: while armed the injector owns Cpu::on_pc, Cpu::on_watch and
// Bus::io_observer (the previous values are chained and restored) and adds
// its own entries to pc_breakpoints / phys_watches and a console observer.
// The injector must be destroyed (or disarmed) before its Machine.
// Several FaultInjectors may hook one Machine when they are disarmed (or
// destroyed) in the reverse order of their arming: each chains the single
// hook slots it finds (Cpu::on_pc, Cpu::on_watch, Bus::io_observer, the
// UARTs' filters, the PIC line filter) and keeps its place in the chains
// until disarm(), even after its trigger fired, so a later injector's link
// is never cut. The IDE fault hook of a drive is not chained: one disk
// fault per drive at a time. Nothing is installed while nothing is armed.
// The injector never stops the run.
// Campaign use: restore a checkpoint, arm, run, read record(), disarm.
// Disarm before Machine::restore() or Machine::checkpoint(): pending trigger
// or window events are clock events, and checkpoint() refuses to run with
// pending events; a restore would also undo an enforced cell behind the
// injector's back.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "core/boot/elf_image.h"
#include "core/machine.h"
#include "devices/fault_field.h"
#include "fault.pb.h"
#include "faults/registers.h"

namespace faultline {
class PcPlatform;
class CapturedSerialOutput;
}

namespace faultline::faults {

struct InjectionRecord {
  bool injected = false;
  uint64_t at_instruction = 0;  // CPU ticks at injection
  uint64_t at_time_ns = 0;
  std::string detail;           // e.g. "phys 0x1234 byte 0x5a->0x5b"
  uint64_t value = 0;           // memory cell, register, device field: the value after injection
};

class FaultInjector {
 public:
  // `pc`: the machine's PC platform (null: memory and register faults only;
  // device/disk/serial/irq faults are rejected).
  FaultInjector(Machine& m, const SymbolTable* symbols, PcPlatform* pc = nullptr);
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;
  ~FaultInjector();  // removes every hook it installed

  // Arms the fault (disarming a previous one): installs the trigger; when it
  // fires, applies the model with the duration's semantics. Throws
  // std::invalid_argument for faults that cannot be applied.
  void arm(const pb::Fault& fault);
  // Injects now, ignoring the trigger (scripted `inject` steps, GUI panel).
  void inject_now(const pb::Fault& fault);
  const InjectionRecord& record() const { return record_; }
  // Removes all hooks and pending events (permanent faults stop being
  // enforced; values already written stay).
  void disarm();
  bool armed() const { return armed_; }
  // True while the armed fault still waits: its trigger has not fired (or
  // fired inside an instruction and applies at the next boundary), or, for
  // disk, serial and lost-IRQ faults, no transfer has hit it yet. False
  // once it was applied, or fired and could not be (record().injected
  // tells which).
  bool waiting() const {
    const bool stream = target_ == Target::Disk || target_ == Target::Serial || target_ == Target::IrqLost;
    return armed_ && (!trigger_done_ || deferred_event_.has_value() || (stream && !record_.injected));
  }

 private:
  using EventId = VirtualClock::EventId;
  enum class Target : uint8_t { Memory, Register, Field, Disk, Serial, IrqLost, IrqSpurious };
  void validate(const pb::Fault& f, bool check_trigger);
  void validate_platform_target(const pb::Fault& f);
  uint64_t apply_model(uint64_t v) const;
  void apply_platform();
  void note_hit(const std::string& what);
  void update_stream_detail();
  void end_stream();
  void remove_platform_hooks();
  void install_trigger();
  void trigger_met_deferred();
  void fire();
  void apply();
  void end_window();
  void enforce(uint32_t paddr, unsigned size);
  void remove_trigger_hooks(bool unhook);
  void sync_watches();
  void set_pc_hook(bool on);
  void set_watch_hook(bool on);
  EventId schedule_tick(uint64_t tick, std::function<void()> fn);
  void cancel(std::optional<EventId>& id);
  uint64_t read_cell() const;
  void write_cell(uint64_t v);
  uint64_t read_target() const;
  void write_target(uint64_t v);
  void console_char(char ch);
  static void pc_thunk(void* ctx, uint32_t lin);
  static void watch_thunk(void* ctx, uint32_t paddr, unsigned size, bool write);

  Machine& m_;
  const SymbolTable* symbols_;
  PcPlatform* pc_;
  CapturedSerialOutput* com1_hooked_ = nullptr;  // output trigger on COM1
  uint64_t com1_observer_ = 0;
  pb::Fault fault_;
  bool armed_ = false;
  InjectionRecord record_;

  // Resolved fault.
  Target target_ = Target::Memory;
  std::optional<RegisterInfo> reg_;
  std::optional<FaultField> field_;
  unsigned width_ = 1;
  uint64_t mask_ = 0;

  // Trigger state.
  uint64_t occurrence_ = 1;
  uint64_t count_ = 0;
  bool trigger_done_ = false;
  std::optional<EventId> trigger_event_, deferred_event_, window_event_;
  uint32_t pc_address_ = 0;
  bool pc_bp_ = false;
  uint64_t range_start_ = 0, range_end_ = 0;
  bool on_read_ = true, on_write_ = true;
  bool trigger_watch_ = false;
  bool io_hooked_ = false;
  std::function<void(uint16_t, unsigned, bool, uint32_t)> prev_io_observer_;
  std::optional<Machine::ConsoleObserverId> console_id_;
  std::regex pattern_;
  std::string console_buf_;
  size_t scan_from_ = 0;   // no further match starts before this
  size_t line_start_ = 0;  // start of the current output line
  bool may_span_lines_ = true;

  // Installed Cpu hooks (previous values are chained and restored).
  bool pc_hooked_ = false;
  void (*prev_on_pc_)(void*, uint32_t) = nullptr;
  void* prev_on_pc_ctx_ = nullptr;
  bool watch_hooked_ = false;
  void (*prev_on_watch_)(void*, uint32_t, unsigned, bool) = nullptr;
  void* prev_on_watch_ctx_ = nullptr;
  std::vector<Cpu::PhysWatch> my_watches_;  // entries this injector added

  // Applied fault: physical bytes of the cell, forced bits and the original.
  std::vector<uint32_t> cell_;
  uint64_t forced_ = 0, original_ = 0;
  bool enforcing_ = false;

  // Stream faults (disk, serial, lost IRQ): active from the trigger until
  // the first hit (transient), the window's end or disarm.
  bool stream_active_ = false;
  uint64_t hits_ = 0;
  std::string stream_base_, stream_hits_, stream_suffix_;
  bool disk_hooked_ = false;
  bool serial_hooked_ = false;
  std::function<bool(uint8_t&)> prev_serial_filter_;
  bool irq_hooked_ = false;
  std::function<bool(unsigned, bool)> prev_line_filter_;
  bool device_level_ = false;  // level the device drives on the lost line
};

}  // namespace faultline::faults
