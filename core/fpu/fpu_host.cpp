// Host-execution core of the x87: runs one guest x87 instruction on the host
// FPU. See fpu.h for the design note.
//
// The instruction itself is executed from a table of tiny stubs, one per
// register-form encoding (D8..DF C0..FF) and per memory-form encoding (D8..DF
// /0../7 with the operand at [rdi]), each `endbr64; <esc> <modrm>; ret; int3`.
// Two drivers, written in assembly so that no compiler-generated x87 code can
// interleave, set the host up around the stub call:
//  faultline_x87_fast: FNCLEX, FLDCW guest (skipped if equal to the host's),
//    FLD m80 of the given registers, (optionally) load CF/PF/ZF/AF/SF/OF,
//    call, record RFLAGS and FNSTSW, FNCLEX if the guest unmasks exceptions
//    (so none stays pending on the host), FSTP m80 of the registers left
//    (count from the TOP change), FLDCW host (if changed).
//  faultline_x87_full: FRSTOR of a complete guest image, call, record RFLAGS,
//    FNSAVE (non-waiting; re-initialises the host FPU), FLDCW host.
// The host x87 stack is empty at every call boundary (SysV ABI), so the
// drivers own it completely while they run.
#include <atomic>
#include <cstddef>

#include "core/cpu_state.h"
#include "core/fpu/fpu.h"

#if !defined(__x86_64__)
#error "the x87 host-execution core needs an x86-64 host"
#endif

namespace faultline::fpu {
namespace {

struct alignas(16) Ctx {
  uint8_t reg[8][16];    // ST(0)..ST(7) in/out, 10 bytes used each
  uint8_t mem[16];       // memory operand
  const void* stub;      // the instruction
  uint64_t rflags;       // in: arithmetic flags to load; out: host RFLAGS after
  uint32_t nload;        // fast: registers to load
  uint32_t nstore;       // fast: registers stored back
  uint16_t cw;           // fast: control word to run with
  uint16_t sw;           // fast: status after the instruction
  uint16_t saved_cw;     // host control word
  uint16_t sw0;          // fast: status before the instruction
  uint8_t set_flags;     // load rflags before the instruction
  uint8_t pad[15];
  uint8_t image[112];    // full: FRSTOR/FNSAVE image (32-bit format, 108 bytes)
};
static_assert(offsetof(Ctx, mem) == 128);
static_assert(offsetof(Ctx, stub) == 144);
static_assert(offsetof(Ctx, rflags) == 152);
static_assert(offsetof(Ctx, nload) == 160);
static_assert(offsetof(Ctx, nstore) == 164);
static_assert(offsetof(Ctx, cw) == 168);
static_assert(offsetof(Ctx, sw) == 170);
static_assert(offsetof(Ctx, saved_cw) == 172);
static_assert(offsetof(Ctx, sw0) == 174);
static_assert(offsetof(Ctx, set_flags) == 176);
static_assert(offsetof(Ctx, image) == 192);

}  // namespace
}  // namespace faultline::fpu

extern "C" {
__attribute__((visibility("hidden"))) void faultline_x87_fast(void* ctx);
__attribute__((visibility("hidden"))) void faultline_x87_full(void* ctx);
__attribute__((visibility("hidden"))) extern const unsigned char faultline_x87_stubs[];
}

