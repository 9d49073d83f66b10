// Differential tester: host CPU vs the reference interpreter. See cpu_check.h.
#include "core/check/cpu_check.h"

// Project headers first: <signal.h> defines SA_STACK, an enumerator in cpu.h.
#include "core/bus.h"
#include "core/check/generator.h"
#include "core/cpu.h"
#include "core/cpu_mem.h"
#include "core/direct/native_child.h"

#include <Zydis/Zydis.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <ostream>
#include <set>
#include <stdexcept>

namespace faultline::check {

namespace {

using namespace layout;
using direct::NativeChild;
using direct::NativeFpu;
using direct::NativeRegs;
using direct::NativeResult;
using direct::NativeStop;

constexpr uint32_t kArith = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
constexpr uint16_t kC0 = 0x0100, kC1 = 0x0200, kC2 = 0x0400, kC3 = 0x4000;
constexpr uint16_t kCC = kC0 | kC1 | kC2 | kC3;

bool starts(const char* s, const char* p) { return std::strncmp(s, p, std::strlen(p)) == 0; }

std::string hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08X", v);
  return b;
}
std::string hex16(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%04X", v & 0xFFFF);
  return b;
}
std::string hexbytes(const uint8_t* p, size_t n) {
  std::string s;
  char b[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(b, sizeof b, i ? " %02x" : "%02x", p[i]);
    s += b;
  }
  return s;
}
std::string fp80_str(const uint8_t* p) {
  char b[64];
  uint64_t m;
  uint16_t se;
  std::memcpy(&m, p, 8);
  std::memcpy(&se, p + 8, 2);
  long double v = 0;
  std::memcpy(&v, p, 10);
  std::snprintf(b, sizeof b, "%04X:%016llX (%.6Lg)", se, static_cast<unsigned long long>(m), v);
  return b;
}

const char* const kRegNames[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};

// ---- outcome classes -------------------------------------------------------------------

enum class Cls : uint8_t { Completed, PF, GP, BUS, DE, MF, UD, TRAP, Timeout, Other };

const char* cls_name(Cls c) {
  switch (c) {
    case Cls::Completed: return "completed";
    case Cls::PF: return "page fault";
    case Cls::GP: return "#GP-class";
    case Cls::BUS: return "SIGBUS-class";
    case Cls::DE: return "#DE";
    case Cls::MF: return "#MF";
    case Cls::UD: return "#UD";
    case Cls::TRAP: return "trap";
    case Cls::Timeout: return "timeout";
    case Cls::Other: return "other";
  }
  return "?";
}

// The comparable end state of one side.
struct EndState {
  Cls cls = Cls::Other;
  uint32_t fault_addr = 0;  // PF only
  uint32_t eip = 0;
  std::string what;         // human-readable outcome
  uint32_t gpr[8] = {};
  uint32_t eflags = 0;
  uint16_t fcw = 0, fsw = 0;
  uint8_t valid = 0;        // physical registers not empty
  uint8_t st[8][10] = {};   // physical registers
};

// ---- the interpreter side -----------------------------------------------------------------

struct TraceEntry {
  uint32_t eip = 0;
  uint32_t gpr[8] = {};
  uint32_t eflags = 0;
  uint16_t fcw = 0, fsw = 0;
  Insn insn;
  bool decoded = false;
  bool faulted = false;
  bool unfinished = false;  // a REP instruction the run loop will re-enter
};

struct MaskRange {
  uint32_t lin;
  uint32_t len;
};

bool in_ranges(const std::vector<MaskRange>& rs, uint32_t a) {
  for (const MaskRange& m : rs) {
    if (a - m.lin < m.len) return true;
  }
  return false;
}

constexpr uint32_t kRamSize = 0x40000;
constexpr uint32_t kPd = 0x1000;
constexpr uint32_t kGuestPhys = 0x10000;
constexpr unsigned kBudget = 20000;  // run(1) calls per case

uint32_t region_phys(size_t region) {
  uint32_t p = kGuestPhys;
  for (size_t i = 0; i < region; ++i) p += guest_regions()[i].size;
  return p;
}

class Interp {
 public:
  Interp() : ram_(kRamSize, 0) {
    // Page directory at kPd, page tables after it, guest pages from
    // kGuestPhys on. None of these structures is mapped linearly.
    uint32_t next_pt = kPd + 0x1000;
    auto wr32 = [&](uint32_t pa, uint32_t v) { std::memcpy(&ram_[pa], &v, 4); };
    auto rd32 = [&](uint32_t pa) {
      uint32_t v;
      std::memcpy(&v, &ram_[pa], 4);
      return v;
    };
    for (size_t r = 0; r < guest_regions().size(); ++r) {
      const GuestRegionDesc& g = guest_regions()[r];
      for (uint32_t off = 0; off < g.size; off += 0x1000) {
        const uint32_t lin = g.addr + off;
        const uint32_t pde_pa = kPd + (lin >> 22) * 4;
        uint32_t pde = rd32(pde_pa);
        if (!(pde & 1)) {
          pde = next_pt | 0x7;
          next_pt += 0x1000;
          wr32(pde_pa, pde);
        }
        const uint32_t pte_pa = (pde & ~0xFFFu) + ((lin >> 12) & 0x3FF) * 4;
        wr32(pte_pa, (region_phys(r) + off) | 0x5 | (g.writable ? 0x2 : 0));
      }
    }
    if (next_pt > kGuestPhys) throw std::logic_error("cpu-check: page tables overflow");
    cpu_ = std::make_unique<Cpu>(ram_.data(), ram_.size(), bus_);
  }

  Cpu& cpu() { return *cpu_; }
  const uint8_t* region_data(size_t r) const { return ram_.data() + region_phys(r); }

