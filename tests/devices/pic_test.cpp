// 8259A pair: initialisation, vectors, priority, EOI, masking, cascade,
// edge/level triggering, poll, spurious interrupts, save/load.
#include "devices/pic/pic.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace faultline {
namespace {

constexpr uint8_t kMasterBase = 0x20, kSlaveBase = 0x28;

class PicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pic.set_notify([this] { ++notifications; });
    init(pic);
  }
  // The PC/AT initialisation sequence: edge, cascade, ICW4 (8086 mode),
  // slave on IR2, everything unmasked.
  static void init(PicPair& p, uint8_t icw4 = 0x01) {
    p.master().write(0, 1, 0x11);
    p.master().write(1, 1, kMasterBase);
    p.master().write(1, 1, 0x04);
    p.master().write(1, 1, icw4);
    p.slave().write(0, 1, 0x11);
    p.slave().write(1, 1, kSlaveBase);
    p.slave().write(1, 1, 0x02);
    p.slave().write(1, 1, icw4);
    p.master().write(1, 1, 0x00);
    p.slave().write(1, 1, 0x00);
  }
  static uint8_t read_isr(Pic8259& chip) {
    chip.write(0, 1, 0x0B);
    uint8_t v = static_cast<uint8_t>(chip.read(0, 1));
    chip.write(0, 1, 0x0A);
    return v;
  }
  static uint8_t read_irr(Pic8259& chip) {
    chip.write(0, 1, 0x0A);
    return static_cast<uint8_t>(chip.read(0, 1));
  }
  void eoi_master() { pic.master().write(0, 1, 0x20); }
  void eoi_slave() { pic.slave().write(0, 1, 0x20); }

  PicPair pic;
  int notifications = 0;
};

TEST_F(PicTest, ResetMasksEverythingUntilInitialised) {
  PicPair fresh;
  EXPECT_EQ(fresh.master().read(1, 1), 0xFFu);
  fresh.line(1).raise();
  EXPECT_FALSE(fresh.interrupt_pending());
}

TEST_F(PicTest, RaisedIrqDeliversProgrammedVector) {
  EXPECT_FALSE(pic.interrupt_pending());
  int before = notifications;
  pic.line(3).raise();
  EXPECT_GT(notifications, before);
  ASSERT_TRUE(pic.interrupt_pending());
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 3);
  EXPECT_EQ(read_isr(pic.master()), 0x08);
  EXPECT_EQ(read_irr(pic.master()), 0x00);
  EXPECT_FALSE(pic.interrupt_pending());
  eoi_master();
  EXPECT_EQ(read_isr(pic.master()), 0x00);
}

TEST_F(PicTest, HigherPriorityWinsAndLowerWaitsForEoi) {
  pic.line(5).raise();
  pic.line(1).raise();
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 1);
  EXPECT_FALSE(pic.interrupt_pending()) << "IRQ5 must wait while IRQ1 is in service";
  eoi_master();
  ASSERT_TRUE(pic.interrupt_pending());
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 5);
}

TEST_F(PicTest, HigherPriorityNestsOverLowerInService) {
  pic.line(6).raise();
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 6);
  pic.line(0).raise();
  ASSERT_TRUE(pic.interrupt_pending());
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 0);
  EXPECT_EQ(read_isr(pic.master()), 0x41);
  eoi_master();  // non-specific: clears the highest (IR0)
  EXPECT_EQ(read_isr(pic.master()), 0x40);
}

TEST_F(PicTest, SpecificEoiClearsTheNamedLevel) {
  pic.line(6).raise();
  pic.acknowledge();
  pic.line(0).raise();
  pic.acknowledge();
  pic.master().write(0, 1, 0x66);  // specific EOI for IR6
  EXPECT_EQ(read_isr(pic.master()), 0x01);
}

TEST_F(PicTest, MaskedIrqStaysInIrrUntilUnmasked) {
  pic.master().write(1, 1, 0x10);
  EXPECT_EQ(pic.master().read(1, 1), 0x10u);
  pic.line(4).raise();
  EXPECT_FALSE(pic.interrupt_pending());
  EXPECT_EQ(read_irr(pic.master()), 0x10);
  pic.master().write(1, 1, 0x00);
  ASSERT_TRUE(pic.interrupt_pending());
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 4);
}

