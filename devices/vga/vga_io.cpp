// VGA register interface (ports 0x3B0-0x3DF as offsets from 0x3B0) and the
// Bochs VBE dispi index/data ports.
#include <algorithm>

#include "devices/vga/vga.h"

namespace faultline {

namespace {
// Offsets from Vga::kIoBase (0x3B0).
constexpr uint32_t kMonoCrtcIndex = 0x04, kMonoCrtcData = 0x05, kMonoStatus1 = 0x0A;  // 0x3B4/5, 0x3BA
constexpr uint32_t kAcIndex = 0x10, kAcData = 0x11;                                   // 0x3C0/1
constexpr uint32_t kMiscWriteStatus0 = 0x12;                                          // 0x3C2
constexpr uint32_t kSeqIndex = 0x14, kSeqData = 0x15;                                 // 0x3C4/5
constexpr uint32_t kPelMask = 0x16, kDacReadIndex = 0x17, kDacWriteIndex = 0x18, kDacData = 0x19;
constexpr uint32_t kFeatureRead = 0x1A;                                               // 0x3CA
constexpr uint32_t kMiscRead = 0x1C;                                                  // 0x3CC
constexpr uint32_t kGcIndex = 0x1E, kGcData = 0x1F;                                   // 0x3CE/F
constexpr uint32_t kColorCrtcIndex = 0x24, kColorCrtcData = 0x25, kColorStatus1 = 0x2A;  // 0x3D4/5, 0x3DA
}  // namespace

uint32_t Vga::read(uint32_t offset, unsigned size) {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) value |= static_cast<uint32_t>(read_port(offset + i)) << (8 * i);
  return value;
}

void Vga::write(uint32_t offset, unsigned size, uint32_t value) {
  ++changes_;
  for (unsigned i = 0; i < size; ++i) write_port(offset + i, static_cast<uint8_t>(value >> (8 * i)));
}

uint8_t Vga::read_port(uint32_t port) {
  // The CRTC and input status 1 answer only at the address misc bit 0 selects.
  const uint32_t crtc_index = mono() ? kMonoCrtcIndex : kColorCrtcIndex;
  const uint32_t status1_port = mono() ? kMonoStatus1 : kColorStatus1;
  if (port == crtc_index) return crtc_index_;
  if (port == crtc_index + 1) return crtc_index_ < crtc_.size() ? crtc_[crtc_index_] : 0xFF;
  if (port == status1_port) return status1();
  switch (port) {
    case kAcIndex: return ac_index_;
    case kAcData: return (ac_index_ & 0x1F) < ac_.size() ? ac_[ac_index_ & 0x1F] : 0;
    case kMiscWriteStatus0: return 0x00;  // input status 0: no switch sense, no CRT interrupt
    case kSeqIndex: return seq_index_;
    case kSeqData: return seq_index_ < seq_.size() ? seq_[seq_index_] : 0xFF;
    case kPelMask: return pel_mask_;
    case kDacReadIndex: return dac_reading_ ? 0x03 : 0x00;
    case kDacWriteIndex: return dac_write_index_;
    case kDacData: {
      uint8_t v = palette_[dac_read_index_ * 3u + dac_component_];
      if (!dispi_.dac_8bit()) v &= 0x3F;
      if (++dac_component_ == 3) {
        dac_component_ = 0;
        ++dac_read_index_;
      }
      return v;
    }
    case kFeatureRead: return feature_;
    case kMiscRead: return misc_;
    case kGcIndex: return gc_index_;
    case kGcData: return gc_index_ < gc_.size() ? gc_[gc_index_] : 0xFF;
    default: return 0xFF;
  }
}

void Vga::write_port(uint32_t port, uint8_t value) {
  const uint32_t crtc_index = mono() ? kMonoCrtcIndex : kColorCrtcIndex;
  const uint32_t status1_port = mono() ? kMonoStatus1 : kColorStatus1;
  if (port == crtc_index) {
    crtc_index_ = value & 0x3F;
    return;
  }
  if (port == crtc_index + 1) {
    if (crtc_index_ >= crtc_.size()) return;
    // CR11 bit 7 protects CR00-CR07, except the line compare bit in CR07.
    if ((crtc_[0x11] & 0x80) && crtc_index_ <= 7) {
      if (crtc_index_ == 7) crtc_[7] = static_cast<uint8_t>((crtc_[7] & ~0x10) | (value & 0x10));
      return;
    }
    crtc_[crtc_index_] = value;
    return;
  }
  if (port == status1_port) {  // feature control is written where status 1 is read
    feature_ = value;
    return;
  }
  switch (port) {
    case kAcIndex:
      if (!ac_flipflop_) {
        ac_index_ = value & 0x3F;
      } else if ((ac_index_ & 0x1F) < ac_.size()) {
        ac_[ac_index_ & 0x1F] = value;
      }
      ac_flipflop_ = !ac_flipflop_;
      return;
    case kMiscWriteStatus0: misc_ = value; return;
    case kSeqIndex: seq_index_ = value & 0x07; return;
    case kSeqData:
      if (seq_index_ < seq_.size()) seq_[seq_index_] = value;
      return;
    case kPelMask: pel_mask_ = value; return;
    case kDacReadIndex:
      dac_read_index_ = value;
      dac_component_ = 0;
      dac_reading_ = true;
      return;
    case kDacWriteIndex:
      dac_write_index_ = value;
      dac_component_ = 0;
      dac_reading_ = false;
      return;
    case kDacData:
      dac_pending_[dac_component_] = dispi_.dac_8bit() ? value : static_cast<uint8_t>(value & 0x3F);
      if (++dac_component_ == 3) {
        std::copy(dac_pending_.begin(), dac_pending_.end(), palette_.begin() + dac_write_index_ * 3);
        dac_component_ = 0;
        ++dac_write_index_;
      }
      return;
    case kGcIndex: gc_index_ = value & 0x0F; return;
    case kGcData:
      if (gc_index_ < gc_.size()) gc_[gc_index_] = value;
      return;
    default: return;  // 0x3C1 is read-only; other ports are not decoded
  }
}