  void load(const TestCase& tc) {
    Cpu& c = *cpu_;
    c.reset();
    c.write_cr3(kPd);
    c.write_cr0(CR0_PE | CR0_PG | CR0_ET | CR0_NE);
    SegmentCache code;
    code.selector = 0x23;
    code.attr = SEG_ACCESSED | SEG_RW | SEG_CODE | SEG_S | (3u << SEG_DPL_SHIFT) | SEG_P | SEG_DB | SEG_G;
    code.base = 0;
    code.limit = 0xFFFFFFFFu;
    code.valid = true;
    SegmentCache data = code;
    data.selector = 0x2B;
    data.attr = SEG_ACCESSED | SEG_RW | SEG_S | (3u << SEG_DPL_SHIFT) | SEG_P | SEG_DB | SEG_G;
    for (unsigned s = 0; s < 6; ++s) c.set_seg_cache(s, s == CS ? code : data);
    c.set_cpl(3);
    for (unsigned i = 0; i < 8; ++i) c.s.gpr[i] = tc.gpr[i];
    c.s.eip = kCode;
    c.write_eflags(tc.eflags | 0x202, 0xFFFFFFFFu);
    FpuState f{};
    f.control = tc.fpu.fcw;
    f.status = tc.fpu.fsw;
    f.tag = 0;
    for (unsigned p = 0; p < 8; ++p) {
      std::memset(&f.st[p], 0, sizeof f.st[p]);
      std::memcpy(&f.st[p], tc.fpu.st[p], 10);
      unsigned t;
      if (!(tc.fpu.valid >> p & 1)) {
        t = 3;
      } else {
        uint64_t m;
        uint16_t se;
        std::memcpy(&m, tc.fpu.st[p], 8);
        std::memcpy(&se, tc.fpu.st[p] + 8, 2);
        const unsigned e = se & 0x7FFF;
        t = e == 0x7FFF ? 2 : e == 0 ? (m == 0 ? 1 : 2) : (m >> 63) ? 0 : 2;
      }
      f.tag = static_cast<uint16_t>(f.tag | (t << (2 * p)));
    }
    c.s.fpu = f;
    c.exc = {};
    c.stop_on_exception = true;
    c.write_phys(region_phys(0), tc.code.data(), kCodeSize);
    uint32_t off = 0;
    for (size_t r = 1; r < guest_regions().size(); ++r) {
      c.write_phys(region_phys(r), tc.mem.data() + off, guest_regions()[r].size);
      off += guest_regions()[r].size;
    }
  }

  enum class End { Completed, Exception, Other, Runaway };

  End run(const TestCase& tc, std::vector<TraceEntry>& trace, std::vector<MaskRange>& masks,
          std::string& skip) {
    Cpu& c = *cpu_;
    trace.clear();
    masks.clear();
    bus_lock_ = false;
    const uint32_t end = kCode + tc.end_off;
    for (unsigned calls = 0;; ++calls) {
      if (calls >= kBudget) return End::Runaway;
      const uint32_t eip = c.s.eip;
      if (trace.empty() || !trace.back().unfinished) {
        if (eip == end) return End::Completed;
        TraceEntry e;
        e.eip = eip;
        std::memcpy(e.gpr, c.s.gpr, sizeof e.gpr);
        e.eflags = c.eflags();
        e.fcw = c.s.fpu.control;
        e.fsw = c.s.fpu.status;
        if (eip >= kCode && eip < kCode + kCodeSize) {
          const uint32_t off = eip - kCode;
          e.decoded = decode(tc.code.data() + off, std::min(15u, kCodeSize - off), true, e.insn) ==
                      DecodeStatus::Ok;
        }
        if (e.decoded) pre_checks(e, masks, skip);
        trace.push_back(e);
      }
      const bool lock_before = bus_lock_;
      const StopReason r = c.run(1);
      TraceEntry& e = trace.back();
      if (r == StopReason::Exception) {
        e.faulted = true;
        bus_lock_ = lock_before;  // a faulting locked access takes no lock
        return End::Exception;
      }
      if (r != StopReason::Budget) return End::Other;
      e.unfinished = c.s.eip == e.eip;
    }
  }

  void end_state(End end, EndState& st) {
    Cpu& c = *cpu_;
    st = EndState{};
    st.eip = c.s.eip;
    switch (end) {
      case End::Completed:
        st.cls = Cls::Completed;
        st.what = "reached int 0x80";
        break;
      case End::Exception: {
        const uint8_t v = c.exc.vector;
        char b[64];
        std::snprintf(b, sizeof b, "exception %u", v);
        st.what = b;
        if (c.exc.has_error) st.what += "(" + hex32(c.exc.error) + ")";
        switch (v) {
          case VEC_PF:
            st.cls = Cls::PF;
            st.fault_addr = c.s.cr2;
            st.what += " cr2=" + hex32(c.s.cr2);
            break;
          case VEC_GP: case VEC_BR: case VEC_OF: st.cls = Cls::GP; break;
          case VEC_SS: case VEC_NP: case VEC_AC: st.cls = Cls::BUS; break;
          case VEC_DE: st.cls = Cls::DE; break;
          case VEC_MF: st.cls = Cls::MF; break;
          case VEC_UD: st.cls = Cls::UD; break;
          case VEC_DB: case VEC_BP: st.cls = Cls::TRAP; break;
          default: st.cls = Cls::Other; break;
        }
        break;
      }
      default:
        st.cls = Cls::Other;
        st.what = "run loop stopped";
        break;
    }
    std::memcpy(st.gpr, c.s.gpr, sizeof st.gpr);
    st.eflags = c.eflags();
    st.fcw = c.s.fpu.control;
    st.fsw = c.s.fpu.status;
    for (unsigned p = 0; p < 8; ++p) {
      if (((c.s.fpu.tag >> (2 * p)) & 3) != 3) st.valid |= static_cast<uint8_t>(1u << p);
      std::memcpy(st.st[p], &c.s.fpu.st[p], 10);
    }
  }

 private:
  // Before an instruction runs: memory-dependent exclusions and fields that
  // differ by design.
  void pre_checks(const TraceEntry& e, std::vector<MaskRange>& masks, std::string& skip) {
    const Insn& i = e.insn;
    if (i.mod == 3 || !i.info || !(i.info->decode & D_MODRM)) return;
    Cpu& c = *cpu_;
    uint32_t lin = c.s.seg[i.seg].base + c.ea(i);
    if ((i.prefixes & P_LOCK) || i.opcode == 0x86 || i.opcode == 0x87) {
      // A locked access across a cache line is a bus lock on the host, which
      // the kernel throttles; such cases are not run natively.
      const char* n = i.op32 ? i.info->name32 : i.info->name16;
      const unsigned size = std::strstr(n, "Mq") ? 8 : std::strstr(n, "Eb") ? 1 : i.op32 ? 4 : 2;
      uint32_t a = lin;
      if (starts(n, "BT") && !std::strstr(n, "Ib")) {
        const int32_t bit = i.op32 ? static_cast<int32_t>(e.gpr[i.reg])
                                   : static_cast<int16_t>(e.gpr[i.reg]);
        a += static_cast<uint32_t>((bit >> (i.op32 ? 5 : 4)) * static_cast<int32_t>(size));
      }
      if ((a & 63) + size > 64 && skip.empty()) {
        bus_lock_ = true;
      }
    }
    if (i.opcode < 0xD8 || i.opcode > 0xDF) return;
    if (i.opcode == 0xDF && i.reg == 4) {  // FBLD: invalid digits are undefined
      for (unsigned k = 0; k < 9; ++k) {
        uint32_t pa;
        if (!c.translate_debug(lin + k, pa) || pa >= kRamSize) return;
        const uint8_t b = ram_[pa];
        if ((b & 0xF) > 9 || (b >> 4) > 9) {
          if (skip.empty()) skip = "FBLD of invalid BCD digits";
          return;
        }
      }
    }
    // FNSTENV / FNSAVE: the instruction and data pointers (FIP, FCS, FOP,
    // FDP, FDS) depend on what the host x87 last executed (AMD saves them
    // only with a pending exception; ptrace cannot set FCS/FDS).
    if ((i.opcode == 0xD9 && i.reg == 6) || (i.opcode == 0xDD && i.reg == 6)) {
      if (i.op32) masks.push_back({lin + 12, 16});
      else masks.push_back({lin + 6, 8});
    }
  }

