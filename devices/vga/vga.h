// VGA adapter: the standard VGA register set, 256 KiB of planar video memory
// behind the legacy 0xA0000-0xBFFFF window, a renderer for text, 16-colour
// planar and 256-colour chain-4 modes, and the Bochs VBE "dispi" extension
// with a linear framebuffer.
//
// Design note: the card is modelled at the register level the guest sees, and
// the picture is derived from registers and plane memory only when someone
// asks for it (render(), text_screen()), so running a guest never pays for
// drawing. Plane memory is four 64 KiB planes; the host-side address decode
// (chain-4, odd/even, memory map select), the latches, the write modes 0-3
// and read modes 0/1 follow the VGA data path. The CRTC side uses the same
// planes with byte/word/doubleword address scaling, so a guest that programs
// registers directly (no BIOS) sees the same picture as one using mode sets.
//
// reset() leaves the card in BIOS mode 3 (80x25 colour text, 9-dot
// characters, 720x400) because there is no VGA BIOS to run first: a
// multiboot kernel writing to 0xB8000 right away is shown. Plane 2 holds no
// font then; a built-in 8x16 font stands in for any character map that is
// all zero.
//
// State: Vga::save() holds every register, the DAC, the latches and the
// four planes; VbeDispi::save() holds the dispi registers and the framebuffer
// (trimmed after its last non-zero byte). Neither has timers, so after_load()
// has nothing to do.
//
// Platform wiring:
//   * Vga (this Device): I/O ports 0x3B0-0x3DF; it sees offset = port - 0x3B0
//     (kIoBase). Mono (0x3B4/0x3B5/0x3BA) or colour (0x3D4/0x3D5/0x3DA) CRTC
//     and status ports answer according to misc output bit 0.
//   * mem_read()/mem_write(): MMIO 0xA0000-0xBFFFF (kMemBase, kMemSize); they
//     see offsets 0..0x1FFFF.
//   * dispi() (a Device): I/O ports 0x1CE-0x1CF; offset 0 index, 1 data.
//   * lfb_read()/lfb_write() on dispi(): MMIO at 0xE0000000 (kLfbBase), 16 MiB
//     (kLfbSize); or map dispi().lfb() directly.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "devices/device.h"
#include "devices/vga/image.h"

namespace faultline {

// Bochs VBE display interface: index/data registers and the linear
// framebuffer. Rendering of an enabled dispi mode is done by Vga::render().
class VbeDispi final : public Device {
 public:
  static constexpr uint16_t kIoBase = 0x1CE;  // index; data at 0x1CF
  static constexpr uint64_t kLfbBase = 0xE0000000;
  static constexpr uint32_t kLfbSize = 16u << 20;
  static constexpr uint16_t kMaxXres = 2560, kMaxYres = 1600, kMaxBpp = 32;

  // Register indices (port 0x1CE).
  enum Index : uint16_t {
    kId = 0,
    kXres = 1,
    kYres = 2,
    kBpp = 3,
    kEnable = 4,
    kBank = 5,
    kVirtWidth = 6,
    kVirtHeight = 7,
    kXOffset = 8,
    kYOffset = 9,
    kVideoMemory64k = 10,
  };
  // ENABLE register bits.
  static constexpr uint16_t kEnabled = 0x01, kGetCaps = 0x02, kDac8Bit = 0x20, kLfbEnabled = 0x40,
                            kNoClearMem = 0x80;

  VbeDispi();
  VbeDispi(const VbeDispi&) = delete;
  VbeDispi& operator=(const VbeDispi&) = delete;
  const char* name() const override { return "vga-dispi"; }
  void reset() override;
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;

  // Linear framebuffer (offsets inside the kLfbSize window).
  uint8_t* lfb() { return lfb_.data(); }
  const uint8_t* lfb() const { return lfb_.data(); }
  uint32_t lfb_read(uint32_t offset, unsigned size) const;
  void lfb_write(uint32_t offset, unsigned size, uint32_t value);

  // Moves on every register or framebuffer write, reset and load (not on
  // writes through lfb()): see Vga::changes().
  uint64_t changes() const { return changes_; }
  bool enabled() const { return enable_ & kEnabled; }
  bool dac_8bit() const { return enabled() && (enable_ & kDac8Bit); }
  // Banked access through 0xA0000-0xAFFFF while enabled.
  uint32_t bank_offset() const { return static_cast<uint32_t>(bank_) << 16; }
  unsigned xres() const { return xres_; }
  unsigned yres() const { return yres_; }
  unsigned bpp() const { return bpp_; }
  unsigned bytes_per_pixel() const { return (bpp_ + 7) / 8; }
  uint32_t pitch() const { return static_cast<uint32_t>(virt_width_) * bytes_per_pixel(); }
  uint32_t display_start() const { return y_offset_ * pitch() + x_offset_ * bytes_per_pixel(); }

 private:
  uint16_t read_register() const;
  void write_register(uint16_t value);
  void set_enable(uint16_t value);
  void update_virtual_height();

  template <bool Saving, class Msg, class Self>
  friend void transfer_dispi(Self& self, Msg& msg);