// RFLAGS bits the drivers load: CF PF AF ZF SF OF.
asm(R"(
  .pushsection .text
  .p2align 4
  .globl faultline_x87_fast
  .hidden faultline_x87_fast
  .type faultline_x87_fast, @function
faultline_x87_fast:
  endbr64
  mov %rdi, %rsi
  fnstcw 172(%rsi)
  fnclex
  movzwl 168(%rsi), %eax
  cmpw %ax, 172(%rsi)
  je 0f
  fldcw 168(%rsi)
0:
  mov 160(%rsi), %ecx
  jmp 2f
1:
  mov %ecx, %eax
  shl $4, %eax
  fldt (%rsi,%rax)
2:
  sub $1, %ecx
  jns 1b
  fnstsw 174(%rsi)
  cmpb $0, 176(%rsi)
  je 3f
  pushfq
  pop %rax
  and $~0x8D5, %rax
  mov 152(%rsi), %rdx
  and $0x8D5, %rdx
  or %rdx, %rax
  push %rax
  popfq
3:
  lea 128(%rsi), %rdi
  call *144(%rsi)
  pushfq
  pop 152(%rsi)
  fnstsw 170(%rsi)
  movzwl 168(%rsi), %eax
  not %eax
  test $0x3F, %al
  jz 6f
  fnclex
6:
  movzwl 174(%rsi), %eax
  shr $11, %eax
  and $7, %eax
  movzwl 170(%rsi), %edx
  shr $11, %edx
  and $7, %edx
  sub %edx, %eax
  add $2, %eax
  and $7, %eax
  sub $2, %eax
  add 160(%rsi), %eax
  mov %eax, 164(%rsi)
  xor %ecx, %ecx
  jmp 5f
4:
  mov %ecx, %edx
  shl $4, %edx
  fstpt (%rsi,%rdx)
  add $1, %ecx
5:
  cmp %eax, %ecx
  jl 4b
  movzwl 168(%rsi), %eax
  cmpw %ax, 172(%rsi)
  je 7f
  fldcw 172(%rsi)
7:
  ret
  .size faultline_x87_fast, .-faultline_x87_fast

  .p2align 4
  .globl faultline_x87_full
  .hidden faultline_x87_full
  .type faultline_x87_full, @function
faultline_x87_full:
  endbr64
  mov %rdi, %rsi
  fnstcw 172(%rsi)
  fnclex
  frstor 192(%rsi)
  cmpb $0, 176(%rsi)
  je 1f
  pushfq
  pop %rax
  and $~0x8D5, %rax
  mov 152(%rsi), %rdx
  and $0x8D5, %rdx
  or %rdx, %rax
  push %rax
  popfq
1:
  lea 128(%rsi), %rdi
  call *144(%rsi)
  pushfq
  pop 152(%rsi)
  fnsave 192(%rsi)
  fldcw 172(%rsi)
  ret
  .size faultline_x87_full, .-faultline_x87_full

  .macro FAULTLINE_X87_REGSTUBS esc
  .set fl_x87_m, 0xC0
  .rept 64
  endbr64
  .byte \esc, fl_x87_m
  ret
  int3
  .set fl_x87_m, fl_x87_m + 1
  .endr
  .endm

  .macro FAULTLINE_X87_MEMSTUBS esc
  .set fl_x87_r, 0
  .rept 8
  endbr64
  .byte \esc, (fl_x87_r << 3) | 7
  ret
  int3
  .set fl_x87_r, fl_x87_r + 1
  .endr
  .endm

  .p2align 4
  .globl faultline_x87_stubs
  .hidden faultline_x87_stubs
  .type faultline_x87_stubs, @function
faultline_x87_stubs:
  FAULTLINE_X87_REGSTUBS 0xD8
  FAULTLINE_X87_REGSTUBS 0xD9
  FAULTLINE_X87_REGSTUBS 0xDA
  FAULTLINE_X87_REGSTUBS 0xDB
  FAULTLINE_X87_REGSTUBS 0xDC
  FAULTLINE_X87_REGSTUBS 0xDD
  FAULTLINE_X87_REGSTUBS 0xDE
  FAULTLINE_X87_REGSTUBS 0xDF
  FAULTLINE_X87_MEMSTUBS 0xD8
  FAULTLINE_X87_MEMSTUBS 0xD9
  FAULTLINE_X87_MEMSTUBS 0xDA
  FAULTLINE_X87_MEMSTUBS 0xDB
  FAULTLINE_X87_MEMSTUBS 0xDC
  FAULTLINE_X87_MEMSTUBS 0xDD
  FAULTLINE_X87_MEMSTUBS 0xDE
  FAULTLINE_X87_MEMSTUBS 0xDF
  .size faultline_x87_stubs, .-faultline_x87_stubs
  .purgem FAULTLINE_X87_REGSTUBS
  .purgem FAULTLINE_X87_MEMSTUBS
  .popsection
)");