  Bus bus_;
  std::vector<uint8_t> ram_;
  std::unique_ptr<Cpu> cpu_;

 public:
  bool bus_lock_ = false;  // a locked access split across cache lines ran
};

// ---- undefined flags and condition codes ---------------------------------------------------

uint32_t cond_flags(unsigned cc) {
  switch ((cc & 0xF) >> 1) {
    case 0: return FLAG_OF;
    case 1: return FLAG_CF;
    case 2: return FLAG_ZF;
    case 3: return FLAG_CF | FLAG_ZF;
    case 4: return FLAG_SF;
    case 5: return FLAG_PF;
    case 6: return FLAG_SF | FLAG_OF;
    default: return FLAG_ZF | FLAG_SF | FLAG_OF;
  }
}

struct FlagFx {
  uint32_t write = 0, undef = 0, read = 0;
  uint16_t cc_def = 0, cc_undef = 0, cc_read = 0;
  const char* skip = nullptr;
};

// x87 condition codes per instruction (SDM "FPU Flags Affected").
void fpu_effects(const Insn& i, uint16_t fcw, FlagFx& fx) {
  const unsigned op = i.opcode, reg = i.reg, mod = i.mod;
  const uint8_t modrm = i.modrm;
  const bool m = mod != 3;
  auto arith = [&] { fx.cc_def = kC1; fx.cc_undef = kC0 | kC2 | kC3; };
  auto cmp = [&] { fx.cc_def = kCC; };
  auto undef = [&] { fx.cc_undef = kCC; };
  auto stores_sw = [&] { fx.cc_read = kCC; };
  switch (op) {
    case 0xD8:
      if (reg == 2 || reg == 3) cmp(); else arith();
      break;
    case 0xD9:
      if (m) {
        if (reg == 0 || reg == 2 || reg == 3) arith();
        else if (reg == 4) cmp();  // FLDENV: all loaded
        else if (reg == 5 || reg == 7) undef();
        else if (reg == 6) { stores_sw(); undef(); }
      } else if (modrm <= 0xCF || (modrm >= 0xD8 && modrm <= 0xE1) || (modrm >= 0xE8 && modrm <= 0xEE)) {
        arith();  // FLD, FXCH, FSTP1, FCHS, FABS, constants
      } else if (modrm == 0xD0) {
        undef();  // FNOP
      } else if (modrm == 0xE4 || modrm == 0xE5 || modrm == 0xF5 || modrm == 0xF8) {
        cmp();  // FTST, FXAM, FPREM1, FPREM
      } else if (modrm == 0xF2 || modrm == 0xFB || modrm == 0xFE || modrm == 0xFF) {
        fx.cc_def = kC1 | kC2;  // FPTAN, FSINCOS, FSIN, FCOS
        fx.cc_undef = kC0 | kC3;
      } else if (modrm >= 0xF0) {
        arith();
      }
      break;
    case 0xDA:
      if (m) {
        if (reg == 2 || reg == 3) cmp(); else arith();
      } else if (modrm <= 0xDF) {
        arith();  // FCMOVcc
        static const uint32_t rd[4] = {FLAG_CF, FLAG_ZF, FLAG_CF | FLAG_ZF, FLAG_PF};
        fx.read |= rd[reg & 3];
      } else if (modrm == 0xE9) {
        cmp();
      }
      break;
    case 0xDB:
      if (m) {
        if (reg == 0 || reg == 2 || reg == 3 || reg == 5 || reg == 7) arith();
      } else if (modrm <= 0xDF) {
        arith();  // FCMOVNcc
        static const uint32_t rd[4] = {FLAG_CF, FLAG_ZF, FLAG_CF | FLAG_ZF, FLAG_PF};
        fx.read |= rd[reg & 3];
      } else if (modrm == 0xE0 || modrm == 0xE1 || modrm == 0xE2 || modrm == 0xE4) {
        undef();  // FENI/FDISI/FSETPM (no-ops), FNCLEX
      } else if (modrm == 0xE3) {
        cmp();  // FNINIT clears them
      } else if (modrm >= 0xE8 && modrm <= 0xF7) {
        fx.cc_def = kC1;  // FUCOMI/FCOMI
        if (fcw & 1) fx.write |= kArith;
      }
      break;
    case 0xDC:
      if (reg == 2 || reg == 3) cmp(); else arith();
      break;
    case 0xDD:
      if (m) {
        if (reg == 0 || reg == 2 || reg == 3) arith();
        else if (reg == 4) cmp();
        else if (reg == 6) { stores_sw(); cmp(); }  // FNSAVE then FNINIT
        else if (reg == 7) { stores_sw(); undef(); }
      } else if (modrm <= 0xC7) {
        undef();  // FFREE
      } else if (modrm <= 0xDF) {
        arith();
      } else if (modrm <= 0xEF) {
        cmp();
      }
      break;
    case 0xDE:
      if (m) {
        if (reg == 2 || reg == 3) cmp(); else arith();
      } else if ((modrm >= 0xD0 && modrm <= 0xD7) || modrm == 0xD9) {
        cmp();
      } else if (modrm < 0xD0 || modrm >= 0xE0) {
        arith();
      }
      break;
    case 0xDF:
      if (m) {
        if (reg != 1) arith();
      } else if (modrm <= 0xC7) {
        undef();  // FFREEP
      } else if (modrm <= 0xDF) {
        arith();
      } else if (modrm == 0xE0) {
        stores_sw();  // FNSTSW AX
        undef();
      } else if (modrm >= 0xE8 && modrm <= 0xF7) {
        fx.cc_def = kC1;
        if (fcw & 1) fx.write |= kArith;
      }
      break;
    default: break;
  }
}

FlagFx flag_effects(const TraceEntry& e) {
  FlagFx fx;
  const Insn& i = e.insn;
  const InsnInfo* info = i.info;
  if (!info || !info->defined) return fx;
  const char* n = i.op32 ? info->name32 : info->name16;
  auto st = [&](const char* p) { return starts(n, p); };
  if ((info->attr & A_FPU) && i.opcode >= 0xD8 && i.opcode <= 0xDF) {
    fpu_effects(i, e.fcw, fx);
    return fx;
  }
  if (info->attr & A_SHIFT) {
    const size_t len = std::strlen(n);
    unsigned count = std::strstr(n, "CL") ? (e.gpr[ECX] & 0xFF) : n[len - 1] == '1' ? 1u : (i.imm & 0xFF);
    const unsigned masked = count & 31;
    const unsigned size = std::strstr(n, "Eb") ? 8 : i.op32 ? 32 : 16;
    if (masked == 0) return fx;
    if (st("ROL_") || st("ROR_")) {
      fx.write = FLAG_CF | FLAG_OF;
      if (masked != 1) fx.undef |= FLAG_OF;
    } else if (st("RCL_") || st("RCR_")) {
      const unsigned eff = size == 8 ? masked % 9 : size == 16 ? masked % 17 : masked;
      fx.read = FLAG_CF;
      fx.write = FLAG_OF | (eff ? uint32_t{FLAG_CF} : 0u);
      if (masked != 1) fx.undef |= FLAG_OF;
    } else {
      fx.write = kArith;
      fx.undef = FLAG_AF;
      if (masked != 1) fx.undef |= FLAG_OF;
      if (size < 32 && masked >= size) fx.undef |= FLAG_CF;
      if ((st("SHLD") || st("SHRD")) && size == 16 && masked > 16) {
        fx.skip = "SHLD/SHRD with a 16-bit operand and count > 16";
      }
    }
    return fx;
  }
  static const char* const all6[] = {"ADD_", "ADC_", "SUB_", "SBB_", "CMP_",  "NEG_",  "XADD_",
                                     "CMPXCHG_", "AND_", "OR_", "XOR_", "TEST_", "DAA", "DAS",
                                     "AAA", "AAS", "AAM", "AAD", "MUL_", "IMUL_", "DIV_",
                                     "IDIV_", "BT_", "BTS_", "BTR_", "BTC_", "BSF_", "BSR_"};
  for (const char* p : all6) {
    if (st(p)) {
      fx.write = kArith;
      fx.undef = info->undefined_flags & kArith;
      break;
    }
  }
  if (st("CMPS") || st("SCAS")) {
    const uint32_t count = i.ad32 ? e.gpr[ECX] : (e.gpr[ECX] & 0xFFFF);
    if (!((i.prefixes & (P_REP | P_REPNE)) && count == 0)) fx.write = kArith;
  }
  if (st("INC_") || st("DEC_")) fx.write = kArith & ~FLAG_CF;
  if (st("SAHF")) fx.write = FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF;
  if (st("CLC") || st("STC")) fx.write = FLAG_CF;
  if (st("CMPXCHG8B")) fx.write = FLAG_ZF;
  if (st("ADC_") || st("SBB_") || st("SALC")) fx.read |= FLAG_CF;
  if (st("LAHF")) fx.read |= FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF;
  if (st("DAA") || st("DAS")) fx.read |= FLAG_AF | FLAG_CF;
  if (st("AAA") || st("AAS")) fx.read |= FLAG_AF;
  if (st("JCC_") || st("SETCC_") || st("CMOV_")) fx.read |= cond_flags(i.opcode);
  if (st("LOOPE") || st("LOOPNE")) fx.read |= FLAG_ZF;
  return fx;
}

// ---- Zydis --------------------------------------------------------------------------------

struct ZydisLen {
  ZydisDecoder dec;
  ZydisLen() { ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32); }
  // Length, or 0 if Zydis cannot decode the bytes.
  unsigned len(const uint8_t* p, size_t n) const {
    ZydisDecodedInstruction zi;
    if (ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, nullptr, p, n, &zi))) return zi.length;
    // Zydis rejects LOCK where it would #UD; the length without it plus the
    // LOCK bytes is still the instruction length.
    uint8_t buf[16];
    size_t k = 0, locks = 0;
    for (size_t j = 0; j < n && j < 15; ++j) {
      if (p[j] == 0xF0 && is_prefix_run(p, j)) {
        ++locks;
        continue;
      }
      buf[k++] = p[j];
    }
    if (!locks) return 0;
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, nullptr, buf, k, &zi))) return 0;
    return zi.length + static_cast<unsigned>(locks);
  }
  // True if p[0..j) are all legacy prefixes.
  static bool is_prefix_run(const uint8_t* p, size_t j) {
    for (size_t q = 0; q < j; ++q) {
      switch (p[q]) {
        case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65:
        case 0x66: case 0x67: case 0xF0: case 0xF2: case 0xF3: break;
        default: return false;
      }
    }
    return true;
  }
};

