// A traced 64-bit child process that runs 32-bit guest code natively in
// compatibility mode (CS = 0x23, DS/ES/SS/FS/GS = 0x2B, flat).
//
// Design note: the child is forked, maps the guest regions at fixed low
// addresses (shared mappings of one memfd that the parent maps too, so the
// parent writes code and data and reads results directly, without
// PTRACE_PEEK/POKE), installs a seccomp filter that kills it on any system
// call other than the few it needs to stop itself, and stops with SIGSTOP.
// From then on the parent drives it with ptrace only: each run sets the
// general registers (including CS/SS and the data selectors) and the x87
// state, resumes with PTRACE_SYSEMU and waits. A run ends at the guest's
// `int 0x80` (a syscall-emulation stop: no host system call is executed) or at
// a signal (SIGSEGV, SIGFPE, SIGILL, SIGTRAP, SIGBUS ...), which is reported
// with its siginfo and then suppressed. The child's own 64-bit code never runs
// again after the initial stop, so one child serves any number of runs.
// PTRACE_O_EXITKILL (and PR_SET_PDEATHSIG) make sure the child dies with the
// parent. A watchdog thread stops a run that takes longer than the timeout.
//
// Verified on the project host (Linux 6.18, AMD EPYC): PTRACE_SETREGS can
// switch CS to 0x23 directly (no far-return trampoline is needed) and set
// FS/GS bases to 0; the SYSEMU stop at `int 0x80` has orig_rax = guest EAX
// and RAX = -ENOSYS (run() reports EAX from orig_rax); a data access to an
// unmapped page is SIGSEGV/SEGV_MAPERR with the exact address, a write to a
// read-only page SEGV_ACCERR; #GP, #BR and INTO are SIGSEGV/SI_KERNEL with
// address 0, #SS and #AC SIGBUS, #DE SIGFPE/FPE_INTDIV, #MF SIGFPE/FPE_FLT*,
// #UD SIGILL. About 70,000 runs/s for a short sequence. Locked accesses
// split across cache lines trigger the kernel's bus-lock throttling (10 ms
// or more each): avoid them in guest code run here.
//
// This class is also the seed of the direct-execution engine.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace faultline::direct {

// A guest memory region: mapped at `addr` in the child (below 4 GiB).
struct GuestRegion {
  uint32_t addr = 0;   // page aligned, >= 0x1000 (vm.mmap_min_addr)
  uint32_t size = 0;   // multiple of 4096
  bool writable = true;
  bool executable = false;
};

// 32-bit guest registers, GPRs in faultline::Reg order (EAX ECX EDX EBX ESP
// EBP ESI EDI).
struct NativeRegs {
  uint32_t gpr[8] = {};
  uint32_t eip = 0;
  uint32_t eflags = 0x202;  // IF is forced on by the kernel for user mode
};

// x87 state in FXSAVE terms. `st` is stack-relative: st[i] = ST(i), i.e.
// physical register (TOP + i) & 7. `ftw` is the abridged tag: bit p set =
// physical register p is not empty.
struct NativeFpu {
  uint16_t fcw = 0x037F;
  uint16_t fsw = 0;
  uint8_t ftw = 0;
  uint16_t fop = 0;
  uint64_t fip = 0;
  uint64_t fdp = 0;
  uint8_t st[8][10] = {};
  uint32_t mxcsr = 0x1F80;
};

enum class NativeStop : uint8_t {
  Int80,    // the guest executed `int 0x80`; regs.eip is just past it
  Signal,   // a signal stopped the guest; see signo/si_code/sig_addr
  Timeout,  // the watchdog stopped a run that took too long
};

struct NativeResult {
  NativeStop stop = NativeStop::Int80;
  int signo = 0;
  int si_code = 0;
  uint64_t sig_addr = 0;   // siginfo si_addr (fault address for SIGSEGV page faults)
  uint32_t int80_eax = 0;  // guest EAX at `int 0x80` (orig_rax)
  NativeRegs regs;
  NativeFpu fpu;
};

class NativeChild {
 public:
  // Forks and sets up the child. Throws std::runtime_error on failure.
  explicit NativeChild(std::vector<GuestRegion> regions, unsigned timeout_ms = 5000);
  ~NativeChild();
  NativeChild(const NativeChild&) = delete;
  NativeChild& operator=(const NativeChild&) = delete;

  // The parent's view of guest memory: a pointer to `len` bytes at guest
  // address `addr`, or nullptr unless they lie inside one region. Writes are
  // seen by the child immediately (shared mapping).
  uint8_t* mem(uint32_t addr, uint32_t len = 1);
  const std::vector<GuestRegion>& regions() const { return regions_; }
  pid_t pid() const { return pid_; }

  // Runs guest code from regs.eip until `int 0x80` or a signal. Throws
  // std::runtime_error if the child is gone or ptrace fails.
  void run(const NativeRegs& regs, const NativeFpu& fpu, NativeResult& out);

  // Mappings of the child below 4 GiB other than the guest regions (the
  // guest could reach them natively but not in a simulator), as
  // /proc/PID/maps lines. Empty for a position-independent host binary.
  std::vector<std::string> foreign_low_mappings() const;

 private:
  void watchdog_loop();
  [[noreturn]] void child_main(int memfd);

  std::vector<GuestRegion> regions_;
  std::vector<uint64_t> offsets_;  // memfd offset of each region
  uint8_t* shared_ = nullptr;
  uint64_t shared_size_ = 0;
  pid_t pid_ = -1;
  // Template for PTRACE_SETFPREGS (512-byte FXSAVE image).
  alignas(16) uint8_t fx_template_[512] = {};

  unsigned timeout_ms_;
  std::atomic<uint64_t> run_seq_{0};
  std::atomic<int64_t> run_start_ns_{0};  // 0 = idle
  std::atomic<uint64_t> stopped_seq_{0};
  std::mutex wd_mu_;
  std::condition_variable wd_cv_;
  bool wd_quit_ = false;
  std::thread watchdog_;
};

}  // namespace faultline::direct