  std::vector<uint8_t> lfb_;
  uint16_t index_ = 0;
  uint16_t id_ = 0xB0C5;
  uint16_t xres_ = 0, yres_ = 0, bpp_ = 0, enable_ = 0, bank_ = 0;
  uint16_t virt_width_ = 0, virt_height_ = 0, x_offset_ = 0, y_offset_ = 0;
  bool get_caps_ = false;
  uint64_t changes_ = 0;
};

class Vga final : public Device {
 public:
  static constexpr uint16_t kIoBase = 0x3B0;
  static constexpr uint32_t kIoSize = 0x30;  // 0x3B0-0x3DF
  static constexpr uint64_t kMemBase = 0xA0000;
  static constexpr uint32_t kMemSize = 0x20000;
  static constexpr uint32_t kPlaneSize = 0x10000;

  // `now_ns` gives virtual time for the retrace/display-enable status bits
  // (a 60 Hz frame of 525 lines). Without it the status bits toggle on every
  // read so polling loops still finish.
  explicit Vga(std::function<uint64_t()> now_ns = {});
  Vga(const Vga&) = delete;  // 16 MiB of framebuffer: never copied by accident
  Vga& operator=(const Vga&) = delete;
  void set_now_ns(std::function<uint64_t()> now_ns) { now_ns_ = std::move(now_ns); }

  const char* name() const override { return "vga"; }
  void reset() override;
  // Ports: offset = port - kIoBase.
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;

  // Legacy memory window: offset = address - kMemBase (0..0x1FFFF).
  uint32_t mem_read(uint32_t offset, unsigned size);
  void mem_write(uint32_t offset, unsigned size, uint32_t value);

  // The dispi extension is a Device of its own (own ports, own state
  // message): the platform registers, saves and loads it next to the Vga.
  // Vga::reset() resets it too.
  VbeDispi& dispi() { return dispi_; }
  const VbeDispi& dispi() const { return dispi_; }

  // The current picture in RGB888: the dispi mode when enabled, else text
  // (columns x 9 or 8 dots by rows x character height: 720x400 in mode 3),
  // planar 16-colour or 256-colour graphics. A blanked screen is black.
  Image render() const;
  // Text-mode screen contents, one line per row ending in '\n', trailing
  // spaces trimmed; bytes outside printable ASCII become ' ' (0x00, 0xFF) or
  // '?'. Empty in graphics modes.
  std::string text_screen() const;
  bool text_mode() const { return !dispi_.enabled() && !(gc_[6] & 0x01); }
  // A counter that moves whenever the picture may have changed: every port
  // or memory-window write (dispi included), reset, load and
  // set_plane_byte(). Equal counts mean render() and text_screen() would
  // return the same as before, so a watcher compares screens only when it
  // moved (the GUI's golden-versus-faulty comparison).
  uint64_t changes() const { return changes_ + dispi_.changes(); }

  // Direct plane access (tests, fault injection, debugging).
  uint8_t plane_byte(unsigned plane, uint32_t offset) const { return planes_[plane][offset & 0xFFFF]; }
  void set_plane_byte(unsigned plane, uint32_t offset, uint8_t v) {
    planes_[plane][offset & 0xFFFF] = v;
    ++changes_;
  }

 private:
  // ---- behaviour (vga.cpp) ----
  uint8_t mem_read_byte(uint32_t offset);
  void mem_write_byte(uint32_t offset, uint8_t value);
  bool decode_window(uint32_t offset, uint32_t* window_offset) const;
  uint8_t status1();
  // ---- register interface (vga_io.cpp) ----
  uint8_t read_port(uint32_t port);
  void write_port(uint32_t port, uint8_t value);
  bool mono() const { return !(misc_ & 0x01); }
  // ---- rendering (vga_render.cpp) ----
  struct TextGeometry {
    unsigned columns, rows, char_height, char_width, address_shift;
    uint32_t start, stride;
  };
  TextGeometry text_geometry() const;
  Rgb dac_color(uint8_t index) const;
  uint8_t attribute_color(uint8_t color4) const;
  Image render_text() const;
  Image render_graphics() const;
  Image render_dispi() const;
  unsigned vertical_display_lines() const;
  // ---- state (vga_state.cpp) ----
  template <bool Saving, class Msg, class Self>
  friend void transfer_vga(Self& self, Msg& msg);

  std::function<uint64_t()> now_ns_;
  VbeDispi dispi_;

  std::array<std::array<uint8_t, kPlaneSize>, 4> planes_{};
  std::array<uint8_t, 4> latch_{};
  uint8_t misc_ = 0, feature_ = 0;
  uint8_t seq_index_ = 0, crtc_index_ = 0, gc_index_ = 0, ac_index_ = 0;
  std::array<uint8_t, 5> seq_{};
  std::array<uint8_t, 25> crtc_{};
  std::array<uint8_t, 9> gc_{};
  std::array<uint8_t, 21> ac_{};
  bool ac_flipflop_ = false;  // false: next 0x3C0 write is the index
  // DAC
  std::array<uint8_t, 768> palette_{};
  uint8_t pel_mask_ = 0xFF;
  uint8_t dac_read_index_ = 0, dac_write_index_ = 0;
  uint8_t dac_component_ = 0;    // 0..2: R, G, B of the current entry
  bool dac_reading_ = false;     // last index write was 0x3C7
  std::array<uint8_t, 3> dac_pending_{};
  uint32_t status_toggle_ = 0;   // status bits without a clock
  uint64_t changes_ = 0;
};

}  // namespace faultline
