// The device interface every PC device implements.
//
// Design note: a device sees offsets inside its own register range, never
// absolute port numbers or addresses, so the platform decides where it lives
// (and can create two). It raises interrupts only through injected IrqLine
// objects, so a fault on an interrupt line is a wrapper around a line. Its
// state is its own versioned protobuf message, serialised by save() and read
// back by load(); one message per device keeps snapshots explicit and lets a
// save -> load -> save round trip be tested for equality. Devices list the
// registers a fault may target with fault_fields() (devices/fault_field.h).
#pragma once

#include <cstdint>
#include <string>

#include "devices/fault_field.h"

namespace faultline {

// An interrupt request line as seen by a device.
class IrqLine {
 public:
  virtual ~IrqLine() = default;
  virtual void raise() = 0;
  virtual void lower() = 0;
  void set(bool level) { level ? raise() : lower(); }
  void pulse() {
    raise();
    lower();
  }
};

class Device {
 public:
  virtual ~Device() = default;
  virtual const char* name() const = 0;
  // Power-on / hardware reset state.
  virtual void reset() = 0;
  // Register access at `offset` inside the device's range; size 1, 2 or 4.
  virtual uint32_t read(uint32_t offset, unsigned size) = 0;
  virtual void write(uint32_t offset, unsigned size, uint32_t value) = 0;
  // Serialised state message (the device's own protobuf type).
  virtual std::string save() const = 0;
  // Restores from save() output; throws std::runtime_error naming the device
  // on malformed input or a version it does not know.
  virtual void load(const std::string& state) = 0;
  // Re-arms timers and re-evaluates interrupt lines after load().
  virtual void after_load() {}
  // State fault injection may target (see devices/fault_field.h); names are
  // relative to the device. Default: none.
  virtual FaultFields fault_fields() { return {}; }
};

}  // namespace faultline
