// Test doubles for the PIC, PIT and RTC tests (see device_test_support.h):
// the clock starts at 0.
#pragma once

#include "tests/devices/device_test_support.h"

namespace faultline::timer_test {
using ManualClock = device_test::ManualClock;
using EdgeCountingLine = device_test::EdgeCountingLine;
}  // namespace faultline::timer_test
