// VGA behaviour: power-on state (BIOS mode 3), the host side of the memory
// data path (address decode, latches, read and write modes) and the status
// bits derived from virtual time.
#include "devices/vga/vga.h"

#include <algorithm>

namespace faultline {

namespace {

// BIOS mode 3: 80x25 colour text, 9x16 character cells, 720x400.
constexpr uint8_t kMode3Misc = 0x67;
constexpr std::array<uint8_t, 5> kMode3Seq{0x03, 0x00, 0x03, 0x00, 0x02};
constexpr std::array<uint8_t, 25> kMode3Crtc{0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00,
                                             0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E,
                                             0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF};
constexpr std::array<uint8_t, 9> kMode3Gc{0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF};
constexpr std::array<uint8_t, 21> kMode3Ac{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
                                           0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00};

// Status timing: a 60 Hz frame of 525 lines, 480 of them displayed,
// vertical retrace on lines 490-491, the last fifth of each line blanked.
constexpr uint64_t kFrameNs = 1'000'000'000 / 60;
constexpr uint64_t kLines = 525;
constexpr uint64_t kLineNs = kFrameNs / kLines;
constexpr uint64_t kDisplayedLines = 480;
constexpr uint64_t kRetraceFirst = 490, kRetraceEnd = 492;

constexpr uint8_t kStatusDisplayDisabled = 0x01, kStatusRetrace = 0x08;

uint8_t rotate_right(uint8_t v, unsigned n) {
  n &= 7;
  return n ? static_cast<uint8_t>((v >> n) | (v << (8 - n))) : v;
}

}  // namespace

VbeDispi::VbeDispi() : lfb_(kLfbSize, 0) { reset(); }

Vga::Vga(std::function<uint64_t()> now_ns) : now_ns_(std::move(now_ns)) { reset(); }

void Vga::reset() {
  ++changes_;
  misc_ = kMode3Misc;
  feature_ = 0;
  seq_index_ = crtc_index_ = gc_index_ = 0;
  seq_ = kMode3Seq;
  crtc_ = kMode3Crtc;
  gc_ = kMode3Gc;
  ac_ = kMode3Ac;
  ac_index_ = 0x20;  // palette address source: display enabled
  ac_flipflop_ = false;
  // The 64-colour EGA palette a VGA BIOS loads for text modes: index bits
  // 0-2 add 2/3 of blue, green, red, bits 3-5 add 1/3.
  palette_.fill(0);
  for (unsigned i = 0; i < 64; ++i) {
    auto level = [i](unsigned primary, unsigned secondary) {
      return static_cast<uint8_t>(((i >> primary) & 1 ? 0x2A : 0) + ((i >> secondary) & 1 ? 0x15 : 0));
    };
    palette_[i * 3 + 0] = level(2, 5);
    palette_[i * 3 + 1] = level(1, 4);
    palette_[i * 3 + 2] = level(0, 3);
  }
  pel_mask_ = 0xFF;
  dac_read_index_ = dac_write_index_ = dac_component_ = 0;
  dac_reading_ = false;
  dac_pending_.fill(0);
  latch_.fill(0);
  for (auto& plane : planes_) plane.fill(0);
  // A blank text screen: spaces in light grey on black.
  for (uint32_t i = 0; i < 80 * 25 * 2; i += 2) {
    planes_[0][i] = ' ';
    planes_[1][i] = 0x07;
  }
  status_toggle_ = 0;
  dispi_.reset();
}

uint8_t Vga::status1() {
  uint8_t status = 0;
  if (now_ns_) {
    uint64_t in_frame = now_ns_() % (kLines * kLineNs);
    uint64_t line = in_frame / kLineNs;
    uint64_t in_line = in_frame % kLineNs;
    if (line >= kDisplayedLines || in_line >= kLineNs * 4 / 5) status |= kStatusDisplayDisabled;
    if (line >= kRetraceFirst && line < kRetraceEnd) status |= kStatusRetrace;
  } else {
    // No clock: alternate so that "wait for retrace start/end" loops finish.
    ++status_toggle_;
    if (status_toggle_ & 1) status |= kStatusDisplayDisabled;
    if (status_toggle_ & 2) status |= kStatusRetrace;
  }
  ac_flipflop_ = false;
  return status;
}

bool Vga::decode_window(uint32_t offset, uint32_t* window_offset) const {
  static constexpr uint32_t kBase[4] = {0x00000, 0x00000, 0x10000, 0x18000};
  static constexpr uint32_t kSize[4] = {0x20000, 0x10000, 0x08000, 0x08000};
  unsigned map = (gc_[6] >> 2) & 3;
  if (offset < kBase[map] || offset - kBase[map] >= kSize[map]) return false;
  *window_offset = offset - kBase[map];
  return true;
}

uint32_t Vga::mem_read(uint32_t offset, unsigned size) {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) value |= static_cast<uint32_t>(mem_read_byte(offset + i)) << (8 * i);
  return value;
}

