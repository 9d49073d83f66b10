// Firmware ROM, BIOS shadow RAM (PAM) and the firmware debug port.
#include "devices/firmware/firmware.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "firmware/firmware.pb.h"

namespace faultline {

namespace {
constexpr uint8_t kRe = 1, kWe = 2, kPlainRam = kRe | kWe;

std::vector<uint8_t> read_file(const std::string& path, const char* what, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string(what) + " '" + path + "' cannot be opened");
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) throw std::runtime_error(std::string(what) + " '" + path + "' cannot be read");
  if (static_cast<uint64_t>(size) > limit)
    throw std::runtime_error(std::string(what) + " '" + path + "' is " + std::to_string(size) +
                             " bytes; at most " + std::to_string(limit) + " are allowed");
  in.seekg(0);
  std::vector<uint8_t> data(static_cast<size_t>(size));
  if (size && !in.read(reinterpret_cast<char*>(data.data()), size))
    throw std::runtime_error(std::string(what) + " '" + path + "' cannot be read");
  return data;
}
}  // namespace

std::vector<uint8_t> Firmware::load_image(const std::string& path) {
  std::vector<uint8_t> data = read_file(path, "BIOS image", 16u << 20);
  if (data.empty() || data.size() % 0x10000 != 0)
    throw std::runtime_error("BIOS image '" + path + "' is " + std::to_string(data.size()) +
                             " bytes; a BIOS image is a non-empty multiple of 64 KiB (e.g. 128 or 256 KiB)");
  return data;
}

std::vector<uint8_t> Firmware::load_option_rom(const std::string& path) {
  std::vector<uint8_t> data = read_file(path, "option ROM", 128u << 10);
  if (data.size() < 512 || data[0] != 0x55 || data[1] != 0xAA)
    throw std::runtime_error("option ROM '" + path + "' has no 0x55 0xAA option ROM header");
  size_t declared = size_t{data[2]} * 512;
  if (declared == 0 || declared > data.size())
    throw std::runtime_error("option ROM '" + path + "' declares " + std::to_string(declared) + " bytes but the file has " +
                             std::to_string(data.size()));
  return data;
}

Firmware::Firmware(Cpu& cpu, std::vector<uint8_t> image) : cpu_(cpu), image_(std::move(image)) {
  if (image_.empty() || image_.size() % 0x10000 != 0 || image_.size() > (16u << 20))
    throw std::invalid_argument("firmware: image size must be a non-empty multiple of 64 KiB up to 16 MiB");
  if (cpu_.ram_size() < 0x100000) throw std::invalid_argument("firmware: the machine needs at least 1 MiB of RAM");
  modes_.fill(kPlainRam);
  hidden_.assign(kShadowSize, 0);
  cpu_.on_rom_write = [this](uint32_t paddr, uint8_t value) { rom_write(paddr, value); };
}

Firmware::~Firmware() {
  cpu_.on_rom_write = nullptr;
  cpu_.set_rom_pages(kShadowBase >> 12, kShadowSize >> 12, false);
}

uint8_t Firmware::rom_byte(uint32_t paddr) const {
  const uint32_t window = image_.size() < kLowWindow ? static_cast<uint32_t>(image_.size()) : kLowWindow;
  if (paddr < 0x100000u - window || paddr >= 0x100000u) return 0xFF;
  return image_[image_.size() - (0x100000u - paddr)];
}

uint32_t Firmware::high_read(uint32_t offset, unsigned size) const {
  uint32_t v = 0;
  for (unsigned k = 0; k < size; ++k) {
    uint64_t at = uint64_t{offset} + k;
    uint8_t b = at < image_.size() ? image_[at] : 0xFF;
    v |= uint32_t{b} << (8 * k);
  }
  return v;
}

void Firmware::mark_pages(unsigned seg) {
  cpu_.set_rom_pages(segment_base(seg) >> 12, segment_size(seg) >> 12, modes_[seg] != kPlainRam);
}

