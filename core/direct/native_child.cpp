// Traced child running 32-bit guest code natively. See native_child.h.
#include "core/direct/native_child.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace faultline::direct {

namespace {

constexpr uint16_t kUserCs32 = 0x23;  // Linux __USER32_CS
constexpr uint16_t kUserDs = 0x2B;    // Linux __USER_DS

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("native child: " + what + ": " + std::strerror(errno));
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Raw system calls in the child between fork and the first stop: no libc
// state (locks, malloc) is touched there.
long raw(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  return syscall(nr, a, b, c, d, e, f);
}

}  // namespace

NativeChild::NativeChild(std::vector<GuestRegion> regions, unsigned timeout_ms)
    : regions_(std::move(regions)), timeout_ms_(timeout_ms) {
  uint64_t off = 0;
  for (const GuestRegion& r : regions_) {
    if ((r.addr & 0xFFF) || (r.size & 0xFFF) || r.size == 0 || r.addr < 0x1000 ||
        uint64_t(r.addr) + r.size > 0x100000000ull) {
      errno = EINVAL;
      fail("bad guest region");
    }
    offsets_.push_back(off);
    off += r.size;
  }
  shared_size_ = off;
  int fd = static_cast<int>(raw(SYS_memfd_create, reinterpret_cast<long>("faultline-native"),
                                MFD_CLOEXEC));
  if (fd < 0) fail("memfd_create");
  if (ftruncate(fd, static_cast<off_t>(shared_size_)) != 0) {
    close(fd);
    fail("ftruncate");
  }
  void* p = mmap(nullptr, shared_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    close(fd);
    fail("mmap shared");
  }
  shared_ = static_cast<uint8_t*>(p);

  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) {
    close(fd);
    fail("fork");
  }
  if (pid_ == 0) {
    if (getppid() != parent) _exit(120);
    child_main(fd);
  }
  close(fd);

  int status = 0;
  if (waitpid(pid_, &status, __WALL) != pid_) fail("waitpid (initial stop)");
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    pid_ = -1;
    errno = ECHILD;
    fail("child did not reach its initial stop (exit code " + std::to_string(code) + ")");
  }
  if (ptrace(PTRACE_SETOPTIONS, pid_, nullptr,
             reinterpret_cast<void*>(PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)) != 0) {
    fail("PTRACE_SETOPTIONS");
  }
  if (ptrace(PTRACE_GETFPREGS, pid_, nullptr, fx_template_) != 0) fail("PTRACE_GETFPREGS");
  watchdog_ = std::thread([this] { watchdog_loop(); });
}

void NativeChild::child_main(int memfd) {
  // Die with the parent even before PTRACE_O_EXITKILL is set.
  raw(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
  if (raw(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0) != 0) raw(SYS_exit_group, 121);
  for (size_t i = 0; i < regions_.size(); ++i) {
    const GuestRegion& r = regions_[i];
    long prot = PROT_READ | (r.writable ? PROT_WRITE : 0) | (r.executable ? PROT_EXEC : 0);
    long res = raw(SYS_mmap, r.addr, r.size, prot, MAP_SHARED | MAP_FIXED_NOREPLACE, memfd,
                   static_cast<long>(offsets_[i]));
    if (res != static_cast<long>(r.addr)) raw(SYS_exit_group, 122);
  }
  raw(SYS_close, memfd);
  const long self = raw(SYS_getpid);
  // Seccomp: only what is needed to stop; guest `int 0x80` never reaches the
  // filter (PTRACE_SYSEMU skips the call), but if the child were ever resumed
  // without SYSEMU, any system call would kill it.
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kill, 6, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_tgkill, 5, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigprocmask, 4, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigreturn, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])),
                            filter};
  if (raw(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) raw(SYS_exit_group, 123);
  if (raw(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, reinterpret_cast<long>(&prog)) != 0) {
    raw(SYS_exit_group, 124);
  }
  raw(SYS_kill, self, SIGSTOP);
  // Only reached if the parent resumed the child's own code.
  for (;;) raw(SYS_exit_group, 125);
}

NativeChild::~NativeChild() {
  {
    std::lock_guard<std::mutex> lk(wd_mu_);
    wd_quit_ = true;
  }
  wd_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, __WALL);
  }
  if (shared_) munmap(shared_, shared_size_);
}

uint8_t* NativeChild::mem(uint32_t addr, uint32_t len) {
  for (size_t i = 0; i < regions_.size(); ++i) {
    const GuestRegion& r = regions_[i];
    if (addr >= r.addr && uint64_t(addr) + len <= uint64_t(r.addr) + r.size) {
      return shared_ + offsets_[i] + (addr - r.addr);
    }
  }
  return nullptr;
}

void NativeChild::watchdog_loop() {
  std::unique_lock<std::mutex> lk(wd_mu_);
  const auto tick = std::chrono::milliseconds(std::min<unsigned>(100, timeout_ms_ / 4 + 1));
  while (!wd_quit_) {
    wd_cv_.wait_for(lk, tick);
    if (wd_quit_) break;
    int64_t start = run_start_ns_.load();
    uint64_t seq = run_seq_.load();
    if (start != 0 && now_ns() - start > int64_t(timeout_ms_) * 1000000) {
      stopped_seq_.store(seq);
      kill(pid_, SIGSTOP);
    }
  }
}