std::string disasm(const uint8_t* p, size_t n, uint32_t addr) {
  ZydisDisassembledInstruction zi;
  if (!ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LEGACY_32, addr, p, n, &zi))) {
    return "(bad)";
  }
  return zi.text;
}

// ---- one case ------------------------------------------------------------------------------

struct CaseResult {
  std::string skip;                // non-empty: not compared
  std::vector<std::string> diffs;  // empty: match
  std::vector<std::string> length_diffs;
  std::vector<int> zydis_bad_forms;
  std::vector<int> done_forms, fault_forms;  // executed main instructions
  std::string native_what, interp_what;
};

class Checker {
 public:
  Checker() {
    std::vector<direct::GuestRegion> regions;
    for (const GuestRegionDesc& g : guest_regions()) {
      regions.push_back({g.addr, g.size, g.writable, g.executable});
    }
    child_ = std::make_unique<NativeChild>(regions, 10000);
  }
  NativeChild& child() { return *child_; }

  CaseResult run(const TestCase& tc, const std::vector<Form>& forms) {
    CaseResult res;
    lengths(tc, forms, res);

    // Interpreter.
    interp_.load(tc);
    std::string skip;
    const Interp::End iend = interp_.run(tc, trace_, masks_, skip);
    if (iend == Interp::End::Runaway) {
      res.skip = "interpreter ran away (off the generated code)";
      return res;
    }
    // Trace analysis: off-sequence control flow, undefined state consumed.
    std::vector<bool> start(kCodeSize + 1, false);
    for (uint32_t o : tc.insn_off) start[o] = true;
    uint32_t U = 0;
    uint16_t Ucc = 0;
    for (const TraceEntry& e : trace_) {
      const bool inside = e.eip >= kCode && e.eip < kCode + kCodeSize && start[e.eip - kCode];
      if (!inside) {
        const bool fetch_fault = e.faulted && interp_.cpu().exc.vector == VEC_PF &&
                                 interp_.cpu().s.cr2 >= e.eip - 16 && interp_.cpu().s.cr2 <= e.eip + 16;
        if (!fetch_fault && skip.empty()) skip = "control flow left the generated instructions";
        continue;
      }
      if (!e.decoded) continue;
      const FlagFx fx = flag_effects(e);
      if (e.faulted) continue;
      if ((fx.read & U) && skip.empty()) skip = "undefined EFLAGS bit consumed";
      if ((fx.cc_read & Ucc) && skip.empty()) skip = "undefined x87 condition code stored";
      if (fx.skip && skip.empty()) skip = fx.skip;
      U = (U & ~fx.write) | fx.undef;
      Ucc = static_cast<uint16_t>((Ucc & ~fx.cc_def) | fx.cc_undef);
    }
    if (skip.empty() && interp_.bus_lock_) skip = "locked access split across cache lines (host throttles bus locks)";
    if (!skip.empty()) {
      res.skip = skip;
      return res;
    }
    for (const TraceEntry& e : trace_) {
      const uint32_t off = e.eip - kCode;
      auto it = std::lower_bound(tc.insn_off.begin(), tc.insn_off.end(), off);
      if (it == tc.insn_off.end() || *it != off) continue;
      const size_t k = static_cast<size_t>(it - tc.insn_off.begin());
      if (!tc.insn_main[k]) continue;
      const int form = tc.units[static_cast<size_t>(tc.insn_unit[k])].form;
      (e.faulted ? res.fault_forms : res.done_forms).push_back(form);
    }
    interp_.end_state(iend, is_);

    // Native.
    NativeChild& ch = *child_;
    std::memcpy(ch.mem(kCode, kCodeSize), tc.code.data(), kCodeSize);
    {
      uint32_t off = 0;
      for (size_t r = 1; r < guest_regions().size(); ++r) {
        const GuestRegionDesc& g = guest_regions()[r];
        std::memcpy(ch.mem(g.addr, g.size), tc.mem.data() + off, g.size);
        off += g.size;
      }
    }
    NativeRegs nr;
    std::memcpy(nr.gpr, tc.gpr, sizeof nr.gpr);
    nr.eip = kCode;
    nr.eflags = tc.eflags | 0x202;
    NativeFpu nf;
    nf.fcw = tc.fpu.fcw;
    nf.fsw = tc.fpu.fsw;
    nf.ftw = tc.fpu.valid;
    const unsigned top0 = (tc.fpu.fsw >> 11) & 7;
    for (unsigned k = 0; k < 8; ++k) std::memcpy(nf.st[k], tc.fpu.st[(top0 + k) & 7], 10);
    NativeResult out;
    ch.run(nr, nf, out);
    if (out.stop == NativeStop::Timeout) ch.run(nr, nf, out);  // a stale watchdog stop
    native_state(tc, out, ns_);
    res.native_what = ns_.what;
    res.interp_what = is_.what;

    // Implementation-specific behaviour of the faulting instruction.
    Relax rx;
    if (!trace_.empty() && trace_.back().faulted && trace_.back().decoded) {
      const TraceEntry& f = trace_.back();
      const Insn& i = f.insn;
      const char* nm = i.info && i.info->defined ? (i.op32 ? i.info->name32 : i.info->name16) : "";
      if (i.opcode >= 0xD8 && i.opcode <= 0xDF && i.mod != 3 && (i.reg == 4 || i.reg == 6) &&
          (i.opcode == 0xD9 || i.opcode == 0xDD)) {
        rx.fault_page_only = true;
      }
      if ((starts(nm, "CMPS") || starts(nm, "SCAS")) && (i.prefixes & (P_REP | P_REPNE))) {
        rx.flags_mask = kArith;
      }
      // Microcoded multi-store instructions: the host commits the stores
      // made before the fault, the interpreter (like a P6 retiring the whole
      // instruction or nothing) commits none. The stack below ESP differs.
      if (starts(nm, "ENTER")) {
        const unsigned level = i.imm2 & 0x1F, sz = i.op32 ? 4 : 2;
        const uint32_t slots = level == 0 ? 1 : level + 1;
        masks_.push_back({f.gpr[ESP] - slots * sz, slots * sz});
      }
      if (starts(nm, "POPA")) rx.gpr_mask = 0xFF & ~(1u << ESP);  // registers loaded before the fault
      if (starts(nm, "BOUND") &&
          ((ns_.cls == Cls::GP && is_.cls == Cls::PF) || (ns_.cls == Cls::PF && is_.cls == Cls::GP))) {
        // #BR from the lower bound before the upper bound's page fault (host)
        // or both bounds read first (interpreter).
        res.skip = "BOUND: #BR vs page fault on the upper bound (order implementation-specific)";
        return res;
      }
      if (starts(nm, "PUSHA")) {
        const uint32_t n = i.op32 ? 32 : 16;
        masks_.push_back({f.gpr[ESP] - n, n});
      }
      // CMPS reads both operands; which fault is reported first varies
      // (the host reads ES:EDI first).
      if (starts(nm, "CMPS")) {
        const uint32_t sz = i.opcode == 0xA6 ? 1 : i.op32 ? 4 : 2;
        const uint32_t m = i.ad32 ? 0xFFFFFFFFu : 0xFFFFu;
        rx.fault_ranges = {{is_.gpr[ESI] & m, sz}, {is_.gpr[EDI] & m, sz}};
      }
      if (const char* why = wraps(f, is_)) {
        res.skip = why;
        return res;
      }
    }
    compare(tc, U, Ucc, rx, res.diffs);
    return res;
  }

