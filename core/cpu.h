// The CPU: state, memory access through segmentation and paging, the
// decoded-instruction cache and the reference interpreter's run loop.
//
// Design note: guest exceptions never unwind the host stack. An instruction
// that faults calls `raise()`, which records the exception in `exc`; every
// handler checks `faulted()` after each memory access or check and returns
// without committing architectural state. The run loop then delivers the
// exception (with double/triple-fault escalation). Handlers write results
// only after all their accesses have succeeded; read-modify-write operands are
// probed for writability first (`read_rmw`) so the final write cannot fault.
//
// Memory: a small direct-mapped TLB maps linear pages to host pointers into
// the memfile mapping, with separate permission bits for supervisor/user and
// read/write, so the common access is a compare, a mask test and a load.
// Pages that hold decoded instructions are write-protected in the TLB; a
// write there goes the slow path and bumps the page's generation, which
// invalidates the cached decodes (self-modifying code works).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/cpu_state.h"
#include "core/insn.h"

namespace faultline {

class Bus;

enum Vector : uint8_t {
  VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5,
  VEC_UD = 6, VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12,
  VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17, VEC_MC = 18,
};

// Why `Cpu::run` returned.
enum class StopReason : uint8_t {
  Budget,       // the instruction budget ran out
  Exit,         // the guest wrote a status to the exit port
  TripleFault,  // shutdown; the machine treats it as a reset event
  Halted,       // HLT with interrupts disabled and no pending events: stuck
  Requested,    // a device or hook asked the run loop to stop
  Exception,    // stop_on_exception was set and an exception was raised;
                // `exc` holds it and EIP points at the faulting instruction
};

// How an interrupt or exception is being delivered.
enum class IntKind : uint8_t {
  Exception,  // CPU exception (fault or trap), may carry an error code
  Software,   // INT n, INTO, INT3: DPL checked against CPL, v86 IOPL rules
  External,   // from the interrupt controller, NMI
  Icebp,      // INT1 (F1): no DPL check
};

struct PendingException {
  bool pending = false;
  uint8_t vector = 0;
  bool has_error = false;
  uint32_t error = 0;
};

// Interface the CPU uses to ask for external interrupts (the PIC later).
class InterruptSource {
 public:
  virtual ~InterruptSource() = default;
  virtual bool interrupt_pending() const = 0;
  virtual uint8_t acknowledge() = 0;  // returns the vector
};

// Configurable CPUID model.
struct CpuModel {
  std::string vendor = "GenuineIntel";
  uint32_t family = 6, model = 5, stepping = 2;  // Pentium II (Deschutes)
  // CPUID.1:EDX: FPU VME DE PSE TSC MSR CX8 SEP MTRR PGE CMOV PAT; no MMX/SSE.
  uint32_t features_edx = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) |
                          (1u << 5) | (1u << 8) | (1u << 11) | (1u << 12) | (1u << 13) |
                          (1u << 15) | (1u << 16);
  uint32_t features_ecx = 0;
  std::string brand;  // empty: no extended brand leaves
};

class Cpu {
 public:
  Cpu(uint8_t* ram, uint64_t ram_size, Bus& bus);
  Cpu(const Cpu&) = delete;
  Cpu& operator=(const Cpu&) = delete;
  ~Cpu();

  CpuState s;
  PendingException exc;
  CpuModel model;
  InterruptSource* irq_source = nullptr;
  // Called with the memfile page number whenever a RAM page is first made
  // writable in the TLB (dirty tracking).
  void (*on_page_dirty)(void* ctx, uint64_t page) = nullptr;
  void* on_page_dirty_ctx = nullptr;
  // Drops the write permission of every TLB entry (the translations stay),
  // so the next write to each page reports it through on_page_dirty again:
  // for watchers that want the pages written since they last looked.
  void revoke_tlb_writes();

