// VGA: registers, planar memory data path, text and graphics rendering, the
// Bochs VBE dispi interface, PNG output, save/load.
#include "devices/vga/vga.h"

#include <gtest/gtest.h>

#include "vga/vga.pb.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace faultline {
namespace {

class VgaTest : public ::testing::Test {
 protected:
  void out(uint16_t port, uint8_t value) { vga.write(port - Vga::kIoBase, 1, value); }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(vga.read(port - Vga::kIoBase, 1)); }
  void seq(uint8_t index, uint8_t value) { vga.write(0x3C4 - Vga::kIoBase, 2, index | (value << 8)); }
  void gc(uint8_t index, uint8_t value) { vga.write(0x3CE - Vga::kIoBase, 2, index | (value << 8)); }
  void crtc(uint8_t index, uint8_t value) { vga.write(0x3D4 - Vga::kIoBase, 2, index | (value << 8)); }
  void ac(uint8_t index, uint8_t value) {
    in(0x3DA);
    out(0x3C0, index | 0x20);
    out(0x3C0, value);
  }
  uint8_t crtc_read(uint8_t index) {
    out(0x3D4, index);
    return in(0x3D5);
  }
  void mem_write(uint32_t address, uint8_t value) { vga.mem_write(address - 0xA0000, 1, value); }
  uint8_t mem_read(uint32_t address) { return static_cast<uint8_t>(vga.mem_read(address - 0xA0000, 1)); }
  void put_text(unsigned row, unsigned col, const std::string& text, uint8_t attr) {
    for (size_t i = 0; i < text.size(); ++i) {
      uint32_t at = 0xB8000 + (row * 80 + col + static_cast<unsigned>(i)) * 2;
      vga.mem_write(at - 0xA0000, 2, static_cast<uint8_t>(text[i]) | (attr << 8));
    }
  }
  void dispi(uint16_t index, uint16_t value) {
    vga.dispi().write(0, 2, index);
    vga.dispi().write(1, 2, value);
  }
  uint16_t dispi_read(uint16_t index) {
    vga.dispi().write(0, 2, index);
    return static_cast<uint16_t>(vga.dispi().read(1, 2));
  }
  void load_registers(uint8_t misc, const std::array<uint8_t, 5>& s, const std::array<uint8_t, 25>& c,
                      const std::array<uint8_t, 9>& g, const std::array<uint8_t, 21>& a) {
    out(0x3C2, misc);
    for (uint8_t i = 0; i < s.size(); ++i) seq(i, s[i]);
    crtc(0x11, c[0x11] & 0x7F);  // unprotect CR00-CR07 first
    for (uint8_t i = 0; i < c.size(); ++i) crtc(i, c[i]);
    for (uint8_t i = 0; i < g.size(); ++i) gc(i, g[i]);
    for (uint8_t i = 0; i < a.size(); ++i) ac(i, a[i]);
  }
  void set_dac(uint8_t index, uint8_t r, uint8_t g, uint8_t b) {
    out(0x3C8, index);
    out(0x3C9, r);
    out(0x3C9, g);
    out(0x3C9, b);
  }

  uint64_t now = 0;
  Vga vga{[this] { return now; }};
};

// Cell (col,row) of a 9x16 text screen: true if the cell holds colour `c`.
bool cell_has(const Image& image, unsigned col, unsigned row, Rgb c) {
  for (unsigned y = 0; y < 16; ++y)
    for (unsigned x = 0; x < 9; ++x)
      if (image.pixel(col * 9 + x, row * 16 + y) == c) return true;
  return false;
}

constexpr Rgb kBlack{0, 0, 0}, kWhite{0xFF, 0xFF, 0xFF}, kBlue{0, 0, 0xAA};

TEST_F(VgaTest, ResetIsTextMode3) {
  EXPECT_TRUE(vga.text_mode());
  EXPECT_EQ(in(0x3CC), 0x67);
  Image image = vga.render();
  EXPECT_EQ(image.width, 720u);
  EXPECT_EQ(image.height, 400u);
  EXPECT_EQ(vga.text_screen(), std::string(25, '\n'));
}