TEST_F(PicTest, SlaveIrqCascadesThroughMasterIr2) {
  pic.line(10).raise();
  ASSERT_TRUE(pic.interrupt_pending());
  EXPECT_EQ(read_irr(pic.master()), 0x04);
  EXPECT_EQ(read_irr(pic.slave()), 0x04);
  EXPECT_EQ(pic.acknowledge(), kSlaveBase + 2);
  EXPECT_EQ(read_isr(pic.master()), 0x04);
  EXPECT_EQ(read_isr(pic.slave()), 0x04);
  eoi_slave();
  eoi_master();
  EXPECT_EQ(read_isr(pic.master()), 0x00);
  EXPECT_EQ(read_isr(pic.slave()), 0x00);
  EXPECT_FALSE(pic.interrupt_pending());
}

TEST_F(PicTest, SlaveRequestsQueueBehindTheCascade) {
  pic.line(12).raise();
  pic.line(9).raise();
  EXPECT_EQ(pic.acknowledge(), kSlaveBase + 1);
  EXPECT_FALSE(pic.interrupt_pending());
  eoi_slave();
  eoi_master();
  ASSERT_TRUE(pic.interrupt_pending());
  EXPECT_EQ(pic.acknowledge(), kSlaveBase + 4);
}

TEST_F(PicTest, Irq2LineIsRoutedToIrq9) {
  pic.line(2).raise();
  ASSERT_TRUE(pic.interrupt_pending());
  EXPECT_EQ(pic.acknowledge(), kSlaveBase + 1);
}

TEST_F(PicTest, EdgeTriggeredNeedsANewRisingEdge) {
  pic.line(4).raise();
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 4);
  eoi_master();
  EXPECT_FALSE(pic.interrupt_pending()) << "a held line is not a new edge";
  pic.line(4).raise();
  EXPECT_FALSE(pic.interrupt_pending());
  pic.line(4).lower();
  pic.line(4).raise();
  ASSERT_TRUE(pic.interrupt_pending());
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 4);
}

TEST_F(PicTest, EdgeLatchSurvivesTheLineFalling) {
  pic.line(4).pulse();
  ASSERT_TRUE(pic.interrupt_pending());
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 4);
}

TEST_F(PicTest, LevelTriggeredReassertsWhileHigh) {
  pic.elcr().write(0, 1, 0x20);  // IRQ5 level
  EXPECT_EQ(pic.elcr().read(0, 1), 0x20u);
  pic.line(5).raise();
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 5);
  eoi_master();
  ASSERT_TRUE(pic.interrupt_pending()) << "level input still high";
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 5);
  eoi_master();
  pic.line(5).lower();
  EXPECT_FALSE(pic.interrupt_pending());
}

TEST_F(PicTest, ElcrKeepsCascadeAndTimerEdgeTriggered) {
  pic.elcr().write(0, 2, 0xFFFF);
  EXPECT_EQ(pic.elcr().read(0, 1), 0xF8u);
  EXPECT_EQ(pic.elcr().read(1, 1), 0xDEu);
}

TEST_F(PicTest, LtimMakesEveryInputLevelTriggered) {
  pic.master().write(0, 1, 0x19);  // ICW1 with LTIM
  pic.master().write(1, 1, kMasterBase);
  pic.master().write(1, 1, 0x04);
  pic.master().write(1, 1, 0x01);
  pic.line(3).raise();
  pic.line(3).lower();
  EXPECT_FALSE(pic.interrupt_pending());
}

TEST_F(PicTest, PollCommandReturnsAndAcknowledgesHighestRequest) {
  pic.master().write(0, 1, 0x0C);
  EXPECT_EQ(pic.master().read(0, 1), 0x00u) << "nothing pending";
  pic.line(6).raise();
  pic.line(3).raise();
  pic.master().write(0, 1, 0x0C);
  EXPECT_EQ(pic.master().read(0, 1), 0x83u);
  EXPECT_EQ(read_isr(pic.master()), 0x08);
  EXPECT_EQ(read_irr(pic.master()), 0x40);
  // Without a new poll command the port reads IRR again.
  EXPECT_EQ(pic.master().read(0, 1), 0x40u);
}

TEST_F(PicTest, SpuriousIrq7WhenLevelRequestVanishes) {
  pic.elcr().write(0, 1, 0x08);  // IRQ3 level
  pic.line(3).raise();
  ASSERT_TRUE(pic.interrupt_pending());
  pic.line(3).lower();
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 7);
  EXPECT_EQ(read_isr(pic.master()), 0x00) << "a spurious IRQ7 sets no ISR bit";
}

