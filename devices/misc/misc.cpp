// POST code logging and port 0x92 behaviour.
#include "devices/misc/misc.h"

namespace faultline {

void PostCodePort::reset() {
  // The log is a trail across resets (a reboot loop is worth seeing); only
  // the latch goes back to zero.
  last_code_ = 0;
}

void PostCodePort::record(uint8_t code) {
  last_code_ = code;
  ++count_;
  if (log_.size() < kLogLimit) log_.push_back({code, time_ ? time_->now_ns() : 0});
  if (observer) observer(code);
}

void SystemControlPortA::update(uint8_t value) {
  uint8_t old = value_;
  value_ = value;
  if (((old ^ value) & kFastA20) && a20) a20(value & kFastA20);
  if (!(old & kFastReset) && (value & kFastReset) && cpu_reset) cpu_reset();
}

}  // namespace faultline