 private:
  void lengths(const TestCase& tc, const std::vector<Form>& forms, CaseResult& res) {
    for (size_t k = 0; k < tc.insn_off.size(); ++k) {
      const uint32_t off = tc.insn_off[k];
      const size_t avail = std::min<size_t>(15, kCodeSize - off);
      const uint8_t* p = tc.code.data() + off;
      Insn insn;
      const DecodeStatus st = decode(p, static_cast<unsigned>(avail), true, insn);
      const unsigned zl = zydis_.len(p, avail);
      const int form = tc.units[static_cast<size_t>(tc.insn_unit[k])].form;
      if (zl == 0) {
        if (tc.insn_main[k]) res.zydis_bad_forms.push_back(form);
        continue;
      }
      if (st != DecodeStatus::Ok || insn.len != zl) {
        std::string s = "length of [" + hexbytes(p, std::max<unsigned>(zl, insn.len)) + "]";
        if (tc.insn_main[k]) s += " (" + forms[static_cast<size_t>(form)].key + ")";
        s += ": zydis=" + std::to_string(zl) + " interp=" +
             (st == DecodeStatus::Ok ? std::to_string(insn.len) : std::string("decode failed"));
        res.length_diffs.push_back(s);
      }
    }
  }

  static void native_state(const TestCase& tc, const NativeResult& out, EndState& st) {
    st = EndState{};
    std::memcpy(st.gpr, out.regs.gpr, sizeof st.gpr);
    st.eflags = out.regs.eflags;
    st.eip = out.regs.eip;
    char b[96];
    switch (out.stop) {
      case NativeStop::Int80:
        st.eip -= 2;
        st.cls = st.eip == kCode + tc.end_off ? Cls::Completed : Cls::Other;
        st.what = st.cls == Cls::Completed ? "reached int 0x80" : "int 0x80 at " + hex32(st.eip);
        break;
      case NativeStop::Timeout:
        st.cls = Cls::Timeout;
        st.what = "timeout";
        break;
      case NativeStop::Signal:
        std::snprintf(b, sizeof b, "signal %d (%s) si_code %d si_addr 0x%llx", out.signo,
                      sigabbrev_np(out.signo) ? sigabbrev_np(out.signo) : "?", out.si_code,
                      static_cast<unsigned long long>(out.sig_addr));
        st.what = b;
        switch (out.signo) {
          case SIGSEGV:
            if (out.si_code == SEGV_MAPERR || out.si_code == SEGV_ACCERR) {
              st.cls = Cls::PF;
              st.fault_addr = static_cast<uint32_t>(out.sig_addr);
            } else {
              st.cls = Cls::GP;
            }
            break;
          case SIGBUS: st.cls = Cls::BUS; break;
          case SIGFPE:
            st.cls = (out.si_code == FPE_INTDIV || out.si_code == FPE_INTOVF) ? Cls::DE : Cls::MF;
            break;
          case SIGILL: st.cls = Cls::UD; break;
          case SIGTRAP: st.cls = Cls::TRAP; break;
          default: st.cls = Cls::Other; break;
        }
        break;
    }
    st.fcw = out.fpu.fcw;
    st.fsw = out.fpu.fsw;
    st.valid = out.fpu.ftw;
    const unsigned top = (out.fpu.fsw >> 11) & 7;
    for (unsigned k = 0; k < 8; ++k) std::memcpy(st.st[(top + k) & 7], out.fpu.st[k], 10);
  }

