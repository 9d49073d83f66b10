// Test doubles for the UART, i8042 and misc port tests (see
// device_test_support.h): the clock starts at 1 ms so "time 0" is never a
// special case.
#pragma once

#include "tests/devices/device_test_support.h"

namespace faultline::serial_test {
class ManualTime final : public device_test::ManualClock {
 public:
  ManualTime() : ManualClock(1'000'000) {}
};
using RecordingIrq = device_test::EdgeCountingLine;
}  // namespace faultline::serial_test
