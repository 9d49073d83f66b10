// 8254 PIT and port B: IRQ0 rate in virtual time, one-shot, latch and
// read-back, BCD, reprogramming, gate 2 via port B, save/load.
#include "devices/pit/pit.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/devices/timer_test_support.h"

namespace faultline {
namespace {

using timer_test::EdgeCountingLine;
using timer_test::ManualClock;

constexpr uint64_t kSecond = 1'000'000'000;

class PitTest : public ::testing::Test {
 protected:
  void write_count(unsigned counter, uint16_t count) {
    pit.write(counter, 1, count & 0xFF);
    pit.write(counter, 1, count >> 8);
  }
  uint16_t read_word(unsigned counter) {
    uint16_t lo = static_cast<uint16_t>(pit.read(counter, 1));
    return static_cast<uint16_t>(lo | pit.read(counter, 1) << 8);
  }
  // Virtual time at which input-clock cycle `clock` has been reached.
  static uint64_t at(uint64_t clock) { return Pit8254::ns_at_clock(clock); }

  ManualClock time;
  EdgeCountingLine irq0;
  Pit8254 pit{time, irq0};
  PortB port_b{time, pit};
};

TEST_F(PitTest, ClockConversionRoundTrips) {
  EXPECT_EQ(Pit8254::clock_at(kSecond), Pit8254::kInputHz);
  for (uint64_t c : {1ull, 1193ull, 65536ull, 123456789ull}) {
    EXPECT_EQ(Pit8254::clock_at(Pit8254::ns_at_clock(c)), c);
    EXPECT_EQ(Pit8254::clock_at(Pit8254::ns_at_clock(c) - 1), c - 1);
  }
}

TEST_F(PitTest, Mode2RaisesIrq0AtTheProgrammedRate) {
  pit.write(3, 1, 0x34);  // counter 0, word, mode 2, binary
  write_count(0, 1193);   // ~1000 Hz
  // The counter loads on the next clock (cycle 1); OUT rises every 1193 cycles.
  time.advance_to(at(1 + 1193) - 1);
  EXPECT_EQ(irq0.rising_edges, 0);
  time.advance_to(at(1 + 1193));
  EXPECT_EQ(irq0.rising_edges, 1);
  time.advance_to(kSecond);
  EXPECT_EQ(irq0.rising_edges, static_cast<int>((Pit8254::kInputHz - 1) / 1193));  // 1000
  EXPECT_EQ(time.pending(), 1u) << "only the next edge is scheduled";
}

TEST_F(PitTest, Mode3SquareWaveRateAndOutput) {
  pit.write(3, 1, 0x36);  // counter 0, word, mode 3
  write_count(0, 100);
  time.advance_to(at(1 + 10));
  EXPECT_TRUE(pit.out(0));
  EXPECT_EQ(read_word(0), 100 - 2 * 10);
  time.advance_to(at(1 + 60));
  EXPECT_FALSE(pit.out(0));
  time.advance_to(at(1 + 100 * 50));
  EXPECT_EQ(irq0.rising_edges, 50);
}

TEST_F(PitTest, Mode0IsAOneShot) {
  pit.write(3, 1, 0x30);  // counter 0, word, mode 0
  write_count(0, 500);
  EXPECT_FALSE(pit.out(0));
  time.advance_to(at(1 + 500) - 1);
  EXPECT_FALSE(irq0.level);
  time.advance_to(at(1 + 500));
  EXPECT_TRUE(irq0.level);
  EXPECT_TRUE(pit.out(0));
  time.advance_to(10 * kSecond);
  EXPECT_EQ(irq0.rising_edges, 1);
  EXPECT_EQ(time.pending(), 0u);
  EXPECT_TRUE(pit.out(0)) << "OUT stays high until reprogrammed";
}

TEST_F(PitTest, Mode0ReprogramLowersOutAndRestarts) {
  pit.write(3, 1, 0x30);
  write_count(0, 10);
  time.advance_to(at(100));
  EXPECT_TRUE(irq0.level);
  write_count(0, 50);
  EXPECT_FALSE(irq0.level);
  time.advance_to(at(100 + 1 + 50));
  EXPECT_TRUE(irq0.level);
  EXPECT_EQ(irq0.rising_edges, 2);
}

TEST_F(PitTest, ReprogrammingCancelsTheScheduledEdge) {
  pit.write(3, 1, 0x34);
  write_count(0, 1000);
  EXPECT_EQ(time.pending(), 1u);
  pit.write(3, 1, 0x30);  // new control word: stops the counter
  EXPECT_EQ(time.pending(), 0u);
  time.advance_to(kSecond);
  EXPECT_EQ(irq0.rising_edges, 0);
}

TEST_F(PitTest, Mode2NewCountTakesEffectAtPeriodEnd) {
  pit.write(3, 1, 0x34);
  write_count(0, 1000);
  time.advance_to(at(1 + 500));
  write_count(0, 100);
  EXPECT_EQ(read_word(0), 500) << "current period continues";
  time.advance_to(at(1 + 1000));
  EXPECT_EQ(irq0.rising_edges, 1);
  time.advance_to(at(1 + 1000 + 100 * 5));
  EXPECT_EQ(irq0.rising_edges, 6);
}

TEST_F(PitTest, CounterLatchFreezesTheReadValue) {
  pit.write(3, 1, 0x34);
  write_count(0, 10000);
  time.advance_to(at(1 + 1234));
  pit.write(3, 1, 0x00);  // latch counter 0
  time.advance_to(at(1 + 5000));
  pit.write(3, 1, 0x00);  // ignored: a latch is already held
  EXPECT_EQ(read_word(0), 10000 - 1234);
  EXPECT_EQ(read_word(0), 10000 - 5000) << "after the latch is read, reads are live";
}

TEST_F(PitTest, LsbAndMsbOnlyAccess) {
  pit.write(3, 1, 0x54);  // counter 1, LSB only, mode 2
  pit.write(1, 1, 200);
  time.advance_to(at(1 + 50));
  EXPECT_EQ(pit.read(1, 1), 150u);
  EXPECT_EQ(pit.read(1, 1), 150u);
  pit.write(3, 1, 0x64);  // counter 1, MSB only, mode 2: count 0x0300
  pit.write(1, 1, 0x03);
  EXPECT_EQ(pit.read(1, 1), 0x03u);
}

TEST_F(PitTest, ReadBackStatusShowsNullCountAndOut) {
  pit.write(3, 1, 0x34);
  pit.write(3, 1, 0xE2);  // read-back status of counter 0
  EXPECT_EQ(pit.read(0, 1), 0x80u | 0x40u | 0x34u) << "OUT high, null count, word, mode 2";
  write_count(0, 100);
  time.advance_to(at(3));
  pit.write(3, 1, 0xE2);
  EXPECT_EQ(pit.read(0, 1), 0x80u | 0x34u) << "count loaded";
  // Count and status together: status first, then the count.
  time.advance_to(at(1 + 30));
  pit.write(3, 1, 0xC2);
  EXPECT_EQ(pit.read(0, 1), 0x80u | 0x34u);
  EXPECT_EQ(read_word(0), 70);
}

TEST_F(PitTest, ReadBackSelectsSeveralCounters) {
  pit.write(3, 1, 0x30);
  pit.write(3, 1, 0x72);  // counter 1, word, mode 1
  pit.write(3, 1, 0xB6);  // counter 2, word, mode 3
  pit.write(3, 1, 0xEE);  // status of all three
  EXPECT_EQ(pit.read(0, 1), 0x40u | 0x30u);  // mode 0: OUT low
  EXPECT_EQ(pit.read(1, 1), 0xC0u | 0x32u);
  EXPECT_EQ(pit.read(2, 1), 0xC0u | 0x36u);
}

TEST_F(PitTest, BcdCounting) {
  pit.write(3, 1, 0x31);  // counter 0, word, mode 0, BCD
  write_count(0, 0x0100);  // 100 decimal
  time.advance_to(at(1 + 10));
  EXPECT_EQ(read_word(0), 0x0090);
  time.advance_to(at(1 + 100));
  EXPECT_TRUE(pit.out(0));
  time.advance_to(at(1 + 101));
  EXPECT_EQ(read_word(0), 0x9999) << "BCD wraps at 10000";
}

TEST_F(PitTest, Channel2GateAndOut2ThroughPortB) {
  pit.write(3, 1, 0xB0);  // counter 2, word, mode 0
  write_count(2, 1000);
  time.advance_to(at(5000));
  EXPECT_EQ(port_b.read(0, 1) & 0x20, 0u) << "gate low: counter 2 holds";
  EXPECT_EQ(read_word(2), 1000);
  port_b.write(0, 1, 0x03);  // gate on, speaker data on
  EXPECT_TRUE(port_b.speaker_enabled());
  EXPECT_EQ(port_b.read(0, 1) & 0x0F, 0x03u);
  time.advance_to(at(5000 + 1 + 999));
  EXPECT_EQ(port_b.read(0, 1) & 0x20, 0u);
  time.advance_to(at(5000 + 1 + 1000));
  EXPECT_EQ(port_b.read(0, 1) & 0x20, 0x20u);
}

TEST_F(PitTest, Channel2GatePausesMode0) {
  pit.write(3, 1, 0xB0);
  port_b.write(0, 1, 0x01);
  write_count(2, 1000);
  time.advance_to(at(1 + 300));
  port_b.write(0, 1, 0x00);
  time.advance_to(at(10'000));
  EXPECT_EQ(read_word(2), 700);
  port_b.write(0, 1, 0x01);
  time.advance_to(at(10'000 + 1 + 100));
  EXPECT_EQ(read_word(2), 600);
}

TEST_F(PitTest, Channel2Mode1IsTriggeredByTheGate) {
  pit.write(3, 1, 0xB2);  // counter 2, word, mode 1
  write_count(2, 100);
  EXPECT_TRUE(pit.out(2));
  port_b.write(0, 1, 0x01);  // rising gate: trigger
  time.advance_to(at(5));
  EXPECT_FALSE(pit.out(2));
  time.advance_to(at(200));
  EXPECT_TRUE(pit.out(2));
}

TEST_F(PitTest, Mode4StrobesOnceAfterTheCount) {
  pit.write(3, 1, 0x38);  // counter 0, word, mode 4
  write_count(0, 200);
  EXPECT_TRUE(pit.out(0));
  time.advance_to(at(1 + 200));
  EXPECT_FALSE(pit.out(0)) << "one clock low at terminal count";
  time.advance_to(at(1 + 201));
  EXPECT_TRUE(pit.out(0));
  EXPECT_EQ(irq0.rising_edges, 1);
  time.advance_to(kSecond);
  EXPECT_EQ(irq0.rising_edges, 1) << "no repeat";
}

TEST_F(PitTest, Mode5StrobeIsTriggeredByTheGate) {
  pit.write(3, 1, 0xBA);  // counter 2, word, mode 5
  write_count(2, 50);
  time.advance_to(at(1000));
  EXPECT_TRUE(pit.out(2));
  EXPECT_EQ(port_b.read(0, 1) & 0x20, 0x20u);
  port_b.write(0, 1, 0x01);  // trigger at cycle 1000
  time.advance_to(at(1000 + 1 + 50));
  EXPECT_FALSE(pit.out(2));
  time.advance_to(at(1000 + 1 + 51));
  EXPECT_TRUE(pit.out(2));
}

TEST_F(PitTest, Mode2GateLowForcesOutHighAndRestarts) {
  pit.write(3, 1, 0xB4);  // counter 2, word, mode 2
  port_b.write(0, 1, 0x01);
  write_count(2, 100);
  time.advance_to(at(1 + 99));
  EXPECT_FALSE(pit.out(2)) << "the one-clock low pulse";
  port_b.write(0, 1, 0x00);
  EXPECT_TRUE(pit.out(2));
  time.advance_to(at(500));
  port_b.write(0, 1, 0x01);  // rising gate reloads
  time.advance_to(at(500 + 1 + 10));
  EXPECT_EQ(read_word(2), 90);
}

TEST_F(PitTest, RefreshToggleFollowsVirtualTime) {
  uint32_t first = port_b.read(0, 1) & 0x10;
  time.advance(15'085);
  EXPECT_NE(port_b.read(0, 1) & 0x10, first);
  time.advance(15'085);
  EXPECT_EQ(port_b.read(0, 1) & 0x10, first);
}

TEST_F(PitTest, SaveLoadSaveIsStable) {
  pit.write(3, 1, 0x34);
  write_count(0, 2000);
  pit.write(3, 1, 0x74);  // counter 1, word, mode 2
  write_count(1, 18);
  pit.write(3, 1, 0xB0);  // counter 2 mode 0, gate on
  port_b.write(0, 1, 0x03);
  write_count(2, 5000);
  time.advance_to(at(1 + 2500));
  pit.write(3, 1, 0x40);          // latch counter 1
  pit.read(1, 1);                 // half of the latched word read
  pit.write(3, 1, 0xE8);          // latch status of counter 2
  pit.write(2, 1, 0x34);          // counter 2: first byte of a new count
  write_count(0, 300);            // pending reload at the period end

  int edges_before = irq0.rising_edges;
  std::string pit_state = pit.save();
  std::string port_state = port_b.save();

  ManualClock time2;
  time2.advance_to(time.now_ns());
  EdgeCountingLine irq0b;
  Pit8254 copy{time2, irq0b};
  PortB copy_port{time2, copy};
  copy.load(pit_state);
  copy_port.load(port_state);
  copy.after_load();
  copy_port.after_load();
  EXPECT_EQ(copy.save(), pit_state);
  EXPECT_EQ(copy_port.save(), port_state);
  ASSERT_EQ(time2.pending(), 1u) << "after_load re-arms IRQ0";
  EXPECT_EQ(time2.next_due(), time.next_due());
  // Both run on identically.
  time.advance(kSecond / 10);
  time2.advance(kSecond / 10);
  EXPECT_EQ(irq0b.rising_edges, irq0.rising_edges - edges_before);
  EXPECT_GT(irq0b.rising_edges, 0);
  EXPECT_EQ(copy.save(), pit.save());
  EXPECT_EQ(copy.read(1, 1), pit.read(1, 1));
}

TEST_F(PitTest, LoadRejectsForeignState) {
  EXPECT_THROW(pit.load("\xff\xff garbage"), std::runtime_error);
  EXPECT_THROW(pit.load(std::string("\x08\x01", 2)), std::runtime_error) << "no counters";
  EXPECT_THROW(port_b.load(std::string("\x08\x07", 2)), std::runtime_error);
}

}  // namespace
}  // namespace faultline
