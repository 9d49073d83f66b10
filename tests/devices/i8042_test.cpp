// i8042 controller with PS/2 keyboard and mouse: controller commands,
// output port, IRQs, scan code translation, keyboard and mouse protocols,
// save/load.
#include "devices/i8042/i8042.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/devices/serial_test_support.h"

namespace faultline {
namespace {

using namespace i8042;
using serial_test::RecordingIrq;
using Bytes = std::vector<uint8_t>;

class I8042Test : public ::testing::Test {
 protected:
  I8042Test() : kbc(irq1, irq12) {
    kbc.a20 = [this](bool on) { a20_calls.push_back(on); };
    kbc.cpu_reset = [this] { ++resets; };
  }

  uint8_t status() { return static_cast<uint8_t>(kbc.read(kStatusOffset, 1)); }
  uint8_t data() { return static_cast<uint8_t>(kbc.read(kDataOffset, 1)); }
  void command(uint8_t c) { kbc.write(kStatusOffset, 1, c); }
  void send(uint8_t d) { kbc.write(kDataOffset, 1, d); }
  Bytes drain() {
    Bytes out;
    while (status() & kStatusObf) out.push_back(data());
    return out;
  }
  void set_command_byte(uint8_t v) {
    command(0x60);
    send(v);
  }

