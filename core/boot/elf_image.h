// ELF kernel images: loadable segments, entry point and symbols (libelf).
//
// Symbols are kept so the rest of the simulator (fault targets, triggers,
// reports) can name guest addresses by symbol.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace faultline {

struct ElfSegment {
  uint32_t paddr = 0;
  uint32_t vaddr = 0;
  uint32_t file_size = 0;
  uint32_t mem_size = 0;
  std::vector<uint8_t> data;  // file_size bytes
};

struct ElfSymbol {
  std::string name;
  uint32_t value = 0;
  uint32_t size = 0;
  bool is_function = false;
};

class SymbolTable {
 public:
  void add(ElfSymbol s);
  std::optional<ElfSymbol> find(const std::string& name) const;
  // The symbol containing `addr` (value <= addr < value + max(size, 1)).
  std::optional<ElfSymbol> lookup(uint32_t addr) const;
  size_t size() const { return by_name_.size(); }
 private:
  std::map<std::string, ElfSymbol> by_name_;
  std::multimap<uint32_t, std::string> by_addr_;
};

struct ElfImage {
  std::string path;
  uint32_t entry = 0;
  std::vector<ElfSymbol> symbols_list;
  std::vector<ElfSegment> segments;
  SymbolTable symbols;
  std::vector<uint8_t> file;  // whole file contents (multiboot header search)
};

// Reads an ELF32 i386 executable. Throws std::runtime_error naming the file
// and the problem (missing, not ELF, wrong class/machine, truncated, ...).
ElfImage load_elf_image(const std::string& path);

}  // namespace faultline
