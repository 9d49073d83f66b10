// MC146818 behaviour: time from the virtual clock, UIP window, update /
// alarm / periodic flags, IRQ 8, and the firmware's memory-size bytes.
#include "devices/rtc/rtc.h"

#include <algorithm>
#include <limits>

namespace faultline {

namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;
constexpr int64_t kUipWindowNs = 244'000;  // UIP rises 244 us before an update
constexpr uint64_t kTimebaseHz = 32'768;

// Register A
constexpr uint8_t kRegA = 0x0A, kUip = 0x80;
// Register B
constexpr uint8_t kRegB = 0x0B, kSet = 0x80, kPie = 0x40, kAie = 0x20, kUie = 0x10, kSqwe = 0x08, kBinary = 0x04,
                  kHour24 = 0x02;
// Register C
constexpr uint8_t kRegC = 0x0C, kIrqf = 0x80, kPf = 0x40, kAf = 0x20, kUf = 0x10;
// Register D
constexpr uint8_t kRegD = 0x0D, kVrt = 0x80;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

uint8_t to_bcd(unsigned v) { return static_cast<uint8_t>(((v / 10) % 10) << 4 | (v % 10)); }

}  // namespace

Rtc146818::Rtc146818(TimeSource& time, IrqLine& irq8, const RtcConfig& config)
    : time_(time), irq8_(irq8), config_(config) {
  // Power-on: the battery-backed state as a fresh board would have it.
  cmos_[kRegA] = 0x26;  // 32.768 kHz divider, 1024 Hz periodic rate
  cmos_[kRegB] = kHour24;
  cmos_[kRegC] = 0;
  cmos_[kRegD] = kVrt;
  seconds_at_base_ = config.start_epoch_seconds;
  base_ns_ = 0;
  flags_ns_ = now();
  set_century(static_cast<unsigned>(to_date(config.start_epoch_seconds).year / 100));
  irq8_.lower();
}

Rtc146818::~Rtc146818() {
  if (event_) time_.cancel(event_);
}

void Rtc146818::reset() {
  catch_up(now());
  cmos_[kRegB] &= static_cast<uint8_t>(~(kPie | kAie | kUie | kSqwe));
  cmos_[kRegC] = 0;
  update_irq();
  rearm();
}

bool Rtc146818::divider_running() const { return (cmos_[kRegA] & 0x60) != 0x60; }  // DV 11x: reset

bool Rtc146818::clock_running() const { return divider_running() && !(cmos_[kRegB] & kSet); }

int64_t Rtc146818::seconds_at(int64_t ns) const {
  if (!clock_running()) return seconds_at_base_;
  return seconds_at_base_ + floor_div(ns - base_ns_, kNsPerSecond);
}

int64_t Rtc146818::wall_seconds() { return seconds_at(now()); }

bool Rtc146818::update_in_progress(int64_t ns) const {
  if (!clock_running()) return false;
  int64_t phase = (ns - base_ns_) - floor_div(ns - base_ns_, kNsPerSecond) * kNsPerSecond;
  return phase >= kNsPerSecond - kUipWindowNs;
}

uint64_t Rtc146818::periodic_clocks() const {
  unsigned rs = cmos_[kRegA] & 0x0F;
  if (rs == 0 || !divider_running()) return 0;
  if (rs <= 2) rs += 7;  // 256 Hz and 128 Hz repeat rates 8 and 9
  return uint64_t{1} << (rs - 1);
}

bool Rtc146818::alarm_matches(int64_t seconds) const {
  DateTime dt = to_date(seconds);
  auto match = [](uint8_t alarm, uint8_t value) { return (alarm & 0xC0) == 0xC0 || alarm == value; };
  return match(cmos_[0x01], encode(dt.second)) && match(cmos_[0x03], encode(dt.minute)) &&
         match(cmos_[0x05], encode_hour(dt.hour));
}

