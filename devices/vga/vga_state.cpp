// VGA and dispi save/load: one transfer function per device serves both
// directions so the two cannot drift apart.
#include <algorithm>
#include <stdexcept>
#include <type_traits>

#include "devices/vga/vga.h"
#include "vga/vga.pb.h"

namespace faultline {

namespace {
constexpr uint32_t kVgaStateVersion = 1;
constexpr uint32_t kDispiStateVersion = 1;

[[noreturn]] void fail(const char* device, const std::string& what) {
  throw std::runtime_error(std::string(device) + ": " + what);
}

// Fixed-size byte array <-> bytes field; a size mismatch on load is an error.
template <bool Saving, class Array>
void transfer_bytes(Array& array, std::string* field, const char* device, const char* what) {
  auto* data = reinterpret_cast<const char*>(array.data());
  if constexpr (Saving) {
    field->assign(data, array.size());
  } else {
    if (field->size() != array.size()) fail(device, std::string("state field ") + what + " has the wrong size");
    std::copy(field->begin(), field->end(), reinterpret_cast<char*>(array.data()));
  }
}
}  // namespace

template <bool Saving, class Msg, class Self>
void transfer_vga(Self& self, Msg& msg) {
#define FL_FIELD(member, field)                                                        \
  if constexpr (Saving)                                                                \
    msg.set_##field(self.member);                                                      \
  else                                                                                 \
    self.member = static_cast<std::remove_cvref_t<decltype(self.member)>>(msg.field());
#define FL_BYTES(member, field) transfer_bytes<Saving>(self.member, msg.mutable_##field(), "vga", #field);
  FL_FIELD(misc_, misc)
  FL_FIELD(feature_, feature)
  FL_FIELD(seq_index_, seq_index)
  FL_BYTES(seq_, seq)
  FL_FIELD(crtc_index_, crtc_index)
  FL_BYTES(crtc_, crtc)
  FL_FIELD(gc_index_, gc_index)
  FL_BYTES(gc_, gc)
  FL_FIELD(ac_index_, ac_index)
  FL_BYTES(ac_, ac)
  FL_FIELD(ac_flipflop_, ac_flipflop)
  FL_BYTES(palette_, palette)
  FL_FIELD(pel_mask_, pel_mask)
  FL_FIELD(dac_read_index_, dac_read_index)
  FL_FIELD(dac_write_index_, dac_write_index)
  FL_FIELD(dac_component_, dac_component)
  FL_FIELD(dac_reading_, dac_reading)
  FL_BYTES(dac_pending_, dac_pending)
  FL_BYTES(latch_, latch)
  FL_FIELD(status_toggle_, status_toggle)
#undef FL_BYTES
#undef FL_FIELD
  // The planes: one bytes field, plane 0 first.
  constexpr size_t kPlanes = sizeof(self.planes_);
  static_assert(kPlanes == 4 * Vga::kPlaneSize);
  if constexpr (Saving) {
    msg.mutable_planes()->assign(reinterpret_cast<const char*>(self.planes_.data()), kPlanes);
  } else {
    if (msg.planes().size() != kPlanes) fail("vga", "state field planes has the wrong size");
    std::copy(msg.planes().begin(), msg.planes().end(), reinterpret_cast<char*>(self.planes_.data()));
  }
}

std::string Vga::save() const {
  pb::dev::VgaState msg;
  msg.set_version(kVgaStateVersion);
  transfer_vga<true>(*this, msg);
  return msg.SerializeAsString();
}

void Vga::load(const std::string& state) {
  ++changes_;
  pb::dev::VgaState msg;
  if (!msg.ParseFromString(state)) fail("vga", "malformed state");
  if (msg.version() != kVgaStateVersion) fail("vga", "unknown state version " + std::to_string(msg.version()));
  auto byte_field = [](uint32_t v) { return v <= 0xFF; };
  if (!byte_field(msg.misc()) || !byte_field(msg.feature()) || msg.seq_index() > 7 || msg.crtc_index() > 0x3F ||
      msg.gc_index() > 0x0F || msg.ac_index() > 0x3F || !byte_field(msg.pel_mask()) ||
      !byte_field(msg.dac_read_index()) || !byte_field(msg.dac_write_index()) || msg.dac_component() > 2)
    fail("vga", "state field out of range");
  // Sizes are checked before anything is copied, so a bad message leaves the
  // device as it was.
  if (msg.seq().size() != seq_.size() || msg.crtc().size() != crtc_.size() || msg.gc().size() != gc_.size() ||
      msg.ac().size() != ac_.size() || msg.palette().size() != palette_.size() ||
      msg.dac_pending().size() != dac_pending_.size() || msg.latch().size() != latch_.size() ||
      msg.planes().size() != sizeof(planes_))
    fail("vga", "state field has the wrong size");
  transfer_vga<false>(*this, msg);
}

template <bool Saving, class Msg, class Self>
void transfer_dispi(Self& self, Msg& msg) {
#define FL_FIELD(member, field)                                                        \
  if constexpr (Saving)                                                                \
    msg.set_##field(self.member);                                                      \
  else                                                                                 \
    self.member = static_cast<std::remove_cvref_t<decltype(self.member)>>(msg.field());
  FL_FIELD(index_, index)
  FL_FIELD(id_, id)
  FL_FIELD(xres_, xres)
  FL_FIELD(yres_, yres)
  FL_FIELD(bpp_, bpp)
  FL_FIELD(enable_, enable)
  FL_FIELD(bank_, bank)
  FL_FIELD(virt_width_, virt_width)
  FL_FIELD(virt_height_, virt_height)
  FL_FIELD(x_offset_, x_offset)
  FL_FIELD(y_offset_, y_offset)
  FL_FIELD(get_caps_, get_caps)
#undef FL_FIELD
  // The framebuffer up to its last non-zero byte; the rest is zero.
  if constexpr (Saving) {
    size_t used = self.lfb_.size();
    while (used > 0 && self.lfb_[used - 1] == 0) --used;
    msg.mutable_lfb()->assign(reinterpret_cast<const char*>(self.lfb_.data()), used);
  } else {
    std::copy(msg.lfb().begin(), msg.lfb().end(), reinterpret_cast<char*>(self.lfb_.data()));
    std::fill(self.lfb_.begin() + static_cast<ptrdiff_t>(msg.lfb().size()), self.lfb_.end(), 0);
  }
}

std::string VbeDispi::save() const {
  pb::dev::VbeDispiState msg;
  msg.set_version(kDispiStateVersion);
  transfer_dispi<true>(*this, msg);
  return msg.SerializeAsString();
}

void VbeDispi::load(const std::string& state) {
  ++changes_;
  pb::dev::VbeDispiState msg;
  if (!msg.ParseFromString(state)) fail(name(), "malformed state");
  if (msg.version() != kDispiStateVersion) fail(name(), "unknown state version " + std::to_string(msg.version()));
  const uint32_t bpp = msg.bpp();
  if (msg.index() > 0xFFFF || msg.id() < 0xB0C0 || msg.id() > 0xB0C5 || msg.xres() > kMaxXres ||
      msg.yres() > kMaxYres || !(bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32) ||
      msg.enable() > 0xFF || (static_cast<uint64_t>(msg.bank()) << 16) >= kLfbSize || msg.virt_width() > 0xFFFF ||
      msg.virt_height() > 0xFFFF || msg.x_offset() > 0xFFFF || msg.y_offset() > 0xFFFF ||
      msg.lfb().size() > kLfbSize)
    fail(name(), "state field out of range");
  transfer_dispi<false>(*this, msg);
}

}  // namespace faultline