void NativeChild::run(const NativeRegs& in, const NativeFpu& fin, NativeResult& out) {
  if (pid_ <= 0) {
    errno = ECHILD;
    fail("no child");
  }
  user_regs_struct r{};
  r.rax = in.gpr[0];
  r.rcx = in.gpr[1];
  r.rdx = in.gpr[2];
  r.rbx = in.gpr[3];
  r.rsp = in.gpr[4];
  r.rbp = in.gpr[5];
  r.rsi = in.gpr[6];
  r.rdi = in.gpr[7];
  r.rip = in.eip;
  r.eflags = in.eflags | 0x202;
  r.orig_rax = static_cast<unsigned long long>(-1);
  r.cs = kUserCs32;
  r.ss = r.ds = r.es = r.fs = r.gs = kUserDs;
  r.fs_base = r.gs_base = 0;
  if (ptrace(PTRACE_SETREGS, pid_, nullptr, &r) != 0) fail("PTRACE_SETREGS");

  alignas(16) uint8_t fx[512];
  std::memcpy(fx, fx_template_, sizeof fx);
  auto* f = reinterpret_cast<user_fpregs_struct*>(fx);
  f->cwd = fin.fcw;
  f->swd = fin.fsw;
  f->ftw = fin.ftw;
  f->fop = fin.fop;
  f->rip = fin.fip;
  f->rdp = fin.fdp;
  f->mxcsr = fin.mxcsr;
  for (int i = 0; i < 8; ++i) {
    auto* slot = reinterpret_cast<uint8_t*>(f->st_space) + 16 * i;
    std::memset(slot, 0, 16);
    std::memcpy(slot, fin.st[i], 10);
  }
  if (ptrace(PTRACE_SETFPREGS, pid_, nullptr, fx) != 0) fail("PTRACE_SETFPREGS");

  const uint64_t seq = run_seq_.fetch_add(1) + 1;
  run_start_ns_.store(now_ns());
  int status = 0;
  for (;;) {
    if (ptrace(PTRACE_SYSEMU, pid_, nullptr, nullptr) != 0) {
      run_start_ns_.store(0);
      fail("PTRACE_SYSEMU");
    }
    if (waitpid(pid_, &status, __WALL) != pid_) {
      run_start_ns_.store(0);
      fail("waitpid");
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      run_start_ns_.store(0);
      pid_ = -1;
      errno = ECHILD;
      fail(WIFEXITED(status) ? "child exited with status " + std::to_string(WEXITSTATUS(status))
                             : "child killed by signal " + std::to_string(WTERMSIG(status)));
    }
    if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP && stopped_seq_.load() != seq) {
      continue;  // a stale watchdog stop meant for an earlier run: ignore it
    }
    break;
  }
  run_start_ns_.store(0);

  out = NativeResult{};
  if (ptrace(PTRACE_GETREGS, pid_, nullptr, &r) != 0) fail("PTRACE_GETREGS");
  const int sig = WSTOPSIG(status);
  if (sig == (SIGTRAP | 0x80)) {
    out.stop = NativeStop::Int80;
    out.int80_eax = static_cast<uint32_t>(r.orig_rax);
    r.rax = r.orig_rax;  // the kernel put -ENOSYS in RAX at syscall entry
  } else if (sig == SIGSTOP && stopped_seq_.load() == seq) {
    out.stop = NativeStop::Timeout;
    out.signo = sig;
  } else {
    out.stop = NativeStop::Signal;
    out.signo = sig;
    siginfo_t si{};
    if (ptrace(PTRACE_GETSIGINFO, pid_, nullptr, &si) == 0) {
      out.si_code = si.si_code;
      out.sig_addr = reinterpret_cast<uint64_t>(si.si_addr);
    }
  }
  out.regs.gpr[0] = static_cast<uint32_t>(r.rax);
  out.regs.gpr[1] = static_cast<uint32_t>(r.rcx);
  out.regs.gpr[2] = static_cast<uint32_t>(r.rdx);
  out.regs.gpr[3] = static_cast<uint32_t>(r.rbx);
  out.regs.gpr[4] = static_cast<uint32_t>(r.rsp);
  out.regs.gpr[5] = static_cast<uint32_t>(r.rbp);
  out.regs.gpr[6] = static_cast<uint32_t>(r.rsi);
  out.regs.gpr[7] = static_cast<uint32_t>(r.rdi);
  out.regs.eip = static_cast<uint32_t>(r.rip);
  out.regs.eflags = static_cast<uint32_t>(r.eflags);

  if (ptrace(PTRACE_GETFPREGS, pid_, nullptr, fx) != 0) fail("PTRACE_GETFPREGS");
  out.fpu.fcw = f->cwd;
  out.fpu.fsw = f->swd;
  out.fpu.ftw = static_cast<uint8_t>(f->ftw);
  out.fpu.fop = f->fop;
  out.fpu.fip = f->rip;
  out.fpu.fdp = f->rdp;
  out.fpu.mxcsr = f->mxcsr;
  for (int i = 0; i < 8; ++i) {
    std::memcpy(out.fpu.st[i], reinterpret_cast<uint8_t*>(f->st_space) + 16 * i, 10);
  }
}

std::vector<std::string> NativeChild::foreign_low_mappings() const {
  std::vector<std::string> out;
  if (pid_ <= 0) return out;
  std::ifstream maps("/proc/" + std::to_string(pid_) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    uint64_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream ls(line);
    ls >> std::hex >> lo >> dash >> hi;
    if (lo >= 0x100000000ull) continue;
    bool ours = false;
    for (const GuestRegion& g : regions_) {
      if (lo >= g.addr && hi <= uint64_t(g.addr) + g.size) ours = true;
    }
    if (!ours) out.push_back(line);
  }
  return out;
}

}  // namespace faultline::direct
