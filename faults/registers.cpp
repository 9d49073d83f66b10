#include "faults/registers.h"

#include <cctype>
#include <cstring>
#include <stdexcept>

#include "core/cpu.h"

namespace faultline::faults {

namespace {

constexpr uint64_t kEflagsDefined =
    FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_TF | FLAG_IF | FLAG_DF | FLAG_OF |
    FLAG_IOPL | FLAG_NT | FLAG_RF | FLAG_VM | FLAG_AC | FLAG_VIF | FLAG_VIP | FLAG_ID;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

unsigned st_physical(const Cpu& cpu, unsigned i) {
  unsigned top = (cpu.s.fpu.status >> 11) & 7;
  return (top + i) & 7;
}

}  // namespace

std::optional<RegisterInfo> find_register(std::string_view name_in) {
  const std::string name = lower(name_in);
  static constexpr const char* kGpr[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
  for (unsigned i = 0; i < 8; ++i)
    if (name == kGpr[i]) return RegisterInfo{RegKind::Gpr, i, 32, 0xFFFFFFFFull};
  if (name == "eip") return RegisterInfo{RegKind::Eip, 0, 32, 0xFFFFFFFFull};
  if (name == "eflags") return RegisterInfo{RegKind::Eflags, 0, 32, kEflagsDefined};
  static constexpr const char* kSeg[6] = {"es", "cs", "ss", "ds", "fs", "gs"};  // SegReg order
  for (unsigned i = 0; i < 6; ++i)
    if (name == kSeg[i]) return RegisterInfo{RegKind::Seg, i, 16, 0xFFFF};
  if (name == "cr0") return RegisterInfo{RegKind::Cr, 0, 32, 0xFFFFFFFFull};
  if (name == "cr2") return RegisterInfo{RegKind::Cr, 2, 32, 0xFFFFFFFFull};
  if (name == "cr3") return RegisterInfo{RegKind::Cr, 3, 32, 0xFFFFFFFFull};
  if (name == "cr4") return RegisterInfo{RegKind::Cr, 4, 32, 0xFFFFFFFFull};
  if (name.size() == 3 && name[0] == 's' && name[1] == 't' && name[2] >= '0' && name[2] <= '7')
    return RegisterInfo{RegKind::St, static_cast<unsigned>(name[2] - '0'), 64, ~0ull};
  if (name == "fcw") return RegisterInfo{RegKind::Fcw, 0, 16, 0xFFFF};
  if (name == "fsw") return RegisterInfo{RegKind::Fsw, 0, 16, 0xFFFF};
  return std::nullopt;
}

std::vector<std::string> expand_register_names(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const std::string& n : names) {
    std::string l = lower(n);
    if (l == "gpr") {
      for (const char* g : {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"}) out.emplace_back(g);
      continue;
    }
    if (!find_register(l))
      throw std::invalid_argument("unknown register '" + n +
                                  "' (known: eax..edi, gpr, eip, eflags, cs ds es fs gs ss, "
                                  "cr0 cr2 cr3 cr4, st0..st7, fcw, fsw)");
    out.push_back(l);
  }
  return out;
}

std::vector<unsigned> register_bit_positions(const RegisterInfo& r) {
  std::vector<unsigned> out;
  for (unsigned b = 0; b < 64; ++b)
    if (r.valid_mask >> b & 1) out.push_back(b);
  return out;
}

uint64_t read_register(const Cpu& cpu, const RegisterInfo& r) {
  const CpuState& s = cpu.s;
  switch (r.kind) {
    case RegKind::Gpr: return s.gpr[r.index];
    case RegKind::Eip: return s.eip;
    case RegKind::Eflags: return cpu.eflags();
    case RegKind::Seg: return s.seg[r.index].selector;
    case RegKind::Cr:
      switch (r.index) {
        case 0: return s.cr0;
        case 2: return s.cr2;
        case 3: return s.cr3;
        default: return s.cr4;
      }
    case RegKind::St: {
      uint64_t sig = 0;
      std::memcpy(&sig, &s.fpu.st[st_physical(cpu, r.index)], 8);
      return sig;
    }
    case RegKind::Fcw: return s.fpu.control;
    case RegKind::Fsw: return s.fpu.status;
  }
  return 0;
}

void write_register(Cpu& cpu, const RegisterInfo& r, uint64_t value) {
  CpuState& s = cpu.s;
  const auto v32 = static_cast<uint32_t>(value);
  switch (r.kind) {
    case RegKind::Gpr: s.gpr[r.index] = v32; break;
    case RegKind::Eip: s.eip = v32; break;
    case RegKind::Eflags: cpu.write_eflags(v32, 0xFFFFFFFFu); break;
    case RegKind::Seg: s.seg[r.index].selector = static_cast<uint16_t>(value); break;
    case RegKind::Cr:
      switch (r.index) {
        case 0: s.cr0 = v32; break;
        case 2: s.cr2 = v32; break;
        case 3: s.cr3 = v32; break;
        default: s.cr4 = v32; break;
      }
      cpu.flush_tlb(true);
      cpu.refresh_segments();
      // Recomputes state derived from CR0 and EFLAGS together (alignment
      // checking) without changing EFLAGS.
      cpu.write_eflags(cpu.eflags(), 0);
      break;
    case RegKind::St:
      std::memcpy(&s.fpu.st[st_physical(cpu, r.index)], &value, 8);
      break;
    case RegKind::Fcw: s.fpu.control = static_cast<uint16_t>(value); break;
    case RegKind::Fsw: s.fpu.status = static_cast<uint16_t>(value); break;
  }
  cpu.async_check();
}

}  // namespace faultline::faults
