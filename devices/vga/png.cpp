// PNG encoder: signature, IHDR, one IDAT holding a zlib stream of stored
// deflate blocks, IEND.
#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "devices/vga/image.h"

namespace faultline {

namespace {

constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}
constexpr auto kCrcTable = make_crc_table();

uint32_t crc32(const uint8_t* data, size_t size) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) c = kCrcTable[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void put_chunk(std::vector<uint8_t>& out, const char type[4], const std::vector<uint8_t>& data) {
  put_be32(out, static_cast<uint32_t>(data.size()));
  size_t type_at = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put_be32(out, crc32(out.data() + type_at, data.size() + 4));
}

// zlib stream of stored (uncompressed) deflate blocks.
std::vector<uint8_t> zlib_stored(const std::vector<uint8_t>& raw) {
  std::vector<uint8_t> out{0x78, 0x01};
  uint32_t a = 1, b = 0;
  for (uint8_t byte : raw) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  size_t pos = 0;
  do {
    size_t len = std::min<size_t>(raw.size() - pos, 65535);
    bool final_block = pos + len == raw.size();
    out.push_back(final_block ? 1 : 0);
    out.push_back(static_cast<uint8_t>(len));
    out.push_back(static_cast<uint8_t>(len >> 8));
    out.push_back(static_cast<uint8_t>(~len));
    out.push_back(static_cast<uint8_t>(~len >> 8));
    out.insert(out.end(), raw.begin() + static_cast<ptrdiff_t>(pos), raw.begin() + static_cast<ptrdiff_t>(pos + len));
    pos += len;
  } while (pos < raw.size());
  put_be32(out, (b << 16) | a);
  return out;
}

}  // namespace

std::vector<uint8_t> encode_png(const Image& image) {
  if (image.rgb.size() != static_cast<size_t>(image.width) * image.height * 3)
    throw std::runtime_error("png: image buffer does not match its size");
  std::vector<uint8_t> out{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  put_be32(ihdr, image.width);
  put_be32(ihdr, image.height);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit depth, RGB, deflate, filter 0, no interlace
  put_chunk(out, "IHDR", ihdr);

  std::vector<uint8_t> raw;
  size_t row_bytes = static_cast<size_t>(image.width) * 3;
  raw.reserve((row_bytes + 1) * image.height);
  for (unsigned y = 0; y < image.height; ++y) {
    raw.push_back(0);  // filter: none
    auto row = image.rgb.begin() + static_cast<ptrdiff_t>(y * row_bytes);
    raw.insert(raw.end(), row, row + static_cast<ptrdiff_t>(row_bytes));
  }
  put_chunk(out, "IDAT", zlib_stored(raw));
  put_chunk(out, "IEND", {});
  return out;
}

void write_png(const Image& image, const std::string& path) {
  std::vector<uint8_t> data = encode_png(image);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) throw std::runtime_error("png: cannot open " + path);
  if (std::fwrite(data.data(), 1, data.size(), file.get()) != data.size())
    throw std::runtime_error("png: cannot write " + path);
  if (std::fclose(file.release()) != 0) throw std::runtime_error("png: cannot write " + path);
}

}  // namespace faultline