  // ---- observation hooks (fault triggers, debuggers) ----------------------
  // Hooks cost nothing while unused: the run loop only looks at them when
  // `hooks_armed()` says one is set.
  //
  // PC breakpoints: linear addresses; when EIP reaches one, `on_pc` runs
  // before the instruction executes (it may request_stop()).
  std::vector<uint32_t> pc_breakpoints;
  void (*on_pc)(void* ctx, uint32_t lin) = nullptr;
  void* on_pc_ctx = nullptr;
  // Physical memory watches: after an access overlapping [start, end) has
  // completed, `on_watch` runs (for a write, after the value is written, so
  // a stuck-at fault can re-apply itself).
  struct PhysWatch {
    uint32_t start, end;
    bool on_read, on_write;
  };
  std::vector<PhysWatch> phys_watches;
  void (*on_watch)(void* ctx, uint32_t paddr, unsigned size, bool write) = nullptr;
  void* on_watch_ctx = nullptr;
  // Call after changing pc_breakpoints or phys_watches.
  void hooks_changed();

  // ---- read-only RAM pages (BIOS shadowing) -------------------------------
  // Pages of the first MiB can be marked read-only: the guest still reads
  // and executes them from RAM at full speed, but its writes (instructions,
  // string ops, anything through the TLB) do not reach RAM; they go to
  // `on_rom_write` byte by byte (unset: discarded). The chipset model uses
  // this for PAM segments whose reads come from ROM or whose writes are
  // disabled. Tool paths (write_phys: loaders, injectors, debuggers) are not
  // affected. `first_page`/`count` are 4 KiB page numbers below 0x100.
  void set_rom_pages(uint32_t first_page, uint32_t count, bool rom);
  bool rom_page(uint32_t page) const { return page < kRomPages && rom_page_[page]; }
  std::function<void(uint32_t paddr, uint8_t value)> on_rom_write;
  static constexpr uint32_t kRomPages = 0x100;

  // Replaces the architectural state (checkpoint restore). Virtual time is
  // restored too; decoded code and the TLB are discarded.
  void load_state(const CpuState& state, uint64_t ticks, uint64_t halted_ticks);
  uint64_t halted_ticks() const { return halted_ticks_; }
  // Guest RAM changed behind the CPU's back (snapshot restore, injection):
  // drop decoded code for all pages (or one page).
  void invalidate_code();
  void invalidate_code_page(uint64_t paddr);

  // ---- run control -------------------------------------------------------
  void reset();  // power-on/reset state: real mode at F000:FFF0
  StopReason run(uint64_t max_instructions);
  // Virtual time in instruction ticks (retired instructions plus idle ticks
  // spent halted) and the number of instructions actually retired.
  uint64_t ticks() const { return icount_; }
  uint64_t retired() const { return icount_ - halted_ticks_; }
  void request_stop(StopReason why) { stop_request_ = why; stop_requested_ = true; async_ = true; }
  uint32_t exit_status = 0;
  // Differential testing: stop instead of delivering exceptions.
  bool stop_on_exception = false;
  // Virtual-clock hook: called when retired() reaches next_event_at().
  uint64_t next_event_at = UINT64_MAX;
  void (*on_event)(void* ctx) = nullptr;
  void* on_event_ctx = nullptr;
  void interrupt_line_changed() { async_ = true; }

  // ---- exceptions --------------------------------------------------------
  void raise(uint8_t vector) { exc = {true, vector, false, 0}; }
  void raise(uint8_t vector, uint32_t error) { exc = {true, vector, true, error}; }
  bool faulted() const { return exc.pending; }
  void ud() { raise(VEC_UD); }
  void gp(uint32_t err = 0) { raise(VEC_GP, err); }
  // Delivers an interrupt/exception through the IVT/IDT (interrupts.cpp).
  // `return_eip` is the EIP pushed. Returns false if delivery itself faulted
  // (the new exception is then in `exc`).
  bool deliver_interrupt(uint8_t vector, IntKind kind, bool has_error, uint32_t error,
                         uint32_t return_eip);

  // ---- registers ---------------------------------------------------------
  template <class T> T reg(unsigned r) const;
  template <class T> void set_reg(unsigned r, T v);
  uint32_t eip() const { return s.eip; }
  bool code32() const { return (s.seg[CS].attr & SEG_DB) != 0; }
  bool stack32() const { return (s.seg[SS].attr & SEG_DB) != 0; }
  bool protected_mode() const { return (s.cr0 & CR0_PE) != 0; }
  bool v86() const { return (s.eflags_bits & FLAG_VM) != 0; }
  bool real_mode() const { return !protected_mode(); }
  uint8_t cpl() const { return s.cpl; }
  uint8_t iopl() const { return (s.eflags_bits >> 12) & 3; }

