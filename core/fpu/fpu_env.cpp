// FNSTENV/FLDENV and FNSAVE/FRSTOR in the four formats: 16- or 32-bit by the
// operand size, protected-mode or real-mode layout (real and virtual-8086
// mode) of the instruction and data pointers (SDM Vol. 1 figures 8-9..8-12).
//
// Reserved halves of the 32-bit format are stored as FFFFh (as Intel CPUs do).
// The real-mode layouts hold 20-bit (16-bit format) or 32-bit (32-bit format)
// linear pointers; loading one sets the selector to 0 and the offset to the
// linear address, so storing it again in real mode reproduces it. On loading,
// the control word's reserved bits are normalised, ES/B are recomputed from
// the unmasked flags, and the tags of non-empty registers are recomputed from
// their contents (the hardware keeps only empty/non-empty).
#include "core/cpu.h"
#include "core/fpu/fpu.h"

namespace faultline::fpu {
namespace {

bool pm_format(const Cpu& c) { return c.protected_mode() && !c.v86(); }

inline void put16(uint8_t* p, uint32_t v) {
  uint16_t w = static_cast<uint16_t>(v);
  std::memcpy(p, &w, 2);
}
inline void put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline uint16_t get16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint32_t get32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

unsigned env_size(bool op32) { return op32 ? 28 : 14; }

void encode_env(const FpuState& f, bool op32, bool pm, uint8_t* out) {
  const uint16_t tw = tag_word(f);
  const uint32_t fop = f.last_opcode & 0x7FF;
  if (op32) {
    put32(out + 0, 0xFFFF0000u | f.control);
    put32(out + 4, 0xFFFF0000u | f.status);
    put32(out + 8, 0xFFFF0000u | tw);
    if (pm) {
      put32(out + 12, f.last_ip);
      put32(out + 16, f.last_cs | (fop << 16));
      put32(out + 20, f.last_dp);
      put32(out + 24, 0xFFFF0000u | f.last_ds);
    } else {
      const uint32_t ip = (static_cast<uint32_t>(f.last_cs) << 4) + f.last_ip;
      const uint32_t dp = (static_cast<uint32_t>(f.last_ds) << 4) + f.last_dp;
      put32(out + 12, 0xFFFF0000u | (ip & 0xFFFF));
      put32(out + 16, ((ip >> 16) << 12) | fop);
      put32(out + 20, 0xFFFF0000u | (dp & 0xFFFF));
      put32(out + 24, (dp >> 16) << 12);
    }
  } else {
    put16(out + 0, f.control);
    put16(out + 2, f.status);
    put16(out + 4, tw);
    if (pm) {
      put16(out + 6, f.last_ip);
      put16(out + 8, f.last_cs);
      put16(out + 10, f.last_dp);
      put16(out + 12, f.last_ds);
    } else {
      const uint32_t ip = (static_cast<uint32_t>(f.last_cs) << 4) + f.last_ip;
      const uint32_t dp = (static_cast<uint32_t>(f.last_ds) << 4) + f.last_dp;
      put16(out + 6, ip);
      put16(out + 8, (((ip >> 16) & 0xF) << 12) | fop);
      put16(out + 10, dp);
      put16(out + 12, ((dp >> 16) & 0xF) << 12);
    }
  }
}

// Loads the environment; the tags are applied by the caller (after FRSTOR has
// loaded the registers) from the returned tag word.
uint16_t decode_env(FpuState& f, bool op32, bool pm, const uint8_t* in) {
  uint16_t cw, sw, tw;
  if (op32) {
    cw = get16(in + 0);
    sw = get16(in + 4);
    tw = get16(in + 8);
    if (pm) {
      f.last_ip = get32(in + 12);
      f.last_cs = get16(in + 16);
      f.last_opcode = (get32(in + 16) >> 16) & 0x7FF;
      f.last_dp = get32(in + 20);
      f.last_ds = get16(in + 24);
    } else {
      f.last_ip = (get32(in + 12) & 0xFFFF) | (((get32(in + 16) >> 12) & 0xFFFF) << 16);
      f.last_cs = 0;
      f.last_opcode = get32(in + 16) & 0x7FF;
      f.last_dp = (get32(in + 20) & 0xFFFF) | (((get32(in + 24) >> 12) & 0xFFFF) << 16);
      f.last_ds = 0;
    }
  } else {
    cw = get16(in + 0);
    sw = get16(in + 2);
    tw = get16(in + 4);
    if (pm) {
      f.last_ip = get16(in + 6);
      f.last_cs = get16(in + 8);
      f.last_dp = get16(in + 10);
      f.last_ds = get16(in + 12);
    } else {
      f.last_ip = get16(in + 6) | (static_cast<uint32_t>(get16(in + 8) >> 12) << 16);
      f.last_cs = 0;
      f.last_opcode = get16(in + 8) & 0x7FF;
      f.last_dp = get16(in + 10) | (static_cast<uint32_t>(get16(in + 12) >> 12) << 16);
      f.last_ds = 0;
    }
  }
  f.control = sanitize_cw(cw);
  f.status = static_cast<uint16_t>(sw & 0x7F7F);
  update_es(f);
  return tw;
}

void apply_tags(FpuState& f, uint16_t tw) {
  for (unsigned p = 0; p < 8; ++p) {
    unsigned t = ((tw >> (2 * p)) & 3) == TAG_EMPTY ? TAG_EMPTY : classify(f.st[p]);
    set_tag(f, p, t);
  }
}

// Block transfers in 16-bit units after the whole range was checked, so a
// fault leaves memory and state unchanged. The first and then the last byte
// are probed before the rest, so a page fault on a block crossing into an
// inaccessible page reports the block's last byte (as Intel CPUs do for
// FNSTENV/FLDENV/FNSAVE/FRSTOR).
bool read_block(Cpu& c, unsigned seg, uint32_t off, unsigned len, uint8_t* out) {
  if (!c.check_read(seg, off, 1) || c.faulted()) return false;
  if (!c.check_read(seg, off + len - 1, 1) || c.faulted()) return false;
  if (!c.check_read(seg, off, len) || c.faulted()) return false;
  for (unsigned k = 0; k < len; k += 2) {
    uint16_t v = c.read<uint16_t>(seg, off + k);
    if (c.faulted()) return false;
    put16(out + k, v);
  }
  return true;
}

bool write_block(Cpu& c, unsigned seg, uint32_t off, unsigned len, const uint8_t* in) {
  if (!c.check_write(seg, off, 1) || c.faulted()) return false;
  if (!c.check_write(seg, off + len - 1, 1) || c.faulted()) return false;
  if (!c.check_write(seg, off, len) || c.faulted()) return false;
  for (unsigned k = 0; k < len; k += 2) {
    c.write<uint16_t>(seg, off + k, get16(in + k));
    if (c.faulted()) return false;
  }
  return true;
}

}  // namespace

void fnstenv(Cpu& c, const Insn& i) {
  FpuState& f = c.s.fpu;
  uint8_t buf[28];
  const unsigned len = env_size(i.op32);
  encode_env(f, i.op32, pm_format(c), buf);
  if (!write_block(c, i.seg, c.ea(i), len, buf)) return;
  // FNSTENV then masks all exceptions.
  f.control |= CW_MASKS;
  update_es(f);
}

void fldenv(Cpu& c, const Insn& i) {
  uint8_t buf[28];
  const unsigned len = env_size(i.op32);
  if (!read_block(c, i.seg, c.ea(i), len, buf)) return;
  FpuState& f = c.s.fpu;
  const uint16_t old_status = f.status;
  apply_tags(f, decode_env(f, i.op32, pm_format(c), buf));
  note_new_exceptions(c, old_status);
}

void fnsave(Cpu& c, const Insn& i) {
  FpuState& f = c.s.fpu;
  uint8_t buf[28 + 80];
  const unsigned len = env_size(i.op32);
  encode_env(f, i.op32, pm_format(c), buf);
  for (unsigned k = 0; k < 8; ++k) store80(buf + len + 10 * k, f.st[(top(f) + k) & 7]);
  if (!write_block(c, i.seg, c.ea(i), len + 80, buf)) return;
  finit(f);
}

void frstor(Cpu& c, const Insn& i) {
  uint8_t buf[28 + 80];
  const unsigned len = env_size(i.op32);
  if (!read_block(c, i.seg, c.ea(i), len + 80, buf)) return;
  FpuState& f = c.s.fpu;
  const uint16_t old_status = f.status;
  const uint16_t tw = decode_env(f, i.op32, pm_format(c), buf);
  for (unsigned k = 0; k < 8; ++k) load80(f.st[(top(f) + k) & 7], buf + len + 10 * k);
  apply_tags(f, tw);
  note_new_exceptions(c, old_status);
}

}  // namespace faultline::fpu
