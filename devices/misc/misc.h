// Small system ports: the POST code port (0x80) and system control port A
// (0x92, "fast A20 and reset").
//
// Design note: both are one-register devices at offset 0 of a one-port
// range. POST codes are the firmware's progress trail, so each write is
// kept with its virtual time (the first kLogLimit of them; the count goes
// on) for reports and for fault-campaign outcome classification; an
// observer sees each code as it is written. Port 0x92 reports through
// callbacks: `a20` when bit 1 changes and `cpu_reset` when bit 0 goes from
// 0 to 1; the platform combines this A20 with the i8042's. Neither
// callback runs on reset().
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "devices/device.h"
#include "devices/time_source.h"

namespace faultline {

namespace pb::dev {
class PostCodeState;
}

class PostCodePort final : public Device {
 public:
  static constexpr uint32_t kVersion = 1;
  static constexpr size_t kLogLimit = 65536;
  struct Entry {
    uint8_t code;
    uint64_t time_ns;
    bool operator==(const Entry&) const = default;
  };

  // `time` may be null (codes are logged at time 0); it must outlive the port.
  explicit PostCodePort(const TimeSource* time = nullptr) : time_(time) {}

  const char* name() const override { return "post-code"; }
  void reset() override;
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;

  std::function<void(uint8_t code)> observer;

  uint8_t last_code() const { return last_code_; }
  uint64_t count() const { return count_; }
  const std::vector<Entry>& log() const { return log_; }

 private:
  void record(uint8_t code);
  void sync(pb::dev::PostCodeState& state, bool saving);

  const TimeSource* time_;
  uint8_t last_code_ = 0;
  uint64_t count_ = 0;
  std::vector<Entry> log_;
};

class SystemControlPortA final : public Device {
 public:
  static constexpr uint32_t kVersion = 1;
  static constexpr uint8_t kFastReset = 0x01, kFastA20 = 0x02;

  SystemControlPortA() = default;

  const char* name() const override { return "port92"; }
  void reset() override { value_ = 0; }
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;

  std::function<void(bool enabled)> a20;
  std::function<void()> cpu_reset;

  uint8_t value() const { return value_; }
  bool a20_enabled() const { return value_ & kFastA20; }

 private:
  void update(uint8_t value);

  uint8_t value_ = 0;
};

}  // namespace faultline