TEST_F(VgaTest, TextAtB8000ShowsInTextScreenAndRender) {
  put_text(0, 0, "Hello, VGA", 0x1F);  // bright white on blue
  put_text(24, 70, "end  ", 0x07);
  std::string screen = vga.text_screen();
  std::istringstream lines(screen);
  std::string first, line, last;
  std::getline(lines, first);
  EXPECT_EQ(first, "Hello, VGA");
  int count = 1;
  while (std::getline(lines, line)) {
    last = line;
    ++count;
  }
  EXPECT_EQ(count, 25);
  EXPECT_EQ(last, std::string(70, ' ') + "end");

  Image image = vga.render();
  ASSERT_EQ(image.width, 720u);
  ASSERT_EQ(image.height, 400u);
  // 'H' at cell 0: glyph pixels in the foreground, the rest background.
  EXPECT_TRUE(cell_has(image, 0, 0, kWhite));
  EXPECT_TRUE(cell_has(image, 0, 0, kBlue));
  EXPECT_NE(image.pixel(1, 5), image.pixel(0, 0));  // left stroke of the built-in 'H'
  // The space after the comma: background only.
  EXPECT_FALSE(cell_has(image, 6, 0, kWhite));
  EXPECT_TRUE(cell_has(image, 6, 0, kBlue));
  // Different characters draw differently.
  std::vector<Rgb> h_cell, e_cell;
  for (unsigned y = 0; y < 16; ++y)
    for (unsigned x = 0; x < 9; ++x) {
      h_cell.push_back(image.pixel(x, y));
      e_cell.push_back(image.pixel(9 + x, y));
    }
  EXPECT_NE(h_cell, e_cell);
}

TEST_F(VgaTest, FontInPlane2ReplacesBuiltinFont) {
  put_text(0, 0, "A", 0x07);
  // The BIOS font-load sequence: plane 2 only, sequential addressing at A0000.
  seq(2, 0x04);
  seq(4, 0x07);
  gc(4, 0x02);
  gc(5, 0x00);
  gc(6, 0x04);
  for (unsigned y = 0; y < 16; ++y) mem_write(0xA0000 + 'A' * 32 + y, 0xFF);  // a solid block
  seq(2, 0x03);
  seq(4, 0x03);
  gc(4, 0x00);
  gc(5, 0x10);
  gc(6, 0x0E);
  EXPECT_EQ(vga.text_screen().substr(0, 2), "A\n");
  Image image = vga.render();
  Rgb grey{0xAA, 0xAA, 0xAA};
  for (unsigned y = 0; y < 16; ++y)
    for (unsigned x = 0; x < 8; ++x) ASSERT_EQ(image.pixel(x, y), grey) << x << "," << y;
  EXPECT_EQ(image.pixel(8, 0), kBlack);  // ninth column: background for letters
}

TEST_F(VgaTest, CharacterHeight8Gives80x50) {
  crtc(0x09, static_cast<uint8_t>((crtc_read(0x09) & ~0x1F) | 7));
  put_text(49, 0, "last row", 0x07);  // row 49 of 80 columns
  std::string screen = vga.text_screen();
  EXPECT_EQ(std::count(screen.begin(), screen.end(), '\n'), 50);
  EXPECT_NE(screen.find("\nlast row\n"), std::string::npos);
  Image image = vga.render();
  EXPECT_EQ(image.width, 720u);
  EXPECT_EQ(image.height, 400u);
}

TEST_F(VgaTest, BlinkDisabledGivesBrightBackground) {
  put_text(0, 0, " ", 0xC0);  // background colour 12 (bright red) with blink bit
  EXPECT_EQ(vga.render().pixel(0, 0), (Rgb{0xAA, 0, 0}));  // blink on: bit 7 blinks, background 4
  ac(0x10, 0x04);                                          // mode control without blink
  EXPECT_EQ(vga.render().pixel(0, 0), (Rgb{0xFF, 0x55, 0x55}));
}