namespace faultline::fpu {
namespace {

constexpr unsigned kStubSize = 8;
std::atomic<bool> g_force_full{false};
thread_local uint64_t t_fast = 0, t_full = 0;

const void* stub_for(unsigned esc, uint8_t modrm) {
  unsigned idx = modrm >= 0xC0 ? esc * 64 + (modrm & 0x3F) : 8 * 64 + esc * 8 + ((modrm >> 3) & 7);
  return faultline_x87_stubs + idx * kStubSize;
}

constexpr uint32_t kArith = 0x8D5;  // CF PF AF ZF SF OF

// Status after an instruction: the flags it raised OR the sticky ones, ES/B
// from the unmasked flags.
void finish_status(FpuState& f, uint16_t old_status) {
  f.status = static_cast<uint16_t>(f.status | (old_status & (SW_EXC | SW_SF)));
  update_es(f);
}

bool store_allowed(uint16_t new_flags, uint16_t cw) {
  // Unmasked IE/DE/ZE/OE/UE: the memory destination is not written (an
  // unmasked PE still stores).
  return (new_flags & ~cw & (SW_IE | SW_DE | SW_ZE | SW_OE | SW_UE)) == 0;
}

}  // namespace

void set_force_full_path(bool on) { g_force_full.store(on, std::memory_order_relaxed); }
bool force_full_path() { return g_force_full.load(std::memory_order_relaxed); }
PathStats path_stats() { return {t_fast, t_full}; }

namespace {

// An ordinary memory float: not NaN, infinity, denormal or unsupported.
bool ordinary_mem_float(const uint8_t* mem, unsigned size) {
  switch (size) {
    case 4: {
      uint32_t v;
      std::memcpy(&v, mem, 4);
      uint32_t e = (v >> 23) & 0xFF;
      return e != 0xFF && (e != 0 || (v & 0x7FFFFF) == 0);
    }
    case 8: {
      uint64_t v;
      std::memcpy(&v, mem, 8);
      uint64_t e = (v >> 52) & 0x7FF;
      return e != 0x7FF && (e != 0 || (v & 0xFFFFFFFFFFFFFull) == 0);
    }
    case 10: {
      long double v;
      load80(v, mem);
      return classify(v) != TAG_SPECIAL;
    }
    default:
      return true;
  }
}

bool fast_eligible(const FpuState& in, const HostOp& op, const uint8_t* mem) {
  if (op.full_only) return false;
  const unsigned t = top(in);
  for (unsigned j = 0; j < op.nread; ++j) {
    unsigned tg = tag_of(in, (t + j) & 7);
    if (tg != TAG_VALID && tg != TAG_ZERO) return false;
  }
  if (op.push && !empty(in, (t + 7) & 7)) return false;
  return !op.mem_float || ordinary_mem_float(mem, op.mem_float);
}

void setup(Ctx& x, const FpuState& in, uint32_t eflags, unsigned esc, uint8_t modrm, const HostOp& op,
           const uint8_t* mem) {
  x.stub = stub_for(esc, modrm);
  x.set_flags = (op.eflags_in || op.eflags_out) ? 1 : 0;
  x.rflags = eflags & kArith;
  x.cw = in.control;
  std::memset(x.mem, 0, sizeof x.mem);
  if (op.mem_in) std::memcpy(x.mem, mem, op.mem_in);
}

// Returns false (nothing produced) if the instruction raised IE or DE, whose
// condition-code behaviour the fast path does not reproduce.
bool run_fast(const FpuState& in, uint32_t eflags, unsigned esc, uint8_t modrm, const HostOp& op,
              const uint8_t* mem, HostResult& out) {
  Ctx x;
  setup(x, in, eflags, esc, modrm, op, mem);
  const unsigned t = top(in);
  x.nload = op.nread;
  for (unsigned j = 0; j < op.nread; ++j) store80(x.reg[j], in.st[(t + j) & 7]);
  faultline_x87_fast(&x);
  const uint16_t new_flags = x.sw & (SW_EXC | SW_SF);
  if (new_flags & (SW_IE | SW_DE)) return false;
  out.f = in;
  FpuState& f = out.f;
  const int pushes = static_cast<int>(x.nstore) - static_cast<int>(op.nread);
  const unsigned nt = (t - pushes) & 7;
  // The loaded window ends at the same physical register before and after
  // (pushes and pops happen at the top): empty it, then fill what is left.
  for (unsigned j = 0; j < op.nread; ++j) set_tag(f, (t + j) & 7, TAG_EMPTY);
  for (unsigned j = 0; j < x.nstore; ++j) {
    unsigned p = (nt + j) & 7;
    load80(f.st[p], x.reg[j]);
    set_tag(f, p, classify(f.st[p]));
  }
  f.status = static_cast<uint16_t>((in.status & SW_CC & ~op.cc) | (x.sw & op.cc) | new_flags);
  set_top(f, nt);
  finish_status(f, in.status);
  out.eflags = static_cast<uint32_t>(x.rflags) & kArith;
  out.store = op.mem_out && store_allowed(new_flags, in.control);
  if (op.mem_out) std::memcpy(out.mem, x.mem, op.mem_out);
  return true;
}

void run_full(const FpuState& in, uint32_t eflags, unsigned esc, uint8_t modrm, const HostOp& op,
              const uint8_t* mem, HostResult& out) {
  Ctx x;
  setup(x, in, eflags, esc, modrm, op, mem);
  const unsigned t = top(in);
  uint8_t* im = x.image;
  std::memset(im, 0, 108);
  uint16_t w = in.control;
  std::memcpy(im + 0, &w, 2);
  w = static_cast<uint16_t>(in.status & (SW_CC | SW_TOP));  // no flags: nothing pending
  std::memcpy(im + 4, &w, 2);
  w = in.tag;
  std::memcpy(im + 8, &w, 2);
  for (unsigned k = 0; k < 8; ++k) store80(im + 28 + 10 * k, in.st[(t + k) & 7]);
  faultline_x87_full(&x);
  uint16_t sw, tw;
  std::memcpy(&sw, im + 4, 2);
  std::memcpy(&tw, im + 8, 2);
  const uint16_t new_flags = sw & (SW_EXC | SW_SF);
  out.f = in;
  FpuState& f = out.f;
  const unsigned nt = (sw >> 11) & 7;
  for (unsigned k = 0; k < 8; ++k) load80(f.st[(nt + k) & 7], im + 28 + 10 * k);
  f.tag = tw;
  f.status = static_cast<uint16_t>(sw & (SW_CC | SW_TOP | SW_EXC | SW_SF));
  finish_status(f, in.status);
  out.eflags = static_cast<uint32_t>(x.rflags) & kArith;
  out.store = op.mem_out && store_allowed(new_flags, in.control);
  if (op.mem_out) std::memcpy(out.mem, x.mem, op.mem_out);
}

}  // namespace

void host_execute(const FpuState& in, uint32_t eflags, unsigned esc, uint8_t modrm,
                  const HostOp& op, const uint8_t* mem, HostResult& out) {
  if (!g_force_full.load(std::memory_order_relaxed) && fast_eligible(in, op, mem) &&
      run_fast(in, eflags, esc, modrm, op, mem, out)) {
    ++t_fast;
    return;
  }
  ++t_full;
  run_full(in, eflags, esc, modrm, op, mem, out);
}

}  // namespace faultline::fpu