  struct Relax {
    bool fault_page_only = false;  // x87 environment images: the byte reported varies
    uint32_t flags_mask = 0;       // REP CMPS/SCAS interrupted by a fault
    std::vector<MaskRange> fault_ranges;  // any page-fault address in these is accepted
    uint8_t gpr_mask = 0;          // GPRs not compared
  };

  // Accesses that wrap around the top of the 4 GiB linear space or (16-bit
  // addressing) past offset FFFFh: whether the P6 raises #GP/#SS there, and
  // how the host splits them, is implementation-specific (SDM Vol. 3 5.3).
  static const char* wraps(const TraceEntry& f, const EndState& fin) {
    const Insn& i = f.insn;
    if (!i.info || !i.info->defined) return nullptr;
    const char* n = i.op32 ? i.info->name32 : i.info->name16;
    auto over = [&](uint32_t a, uint32_t len, bool ad32) {
      return ad32 ? uint64_t(a) + len > 0x100000000ull : uint64_t(a & 0xFFFF) + len > 0x10000;
    };
    const char* kWrap = "access wrapping at 4 GiB or 64 KiB (implementation-specific)";
    if ((i.info->decode & D_MODRM) && i.mod != 3) {
      uint32_t a = i.disp;
      if (i.base != 0xFF) a += f.gpr[i.base];
      if (i.index != 0xFF) a += f.gpr[i.index] << i.scale;
      uint32_t len = 8;
      if ((i.opcode == 0xD9 || i.opcode == 0xDD) && (i.reg == 4 || i.reg == 6)) len = 108;
      else if (i.opcode >= 0xD8 && i.opcode <= 0xDF) len = 10;
      if (over(a, len, i.ad32)) return kWrap;
      if (starts(n, "BT") && !std::strstr(n, "Ib")) {  // register bit offset moves the operand
        const int32_t bit = i.op32 ? static_cast<int32_t>(f.gpr[i.reg]) : static_cast<int16_t>(f.gpr[i.reg]);
        const int32_t sz = i.op32 ? 4 : 2;
        if (over(a + static_cast<uint32_t>((bit >> (i.op32 ? 5 : 4)) * sz), 4, i.ad32)) return kWrap;
      }
    }
    if (i.info->attr & A_STRING) {
      if (over(fin.gpr[ESI], 4, i.ad32) || over(fin.gpr[EDI], 4, i.ad32)) return kWrap;
    }
    if (starts(n, "XLAT") && over(f.gpr[EBX] + (f.gpr[EAX] & 0xFF), 1, i.ad32)) return kWrap;
    const uint32_t bp = f.gpr[EBP];
    if ((starts(n, "ENTER") || starts(n, "LEAVE")) && (bp < 0x100 || bp > 0xFFFFFF00u)) {
      return "stack access wrapping at 4 GiB (implementation-specific)";
    }
    const uint32_t sp = f.gpr[ESP];
    if (sp < 0x100 || sp > 0xFFFFFF00u) {
      static const char* const stack_ops[] = {"PUSH", "POP", "CALL", "RET", "ENTER", "LEAVE"};
      for (const char* p : stack_ops) {
        if (starts(n, p)) return "stack access wrapping at 4 GiB (implementation-specific)";
      }
    }
    return nullptr;
  }