TEST_F(VgaTest, InputStatus1ReadResetsAttributeFlipFlop) {
  in(0x3DA);
  out(0x3C0, 0x32);  // index 0x12 with palette address source
  out(0x3C0, 0x05);  // data: colour plane enable
  out(0x3C0, 0x30);  // index again (flip-flop toggled back)
  out(0x3C0, 0x0F);
  EXPECT_EQ(in(0x3C0), 0x30);
  out(0x3C0, 0x33);  // index 0x13 -> flip-flop now expects data
  in(0x3DA);         // ...but the read resets it to "index"
  out(0x3C0, 0x32);
  EXPECT_EQ(in(0x3C0), 0x32);
  EXPECT_EQ(in(0x3C1), 0x05);
  out(0x3C0, 0x0A);  // data to AR12
  EXPECT_EQ(in(0x3C1), 0x0A);
  // The mono status port does not answer (and does not reset) in colour mode.
  out(0x3C0, 0x32);
  EXPECT_EQ(in(0x3BA), 0xFF);
  out(0x3C0, 0x07);
  EXPECT_EQ(in(0x3C1), 0x07);
}

TEST_F(VgaTest, StatusBitsFollowVirtualTime) {
  constexpr uint64_t kLineNs = 1'000'000'000 / 60 / 525;
  now = 0;
  EXPECT_EQ(in(0x3DA) & 0x09, 0x00);  // displaying
  now = kLineNs * 300 + kLineNs * 9 / 10;
  EXPECT_EQ(in(0x3DA) & 0x09, 0x01);  // horizontal blanking
  now = kLineNs * 490 + 10;
  EXPECT_EQ(in(0x3DA) & 0x09, 0x09);  // vertical retrace
  now = kLineNs * 500;
  EXPECT_EQ(in(0x3DA) & 0x09, 0x01);  // vertical blanking after retrace
  now += 1'000'000'000 / 60 * 7;      // whole frames later: same phase
  EXPECT_EQ(in(0x3DA) & 0x09, 0x01);
}

TEST_F(VgaTest, CrtcWriteProtectAndMonoAddressing) {
  EXPECT_EQ(crtc_read(0x11) & 0x80, 0x80);  // mode 3 leaves CR00-CR07 protected
  crtc(0x01, 0x27);
  EXPECT_EQ(crtc_read(0x01), 0x4F);
  crtc(0x07, 0x00);
  EXPECT_EQ(crtc_read(0x07), 0x0F);  // only the line compare bit (4) changed
  crtc(0x11, 0x0E);
  crtc(0x01, 0x27);
  EXPECT_EQ(crtc_read(0x01), 0x27);
  // Mono addressing: the CRTC moves to 0x3B4/0x3B5.
  out(0x3C2, 0x66);
  out(0x3B4, 0x0A);
  out(0x3B5, 0x2D);
  EXPECT_EQ(in(0x3D4), 0xFF);
  out(0x3B4, 0x0A);
  EXPECT_EQ(in(0x3B5), 0x2D);
}

TEST_F(VgaTest, DacWriteAndReadCycle) {
  out(0x3C8, 5);
  for (uint8_t v : {0x01, 0x02, 0x43, 0x3F, 0x20, 0x10}) out(0x3C9, v);  // 0x43 keeps its 6 bits
  EXPECT_EQ(in(0x3C8), 7);
  EXPECT_EQ(in(0x3C7) & 3, 0);  // write mode
  out(0x3C7, 5);
  EXPECT_EQ(in(0x3C7) & 3, 3);  // read mode
  std::vector<uint8_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(in(0x3C9));
  EXPECT_EQ(got, (std::vector<uint8_t>{0x01, 0x02, 0x03, 0x3F, 0x20, 0x10}));
  // A new read index restarts the cycle at red.
  out(0x3C7, 6);
  in(0x3C9);
  out(0x3C7, 6);
  EXPECT_EQ(in(0x3C9), 0x3F);
  EXPECT_EQ(in(0x3C6), 0xFF);
}