void Vga::mem_write(uint32_t offset, unsigned size, uint32_t value) {
  ++changes_;
  for (unsigned i = 0; i < size; ++i) mem_write_byte(offset + i, static_cast<uint8_t>(value >> (8 * i)));
}

uint8_t Vga::mem_read_byte(uint32_t offset) {
  if (dispi_.enabled()) {
    // Banked framebuffer access through a 64 KiB window at 0xA0000.
    if (offset >= 0x10000) return 0xFF;
    return static_cast<uint8_t>(dispi_.lfb_read(dispi_.bank_offset() + offset, 1));
  }
  uint32_t a = 0;
  if (!(misc_ & 0x02) || !decode_window(offset, &a)) return 0xFF;
  unsigned plane;
  uint32_t plane_offset;
  if (seq_[4] & 0x08) {  // chain-4: address bits 0-1 select the plane
    plane = a & 3;
    plane_offset = a & ~3u;
  } else if (gc_[5] & 0x10) {  // odd/even: address bit 0 selects plane 0/1 or 2/3
    plane = (gc_[4] & 2) | (a & 1);
    plane_offset = a & ~1u;
  } else {
    plane = gc_[4] & 3;
    plane_offset = a;
  }
  plane_offset &= 0xFFFF;
  for (unsigned p = 0; p < 4; ++p) latch_[p] = planes_[p][plane_offset];
  if (!(gc_[5] & 0x08)) return latch_[plane];
  // Read mode 1: colour compare of the planes not marked "don't care".
  uint8_t differs = 0;
  for (unsigned p = 0; p < 4; ++p) {
    if (!((gc_[7] >> p) & 1)) continue;
    uint8_t colour = (gc_[2] >> p) & 1 ? 0xFF : 0x00;
    differs |= latch_[p] ^ colour;
  }
  return static_cast<uint8_t>(~differs);
}

void Vga::mem_write_byte(uint32_t offset, uint8_t value) {
  if (dispi_.enabled()) {
    if (offset < 0x10000) dispi_.lfb_write(dispi_.bank_offset() + offset, 1, value);
    return;
  }
  uint32_t a = 0;
  if (!(misc_ & 0x02) || !decode_window(offset, &a)) return;
  unsigned planes = seq_[2] & 0x0F;
  uint32_t plane_offset;
  if (seq_[4] & 0x08) {
    planes &= 1u << (a & 3);
    plane_offset = a & ~3u;
  } else if (!(seq_[4] & 0x04)) {  // odd/even: even addresses to planes 0/2, odd to 1/3
    planes &= (a & 1) ? 0x0A : 0x05;
    plane_offset = a & ~1u;
  } else {
    plane_offset = a;
  }
  plane_offset &= 0xFFFF;
  if (!planes) return;

  const unsigned mode = gc_[5] & 3;
  const unsigned function = (gc_[3] >> 3) & 3;
  const uint8_t rotated = rotate_right(value, gc_[3] & 7);
  const uint8_t bit_mask = mode == 3 ? static_cast<uint8_t>(rotated & gc_[8]) : gc_[8];
  for (unsigned p = 0; p < 4; ++p) {
    if (!((planes >> p) & 1)) continue;
    const uint8_t latch = latch_[p];
    const uint8_t set_reset = (gc_[0] >> p) & 1 ? 0xFF : 0x00;
    uint8_t v;
    switch (mode) {
      case 0: v = (gc_[1] >> p) & 1 ? set_reset : rotated; break;
      case 1: planes_[p][plane_offset] = latch; continue;  // latches copied as they are
      case 2: v = (value >> p) & 1 ? 0xFF : 0x00; break;
      default: v = set_reset; break;
    }
    switch (function) {
      case 1: v &= latch; break;
      case 2: v |= latch; break;
      case 3: v ^= latch; break;
      default: break;
    }
    planes_[p][plane_offset] = static_cast<uint8_t>((v & bit_mask) | (latch & ~bit_mask));
  }
}

}  // namespace faultline
