// The PS/2 keyboard and mouse behind the i8042 controller.
//
// Design note: each device is a command interpreter with an output queue;
// the controller (i8042.cpp) moves bytes from these queues into its single
// output buffer when it is free and the port is enabled. Devices answer at
// once (no BAT or command delay), and keyboard typematic repeat is off: a
// held key sends one make code, as host input never holds keys for a time.
// The keyboard queue is a host "typing" buffer (kOutputLimit bytes, a real
// keyboard has 16) so type_text() of a whole line is not lost; bytes beyond
// it are dropped and counted.
#pragma once

#include <cstdint>
#include <deque>
#include <span>

#include "devices/i8042/scancodes.h"

namespace faultline {
namespace pb::dev {
class Ps2KeyboardState;
class Ps2MouseState;
}  // namespace pb::dev

namespace i8042 {

inline constexpr uint8_t kAck = 0xFA, kResend = 0xFE, kSelfTestPassed = 0xAA;

class Ps2Keyboard {
 public:
  static constexpr size_t kOutputLimit = 4096;

  Ps2Keyboard() { reset(); }
  // Power-on state: set 2, scanning, LEDs off, empty queue.
  void reset();
  // A byte from the host.
  void command(uint8_t byte);
  void press(KeyCode key);
  void release(KeyCode key);

  bool has_output() const { return !out_.empty(); }
  uint8_t pop();

  int scan_set() const { return scan_set_; }
  bool scanning() const { return scanning_; }
  uint8_t leds() const { return leds_; }
  uint8_t typematic() const { return typematic_; }
  uint64_t dropped() const { return dropped_; }

  void sync(pb::dev::Ps2KeyboardState& state, bool saving);  // i8042_state.cpp

 private:
  void send(uint8_t byte);
  void send(std::span<const uint8_t> bytes) {
    for (uint8_t b : bytes) send(b);
  }
  void set_defaults();

  std::deque<uint8_t> out_;
  int scan_set_ = 2;
  bool scanning_ = true;
  uint8_t leds_ = 0;
  uint8_t typematic_ = 0x2B;  // 10.9 characters/s, 500 ms delay
  uint8_t pending_ = 0;       // command waiting for its parameter byte
  uint8_t last_sent_ = 0;
  uint64_t dropped_ = 0;
};

// Mouse buttons as they appear in the first packet byte.
enum MouseButton : uint8_t { kMouseLeft = 0x01, kMouseRight = 0x02, kMouseMiddle = 0x04 };

class Ps2Mouse {
 public:
  static constexpr size_t kOutputLimit = 1024;

  Ps2Mouse() { reset(); }
  void reset();
  void command(uint8_t byte);
  // Movement since the last call (dy > 0 is up) and the buttons now held;
  // dz is the wheel, reported only once the IntelliMouse ID is enabled.
  void move(int dx, int dy, uint8_t buttons, int dz = 0);

  bool has_output() const { return !out_.empty(); }
  uint8_t pop();

  uint8_t id() const { return id_; }
  bool reporting() const { return reporting_; }
  bool remote() const { return remote_; }
  uint8_t sample_rate() const { return sample_rate_; }
  uint8_t resolution() const { return resolution_; }
  uint64_t dropped() const { return dropped_; }

  void sync(pb::dev::Ps2MouseState& state, bool saving);  // i8042_state.cpp

 private:
  void send(uint8_t byte);
  void set_defaults();
  void send_packet();

  std::deque<uint8_t> out_;
  uint8_t sample_rate_ = 100;
  uint8_t resolution_ = 2;  // 4 counts/mm
  bool scaling_2to1_ = false;
  bool reporting_ = false;
  bool remote_ = false;
  bool wrap_ = false;
  uint8_t id_ = 0;
  uint8_t pending_ = 0;
  uint8_t rate_history_[3] = {0, 0, 0};  // last sample rates, for the IntelliMouse knock
  int dx_ = 0, dy_ = 0, dz_ = 0;         // movement not yet reported
  uint8_t buttons_ = 0;
  uint8_t last_sent_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace i8042
}  // namespace faultline
