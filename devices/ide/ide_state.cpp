// ATA channel save/load: one transfer function serves both directions so the
// two cannot drift apart.
#include <stdexcept>
#include <type_traits>

#include "devices/ide/ide.h"
#include "ide/ide.pb.h"

namespace faultline {

namespace {
constexpr uint32_t kChannelStateVersion = 1;
constexpr uint32_t kViewStateVersion = 1;

template <class Msg>
void check_view(const std::string& state, const std::string& who) {
  Msg msg;
  if (!msg.ParseFromString(state)) throw std::runtime_error(who + ": malformed state");
  if (msg.version() != kViewStateVersion)
    throw std::runtime_error(who + ": unknown state version " + std::to_string(msg.version()));
}
}  // namespace

template <bool Saving, class Msg, class Self>
void transfer_ide(Self& self, Msg& msg) {
#define FL_FIELD(member, field)                                       \
  if constexpr (Saving)                                               \
    msg.set_##field(self.member);                                     \
  else                                                                \
    self.member = static_cast<std::remove_cvref_t<decltype(self.member)>>(msg.field());
  FL_FIELD(feature_, feature)
  FL_FIELD(count_, count)
  FL_FIELD(lba_low_, lba_low)
  FL_FIELD(lba_mid_, lba_mid)
  FL_FIELD(lba_high_, lba_high)
  FL_FIELD(hob_feature_, hob_feature)
  FL_FIELD(hob_count_, hob_count)
  FL_FIELD(hob_lba_low_, hob_lba_low)
  FL_FIELD(hob_lba_mid_, hob_lba_mid)
  FL_FIELD(hob_lba_high_, hob_lba_high)
  FL_FIELD(device_, device)
  FL_FIELD(status_, status)
  FL_FIELD(error_, error)
  FL_FIELD(device_control_, device_control)
  FL_FIELD(irq_pending_, irq_pending)
  FL_FIELD(next_lba_, next_lba)
  FL_FIELD(remaining_, remaining)
  FL_FIELD(block_, block)
  FL_FIELD(lba48_, lba48)
  FL_FIELD(buffer_pos_, buffer_pos)
  FL_FIELD(bm_command_, bm_command)
  FL_FIELD(bm_status_, bm_status)
  FL_FIELD(bm_prd_, bm_prd)
#undef FL_FIELD
  for (unsigned i = 0; i < 2; ++i) {
    auto& d = self.drives_[i];
    if constexpr (Saving) {
      auto* m = msg.add_drives();
      m->set_present(d.image != nullptr);
      m->set_multiple(d.multiple);
      m->set_heads(d.heads);
      m->set_sectors_per_track(d.sectors_per_track);
      m->set_transfer_mode(d.transfer_mode);
    } else {
      const auto& m = msg.drives(static_cast<int>(i));
      d.multiple = static_cast<uint16_t>(m.multiple());
      d.heads = static_cast<uint16_t>(m.heads());
      d.sectors_per_track = static_cast<uint16_t>(m.sectors_per_track());
      d.transfer_mode = static_cast<uint8_t>(m.transfer_mode());
    }
  }
  if constexpr (Saving) {
    msg.set_phase(static_cast<uint32_t>(self.phase_));
    msg.set_buffer(std::string(reinterpret_cast<const char*>(self.buffer_.data()), self.buffer_len_));
  } else {
    self.phase_ = static_cast<typename std::remove_cvref_t<decltype(self.phase_)>>(msg.phase());
    self.buffer_len_ = static_cast<uint32_t>(msg.buffer().size());
    std::copy(msg.buffer().begin(), msg.buffer().end(), self.buffer_.begin());
  }
}

std::string IdeChannel::save() const {
  pb::dev::IdeChannelState msg;
  msg.set_version(kChannelStateVersion);
  transfer_ide<true>(*this, msg);
  return msg.SerializeAsString();
}

void IdeChannel::load(const std::string& state) {
  pb::dev::IdeChannelState msg;
  const std::string who = name_;
  if (!msg.ParseFromString(state)) throw std::runtime_error(who + ": malformed state");
  if (msg.version() != kChannelStateVersion)
    throw std::runtime_error(who + ": unknown state version " + std::to_string(msg.version()));
  if (msg.drives_size() != 2) throw std::runtime_error(who + ": state must describe two drives");
  for (int i = 0; i < 2; ++i) {
    const auto& d = msg.drives(i);
    if (d.present() != present(static_cast<unsigned>(i)))
      throw std::runtime_error(who + ": state was saved with drive " + std::to_string(i) +
                               (d.present() ? " attached" : " absent") + ", which does not match");
    if (d.multiple() > kMaxMultiple || (d.multiple() & (d.multiple() - 1)) || d.heads() == 0 || d.heads() > 16 ||
        d.sectors_per_track() == 0 || d.sectors_per_track() > 255 || d.transfer_mode() > 0xFF)
      throw std::runtime_error(who + ": drive settings out of range");
  }
  auto byte = [](uint32_t v) { return v <= 0xFF; };
  bool bytes_ok = byte(msg.feature()) && byte(msg.count()) && byte(msg.lba_low()) && byte(msg.lba_mid()) &&
                  byte(msg.lba_high()) && byte(msg.hob_feature()) && byte(msg.hob_count()) &&
                  byte(msg.hob_lba_low()) && byte(msg.hob_lba_mid()) && byte(msg.hob_lba_high()) &&
                  byte(msg.device()) && byte(msg.status()) && byte(msg.error()) && byte(msg.device_control()) &&
                  byte(msg.bm_command()) && byte(msg.bm_status());
  if (!bytes_ok || msg.phase() > static_cast<uint32_t>(Phase::Hung) || msg.buffer().size() > buffer_.size() ||
      msg.buffer_pos() > msg.buffer().size() || msg.block() == 0 || msg.block() > kMaxMultiple ||
      msg.remaining() > 65536)
    throw std::runtime_error(who + ": state field out of range");
  transfer_ide<false>(*this, msg);
}

std::string IdeChannel::Control::save() const {
  pb::dev::IdeControlState msg;
  msg.set_version(kViewStateVersion);
  return msg.SerializeAsString();
}

void IdeChannel::Control::load(const std::string& state) {
  check_view<pb::dev::IdeControlState>(state, name());
}

std::string IdeBusMaster::save() const {
  pb::dev::IdeBusMasterState msg;
  msg.set_version(kViewStateVersion);
  return msg.SerializeAsString();
}

void IdeBusMaster::load(const std::string& state) { check_view<pb::dev::IdeBusMasterState>(state, name()); }

}  // namespace faultline
