// QEMU firmware configuration interface (fw_cfg), traditional I/O-port
// form, as Debian's SeaBIOS (QEMU build) probes it: selector at offset 0
// (port 0x510, 16-bit write), data at offset 1 (port 0x511, byte reads).
//
// Design note: items are configuration, not guest state. The platform (or
// a loader) fills them before the guest runs; the guest only selects an
// item and reads it byte by byte. Reading past an item's end, or reading an
// item that does not exist, returns 0. Writes through the data port are
// ignored (as in QEMU since 2.4). Numeric items (RAM size, CPU counts) are
// little-endian; the file directory (key 0x0019) is big-endian:
//   u32 count, then per file { u32 size; u16 select; u16 reserved;
//   char name[56] } with files at selectors 0x0020 upwards in insertion
//   order. The ID item (0x0001) reports bit 0 (traditional interface)
//   only: SeaBIOS uses DMA (port 0x514) only when ID bit 1 is set, so DMA is
//   not provided. save()/load() keep the selector and read offset; the items
//   themselves are rebuilt by whoever configures the machine.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "devices/device.h"

namespace faultline {

namespace fw_cfg_key {
inline constexpr uint16_t kSignature = 0x0000, kId = 0x0001, kUuid = 0x0002, kRamSize = 0x0003,
                          kNoGraphic = 0x0004, kNbCpus = 0x0005, kMachineId = 0x0006,
                          kKernelAddr = 0x0007, kKernelSize = 0x0008, kKernelCmdline = 0x0009,
                          kInitrdAddr = 0x000A, kInitrdSize = 0x000B, kBootDevice = 0x000C,
                          kNuma = 0x000D, kBootMenu = 0x000E, kMaxCpus = 0x000F, kFileDir = 0x0019,
                          kFileFirst = 0x0020, kWrite = 0x4000, kArchLocal = 0x8000;
}  // namespace fw_cfg_key

class FwCfg final : public Device {
 public:
  static constexpr uint32_t kVersion = 1;
  static constexpr uint32_t kSelectorOffset = 0, kDataOffset = 1;
  static constexpr size_t kMaxNameLength = 55;  // plus the terminating NUL in 56 bytes
  static constexpr uint16_t kMaxFiles = 0x1000;

  // Creates the signature, ID and (empty) file directory items.
  FwCfg();

  const char* name() const override { return "fw-cfg"; }
  void reset() override;
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;

  // Sets a numbered item (replacing it). Keys in the file range and the
  // directory key are refused (std::invalid_argument).
  void set_item(uint16_t key, std::vector<uint8_t> data);
  void set_u16(uint16_t key, uint16_t value);
  void set_u32(uint16_t key, uint32_t value);
  void set_u64(uint16_t key, uint64_t value);
  // Adds (or replaces) a named file; returns its selector. Names longer
  // than 55 bytes or beyond kMaxFiles files throw std::invalid_argument.
  uint16_t add_file(const std::string& name, std::vector<uint8_t> data);

  // Introspection.
  const std::vector<uint8_t>* item(uint16_t key) const;
  uint16_t selector() const { return selector_; }
  uint32_t offset() const { return offset_; }

 private:
  void rebuild_directory();
  uint8_t read_byte();

  std::map<uint16_t, std::vector<uint8_t>> items_;
  std::vector<std::string> files_;  // index i has selector kFileFirst + i
  uint16_t selector_ = 0;
  uint32_t offset_ = 0;
};

}  // namespace faultline