TEST_F(VgaTest, WriteMode0SetResetMapMaskAndReadMode1) {
  seq(4, 0x06);  // sequential planar addressing
  gc(5, 0x00);
  gc(6, 0x05);  // graphics, A0000 64K
  seq(2, 0x0F);
  gc(1, 0x0F);  // set/reset for all planes
  gc(0, 0x05);  // planes 0 and 2 set
  gc(8, 0xFF);
  mem_write(0xA0010, 0x00);
  EXPECT_EQ(vga.plane_byte(0, 0x10), 0xFF);
  EXPECT_EQ(vga.plane_byte(1, 0x10), 0x00);
  EXPECT_EQ(vga.plane_byte(2, 0x10), 0xFF);
  EXPECT_EQ(vga.plane_byte(3, 0x10), 0x00);

  // Map mask plane 1 only; bit mask keeps the latched low nibble.
  mem_read(0xA0010);  // load latches
  seq(2, 0x02);
  gc(0, 0x0F);
  gc(8, 0xF0);
  mem_write(0xA0010, 0x00);
  EXPECT_EQ(vga.plane_byte(0, 0x10), 0xFF);
  EXPECT_EQ(vga.plane_byte(1, 0x10), 0xF0);
  EXPECT_EQ(vga.plane_byte(2, 0x10), 0xFF);

  // Set/reset disabled: the rotated CPU byte is written.
  gc(1, 0x00);
  gc(8, 0xFF);
  gc(3, 0x04);  // rotate right by 4
  seq(2, 0x08);
  mem_write(0xA0010, 0x12);
  EXPECT_EQ(vga.plane_byte(3, 0x10), 0x21);
  gc(3, 0x00);

  // Read mode 0 with read map select.
  gc(4, 1);
  EXPECT_EQ(mem_read(0xA0010), 0xF0);
  // Read mode 1: planes equal to colour 0x5 (planes 0, 2 set; 1, 3 clear).
  gc(5, 0x08);
  gc(2, 0x05);
  gc(7, 0x07);  // plane 3 is "don't care"
  EXPECT_EQ(mem_read(0xA0010), 0x0F);
  gc(7, 0x0F);  // plane 3 (0x21) now must be clear too
  EXPECT_EQ(mem_read(0xA0010), 0x0E);
  gc(7, 0x00);  // nothing compared: everything matches
  EXPECT_EQ(mem_read(0xA0010), 0xFF);
}

TEST_F(VgaTest, WriteModes1To3) {
  seq(4, 0x06);
  gc(6, 0x05);
  seq(2, 0x0F);
  gc(8, 0xFF);
  for (unsigned p = 0; p < 4; ++p) vga.set_plane_byte(p, 0x20, static_cast<uint8_t>(0x11 * (p + 1)));
  // Mode 1 copies the latches.
  mem_read(0xA0020);
  gc(5, 0x01);
  mem_write(0xA0030, 0x00);
  for (unsigned p = 0; p < 4; ++p) EXPECT_EQ(vga.plane_byte(p, 0x30), 0x11 * (p + 1));
  // Mode 2: CPU bits 0-3 fill planes 0-3, bit mask 0x0F keeps the latch high nibble.
  gc(5, 0x02);
  gc(8, 0x0F);
  mem_write(0xA0030, 0x09);
  EXPECT_EQ(vga.plane_byte(0, 0x30), 0x1F);
  EXPECT_EQ(vga.plane_byte(1, 0x30), 0x20);
  EXPECT_EQ(vga.plane_byte(2, 0x30), 0x30);
  EXPECT_EQ(vga.plane_byte(3, 0x30), 0x4F);
  // Mode 3: set/reset colour, CPU byte ANDed with the bit mask; XOR function.
  gc(5, 0x03);
  gc(8, 0xFF);
  gc(0, 0x01);
  gc(3, 0x18);  // XOR
  mem_read(0xA0020);
  mem_write(0xA0020, 0x0F);
  EXPECT_EQ(vga.plane_byte(0, 0x20), 0x11 ^ 0x0F);
  EXPECT_EQ(vga.plane_byte(1, 0x20), 0x22);
}

