// PCI: configuration space of one function (PciFunction), the bus that
// holds the functions and decodes their I/O BARs (PciBus), and the host's
// configuration mechanism #1 at 0xCF8-0xCFF (PciHost).
//
// Design note: a function's whole configuration space is 256 bytes plus a
// per-byte writable mask and write-1-to-clear mask, so a plain register needs
// no code; functions add side effects by overriding config_written(). BARs
// are declared with their size and the Device that answers them; their
// addresses live only in the config bytes, so save/load is the 256 bytes and
// nothing else can drift. Because the core Bus registers fixed ranges, the
// platform registers one PCI I/O window on it (PciBus::io_window) through
// which the bus decodes the enabled I/O BARs at their current addresses;
// on_bar_change tells interested parties when a mapping moved.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/bus.h"
#include "devices/device.h"

namespace faultline {

namespace pci {
constexpr uint8_t kVendorId = 0x00, kDeviceId = 0x02, kCommand = 0x04, kStatus = 0x06;
constexpr uint8_t kRevision = 0x08, kProgIf = 0x09, kSubclass = 0x0A, kClass = 0x0B;
constexpr uint8_t kHeaderType = 0x0E, kBar0 = 0x10, kInterruptLine = 0x3C, kInterruptPin = 0x3D;
constexpr uint16_t kCommandIo = 0x0001, kCommandMemory = 0x0002, kCommandBusMaster = 0x0004;
}  // namespace pci

// Where a BAR currently decodes.
struct PciBarMapping {
  bool io = false;
  bool enabled = false;  // command-register decode enable and a non-zero base
  uint32_t base = 0;
  uint32_t size = 0;
  bool operator==(const PciBarMapping&) const = default;
};

class PciFunction {
 public:
  virtual ~PciFunction() = default;
  virtual const char* name() const = 0;

  // Power-on defaults of the configuration space.
  void reset();
  // Configuration access inside this function (offset 0-255, size 1/2/4,
  // naturally aligned by the host).
  uint32_t config_read(uint8_t offset, unsigned size) const;
  void config_write(uint8_t offset, unsigned size, uint32_t value);

  uint8_t config_byte(uint8_t offset) const { return config_[offset]; }
  uint16_t config_word(uint8_t offset) const;
  uint16_t command() const { return config_word(pci::kCommand); }
  PciBarMapping bar(unsigned index) const;
  // The Device answering an I/O BAR (nullptr if none).
  Device* bar_device(unsigned index) const { return bars_.at(index).device; }

  // Called when a BAR's effective mapping changes (base write or decode
  // enable); `bar` is 0-5.
  std::function<void(PciFunction& fn, unsigned bar, const PciBarMapping& before, const PciBarMapping& after)>
      on_bar_change;

  std::string save() const;
  // Throws std::runtime_error naming the function on malformed state or IDs
  // that differ from this function's.
  void load(const std::string& state);

 protected:
  PciFunction() = default;
  // Sets up the identity and resets; derived constructors call this.
  void init_header(uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision, uint8_t header_type);
  // An I/O BAR of `size` bytes (a power of two, >= 4) answering with
  // `device`; `address_mask` limits the writable address bits (the PIIX3
  // decodes 16 bits).
  void declare_io_bar(unsigned index, uint32_t size, Device* device, uint32_t default_base,
                      uint32_t address_mask = 0xFFFFFFFF);
  // Hooks for derived functions.
  virtual void set_defaults() {}  // after the generic header reset
  // After a configuration write of `size` bytes at `offset`; load() calls
  // it with (0, 256).
  virtual void config_written(uint8_t /*offset*/, unsigned /*size*/) {}

  void set_byte(uint8_t offset, uint8_t value, uint8_t writable = 0, uint8_t write_one_clears = 0);
  void set_word(uint8_t offset, uint16_t value, uint16_t writable = 0, uint16_t write_one_clears = 0);

 private:
  struct Bar {
    uint32_t size = 0;  // 0: not implemented
    Device* device = nullptr;
    uint32_t default_base = 0;
    uint32_t address_mask = 0;
  };
  void apply_defaults();
  std::array<PciBarMapping, 6> mappings() const;

  std::array<uint8_t, 256> config_{};
  std::array<uint8_t, 256> writable_{};
  std::array<uint8_t, 256> write_one_clears_{};
  std::array<Bar, 6> bars_{};
  uint16_t vendor_ = 0xFFFF, device_ = 0xFFFF;
  uint32_t class_code_ = 0;
  uint8_t revision_ = 0, header_type_ = 0;
};

// Bus 0: up to 32 devices x 8 functions.
class PciBus {
 public:
  // Throws std::invalid_argument if the slot is taken or out of range.
  void add(unsigned device, unsigned function, PciFunction& fn);
  PciFunction* find(unsigned device, unsigned function) const;
  void reset();

  // Port I/O through enabled I/O BARs; unclaimed reads return all-ones.
  uint32_t io_read(uint16_t port, unsigned size);
  void io_write(uint16_t port, unsigned size, uint32_t value);
  // A handler for Bus::register_io(base, length, "pci-io", io_window(base)).
  IoHandler io_window(uint16_t base);

 private:
  // Finds the I/O BAR containing `port`.
  Device* decode_io(uint16_t port, uint32_t* offset) const;
  std::map<unsigned, PciFunction*> functions_;  // key: device << 3 | function
};

// Configuration mechanism #1: offsets 0-3 (0xCF8) the address register
// (dword access only), offsets 4-7 (0xCFC-0xCFF) the data window. Offset 1
// (0xCF9) byte access is the PIIX3 reset control register: bit 2 rising
// calls `on_reset` with the register value (bit 1: hard reset).
class PciHost final : public Device {
 public:
  explicit PciHost(PciBus& bus) : bus_(bus) {}
  const char* name() const override { return "pci-host"; }
  void reset() override;
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;

  std::function<void(uint8_t reset_control)> on_reset;
  uint32_t address() const { return address_; }

 private:
  PciFunction* target(uint8_t* reg) const;
  PciBus& bus_;
  uint32_t address_ = 0;
  uint8_t reset_control_ = 0;
};

}  // namespace faultline