void Rtc146818::catch_up(int64_t ns) {
  int64_t last = flags_ns_;
  if (ns <= last) return;
  flags_ns_ = ns;
  if (clock_running()) {
    int64_t before = floor_div(last - base_ns_, kNsPerSecond);
    int64_t after = floor_div(ns - base_ns_, kNsPerSecond);
    if (after > before) {
      cmos_[kRegC] |= kUf;
      // The alarm pattern repeats at least daily, so the last day covers it.
      int64_t first = std::max(before + 1, after - 86'400);
      for (int64_t k = first; k <= after && !(cmos_[kRegC] & kAf); ++k)
        if (alarm_matches(seconds_at_base_ + k)) {
          cmos_[kRegC] |= kAf;
          break;
        }
    }
  }
  if (uint64_t period = periodic_clocks()) {
    auto ticks = [](int64_t t) {
      return static_cast<uint64_t>(static_cast<unsigned __int128>(std::max<int64_t>(t, 0)) * kTimebaseHz /
                                   kNsPerSecond);
    };
    if (ticks(ns) / period > ticks(last) / period) cmos_[kRegC] |= kPf;
  }
  update_irq();
}

void Rtc146818::set_control(uint8_t a, uint8_t b) {
  int64_t ns = now();
  catch_up(ns);
  bool was_running = clock_running();
  bool divider_was_running = divider_running();
  int64_t shown = seconds_at(ns);
  cmos_[kRegA] = a & static_cast<uint8_t>(~kUip);
  cmos_[kRegB] = b;
  bool running = clock_running();
  if (was_running && !running) {
    seconds_at_base_ = shown;  // frozen
  } else if (!was_running && running) {
    // Leaving SET: the next update is a second away. Leaving divider reset:
    // the first update comes half a second later.
    seconds_at_base_ = shown;
    base_ns_ = (!divider_was_running) ? ns - kNsPerSecond / 2 : ns;
  }
  update_irq();
  rearm();
}

void Rtc146818::update_irq() {
  uint8_t flags = cmos_[kRegC] & (kPf | kAf | kUf);
  bool irqf = flags & cmos_[kRegB] & (kPie | kAie | kUie);
  cmos_[kRegC] = static_cast<uint8_t>(flags | (irqf ? kIrqf : 0));
  if (irqf != irq_level_) {
    irq_level_ = irqf;
    irq8_.set(irqf);
  }
}

void Rtc146818::rearm() {
  if (event_) time_.cancel(event_);
  event_ = 0;
  if (irq_level_) return;  // nothing new is observable until C is read
  int64_t ns = now();
  int64_t next = std::numeric_limits<int64_t>::max();
  uint8_t b = cmos_[kRegB];
  if (b & kPie) {
    if (uint64_t period = periodic_clocks()) {
      uint64_t tick = static_cast<uint64_t>(static_cast<unsigned __int128>(std::max<int64_t>(ns, 0)) * kTimebaseHz /
                                            kNsPerSecond);
      uint64_t due = (tick / period + 1) * period;
      auto at = static_cast<int64_t>(
          (static_cast<unsigned __int128>(due) * kNsPerSecond + kTimebaseHz - 1) / kTimebaseHz);
      next = std::min(next, at);
    }
  }
  if ((b & (kUie | kAie)) && clock_running())
    next = std::min(next, base_ns_ + (floor_div(ns - base_ns_, kNsPerSecond) + 1) * kNsPerSecond);
  if (next == std::numeric_limits<int64_t>::max()) return;
  event_ = time_.schedule(static_cast<uint64_t>(std::max<int64_t>(next - ns, 0)), [this] {
    event_ = 0;
    catch_up(now());
    rearm();
  });
}

void Rtc146818::after_load() {
  irq_level_ = cmos_[kRegC] & kIrqf;
  irq8_.set(irq_level_);
  rearm();
}

// ---- encoding -----------------------------------------------------------------

uint8_t Rtc146818::encode(int value) const {
  return (cmos_[kRegB] & kBinary) ? static_cast<uint8_t>(value) : to_bcd(static_cast<unsigned>(value));
}

int Rtc146818::decode(uint8_t value) const {
  if (cmos_[kRegB] & kBinary) return value;
  return (value >> 4) * 10 + (value & 0x0F);
}

uint8_t Rtc146818::encode_hour(int hour) const {
  if (cmos_[kRegB] & kHour24) return encode(hour);
  int h12 = hour % 12 == 0 ? 12 : hour % 12;
  return static_cast<uint8_t>(encode(h12) | (hour >= 12 ? 0x80 : 0));
}

int Rtc146818::decode_hour(uint8_t value) const {
  if (cmos_[kRegB] & kHour24) return decode(value);
  int h = decode(value & 0x7F) % 12;
  return (value & 0x80) ? h + 12 : h;
}

// Civil-calendar conversion (proleptic Gregorian, 400-year eras).
int64_t Rtc146818::from_date(const DateTime& dt) {
  int64_t y = dt.year - (dt.month <= 2 ? 1 : 0);
  int64_t era = floor_div(y, 400);
  int64_t year_of_era = y - era * 400;
  int64_t month_index = dt.month > 2 ? dt.month - 3 : dt.month + 9;  // March = 0
  int64_t day_of_year = (153 * month_index + 2) / 5 + dt.day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  int64_t days = era * 146'097 + day_of_era - 719'468;  // 1970-01-01 is day 0
  return days * 86'400 + dt.hour * 3'600 + dt.minute * 60 + dt.second;
}

Rtc146818::DateTime Rtc146818::to_date(int64_t seconds) {
  int64_t days = floor_div(seconds, 86'400);
  int64_t rest = seconds - days * 86'400;
  days += 719'468;
  int64_t era = floor_div(days, 146'097);
  int64_t day_of_era = days - era * 146'097;
  int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t month_index = (5 * day_of_year + 2) / 153;
  DateTime dt{};
  dt.day = static_cast<int>(day_of_year - (153 * month_index + 2) / 5 + 1);
  dt.month = static_cast<int>(month_index < 10 ? month_index + 3 : month_index - 9);
  dt.year = year_of_era + era * 400 + (dt.month <= 2 ? 1 : 0);
  dt.hour = static_cast<int>(rest / 3'600);
  dt.minute = static_cast<int>(rest / 60 % 60);
  dt.second = static_cast<int>(rest % 60);
  return dt;
}

int Rtc146818::weekday(int64_t seconds) {
  int64_t days = floor_div(seconds, 86'400);
  int64_t sunday_based = (days + 4) % 7;  // 1970-01-01 was a Thursday
  if (sunday_based < 0) sunday_based += 7;
  return static_cast<int>(sunday_based) + 1;
}

// ---- firmware configuration ---------------------------------------------------

uint8_t Rtc146818::nvram(unsigned index) const { return index >= 0x0E && index < kCmosSize ? cmos_[index] : 0; }

void Rtc146818::set_nvram(unsigned index, uint8_t value) {
  if (index >= 0x0E && index < kCmosSize) cmos_[index] = value;
}

void Rtc146818::set_memory_size(uint64_t bytes) {
  constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB;
  uint64_t base_kib = std::min<uint64_t>(bytes / kKiB, 640);
  uint64_t extended_kib = bytes > kMiB ? std::min<uint64_t>((bytes - kMiB) / kKiB, 63 * kKiB) : 0;
  uint64_t above_16m = bytes > 16 * kMiB ? std::min<uint64_t>((bytes - 16 * kMiB) / (64 * kKiB), 0xFFFF) : 0;
  auto put16 = [this](unsigned lo, uint64_t v) {
    cmos_[lo] = static_cast<uint8_t>(v);
    cmos_[lo + 1] = static_cast<uint8_t>(v >> 8);
  };
  put16(0x15, base_kib);
  put16(0x17, extended_kib);
  put16(0x30, extended_kib);
  put16(0x34, above_16m);
  update_checksum();
}

void Rtc146818::set_century(unsigned century) { cmos_[0x32] = to_bcd(century % 100); }

void Rtc146818::update_checksum() {
  unsigned sum = 0;
  for (unsigned i = 0x10; i <= 0x2D; ++i) sum += cmos_[i];
  cmos_[0x2E] = static_cast<uint8_t>(sum >> 8);
  cmos_[0x2F] = static_cast<uint8_t>(sum);
}

}  // namespace faultline
