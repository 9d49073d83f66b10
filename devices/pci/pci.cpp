// PCI configuration space behaviour: header defaults, masked writes, BAR
// sizing and decoding, and the bus of functions.
#include "devices/pci/pci.h"

#include <stdexcept>

namespace faultline {

using namespace pci;

uint16_t PciFunction::config_word(uint8_t offset) const {
  return static_cast<uint16_t>(config_[offset] | config_[static_cast<uint8_t>(offset + 1)] << 8);
}

void PciFunction::set_byte(uint8_t offset, uint8_t value, uint8_t writable, uint8_t write_one_clears) {
  config_[offset] = value;
  writable_[offset] = writable;
  write_one_clears_[offset] = write_one_clears;
}

void PciFunction::set_word(uint8_t offset, uint16_t value, uint16_t writable, uint16_t write_one_clears) {
  set_byte(offset, static_cast<uint8_t>(value), static_cast<uint8_t>(writable),
           static_cast<uint8_t>(write_one_clears));
  set_byte(static_cast<uint8_t>(offset + 1), static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(writable >> 8),
           static_cast<uint8_t>(write_one_clears >> 8));
}

void PciFunction::init_header(uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision,
                              uint8_t header_type) {
  vendor_ = vendor;
  device_ = device;
  class_code_ = class_code;
  revision_ = revision;
  header_type_ = header_type;
}

void PciFunction::declare_io_bar(unsigned index, uint32_t size, Device* device, uint32_t default_base,
                                 uint32_t address_mask) {
  if (index >= 6 || size < 4 || (size & (size - 1)))
    throw std::invalid_argument(std::string(name()) + ": bad I/O BAR declaration");
  bars_[index] = Bar{size, device, default_base, address_mask};
}

void PciFunction::reset() {
  auto before = mappings();
  apply_defaults();
  auto after = mappings();
  if (on_bar_change)
    for (unsigned i = 0; i < 6; ++i)
      if (!(before[i] == after[i])) on_bar_change(*this, i, before[i], after[i]);
}

void PciFunction::apply_defaults() {
  config_.fill(0);
  writable_.fill(0);
  write_one_clears_.fill(0);
  set_word(kVendorId, vendor_);
  set_word(kDeviceId, device_);
  set_word(kCommand, 0, kCommandIo | kCommandMemory | kCommandBusMaster);
  set_word(kStatus, 0, 0, 0xF900);  // error bits are write-1-to-clear
  set_byte(kRevision, revision_);
  set_byte(kProgIf, static_cast<uint8_t>(class_code_));
  set_byte(kSubclass, static_cast<uint8_t>(class_code_ >> 8));
  set_byte(kClass, static_cast<uint8_t>(class_code_ >> 16));
  set_byte(kHeaderType, header_type_);
  for (unsigned i = 0; i < 6; ++i) {
    const Bar& b = bars_[i];
    if (!b.size) continue;
    uint32_t writable = b.address_mask & ~(b.size - 1) & ~3u;
    uint32_t value = (b.default_base & writable) | 1u;  // bit 0: I/O space
    for (unsigned k = 0; k < 4; ++k)
      set_byte(static_cast<uint8_t>(kBar0 + 4 * i + k), static_cast<uint8_t>(value >> (8 * k)),
               static_cast<uint8_t>(writable >> (8 * k)));
  }
  set_byte(kInterruptLine, 0, 0xFF);
  set_defaults();
}

uint32_t PciFunction::config_read(uint8_t offset, unsigned size) const {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t byte = offset + i < 256 ? config_[offset + i] : 0xFF;
    value |= byte << (8 * i);
  }
  return value;
}

void PciFunction::config_write(uint8_t offset, unsigned size, uint32_t value) {
  auto before = mappings();
  for (unsigned i = 0; i < size && offset + i < 256; ++i) {
    unsigned at = offset + i;
    auto byte = static_cast<uint8_t>(value >> (8 * i));
    config_[at] = static_cast<uint8_t>((config_[at] & ~writable_[at]) | (byte & writable_[at]));
    config_[at] &= static_cast<uint8_t>(~(byte & write_one_clears_[at]));
  }
  config_written(offset, size);
  auto after = mappings();
  if (on_bar_change)
    for (unsigned i = 0; i < 6; ++i)
      if (!(before[i] == after[i])) on_bar_change(*this, i, before[i], after[i]);
}

PciBarMapping PciFunction::bar(unsigned index) const {
  const Bar& b = bars_.at(index);
  PciBarMapping m;
  if (!b.size) return m;
  uint8_t at = static_cast<uint8_t>(kBar0 + 4 * index);
  uint32_t raw = config_read(at, 4);
  m.io = true;
  m.size = b.size;
  m.base = raw & ~3u;
  m.enabled = (command() & kCommandIo) && m.base != 0;
  return m;
}

std::array<PciBarMapping, 6> PciFunction::mappings() const {
  std::array<PciBarMapping, 6> m;
  for (unsigned i = 0; i < 6; ++i) m[i] = bar(i);
  return m;
}

// ---- bus ---------------------------------------------------------------------

void PciBus::add(unsigned device, unsigned function, PciFunction& fn) {
  if (device >= 32 || function >= 8) throw std::invalid_argument("pci: slot out of range");
  unsigned key = device << 3 | function;
  if (functions_.count(key))
    throw std::invalid_argument(std::string("pci: slot ") + std::to_string(device) + "." + std::to_string(function) +
                                " already holds " + functions_[key]->name());
  functions_[key] = &fn;
}

PciFunction* PciBus::find(unsigned device, unsigned function) const {
  auto it = functions_.find(device << 3 | function);
  return it == functions_.end() ? nullptr : it->second;
}

void PciBus::reset() {
  for (auto& [key, fn] : functions_) fn->reset();
}

Device* PciBus::decode_io(uint16_t port, uint32_t* offset) const {
  for (const auto& [key, fn] : functions_) {
    for (unsigned i = 0; i < 6; ++i) {
      PciBarMapping m = fn->bar(i);
      if (!m.enabled || !m.io || port < m.base || port - m.base >= m.size) continue;
      Device* device = fn->bar_device(i);
      if (!device) continue;
      *offset = port - m.base;
      return device;
    }
  }
  return nullptr;
}

uint32_t PciBus::io_read(uint16_t port, unsigned size) {
  uint32_t offset = 0;
  if (Device* d = decode_io(port, &offset)) return d->read(offset, size);
  return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

void PciBus::io_write(uint16_t port, unsigned size, uint32_t value) {
  uint32_t offset = 0;
  if (Device* d = decode_io(port, &offset)) d->write(offset, size, value);
}

IoHandler PciBus::io_window(uint16_t base) {
  return IoHandler{
      [this, base](uint32_t offset, unsigned size) { return io_read(static_cast<uint16_t>(base + offset), size); },
      [this, base](uint32_t offset, unsigned size, uint32_t value) {
        io_write(static_cast<uint16_t>(base + offset), size, value);
      }};
}

}  // namespace faultline
