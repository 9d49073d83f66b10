// VGA rendering: the picture the CRTC would scan out, computed on demand
// from registers and plane memory.
//
// The CRTC side: start address CR0C/CR0D, row offset CR13 (x2 per row),
// address scaling by CR14 bit 6 (doubleword, x4), CR17 bit 6 (clear: word,
// x2) or byte mode; horizontal display end CR01 in character clocks;
// vertical display end CR12 with overflow bits CR07 bits 1 and 6; character
// height CR09 bits 0-4 and scan doubling CR09 bit 7. Colours pass through the
// attribute controller (palette, colour plane enable, colour select) and the
// DAC (pel mask, 6- or 8-bit entries). Not modelled: the CGA/Hercules
// address remapping of CR17 bits 0-1 (modes 4-6), the shift-register
// interleave of GR5 bit 5, split screen (line compare), horizontal panning
// and the text cursor.
#include <algorithm>

#include "devices/vga/font.h"
#include "devices/vga/vga.h"

namespace faultline {

namespace {
constexpr unsigned kMaxDimension = 4096;
constexpr uint8_t expand6(uint8_t v) { return static_cast<uint8_t>((v << 2) | (v >> 4)); }
}  // namespace

unsigned Vga::vertical_display_lines() const {
  unsigned vde = crtc_[0x12] | ((crtc_[7] & 0x02) << 7) | ((crtc_[7] & 0x40) << 3);
  return vde + 1;
}

Vga::TextGeometry Vga::text_geometry() const {
  TextGeometry g{};
  g.columns = std::min<unsigned>(crtc_[1] + 1u, kMaxDimension / 9);
  g.char_height = (crtc_[9] & 0x1F) + 1u;
  g.char_width = (seq_[1] & 0x01) ? 8 : 9;
  unsigned lines = vertical_display_lines();
  if (crtc_[9] & 0x80) lines /= 2;
  g.rows = lines / g.char_height;
  g.start = (static_cast<uint32_t>(crtc_[0x0C]) << 8) | crtc_[0x0D];
  g.stride = crtc_[0x13] * 2u;
  g.address_shift = (crtc_[0x14] & 0x40) ? 2 : (crtc_[0x17] & 0x40) ? 0 : 1;
  return g;
}

Rgb Vga::dac_color(uint8_t index) const {
  const uint8_t* entry = &palette_[(index & pel_mask_) * 3u];
  if (dispi_.dac_8bit()) return {entry[0], entry[1], entry[2]};
  return {expand6(entry[0] & 0x3F), expand6(entry[1] & 0x3F), expand6(entry[2] & 0x3F)};
}

uint8_t Vga::attribute_color(uint8_t color4) const {
  uint8_t entry = ac_[color4 & 0x0F];
  uint8_t index = (ac_[0x10] & 0x80) ? static_cast<uint8_t>((entry & 0x0F) | ((ac_[0x14] & 0x03) << 4))
                                     : static_cast<uint8_t>(entry & 0x3F);
  return static_cast<uint8_t>(index | ((ac_[0x14] & 0x0C) << 4));
}

Image Vga::render() const {
  if (dispi_.enabled()) return render_dispi();
  return text_mode() ? render_text() : render_graphics();
}

Image Vga::render_text() const {
  const TextGeometry g = text_geometry();
  Image image(g.columns * g.char_width, g.rows * g.char_height);
  // Palette address source clear (palette being programmed) or screen off.
  if (!(ac_index_ & 0x20) || (seq_[1] & 0x20)) return image;

  // Character maps A (attribute bit 3 set) and B in plane 2, 8 KiB each; a
  // map that is all zero means no font was loaded there.
  const uint8_t sr3 = seq_[3];
  const unsigned map_a = ((sr3 >> 5) & 1) << 2 | ((sr3 >> 2) & 3);
  const unsigned map_b = ((sr3 >> 4) & 1) << 2 | (sr3 & 3);
  auto map_base = [](unsigned map) { return (map & 3) * 0x4000u + (map >> 2) * 0x2000u; };
  auto loaded = [this](uint32_t base) {
    return std::any_of(planes_[2].begin() + base, planes_[2].begin() + base + 0x2000, [](uint8_t b) { return b; });
  };
  const uint32_t base_a = map_base(map_a), base_b = map_base(map_b);
  const bool loaded_a = loaded(base_a), loaded_b = map_a == map_b ? loaded_a : loaded(base_b);
  const bool blink = ac_[0x10] & 0x08;
  const bool line_graphics = ac_[0x10] & 0x04;

  for (unsigned row = 0; row < g.rows; ++row) {
    for (unsigned col = 0; col < g.columns; ++col) {
      uint32_t addr = ((g.start + row * g.stride + col) << g.address_shift) & 0xFFFF;
      uint8_t ch = planes_[0][addr];
      uint8_t attr = planes_[1][addr];
      uint8_t bg_index = (attr >> 4) & (blink ? 0x07 : 0x0F);  // blink on: bit 7 blinks, no bright bg
      const Rgb fg = dac_color(attribute_color(attr & 0x0F & ac_[0x12]));
      const Rgb bg = dac_color(attribute_color(bg_index & ac_[0x12]));
      const bool use_a = attr & 0x08;
      const bool from_plane = use_a ? loaded_a : loaded_b;
      for (unsigned y = 0; y < g.char_height; ++y) {
        uint8_t bits;
        if (from_plane) {
          bits = y < 32 ? planes_[2][(use_a ? base_a : base_b) + ch * 32u + y] : 0;
        } else {
          bits = builtin_glyph(ch)[y * kBuiltinFontHeight / g.char_height];
        }
        const bool ninth = line_graphics && ch >= 0xC0 && ch <= 0xDF && (bits & 1);
        for (unsigned x = 0; x < g.char_width; ++x) {
          bool on = x < 8 ? (bits >> (7 - x)) & 1 : ninth;
          image.set_pixel(col * g.char_width + x, row * g.char_height + y, on ? fg : bg);
        }
      }
    }
  }
  return image;
}

Image Vga::render_graphics() const {
  const TextGeometry g = text_geometry();
  const bool colour256 = gc_[5] & 0x40;
  const unsigned width = g.columns * (colour256 ? 4 : 8);
  const unsigned height = std::min(g.rows, kMaxDimension);
  Image image(width, height);
  if (!(ac_index_ & 0x20) || (seq_[1] & 0x20)) return image;

  for (unsigned y = 0; y < height; ++y) {
    const uint32_t row_address = g.start + y * g.stride;
    for (unsigned col = 0; col < g.columns; ++col) {
      const uint32_t addr = ((row_address + col) << g.address_shift) & 0xFFFF;
      if (colour256) {
        // One byte per pixel, four consecutive pixels from planes 0-3.
        for (unsigned p = 0; p < 4; ++p) image.set_pixel(col * 4 + p, y, dac_color(planes_[p][addr]));
      } else {
        const uint8_t b0 = planes_[0][addr], b1 = planes_[1][addr], b2 = planes_[2][addr], b3 = planes_[3][addr];
        for (unsigned bit = 0; bit < 8; ++bit) {
          const unsigned s = 7 - bit;
          auto color4 = static_cast<uint8_t>(((b0 >> s) & 1) | (((b1 >> s) & 1) << 1) | (((b2 >> s) & 1) << 2) |
                                             (((b3 >> s) & 1) << 3));
          image.set_pixel(col * 8 + bit, y, dac_color(attribute_color(color4 & ac_[0x12])));
        }
      }
    }
  }
  return image;
}

Image Vga::render_dispi() const {
  const unsigned width = dispi_.xres(), height = dispi_.yres();
  Image image(width, height);
  const uint8_t* fb = dispi_.lfb();
  const unsigned bytes = dispi_.bytes_per_pixel();
  const uint64_t pitch = dispi_.pitch();
  for (unsigned y = 0; y < height; ++y) {
    for (unsigned x = 0; x < width; ++x) {
      const uint64_t at = dispi_.display_start() + y * pitch + static_cast<uint64_t>(x) * bytes;
      if (at + bytes > VbeDispi::kLfbSize) continue;
      const uint8_t* p = fb + at;
      Rgb c;
      switch (dispi_.bpp()) {
        case 8: c = dac_color(p[0]); break;
        case 15: {
          unsigned v = p[0] | (p[1] << 8);
          c = {static_cast<uint8_t>(((v >> 10) & 0x1F) * 255 / 31), static_cast<uint8_t>(((v >> 5) & 0x1F) * 255 / 31),
               static_cast<uint8_t>((v & 0x1F) * 255 / 31)};
          break;
        }
        case 16: {
          unsigned v = p[0] | (p[1] << 8);
          c = {static_cast<uint8_t>(((v >> 11) & 0x1F) * 255 / 31), static_cast<uint8_t>(((v >> 5) & 0x3F) * 255 / 63),
               static_cast<uint8_t>((v & 0x1F) * 255 / 31)};
          break;
        }
        default: c = {p[2], p[1], p[0]}; break;  // 24 and 32 bpp: blue, green, red (, unused)
      }
      image.set_pixel(x, y, c);
    }
  }
  return image;
}

std::string Vga::text_screen() const {
  if (!text_mode()) return {};
  const TextGeometry g = text_geometry();
  std::string screen;
  for (unsigned row = 0; row < g.rows; ++row) {
    std::string line;
    for (unsigned col = 0; col < g.columns; ++col) {
      uint8_t ch = planes_[0][((g.start + row * g.stride + col) << g.address_shift) & 0xFFFF];
      line += (ch >= 0x20 && ch <= 0x7E) ? static_cast<char>(ch) : (ch == 0 || ch == 0xFF) ? ' ' : '?';
    }
    line.erase(line.find_last_not_of(' ') + 1);
    screen += line;
    screen += '\n';
  }
  return screen;
}

}  // namespace faultline
