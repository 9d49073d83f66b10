// PS/2 keyboard and mouse command sets and output.
#include "devices/i8042/ps2.h"

#include <algorithm>

namespace faultline::i8042 {

// ---- keyboard --------------------------------------------------------------

void Ps2Keyboard::reset() {
  out_.clear();
  scan_set_ = 2;
  scanning_ = true;
  leds_ = 0;
  pending_ = 0;
  last_sent_ = 0;
  set_defaults();
}

void Ps2Keyboard::set_defaults() { typematic_ = 0x2B; }

void Ps2Keyboard::send(uint8_t byte) {
  if (out_.size() >= kOutputLimit) {
    ++dropped_;
    return;
  }
  out_.push_back(byte);
}

uint8_t Ps2Keyboard::pop() {
  last_sent_ = out_.front();
  out_.pop_front();
  return last_sent_;
}

void Ps2Keyboard::command(uint8_t byte) {
  if (pending_) {
    uint8_t cmd = pending_;
    pending_ = 0;
    if (byte < 0xED) {  // a parameter; a command byte aborts the wait
      switch (cmd) {
        case 0xED:
          leds_ = byte & 7;
          send(kAck);
          return;
        case 0xF3:
          typematic_ = byte & 0x7F;  // stored, repeat is not generated
          send(kAck);
          return;
        case 0xF0:
          if (byte == 0) {
            send(kAck);
            send(static_cast<uint8_t>(scan_set_));
          } else if (byte <= 3) {
            scan_set_ = byte;
            send(kAck);
          } else {
            send(kResend);
          }
          return;
      }
    }
  }
  switch (byte) {
    case 0xED:  // set LEDs
    case 0xF3:  // typematic rate/delay
    case 0xF0:  // get/set scan code set
      send(kAck);
      pending_ = byte;
      break;
    case 0xEE:  // echo
      send(0xEE);
      break;
    case 0xF2:  // identify: MF2 keyboard
      send(kAck);
      send(0xAB);
      send(0x83);
      break;
    case 0xF4:  // enable scanning
      out_.clear();
      send(kAck);
      scanning_ = true;
      break;
    case 0xF5:  // disable scanning and restore defaults
      out_.clear();
      send(kAck);
      set_defaults();
      scanning_ = false;
      break;
    case 0xF6:  // restore defaults
      out_.clear();
      send(kAck);
      set_defaults();
      break;
    case 0xF7:
    case 0xF8:
    case 0xF9:
    case 0xFA:
    case 0xFB:
    case 0xFC:
    case 0xFD:
      send(kAck);  // set 3 key types: accepted, no effect
      break;
    case 0xFE:  // resend
      send(last_sent_);
      break;
    case 0xFF:  // reset: ACK, then the basic assurance test passes
      reset();
      send(kAck);
      send(kSelfTestPassed);
      break;
    default:
      send(kResend);
      break;
  }
}

void Ps2Keyboard::press(KeyCode key) {
  if (!scanning_) return;
  auto bytes = make_code(key, scan_set_ == 1 ? 1 : 2);
  send(bytes);
}

void Ps2Keyboard::release(KeyCode key) {
  if (!scanning_) return;
  auto bytes = break_code(key, scan_set_ == 1 ? 1 : 2);
  send(bytes);
}

// ---- mouse -----------------------------------------------------------------

void Ps2Mouse::reset() {
  out_.clear();
  id_ = 0;
  wrap_ = false;
  pending_ = 0;
  last_sent_ = 0;
  std::fill(std::begin(rate_history_), std::end(rate_history_), 0);
  set_defaults();
}

void Ps2Mouse::set_defaults() {
  sample_rate_ = 100;
  resolution_ = 2;
  scaling_2to1_ = false;
  reporting_ = false;
  remote_ = false;
  dx_ = dy_ = dz_ = 0;
}

void Ps2Mouse::send(uint8_t byte) {
  if (out_.size() >= kOutputLimit) {
    ++dropped_;
    return;
  }
  out_.push_back(byte);
}

uint8_t Ps2Mouse::pop() {
  last_sent_ = out_.front();
  out_.pop_front();
  return last_sent_;
}

void Ps2Mouse::command(uint8_t byte) {
  if (wrap_ && byte != 0xEC && byte != 0xFF) {
    send(byte);  // wrap mode echoes everything but "reset wrap" and "reset"
    return;
  }
  if (pending_) {
    uint8_t cmd = pending_;
    pending_ = 0;
    if (cmd == 0xF3) {
      sample_rate_ = byte;
      rate_history_[0] = rate_history_[1];
      rate_history_[1] = rate_history_[2];
      rate_history_[2] = byte;
      // IntelliMouse: rates 200, 100, 80 in a row switch on the wheel.
      if (rate_history_[0] == 200 && rate_history_[1] == 100 && rate_history_[2] == 80) id_ = 3;
      send(kAck);
      return;
    }
    if (cmd == 0xE8) {
      resolution_ = byte & 3;
      send(kAck);
      return;
    }
  }
  switch (byte) {
    case 0xE6:  // scaling 1:1
      scaling_2to1_ = false;
      send(kAck);
      break;
    case 0xE7:  // scaling 2:1
      scaling_2to1_ = true;
      send(kAck);
      break;
    case 0xE8:  // set resolution
    case 0xF3:  // set sample rate
      send(kAck);
      pending_ = byte;
      break;
    case 0xE9: {  // status request
      send(kAck);
      uint8_t status =
          static_cast<uint8_t>((remote_ ? 0x40 : 0) | (reporting_ ? 0x20 : 0) | (scaling_2to1_ ? 0x10 : 0) |
                               ((buttons_ & kMouseLeft) ? 0x04 : 0) | ((buttons_ & kMouseMiddle) ? 0x02 : 0) |
                               ((buttons_ & kMouseRight) ? 0x01 : 0));
      send(status);
      send(resolution_);
      send(sample_rate_);
      break;
    }
    case 0xEA:  // stream mode
      remote_ = false;
      send(kAck);
      break;
    case 0xEB:  // read data (remote mode)
      send(kAck);
      send_packet();
      break;
    case 0xEC:  // reset wrap mode
      wrap_ = false;
      send(kAck);
      break;
    case 0xEE:  // wrap mode
      wrap_ = true;
      send(kAck);
      break;
    case 0xF0:  // remote mode
      remote_ = true;
      send(kAck);
      break;
    case 0xF2:  // get device ID
      send(kAck);
      send(id_);
      break;
    case 0xF4:  // enable data reporting
      reporting_ = true;
      dx_ = dy_ = dz_ = 0;
      send(kAck);
      break;
    case 0xF5:  // disable data reporting
      reporting_ = false;
      send(kAck);
      break;
    case 0xF6:  // set defaults
      set_defaults();
      send(kAck);
      break;
    case 0xFE:  // resend
      send(last_sent_);
      break;
    case 0xFF:  // reset: ACK, self-test passed, ID
      reset();
      send(kAck);
      send(kSelfTestPassed);
      send(0x00);
      break;
    default:
      send(kResend);
      break;
  }
}

void Ps2Mouse::move(int dx, int dy, uint8_t buttons, int dz) {
  buttons_ = buttons & 7;
  // Stream mode with reporting off drops movement; remote mode keeps
  // counting until the host reads the data.
  if (!remote_ && !reporting_) return;
  dx_ += dx;
  dy_ += dy;
  dz_ += dz;
  if (!remote_) send_packet();
}

void Ps2Mouse::send_packet() {
  auto scale = [this](int d) {
    if (!scaling_2to1_) return d;
    static constexpr int kSmall[6] = {0, 1, 1, 3, 6, 9};
    int mag = d < 0 ? -d : d;
    int s = mag <= 5 ? kSmall[mag] : 2 * mag;
    return d < 0 ? -s : s;
  };
  int dx = scale(dx_), dy = scale(dy_);
  bool x_overflow = dx < -256 || dx > 255;
  bool y_overflow = dy < -256 || dy > 255;
  dx = std::clamp(dx, -256, 255);
  dy = std::clamp(dy, -256, 255);
  uint8_t b0 = static_cast<uint8_t>(0x08 | (buttons_ & 7) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0) |
                                    (x_overflow ? 0x40 : 0) | (y_overflow ? 0x80 : 0));
  send(b0);
  send(static_cast<uint8_t>(dx & 0xFF));
  send(static_cast<uint8_t>(dy & 0xFF));
  if (id_ == 3) send(static_cast<uint8_t>(std::clamp(dz_, -8, 7) & 0xFF));
  dx_ = dy_ = dz_ = 0;
}

}  // namespace faultline::i8042