  void compare(const TestCase& tc, uint32_t U, uint16_t Ucc, const Relax& rx, std::vector<std::string>& d) {
    const EndState& n = ns_;
    const EndState& s = is_;
    if (n.cls != s.cls) {
      d.push_back(std::string("outcome: native=") + cls_name(n.cls) + " [" + n.what + "] interp=" +
                  cls_name(s.cls) + " [" + s.what + "]");
    } else if (n.cls == Cls::PF && n.fault_addr != s.fault_addr &&
               !(rx.fault_page_only && (n.fault_addr >> 12) == (s.fault_addr >> 12)) &&
               !(in_ranges(rx.fault_ranges, n.fault_addr) && in_ranges(rx.fault_ranges, s.fault_addr))) {
      d.push_back("fault address: native=" + hex32(n.fault_addr) + " interp=" + hex32(s.fault_addr));
    }
    if (n.eip != s.eip) d.push_back("eip: native=" + hex32(n.eip) + " interp=" + hex32(s.eip));
    for (unsigned r = 0; r < 8; ++r) {
      if (n.gpr[r] != s.gpr[r] && !(rx.gpr_mask >> r & 1)) {
        d.push_back(std::string(kRegNames[r]) + ": native=" + hex32(n.gpr[r]) + " interp=" + hex32(s.gpr[r]));
      }
    }
    const uint32_t fmask = (kArith | FLAG_DF) & ~U & ~rx.flags_mask;
    if ((n.eflags ^ s.eflags) & fmask) {
      d.push_back("eflags: native=" + hex32(n.eflags & (kArith | FLAG_DF)) + " interp=" +
                  hex32(s.eflags & (kArith | FLAG_DF)) + " (compared bits " + hex32(fmask) + ")");
    }
    if (n.fcw != s.fcw) d.push_back("fpu control: native=" + hex16(n.fcw) + " interp=" + hex16(s.fcw));
    const uint16_t swmask = static_cast<uint16_t>(~Ucc);
    if ((n.fsw ^ s.fsw) & swmask) {
      d.push_back("fpu status: native=" + hex16(n.fsw) + " interp=" + hex16(s.fsw) +
                  " (compared bits " + hex16(swmask) + ")");
    }
    if (n.valid != s.valid) {
      char b[80];
      std::snprintf(b, sizeof b, "fpu tags (non-empty physical regs): native=%02X interp=%02X", n.valid, s.valid);
      d.push_back(b);
    }
    for (unsigned p = 0; p < 8; ++p) {
      if (!((n.valid & s.valid) >> p & 1)) continue;
      if (std::memcmp(n.st[p], s.st[p], 10) != 0) {
        d.push_back("fpu R" + std::to_string(p) + ": native=" + fp80_str(n.st[p]) + " interp=" + fp80_str(s.st[p]));
      }
    }
    // Memory.
    unsigned shown = 0, total = 0;
    for (size_t r = 1; r < guest_regions().size(); ++r) {
      const GuestRegionDesc& g = guest_regions()[r];
      const uint8_t* a = child_->mem(g.addr, g.size);
      const uint8_t* b = interp_.region_data(r);
      if (std::memcmp(a, b, g.size) == 0) continue;
      for (uint32_t k = 0; k < g.size; ++k) {
        if (a[k] == b[k]) continue;
        const uint32_t lin = g.addr + k;
        bool masked = false;
        for (const MaskRange& m : masks_) masked |= lin - m.lin < m.len;
        if (masked) continue;
        ++total;
        if (shown < 6) {
          char buf[96];
          std::snprintf(buf, sizeof buf, "mem[0x%08X]: native=%02x interp=%02x", lin, a[k], b[k]);
          d.push_back(buf);
          ++shown;
        }
      }
    }
    if (total > shown) d.push_back("... " + std::to_string(total - shown) + " more differing bytes");
    (void)tc;
  }

  std::unique_ptr<NativeChild> child_;
  Interp interp_;
  ZydisLen zydis_;
  std::vector<TraceEntry> trace_;
  std::vector<MaskRange> masks_;
  EndState ns_, is_;
};

// Removes unit k, retargeting branches that pointed at it to its successor.
TestCase without_unit(const TestCase& tc, size_t k) {
  TestCase t = tc;
  t.units.erase(t.units.begin() + static_cast<long>(k));
  for (Unit& u : t.units) {
    for (Patch& p : u.patches) {
      if (p.target > static_cast<int>(k)) --p.target;
    }
  }
  assemble(t);
  return t;
}

void print_case(std::ostream& out, const TestCase& tc, bool full) {
  out << "  code:";
  for (size_t u = 0; u < tc.units.size(); ++u) {
    out << (u ? " |" : "") << ' ' << hexbytes(tc.units[u].bytes.data(), tc.units[u].bytes.size());
  }
  out << " | cd 80\n";
  for (size_t k = 0; k < tc.insn_off.size(); ++k) {
    const uint32_t off = tc.insn_off[k];
    char b[32];
    std::snprintf(b, sizeof b, "    %08X %s ", kCode + off, tc.insn_main[k] ? "*" : " ");
    out << b << disasm(tc.code.data() + off, std::min<size_t>(15, kCodeSize - off), kCode + off) << '\n';
  }
  if (!full) return;
  out << "  initial:";
  for (unsigned r = 0; r < 8; ++r) out << ' ' << kRegNames[r] << '=' << hex32(tc.gpr[r]);
  out << " eflags=" << hex32(tc.eflags) << '\n';
  char b[96];
  std::snprintf(b, sizeof b, "  x87: fcw=%04X fsw=%04X (top %u) non-empty=%02X\n", tc.fpu.fcw, tc.fpu.fsw,
                (tc.fpu.fsw >> 11) & 7, tc.fpu.valid);
  out << b;
  for (unsigned p = 0; p < 8; ++p) {
    if (tc.fpu.valid >> p & 1) out << "    R" << p << " = " << fp80_str(tc.fpu.st[p]) << '\n';
  }
}

struct FormStats {
  uint64_t done = 0, fault = 0, mism = 0;
};

}  // namespace

