// System firmware: the BIOS ROM, the i440FX's PAM shadow RAM in front of it,
// and the firmware debug port.
//
// Design note: a PC reads its BIOS from a ROM that appears twice: at the top
// of the 4 GiB space (the reset vector at 0xFFFFFFF0 is there) and, through
// the chipset, at 0xE0000-0xFFFFF. The i440FX's PAM registers decide, per
// shadow segment (0xF0000-0xFFFFF, then 16 KiB segments from 0xC0000 to
// 0xEFFFF), whether reads and writes go to DRAM or to the PCI/ROM side;
// firmware copies itself into DRAM ("shadowing") and write-protects it.
//
// Guest RAM keeps whatever the CPU currently reads in each segment, so
// reads and instruction fetches run at RAM speed in every mode:
//  - read enable (RE) set: the segment's DRAM is in guest RAM;
//  - RE clear: guest RAM holds the ROM bytes (0xFF where no ROM decodes,
//    i.e. the 0xC0000-0xDFFFF option-ROM area), and the segment's DRAM is
//    kept aside here. Changing RE swaps the two.
// Segments that are not plain read/write RAM are Cpu read-only pages; guest
// writes to them land in the hidden DRAM (write enable set, RE clear) or
// are dropped (write enable clear), as on the chipset.
// The last 128 KiB of the image (the whole image if smaller) decode below
// 1 MiB; the whole image decodes at 4 GiB - size (read-only MMIO).
//
// Port 0x402 (offset 0) is the firmware debug console of the QEMU
// platform, which Debian's SeaBIOS uses: reads return 0xE9 (the readback
// value that tells firmware the port exists), written bytes are collected
// in debug_output() and passed to `debug_observer`. The debug text is
// host-side output, not machine state.
//
// State: the segment modes and the hidden DRAM of segments with RE clear.
// The platform must not deliver PAM changes while loading (load() sets the
// modes directly; after_load() re-marks the read-only pages).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "devices/device.h"

namespace faultline {

class Firmware final : public Device {
 public:
  static constexpr uint32_t kVersion = 1;
  static constexpr uint32_t kShadowBase = 0xC0000, kShadowSize = 0x40000;
  static constexpr unsigned kSegments = 13;
  static constexpr uint32_t kLowWindow = 0x20000;  // image bytes visible below 1 MiB
  static constexpr uint16_t kDebugPort = 0x402;
  static constexpr uint8_t kDebugReadback = 0xE9;

  // Reads and checks a BIOS image: a non-empty multiple of 64 KiB, at most
  // 16 MiB. Throws std::runtime_error naming the file otherwise.
  static std::vector<uint8_t> load_image(const std::string& path);
  // Reads an option ROM (e.g. the VGA BIOS): 0x55 0xAA signature, size
  // byte consistent with the file, at most 128 KiB.
  static std::vector<uint8_t> load_option_rom(const std::string& path);

  // `cpu` must have at least 1 MiB of RAM. Until the first pam_changed()
  // (or apply_pam()) every segment is plain RAM.
  Firmware(Cpu& cpu, std::vector<uint8_t> image);
  ~Firmware() override;

  const char* name() const override { return "firmware"; }
  void reset() override {}  // PAM reset arrives from the host bridge
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;
  void after_load() override;

  // PAM register `index` (0..6, config 0x59 + index) now holds `value`.
  void pam_changed(unsigned index, uint8_t value);
  // All seven PAM registers at once (initial wiring).
  void apply_pam(const std::array<uint8_t, 7>& pam);

  // The image as the top-of-4-GiB window sees it.
  const std::vector<uint8_t>& image() const { return image_; }
  uint32_t high_base() const { return static_cast<uint32_t>(0x100000000ull - image_.size()); }
  uint32_t high_read(uint32_t offset, unsigned size) const;

  // Segment geometry and current mode (bit 0 RE, bit 1 WE).
  static uint32_t segment_base(unsigned seg) { return seg == 0 ? 0xF0000u : kShadowBase + (seg - 1) * 0x4000u; }
  static uint32_t segment_size(unsigned seg) { return seg == 0 ? 0x10000u : 0x4000u; }
  uint8_t mode(unsigned seg) const { return modes_[seg]; }
  uint64_t dropped_writes() const { return dropped_writes_; }

  const std::string& debug_output() const { return debug_; }
  std::function<void(char)> debug_observer;

 private:
  void set_mode(unsigned seg, uint8_t mode);
  void mark_pages(unsigned seg);
  uint8_t rom_byte(uint32_t paddr) const;
  void rom_write(uint32_t paddr, uint8_t value);

  Cpu& cpu_;
  std::vector<uint8_t> image_;
  std::array<uint8_t, kSegments> modes_;
  std::vector<uint8_t> hidden_;  // kShadowSize bytes, indexed by paddr - kShadowBase
  uint64_t dropped_writes_ = 0;
  std::string debug_;
};

}  // namespace faultline
