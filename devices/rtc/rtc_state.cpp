// MC146818 save/load: one transfer function serves both directions so the
// two cannot drift apart.
#include <stdexcept>
#include <type_traits>

#include "devices/rtc/rtc.h"
#include "rtc/rtc.pb.h"

namespace faultline {

namespace {
constexpr uint32_t kRtcStateVersion = 1;
}  // namespace

template <bool Saving, class Msg, class Self>
void transfer_rtc(Self& self, Msg& msg) {
#define FL_FIELD(member, field)   \
  if constexpr (Saving)           \
    msg.set_##field(self.member); \
  else                            \
    self.member = static_cast<std::remove_cvref_t<decltype(self.member)>>(msg.field());
  FL_FIELD(index_, index)
  FL_FIELD(nmi_disabled_, nmi_disabled)
  FL_FIELD(seconds_at_base_, seconds_at_base)
  FL_FIELD(base_ns_, base_ns)
  FL_FIELD(weekday_offset_, weekday_offset)
  FL_FIELD(flags_ns_, flags_ns)
#undef FL_FIELD
  if constexpr (Saving)
    msg.set_cmos(std::string(self.cmos_.begin(), self.cmos_.end()));
  else
    std::copy(msg.cmos().begin(), msg.cmos().end(), self.cmos_.begin());
}

std::string Rtc146818::save() const {
  pb::dev::RtcState msg;
  msg.set_version(kRtcStateVersion);
  transfer_rtc<true>(*this, msg);
  return msg.SerializeAsString();
}

void Rtc146818::load(const std::string& state) {
  pb::dev::RtcState msg;
  if (!msg.ParseFromString(state)) throw std::runtime_error("rtc: malformed state");
  if (msg.version() != kRtcStateVersion)
    throw std::runtime_error("rtc: unknown state version " + std::to_string(msg.version()));
  if (msg.cmos().size() != kCmosSize || msg.index() >= kCmosSize || msg.weekday_offset() < 0 ||
      msg.weekday_offset() > 6)
    throw std::runtime_error("rtc: state field out of range");
  if (event_) time_.cancel(event_);
  event_ = 0;
  transfer_rtc<false>(*this, msg);
}

}  // namespace faultline
