#include "gui/disasm.h"

#include <Zydis/Zydis.h>

#include <cstdio>

namespace faultline::gui {

std::string symbolize(uint32_t address, const SymbolTable* symbols) {
  if (!symbols) return {};
  auto sym = symbols->lookup(address);
  if (!sym) return {};
  if (address == sym->value) return sym->name;
  char buf[24];
  std::snprintf(buf, sizeof buf, "+0x%x", address - sym->value);
  return sym->name + buf;
}

namespace {
// Reads up to `n` bytes at linear `lin`; returns how many were readable.
size_t read_linear(const Cpu& cpu, uint32_t lin, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t pa = 0;
    if (!cpu.translate_debug(lin + static_cast<uint32_t>(i), pa) || !cpu.read_phys(pa, &out[i], 1)) return i;
  }
  return n;
}
}  // namespace

std::vector<DisasmLine> disassemble(const Cpu& cpu, uint32_t start, int count, const SymbolTable* symbols) {
  std::vector<DisasmLine> out;
  const uint32_t eip_lin = cpu.s.seg[CS].base + cpu.s.eip;
  uint32_t addr = start;
  for (int k = 0; k < count; ++k) {
    DisasmLine line;
    line.address = addr;
    line.symbol = symbolize(addr, symbols);
    line.current = addr == eip_lin;
    uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
    const size_t n = read_linear(cpu, addr, buf, sizeof buf);
    if (n == 0) {
      line.text = "(not mapped)";
      out.push_back(line);
      break;
    }
    ZydisDisassembledInstruction zi;
    size_t len = 1;
    if (ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LEGACY_32, addr, buf, n, &zi))) {
      line.text = zi.text;
      len = zi.info.length;
    } else {
      line.text = "(bad)";
    }
    char hex[4];
    for (size_t i = 0; i < len; ++i) {
      std::snprintf(hex, sizeof hex, "%02x", buf[i]);
      line.bytes += hex;
    }
    out.push_back(line);
    addr += static_cast<uint32_t>(len);
  }
  return out;
}

std::vector<DisasmLine> disassemble_around_eip(const Cpu& cpu, int before, int after, const SymbolTable* symbols) {
  const uint32_t eip_lin = cpu.s.seg[CS].base + cpu.s.eip;
  uint32_t start = eip_lin;
  if (symbols) {
    if (auto sym = symbols->lookup(eip_lin); sym && eip_lin - sym->value <= 4096) start = sym->value;
  }
  if (start == eip_lin) return disassemble(cpu, eip_lin, after, symbols);
  // Decode from the symbol up to EIP, keep the last `before` lines.
  std::vector<DisasmLine> lead;
  uint32_t addr = start;
  while (addr < eip_lin) {
    auto one = disassemble(cpu, addr, 1, symbols);
    if (one.empty() || one[0].bytes.empty()) break;
    lead.push_back(one[0]);
    addr += static_cast<uint32_t>(one[0].bytes.size() / 2);
  }
  if (addr != eip_lin) lead.clear();  // did not line up: start at EIP
  std::vector<DisasmLine> out;
  const size_t from = lead.size() > static_cast<size_t>(before) ? lead.size() - static_cast<size_t>(before) : 0;
  out.assign(lead.begin() + static_cast<std::ptrdiff_t>(from), lead.end());
  auto rest = disassemble(cpu, eip_lin, after, symbols);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace faultline::gui
