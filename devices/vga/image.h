// An RGB888 picture (what the VGA renderer produces) and a PNG encoder.
//
// Design note: the encoder is self-contained (CRC-32, Adler-32 and deflate
// "stored" blocks written here) so screenshots need no compression library;
// the files are larger than necessary, which is fine for test artefacts and
// campaign evidence.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace faultline {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

struct Image {
  unsigned width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3 bytes, rows top to bottom

  Image() = default;
  Image(unsigned w, unsigned h) : width(w), height(h), rgb(static_cast<size_t>(w) * h * 3, 0) {}
  Rgb pixel(unsigned x, unsigned y) const {
    const uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
    return {p[0], p[1], p[2]};
  }
  void set_pixel(unsigned x, unsigned y, Rgb c) {
    uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
  }
};

// The PNG file contents (8-bit RGB, no interlace).
std::vector<uint8_t> encode_png(const Image& image);
// Writes encode_png(image) to `path`; throws std::runtime_error on I/O errors.
void write_png(const Image& image, const std::string& path);

}  // namespace faultline
