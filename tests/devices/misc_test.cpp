// POST code port (0x80) and system control port A (0x92).
#include "devices/misc/misc.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/devices/serial_test_support.h"

namespace faultline {
namespace {

using serial_test::ManualTime;

TEST(PostCodePortTest, LogsCodesWithVirtualTime) {
  ManualTime time;
  PostCodePort post(&time);
  std::vector<uint8_t> seen;
  post.observer = [&](uint8_t c) { seen.push_back(c); };
  uint64_t t0 = time.now_ns();
  post.write(0, 1, 0x10);
  time.advance(500);
  post.write(0, 1, 0x2A);
  EXPECT_EQ(post.last_code(), 0x2A);
  EXPECT_EQ(post.read(0, 1), 0x2Au);
  EXPECT_EQ(post.count(), 2u);
  ASSERT_EQ(post.log().size(), 2u);
  EXPECT_EQ(post.log()[0], (PostCodePort::Entry{0x10, t0}));
  EXPECT_EQ(post.log()[1], (PostCodePort::Entry{0x2A, t0 + 500}));
  EXPECT_EQ(seen, (std::vector<uint8_t>{0x10, 0x2A}));
  post.reset();
  EXPECT_EQ(post.last_code(), 0);
  EXPECT_EQ(post.count(), 2u);  // the trail survives a reset
}

TEST(PostCodePortTest, SaveLoadSaveRoundTrip) {
  ManualTime time;
  PostCodePort post(&time);
  for (uint8_t c : {0x01, 0x55, 0xAA, 0x7F}) {
    post.write(0, 1, c);
    time.advance(1234);
  }
  std::string first = post.save();
  PostCodePort copy;
  copy.load(first);
  EXPECT_EQ(copy.save(), first);
  EXPECT_EQ(copy.log(), post.log());
  EXPECT_EQ(copy.last_code(), 0x7F);
  EXPECT_THROW(copy.load("\xff\xff"), std::runtime_error);
}

TEST(SystemControlPortATest, FastA20AndReset) {
  SystemControlPortA port;
  std::vector<bool> a20;
  int resets = 0;
  port.a20 = [&](bool on) { a20.push_back(on); };
  port.cpu_reset = [&] { ++resets; };
  port.write(0, 1, 0x02);
  EXPECT_TRUE(port.a20_enabled());
  EXPECT_EQ(port.read(0, 1), 0x02u);
  port.write(0, 1, 0x02);  // no change, no call
  port.write(0, 1, 0x00);
  EXPECT_EQ(a20, (std::vector<bool>{true, false}));
  EXPECT_EQ(resets, 0);
  port.write(0, 1, 0x01);
  EXPECT_EQ(resets, 1);
  port.write(0, 1, 0x01);  // only a 0 -> 1 edge resets
  EXPECT_EQ(resets, 1);
  port.write(0, 1, 0x00);
  port.write(0, 1, 0x03);
  EXPECT_EQ(resets, 2);
  EXPECT_EQ(a20.back(), true);
}

TEST(SystemControlPortATest, SaveLoadSaveRoundTrip) {
  SystemControlPortA port;
  port.write(0, 1, 0xC2);
  std::string first = port.save();
  SystemControlPortA copy;
  bool called = false;
  copy.a20 = [&](bool) { called = true; };
  copy.load(first);
  EXPECT_EQ(copy.save(), first);
  EXPECT_EQ(copy.value(), 0xC2);
  EXPECT_FALSE(called);  // loading restores state without side effects
}

}  // namespace
}  // namespace faultline
