// Helpers shared by the protected-mode/system half of the interpreter
// (segments.cpp, interrupts.cpp, control.cpp, task.cpp, ops_system.cpp).
//
// Design note: descriptors are handled as the raw 64-bit value wrapped in
// `Desc`, whose accessors name the fields the SDM pseudo-code talks about.
// Every check that can fault is done before anything architectural is
// committed; stack frames for far calls and interrupts are written through
// `StackPush`, which checks the whole frame against the (possibly not yet
// loaded) stack segment first and only then writes, so that a fault leaves
// CS/SS/ESP/CPL/EFLAGS untouched.
#pragma once

#include <cstdint>

#include "core/cpu.h"

namespace faultline::sys {

// System descriptor types (S = 0).
enum : uint8_t {
  DT_TSS16_AVAIL = 0x1,
  DT_LDT = 0x2,
  DT_TSS16_BUSY = 0x3,
  DT_CALL16 = 0x4,
  DT_TASK = 0x5,
  DT_INT16 = 0x6,
  DT_TRAP16 = 0x7,
  DT_TSS32_AVAIL = 0x9,
  DT_TSS32_BUSY = 0xB,
  DT_CALL32 = 0xC,
  DT_INT32 = 0xE,
  DT_TRAP32 = 0xF,
};

// EFLAGS bits that exist on a P6 (everything else reads as fixed).
constexpr uint32_t kEflagsDefined = FLAGS_ARITH | FLAG_TF | FLAG_IF | FLAG_DF | FLAG_IOPL |
                                    FLAG_NT | FLAG_RF | FLAG_VM | FLAG_AC | FLAG_VIF |
                                    FLAG_VIP | FLAG_ID;
// CF PF AF ZF SF TF DF OF NT: the flags every IRET/POPF may change.
constexpr uint32_t kEflagsBasic = FLAGS_ARITH | FLAG_TF | FLAG_DF | FLAG_NT;

struct Desc {
  uint64_t raw = 0;

  uint8_t access() const { return uint8_t(raw >> 40); }
  unsigned type() const { return unsigned(raw >> 40) & 0xF; }
  bool s() const { return (raw >> 44) & 1; }           // code/data (1) or system (0)
  unsigned dpl() const { return unsigned(raw >> 45) & 3; }
  bool present() const { return (raw >> 47) & 1; }
  bool accessed() const { return (raw >> 40) & 1; }

  bool is_code() const { return s() && (type() & 8); }
  bool is_data() const { return s() && !(type() & 8); }
  bool conforming() const { return is_code() && (type() & 4); }
  bool readable() const { return is_data() || (is_code() && (type() & 2)); }
  bool writable_data() const { return is_data() && (type() & 2); }

  // Gates (call, interrupt, trap, task).
  uint16_t gate_selector() const { return uint16_t(raw >> 16); }
  uint32_t gate_offset() const {
    return uint32_t(raw & 0xFFFF) | (uint32_t(raw >> 32) & 0xFFFF0000u);
  }
  unsigned gate_params() const { return unsigned(raw >> 32) & 0x1F; }
  bool gate32() const { return (type() & 8) != 0; }

  bool is_tss() const {
    unsigned t = type();
    return !s() && (t == DT_TSS16_AVAIL || t == DT_TSS16_BUSY || t == DT_TSS32_AVAIL ||
                    t == DT_TSS32_BUSY);
  }
  bool is_available_tss() const {
    return !s() && (type() == DT_TSS16_AVAIL || type() == DT_TSS32_AVAIL);
  }
  bool is_busy_tss() const { return !s() && (type() == DT_TSS16_BUSY || type() == DT_TSS32_BUSY); }
};

// Error code for a selector: index and TI, with EXT in bit 0.
inline uint32_t sel_err(uint16_t sel, uint32_t ext) { return (sel & 0xFFFCu) | (ext & 1); }
inline bool sel_null(uint16_t sel) { return (sel & 0xFFFCu) == 0; }
inline unsigned rpl(uint16_t sel) { return sel & 3u; }

// Reads the descriptor for `sel` from the GDT or LDT. If the index is beyond
// the table limit (or the LDT is not loaded) raises `vec` with error
// sel_err(sel, ext). Memory faults (#PF) propagate. Returns false on a fault.
bool read_desc(Cpu& c, uint16_t sel, Desc& d, uint8_t vec, uint32_t ext);
// Like read_desc but never faults for a bad selector: returns false with no
// exception pending if the selector is null or outside its table. A #PF
// reading the table still faults (check c.faulted()).
bool probe_desc(Cpu& c, uint16_t sel, Desc& d);
// Linear address of the descriptor for `sel` (table base + index * 8).
uint32_t desc_lin(const Cpu& c, uint16_t sel);
// Sets the accessed bit of a code/data descriptor in memory if clear.
bool mark_accessed(Cpu& c, uint16_t sel, Desc& d);
// Sets or clears the busy bit of a TSS descriptor in the GDT.
bool set_tss_busy(Cpu& c, uint16_t sel, bool busy);

// True if bytes [off, off + len) are inside the segment's limits (expand-up
// or expand-down, 16/32-bit upper bound). `len` > 0.
inline bool seg_range_ok(const SegmentCache& sc, uint32_t off, uint32_t len) {
  const uint32_t last = off + (len - 1);
  if (last < off) return false;  // wraps the 4 GiB offset space
  const bool expand_down = (sc.attr & (SEG_S | SEG_CODE | SEG_DC)) == (SEG_S | SEG_DC);
  if (expand_down) {
    const uint32_t upper = (sc.attr & SEG_DB) ? 0xFFFFFFFFu : 0xFFFFu;
    return off > sc.limit && last <= upper;
  }
  return last <= sc.limit;
}

// A cache for a code segment loaded at `cpl`: selector RPL forced to CPL.
inline SegmentCache code_cache(uint16_t sel, const Desc& d, unsigned cpl) {
  SegmentCache sc = Cpu::cache_from_descriptor(uint16_t((sel & 0xFFFC) | cpl), d.raw);
  return sc;
}

// A null (invalid) data segment register value.
inline SegmentCache null_cache(uint16_t sel) {
  SegmentCache sc;
  sc.selector = sel;
  sc.valid = false;
  return sc;
}

// Writes a stack frame below `esp` in stack segment `ss` (which need not be
// the current SS). Call room() once for the whole frame before any push.
class StackPush {
 public:
  StackPush(Cpu& c, const SegmentCache& ss, uint32_t esp, bool user)
      : c_(c), base_(ss.base), esp_(esp), mask_((ss.attr & SEG_DB) ? 0xFFFFFFFFu : 0xFFFFu),
        user_(user), ss_(ss) {}