  // ---- flags -------------------------------------------------------------
  uint32_t eflags() const;                   // architectural value
  void set_arith_flags(uint32_t flags);      // sets CF PF AF ZF SF OF only
  // Writes EFLAGS bits under `mask` (the caller applies privilege rules).
  void write_eflags(uint32_t value, uint32_t mask);
  bool cf() const;
  bool zf() const;
  bool sf() const;
  bool of() const;
  bool pf() const;
  bool af() const;
  bool cond(unsigned cc) const;  // Jcc/SETcc/CMOVcc condition 0..15
  template <class T> void lazy(LazyOp op, T res, T dst, T src) {
    s.lf_op = op; s.lf_size = sizeof(T); s.lf_res = res; s.lf_dst = dst; s.lf_src = src;
  }
  void set_flag(uint32_t bit, bool on);

  // ---- memory through segments --------------------------------------------
  uint32_t ea(const Insn& i) const;  // effective address (offset)
  template <class T> T read(unsigned seg, uint32_t off);
  template <class T> void write(unsigned seg, uint32_t off, T v);
  // Reads an operand that will be written back: checks write access too.
  template <class T> T read_rmw(unsigned seg, uint32_t off);
  // Checks that [off, off+len) of `seg` is accessible for writing (for
  // instructions that must not partially commit, e.g. PUSHA, ENTER, far CALL).
  bool check_write(unsigned seg, uint32_t off, uint32_t len);
  bool check_read(unsigned seg, uint32_t off, uint32_t len);
  // ModRM operand helpers.
  template <class T> T read_rm(const Insn& i);
  template <class T> T read_rm_rmw(const Insn& i);
  template <class T> void write_rm(const Insn& i, T v);

  // Linear-address access. `user` selects user-mode permission checks;
  // system-structure accesses (GDT, IDT, TSS) pass false.
  template <class T> T read_lin(uint32_t lin, bool user);
  template <class T> void write_lin(uint32_t lin, T v, bool user);
  bool read_lin_bytes(uint32_t lin, void* dst, uint32_t len, bool user);
  bool write_lin_bytes(uint32_t lin, const void* src, uint32_t len, bool user);
  bool is_user_access() const { return s.cpl == 3; }

  // Physical memory, bypassing paging (loaders, debuggers, fault injection).
  bool read_phys(uint64_t paddr, void* dst, size_t len) const;
  bool write_phys(uint64_t paddr, const void* src, size_t len);
  // Translate for a debugger/injector without side effects; false if unmapped.
  bool translate_debug(uint32_t lin, uint32_t& paddr) const;

  // ---- stack --------------------------------------------------------------
  template <class T> void push(T v);   // faults leave ESP unchanged
  template <class T> T pop();          // commits ESP only on success
  template <class T> T peek(uint32_t offset_from_sp);
  uint32_t sp() const { return stack32() ? s.gpr[ESP] : (s.gpr[ESP] & 0xFFFF); }
  void set_sp(uint32_t v) {
    if (stack32()) s.gpr[ESP] = v; else s.gpr[ESP] = (s.gpr[ESP] & 0xFFFF0000u) | (v & 0xFFFF);
  }

