#include "core/boot/multiboot.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "core/machine.h"

namespace faultline {

namespace {

constexpr uint32_t kHeaderMagic = 0x1BADB002;
constexpr uint32_t kBootMagic = 0x2BADB002;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

struct Writer {
  Machine& m;
  uint32_t cursor;  // next free physical address for boot data
  uint32_t limit;
  uint32_t put(const void* data, uint32_t len, uint32_t align = 4) {
    cursor = (cursor + align - 1) & ~(align - 1);
    if (cursor + len > limit) throw std::runtime_error("multiboot information does not fit below the kernel");
    uint32_t at = cursor;
    m.cpu().write_phys(at, data, len);
    cursor += len;
    return at;
  }
  uint32_t put_string(const std::string& s) { return put(s.c_str(), static_cast<uint32_t>(s.size() + 1), 1); }
};

}  // namespace

ElfImage multiboot_load(Machine& m, const MultibootOptions& opts) {
  ElfImage img = load_elf_image(opts.kernel_path);
  const std::string& path = opts.kernel_path;
  // Find the header in the first 8 KiB, 4-byte aligned.
  bool found = false;
  uint32_t flags = 0;
  size_t search = std::min<size_t>(img.file.size(), 8192);
  for (size_t off = 0; off + 12 <= search; off += 4) {
    uint32_t w[3];
    std::memcpy(w, img.file.data() + off, 12);
    if (w[0] == kHeaderMagic && uint32_t(w[0] + w[1] + w[2]) == 0) {
      flags = w[1];
      found = true;
      break;
    }
  }
  if (!found) fail(path, "no multiboot header (magic 0x1BADB002 with valid checksum) in the first 8 KiB");
  if (flags & 0xFFFC) {
    // Bits 2..15 are required features we do not provide (video mode is bit 2).
    if (flags & 0x4) fail(path, "multiboot header requests a video mode, which this loader does not provide");
    fail(path, "multiboot header requires unknown features (flags 0x" + std::to_string(flags) + ")");
  }
  if (flags & 0x10000) {
    // a.out kludge: address fields; we load ELF program headers regardless,
    // which is what the specification allows for ELF kernels.
  }
  const uint64_t ram = m.memory().size();
  uint32_t kernel_lo = 0xFFFFFFFFu, kernel_hi = 0;
  for (const ElfSegment& s : img.segments) {
    if (s.mem_size == 0) continue;
    if (uint64_t(s.paddr) + s.mem_size > ram)
      fail(path, "segment at 0x" + std::to_string(s.paddr) + " (" + std::to_string(s.mem_size) +
                     " bytes) does not fit in " + std::to_string(ram >> 20) + " MiB of guest RAM");
    if (s.paddr < 0x100000 && s.paddr + s.mem_size > 0xA0000)
      fail(path, "segment overlaps the legacy video/BIOS area 0xA0000-0xFFFFF");
    std::vector<uint8_t> zero(s.mem_size - s.file_size, 0);
    m.cpu().write_phys(s.paddr, s.data.data(), s.data.size());
    if (!zero.empty()) m.cpu().write_phys(s.paddr + s.file_size, zero.data(), zero.size());
    kernel_lo = std::min(kernel_lo, s.paddr);
    kernel_hi = std::max(kernel_hi, s.paddr + s.mem_size);
  }
  if (img.entry < kernel_lo || img.entry >= kernel_hi)
    fail(path, "entry point is outside the loaded segments");

  // Boot data lives above the kernel, page aligned; modules after it.
  Writer w{m, (kernel_hi + 0xFFF) & ~0xFFFu, static_cast<uint32_t>(std::min<uint64_t>(ram, 0xFFFFFFFFu))};
  // Modules first (page aligned, as the specification asks when flag 0 is set).
  struct ModEntry {
    uint32_t start, end, string, reserved;
  };
  std::vector<ModEntry> mods;
  for (const MultibootModule& mod : opts.modules) {
    std::ifstream in(mod.path, std::ios::binary);
    if (!in) fail(mod.path, "cannot open multiboot module");
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), {});
    uint32_t start = w.put(data.data(), static_cast<uint32_t>(data.size()), 4096);
    mods.push_back({start, start + static_cast<uint32_t>(data.size()), 0, 0});
  }
  for (size_t i = 0; i < mods.size(); ++i) {
    std::string c = opts.modules[i].cmdline.empty() ? opts.modules[i].path : opts.modules[i].cmdline;
    mods[i].string = w.put_string(c);
  }
  uint32_t mods_addr = mods.empty() ? 0 : w.put(mods.data(), static_cast<uint32_t>(mods.size() * sizeof(ModEntry)));
  uint32_t cmdline_addr = w.put_string(opts.cmdline.empty() ? path : path + " " + opts.cmdline);
  std::string loader = "faultline";
  uint32_t loader_addr = w.put_string(loader);
  // Memory map: low RAM, the legacy hole, and extended RAM.
  struct [[gnu::packed]] MmapEntry {
    uint32_t size;
    uint64_t addr, len;
    uint32_t type;
  };
  std::vector<MmapEntry> mmap = {
      {20, 0, 0x9FC00, 1},
      {20, 0x9FC00, 0x400, 2},
      {20, 0xF0000, 0x10000, 2},
      {20, 0x100000, ram - 0x100000, 1},
  };
  uint32_t mmap_addr = w.put(mmap.data(), static_cast<uint32_t>(mmap.size() * sizeof(MmapEntry)));
  uint32_t info[22] = {};
  info[0] = (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9) | (mods.empty() ? 0 : (1u << 3));
  info[1] = 639;                                      // mem_lower KiB
  info[2] = static_cast<uint32_t>((ram - 0x100000) >> 10);  // mem_upper KiB
  info[4] = cmdline_addr;
  info[5] = static_cast<uint32_t>(mods.size());
  info[6] = mods_addr;
  info[11] = static_cast<uint32_t>(mmap.size() * sizeof(MmapEntry));
  info[12] = mmap_addr;
  info[16] = loader_addr;
  uint32_t info_addr = w.put(info, sizeof info);

  // CPU state per the specification.
  Cpu& c = m.cpu();
  c.reset();
  SegmentCache code;
  code.selector = 0x08;
  code.base = 0;
  code.limit = 0xFFFFFFFFu;
  code.attr = SEG_P | SEG_S | SEG_CODE | SEG_RW | SEG_ACCESSED | SEG_DB | SEG_G;
  code.valid = true;
  SegmentCache data = code;
  data.selector = 0x10;
  data.attr = SEG_P | SEG_S | SEG_RW | SEG_ACCESSED | SEG_DB | SEG_G;
  c.s.cr0 = CR0_PE | CR0_ET;
  c.set_seg_cache(CS, code);
  for (unsigned sreg : {ES, SS, DS, FS, GS}) c.set_seg_cache(sreg, data);
  c.set_cpl(0);
  c.s.eip = img.entry;
  c.write_eflags(0x2, 0xFFFFFFFFu);
  for (auto& r : c.s.gpr) r = 0;
  c.s.gpr[EAX] = kBootMagic;
  c.s.gpr[EBX] = info_addr;
  c.s.gdtr = {0, 0};
  c.s.idtr = {0, 0x3FF};
  c.refresh_segments();
  c.flush_tlb(true);
  return img;
}

}  // namespace faultline