// ---- Bochs VBE dispi -------------------------------------------------------

void VbeDispi::reset() {
  ++changes_;
  index_ = 0;
  id_ = 0xB0C5;
  xres_ = 640;
  yres_ = 480;
  bpp_ = 8;
  enable_ = 0;
  bank_ = 0;
  virt_width_ = 640;
  virt_height_ = 480;
  x_offset_ = y_offset_ = 0;
  get_caps_ = false;
  std::fill(lfb_.begin(), lfb_.end(), 0);
}

uint32_t VbeDispi::read(uint32_t offset, unsigned size) {
  uint32_t v = offset == 0 ? index_ : read_register();
  return size == 1 ? v & 0xFF : v;
}

void VbeDispi::write(uint32_t offset, unsigned /*size*/, uint32_t value) {
  ++changes_;
  if (offset == 0)
    index_ = static_cast<uint16_t>(value);
  else
    write_register(static_cast<uint16_t>(value));
}

uint16_t VbeDispi::read_register() const {
  switch (index_) {
    case kId: return id_;
    case kXres: return get_caps_ ? kMaxXres : xres_;
    case kYres: return get_caps_ ? kMaxYres : yres_;
    case kBpp: return get_caps_ ? kMaxBpp : bpp_;
    case kEnable: return enable_;
    case kBank: return bank_;
    case kVirtWidth: return virt_width_;
    case kVirtHeight: return virt_height_;
    case kXOffset: return x_offset_;
    case kYOffset: return y_offset_;
    case kVideoMemory64k: return static_cast<uint16_t>(kLfbSize >> 16);
    default: return 0;
  }
}

void VbeDispi::write_register(uint16_t value) {
  switch (index_) {
    case kId:
      if (value >= 0xB0C0 && value <= 0xB0C5) id_ = value;
      return;
    case kXres:
      if (!enabled()) xres_ = std::min(value, kMaxXres);
      return;
    case kYres:
      if (!enabled()) yres_ = std::min(value, kMaxYres);
      return;
    case kBpp:
      if (enabled()) return;
      if (value == 0) value = 8;  // 0 selects the default depth
      if (value == 8 || value == 15 || value == 16 || value == 24 || value == 32) bpp_ = value;
      return;
    case kEnable: set_enable(value); return;
    case kBank:
      if (static_cast<uint32_t>(value) << 16 < kLfbSize) bank_ = value;
      return;
    case kVirtWidth:
      virt_width_ = value;
      update_virtual_height();
      return;
    case kXOffset: x_offset_ = value; return;
    case kYOffset: y_offset_ = value; return;
    default: return;  // VIRT_HEIGHT and the memory size are derived
  }
}

void VbeDispi::set_enable(uint16_t value) {
  get_caps_ = value & kGetCaps;
  const bool was_enabled = enabled();
  enable_ = value & (kEnabled | kGetCaps | kDac8Bit | kLfbEnabled | kNoClearMem);
  if (!enabled() || was_enabled) return;
  // Enabling a mode: the virtual screen matches it, the view starts at the
  // origin, and the framebuffer is cleared unless asked not to.
  if (xres_ == 0) xres_ = 1;
  if (yres_ == 0) yres_ = 1;
  virt_width_ = xres_;
  x_offset_ = y_offset_ = 0;
  bank_ = 0;
  update_virtual_height();
  if (!(value & kNoClearMem)) std::fill(lfb_.begin(), lfb_.end(), 0);
}

void VbeDispi::update_virtual_height() {
  uint32_t p = pitch();
  virt_height_ = p ? static_cast<uint16_t>(std::min<uint32_t>(kLfbSize / p, 0xFFFF)) : 0;
}

uint32_t VbeDispi::lfb_read(uint32_t offset, unsigned size) const {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t at = offset + i;
    value |= static_cast<uint32_t>(at < kLfbSize ? lfb_[at] : 0xFF) << (8 * i);
  }
  return value;
}

void VbeDispi::lfb_write(uint32_t offset, unsigned size, uint32_t value) {
  ++changes_;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t at = offset + i;
    if (at < kLfbSize) lfb_[at] = static_cast<uint8_t>(value >> (8 * i));
  }
}

}  // namespace faultline
