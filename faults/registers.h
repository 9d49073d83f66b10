// CPU registers as fault targets: names, widths, the bits a fault may hit,
// and raw read/write access that bypasses the architectural checks (a
// hardware upset does not go through MOV CR0's #GP rules).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {
class Cpu;
}

namespace faultline::faults {

enum class RegKind : uint8_t { Gpr, Eip, Eflags, Seg, Cr, St, Fcw, Fsw };

struct RegisterInfo {
  RegKind kind = RegKind::Gpr;
  unsigned index = 0;       // GPR number, SegReg, CR number, or stack-relative ST(i)
  unsigned bits = 32;       // width of the accessible value
  uint64_t valid_mask = 0;  // bits a fault may touch (EFLAGS: the defined bits)
};

// Looks a register up by name (case-insensitive): eax..edi, eip, eflags,
// cs ds es fs gs ss, cr0 cr2 cr3 cr4, st0..st7, fcw, fsw.
std::optional<RegisterInfo> find_register(std::string_view name);

// Expands a RegisterSpace name list ("gpr" = the eight GPRs), lower-cased.
// Throws std::invalid_argument naming an unknown register.
std::vector<std::string> expand_register_names(const std::vector<std::string>& names);

// The bit positions enumerated for a register (the set bits of valid_mask).
std::vector<unsigned> register_bit_positions(const RegisterInfo& r);

// Raw value of a register. For st0..st7 (stack-relative: physical register
// (TOP + i) & 7) this is the 64-bit significand of the 80-bit value; the
// sign and exponent are not fault targets.
uint64_t read_register(const Cpu& cpu, const RegisterInfo& r);
// Writes the raw value, bypassing privilege and validity checks:
//  - segment registers: only the visible selector changes; the hidden
//    descriptor cache (base, limit, attributes) is left as it was, as a real
//    upset in the selector register would leave it until the next load;
//  - control registers: written directly, then the TLB is flushed and the
//    segment access rights refreshed;
//  - EFLAGS: through Cpu::write_eflags with every bit (reserved bits keep
//    their fixed values);
//  - st registers: only the significand changes, the tag word is unchanged.
void write_register(Cpu& cpu, const RegisterInfo& r, uint64_t value);

}  // namespace faultline::faults
