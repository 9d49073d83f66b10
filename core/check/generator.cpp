// Random instruction sequences from the instruction table. See generator.h.
#include "core/check/generator.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "core/cpu_state.h"
#include "core/insn.h"

namespace faultline::check {

using namespace layout;

// ---- layout ---------------------------------------------------------------------

const std::array<GuestRegionDesc, 4>& guest_regions() {
  static const std::array<GuestRegionDesc, 4> r = {{
      {"code", kCode, kCodeSize, false, true},
      {"low", kLow, kLowSize, true, false},
      {"high", kHigh, kHighSize, true, false},
      {"stack", kStack, kStackSize, true, false},
  }};
  return r;
}

uint8_t* TestCase::mem_at(uint32_t addr, uint32_t len) {
  uint32_t base = 0;
  for (size_t i = 1; i < guest_regions().size(); ++i) {
    const GuestRegionDesc& g = guest_regions()[i];
    if (addr >= g.addr && uint64_t(addr) + len <= uint64_t(g.addr) + g.size) {
      return mem.data() + base + (addr - g.addr);
    }
    base += g.size;
  }
  return nullptr;
}

// ---- table rows ---------------------------------------------------------------------

const std::vector<TableRow>& table_rows() {
  static const std::vector<TableRow> rows = [] {
    std::vector<TableRow> v;
#define OP(opcode, h16, h32, decode, attr, uflags)                                          \
  v.push_back({static_cast<uint16_t>(opcode), -1, #h16, #h32, static_cast<uint16_t>(decode), \
               static_cast<uint16_t>(attr), static_cast<uint16_t>(uflags)});
#define GRP(opcode, reg, h16, h32, decode, attr, uflags)                                     \
  v.push_back({static_cast<uint16_t>(opcode), static_cast<int8_t>(reg), #h16, #h32,          \
               static_cast<uint16_t>(decode), static_cast<uint16_t>(attr),                   \
               static_cast<uint16_t>(uflags)});
#include "core/insn_table.def"
#undef OP
#undef GRP
    return v;
  }();
  return rows;
}

int parse_opcode(const std::string& in) {
  std::string s;
  for (char c : in) {
    if (!std::isspace(static_cast<unsigned char>(c))) s += static_cast<char>(std::toupper(c));
  }
  if (s.rfind("0X", 0) == 0) s = s.substr(2);
  if (s.empty() || s.size() > 4 || s.size() % 2) return -1;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return -1;
  }
  unsigned v = static_cast<unsigned>(std::stoul(s, nullptr, 16));
  if (s.size() == 2) return static_cast<int>(v);
  if ((v >> 8) != 0x0F) return -1;
  return static_cast<int>(0x100 | (v & 0xFF));
}

namespace {

bool starts(const char* s, const char* p) { return std::strncmp(s, p, std::strlen(p)) == 0; }

// ---- deterministic random numbers ------------------------------------------------

uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint32_t u32() { return static_cast<uint32_t>(next() >> 32); }
  uint32_t below(uint32_t n) { return n ? static_cast<uint32_t>((next() >> 32) % n) : 0; }
  // Probability in per mille.
  bool pm(unsigned per_mille) { return below(1000) < per_mille; }
  template <class T, size_t N> T pick(const T (&a)[N]) { return a[below(N)]; }
};

uint32_t interesting32(Rng& r) {
  static const uint32_t pool[] = {0,          1,          2,          3,          0x7F,
                                  0x80,       0xFF,       0x100,      0x7FFF,     0x8000,
                                  0xFFFF,     0x10000,    0x7FFFFFFF, 0x80000000, 0x80000001,
                                  0xFFFFFFFF, 0xFFFFFFFE, 0xFFFF8000, 0xFFFFFF80, 0x55555555,
                                  0xAAAAAAAA, 0x0000FF00, 0x00FF00FF, 0xFFFF0000, 0x40000000};
  switch (r.below(5)) {
    case 0:
    case 1: return r.pick(pool);
    case 2: return r.below(64);
    case 3: {
      uint32_t v = 0;
      for (int b = 0; b < 4; ++b) {
        uint32_t byte = r.below(3) == 0 ? 0 : r.below(2) == 0 ? 0xFF : r.below(256);
        v |= byte << (8 * b);
      }
      return v;
    }
    default: return r.u32();
  }
}

// ---- floating-point bit patterns ----------------------------------------------------

