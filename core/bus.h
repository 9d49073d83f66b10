// The bus: port I/O and MMIO dispatch to devices.
//
// Design note: devices register a range and see offsets inside it, never
// absolute addresses, so a device can be moved or instantiated twice.
// Registration rejects overlaps. Unclaimed port reads return all-ones and are
// counted (a real ISA bus floats high), so a guest probing for absent hardware
// behaves as on a PC and the counts show what it probed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace faultline {

struct IoHandler {
  std::function<uint32_t(uint32_t offset, unsigned size)> read;
  std::function<void(uint32_t offset, unsigned size, uint32_t value)> write;
};

class Bus {
 public:
  // Throws std::invalid_argument on overlap or an empty range.
  void register_io(uint16_t base, uint32_t length, std::string name, IoHandler handler);
  void register_mmio(uint64_t base, uint64_t length, std::string name, IoHandler handler);

  uint32_t io_read(uint16_t port, unsigned size);
  void io_write(uint16_t port, unsigned size, uint32_t value);
  bool mmio_claimed(uint64_t paddr) const;
  uint32_t mmio_read(uint64_t paddr, unsigned size);
  void mmio_write(uint64_t paddr, unsigned size, uint32_t value);

  // Observer of every port access (fault triggers, tracing); unset = free.
  std::function<void(uint16_t port, unsigned size, bool write, uint32_t value)> io_observer;

  uint64_t unclaimed_io_reads() const { return unclaimed_io_reads_; }
  uint64_t unclaimed_io_writes() const { return unclaimed_io_writes_; }
  uint64_t unclaimed_mmio() const { return unclaimed_mmio_; }
  // Ports that were accessed without a device, with access counts.
  const std::map<uint16_t, uint64_t>& unclaimed_ports() const { return unclaimed_ports_; }

 private:
  struct Range {
    uint64_t base;
    uint64_t length;
    std::string name;
    IoHandler handler;
  };
  static void insert(std::vector<Range>& ranges, Range r, const char* kind);
  static const Range* find(const std::vector<Range>& ranges, uint64_t addr);
  std::vector<Range> io_;    // sorted by base
  std::vector<Range> mmio_;  // sorted by base
  // Direct port table for speed: index into io_ + 1, 0 = unclaimed.
  std::vector<uint16_t> port_map_ = std::vector<uint16_t>(65536, 0);
  uint64_t unclaimed_io_reads_ = 0, unclaimed_io_writes_ = 0, unclaimed_mmio_ = 0;
  std::map<uint16_t, uint64_t> unclaimed_ports_;
};

}  // namespace faultline
