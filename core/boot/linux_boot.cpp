#include "core/boot/linux_boot.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "core/machine.h"

namespace faultline {

namespace {

using namespace linux_boot;

// Setup header offsets (in the image and in boot_params alike).
constexpr uint32_t kSetupSects = 0x1F1, kSyssize = 0x1F4, kBootFlag = 0x1FE, kJump = 0x200, kHeader = 0x202,
                   kVersion = 0x206, kTypeOfLoader = 0x210, kLoadflags = 0x211, kCode32Start = 0x214,
                   kRamdiskImage = 0x218, kRamdiskSize = 0x21C, kCmdLinePtr = 0x228, kInitrdAddrMax = 0x22C,
                   kCmdlineSize = 0x238, kInitSize = 0x260;
// boot_params offsets outside the header.
constexpr uint32_t kAltMemK = 0x1E0, kE820Entries = 0x1E8, kE820Table = 0x2D0;
constexpr uint8_t kLoadedHigh = 0x01;
constexpr uint32_t kMagicHdrS = 0x53726448;  // "HdrS"
constexpr uint32_t kMaxCmdline = 0x10000;    // room reserved at kCmdline

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

std::vector<uint8_t> read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open ") + what);
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), {});
  if (in.bad()) fail(path, std::string("cannot read ") + what);
  return data;
}

template <class T>
T get(const std::vector<uint8_t>& b, uint32_t at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof v);
  return v;
}
template <class T>
void put(std::vector<uint8_t>& b, uint32_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

void write(Machine& m, uint32_t at, const void* data, size_t len, const std::string& path, const char* what) {
  if (!m.cpu().write_phys(at, data, len))
    fail(path, std::string(what) + " at " + hex(at) + " does not fit in guest RAM");
}

}  // namespace