void put_le(uint8_t* p, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// 80-bit extended: sign, 15-bit exponent, 64-bit significand with explicit
// integer bit.
void fp80(Rng& r, uint8_t out[10]) {
  uint64_t mant = 0;
  uint32_t exp = 0;
  const unsigned c = r.below(100);
  if (c < 8) {  // zero
    mant = 0;
    exp = 0;
  } else if (c < 45) {  // normal near 1
    exp = 0x3FFF - 40 + r.below(80);
    mant = (1ull << 63) | (r.next() >> 1);
    if (r.pm(300)) mant &= ~((1ull << (20 + r.below(40))) - 1);  // short mantissa
  } else if (c < 58) {  // small integers
    uint32_t v = 1 + r.below(1000);
    int top = 31 - __builtin_clz(v);
    exp = 0x3FFF + top;
    mant = uint64_t(v) << (63 - top);
  } else if (c < 70) {  // any normal
    exp = 1 + r.below(0x7FFE);
    mant = (1ull << 63) | (r.next() >> 1);
  } else if (c < 77) {  // denormal
    exp = 0;
    mant = r.next() >> (1 + r.below(60));
    if (!mant) mant = 1;
  } else if (c < 83) {  // infinity
    exp = 0x7FFF;
    mant = 1ull << 63;
  } else if (c < 89) {  // QNaN
    exp = 0x7FFF;
    mant = (3ull << 62) | (r.pm(500) ? 0 : (r.next() >> 2));
  } else if (c < 93) {  // SNaN
    exp = 0x7FFF;
    mant = (1ull << 63) | ((r.next() >> 2) | 1);
  } else if (c < 96) {  // near the int32/int64 limits (FIST)
    exp = 0x3FFF + (r.pm(500) ? 31 : 63) - r.below(2);
    mant = (1ull << 63) | (r.pm(500) ? 0 : (r.next() >> 40));
  } else if (c < 98) {  // near the range limits
    exp = r.pm(500) ? 0x7FFE - r.below(4) : 1 + r.below(4);
    mant = (1ull << 63) | (r.next() >> 1);
  } else {  // unsupported encodings: unnormal, pseudo-NaN/infinity, pseudo-denormal
    switch (r.below(3)) {
      case 0: exp = 1 + r.below(0x7FFE); mant = r.next() >> 1; break;
      case 1: exp = 0x7FFF; mant = r.next() >> 1; break;
      default: exp = 0; mant = (1ull << 63) | (r.next() >> 1); break;
    }
  }
  const uint32_t sign = r.below(2);
  put_le(out, mant, 8);
  put_le(out + 8, (sign << 15) | exp, 2);
}

// IEEE single/double patterns.
uint64_t fp_ieee(Rng& r, unsigned ebits, unsigned mbits) {
  const uint64_t emax = (1ull << ebits) - 1, bias = emax >> 1;
  const uint64_t mmask = (1ull << mbits) - 1;
  uint64_t e = 0, m = 0;
  const unsigned c = r.below(100);
  if (c < 8) {
    e = 0, m = 0;
  } else if (c < 50) {
    e = bias - 20 + r.below(40);
    m = r.next() & mmask;
    if (r.pm(300)) m &= ~((1ull << r.below(static_cast<uint32_t>(mbits))) - 1);
  } else if (c < 62) {
    uint32_t v = 1 + r.below(1000);
    int top = 31 - __builtin_clz(v);
    e = bias + top;
    m = (uint64_t(v) << (mbits - top)) & mmask;
  } else if (c < 74) {
    e = 1 + r.below(static_cast<uint32_t>(emax - 1));
    m = r.next() & mmask;
  } else if (c < 82) {
    e = 0;
    m = (r.next() & mmask) >> r.below(static_cast<uint32_t>(mbits));
    if (!m) m = 1;
  } else if (c < 88) {
    e = emax, m = 0;
  } else if (c < 94) {
    e = emax;
    m = (1ull << (mbits - 1)) | (r.pm(500) ? 0 : (r.next() & (mmask >> 1)));
  } else {
    e = emax;
    m = ((r.next() & (mmask >> 1)) | 1);
  }
  return (uint64_t(r.below(2)) << (ebits + mbits)) | (e << mbits) | m;
}

uint64_t int_pattern(Rng& r, unsigned bytes) {
  const unsigned bits = bytes * 8;
  const uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
  switch (r.below(6)) {
    case 0: return 0;
    case 1: return (1ull << (bits - 1)) & mask;        // most negative
    case 2: return ((1ull << (bits - 1)) - 1) & mask;  // most positive
    case 3: return (uint64_t(0) - (1 + r.below(100))) & mask;
    case 4: return r.below(1000);
    default: return r.next() & mask;
  }
}

void bcd(Rng& r, uint8_t out[10]) {
  unsigned digits = r.pm(300) ? 18 : 1 + r.below(18);
  std::memset(out, 0, 10);
  for (unsigned d = 0; d < digits; ++d) {
    unsigned v = d + 1 == digits && r.pm(100) ? 9 : r.below(10);
    out[d / 2] |= static_cast<uint8_t>(v << (4 * (d & 1)));
  }
  out[9] = r.below(2) ? 0x80 : 0x00;
}

uint16_t control_word(Rng& r) {
  uint16_t masks = r.pm(850) ? 0x3F : static_cast<uint16_t>(r.below(64));
  static const uint16_t pcs[] = {3, 3, 2, 0};
  uint16_t pc = r.pick(pcs);
  uint16_t rc = static_cast<uint16_t>(r.below(4));
  return static_cast<uint16_t>(0x40 | masks | (pc << 8) | (rc << 10));
}

// ---- memory targets -------------------------------------------------------------------

uint32_t pick_target(Rng& r, bool addr16) {
  auto in_region = [&](uint32_t base, uint32_t size) -> uint32_t {
    unsigned c = r.below(100);
    if (c < 10) return base + size - 1 - r.below(16);  // crosses into what follows
    if (c < 15) return base + r.below(16);
    if (c < 22) return base + ((1 + r.below(size / 0x1000 - 1 + 1)) * 0x1000) - 1 - r.below(8);
    return base + r.below(size);
  };
  if (addr16) {
    if (r.pm(850)) return in_region(kLow, kLowSize);
    switch (r.below(5)) {
      case 0: return kCode + r.below(kCodeSize);
      case 1: return 0x1000 + r.below(kLow - 0x1000);
      case 2: return kLow + kLowSize + r.below(kCode - kLow - kLowSize);
      case 3: return r.below(0x1000);
      default: return r.pm(200) ? 0xFFF0 + r.below(16) : kLow + kLowSize - 8 + r.below(8);
    }
  }
  if (r.pm(880)) {
    switch (r.below(20)) {
      case 0: case 1: case 2: case 3: case 4: case 5: case 6:
        return in_region(kLow, kLowSize);
      case 7: case 8: case 9: case 10: case 11: case 12: case 13: case 14:
        return in_region(kHigh, kHighSize);
      default: return in_region(kStack, kStackSize);
    }
  }
  switch (r.below(9)) {
    case 0: return kCode + r.below(kCodeSize);
    case 1: return 0x1000 + r.below(kLow - 0x1000);
    case 2: return 0x10000 + r.below(0x10000);
    case 3: return kHigh + kHighSize + r.below(64);
    case 4: return kHigh - 1 - r.below(64);
    case 5: return kStack + kStackSize + r.below(64);
    case 6: return 0xFFFFF000u + r.below(0xFF0);
    case 7: return kLow - 1 - r.below(32);
    default: return r.u32();
  }
}

// A branch target outside everything mapped (also after truncation to 16 bits).
uint32_t wild_address(Rng& r) {
  switch (r.below(4)) {
    case 0: return kCode + kCodeSize + r.below(0x1000);
    case 1: return kCode - 1 - r.below(0x2000);
    case 2: return 0x00010000u + r.below(0x1000);
    default: return 0x50000000u + r.u32() % 0x10000000u;
  }
}

// ---- unit builder --------------------------------------------------------------------------

enum RegMask : uint8_t {
  M_EAX = 1, M_ECX = 2, M_EDX = 4, M_EBX = 8, M_ESP = 16, M_EBP = 32, M_ESI = 64, M_EDI = 128
};

struct Builder {
  Rng& r;
  TestCase& tc;
  Unit u;
  std::vector<uint8_t> m;  // the main instruction being built

  void setup(std::initializer_list<uint8_t> bytes) {
    u.bytes.insert(u.bytes.end(), bytes.begin(), bytes.end());
    u.lens.push_back(static_cast<uint8_t>(bytes.size()));
  }
  void mov32(unsigned reg, uint32_t v) {
    setup({static_cast<uint8_t>(0xB8 + reg), static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8),
           static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 24)});
  }
  // A 16-bit value into a register: either `66 MOV r16` or a 32-bit MOV with
  // random upper bits (which 16-bit users must ignore).
  void mov16(unsigned reg, uint16_t v) {
    if (r.pm(500)) {
      setup({0x66, static_cast<uint8_t>(0xB8 + reg), static_cast<uint8_t>(v),
             static_cast<uint8_t>(v >> 8)});
    } else {
      mov32(reg, (r.u32() & 0xFFFF0000u) | v);
    }
  }
  void mov8(unsigned reg8, uint8_t v) { setup({static_cast<uint8_t>(0xB0 + reg8), v}); }
  // MOV r32, <address of a unit> with a patch.
  void mov32_target(unsigned reg) {
    Patch p;
    p.kind = Patch::AbsImm;
    p.size = 4;
    p.pos = static_cast<uint32_t>(u.bytes.size() + 1);
    u.patches.push_back(p);
    mov32(reg, 0);
  }
  void push_target(bool op16) {
    Patch p;
    p.kind = Patch::AbsImm;
    if (op16) {
      p.size = 2;
      p.pos = static_cast<uint32_t>(u.bytes.size() + 2);
      setup({0x66, 0x68, 0, 0});
    } else {
      p.size = 4;
      p.pos = static_cast<uint32_t>(u.bytes.size() + 1);
      setup({0x68, 0, 0, 0, 0});
    }
    u.patches.push_back(p);
  }
  void imm(uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) m.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void write_mem(uint32_t addr, const uint8_t* p, unsigned n) {
    if (uint8_t* d = tc.mem_at(addr, n)) std::memcpy(d, p, n);
  }
  void write_mem_le(uint32_t addr, uint64_t v, unsigned n) {
    uint8_t b[8];
    put_le(b, v, n);
    write_mem(addr, b, n);
  }

  // Encodes a memory ModRM operand (mod != 3) with `reg_field`; appends
  // ModRM/SIB/displacement to m and emits setup MOVs for the registers it
  // uses, avoiding registers in `avoid` (they hold operands set up before).
  // Returns true and the effective address if it is known.
  bool mem_operand(bool ad32, unsigned reg_field, uint8_t avoid, uint32_t& ea, bool locked) {
    const bool do_setup = r.pm(880);
    uint32_t t = pick_target(r, !ad32);
    // A locked access split across cache lines takes a bus lock, which the
    // host kernel throttles (10 ms and a global semaphore per bus lock):
    // keep locked operands inside one line unless the next line is unmapped.
    if (locked && (t & 63) > 56 && tc.mem_at(t, 8)) t &= ~7u;
    for (int attempt = 0;; ++attempt) {
      unsigned mod = r.below(3);
      unsigned rm = r.below(8);
      if (ad32) {
        unsigned scale = 0, index = 4, base = rm;
        bool has_base = true, has_index = false;
        if (rm == 4) {
          scale = r.below(4);
          index = r.below(8);
          base = r.below(8);
          has_index = index != 4;
          has_base = !(mod == 0 && base == 5);
        } else if (rm == 5 && mod == 0) {
          has_base = false;
        }
        uint8_t used = static_cast<uint8_t>((has_base ? 1u << base : 0) | (has_index ? 1u << index : 0));
        if ((used & avoid) && attempt < 20) continue;
        m.push_back(static_cast<uint8_t>((mod << 6) | (reg_field << 3) | rm));
        if (rm == 4) m.push_back(static_cast<uint8_t>((scale << 6) | (index << 3) | base));
        const bool disp32 = mod == 2 || !has_base;
        const unsigned dn = disp32 ? 4 : mod == 1 ? 1 : 0;
        uint32_t disp = mod == 1 ? static_cast<uint32_t>(static_cast<int8_t>(r.u32()))
                        : r.pm(600)  ? static_cast<uint32_t>(static_cast<int32_t>(r.below(1024)) - 512)
                                     : r.u32();
        if (dn == 0) disp = 0;
        if (!has_base && !has_index) {
          disp = t;
          ea = t;
          imm(disp, 4);
          return true;
        }
        if (!do_setup) {
          imm(disp, dn);
          return false;
        }
        if (has_base && has_index && base == index) {
          uint32_t k = (1u << scale) + 1;
          uint32_t v = (t - disp) / k;
          mov32(base, v);
          ea = v * k + disp;
        } else {
          uint32_t iv = 0;
          if (has_index) {
            iv = r.pm(700) ? r.below(64) : static_cast<uint32_t>(-static_cast<int32_t>(r.below(64)));
            mov32(index, iv);
          }
          if (has_base) {
            mov32(base, t - disp - (iv << scale));
          } else {
            disp = t - (iv << scale);
          }
          ea = t;
        }
        imm(disp, dn);
        return true;
      }
      // 16-bit addressing.
      static const int8_t b16[8] = {EBX, EBX, EBP, EBP, -1, -1, EBP, EBX};
      static const int8_t i16[8] = {ESI, EDI, ESI, EDI, ESI, EDI, -1, -1};
      const bool absolute = mod == 0 && rm == 6;
      int base = absolute ? -1 : b16[rm];
      int index = absolute ? -1 : i16[rm];
      uint8_t used = static_cast<uint8_t>((base >= 0 ? 1u << base : 0) | (index >= 0 ? 1u << index : 0));
      if ((used & avoid) && attempt < 20) continue;
      m.push_back(static_cast<uint8_t>((mod << 6) | (reg_field << 3) | rm));
      uint16_t disp = mod == 1 ? static_cast<uint16_t>(static_cast<int8_t>(r.u32()))
                               : static_cast<uint16_t>(r.pm(500) ? r.below(512) - 256 : r.u32());
      if (absolute) {
        ea = t & 0xFFFF;
        imm(ea, 2);
        return true;
      }
      const unsigned dn = mod == 1 ? 1 : mod == 2 ? 2 : 0;
      if (!do_setup) {
        imm(disp, dn);
        return false;
      }
      const uint16_t want = static_cast<uint16_t>(t - (dn ? disp : 0));
      if (base >= 0 && index >= 0) {
        uint16_t iv = static_cast<uint16_t>(r.pm(600) ? r.below(256) : r.u32());
        mov16(static_cast<unsigned>(index), iv);
        mov16(static_cast<unsigned>(base), static_cast<uint16_t>(want - iv));
      } else {
        mov16(static_cast<unsigned>(base >= 0 ? base : index), want);
      }
      ea = t & 0xFFFF;
      imm(disp, dn);
      return true;
    }
  }
};

