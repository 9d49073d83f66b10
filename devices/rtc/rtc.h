// Motorola MC146818 real-time clock with 128 bytes of CMOS RAM (ports
// 0x70-0x71: offset 0 index with the NMI-disable bit 7, offset 1 data).
//
// Design note: the clock does not tick. It keeps "wall seconds at a virtual
// instant" and derives the time registers, the update-in-progress window and
// the update/alarm/periodic flags from the virtual time when they are read,
// so an idle RTC costs nothing. Flags are brought up to date (catch_up)
// before every register access and state change. An event is scheduled only
// while an enabled interrupt could raise IRQ 8 and the line is still low.
//
// Time registers are views of that second count: a write replaces one field
// (clamped to a valid range) and keeps the sub-second phase; switching BCD /
// binary or 12 / 24 hours re-encodes the current time instead of keeping the
// old register bytes. Device::reset() is the chip's RESET pin: interrupt
// enables and flags clear, time and NVRAM survive.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "devices/device.h"
#include "devices/time_source.h"

namespace faultline {

struct RtcConfig {
  // Wall time (UTC seconds since 1970) at virtual time 0.
  int64_t start_epoch_seconds = 1'767'225'600;  // 2026-01-01 00:00:00
};

class Rtc146818 final : public Device {
 public:
  static constexpr unsigned kCmosSize = 128;

  Rtc146818(TimeSource& time, IrqLine& irq8, const RtcConfig& config = {});
  ~Rtc146818() override;
  Rtc146818(const Rtc146818&) = delete;
  Rtc146818& operator=(const Rtc146818&) = delete;

  const char* name() const override { return "rtc"; }
  void reset() override;
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;
  void after_load() override;
  // "index" (7 bits: the selected register), "reg0a".."reg0d" (status
  // registers A-D: A/B through the chip's control logic, so a changed
  // rate/enable re-arms the interrupt event; C keeps only its flag bits
  // PF/AF/UF (0x70), IRQF follows from them and B, IRQ 8 is re-evaluated),
  // "cmos[0x0e]".."cmos[0x7f]" (NVRAM bytes, including alarm-free
  // configuration such as the checksum at 0x2e/0x2f), 8 bits each.
  FaultFields fault_fields() override;

  // Bit 7 of the last index write (the platform gates NMI with it).
  bool nmi_disabled() const { return nmi_disabled_; }

  // Firmware configuration: NVRAM bytes 0x0E..0x7F (other indexes are
  // clock registers and are ignored / read as 0 here).
  uint8_t nvram(unsigned index) const;
  void set_nvram(unsigned index, uint8_t value);
  // Memory size bytes: 0x15/0x16 base KiB (up to 640), 0x17/0x18 and
  // 0x30/0x31 extended KiB above 1 MiB (up to 63 MiB), 0x34/0x35 64 KiB
  // blocks above 16 MiB; then the checksum.
  void set_memory_size(uint64_t bytes);
  // Century byte 0x32 (BCD).
  void set_century(unsigned century);
  // Checksum of 0x10..0x2D, big-endian at 0x2E/0x2F.
  void update_checksum();

  // Wall seconds (UTC epoch) the clock shows now.
  int64_t wall_seconds();

 private:
  struct DateTime {
    int64_t year;
    int month, day, hour, minute, second;
  };
  // ---- behaviour (rtc.cpp) ----
  int64_t now() const { return static_cast<int64_t>(time_.now_ns()); }
  bool divider_running() const;
  bool clock_running() const;
  int64_t seconds_at(int64_t ns) const;
  bool update_in_progress(int64_t ns) const;
  uint64_t periodic_clocks() const;  // 32.768 kHz cycles per periodic tick, 0: off
  void catch_up(int64_t ns);
  bool alarm_matches(int64_t seconds) const;
  void set_control(uint8_t a, uint8_t b);
  void update_irq();
  void rearm();
  uint8_t encode(int value) const;
  int decode(uint8_t value) const;
  uint8_t encode_hour(int hour) const;
  int decode_hour(uint8_t value) const;
  static DateTime to_date(int64_t seconds);
  static int64_t from_date(const DateTime& dt);
  static int weekday(int64_t seconds);  // 1 = Sunday
  // ---- register interface (rtc_io.cpp) ----
  uint8_t read_register(unsigned index);
  void write_register(unsigned index, uint8_t value);
  void write_time_field(unsigned index, uint8_t value);
  // ---- state (rtc_state.cpp) ----
  template <bool Saving, class Msg, class Self>
  friend void transfer_rtc(Self& self, Msg& msg);

  TimeSource& time_;
  IrqLine& irq8_;
  RtcConfig config_;
  std::array<uint8_t, kCmosSize> cmos_{};  // clock registers 0x00-0x09 unused
  uint8_t index_ = 0;
  bool nmi_disabled_ = false;
  int64_t seconds_at_base_ = 0;  // wall seconds at base_ns_ (or frozen value)
  int64_t base_ns_ = 0;          // virtual time of the last whole-second update
  int32_t weekday_offset_ = 0;   // guest-written day of week minus the real one
  int64_t flags_ns_ = 0;         // flags are accounted up to this instant
  bool irq_level_ = false;
  TimeSource::EventId event_ = 0;
};

}  // namespace faultline