  RecordingIrq irq1, irq12;
  I8042 kbc;
  std::vector<bool> a20_calls;
  int resets = 0;
};

TEST_F(I8042Test, SelfTestAndInterfaceTests) {
  EXPECT_EQ(status() & (kStatusObf | kStatusSys), 0);
  command(0xAA);
  EXPECT_TRUE(status() & kStatusObf);
  EXPECT_TRUE(status() & kStatusA2);
  EXPECT_EQ(data(), 0x55);
  EXPECT_TRUE(status() & kStatusSys);
  command(0xAB);
  EXPECT_EQ(drain(), Bytes{0x00});
  command(0xA9);
  EXPECT_EQ(drain(), Bytes{0x00});
}

TEST_F(I8042Test, CommandByteRoundTrip) {
  set_command_byte(0x47);
  EXPECT_FALSE(status() & kStatusA2);  // last write was data
  command(0x20);
  EXPECT_EQ(drain(), Bytes{0x47});
  EXPECT_EQ(kbc.command_byte(), 0x47);
  command(0xAD);  // disable keyboard sets bit 4
  command(0xA7);  // disable aux sets bit 5
  command(0x20);
  EXPECT_EQ(drain(), Bytes{0x77});
  command(0xAE);
  command(0xA8);
  command(0x20);
  EXPECT_EQ(drain(), Bytes{0x47});
}

TEST_F(I8042Test, TypedKeyIsSet1WithTranslationAndSet2Without) {
  ASSERT_TRUE(kbc.command_byte() & kCmdTranslate);
  EXPECT_TRUE(kbc.type_text("a"));
  EXPECT_EQ(drain(), (Bytes{0x1E, 0x9E}));
  EXPECT_TRUE(kbc.type_text("A"));
  EXPECT_EQ(drain(), (Bytes{0x2A, 0x1E, 0x9E, 0xAA}));
  set_command_byte(kCmdKbdInt);  // translation off
  EXPECT_TRUE(kbc.type_text("a"));
  EXPECT_EQ(drain(), (Bytes{0x1C, 0xF0, 0x1C}));
  kbc.press(KeyCode::ArrowUp);
  kbc.release(KeyCode::ArrowUp);
  EXPECT_EQ(drain(), (Bytes{0xE0, 0x75, 0xE0, 0xF0, 0x75}));
  EXPECT_FALSE(kbc.type_text("\x01"));
}

TEST_F(I8042Test, TranslationCoversEveryKey) {
  for (size_t i = 0; i < kKeyCount; ++i) {
    auto key = static_cast<KeyCode>(i);
    kbc.press(key);
    kbc.release(key);
    Bytes expected = make_code(key, 1);
    Bytes brk = break_code(key, 1);
    expected.insert(expected.end(), brk.begin(), brk.end());
    EXPECT_EQ(drain(), expected) << key_name(key);
  }
}

TEST_F(I8042Test, Irq1FollowsOutputBuffer) {
  EXPECT_FALSE(irq1.level);
  kbc.press(KeyCode::A);
  EXPECT_TRUE(status() & kStatusObf);
  EXPECT_TRUE(irq1.level);
  EXPECT_FALSE(irq12.level);
  EXPECT_EQ(data(), 0x1E);
  EXPECT_FALSE(irq1.level);
  EXPECT_FALSE(status() & kStatusObf);
  // Two bytes queued: one edge per byte.
  kbc.release(KeyCode::ArrowUp);  // E0 F0 75 -> E0 C8
  EXPECT_EQ(irq1.rising_edges, 2);
  EXPECT_EQ(data(), 0xE0);
  EXPECT_TRUE(irq1.level);
  EXPECT_EQ(irq1.rising_edges, 3);
  EXPECT_EQ(data(), 0xC8);
  EXPECT_FALSE(irq1.level);
  // With the interrupt disabled, OBF still sets but the line stays low.
  set_command_byte(kCmdTranslate);
  kbc.press(KeyCode::B);
  EXPECT_TRUE(status() & kStatusObf);
  EXPECT_FALSE(irq1.level);
}

TEST_F(I8042Test, DisabledKeyboardHoldsItsBytes) {
  command(0xAD);
  kbc.press(KeyCode::Q);
  EXPECT_FALSE(status() & kStatusObf);
  command(0xAE);
  EXPECT_EQ(drain(), Bytes{0x10});
}

TEST_F(I8042Test, A20AndResetThroughOutputPort) {
  command(0xD0);
  uint8_t port = data();
  EXPECT_TRUE(port & kOutA20);
  EXPECT_TRUE(port & kOutReset);
  command(0xD1);
  send(static_cast<uint8_t>(port & ~kOutA20));
  EXPECT_FALSE(kbc.a20_enabled());
  command(0xD1);
  send(port);
  EXPECT_TRUE(kbc.a20_enabled());
  command(0xD1);
  send(port);  // unchanged: no call
  EXPECT_EQ(a20_calls, (std::vector<bool>{false, true}));
  command(0xD0);
  EXPECT_EQ(data() & (kOutA20 | kOutReset), kOutA20 | kOutReset);
  EXPECT_EQ(resets, 0);
  command(0xD1);
  send(static_cast<uint8_t>(port & ~kOutReset));
  EXPECT_EQ(resets, 1);
}

TEST_F(I8042Test, PulseResetLine) {
  command(0xFF);  // pulses nothing
  EXPECT_EQ(resets, 0);
  command(0xFE);
  EXPECT_EQ(resets, 1);
  command(0xF0);  // bit 0 clear in the mask pulses reset too
  EXPECT_EQ(resets, 2);
}

TEST_F(I8042Test, KeyboardResetIdentifyEchoAndScanSet) {
  set_command_byte(kCmdKbdInt);  // no translation: raw keyboard bytes
  send(0xFF);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xAA}));
  send(0xF2);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xAB, 0x83}));
  send(0xEE);
  EXPECT_EQ(drain(), Bytes{0xEE});
  send(0xF0);
  send(0x00);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA, 0x02}));
  send(0xED);
  send(0x07);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA}));
  EXPECT_EQ(kbc.keyboard().leds(), 7);
  send(0xF3);
  send(0x20);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA}));
  send(0xF0);
  send(0x01);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA}));
  kbc.press(KeyCode::A);
  kbc.release(KeyCode::A);
  EXPECT_EQ(drain(), (Bytes{0x1E, 0x9E}));  // the keyboard itself in set 1
  send(0xFE);                               // resend the last byte
  EXPECT_EQ(drain(), Bytes{0x9E});
  send(0xF5);
  kbc.press(KeyCode::A);
  EXPECT_EQ(drain(), Bytes{0xFA});  // disabled: the key is not sent
  send(0xF4);
  EXPECT_EQ(drain(), Bytes{0xFA});
  send(0x01);  // not a command
  EXPECT_EQ(drain(), Bytes{0xFE});
}

TEST_F(I8042Test, TranslatedIdentifyAndScanSetReplies) {
  send(0xF2);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xAB, 0x41}));
  send(0xF0);
  send(0x00);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA, 0x41}));  // set 2 as seen through translation
}

