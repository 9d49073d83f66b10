// Bus-master IDE DMA (SFF-8038i as implemented by the PIIX3): the BMIDE
// registers and the physical region descriptor (PRD) table walk.
//
// A PRD entry is 8 bytes: dword 0 the physical base (bit 0 ignored), bits
// 15:0 of dword 1 the byte count (0 means 64 KiB, bit 0 ignored), bit 31 of
// dword 1 end of table. The transfer runs when the drive has a DMA command
// and the bus master is started (and allowed by PCI bus-master enable).
// Outcomes, as the bus master's status reports them:
//   - transfer done, table used exactly: active=0, interrupt=1;
//   - transfer done, table longer than the transfer: active=1, interrupt=1;
//   - table ended first, direction bit contradicts the command, or guest
//     memory refused an access: active=0, error=1, interrupt=1, and the
//     drive ends the command with ERR+ABRT (the PIIX3 would leave the drive
//     waiting; ending it keeps a guest's error path reachable);
//   - a fault hook's timeout: active stays 1, no interrupt.
#include <algorithm>
#include <cstring>

#include "devices/ide/ide.h"

namespace faultline {

using namespace ata;

namespace {
constexpr uint8_t kBmStart = 0x01;
constexpr uint8_t kBmToMemory = 0x08;  // command bit 3: bus master writes memory
constexpr uint8_t kBmActive = 0x01;
constexpr uint8_t kBmError = 0x02;
constexpr uint8_t kBmInterrupt = 0x04;
constexpr uint8_t kBmCapable = 0x60;  // drive 0/1 DMA capable (software bits)
constexpr uint32_t kChunkSectors = 128;

// Walks a PRD table in guest memory.
class PrdCursor {
 public:
  PrdCursor(const DmaMemory& memory, uint32_t table) : memory_(memory), next_entry_(table) {}

  enum class Result { Ok, TableEnded, MemoryError };

  // Moves `len` bytes between `host` and the regions; to_memory chooses the
  // direction.
  Result move(uint8_t* host, size_t len, bool to_memory) {
    while (len) {
      if (left_ == 0) {
        if (last_) return Result::TableEnded;
        uint32_t entry[2];
        if (!memory_.read || !memory_.read(next_entry_, entry, sizeof entry)) return Result::MemoryError;
        next_entry_ += 8;
        address_ = entry[0] & ~1u;
        left_ = entry[1] & 0xFFFE;
        if ((entry[1] & 0xFFFF) == 0) left_ = 0x10000;
        last_ = entry[1] & 0x80000000u;
        if (left_ == 0) continue;
      }
      size_t n = std::min<size_t>(len, left_);
      bool ok = to_memory ? (memory_.write && memory_.write(address_, host, n))
                          : (memory_.read && memory_.read(address_, host, n));
      if (!ok) return Result::MemoryError;
      host += n;
      len -= n;
      address_ += static_cast<uint32_t>(n);
      left_ -= static_cast<uint32_t>(n);
    }
    return Result::Ok;
  }
  // True when the table still has bytes after the transfer.
  bool table_left() const { return left_ != 0 || !last_; }

 private:
  const DmaMemory& memory_;
  uint32_t next_entry_;
  uint32_t address_ = 0;
  uint32_t left_ = 0;
  bool last_ = false;
};
}  // namespace

void IdeChannel::bm_write_command(uint8_t value) {
  uint8_t old = bm_command_;
  bm_command_ = value & (kBmStart | kBmToMemory);
  if ((value & kBmStart) && !(old & kBmStart)) {
    bm_status_ |= kBmActive;
    try_dma();
  } else if (!(value & kBmStart) && (old & kBmStart)) {
    bm_status_ &= static_cast<uint8_t>(~kBmActive);  // stopping aborts the bus master
  }
}

void IdeChannel::bm_write_status(uint8_t value) {
  uint8_t cleared = value & (kBmError | kBmInterrupt);  // write 1 to clear
  bm_status_ = static_cast<uint8_t>(((bm_status_ & ~cleared) & ~kBmCapable) | (value & kBmCapable));
}

void IdeChannel::try_dma() {
  if (phase_ != Phase::DmaIn && phase_ != Phase::DmaOut) return;
  if (!(bm_status_ & kBmActive) || !(bm_command_ & kBmStart)) return;
  if (dma_gate_ && !dma_gate_()) return;  // bus mastering disabled: nothing moves
  bool to_memory = phase_ == Phase::DmaIn;
  auto bus_master_error = [this] {
    bm_status_ = static_cast<uint8_t>((bm_status_ & ~kBmActive) | kBmError);
    finish_error(kErrorAbrt);
  };
  if (to_memory != bool(bm_command_ & kBmToMemory)) {
    bus_master_error();
    return;
  }
  PrdCursor prd(dma_memory_, bm_prd_);
  while (remaining_) {
    uint32_t n = std::min(remaining_, kChunkSectors);
    size_t bytes = size_t{n} * DiskImage::kSectorSize;
    if (to_memory) {
      if (!load_sectors(next_lba_, n)) break;
      if (prd.move(buffer_.data(), bytes, true) != PrdCursor::Result::Ok) {
        bus_master_error();
        return;
      }
    } else {
      if (prd.move(buffer_.data(), bytes, false) != PrdCursor::Result::Ok) {
        bus_master_error();
        return;
      }
      if (!store_sectors(next_lba_, n)) break;
    }
    next_lba_ += n;
    remaining_ -= n;
  }
  if (phase_ == Phase::Hung) return;  // a timeout fault: the bus master stays active
  if (remaining_ == 0 && (phase_ == Phase::DmaIn || phase_ == Phase::DmaOut)) {
    if (!prd.table_left()) bm_status_ &= static_cast<uint8_t>(~kBmActive);
    finish_ok();
    return;
  }
  bm_status_ &= static_cast<uint8_t>(~kBmActive);  // the drive reported an error
}

// ---- BMIDE register block ---------------------------------------------------

void IdeBusMaster::reset() {}

uint32_t IdeBusMaster::read(uint32_t offset, unsigned size) {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t at = offset + i;
    uint32_t byte = 0xFF;
    if (at < 16) {
      IdeChannel& ch = *channels_[at >> 3];
      switch (at & 7) {
        case 0: byte = ch.bm_command(); break;
        case 2: byte = ch.bm_status(); break;
        case 4: case 5: case 6: case 7: byte = (ch.bm_prd() >> (8 * ((at & 7) - 4))) & 0xFF; break;
        default: byte = 0; break;
      }
    }
    value |= byte << (8 * i);
  }
  return value;
}

void IdeBusMaster::write(uint32_t offset, unsigned size, uint32_t value) {
  // A dword write to the PRD pointer updates it at once.
  if (size == 4 && offset < 16 && (offset & 7) == 4) {
    channels_[offset >> 3]->bm_write_prd(value);
    return;
  }
  for (unsigned i = 0; i < size; ++i) {
    uint32_t at = offset + i;
    if (at >= 16) break;
    IdeChannel& ch = *channels_[at >> 3];
    auto byte = static_cast<uint8_t>(value >> (8 * i));
    switch (at & 7) {
      case 0: ch.bm_write_command(byte); break;
      case 2: ch.bm_write_status(byte); break;
      case 4: case 5: case 6: case 7: {
        unsigned shift = 8 * ((at & 7) - 4);
        ch.bm_write_prd((ch.bm_prd() & ~(0xFFu << shift)) | (uint32_t{byte} << shift));
        break;
      }
      default: break;
    }
  }
}

}  // namespace faultline