CpuCheckSummary cpu_check(const CpuCheckOptions& opt, std::ostream& out) {
  CpuCheckSummary sum;
  GenOptions gopt;
  gopt.max_units = opt.max_units;
  if (!opt.opcode.empty()) {
    gopt.opcode = parse_opcode(opt.opcode);
    if (gopt.opcode < 0) {
      sum.setup_error = "bad --opcode '" + opt.opcode + "' (one-byte hex like D8 or two-byte like 0FAF)";
      out << "cpu-check: " << sum.setup_error << '\n';
      return sum;
    }
  }
  const Generator gen(gopt);
  const std::vector<Form>& forms = gen.forms();
  std::unique_ptr<Checker> chk;
  try {
    chk = std::make_unique<Checker>();
  } catch (const std::exception& e) {
    sum.setup_error = e.what();
    out << "cpu-check: cannot set up: " << e.what() << '\n';
    return sum;
  }
  sum.setup_ok = true;
  for (const std::string& l : chk->child().foreign_low_mappings()) {
    out << "cpu-check: warning: the native child has a mapping below 4 GiB the guest could reach: " << l << '\n';
  }
  std::vector<bool> active(forms.size(), false);
  for (size_t i = 0; i < forms.size(); ++i) {
    active[i] = gopt.opcode < 0 || table_rows()[static_cast<size_t>(forms[i].row)].opcode == gopt.opcode;
  }
  if (std::find(active.begin(), active.end(), true) == active.end()) {
    sum.setup_ok = false;
    sum.setup_error = "no eligible form has opcode " + opt.opcode;
    out << "cpu-check: " << sum.setup_error << '\n';
    return sum;
  }

  out << "cpu-check: seed " << opt.seed << ", " << (opt.only_case >= 0 ? 1 : opt.cases) << " cases"
      << (opt.opcode.empty() ? "" : ", opcode " + opt.opcode) << ", " << forms.size()
      << " eligible forms\n";
  std::vector<FormStats> stats(forms.size());
  std::map<int, std::string> zydis_bad;  // form -> example bytes
  unsigned printed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t first = opt.only_case >= 0 ? static_cast<uint64_t>(opt.only_case) : opt.first_case;
  const uint64_t count = opt.only_case >= 0 ? 1 : opt.cases;
  for (uint64_t ci = first; ci < first + count; ++ci) {
    TestCase tc = gen.generate(opt.seed, ci);
    ++sum.cases;
    CaseResult res;
    const auto c0 = std::chrono::steady_clock::now();
    try {
      res = chk->run(tc, forms);
    } catch (const std::exception& e) {
      out << "cpu-check: case " << ci << ": " << e.what() << "; restarting the native child\n";
      chk = std::make_unique<Checker>();
      ++sum.skipped;
      ++sum.skipped_by_reason["native child failure"];
      continue;
    }
    for (int f : res.zydis_bad_forms) {
      if (!zydis_bad.count(f)) zydis_bad[f] = "";
    }
    sum.length_mismatches += res.length_diffs.size();
    if (!res.skip.empty()) {
      ++sum.skipped;
      ++sum.skipped_by_reason[res.skip];
      if (opt.verbose) out << "case " << ci << ": skipped (" << res.skip << ")\n";
      if (res.length_diffs.empty()) continue;
    } else {
      ++sum.compared;
      for (int f : res.done_forms) ++stats[static_cast<size_t>(f)].done;
      for (int f : res.fault_forms) ++stats[static_cast<size_t>(f)].fault;
    }
    const bool mism = !res.diffs.empty() || !res.length_diffs.empty();
    if (opt.verbose) {
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - c0).count();
      char tb[32];
      std::snprintf(tb, sizeof tb, " (%.2f ms)", ms);
      out << "case " << ci << ": " << tc.units.size() << " units, native " << res.native_what
          << ", interp " << res.interp_what << (mism ? "  MISMATCH" : "") << tb << '\n';
    }
    if (!mism) continue;
    ++sum.mismatches;
    // Shrink: drop units while some difference remains.
    TestCase small = tc;
    CaseResult small_res = res;
    if (opt.minimize && res.length_diffs.empty()) {
      for (int pass = 0; pass < 3 && small.units.size() > 1; ++pass) {
        bool changed = false;
        for (size_t k = small.units.size(); k-- > 0 && small.units.size() > 1;) {
          TestCase cand = without_unit(small, k);
          CaseResult r;
          try {
            r = chk->run(cand, forms);
          } catch (const std::exception&) {
            chk = std::make_unique<Checker>();
            continue;
          }
          if (r.skip.empty() && !r.diffs.empty()) {
            small = std::move(cand);
            small_res = std::move(r);
            changed = true;
          }
        }
        if (!changed) break;
      }
    }
    std::set<int> blamed;
    for (int f : small_res.done_forms) blamed.insert(f);
    for (int f : small_res.fault_forms) blamed.insert(f);
    if (blamed.empty()) {
      for (const Unit& u : small.units) blamed.insert(u.form);
    }
    for (int f : blamed) ++stats[static_cast<size_t>(f)].mism;
    if (printed < opt.max_mismatches) {
      ++printed;
      out << "MISMATCH seed=" << opt.seed << " case=" << ci;
      if (!opt.opcode.empty()) out << " opcode=" << opt.opcode;
      if (small.units.size() != tc.units.size()) {
        out << " (shrunk to " << small.units.size() << " of " << tc.units.size() << " units)";
      }
      out << "  [rerun: faultline cpu-check --seed " << opt.seed << " --case " << ci
          << (opt.opcode.empty() ? "" : " --opcode " + opt.opcode) << " --verbose]\n";
      print_case(out, small, opt.verbose);
      for (const std::string& s : small_res.length_diffs) out << "  " << s << '\n';
      for (const std::string& s : small_res.diffs) out << "  " << s << '\n';
    }
  }
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (opt.coverage_table) {
    out << "\ncoverage (compared cases; done = executed to completion, fault = raised the "
           "case's exception, mism = mismatching cases it ran in):\n";
    char b[160];
    std::snprintf(b, sizeof b, "  %-34s %9s %9s %6s\n", "form", "done", "fault", "mism");
    out << b;
    std::vector<size_t> order;
    for (size_t i = 0; i < forms.size(); ++i) {
      if (active[i]) order.push_back(i);
    }
    std::sort(order.begin(), order.end(), [&](size_t a, size_t c) { return forms[a].key < forms[c].key; });
    for (size_t i : order) {
      std::snprintf(b, sizeof b, "  %-34s %9llu %9llu %6llu\n", forms[i].key.c_str(),
                    static_cast<unsigned long long>(stats[i].done),
                    static_cast<unsigned long long>(stats[i].fault),
                    static_cast<unsigned long long>(stats[i].mism));
      out << b;
    }
  }
  for (size_t i = 0; i < forms.size(); ++i) {
    if (active[i] && stats[i].done + stats[i].fault == 0) sum.never_exercised.push_back(forms[i].key);
  }
  for (const auto& [f, ex] : zydis_bad) sum.zydis_undecodable.push_back(forms[static_cast<size_t>(f)].key);

  out << "\nexcluded by design (never generated):\n";
  for (const std::string& e : gen.exclusions()) out << "  " << e << '\n';
  out << "\nZydis cannot decode some generated encodings of (lengths not cross-checked there; not mismatches): ";
  if (sum.zydis_undecodable.empty()) out << "none";
  for (size_t i = 0; i < sum.zydis_undecodable.size(); ++i) out << (i ? ", " : "") << sum.zydis_undecodable[i];
  out << '\n';
  out << "\neligible forms never exercised: ";
  if (sum.never_exercised.empty()) out << "none";
  for (size_t i = 0; i < sum.never_exercised.size(); ++i) out << (i ? ", " : "") << sum.never_exercised[i];
  out << '\n';
  out << "\ntotals: " << sum.cases << " cases, " << sum.compared << " compared, " << sum.skipped
      << " skipped, " << sum.mismatches << " mismatching, " << sum.length_mismatches
      << " instruction-length mismatches\n";
  for (const auto& [why, n] : sum.skipped_by_reason) out << "  skipped: " << n << " x " << why << '\n';
  char b[96];
  std::snprintf(b, sizeof b, "time: %.2f s, %.0f cases/s\n", sum.seconds,
                sum.seconds > 0 ? static_cast<double>(sum.cases) / sum.seconds : 0.0);
  out << b;
  return sum;
}

int run_cpu_check(const CpuCheckOptions& opt, std::ostream& out) {
  const CpuCheckSummary s = cpu_check(opt, out);
  if (!s.setup_ok) return 2;
  return s.mismatches ? 1 : 0;
}

}  // namespace faultline::check
