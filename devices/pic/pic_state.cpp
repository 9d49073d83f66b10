// 8259A save/load: one transfer function serves both directions so the two
// cannot drift apart.
#include <stdexcept>
#include <type_traits>

#include "devices/pic/pic.h"
#include "pic/pic.pb.h"

namespace faultline {

namespace {
constexpr uint32_t kPicStateVersion = 1;
constexpr uint32_t kElcrStateVersion = 1;
}  // namespace

// Copies every state field member <-> message field.
template <bool Saving, class Msg, class Self>
void transfer_pic(Self& self, Msg& msg) {
#define FL_FIELD(member, field)                                       \
  if constexpr (Saving)                                               \
    msg.set_##field(self.member);                                     \
  else                                                                \
    self.member = static_cast<std::remove_cvref_t<decltype(self.member)>>(msg.field());
  FL_FIELD(irr_, irr)
  FL_FIELD(isr_, isr)
  FL_FIELD(imr_, imr)
  FL_FIELD(lines_, lines)
  FL_FIELD(elcr_, elcr)
  FL_FIELD(icw1_, icw1)
  FL_FIELD(icw2_, icw2)
  FL_FIELD(icw3_, icw3)
  FL_FIELD(icw4_, icw4)
  FL_FIELD(init_step_, init_step)
  FL_FIELD(lowest_priority_, lowest_priority)
  FL_FIELD(read_isr_, read_isr)
  FL_FIELD(poll_pending_, poll_pending)
  FL_FIELD(special_mask_, special_mask)
  FL_FIELD(rotate_on_auto_eoi_, rotate_on_auto_eoi)
#undef FL_FIELD
}

std::string Pic8259::save() const {
  pb::dev::Pic8259State msg;
  msg.set_version(kPicStateVersion);
  transfer_pic<true>(*this, msg);
  return msg.SerializeAsString();
}

void Pic8259::load(const std::string& state) {
  pb::dev::Pic8259State msg;
  if (!msg.ParseFromString(state)) throw std::runtime_error(std::string(name()) + ": malformed state");
  if (msg.version() != kPicStateVersion)
    throw std::runtime_error(std::string(name()) + ": unknown state version " + std::to_string(msg.version()));
  auto byte_field = [](uint32_t v) { return v <= 0xFF; };
  if (!byte_field(msg.irr()) || !byte_field(msg.isr()) || !byte_field(msg.imr()) || !byte_field(msg.lines()) ||
      !byte_field(msg.elcr()) || !byte_field(msg.icw1()) || !byte_field(msg.icw2()) || !byte_field(msg.icw3()) ||
      !byte_field(msg.icw4()) || msg.lowest_priority() > 7 ||
      (msg.init_step() != 0 && (msg.init_step() < 2 || msg.init_step() > 4)))
    throw std::runtime_error(std::string(name()) + ": state field out of range");
  transfer_pic<false>(*this, msg);
}

std::string PicElcr::save() const {
  pb::dev::PicElcrState msg;
  msg.set_version(kElcrStateVersion);
  return msg.SerializeAsString();
}

void PicElcr::load(const std::string& state) {
  pb::dev::PicElcrState msg;
  if (!msg.ParseFromString(state)) throw std::runtime_error("pic-elcr: malformed state");
  if (msg.version() != kElcrStateVersion)
    throw std::runtime_error("pic-elcr: unknown state version " + std::to_string(msg.version()));
}

}  // namespace faultline
