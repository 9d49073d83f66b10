#include "core/boot/elf_image.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace faultline {

void SymbolTable::add(ElfSymbol s) {
  by_addr_.emplace(s.value, s.name);
  by_name_[s.name] = std::move(s);
}

std::optional<ElfSymbol> SymbolTable::find(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<ElfSymbol> SymbolTable::lookup(uint32_t addr) const {
  auto it = by_addr_.upper_bound(addr);
  while (it != by_addr_.begin()) {
    --it;
    const ElfSymbol& s = by_name_.at(it->second);
    if (addr < s.value + std::max<uint32_t>(s.size, 1)) return s;
    if (s.size != 0) break;
  }
  return std::nullopt;
}

namespace {
[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

struct ElfHandle {
  Elf* e = nullptr;
  ~ElfHandle() {
    if (e) elf_end(e);
  }
};
}  // namespace

ElfImage load_elf_image(const std::string& path) {
  ElfImage img;
  img.path = path;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
    img.file.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (img.file.size() < 4 || std::memcmp(img.file.data(), "\x7f" "ELF", 4) != 0)
    fail(path, "not an ELF file (bad magic)");
  if (elf_version(EV_CURRENT) == EV_NONE) fail(path, "libelf initialisation failed");
  ElfHandle h;
  h.e = elf_memory(reinterpret_cast<char*>(img.file.data()), img.file.size());
  if (!h.e) fail(path, std::string("libelf: ") + elf_errmsg(-1));
  if (elf_kind(h.e) != ELF_K_ELF) fail(path, "not an ELF object");
  if (gelf_getclass(h.e) != ELFCLASS32) fail(path, "not a 32-bit ELF file (ELFCLASS64 kernels are not i686 kernels)");
  GElf_Ehdr eh;
  if (!gelf_getehdr(h.e, &eh)) fail(path, std::string("bad ELF header: ") + elf_errmsg(-1));
  if (eh.e_machine != EM_386) fail(path, "ELF machine is not i386 (e_machine=" + std::to_string(eh.e_machine) + ")");
  if (eh.e_type != ET_EXEC) fail(path, "ELF file is not an executable (e_type=" + std::to_string(eh.e_type) + ")");
  img.entry = static_cast<uint32_t>(eh.e_entry);
  size_t phnum = 0;
  if (elf_getphdrnum(h.e, &phnum) != 0) fail(path, std::string("bad program headers: ") + elf_errmsg(-1));
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(h.e, static_cast<int>(i), &ph)) fail(path, "cannot read program header " + std::to_string(i));
    if (ph.p_type != PT_LOAD) continue;
    if (ph.p_offset + ph.p_filesz > img.file.size())
      fail(path, "program header " + std::to_string(i) + " points past the end of the file (truncated?)");
    if (ph.p_filesz > ph.p_memsz) fail(path, "program header " + std::to_string(i) + " has filesz > memsz");
    if (uint64_t(ph.p_paddr) + ph.p_memsz > 0x100000000ull)
      fail(path, "program header " + std::to_string(i) + " extends past 4 GiB");
    ElfSegment seg;
    seg.paddr = static_cast<uint32_t>(ph.p_paddr);
    seg.vaddr = static_cast<uint32_t>(ph.p_vaddr);
    seg.file_size = static_cast<uint32_t>(ph.p_filesz);
    seg.mem_size = static_cast<uint32_t>(ph.p_memsz);
    seg.data.assign(img.file.begin() + static_cast<long>(ph.p_offset),
                    img.file.begin() + static_cast<long>(ph.p_offset + ph.p_filesz));
    img.segments.push_back(std::move(seg));
  }
  if (img.segments.empty()) fail(path, "no loadable (PT_LOAD) segments");
  // Symbols.
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(h.e, scn)) != nullptr) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) continue;
    if (sh.sh_type != SHT_SYMTAB) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data || sh.sh_entsize == 0) continue;
    size_t count = sh.sh_size / sh.sh_entsize;
    for (size_t k = 0; k < count; ++k) {
      GElf_Sym sym;
      if (!gelf_getsym(data, static_cast<int>(k), &sym)) break;
      int type = GELF_ST_TYPE(sym.st_info);
      if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE) continue;
      if (sym.st_shndx == SHN_UNDEF) continue;
      const char* name = elf_strptr(h.e, sh.sh_link, sym.st_name);
      if (!name || !*name) continue;
      ElfSymbol s{name, static_cast<uint32_t>(sym.st_value), static_cast<uint32_t>(sym.st_size),
                  type == STT_FUNC};
      img.symbols_list.push_back(s);
      img.symbols.add(std::move(s));
    }
  }
  return img;
}

}  // namespace faultline