TEST_F(VgaTest, OddEvenAddressingSplitsCharactersAndAttributes) {
  put_text(0, 3, "Z", 0x4E);
  EXPECT_EQ(vga.plane_byte(0, 6), 'Z');
  EXPECT_EQ(vga.plane_byte(1, 6), 0x4E);
  EXPECT_EQ(mem_read(0xB8006), 'Z');
  EXPECT_EQ(mem_read(0xB8007), 0x4E);
  EXPECT_EQ(mem_read(0xA0000), 0xFF);  // outside the B8000 window of mode 3
}

TEST_F(VgaTest, MemoryMapSelectChoosesTheWindow) {
  seq(4, 0x06);
  gc(5, 0x00);
  seq(2, 0x01);
  gc(6, 0x01);  // A0000-BFFFF, 128K: B8000 is plane offset 0x18000 & 0xFFFF
  mem_write(0xB8004, 0x5A);
  EXPECT_EQ(vga.plane_byte(0, 0x8004), 0x5A);
  gc(6, 0x05);  // A0000-AFFFF
  EXPECT_EQ(mem_read(0xB8004), 0xFF);
  EXPECT_EQ(mem_read(0xA8004), 0x5A);
  gc(6, 0x09);  // B0000-B7FFF
  mem_write(0xB0010, 0x77);
  mem_write(0xA0011, 0x66);  // outside: ignored
  EXPECT_EQ(vga.plane_byte(0, 0x10), 0x77);
  EXPECT_EQ(vga.plane_byte(0, 0x11), 0x00);
  EXPECT_EQ(mem_read(0xB8000), 0xFF);
  out(0x3C2, 0x65);  // misc bit 1 clear: video RAM disabled
  EXPECT_EQ(mem_read(0xB0010), 0xFF);
}

TEST_F(VgaTest, StatusBitsToggleWithoutAClock) {
  Vga clockless;
  uint8_t seen_or = 0, seen_and = 0xFF;
  for (int i = 0; i < 8; ++i) {
    auto v = static_cast<uint8_t>(clockless.read(0x3DA - Vga::kIoBase, 1));
    seen_or |= v;
    seen_and &= v;
  }
  EXPECT_EQ(seen_or & 0x09, 0x09);   // retrace and blanking both seen set...
  EXPECT_EQ(seen_and & 0x09, 0x00);  // ...and both seen clear
}

TEST_F(VgaTest, Mode13hChain4PixelShowsInRender) {
  load_registers(0x63, {0x03, 0x01, 0x0F, 0x00, 0x0E},
                 {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00,
                  0x00, 0x00, 0x00, 0x9C, 0x0E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF},
                 {0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF},
                 {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
                  0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00});
  set_dac(0x2A, 0x3F, 0x00, 0x00);
  set_dac(0x00, 0x00, 0x00, 0x00);
  set_dac(0x81, 0x00, 0x3F, 0x3F);
  const uint32_t at = 100 * 320 + 50;
  mem_write(0xA0000 + at, 0x2A);
  mem_write(0xA0000 + at + 269, 0x81);  // (319, 100)
  EXPECT_EQ(vga.plane_byte(at & 3, at & ~3u), 0x2A);
  EXPECT_EQ(mem_read(0xA0000 + at), 0x2A);
  EXPECT_FALSE(vga.text_mode());
  EXPECT_EQ(vga.text_screen(), "");
  Image image = vga.render();
  ASSERT_EQ(image.width, 320u);
  ASSERT_EQ(image.height, 200u);
  EXPECT_EQ(image.pixel(50, 100), (Rgb{0xFF, 0, 0}));
  EXPECT_EQ(image.pixel(319, 100), (Rgb{0, 0xFF, 0xFF}));
  EXPECT_EQ(image.pixel(51, 100), kBlack);
  EXPECT_EQ(image.pixel(50, 99), kBlack);
}

