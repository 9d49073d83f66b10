// The PIT, PIC and RTC wired the way the platform wires them, on a real
// Machine's virtual clock: MachineTimeSource events, IRQ lines into the
// PicPair, and the PicPair as the CPU's InterruptSource. Virtual time is
// moved by setting the CPU's tick counter and dispatching the clock, as the
// run loop does, so no guest code is needed.
#include <gtest/gtest.h>

#include "core/machine.h"
#include "devices/pic/pic.h"
#include "devices/pit/pit.h"
#include "devices/rtc/rtc.h"
#include "devices/time_source.h"

namespace faultline {
namespace {

class TimerWiringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pic.set_notify([this] {
      ++notifications;
      machine.cpu().interrupt_line_changed();
    });
    machine.cpu().irq_source = &pic;
    // Master vectors 0x08.., slave 0x70.. (the BIOS layout), all unmasked.
    for (uint8_t v : {0x11, 0x08, 0x04, 0x01, 0x00}) pic.master().write(v == 0x11 ? 0 : 1, 1, v);
    for (uint8_t v : {0x11, 0x70, 0x02, 0x01, 0x00}) pic.slave().write(v == 0x11 ? 0 : 1, 1, v);
  }
  void TearDown() override { machine.cpu().irq_source = nullptr; }

  // Moves virtual time to `ns` and runs due events, as the CPU loop would.
  void run_to(uint64_t ns) {
    Cpu& cpu = machine.cpu();
    cpu.load_state(cpu.s, machine.clock().ns_to_ticks(ns), 0);
    machine.clock().dispatch(cpu.ticks());
  }
  // Takes every pending interrupt like the CPU (acknowledge + EOI).
  void service(std::vector<uint8_t>& vectors) {
    while (pic.interrupt_pending()) {
      uint8_t v = pic.acknowledge();
      vectors.push_back(v);
      if (v >= 0x70) pic.slave().write(0, 1, 0x20);
      pic.master().write(0, 1, 0x20);
    }
  }

  Machine machine{MachineConfig{}};
  MachineTimeSource time{machine};
  PicPair pic;
  int notifications = 0;
};

TEST_F(TimerWiringTest, PitMode2Delivers1000HzOnTheMachineClock) {
  Pit8254 pit{time, pic.line(0)};
  pit.write(3, 1, 0x34);
  pit.write(0, 1, 1193 & 0xFF);
  pit.write(0, 1, 1193 >> 8);
  EXPECT_EQ(machine.clock().pending(), 1u);
  std::vector<uint8_t> vectors;
  for (uint64_t ns = 0; ns <= 1'000'000'000; ns += 200'000) {
    run_to(ns);
    service(vectors);
  }
  EXPECT_EQ(vectors.size(), 1000u);
  for (uint8_t v : vectors) ASSERT_EQ(v, 0x08);
  EXPECT_GT(notifications, 0);
  pit.write(3, 1, 0x30);  // reprogramming cancels the machine event
  EXPECT_EQ(machine.clock().pending(), 0u);
}

TEST_F(TimerWiringTest, RtcPeriodicInterruptArrivesAsVector0x70) {
  Rtc146818 rtc{time, pic.line(8)};
  rtc.write(0, 1, 0x0A);
  rtc.write(1, 1, 0x2A);  // 64 Hz
  rtc.write(0, 1, 0x0B);
  rtc.write(1, 1, 0x42);  // PIE
  std::vector<uint8_t> vectors;
  for (uint64_t ns = 0; ns <= 1'000'000'000; ns += 1'000'000) {
    run_to(ns);
    size_t before = vectors.size();
    service(vectors);
    if (vectors.size() != before) {  // the handler reads C to re-arm IRQ 8
      rtc.write(0, 1, 0x0C);
      EXPECT_EQ(rtc.read(1, 1) & 0xC0, 0xC0u);
    }
  }
  EXPECT_EQ(vectors.size(), 64u);
  for (uint8_t v : vectors) ASSERT_EQ(v, 0x70) << "IRQ 8 is slave IR0";
}

}  // namespace
}  // namespace faultline