void Firmware::set_mode(unsigned seg, uint8_t mode) {
  const uint8_t old = modes_[seg];
  if (old == mode) return;
  const uint32_t base = segment_base(seg), size = segment_size(seg);
  uint8_t* hidden = hidden_.data() + (base - kShadowBase);
  if ((old & kRe) && !(mode & kRe)) {
    // DRAM goes into hiding; the ROM side becomes visible.
    cpu_.read_phys(base, hidden, size);
    std::vector<uint8_t> rom(size);
    for (uint32_t i = 0; i < size; ++i) rom[i] = rom_byte(base + i);
    cpu_.write_phys(base, rom.data(), size);
  } else if (!(old & kRe) && (mode & kRe)) {
    cpu_.write_phys(base, hidden, size);
  }
  modes_[seg] = mode;
  mark_pages(seg);
}

void Firmware::pam_changed(unsigned index, uint8_t value) {
  if (index == 0) {
    set_mode(0, (value >> 4) & 3);
  } else if (index < 7) {
    set_mode(1 + 2 * (index - 1), value & 3);
    set_mode(2 + 2 * (index - 1), (value >> 4) & 3);
  }
}

void Firmware::apply_pam(const std::array<uint8_t, 7>& pam) {
  for (unsigned i = 0; i < 7; ++i) pam_changed(i, pam[i]);
}

void Firmware::rom_write(uint32_t paddr, uint8_t value) {
  if (paddr >= kShadowBase && paddr < kShadowBase + kShadowSize) {
    unsigned seg = paddr >= 0xF0000 ? 0 : 1 + (paddr - kShadowBase) / 0x4000;
    if ((modes_[seg] & kWe) && !(modes_[seg] & kRe)) {
      hidden_[paddr - kShadowBase] = value;
      return;
    }
  }
  ++dropped_writes_;
}

uint32_t Firmware::read(uint32_t offset, unsigned) { return offset == 0 ? kDebugReadback : 0xFF; }

void Firmware::write(uint32_t offset, unsigned, uint32_t value) {
  if (offset != 0) return;
  char ch = static_cast<char>(value & 0xFF);
  debug_.push_back(ch);
  if (debug_observer) debug_observer(ch);
}

std::string Firmware::save() const {
  pb::dev::FirmwareState st;
  st.set_version(kVersion);
  st.set_modes(std::string(modes_.begin(), modes_.end()));
  for (unsigned seg = 0; seg < kSegments; ++seg) {
    if (modes_[seg] & kRe) continue;
    auto* h = st.add_hidden();
    h->set_segment(seg);
    const char* at = reinterpret_cast<const char*>(hidden_.data()) + (segment_base(seg) - kShadowBase);
    h->set_data(std::string(at, segment_size(seg)));
  }
  return st.SerializeAsString();
}

void Firmware::load(const std::string& bytes) {
  pb::dev::FirmwareState st;
  if (!st.ParseFromString(bytes)) throw std::runtime_error("firmware: malformed saved state");
  if (st.version() != kVersion)
    throw std::runtime_error("firmware: unknown saved state version " + std::to_string(st.version()));
  if (st.modes().size() != kSegments) throw std::runtime_error("firmware: saved state has a wrong segment count");
  for (unsigned seg = 0; seg < kSegments; ++seg) {
    uint8_t m = static_cast<uint8_t>(st.modes()[seg]);
    if (m > kPlainRam) throw std::runtime_error("firmware: saved state has an invalid segment mode");
    modes_[seg] = m;
  }
  for (const auto& h : st.hidden()) {
    if (h.segment() >= kSegments || h.data().size() != segment_size(h.segment()))
      throw std::runtime_error("firmware: saved state has a malformed hidden segment");
    std::memcpy(hidden_.data() + (segment_base(h.segment()) - kShadowBase), h.data().data(), h.data().size());
  }
}

void Firmware::after_load() {
  for (unsigned seg = 0; seg < kSegments; ++seg) mark_pages(seg);
}

}  // namespace faultline
