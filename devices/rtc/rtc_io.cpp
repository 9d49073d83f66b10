// MC146818 register interface: index/data ports, time and alarm registers,
// status registers A-D, NVRAM.
#include "devices/rtc/rtc.h"

#include <algorithm>
#include <cstdio>

namespace faultline {

namespace {
constexpr uint8_t kRegA = 0x0A, kRegB = 0x0B, kRegC = 0x0C, kRegD = 0x0D;
constexpr uint8_t kUip = 0x80, kSet = 0x80, kUie = 0x10, kVrt = 0x80;
}  // namespace

uint32_t Rtc146818::read(uint32_t offset, unsigned size) {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t byte = 0xFF;
    if (offset + i == 0) byte = static_cast<uint32_t>(index_ | (nmi_disabled_ ? 0x80 : 0));
    if (offset + i == 1) byte = read_register(index_);
    value |= byte << (8 * i);
  }
  return value;
}

void Rtc146818::write(uint32_t offset, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    auto byte = static_cast<uint8_t>(value >> (8 * i));
    if (offset + i == 0) {
      index_ = byte & 0x7F;
      nmi_disabled_ = byte & 0x80;
    } else if (offset + i == 1) {
      write_register(index_, byte);
    }
  }
}

uint8_t Rtc146818::read_register(unsigned index) {
  int64_t ns = now();
  catch_up(ns);
  DateTime dt = to_date(seconds_at(ns));
  switch (index) {
    case 0x00: return encode(dt.second);
    case 0x02: return encode(dt.minute);
    case 0x04: return encode_hour(dt.hour);
    case 0x06: return encode((weekday(seconds_at(ns)) - 1 + weekday_offset_) % 7 + 1);
    case 0x07: return encode(dt.day);
    case 0x08: return encode(dt.month);
    case 0x09: return encode(static_cast<int>(dt.year % 100));
    case kRegA: return static_cast<uint8_t>((cmos_[kRegA] & ~kUip) | (update_in_progress(ns) ? kUip : 0));
    case kRegC: {
      // Reading C acknowledges: every flag clears and IRQ 8 drops.
      uint8_t value = cmos_[kRegC];
      cmos_[kRegC] = 0;
      update_irq();
      rearm();
      return value;
    }
    case kRegD: return kVrt;
    default: return cmos_[index];
  }
}

void Rtc146818::write_register(unsigned index, uint8_t value) {
  switch (index) {
    case 0x00:
    case 0x02:
    case 0x04:
    case 0x06:
    case 0x07:
    case 0x08:
    case 0x09:
      write_time_field(index, value);
      break;
    case kRegA:
      set_control(value, cmos_[kRegB]);
      break;
    case kRegB:
      // Setting SET also clears UIE.
      set_control(cmos_[kRegA], (value & kSet) ? static_cast<uint8_t>(value & ~kUie) : value);
      break;
    case kRegC:
    case kRegD:
      break;  // read-only
    default:
      catch_up(now());
      cmos_[index] = value;  // alarm registers 1, 3, 5 and NVRAM
      rearm();
      break;
  }
}

void Rtc146818::write_time_field(unsigned index, uint8_t value) {
  int64_t ns = now();
  catch_up(ns);
  int64_t shown = seconds_at(ns);
  DateTime dt = to_date(shown);
  switch (index) {
    case 0x00: dt.second = std::clamp(decode(value), 0, 59); break;
    case 0x02: dt.minute = std::clamp(decode(value), 0, 59); break;
    case 0x04: dt.hour = std::clamp(decode_hour(value), 0, 23); break;
    case 0x06: {
      int wanted = std::clamp(decode(value), 1, 7);
      weekday_offset_ = ((wanted - weekday(shown)) % 7 + 7) % 7;
      return;
    }
    case 0x07: dt.day = std::clamp(decode(value), 1, 31); break;
    case 0x08: dt.month = std::clamp(decode(value), 1, 12); break;
    case 0x09: dt.year = dt.year / 100 * 100 + std::clamp(decode(value), 0, 99); break;
    default: return;
  }
  // Keep the sub-second phase: only the second count moves.
  seconds_at_base_ += from_date(dt) - shown;
  rearm();
}

FaultFields Rtc146818::fault_fields() {
  FaultFields f;
  f.push_back({"index", 7, [this] { return uint64_t(index_); },
               [this](uint64_t v) { index_ = static_cast<uint8_t>(v & 0x7F); }});
  f.push_back({"reg0a", 8, [this] { return uint64_t(cmos_[kRegA]); },
               [this](uint64_t v) { set_control(static_cast<uint8_t>(v), cmos_[kRegB]); }});
  f.push_back({"reg0b", 8, [this] { return uint64_t(cmos_[kRegB]); },
               [this](uint64_t v) { set_control(cmos_[kRegA], static_cast<uint8_t>(v)); }});
  f.push_back({"reg0c", 8,
               [this] {
                 catch_up(now());
                 return uint64_t(cmos_[kRegC]);
               },
               [this](uint64_t v) {
                 catch_up(now());
                 cmos_[kRegC] = static_cast<uint8_t>(v);
                 update_irq();
                 rearm();
               }});
  f.push_back({"reg0d", 8, [this] { return uint64_t(cmos_[kRegD]); },
               [this](uint64_t v) { cmos_[kRegD] = static_cast<uint8_t>(v); }});
  for (unsigned i = 0x0E; i < kCmosSize; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "cmos[0x%02x]", i);
    f.push_back({name, 8, [this, i] { return uint64_t(cmos_[i]); },
                 [this, i](uint64_t v) { cmos_[i] = static_cast<uint8_t>(v); }});
  }
  return f;
}

}  // namespace faultline
