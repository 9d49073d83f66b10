// MC146818 RTC/CMOS: time encoding (BCD/binary, 12/24 h), UIP window, SET,
// periodic / update / alarm interrupts on IRQ 8, register C, NVRAM, memory
// size bytes, save/load.
#include "devices/rtc/rtc.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "tests/devices/timer_test_support.h"

namespace faultline {
namespace {

using timer_test::EdgeCountingLine;
using timer_test::ManualClock;

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kMs = 1'000'000;
constexpr int64_t kPiDay = 1'773'500'966;  // 2026-03-14 15:09:26 UTC, a Saturday

class RtcTest : public ::testing::Test {
 protected:
  uint8_t reg(unsigned index) {
    rtc.write(0, 1, index);
    return static_cast<uint8_t>(rtc.read(1, 1));
  }
  void set_reg(unsigned index, uint8_t value) {
    rtc.write(0, 1, index);
    rtc.write(1, 1, value);
  }

  ManualClock time;
  EdgeCountingLine irq8;
  Rtc146818 rtc{time, irq8, RtcConfig{kPiDay}};
};

TEST_F(RtcTest, DefaultStartIsNewYear2026) {
  ManualClock t;
  EdgeCountingLine line;
  Rtc146818 fresh{t, line};
  fresh.write(0, 1, 0x09);
  EXPECT_EQ(fresh.read(1, 1), 0x26u);
  fresh.write(0, 1, 0x08);
  EXPECT_EQ(fresh.read(1, 1), 0x01u);
  fresh.write(0, 1, 0x07);
  EXPECT_EQ(fresh.read(1, 1), 0x01u);
  fresh.write(0, 1, 0x04);
  EXPECT_EQ(fresh.read(1, 1), 0x00u);
  fresh.write(0, 1, 0x06);
  EXPECT_EQ(fresh.read(1, 1), 0x05u) << "Thursday";
  EXPECT_EQ(fresh.nvram(0x32), 0x20) << "century";
}

TEST_F(RtcTest, BcdTimeOfKnownStart) {
  EXPECT_EQ(reg(0x0B), 0x02) << "24 h, BCD";
  EXPECT_EQ(reg(0x00), 0x26);
  EXPECT_EQ(reg(0x02), 0x09);
  EXPECT_EQ(reg(0x04), 0x15);
  EXPECT_EQ(reg(0x06), 0x07) << "Saturday";
  EXPECT_EQ(reg(0x07), 0x14);
  EXPECT_EQ(reg(0x08), 0x03);
  EXPECT_EQ(reg(0x09), 0x26);
}

TEST_F(RtcTest, BinaryTimeOfKnownStart) {
  set_reg(0x0B, 0x06);  // binary, 24 h
  EXPECT_EQ(reg(0x00), 26);
  EXPECT_EQ(reg(0x02), 9);
  EXPECT_EQ(reg(0x04), 15);
  EXPECT_EQ(reg(0x07), 14);
  EXPECT_EQ(reg(0x08), 3);
  EXPECT_EQ(reg(0x09), 26);
}

TEST_F(RtcTest, TwelveHourModeSetsPmBit) {
  set_reg(0x0B, 0x00);  // BCD, 12 h
  EXPECT_EQ(reg(0x04), 0x83) << "3 PM";
  set_reg(0x0B, 0x04);  // binary, 12 h
  EXPECT_EQ(reg(0x04), 0x83);
  // Midnight is 12 AM.
  set_reg(0x0B, 0x00);
  set_reg(0x04, 0x12);
  set_reg(0x0B, 0x02);
  EXPECT_EQ(reg(0x04), 0x00);
  // 12 PM is noon.
  set_reg(0x0B, 0x00);
  set_reg(0x04, 0x92);
  set_reg(0x0B, 0x02);
  EXPECT_EQ(reg(0x04), 0x12);
}

TEST_F(RtcTest, TimeAdvancesWithVirtualTime) {
  time.advance_to(34 * kSecond);
  EXPECT_EQ(reg(0x00), 0x00);
  EXPECT_EQ(reg(0x02), 0x10);
  time.advance_to((34 + 9 * 3600 + 50 * 60) * kSecond);  // 2026-03-15 01:00:00
  EXPECT_EQ(reg(0x04), 0x01);
  EXPECT_EQ(reg(0x07), 0x15);
  EXPECT_EQ(reg(0x06), 0x01) << "Sunday";
  EXPECT_EQ(rtc.wall_seconds(), kPiDay + 34 + 9 * 3600 + 50 * 60);
}

TEST_F(RtcTest, UpdateInProgressWindow) {
  time.advance_to(kSecond - 244'000 - 1);
  EXPECT_EQ(reg(0x0A) & 0x80, 0);
  EXPECT_EQ(reg(0x00), 0x26);
  time.advance_to(kSecond - 244'000);
  EXPECT_EQ(reg(0x0A), 0x80 | 0x26);
  EXPECT_EQ(reg(0x00), 0x26) << "registers still show the old second";
  time.advance_to(kSecond);
  EXPECT_EQ(reg(0x0A), 0x26);
  EXPECT_EQ(reg(0x00), 0x27);
}

TEST_F(RtcTest, SetBitHaltsUpdatesAndLoadsNewTime) {
  set_reg(0x0B, 0x82);
  time.advance_to(3 * kSecond + kSecond - 100'000);
  EXPECT_EQ(reg(0x0A) & 0x80, 0) << "no UIP while SET";
  EXPECT_EQ(reg(0x00), 0x26);
  set_reg(0x00, 0x45);
  set_reg(0x02, 0x30);
  set_reg(0x09, 0x27);
  set_reg(0x0B, 0x02);
  EXPECT_EQ(reg(0x00), 0x45);
  EXPECT_EQ(reg(0x02), 0x30);
  EXPECT_EQ(reg(0x09), 0x27);
  time.advance(kSecond);
  EXPECT_EQ(reg(0x00), 0x46) << "the first update comes a second after SET clears";
}

TEST_F(RtcTest, DividerResetHaltsAndRestartsHalfASecondLater) {
  time.advance_to(kSecond / 4);
  set_reg(0x0A, 0x76);  // DV = 111: divider held in reset
  time.advance_to(5 * kSecond);
  EXPECT_EQ(reg(0x00), 0x26);
  set_reg(0x0A, 0x26);
  time.advance(kSecond / 2 - 1);
  EXPECT_EQ(reg(0x00), 0x26);
  time.advance(1);
  EXPECT_EQ(reg(0x00), 0x27);
}

TEST_F(RtcTest, WritesWhileRunningKeepThePhase) {
  time.advance_to(kSecond / 2);
  set_reg(0x02, 0x59);
  time.advance_to(kSecond);
  EXPECT_EQ(reg(0x00), 0x27);
  EXPECT_EQ(reg(0x02), 0x59);
}

TEST_F(RtcTest, PeriodicInterruptRaisesIrq8AndRegisterCClears) {
  EXPECT_EQ(reg(0x0A) & 0x0F, 6) << "1024 Hz by default";
  set_reg(0x0B, 0x42);  // PIE
  EXPECT_FALSE(irq8.level);
  time.advance_to(1 * kMs);  // first 976.5625 us tick has passed
  EXPECT_TRUE(irq8.level);
  EXPECT_EQ(irq8.rising_edges, 1);
  EXPECT_EQ(reg(0x0C), 0xC0) << "IRQF | PF";
  EXPECT_FALSE(irq8.level);
  EXPECT_EQ(reg(0x0C), 0x00) << "reading C cleared it";
  time.advance_to(1 * kSecond);
  EXPECT_EQ(irq8.rising_edges, 2) << "no new edge until C is read";
  EXPECT_EQ(reg(0x0C), 0xD0) << "IRQF | PF, and UF from the update (not enabled)";
  time.advance(kSecond);
  EXPECT_EQ(irq8.rising_edges, 3);
}

TEST_F(RtcTest, PeriodicRateSelect) {
  set_reg(0x0A, 0x2F);  // 2 Hz
  set_reg(0x0B, 0x42);
  time.advance_to(kSecond / 2 - 1);
  EXPECT_FALSE(irq8.level);
  time.advance_to(kSecond / 2);
  EXPECT_TRUE(irq8.level);
}

TEST_F(RtcTest, FlagsSetEvenWithInterruptsDisabled) {
  time.advance_to(kSecond + kMs);
  EXPECT_EQ(reg(0x0C), 0x50) << "PF and UF, no IRQF";
  EXPECT_EQ(irq8.rising_edges, 0);
}

TEST_F(RtcTest, UpdateEndedInterrupt) {
  set_reg(0x0A, 0x20);  // no periodic
  set_reg(0x0B, 0x12);  // UIE
  time.advance_to(kSecond - 1);
  EXPECT_FALSE(irq8.level);
  time.advance_to(kSecond);
  EXPECT_TRUE(irq8.level);
  EXPECT_EQ(reg(0x0C), 0x90);
}

TEST_F(RtcTest, AlarmInterrupt) {
  set_reg(0x0A, 0x20);
  set_reg(0x01, 0x31);  // 15:09:31
  set_reg(0x03, 0x09);
  set_reg(0x05, 0x15);
  set_reg(0x0B, 0x22);  // AIE
  time.advance_to(4 * kSecond);
  EXPECT_FALSE(irq8.level);
  time.advance_to(5 * kSecond);
  EXPECT_TRUE(irq8.level);
  EXPECT_EQ(reg(0x0C), 0xA0 | 0x10) << "IRQF | AF, and UF";
}

TEST_F(RtcTest, AlarmDontCareMatchesEverySecond) {
  set_reg(0x0A, 0x20);
  set_reg(0x01, 0xC0);
  set_reg(0x03, 0xFF);
  set_reg(0x05, 0xC0);
  set_reg(0x0B, 0x22);
  time.advance_to(kSecond);
  EXPECT_EQ(reg(0x0C), 0xB0);
  time.advance_to(2 * kSecond);
  EXPECT_EQ(reg(0x0C), 0xB0);
}

TEST_F(RtcTest, RegisterDReportsValidRam) { EXPECT_EQ(reg(0x0D), 0x80); }

TEST_F(RtcTest, NvramReadWriteAndNmiBit) {
  set_reg(0x40, 0x5A);
  set_reg(0x7F, 0xA5);
  EXPECT_EQ(reg(0x40), 0x5A);
  EXPECT_EQ(reg(0x7F), 0xA5);
  EXPECT_FALSE(rtc.nmi_disabled());
  rtc.write(0, 1, 0x80 | 0x40);
  EXPECT_TRUE(rtc.nmi_disabled());
  EXPECT_EQ(rtc.read(1, 1), 0x5Au);
  set_reg(0x0C, 0xFF);  // read-only
  EXPECT_EQ(reg(0x0C) & 0x80, 0);
}

TEST_F(RtcTest, MemorySizeBytesAndChecksum) {
  rtc.set_memory_size(32ull << 20);
  EXPECT_EQ(reg(0x15), 0x80);  // 640 KiB
  EXPECT_EQ(reg(0x16), 0x02);
  EXPECT_EQ(reg(0x17), 0x00);  // 31 MiB = 0x7C00 KiB
  EXPECT_EQ(reg(0x18), 0x7C);
  EXPECT_EQ(reg(0x30), 0x00);
  EXPECT_EQ(reg(0x31), 0x7C);
  EXPECT_EQ(reg(0x34), 0x00);  // 16 MiB above 16 MiB = 256 x 64 KiB
  EXPECT_EQ(reg(0x35), 0x01);
  EXPECT_EQ(reg(0x2E), 0x00);
  EXPECT_EQ(reg(0x2F), 0x80 + 0x02 + 0x7C);

  rtc.set_memory_size(256ull << 20);
  EXPECT_EQ(reg(0x17), 0x00);  // capped at 63 MiB
  EXPECT_EQ(reg(0x18), 0xFC);
  EXPECT_EQ(reg(0x34), 0x00);  // 240 MiB / 64 KiB = 0x0F00
  EXPECT_EQ(reg(0x35), 0x0F);

  rtc.set_century(21);
  EXPECT_EQ(reg(0x32), 0x21);
}

TEST_F(RtcTest, ResetClearsEnablesAndFlagsButKeepsTime) {
  set_reg(0x0B, 0x72);
  time.advance_to(kSecond);
  EXPECT_TRUE(irq8.level);
  rtc.reset();
  EXPECT_FALSE(irq8.level);
  EXPECT_EQ(reg(0x0B), 0x02);
  EXPECT_EQ(reg(0x00), 0x27);
}

TEST_F(RtcTest, SaveLoadSaveIsStable) {
  rtc.set_memory_size(64ull << 20);
  set_reg(0x50, 0x77);
  set_reg(0x01, 0x40);
  set_reg(0x0A, 0x23);
  set_reg(0x0B, 0x46);  // PIE, binary, 24 h
  set_reg(0x06, 0x03);  // guest-chosen weekday
  time.advance_to(3 * kSecond + 123);
  rtc.write(0, 1, 0x80 | 0x21);
  std::string state = rtc.save();

  ManualClock time2;
  time2.advance_to(time.now_ns());
  EdgeCountingLine line2;
  Rtc146818 copy{time2, line2};
  copy.load(state);
  copy.after_load();
  EXPECT_EQ(copy.save(), state);
  EXPECT_EQ(line2.level, irq8.level);
  EXPECT_TRUE(copy.nmi_disabled());
  for (unsigned index : {0x00u, 0x02u, 0x04u, 0x06u, 0x07u, 0x08u, 0x09u, 0x0Au, 0x0Bu, 0x0Cu, 0x21u, 0x50u}) {
    copy.write(0, 1, index);
    rtc.write(0, 1, index);
    EXPECT_EQ(copy.read(1, 1), rtc.read(1, 1)) << "register " << index;
  }
  int edges = irq8.rising_edges, edges2 = line2.rising_edges;
  time.advance(kSecond);
  time2.advance(kSecond);
  EXPECT_EQ(line2.rising_edges - edges2, irq8.rising_edges - edges);
  EXPECT_GT(irq8.rising_edges, edges);
  EXPECT_EQ(copy.save(), rtc.save());
}

TEST_F(RtcTest, LoadRejectsForeignState) {
  EXPECT_THROW(rtc.load("\xff\xff garbage"), std::runtime_error);
  EXPECT_THROW(rtc.load(std::string("\x08\x01", 2)), std::runtime_error) << "no CMOS bytes";
}

}  // namespace
}  // namespace faultline