LinuxBootInfo linux_load(Machine& m, const LinuxBootOptions& opts) {
  const std::string& path = opts.kernel_path;
  std::vector<uint8_t> img = read_file(path, "Linux kernel image");
  if (img.size() < kHeader + 4) fail(path, "truncated: " + std::to_string(img.size()) + " bytes is too small for a bzImage");
  if (get<uint32_t>(img, kHeader) != kMagicHdrS)
    fail(path, "not a bzImage: no \"HdrS\" boot protocol header at offset 0x202");
  if (get<uint16_t>(img, kBootFlag) != 0xAA55) fail(path, "not a bzImage: boot flag at 0x1FE is not 0xAA55");
  LinuxBootInfo info;
  info.protocol = get<uint16_t>(img, kVersion);
  if (info.protocol < kMinProtocol)
    fail(path, "boot protocol " + std::to_string(info.protocol >> 8) + "." + std::to_string(info.protocol & 0xFF) +
                   " is too old (2.06 or later is required)");
  uint32_t header_end = kHeader + img[kJump + 1];
  if (img.size() < std::max<size_t>(header_end, kInitSize + 4))
    fail(path, "truncated inside the setup header");
  if (!(img[kLoadflags] & kLoadedHigh))
    fail(path, "not a bzImage: LOADED_HIGH is clear (zImage kernels loaded at 0x10000 are not supported)");
  uint32_t setup_sects = img[kSetupSects] ? img[kSetupSects] : 4;
  info.setup_size = (setup_sects + 1) * 512;
  if (img.size() <= info.setup_size)
    fail(path, "truncated: " + std::to_string(img.size()) + " bytes, but the setup code alone is " +
                   std::to_string(info.setup_size) + " bytes and the protected-mode kernel is missing");
  info.kernel_size = static_cast<uint32_t>(img.size() - info.setup_size);
  uint64_t syssize = uint64_t{get<uint32_t>(img, kSyssize)} * 16;
  // syssize is in 16-byte paragraphs, rounded up by the kernel's build tool.
  if (syssize > uint64_t{info.kernel_size} + 15)
    fail(path, "truncated: the header announces " + std::to_string(syssize) +
                   " bytes of protected-mode kernel, the file has " + std::to_string(info.kernel_size));

  const uint64_t ram = m.memory().size();
  // The kernel decompresses in place and needs init_size bytes from its
  // load address (protocol 2.10+); at least the image itself.
  uint64_t need = std::max<uint64_t>(info.kernel_size, info.protocol >= 0x020A ? get<uint32_t>(img, kInitSize) : 0);
  if (kKernel + need > ram)
    fail(path, "kernel too large for guest RAM: it needs " + std::to_string(need) + " bytes from 1 MiB, but RAM is " +
                   std::to_string(ram >> 20) + " MiB");
  info.kernel = kKernel;
  info.entry = get<uint32_t>(img, kCode32Start);
  if (info.entry < kKernel || info.entry >= kKernel + info.kernel_size)
    fail(path, "code32_start " + hex(info.entry) + " is outside the protected-mode kernel loaded at 0x100000");

  // Command line.
  uint32_t cmdline_max = get<uint32_t>(img, kCmdlineSize);
  if (opts.cmdline.size() > cmdline_max || opts.cmdline.size() >= kMaxCmdline)
    fail(path, "command line of " + std::to_string(opts.cmdline.size()) + " bytes is longer than the kernel's limit of " +
                   std::to_string(std::min(cmdline_max, kMaxCmdline - 1)));

  // Initrd.
  std::vector<uint8_t> initrd;
  if (!opts.initrd_path.empty()) {
    initrd = read_file(opts.initrd_path, "initrd");
    uint64_t max_end = std::min<uint64_t>(uint64_t{get<uint32_t>(img, kInitrdAddrMax)} + 1, ram);
    uint64_t lowest = (kKernel + need + 0xFFF) & ~uint64_t{0xFFF};
    if (initrd.size() > max_end || ((max_end - initrd.size()) & ~uint64_t{0xFFF}) < lowest)
      fail(opts.initrd_path, "initrd of " + std::to_string(initrd.size()) +
                                 " bytes does not fit between the kernel and min(initrd_addr_max, end of RAM) = " +
                                 hex(max_end));
    info.initrd = static_cast<uint32_t>((max_end - initrd.size()) & ~uint64_t{0xFFF});
    info.initrd_size = static_cast<uint32_t>(initrd.size());
  }

  // Guest memory.
  write(m, kKernel, img.data() + info.setup_size, info.kernel_size, path, "protected-mode kernel");
  info.setup = kSetup;
  write(m, kSetup, img.data(), info.setup_size, path, "setup code");
  if (!initrd.empty()) write(m, info.initrd, initrd.data(), initrd.size(), opts.initrd_path, "initrd");
  info.cmdline = kCmdline;
  write(m, kCmdline, opts.cmdline.c_str(), opts.cmdline.size() + 1, path, "command line");

  // boot_params.
  std::vector<uint8_t> bp(4096, 0);
  std::memcpy(bp.data() + kSetupSects, img.data() + kSetupSects, header_end - kSetupSects);
  bp[kTypeOfLoader] = 0xFF;
  put<uint32_t>(bp, kRamdiskImage, info.initrd);
  put<uint32_t>(bp, kRamdiskSize, info.initrd_size);
  put<uint32_t>(bp, kCmdLinePtr, kCmdline);
  put<uint32_t>(bp, kCode32Start, info.entry);
  put<uint32_t>(bp, kAltMemK, static_cast<uint32_t>((ram - kKernel) >> 10));
  // screen_info at offset 0: what a BIOS leaves behind in colour text mode
  // 3 (80x25, 16-line font, cursor at 0,0), so the kernel's VGA console
  // (vgacon) drives the text screen; without it Linux falls back to the
  // dummy console and console=tty0 shows nothing.
  bp[0x06] = 0x03;              // orig_video_mode
  bp[0x07] = 80;                // orig_video_cols
  put<uint16_t>(bp, 0x0A, 0x0003);  // orig_video_ega_bx: not 0x10, so EGA/VGA
  bp[0x0E] = 25;                // orig_video_lines
  bp[0x0F] = 0x22;              // orig_video_isVGA: VIDEO_TYPE_VGAC
  put<uint16_t>(bp, 0x10, 16);  // orig_video_points
  struct [[gnu::packed]] E820 {
    uint64_t addr, size;
    uint32_t type;
  };
  const E820 map[] = {{0, 0x9FC00, 1}, {0x9FC00, kKernel - 0x9FC00, 2}, {kKernel, ram - kKernel, 1}};
  bp[kE820Entries] = static_cast<uint8_t>(std::size(map));
  std::memcpy(bp.data() + kE820Table, map, sizeof map);
  info.boot_params = kBootParams;
  write(m, kBootParams, bp.data(), bp.size(), path, "boot_params");

  // GDT: entries 2 and 3 are __BOOT_CS and __BOOT_DS.
  const uint64_t gdt[4] = {0, 0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull};
  write(m, kGdt, gdt, sizeof gdt, path, "GDT");

  Cpu& c = m.cpu();
  c.reset();
  SegmentCache code;
  code.selector = kBootCs;
  code.base = 0;
  code.limit = 0xFFFFFFFFu;
  code.attr = SEG_P | SEG_S | SEG_CODE | SEG_RW | SEG_ACCESSED | SEG_DB | SEG_G;
  code.valid = true;
  SegmentCache data = code;
  data.selector = kBootDs;
  data.attr = SEG_P | SEG_S | SEG_RW | SEG_ACCESSED | SEG_DB | SEG_G;
  c.s.cr0 = CR0_PE | CR0_ET;
  c.set_seg_cache(CS, code);
  for (unsigned sreg : {ES, SS, DS, FS, GS}) c.set_seg_cache(sreg, data);
  c.set_cpl(0);
  c.s.gdtr = {kGdt, sizeof gdt - 1};
  c.s.idtr = {0, 0};
  c.write_eflags(0x2, 0xFFFFFFFFu);
  for (auto& r : c.s.gpr) r = 0;
  c.s.gpr[ESI] = kBootParams;
  c.s.gpr[ESP] = kStackTop;
  c.s.eip = info.entry;
  c.refresh_segments();
  c.flush_tlb(true);
  return info;
}

}  // namespace faultline