TEST_F(VgaTest, Mode12hPlanarPixelShowsInRender) {
  load_registers(0xE3, {0x03, 0x01, 0x0F, 0x00, 0x06},
                 {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00,
                  0x00, 0x00, 0x00, 0xEA, 0x8C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF},
                 {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF},
                 {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A,
                  0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x01, 0x00, 0x0F, 0x00, 0x00});
  // Colour 4 (red) through set/reset into the leftmost pixel of row 479.
  gc(1, 0x0F);
  gc(0, 0x04);
  gc(8, 0x80);
  mem_read(0xA0000 + 479 * 80);
  mem_write(0xA0000 + 479 * 80, 0x00);
  Image image = vga.render();
  ASSERT_EQ(image.width, 640u);
  ASSERT_EQ(image.height, 480u);
  EXPECT_EQ(image.pixel(0, 479), (Rgb{0xAA, 0, 0}));
  EXPECT_EQ(image.pixel(1, 479), kBlack);
  EXPECT_EQ(image.pixel(0, 478), kBlack);
}

TEST_F(VgaTest, DispiEnable640x480x32AndLfbWrite) {
  EXPECT_EQ(vga.dispi().read(1, 2), 0xB0C5u);  // index 0 is the ID
  dispi(VbeDispi::kId, 0xB0C4);
  EXPECT_EQ(dispi_read(VbeDispi::kId), 0xB0C4);
  dispi(VbeDispi::kEnable, VbeDispi::kGetCaps);
  EXPECT_EQ(dispi_read(VbeDispi::kXres), VbeDispi::kMaxXres);
  dispi(VbeDispi::kEnable, 0);
  dispi(VbeDispi::kXres, 640);
  dispi(VbeDispi::kYres, 480);
  dispi(VbeDispi::kBpp, 32);
  dispi(VbeDispi::kEnable, VbeDispi::kEnabled | VbeDispi::kLfbEnabled);
  EXPECT_EQ(dispi_read(VbeDispi::kXres), 640);
  EXPECT_EQ(dispi_read(VbeDispi::kVirtWidth), 640);
  EXPECT_EQ(dispi_read(VbeDispi::kVirtHeight), VbeDispi::kLfbSize / (640 * 4));
  EXPECT_EQ(dispi_read(VbeDispi::kVideoMemory64k), VbeDispi::kLfbSize >> 16);
  vga.dispi().lfb_write((20 * 640 + 10) * 4, 4, 0x00123456);
  // Banked access through A0000: bank 1 holds bytes 64K..128K.
  dispi(VbeDispi::kBank, 1);
  vga.mem_write(0x0000, 4, 0x00ABCDEF);  // pixel 16384 = (384, 25)
  EXPECT_EQ(vga.dispi().lfb_read(0x10000, 4), 0x00ABCDEFu);
  Image image = vga.render();
  ASSERT_EQ(image.width, 640u);
  ASSERT_EQ(image.height, 480u);
  EXPECT_EQ(image.pixel(10, 20), (Rgb{0x12, 0x34, 0x56}));
  EXPECT_EQ(image.pixel(384, 25), (Rgb{0xAB, 0xCD, 0xEF}));
  EXPECT_EQ(image.pixel(11, 20), kBlack);
  // Scrolling the view by Y_OFFSET moves the picture.
  dispi(VbeDispi::kYOffset, 10);
  EXPECT_EQ(vga.render().pixel(10, 10), (Rgb{0x12, 0x34, 0x56}));
  // Disabling returns to the VGA picture.
  dispi(VbeDispi::kEnable, 0);
  EXPECT_EQ(vga.render().width, 720u);
}

TEST_F(VgaTest, DispiGeometryIsFixedWhileEnabled) {
  dispi(VbeDispi::kXres, 800);
  dispi(VbeDispi::kYres, 600);
  dispi(VbeDispi::kBpp, 16);
  vga.dispi().lfb()[5] = 0x99;
  dispi(VbeDispi::kEnable, VbeDispi::kEnabled | VbeDispi::kNoClearMem);
  EXPECT_EQ(vga.dispi().lfb()[5], 0x99);  // NOCLEARMEM kept the framebuffer
  dispi(VbeDispi::kXres, 1024);
  dispi(VbeDispi::kBpp, 7);
  EXPECT_EQ(dispi_read(VbeDispi::kXres), 800);
  EXPECT_EQ(dispi_read(VbeDispi::kBpp), 16);
  dispi(VbeDispi::kVirtWidth, 1000);
  EXPECT_EQ(dispi_read(VbeDispi::kVirtHeight), VbeDispi::kLfbSize / 2000);
  dispi(VbeDispi::kEnable, 0);
  dispi(VbeDispi::kEnable, VbeDispi::kEnabled);
  EXPECT_EQ(vga.dispi().lfb()[5], 0x00);  // enabling clears by default
  EXPECT_EQ(vga.render().width, 800u);
  EXPECT_EQ(vga.text_screen(), "");
}

