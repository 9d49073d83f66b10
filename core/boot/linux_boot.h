// Linux/x86 boot protocol loader for bzImage kernels (protocol 2.06 and
// later), using the 32-bit boot entry.
//
// Layout in guest memory:
//   0x05000  GDT: null, null, __BOOT_CS 0x10 (flat code), __BOOT_DS 0x18
//            (flat data)
//   0x06000-0x07000  initial stack (ESP = 0x7000; the kernel sets its own)
//   0x07000  boot_params ("zero page", 4 KiB) with the setup header copied
//            from the image and the loader's fields filled in
//   0x20000  kernel command line (NUL-terminated)
//   0x90000  real-mode setup code as in the image (not executed)
//   0x100000 protected-mode kernel
//   initrd: page aligned, as high as fits below both initrd_addr_max and
//           the end of RAM, above the kernel's init_size
// e820 map: RAM [0, 0x9FC00), reserved [0x9FC00, 0x100000), RAM from
// 1 MiB to the end of guest RAM.
//
// CPU state per the 32-bit boot protocol: protected mode, paging off,
// interrupts off, CS = 0x10 and DS = ES = SS = FS = GS = 0x18 (flat 4 GiB),
// ESI = boot_params, EBP = EDI = EBX = 0, EIP = code32_start.
#pragma once

#include <cstdint>
#include <string>

namespace faultline {

class Machine;

struct LinuxBootOptions {
  std::string kernel_path;  // bzImage
  std::string initrd_path;  // empty: none
  std::string cmdline;
  // The machine has a VGA in 80x25 colour text mode (mode 3) at 0xB8000:
  // boot_params.screen_info describes it (cursor at 0,0), so the kernel's
  // VGA console can use it. Without this the screen_info stays zero and
  // the kernel sees no text console.
  bool vga_text = false;
};

// Where things went (tests, diagnostics).
struct LinuxBootInfo {
  uint16_t protocol = 0;  // e.g. 0x020F
  uint32_t boot_params = 0;
  uint32_t cmdline = 0;
  uint32_t setup = 0, setup_size = 0;
  uint32_t kernel = 0, kernel_size = 0;
  uint32_t entry = 0;
  uint32_t initrd = 0, initrd_size = 0;
};

namespace linux_boot {
inline constexpr uint32_t kGdt = 0x5000, kStackTop = 0x7000, kBootParams = 0x7000, kCmdline = 0x20000,
                          kSetup = 0x90000, kKernel = 0x100000;
inline constexpr uint16_t kBootCs = 0x10, kBootDs = 0x18;
inline constexpr uint16_t kMinProtocol = 0x0206;
}  // namespace linux_boot

// Loads the kernel (and initrd) and prepares the machine. Throws
// std::runtime_error naming the file: missing or unreadable file, truncated
// image, not a bzImage (bad boot flag or "HdrS" magic, LOADED_HIGH clear),
// boot protocol older than 2.06, kernel or initrd too large for guest RAM,
// command line longer than the kernel accepts.
LinuxBootInfo linux_load(Machine& m, const LinuxBootOptions& opts);

}  // namespace faultline
