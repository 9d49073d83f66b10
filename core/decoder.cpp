// Instruction decoder driven by insn_table.def.
//
// The table is expanded once into a flat lookup (opcode x ModRM reg) of
// InsnInfo rows. Handler references are weak so that a row whose handler is
// not yet written still links; such a row decodes as undefined and the
// interpreter reports "unimplemented" (tests/core checks that none remain).
#include <array>

#include "core/cpu.h"
#include "core/handlers.h"

namespace faultline {

#define OP(opcode, h16, h32, decode, attr, uflags) \
  [[gnu::weak]] void h16(Cpu&, const Insn&);        \
  [[gnu::weak]] void h32(Cpu&, const Insn&);
#define GRP(opcode, reg, h16, h32, decode, attr, uflags) OP(opcode, h16, h32, decode, attr, uflags)
#include "core/insn_table.def"
#undef OP
#undef GRP

namespace {

struct Tables {
  // [opcode][reg]: non-group rows fill all eight reg slots.
  std::array<std::array<InsnInfo, 8>, 512> rows{};
  std::array<bool, 512> group{};
};

Tables build_tables() {
  Tables t;
  auto put = [&](uint16_t op, int reg, const char* n16, const char* n32, Handler h16,
                 Handler h32, uint16_t dec, uint16_t attr, uint16_t uf) {
    InsnInfo info{n16, n32, h16, h32, dec, attr, uf, true};
    if (reg < 0) {
      for (auto& r : t.rows[op]) r = info;
    } else {
      t.group[op] = true;
      t.rows[op][reg] = info;
    }
  };
#define OP(opcode, h16, h32, decode, attr, uflags)                                       \
  put(opcode, -1, #h16, #h32, &h16, &h32, static_cast<uint16_t>(decode),                 \
      static_cast<uint16_t>(attr), static_cast<uint16_t>(uflags));
#define GRP(opcode, reg, h16, h32, decode, attr, uflags)                                 \
  put(opcode, reg, #h16, #h32, &h16, &h32, static_cast<uint16_t>(decode),                \
      static_cast<uint16_t>(attr), static_cast<uint16_t>(uflags));
#include "core/insn_table.def"
#undef OP
#undef GRP
  return t;
}

const Tables& tables() {
  static const Tables t = build_tables();
  return t;
}

const InsnInfo kUndefined{};

}  // namespace

const InsnInfo& insn_info(uint16_t opcode, uint8_t reg) {
  if (opcode >= 512) return kUndefined;
  return tables().rows[opcode][reg & 7];
}

bool insn_is_group(uint16_t opcode) { return opcode < 512 && tables().group[opcode]; }

DecodeStatus decode(const uint8_t* bytes, unsigned avail, bool code32, Insn& out) {
  const Tables& t = tables();
  unsigned n = 0;
  auto have = [&](unsigned k) { return n + k <= avail; };
  out = Insn{};
  uint8_t seg = SEG_NONE;
  bool opsize = false, adsize = false;
  uint8_t prefixes = 0;
  // Prefixes.
  for (;;) {
    if (!have(1)) return DecodeStatus::NeedMoreBytes;
    if (n >= 15) return DecodeStatus::TooLong;
    uint8_t b = bytes[n];
    switch (b) {
      case 0x26: seg = ES; prefixes |= P_SEG; break;
      case 0x2E: seg = CS; prefixes |= P_SEG; break;
      case 0x36: seg = SS; prefixes |= P_SEG; break;
      case 0x3E: seg = DS; prefixes |= P_SEG; break;
      case 0x64: seg = FS; prefixes |= P_SEG; break;
      case 0x65: seg = GS; prefixes |= P_SEG; break;
      case 0x66: opsize = true; prefixes |= P_OPSIZE; break;
      case 0x67: adsize = true; prefixes |= P_ADSIZE; break;
      case 0xF0: prefixes |= P_LOCK; break;
      case 0xF2: prefixes = (prefixes & ~P_REP) | P_REPNE; break;
      case 0xF3: prefixes = (prefixes & ~P_REPNE) | P_REP; break;
      default: goto opcode;
    }
    ++n;
  }
opcode:
  uint16_t op = bytes[n++];
  if (op == 0x0F) {
    if (!have(1)) return DecodeStatus::NeedMoreBytes;
    op = 0x100 | bytes[n++];
  }
  out.opcode = op;
  out.prefixes = prefixes;
  out.op32 = code32 != opsize;
  out.ad32 = code32 != adsize;
  const InsnInfo* info = &t.rows[op][0];
  uint8_t default_seg = DS;
  bool has_modrm = info->defined ? (info->decode & D_MODRM) != 0 : false;
  if (t.group[op]) has_modrm = true;
  if (has_modrm) {
    if (!have(1)) return DecodeStatus::NeedMoreBytes;
    uint8_t m = bytes[n++];
    out.modrm = m;
    out.mod = m >> 6;
    out.reg = (m >> 3) & 7;
    out.rm = m & 7;
    info = &t.rows[op][out.reg];
    // MOV to/from control and debug registers ignore mod: always registers.
    if (op >= 0x120 && op <= 0x123) out.mod = 3;
    if (out.mod != 3) {
      if (out.ad32) {
        uint8_t rm = out.rm;
        if (rm == 4) {
          if (!have(1)) return DecodeStatus::NeedMoreBytes;
          uint8_t sib = bytes[n++];
          out.scale = sib >> 6;
          uint8_t idx = (sib >> 3) & 7;
          out.index = idx == 4 ? 0xFF : idx;
          uint8_t base = sib & 7;
          if (base == 5 && out.mod == 0) {
            out.base = 0xFF;
            if (!have(4)) return DecodeStatus::NeedMoreBytes;
            std::memcpy(&out.disp, bytes + n, 4);
            n += 4;
          } else {
            out.base = base;
          }
        } else if (rm == 5 && out.mod == 0) {
          out.base = 0xFF;
          if (!have(4)) return DecodeStatus::NeedMoreBytes;
          std::memcpy(&out.disp, bytes + n, 4);
          n += 4;
        } else {
          out.base = rm;
        }
        if (out.base == ESP || out.base == EBP) default_seg = SS;
        if (out.mod == 1) {
          if (!have(1)) return DecodeStatus::NeedMoreBytes;
          out.disp = static_cast<uint32_t>(static_cast<int8_t>(bytes[n++]));
        } else if (out.mod == 2) {
          if (!have(4)) return DecodeStatus::NeedMoreBytes;
          std::memcpy(&out.disp, bytes + n, 4);
          n += 4;
        }
      } else {
        static constexpr uint8_t kBase16[8] = {EBX, EBX, EBP, EBP, 0xFF, 0xFF, EBP, EBX};
        static constexpr uint8_t kIndex16[8] = {ESI, EDI, ESI, EDI, ESI, EDI, 0xFF, 0xFF};
        out.base = kBase16[out.rm];
        out.index = kIndex16[out.rm];
        if (out.mod == 0 && out.rm == 6) {
          out.base = 0xFF;
          if (!have(2)) return DecodeStatus::NeedMoreBytes;
          out.disp = static_cast<uint32_t>(bytes[n] | (bytes[n + 1] << 8));
          n += 2;
        } else if (out.mod == 1) {
          if (!have(1)) return DecodeStatus::NeedMoreBytes;
          out.disp = static_cast<uint32_t>(static_cast<int16_t>(static_cast<int8_t>(bytes[n++])));
          out.disp &= 0xFFFF;
        } else if (out.mod == 2) {
          if (!have(2)) return DecodeStatus::NeedMoreBytes;
          out.disp = static_cast<uint32_t>(bytes[n] | (bytes[n + 1] << 8));
          n += 2;
        }
        if (out.base == EBP) default_seg = SS;
      }
    }
  }
  uint16_t dec = info->decode;
  if (dec & D_IMM8) {
    if (!have(1)) return DecodeStatus::NeedMoreBytes;
    uint32_t v = bytes[n++];
    if (dec & D_IMM16) out.imm2 = v; else out.imm = v;
  }
  if (dec & D_IMM16) {
    if (!have(2)) return DecodeStatus::NeedMoreBytes;
    out.imm = static_cast<uint32_t>(bytes[n] | (bytes[n + 1] << 8));
    n += 2;
    if (dec & D_IMM8_2) {
      if (!have(1)) return DecodeStatus::NeedMoreBytes;
      out.imm2 = bytes[n++];
    }
  }
  if (dec & (D_IMMZ | D_FAR)) {
    unsigned sz = out.op32 ? 4 : 2;
    if (!have(sz)) return DecodeStatus::NeedMoreBytes;
    uint32_t v = 0;
    std::memcpy(&v, bytes + n, sz);
    n += sz;
    out.imm = v;
    if (dec & D_FAR) {
      if (!have(2)) return DecodeStatus::NeedMoreBytes;
      out.imm2 = static_cast<uint32_t>(bytes[n] | (bytes[n + 1] << 8));
      n += 2;
    }
  }
  if (dec & D_MOFFS) {
    unsigned sz = out.ad32 ? 4 : 2;
    if (!have(sz)) return DecodeStatus::NeedMoreBytes;
    uint32_t v = 0;
    std::memcpy(&v, bytes + n, sz);
    n += sz;
    out.disp = v;
  }
  if (n > 15) return DecodeStatus::TooLong;
  out.len = static_cast<uint8_t>(n);
  out.seg = seg != SEG_NONE ? seg : default_seg;
  out.info = info;
  if (!info->defined) return DecodeStatus::Undefined;
  out.handler = out.op32 ? info->h32 : info->h16;
  if (!out.handler) return DecodeStatus::Undefined;
  return DecodeStatus::Ok;
}

}  // namespace faultline