// The x87 memory operand type of a memory form, for placing a value.
enum class FpMem { None, F32, F64, F80, I16, I32, I64, Bcd, Env, Cw, Image };

FpMem fpu_mem_kind(uint16_t opcode, unsigned reg) {
  switch (opcode) {
    case 0xD8: return FpMem::F32;
    case 0xD9: return reg == 0 ? FpMem::F32 : reg == 4 ? FpMem::Env : reg == 5 ? FpMem::Cw : FpMem::None;
    case 0xDA: return FpMem::I32;
    case 0xDB: return reg == 0 ? FpMem::I32 : reg == 5 ? FpMem::F80 : FpMem::None;
    case 0xDC: return FpMem::F64;
    case 0xDD: return reg == 0 ? FpMem::F64 : reg == 4 ? FpMem::Image : FpMem::None;
    case 0xDE: return FpMem::I16;
    case 0xDF:
      return reg == 0 ? FpMem::I16 : reg == 4 ? FpMem::Bcd : reg == 5 ? FpMem::I64 : FpMem::None;
    default: return FpMem::None;
  }
}

void place_fp(Builder& b, FpMem kind, uint32_t addr, bool op16) {
  Rng& r = b.r;
  uint8_t buf[108] = {};
  unsigned n = 0;
  switch (kind) {
    case FpMem::None: return;
    case FpMem::F32: put_le(buf, fp_ieee(r, 8, 23), 4); n = 4; break;
    case FpMem::F64: put_le(buf, fp_ieee(r, 11, 52), 8); n = 8; break;
    case FpMem::F80: fp80(r, buf); n = 10; break;
    case FpMem::I16: put_le(buf, int_pattern(r, 2), 2); n = 2; break;
    case FpMem::I32: put_le(buf, int_pattern(r, 4), 4); n = 4; break;
    case FpMem::I64: put_le(buf, int_pattern(r, 8), 8); n = 8; break;
    case FpMem::Bcd: bcd(r, buf); n = 10; break;
    case FpMem::Cw: put_le(buf, r.pm(800) ? control_word(r) : r.u32(), 2); n = 2; break;
    case FpMem::Env:
    case FpMem::Image: {
      // FLDENV / FRSTOR image: control, status, tag words then pointers (and
      // the registers for FRSTOR). 16-bit format with 66.
      const unsigned w = op16 ? 2 : 4;
      for (unsigned i = 0; i < 108; ++i) buf[i] = static_cast<uint8_t>(r.u32());
      uint16_t top = static_cast<uint16_t>(r.below(8));
      uint16_t cw = control_word(r);
      uint16_t sw = static_cast<uint16_t>((top << 11) | (r.u32() & 0x4700));
      if (r.pm(200)) sw |= static_cast<uint16_t>(r.below(64) & (cw & 0x3F));  // masked flags only
      uint16_t tw = static_cast<uint16_t>(r.u32());
      put_le(buf, cw, 2);
      put_le(buf + w, sw, 2);
      put_le(buf + 2 * w, tw, 2);
      n = op16 ? 14 : 28;
      if (kind == FpMem::Image) {
        for (unsigned i = 0; i < 8; ++i) fp80(r, buf + n + 10 * i);
        n += 80;
      }
      break;
    }
  }
  b.write_mem(addr, buf, n);
}

}  // namespace