  // Checks that `bytes` below the stack pointer are inside the segment;
  // raises #SS(err) otherwise.
  bool room(uint32_t bytes, uint32_t err) {
    const uint32_t top = esp_ & mask_;
    const uint32_t low = (top - bytes) & mask_;
    bool ok;
    if (bytes == 0) {
      ok = true;
    } else if (top >= bytes || top == 0) {
      // One contiguous range [low, low + bytes).
      ok = seg_range_ok(ss_, low, bytes);
    } else {
      // Wraps below offset 0: [low, mask] and [0, top).
      ok = seg_range_ok(ss_, low, mask_ - low + 1) && seg_range_ok(ss_, 0, top);
    }
    if (!ok) c_.raise(VEC_SS, err);
    return ok;
  }

  template <class T> bool push(T v) {
    const uint32_t sp = (esp_ - uint32_t(sizeof(T))) & mask_;
    c_.write_lin<T>(base_ + sp, v, user_);
    if (c_.faulted()) return false;
    esp_ = (esp_ & ~mask_) | sp;
    return true;
  }
  // Pushes the low `size` (2 or 4) bytes of v.
  bool push_sized(uint32_t v, unsigned size) {
    return size == 4 ? push<uint32_t>(v) : push<uint16_t>(uint16_t(v));
  }

  uint32_t esp() const { return esp_; }

 private:
  Cpu& c_;
  uint32_t base_;
  uint32_t esp_;
  uint32_t mask_;
  bool user_;
  SegmentCache ss_;
};

// Reads values upward from the current SS:ESP without committing ESP.
class StackPop {
 public:
  explicit StackPop(Cpu& c)
      : c_(c), off_(c.s.gpr[ESP]), mask_(c.stack32() ? 0xFFFFFFFFu : 0xFFFFu) {}

  // Reads `size` (2 or 4) bytes zero-extended; false on a fault.
  bool pop(unsigned size, uint32_t& out) {
    if (size == 4) {
      out = c_.read<uint32_t>(SS, off_ & mask_);
    } else {
      out = c_.read<uint16_t>(SS, off_ & mask_);
    }
    if (c_.faulted()) return false;
    off_ += size;
    return true;
  }
  void skip(uint32_t bytes) { off_ += bytes; }
  // The ESP value after the pops so far (upper bits kept for a 16-bit SS).
  uint32_t esp() const { return (c_.s.gpr[ESP] & ~mask_) | (off_ & mask_); }

 private:
  Cpu& c_;
  uint32_t off_;
  uint32_t mask_;
};

// New ESP after adding `n` to the current stack pointer with the current
// stack's address size.
inline uint32_t esp_add(uint32_t esp, uint32_t n, bool big) {
  return big ? esp + n : (esp & 0xFFFF0000u) | ((esp + n) & 0xFFFFu);
}

// Reads SS:ESP for privilege level `dpl` from the current TSS (16- or
// 32-bit); raises #TS(TR selector + ext) if the TSS is too short.
bool tss_stack(Cpu& c, unsigned dpl, uint32_t ext, uint16_t& ss, uint32_t& esp);

// Task switch with the EXT bit for error codes raised by the switch itself.
bool task_switch_ext(Cpu& c, uint16_t tss_sel, uint64_t tss_desc, Cpu::TaskSwitchSource src,
                     uint32_t ret_eip, bool has_error, uint32_t error, uint32_t ext);

}  // namespace faultline::sys