TEST_F(I8042Test, MousePacketsAndCommands) {
  set_command_byte(kCmdKbdInt | kCmdAuxInt | kCmdTranslate);
  command(0xD4);
  send(0xFF);
  EXPECT_TRUE(status() & kStatusAuxb);
  EXPECT_TRUE(irq12.level);
  EXPECT_FALSE(irq1.level);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xAA, 0x00}));
  EXPECT_FALSE(irq12.level);
  kbc.mouse_move(5, -3, kMouseLeft);  // reporting still off
  EXPECT_EQ(drain(), Bytes{});
  command(0xD4);
  send(0xF4);
  EXPECT_EQ(drain(), Bytes{0xFA});
  kbc.mouse_move(5, -3, kMouseLeft);
  EXPECT_EQ(drain(), (Bytes{0x29, 0x05, 0xFD}));
  kbc.mouse_move(-300, 2, kMouseRight | kMouseMiddle);  // X overflows
  EXPECT_EQ(drain(), (Bytes{0x08 | 0x06 | 0x10 | 0x40, 0x00, 0x02}));
  // Status: stream mode, reporting on, right+middle held, res 2, rate 100.
  command(0xD4);
  send(0xE9);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0x23, 0x02, 100}));
  // Resolution and sample rate.
  for (uint8_t b : {0xE8, 0x03, 0xF3, 0x28}) {
    command(0xD4);
    send(b);
  }
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA, 0xFA, 0xFA}));
  EXPECT_EQ(kbc.mouse().resolution(), 3);
  EXPECT_EQ(kbc.mouse().sample_rate(), 40);
  // IntelliMouse knock: 200, 100, 80 -> ID 3 and 4-byte packets.
  for (uint8_t rate : {200, 100, 80}) {
    command(0xD4);
    send(0xF3);
    command(0xD4);
    send(rate);
  }
  drain();
  command(0xD4);
  send(0xF2);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0x03}));
  kbc.mouse_move(1, 1, 0, -1);
  EXPECT_EQ(drain(), (Bytes{0x08, 0x01, 0x01, 0xFF}));
}

TEST_F(I8042Test, MouseRemoteModeReadData) {
  command(0xD4);
  send(0xF0);  // remote mode
  command(0xD4);
  send(0xF4);
  drain();
  kbc.mouse_move(2, 3, 0);
  kbc.mouse_move(1, 1, kMouseLeft);
  EXPECT_EQ(drain(), Bytes{});
  command(0xD4);
  send(0xEB);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0x09, 0x03, 0x04}));
}

TEST_F(I8042Test, DisabledAuxPortHoldsMouseData) {
  command(0xD4);
  send(0xF4);
  drain();
  command(0xA7);
  kbc.mouse_move(1, 0, 0);
  EXPECT_FALSE(status() & kStatusObf);
  command(0xA8);
  EXPECT_EQ(drain(), (Bytes{0x08, 0x01, 0x00}));
}

TEST_F(I8042Test, WritingToADeviceReenablesItsPort) {
  command(0xAD);
  command(0xA7);
  send(0xF2);  // to the keyboard
  EXPECT_EQ(kbc.command_byte() & (kCmdKbdDisable | kCmdAuxDisable), kCmdAuxDisable);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xAB, 0x41}));
  command(0xD4);
  send(0xF2);
  EXPECT_EQ(kbc.command_byte() & kCmdAuxDisable, 0);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0x00}));
}

TEST_F(I8042Test, WriteAsIfFromDevices) {
  command(0xD2);
  send(0x1C);  // not translated
  EXPECT_FALSE(status() & kStatusAuxb);
  EXPECT_EQ(drain(), Bytes{0x1C});
  command(0xD3);
  send(0x42);
  EXPECT_TRUE(status() & kStatusAuxb);
  EXPECT_EQ(drain(), Bytes{0x42});
}

TEST_F(I8042Test, SaveLoadSaveRoundTrip) {
  set_command_byte(kCmdKbdInt | kCmdAuxInt | kCmdTranslate | kCmdSys);
  command(0xD4);
  send(0xF4);
  drain();
  send(0xED);  // keyboard waits for the LED byte
  drain();
  kbc.type_text("Hi!");
  kbc.mouse_move(7, 9, kMouseLeft);
  command(0x61);
  send(0x99);  // controller RAM
  data();      // part-way through the queue
  data();
  std::string first = kbc.save();

  RecordingIrq irq1b, irq12b;
  I8042 copy(irq1b, irq12b);
  copy.load(first);
  copy.after_load();
  EXPECT_EQ(copy.save(), first);
  EXPECT_EQ(irq1b.level, irq1.level);
  EXPECT_EQ(irq12b.level, irq12.level);
  // Both continue identically.
  Bytes a = drain();
  Bytes b;
  while (copy.read(kStatusOffset, 1) & kStatusObf)
    b.push_back(static_cast<uint8_t>(copy.read(kDataOffset, 1)));
  EXPECT_EQ(a, b);
  EXPECT_GT(a.size(), 10u);
  EXPECT_EQ(copy.save(), kbc.save());
  EXPECT_THROW(copy.load("garbage\xff"), std::runtime_error);
}

}  // namespace
}  // namespace faultline
