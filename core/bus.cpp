#include "core/bus.h"

#include <algorithm>
#include <stdexcept>

namespace faultline {

void Bus::insert(std::vector<Range>& ranges, Range r, const char* kind) {
  if (r.length == 0) throw std::invalid_argument(std::string(kind) + " range for " + r.name + " is empty");
  for (const Range& o : ranges) {
    if (r.base < o.base + o.length && o.base < r.base + r.length) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "%s range %s [0x%llx, 0x%llx) overlaps %s [0x%llx, 0x%llx)", kind,
                    r.name.c_str(), (unsigned long long)r.base, (unsigned long long)(r.base + r.length),
                    o.name.c_str(), (unsigned long long)o.base, (unsigned long long)(o.base + o.length));
      throw std::invalid_argument(buf);
    }
  }
  auto it = std::lower_bound(ranges.begin(), ranges.end(), r.base,
                             [](const Range& a, uint64_t b) { return a.base < b; });
  ranges.insert(it, std::move(r));
}

const Bus::Range* Bus::find(const std::vector<Range>& ranges, uint64_t addr) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), addr,
                             [](uint64_t a, const Range& b) { return a < b.base; });
  if (it == ranges.begin()) return nullptr;
  --it;
  return addr < it->base + it->length ? &*it : nullptr;
}

void Bus::register_io(uint16_t base, uint32_t length, std::string name, IoHandler handler) {
  if (uint32_t(base) + length > 0x10000)
    throw std::invalid_argument("I/O range for " + name + " extends past port 0xFFFF");
  insert(io_, Range{base, length, std::move(name), std::move(handler)}, "I/O");
  std::fill(port_map_.begin(), port_map_.end(), 0);
  for (size_t i = 0; i < io_.size(); ++i)
    for (uint64_t p = io_[i].base; p < io_[i].base + io_[i].length; ++p)
      port_map_[p] = static_cast<uint16_t>(i + 1);
}

void Bus::register_mmio(uint64_t base, uint64_t length, std::string name, IoHandler handler) {
  insert(mmio_, Range{base, length, std::move(name), std::move(handler)}, "MMIO");
}

uint32_t Bus::io_read(uint16_t port, unsigned size) {
  if (io_observer) {
    uint32_t v;
    {
      auto obs = std::move(io_observer);  // not re-entered while reading
      io_observer = nullptr;
      v = io_read(port, size);
      io_observer = std::move(obs);
    }
    if (io_observer) io_observer(port, size, false, v);
    return v;
  }
  uint16_t idx = port_map_[port];
  if (idx) {
    const Range& r = io_[idx - 1];
    if (r.handler.read) return r.handler.read(port - static_cast<uint32_t>(r.base), size);
    return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
  }
  ++unclaimed_io_reads_;
  ++unclaimed_ports_[port];
  return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

void Bus::io_write(uint16_t port, unsigned size, uint32_t value) {
  if (io_observer) io_observer(port, size, true, value);
  uint16_t idx = port_map_[port];
  if (idx) {
    const Range& r = io_[idx - 1];
    if (r.handler.write) r.handler.write(port - static_cast<uint32_t>(r.base), size, value);
    return;
  }
  ++unclaimed_io_writes_;
  ++unclaimed_ports_[port];
}

bool Bus::mmio_claimed(uint64_t paddr) const {
  if (mmio_.empty()) return false;
  return find(mmio_, paddr) != nullptr;
}

uint32_t Bus::mmio_read(uint64_t paddr, unsigned size) {
  const Range* r = find(mmio_, paddr);
  if (!r || !r->handler.read) {
    ++unclaimed_mmio_;
    return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
  }
  return r->handler.read(static_cast<uint32_t>(paddr - r->base), size);
}

void Bus::mmio_write(uint64_t paddr, unsigned size, uint32_t value) {
  const Range* r = find(mmio_, paddr);
  if (!r || !r->handler.write) {
    ++unclaimed_mmio_;
    return;
  }
  r->handler.write(static_cast<uint32_t>(paddr - r->base), size, value);
}

}  // namespace faultline