TEST_F(PicTest, SpuriousIrq15FromTheSlave) {
  pic.elcr().write(1, 1, 0x08);  // IRQ11 level
  pic.line(11).raise();
  ASSERT_TRUE(pic.interrupt_pending());
  pic.line(11).lower();
  // The master latched the cascade edge, so it still asks for the slave,
  // which has nothing left.
  ASSERT_TRUE(pic.interrupt_pending());
  EXPECT_EQ(pic.acknowledge(), kSlaveBase + 7);
  EXPECT_EQ(read_isr(pic.slave()), 0x00);
  EXPECT_EQ(read_isr(pic.master()), 0x04) << "the master still needs its EOI";
}

TEST_F(PicTest, AutoEoiLeavesIsrClear) {
  init(pic, 0x03);
  pic.line(1).raise();
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 1);
  EXPECT_EQ(read_isr(pic.master()), 0x00);
  pic.line(4).raise();
  EXPECT_TRUE(pic.interrupt_pending());
}

TEST_F(PicTest, AutoEoiKeepsASlaveWithMoreRequestsVisible) {
  init(pic, 0x03);
  pic.line(9).raise();
  pic.line(12).raise();
  EXPECT_EQ(pic.acknowledge(), kSlaveBase + 1);
  ASSERT_TRUE(pic.interrupt_pending());
  EXPECT_EQ(pic.acknowledge(), kSlaveBase + 4);
}

TEST_F(PicTest, RotateOnNonSpecificEoiMakesServicedLevelLowest) {
  pic.line(1).raise();
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 1);
  pic.master().write(0, 1, 0xA0);  // rotate on non-specific EOI
  pic.line(0).raise();
  pic.line(2 + 1).raise();  // IR3
  // Priority order is now 2,3,...,7,0,1: IR3 outranks IR0.
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 3);
}

TEST_F(PicTest, SetPriorityCommand) {
  pic.master().write(0, 1, 0xC4);  // IR4 lowest, IR5 highest
  pic.line(3).raise();
  pic.line(6).raise();
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 6);
}

TEST_F(PicTest, SpecialMaskModeLetsLowerLevelsThrough) {
  pic.line(1).raise();
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 1);
  pic.line(5).raise();
  EXPECT_FALSE(pic.interrupt_pending());
  pic.master().write(1, 1, 0x02);  // mask the level in service
  pic.master().write(0, 1, 0x68);  // set special mask mode
  ASSERT_TRUE(pic.interrupt_pending());
  EXPECT_EQ(pic.acknowledge(), kMasterBase + 5);
  pic.master().write(0, 1, 0x48);  // reset special mask mode
  EXPECT_EQ(read_isr(pic.master()), 0x22);
}

TEST_F(PicTest, SaveLoadSaveIsStable) {
  pic.elcr().write(0, 2, 0x0820);
  pic.master().write(1, 1, 0x40);
  pic.line(5).raise();
  pic.line(3).raise();
  pic.line(10).raise();
  pic.line(6).raise();  // masked: stays in IRR
  EXPECT_EQ(pic.acknowledge(), kSlaveBase + 2);  // IRQ10 through IR2
  pic.master().write(0, 1, 0x0B);  // status reads ISR
  pic.slave().write(0, 1, 0xC2);   // slave priority rotated
  pic.slave().write(0, 1, 0x11);   // slave mid-initialisation
  pic.slave().write(1, 1, kSlaveBase);

  std::string master = pic.master().save();
  std::string slave = pic.slave().save();
  std::string elcr = pic.elcr().save();

  PicPair copy;
  copy.master().load(master);
  copy.slave().load(slave);
  copy.elcr().load(elcr);
  copy.master().after_load();
  copy.slave().after_load();
  EXPECT_EQ(copy.master().save(), master);
  EXPECT_EQ(copy.slave().save(), slave);
  EXPECT_EQ(copy.elcr().save(), elcr);
  // And it behaves the same.
  EXPECT_EQ(copy.master().read(0, 1), pic.master().read(0, 1));
  EXPECT_EQ(copy.interrupt_pending(), pic.interrupt_pending());
  EXPECT_EQ(copy.acknowledge(), pic.acknowledge());
}

TEST_F(PicTest, LoadRejectsForeignState) {
  EXPECT_THROW(pic.master().load("\xff\xff garbage"), std::runtime_error);
  PicPair other;
  std::string good = other.master().save();
  // Version 2 (field 1 varint 2) prepended wins over the original field.
  EXPECT_THROW(pic.master().load(good + std::string("\x08\x02", 2)), std::runtime_error);
}

}  // namespace
}  // namespace faultline