// ---- the generator -------------------------------------------------------------------------

Generator::Generator(const GenOptions& opt) : opt_(opt) {
  const auto& rows = table_rows();
  auto hex = [](uint16_t op) {
    char b[8];
    if (op >= 0x100) std::snprintf(b, sizeof b, "0F %02X", op & 0xFF);
    else std::snprintf(b, sizeof b, "%02X", op);
    return std::string(b);
  };
  auto base_key = [&](const TableRow& row) {
    std::string k = hex(row.opcode);
    if (row.reg >= 0) k += " /" + std::to_string(row.reg);
    return k;
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const TableRow& row = rows[i];
    const uint16_t bad = A_PRIV | A_IO | A_SYS | A_SEGLOAD | A_NOCHECK;
    if (row.attr & bad) {
      std::string why;
      if (row.attr & A_PRIV) why += " A_PRIV";
      if (row.attr & A_IO) why += " A_IO";
      if (row.attr & A_SYS) why += " A_SYS";
      if (row.attr & A_SEGLOAD) why += " A_SEGLOAD";
      if (row.attr & A_NOCHECK) why += " A_NOCHECK";
      std::string names = row.name32;
      if (std::strcmp(row.name16, row.name32)) names = std::string(row.name16) + "/" + row.name32;
      exclusions_.push_back(base_key(row) + " " + names + ":" + why);
      continue;
    }
    const bool fpu_rows = (row.attr & A_FPU) && (row.decode & D_MODRM);
    if (fpu_rows) {
      for (int mem = 1; mem >= 0; --mem) {
        for (unsigned reg = 0; reg < 8; ++reg) {
          std::string k = hex(row.opcode) + " /" + std::to_string(reg) + (mem ? " m " : " r ") +
                          row.name32;
          if (mem && reg == 1 && (row.opcode == 0xDB || row.opcode == 0xDD || row.opcode == 0xDF)) {
            exclusions_.push_back(k + ": FISTTP (SSE3) on the host, #UD on an i686");
            continue;
          }
          Form f;
          f.row = static_cast<int>(i);
          f.fpu = true;
          f.fpu_mem = mem;
          f.fpu_reg = static_cast<uint8_t>(reg);
          f.key = k;
          forms_.push_back(f);
        }
      }
      continue;
    }
    if (std::strcmp(row.name16, row.name32) != 0) {
      for (int op32 = 0; op32 < 2; ++op32) {
        std::string k = base_key(row) + " " + (op32 ? row.name32 : row.name16);
        if (!op32 && starts(row.name32, "BSWAP")) {
          exclusions_.push_back(k + ": BSWAP with a 16-bit operand is undefined");
          continue;
        }
        Form f;
        f.row = static_cast<int>(i);
        f.op32 = op32;
        f.key = k;
        forms_.push_back(f);
      }
    } else {
      Form f;
      f.row = static_cast<int>(i);
      f.op32 = 2;
      f.key = base_key(row) + " " + row.name32;
      forms_.push_back(f);
    }
  }
  exclusions_.push_back("F2/F3 prefixes on non-string instructions: not generated (the host "
                        "decodes e.g. F3 0F BC/BD as TZCNT/LZCNT, F3 90 as PAUSE)");
  exclusions_.push_back("SHLD/SHRD with 16-bit operands and count > 16: result undefined, not "
                        "generated (runtime-skipped if reached)");
  exclusions_.push_back("FS/GS segment overrides: not generated (host FS/GS bases belong to "
                        "the 64-bit process)");
  exclusions_.push_back("EFLAGS TF/AC/NT/IOPL never set; CR0.AM alignment checks not exercised");
  exclusions_.push_back("BOUND with a register operand: an EVEX prefix on AVX-512 hosts (its #UD is "
                        "covered by tests/core)");
  exclusions_.push_back("FBLD of invalid BCD digits: result undefined (runtime-skipped)");
  for (size_t i = 0; i < forms_.size(); ++i) {
    if (opt_.opcode < 0 || rows[forms_[i].row].opcode == opt_.opcode) {
      active_.push_back(static_cast<int>(i));
    }
  }
}