TEST_F(VgaTest, DispiLowerDepths) {
  dispi(VbeDispi::kXres, 16);
  dispi(VbeDispi::kYres, 4);
  dispi(VbeDispi::kBpp, 16);
  dispi(VbeDispi::kEnable, VbeDispi::kEnabled);
  vga.dispi().lfb_write(0, 2, 0xF800);  // 5:6:5 red
  vga.dispi().lfb_write(2, 2, 0x07E0);  // green
  Image image = vga.render();
  EXPECT_EQ(image.pixel(0, 0), (Rgb{0xFF, 0, 0}));
  EXPECT_EQ(image.pixel(1, 0), (Rgb{0, 0xFF, 0}));
  dispi(VbeDispi::kEnable, 0);
  dispi(VbeDispi::kBpp, 8);
  dispi(VbeDispi::kEnable, VbeDispi::kEnabled | VbeDispi::kDac8Bit);
  set_dac(3, 0x80, 0x81, 0x82);  // 8-bit DAC keeps all bits
  vga.dispi().lfb()[1] = 3;
  EXPECT_EQ(vga.render().pixel(1, 0), (Rgb{0x80, 0x81, 0x82}));
}

TEST_F(VgaTest, SaveLoadSaveRoundTrip) {
  put_text(3, 4, "state", 0x2F);
  out(0x3C8, 9);
  out(0x3C9, 0x11);  // a partly written DAC entry
  out(0x3C0, 0x31);  // flip-flop now expects data
  seq(2, 0x0B);
  mem_read(0xB8000);  // latches
  dispi(VbeDispi::kXres, 800);
  dispi(VbeDispi::kYres, 600);
  dispi(VbeDispi::kBpp, 24);
  dispi(VbeDispi::kEnable, VbeDispi::kEnabled);
  vga.dispi().lfb_write(1000, 4, 0xDEADBEEF);
  dispi(VbeDispi::kEnable, 0);

  const std::string vga_state = vga.save();
  const std::string dispi_state = vga.dispi().save();
  Vga other;
  other.load(vga_state);
  other.dispi().load(dispi_state);
  other.after_load();
  EXPECT_TRUE(other.save() == vga_state);  // not EXPECT_EQ: 256 KiB of planes in a failure message
  EXPECT_TRUE(other.dispi().save() == dispi_state);
  EXPECT_EQ(other.text_screen(), vga.text_screen());
  EXPECT_EQ(other.render().rgb, vga.render().rgb);
  // The pending DAC component and the flip-flop survived.
  other.write(0x3C9 - Vga::kIoBase, 1, 0x22);
  other.write(0x3C9 - Vga::kIoBase, 1, 0x33);
  other.write(0x3C7 - Vga::kIoBase, 1, 9);
  EXPECT_EQ(other.read(0x3C9 - Vga::kIoBase, 1), 0x11u);
  EXPECT_EQ(other.dispi().lfb_read(1000, 4), 0xDEADBEEFu);

  const std::string before = other.save();
  EXPECT_THROW(other.load("\xFF\xFF garbage"), std::runtime_error);
  EXPECT_THROW(other.dispi().load("\xFF\xFF garbage"), std::runtime_error);
  pb::dev::VgaState truncated;
  ASSERT_TRUE(truncated.ParseFromString(vga_state));
  truncated.mutable_planes()->resize(1000);
  EXPECT_THROW(other.load(truncated.SerializeAsString()), std::runtime_error);
  pb::dev::VgaState future;
  ASSERT_TRUE(future.ParseFromString(vga_state));
  future.set_version(99);
  EXPECT_THROW(other.load(future.SerializeAsString()), std::runtime_error);
  pb::dev::VbeDispiState bad_depth;
  ASSERT_TRUE(bad_depth.ParseFromString(dispi_state));
  bad_depth.set_bpp(7);
  EXPECT_THROW(other.dispi().load(bad_depth.SerializeAsString()), std::runtime_error);
  EXPECT_TRUE(other.save() == before);  // a failed load leaves the state alone
}