  // ---- segments and system state (segments.cpp, interrupts.cpp) ----------
  // Loads a segment register with all protected-mode checks (or real/v86
  // semantics). Raises #GP/#SS/#NP/#TS as the hardware does; returns false
  // then. CS is loaded only through far control transfers.
  bool load_seg(unsigned seg, uint16_t selector);
  // Sets a segment cache directly (reset, loaders, task switch internals).
  void set_seg_cache(unsigned seg, const SegmentCache& cache);
  // Real-mode / v86 segment load: base = selector << 4.
  void load_seg_real(unsigned seg, uint16_t selector);
  // Reads the 8-byte descriptor for `selector` from the GDT/LDT; raises
  // `fault_vector`(selector & ~3) if outside the table limit.
  bool read_descriptor(uint16_t selector, uint64_t& desc, uint8_t fault_vector);
  static SegmentCache cache_from_descriptor(uint16_t selector, uint64_t desc);
  void set_cpl(uint8_t cpl) { s.cpl = cpl; refresh_segments(); }
  // Must be called after any change to a segment cache (done by
  // set_seg_cache/load_seg); refreshes cached access rights.
  void segment_changed(unsigned seg);
  void refresh_segments();  // all six, plus the code-fetch window
  // Far transfers (control.cpp): JMP/CALL far (incl. gates and task switch),
  // RET far, IRET.
  void far_jump(uint16_t selector, uint32_t offset, uint32_t next_eip);
  void far_call(uint16_t selector, uint32_t offset, uint32_t next_eip, bool op32);
  void far_return(bool op32, uint16_t pop_bytes);
  void iret(bool op32);
  // Task switch through a TSS (task.cpp).
  enum class TaskSwitchSource : uint8_t { Jump, Call, Iret, Interrupt };
  bool task_switch(uint16_t tss_selector, uint64_t tss_desc, TaskSwitchSource src,
                   uint32_t next_eip, bool has_error, uint32_t error);
  // I/O permission check for IN/OUT/INS/OUTS (IOPL and the TSS bitmap).
  bool io_allowed(uint16_t port, unsigned size);
  void write_cr0(uint32_t v);
  void write_cr3(uint32_t v);
  void write_cr4(uint32_t v);

  // ---- TLB ---------------------------------------------------------------
  void flush_tlb(bool include_global = true);
  void flush_tlb_page(uint32_t lin);

  // ---- I/O ---------------------------------------------------------------
  uint32_t io_read(uint16_t port, unsigned size);
  void io_write(uint16_t port, unsigned size, uint32_t value);

  // ---- accessors used by handlers ----------------------------------------
  uint32_t next_eip = 0;    // where execution continues after this insn
  uint32_t insn_eip = 0;    // EIP of the executing instruction
  Bus& bus() { return bus_; }
  uint8_t* ram() const { return ram_; }
  uint64_t ram_size() const { return ram_size_; }
  uint64_t tsc() const;
  uint64_t tsc_rate_per_insn = 1;
  void enter_halt() { s.halted = true; }
  // Called by HLT/STI/POPF/IRET/CLI etc. so the loop re-checks interrupts.
  void async_check() { async_ = true; }

  // Statistics.
  uint64_t decode_misses = 0;

 private:
  struct TlbEntry {
    uint32_t lpage = 1;   // linear page (lin & ~0xFFF); 1 = invalid
    uint32_t ppage = 0;   // physical page address
    uint8_t* host = nullptr;  // host pointer to the page, or null for MMIO
    uint8_t perm = 0;     // TLB_* bits
    bool global = false;
  };
  enum : uint8_t { TLB_SR = 1, TLB_SW = 2, TLB_UR = 4, TLB_UW = 8 };
  static constexpr unsigned kTlbSize = 1024;


  // Decoded basic blocks: straight-line runs of instructions within one
  // page, ending at the first control transfer or system instruction. The
  // run loop executes a block without looking anything up between its
  // instructions, which is most of the interpreter's speed.
  static constexpr unsigned kBlockMax = 32;
  static constexpr unsigned kBlockCacheSize = 1u << 12;
  struct Block {
    uint32_t paddr = 0xFFFFFFFFu;
    uint32_t gen = 0;
    uint8_t code32 = 0;
    uint8_t count = 0;
    uint8_t chainable = 0;  // ends in a plain near branch or runs off its length
    uint16_t bytes = 0;
    Insn insns[kBlockMax];
  };
  Block* lookup_block();
  template <bool kCode32> bool exec_block(const Block& b, uint64_t limit);
  void build_block(Block& b, uint32_t paddr, bool c32);