TestCase Generator::generate(uint64_t seed, uint64_t index) const {
  TestCase tc;
  tc.seed = seed;
  tc.index = index;
  Rng r(mix64(seed) ^ mix64(index * 0xD1B54A32D192ED03ull + 0x1234567));

  // Registers and flags.
  for (unsigned i = 0; i < 8; ++i) tc.gpr[i] = interesting32(r);
  {
    uint32_t sp = kStack + 0x1000 + (r.below(128) - 64) * 4;
    if (r.pm(100)) sp += 1 + r.below(3);
    if (r.pm(40)) sp = r.pm(500) ? kStack + r.below(16) : kStack + kStackSize - r.below(16);
    tc.gpr[ESP] = sp;
    if (r.pm(500)) tc.gpr[EBP] = kStack + 0x800 + r.below(0x1000);
  }
  tc.eflags = 0x202 | (r.u32() & (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF));
  if (r.pm(300)) tc.eflags |= FLAG_DF;

  // x87.
  {
    FpuInit& f = tc.fpu;
    f.fcw = control_word(r);
    const uint16_t top = static_cast<uint16_t>(r.below(8));
    f.fsw = static_cast<uint16_t>((top << 11) | (r.u32() & 0x4700));
    if (r.pm(200)) f.fsw |= static_cast<uint16_t>(r.below(64) & (f.fcw & 0x3F));
    unsigned c = r.below(10);
    f.valid = c == 0 ? 0 : c == 1 ? 0xFF : static_cast<uint8_t>(r.u32());
    for (unsigned i = 0; i < 8; ++i) fp80(r, f.st[i]);
  }

  // Memory: random bytes with interesting values sprinkled in.
  tc.mem.resize(kDataBytes);
  for (size_t i = 0; i < tc.mem.size(); i += 8) put_le(&tc.mem[i], r.next(), 8);
  for (int k = 0; k < 256; ++k) {
    uint8_t* p = &tc.mem[r.below(kDataBytes - 16)];
    switch (r.below(6)) {
      case 0: put_le(p, interesting32(r), 4); break;
      case 1: put_le(p, fp_ieee(r, 8, 23), 4); break;
      case 2: put_le(p, fp_ieee(r, 11, 52), 8); break;
      case 3: fp80(r, p); break;
      case 4: put_le(p, 0, 8); break;
      default: put_le(p, int_pattern(r, 8), 8); break;
    }
  }

  // Units.
  unsigned n;
  {
    unsigned c = r.below(100);
    unsigned mx = std::max(1u, opt_.max_units);
    n = c < 35 ? 1 : c < 70 ? 2 + r.below(3) : 5 + r.below(mx > 5 ? mx - 4 : 1);
    n = std::min(n, mx);
  }
  const auto& rows = table_rows();
  for (unsigned k = 0; k < n && !active_.empty(); ++k) {
    const int fi = active_[r.below(static_cast<uint32_t>(active_.size()))];
    const Form& form = forms_[fi];
    const TableRow& row = rows[form.row];
    const char* name = row.name32;
    Builder b{r, tc, {}, {}};
    b.u.form = fi;

    const bool op32 = form.op32 == 2 ? !r.pm(form.fpu ? 250 : 100) : form.op32 == 1;
    const bool has_modrm = (row.decode & D_MODRM) != 0;
    bool is_mem = false;
    unsigned reg = 0, rm = 0;
    if (has_modrm) {
      if (form.fpu) {
        is_mem = form.fpu_mem;
        reg = form.fpu_reg;
      } else {
        unsigned p3 = (starts(name, "LEA") || starts(name, "BOUND") || starts(name, "CMPXCHG8B"))
                          ? 60 : 350;
        is_mem = !r.pm(p3);
        // 62 with a register operand is an EVEX prefix on AVX-512 hosts, not
        // BOUND's #UD: only the memory form can be compared natively.
        if (starts(name, "BOUND")) is_mem = true;
        reg = row.reg >= 0 ? static_cast<unsigned>(row.reg) : r.below(8);
      }
      if (!is_mem) rm = r.below(8);
    }
    const bool string_op = (row.attr & A_STRING) != 0;
    const bool xlat = starts(name, "XLAT");
    const bool moffs = (row.decode & D_MOFFS) != 0;
    const bool loopish = row.opcode >= 0xE0 && row.opcode <= 0xE3;
    const bool uses_addr = is_mem || string_op || xlat || moffs || loopish;
    const bool ad32 = !r.pm(uses_addr ? 300 : 20);

    // Prefixes.
    std::vector<uint8_t> pfx;
    if (!op32) pfx.push_back(0x66);
    if (!ad32) pfx.push_back(0x67);
    if (r.pm(is_mem || string_op || xlat || moffs ? 250 : 20)) {
      static const uint8_t segs[] = {0x26, 0x2E, 0x36, 0x3E};
      pfx.push_back(r.pick(segs));
    }
    if (string_op && r.pm(600)) pfx.push_back(r.pm(700) ? 0xF3 : 0xF2);
    const bool lockable = (row.attr & A_LOCK) != 0;
    if (r.pm(lockable ? (is_mem ? 350 : 20) : 5)) pfx.push_back(0xF0);
    for (size_t i = pfx.size(); i > 1; --i) std::swap(pfx[i - 1], pfx[r.below(static_cast<uint32_t>(i))]);
    const bool rep = std::find(pfx.begin(), pfx.end(), 0xF3) != pfx.end() ||
                     std::find(pfx.begin(), pfx.end(), 0xF2) != pfx.end();

    // Operand setup that must precede the address setup.
    uint8_t avoid = 0;
    const bool shld16 = !op32 && (starts(name, "SHLD") || starts(name, "SHRD"));
    const bool cl_count = (row.attr & A_SHIFT) && std::strstr(name, "CL") != nullptr;
    if (cl_count) {
      static const uint8_t counts[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 255};
      if (shld16) {
        b.mov8(1, static_cast<uint8_t>(r.below(17) + 32 * r.below(8)));
        avoid |= M_ECX;
      } else if (r.pm(600)) {
        b.mov8(1, r.pick(counts));
        avoid |= M_ECX;
      }
    }
    const bool div = starts(name, "DIV") || starts(name, "IDIV");
    if (div && r.pm(600)) {
      const bool sgn = name[0] == 'I';
      const bool byte = std::strstr(name, "ALEb") != nullptr;
      uint32_t a = interesting32(r);
      if (byte) {
        uint32_t v = sgn ? static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(a))) : (a & 0xFF);
        b.mov32(EAX, (a & 0xFFFF0000u) | (v & 0xFFFF));
        avoid |= M_EAX;
      } else {
        uint32_t hi = 0;
        if (sgn) hi = (op32 ? (a >> 31) : ((a >> 15) & 1)) ? 0xFFFFFFFFu : 0;
        b.mov32(EAX, a);
        b.mov32(EDX, op32 ? hi : ((r.u32() & 0xFFFF0000u) | (hi & 0xFFFF)));
        avoid |= M_EAX | M_EDX;
      }
    }
    const bool bt_reg = starts(name, "BT") && !std::strstr(name, "Ib") && has_modrm;
    if (bt_reg && is_mem && r.pm(600)) {
      b.mov32(reg, static_cast<uint32_t>(static_cast<int32_t>(r.below(320)) - 64));
      avoid |= static_cast<uint8_t>(1u << reg);
    }
    uint32_t bound_val = 0;
    const bool bound = starts(name, "BOUND");
    if (bound && r.pm(700)) {
      bound_val = interesting32(r);
      if (op32) b.mov32(reg, bound_val);
      else b.mov16(reg, static_cast<uint16_t>(bound_val));
      avoid |= static_cast<uint8_t>(1u << reg);
    }
    const bool cmpxchg = starts(name, "CMPXCHG_");
    const bool cmpxchg8b = starts(name, "CMPXCHG8B");
    uint64_t cx_val = 0;
    bool cx_equal = false;
    if ((cmpxchg || cmpxchg8b) && r.pm(500)) {
      cx_equal = true;
      cx_val = (uint64_t(interesting32(r)) << 32) | interesting32(r);
      b.mov32(EAX, static_cast<uint32_t>(cx_val));
      avoid |= M_EAX;
      if (cmpxchg8b) {
        b.mov32(EDX, static_cast<uint32_t>(cx_val >> 32));
        avoid |= M_EDX;
      } else if (!is_mem && rm != EAX && rm != ESP) {
        b.mov32(rm, static_cast<uint32_t>(cx_val));
        avoid |= static_cast<uint8_t>(1u << rm);
      }
    }
    const bool enter = starts(name, "ENTER");
    const bool leave = starts(name, "LEAVE");
    if ((enter && r.pm(700)) || (leave && r.pm(800))) {
      b.mov32(EBP, pick_target(r, false) & ~(r.pm(800) ? 3u : 0u));
    }
    if (xlat && r.pm(900)) {
      uint32_t t = pick_target(r, !ad32);
      if (ad32) b.mov32(EBX, t - r.below(256));
      else b.mov16(EBX, static_cast<uint16_t>(t - r.below(256)));
    }
    if (string_op) {
      auto set = [&](unsigned reg_, uint32_t v) {
        if (ad32) b.mov32(reg_, v);
        else b.mov16(reg_, static_cast<uint16_t>(v));
      };
      if (r.pm(900)) set(ESI, pick_target(r, !ad32));
      if (r.pm(900)) set(EDI, pick_target(r, !ad32));
      if (rep && r.pm(900)) {
        unsigned c = r.below(100);
        uint32_t cnt = c < 10 ? 0 : c < 50 ? 1 + r.below(8) : c < 80 ? 9 + r.below(56)
                     : c < 95 ? 65 + r.below(600) : (r.pm(500) ? 0xFFFFFFFFu : 0x10000u + r.below(16));
        set(ECX, cnt);
      }
    }
    if (loopish && r.pm(500)) {
      uint32_t cnt = r.below(4);
      if (ad32) b.mov32(ECX, cnt | (r.pm(300) ? r.u32() & 0xFFFF0000u : 0));
      else b.mov16(ECX, static_cast<uint16_t>(cnt));
    }
    // Near returns: push the target first.
    const bool branch = (row.attr & A_BRANCH) != 0;
    const bool near_ret = branch && !has_modrm && (row.decode == 0 || row.decode == D_IMM16);
    const bool rel_branch = branch && !has_modrm && (row.decode & (D_IMM8 | D_IMMZ));
    const bool indirect = branch && has_modrm;
    const bool wild = branch && r.pm(30);
    if (near_ret) {
      if (!wild) {  // wild: return to whatever the stack holds
        bool op16push = op32 ? r.pm(50) : !r.pm(50);
        b.push_target(op16push);
      }
    }
    if (indirect && !is_mem) {
      if (wild) b.mov32(rm, wild_address(r));
      else b.mov32_target(rm);
      avoid |= static_cast<uint8_t>(1u << rm);
    }

    // The main instruction.
    b.m = pfx;
    if (row.opcode >= 0x100) b.m.push_back(0x0F);
    b.m.push_back(static_cast<uint8_t>(row.opcode));
    uint32_t ea = 0;
    bool ea_known = false;
    if (has_modrm) {
      if (is_mem) {
        const bool locked = std::find(pfx.begin(), pfx.end(), 0xF0) != pfx.end() ||
                            row.opcode == 0x86 || row.opcode == 0x87;
        ea_known = b.mem_operand(ad32, reg, avoid, ea, locked);
        if (ea_known && !ad32) ea &= 0xFFFF;
      } else {
        b.m.push_back(static_cast<uint8_t>(0xC0 | (reg << 3) | rm));
      }
    }
    // Immediates.
    if (moffs) {
      uint32_t t = pick_target(r, !ad32);
      b.imm(t, ad32 ? 4 : 2);
    }
    if (rel_branch) {
      Patch p;
      p.kind = Patch::Rel;
      p.size = (row.decode & D_IMM8) ? 1 : (op32 ? 4 : 2);
      p.pos = static_cast<uint32_t>(b.u.bytes.size() + b.m.size());
      if (wild && p.size > 1) {
        p.wild = true;
        p.wild_value = r.pm(500) ? kCodeSize + r.below(0x1000) : static_cast<uint32_t>(-0x1000 - static_cast<int32_t>(r.below(0x1000)));
      }
      b.u.patches.push_back(p);
      b.imm(0, p.size);
    } else if (row.decode & D_IMM8) {
      uint8_t v;
      if (row.attr & A_SHIFT) {
        static const uint8_t counts[] = {0, 1, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 255};
        v = shld16 ? static_cast<uint8_t>(r.below(17) + 32 * r.below(8)) : r.pick(counts);
        if (r.pm(150) && !shld16) v = static_cast<uint8_t>(r.u32());
      } else if (starts(name, "AAM") || starts(name, "AAD")) {
        v = r.pm(50) ? 0 : r.pm(600) ? 10 : static_cast<uint8_t>(r.u32());
      } else if (starts(name, "BT")) {
        v = static_cast<uint8_t>(r.pm(700) ? r.below(40) : r.u32());
      } else {
        v = static_cast<uint8_t>(interesting32(r));
      }
      b.imm(v, 1);
    }
    if (row.decode & D_IMMZ && !rel_branch) b.imm(interesting32(r), op32 ? 4 : 2);
    if (row.decode & D_IMM16) {
      uint32_t v = enter ? (r.pm(800) ? r.below(17) * 4 : r.u32())
                         : (r.pm(800) ? r.below(9) * 2 : r.u32());
      b.imm(v, 2);
    }
    if (row.decode & D_IMM8_2) {
      unsigned c = r.below(100);
      b.imm(c < 50 ? 0 : c < 75 ? 1 : c < 95 ? 2 + r.below(4) : r.below(256), 1);
    }
    // Memory contents the main instruction reads.
    if (ea_known) {
      if (form.fpu && is_mem && r.pm(750)) place_fp(b, fpu_mem_kind(row.opcode, reg), ea, !op32);
      if (indirect && is_mem) {
        if (wild) {
          b.write_mem_le(ea, wild_address(r), op32 ? 4 : 2);
        } else {
          Patch p;
          p.kind = Patch::AbsMem;
          p.size = op32 ? 4 : 2;
          p.pos = ea;
          b.u.patches.push_back(p);
        }
      }
      if (bound && bound_val) {
        const unsigned w = op32 ? 4 : 2;
        int64_t v = op32 ? static_cast<int32_t>(bound_val) : static_cast<int16_t>(bound_val);
        int64_t lo = v - r.below(4), hi = v + r.below(4);
        if (r.pm(300)) std::swap(lo, hi);
        if (r.pm(150)) lo = v + 1;
        b.write_mem_le(ea, static_cast<uint64_t>(lo), w);
        b.write_mem_le(ea + w, static_cast<uint64_t>(hi), w);
      }
      if (cx_equal) {
        const bool byte = std::strstr(name, "EbGb") != nullptr;
        b.write_mem_le(ea, cx_val, cmpxchg8b ? 8 : byte ? 1 : op32 ? 4 : 2);
      }
    }
    if (b.m.size() > 15) {
      // Too many prefixes with a long operand: drop the optional ones.
      size_t extra = b.m.size() - 15;
      size_t removed = 0;
      for (size_t i = 0; i < b.m.size() && removed < extra;) {
        uint8_t p = b.m[i];
        if (i < pfx.size() - removed && (p == 0x26 || p == 0x2E || p == 0x36 || p == 0x3E || p == 0xF0)) {
          b.m.erase(b.m.begin() + static_cast<long>(i));
          ++removed;
          for (Patch& pt : b.u.patches) {
            if (pt.kind != Patch::AbsMem && pt.pos > b.u.bytes.size() + i) --pt.pos;
          }
        } else {
          ++i;
        }
      }
    }
    b.u.bytes.insert(b.u.bytes.end(), b.m.begin(), b.m.end());
    b.u.lens.push_back(static_cast<uint8_t>(b.m.size()));
    tc.units.push_back(std::move(b.u));
  }

  // Branch targets: forward unit starts (or the terminator) within reach.
  std::vector<uint32_t> off(tc.units.size() + 1, 0);
  for (size_t i = 0; i < tc.units.size(); ++i) off[i + 1] = off[i] + static_cast<uint32_t>(tc.units[i].bytes.size());
  for (size_t i = 0; i < tc.units.size(); ++i) {
    for (Patch& p : tc.units[i].patches) {
      if (p.wild) continue;
      const uint32_t next = off[i + 1];
      size_t hi = tc.units.size();
      if (p.kind == Patch::Rel && p.size == 1) {
        while (hi > i + 1 && off[hi] - next > 127) --hi;
      }
      p.target = static_cast<int>(i + 1 + r.below(static_cast<uint32_t>(hi - i)));
    }
  }
  assemble(tc);
  return tc;
}