uint32_t be32(const std::vector<uint8_t>& d, size_t at) {
  return (uint32_t{d[at]} << 24) | (uint32_t{d[at + 1]} << 16) | (uint32_t{d[at + 2]} << 8) | d[at + 3];
}

TEST(VgaPng, FileHasSignatureIhdrAndStoredPixels) {
  Image image(300, 250);
  image.set_pixel(299, 249, {1, 2, 3});
  const std::string path = ::testing::TempDir() + "vga_test.png";
  write_png(image, path);
  std::ifstream file(path, std::ios::binary);
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  ASSERT_GT(data.size(), 33u);
  const std::vector<uint8_t> signature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  EXPECT_EQ(std::vector<uint8_t>(data.begin(), data.begin() + 8), signature);
  EXPECT_EQ(be32(data, 8), 13u);
  EXPECT_EQ(std::string(data.begin() + 12, data.begin() + 16), "IHDR");
  EXPECT_EQ(be32(data, 16), 300u);
  EXPECT_EQ(be32(data, 20), 250u);
  EXPECT_EQ(data[24], 8);  // bit depth
  EXPECT_EQ(data[25], 2);  // truecolour

  // Walk the chunks and inflate the stored deflate blocks of IDAT.
  size_t at = 8;
  std::vector<uint8_t> zlib;
  std::string last_type;
  while (at + 12 <= data.size()) {
    uint32_t length = be32(data, at);
    last_type.assign(data.begin() + static_cast<ptrdiff_t>(at + 4), data.begin() + static_cast<ptrdiff_t>(at + 8));
    if (last_type == "IDAT")
      zlib.insert(zlib.end(), data.begin() + static_cast<ptrdiff_t>(at + 8),
                  data.begin() + static_cast<ptrdiff_t>(at + 8 + length));
    at += 12 + length;
  }
  EXPECT_EQ(at, data.size());
  EXPECT_EQ(last_type, "IEND");
  ASSERT_GE(zlib.size(), 6u);
  EXPECT_EQ((zlib[0] * 256 + zlib[1]) % 31, 0);  // zlib header check
  std::vector<uint8_t> raw;
  size_t pos = 2;
  bool final_block = false;
  while (!final_block) {
    ASSERT_LT(pos + 5, zlib.size());
    final_block = zlib[pos] & 1;
    ASSERT_EQ(zlib[pos] & 6, 0);  // stored
    unsigned len = zlib[pos + 1] | (zlib[pos + 2] << 8);
    unsigned nlen = zlib[pos + 3] | (zlib[pos + 4] << 8);
    ASSERT_EQ(len ^ 0xFFFF, nlen);
    raw.insert(raw.end(), zlib.begin() + static_cast<ptrdiff_t>(pos + 5),
               zlib.begin() + static_cast<ptrdiff_t>(pos + 5 + len));
    pos += 5 + len;
  }
  ASSERT_EQ(raw.size(), 250u * (1 + 300 * 3));
  EXPECT_EQ(raw[0], 0);  // filter type of row 0
  EXPECT_EQ(raw[raw.size() - 3], 1);
  EXPECT_EQ(raw[raw.size() - 1], 3);
  uint32_t a = 1, b = 0;
  for (uint8_t byte : raw) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  EXPECT_EQ(be32(zlib, pos), (b << 16) | a);
}

TEST(VgaPng, UnwritablePathThrows) {
  EXPECT_THROW(write_png(Image(1, 1), "/nonexistent-dir/x.png"), std::runtime_error);
}

}  // namespace
}  // namespace faultline
