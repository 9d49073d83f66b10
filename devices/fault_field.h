// A named piece of device state that fault injection can read and write
// (a "device register" target).
//
// Design note: each device lists its fields (Device::fault_fields()) with
// names relative to the device ("imr", "ch0.count"); the platform prefixes
// them with where the device sits ("pic.master.", "com1."). `get` returns
// the field's current value in its low `bits` bits; `set` writes a value
// (only the low `bits` bits are used) through the device's own logic, so
// everything derived from it stays consistent (interrupt outputs are
// re-evaluated, timer events re-armed). The lambdas capture the device:
// a field list is valid while its device lives.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace faultline {

struct FaultField {
  std::string name;
  unsigned bits = 8;  // 1..32
  std::function<uint64_t()> get;
  std::function<void(uint64_t)> set;
};

using FaultFields = std::vector<FaultField>;

}  // namespace faultline