  // Translation. Returns false (with #PF raised) on a fault. `write`/`user`
  // select the access kind. Fills the TLB.
  bool translate(uint32_t lin, bool write, bool user, TlbEntry*& out);
  struct Walk {
    uint32_t paddr = 0;
    bool global = false, user_ok = false, writable = false, dirty = false;
  };
  bool page_walk(uint32_t lin, bool write, bool user, Walk& w);
  template <class T> T read_lin_slow(uint32_t lin, bool user);
  template <class T> void write_lin_slow(uint32_t lin, T v, bool user);
  bool write_probe(uint32_t lin, unsigned size, bool user);
  bool probe_pages(uint32_t lin, uint32_t len, bool write, bool user);
  uint32_t seg_lin(unsigned seg, uint32_t off, unsigned size, bool write);
  bool seg_check(unsigned seg, uint32_t off, uint32_t size, bool write);
  uint64_t phys_read(uint32_t paddr, unsigned size);
  void phys_write(uint32_t paddr, unsigned size, uint64_t v);
  void code_page_written(uint32_t ppage);
  void mark_code_page(uint32_t ppage);
  bool fetch_decode(Insn*& out);
  void deliver_exception();
  bool async_ = true;
  bool trap_pending_ = false;
  uint64_t halted_ticks_ = 0;
  // Cached access rights per segment register, refreshed by segment_changed.
  enum : uint8_t { SEGACC_R = 1, SEGACC_W = 2, SEGACC_EXPDOWN = 4, SEGACC_FLAT = 8 };
  struct SegAccess {
    uint32_t lo = 0, hi = 0xFFFFFFFFu;  // valid offset range, inclusive
    uint8_t flags = 0;
  };
  SegAccess seg_acc_[6];
  bool ac_on_ = false;  // CR0.AM && EFLAGS.AC: user accesses go the slow path
  // Debug registers: data breakpoints force every access through the slow
  // path while armed; hits are collected and reported as a #DB trap after
  // the instruction.
  uint32_t dr7_seen_ = 0;
  bool hooks_armed_ = false;
  bool pc_hook_armed_ = false;
  bool pc_hit_done_ = false;
  void check_phys_watches(uint32_t paddr, unsigned size, bool write);
  bool block_has_breakpoint(uint32_t lin_start, uint32_t bytes) const;
  bool data_watch_ = false;
  uint8_t db_hits_ = 0;
  void debug_registers_changed();
  void check_data_breakpoints(uint32_t lin, unsigned size, bool write);
  bool check_exec_breakpoints();
  uint8_t* fetch_host_ = nullptr;
  uint32_t lazy_arith_flags() const;
  void seg_fault(unsigned seg);

  uint8_t* ram_;
  uint64_t ram_size_;
  Bus& bus_;
  uint64_t icount_ = 0;
  bool stop_requested_ = false;
  StopReason stop_request_ = StopReason::Requested;
  std::unique_ptr<TlbEntry[]> tlb_;
  std::unique_ptr<Block[]> blocks_;
  std::vector<uint32_t> page_gen_;   // per RAM page
  std::vector<uint8_t> code_page_;   // per RAM page: holds cached decodes
  std::array<uint8_t, kRomPages> rom_page_{};  // first MiB: read-only RAM pages
  bool any_rom_ = false;
  Insn scratch_insn_;
  // Fast fetch window: the current code page.
  uint32_t fetch_lpage_ = 1;
  uint32_t fetch_ppage_ = 0;
  uint32_t tlb_epoch_ = 0, fetch_epoch_ = ~0u;
  uint8_t fetch_user_ = 0;
  // Double-fault tracking while delivering an exception.
  int delivering_vector_ = -1;
};

// ---- inline register access -----------------------------------------------
template <> inline uint32_t Cpu::reg<uint32_t>(unsigned r) const { return s.gpr[r]; }
template <> inline uint16_t Cpu::reg<uint16_t>(unsigned r) const { return static_cast<uint16_t>(s.gpr[r]); }
template <> inline uint8_t Cpu::reg<uint8_t>(unsigned r) const {
  return static_cast<uint8_t>(r < 4 ? s.gpr[r] : s.gpr[r - 4] >> 8);
}
template <> inline void Cpu::set_reg<uint32_t>(unsigned r, uint32_t v) { s.gpr[r] = v; }
template <> inline void Cpu::set_reg<uint16_t>(unsigned r, uint16_t v) {
  s.gpr[r] = (s.gpr[r] & 0xFFFF0000u) | v;
}
template <> inline void Cpu::set_reg<uint8_t>(unsigned r, uint8_t v) {
  if (r < 4) s.gpr[r] = (s.gpr[r] & 0xFFFFFF00u) | v;
  else s.gpr[r - 4] = (s.gpr[r - 4] & 0xFFFF00FFu) | (uint32_t(v) << 8);
}

}  // namespace faultline

#include "core/cpu_mem.h"