void assemble(TestCase& tc) {
  const size_t n = tc.units.size();
  std::vector<uint32_t> off(n + 1, 0);
  for (size_t i = 0; i < n; ++i) off[i + 1] = off[i] + static_cast<uint32_t>(tc.units[i].bytes.size());
  tc.end_off = off[n];
  tc.code.assign(kCodeSize, kCodeFill);
  tc.insn_off.clear();
  tc.insn_unit.clear();
  tc.insn_main.clear();
  for (size_t i = 0; i < n; ++i) {
    const Unit& u = tc.units[i];
    std::copy(u.bytes.begin(), u.bytes.end(), tc.code.begin() + off[i]);
    uint32_t o = off[i];
    for (size_t k = 0; k < u.lens.size(); ++k) {
      tc.insn_off.push_back(o);
      tc.insn_unit.push_back(static_cast<int>(i));
      tc.insn_main.push_back(k + 1 == u.lens.size());
      o += u.lens[k];
    }
  }
  tc.code[tc.end_off] = 0xCD;
  tc.code[tc.end_off + 1] = 0x80;
  for (size_t i = 0; i < n; ++i) {
    for (const Patch& p : tc.units[i].patches) {
      const int t = std::min<int>(p.target < 0 ? static_cast<int>(n) : p.target, static_cast<int>(n));
      const uint32_t target = kCode + off[static_cast<size_t>(t)];
      uint8_t* field = p.kind == Patch::AbsMem ? tc.mem_at(p.pos, p.size) : &tc.code[off[i] + p.pos];
      if (!field) continue;
      uint32_t v;
      if (p.kind == Patch::Rel) {
        const uint32_t next = kCode + off[i + 1];
        v = p.wild ? p.wild_value : target - next;
        if (p.size == 1 && !p.wild && target - next > 127) v = 0;
      } else {
        v = p.wild ? p.wild_value : target;
      }
      put_le(field, v, p.size);
    }
  }
}

}  // namespace faultline::check
