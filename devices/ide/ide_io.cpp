// ATA register interface: the command block (data port, task file,
// status/command), the control block (device control / alternate status)
// and the HOB read-back of the 48-bit task file.
#include <algorithm>

#include "devices/ide/ide.h"

namespace faultline {

using namespace ata;

uint8_t IdeChannel::visible_status() const {
  if (!present(0) && !present(1)) return 0xFF;  // empty cable floats high
  if (!selected().image) return 0x00;           // device 0 answers for absent device 1
  return status_;
}

uint32_t IdeChannel::read(uint32_t offset, unsigned size) {
  if (offset == 0) return read_data(size);
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t byte = offset + i < 8 ? read_register(offset + i) : 0xFF;
    value |= byte << (8 * i);
  }
  return value;
}

void IdeChannel::write(uint32_t offset, unsigned size, uint32_t value) {
  if (offset == 0) {
    write_data(size, value);
    return;
  }
  for (unsigned i = 0; i < size && offset + i < 8; ++i)
    write_register(offset + i, static_cast<uint8_t>(value >> (8 * i)));
}

uint8_t IdeChannel::read_register(uint32_t offset) {
  if (!present(0) && !present(1)) return 0xFF;
  bool hob = device_control_ & kControlHob;
  switch (offset) {
    case 1: return error_;
    case 2: return hob ? hob_count_ : count_;
    case 3: return hob ? hob_lba_low_ : lba_low_;
    case 4: return hob ? hob_lba_mid_ : lba_mid_;
    case 5: return hob ? hob_lba_high_ : lba_high_;
    case 6: return device_;
    case 7: {
      uint8_t status = visible_status();
      if (selected().image && irq_pending_) {  // reading status acknowledges INTRQ
        irq_pending_ = false;
        update_irq();
      }
      return status;
    }
    default: return 0xFF;
  }
}

void IdeChannel::write_register(uint32_t offset, uint8_t value) {
  if (status_ & kStatusBsy) return;  // a busy device ignores the command block
  device_control_ &= static_cast<uint8_t>(~kControlHob);  // any write clears HOB
  // Registers 1-5 are two deep: the previous value becomes the HOB byte.
  auto push = [value](uint8_t& current, uint8_t& previous) {
    previous = current;
    current = value;
  };
  switch (offset) {
    case 1: push(feature_, hob_feature_); break;
    case 2: push(count_, hob_count_); break;
    case 3: push(lba_low_, hob_lba_low_); break;
    case 4: push(lba_mid_, hob_lba_mid_); break;
    case 5: push(lba_high_, hob_lba_high_); break;
    case 6: device_ = value; break;
    case 7:
      irq_pending_ = false;  // writing a command clears a pending interrupt
      update_irq();
      execute(value);
      break;
    default: break;
  }
}

uint32_t IdeChannel::read_data(unsigned size) {
  uint32_t all_ones = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
  if (phase_ != Phase::PioIn || buffer_pos_ >= buffer_len_) {
    ++bad_accesses_;
    return all_ones;
  }
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t byte = buffer_pos_ < buffer_len_ ? buffer_[buffer_pos_++] : 0xFF;
    value |= byte << (8 * i);
  }
  if (buffer_pos_ >= buffer_len_) {  // block consumed
    uint32_t moved = buffer_len_ / DiskImage::kSectorSize;
    next_lba_ += moved;
    remaining_ -= std::min(moved, remaining_);
    buffer_pos_ = buffer_len_ = 0;
    if (remaining_ == 0) {
      phase_ = Phase::Idle;
      status_ = kStatusDrdy | kStatusDsc;  // no interrupt after the last PIO-in block
    } else {
      next_pio_block();
    }
  }
  return value;
}

void IdeChannel::write_data(unsigned size, uint32_t value) {
  if (phase_ != Phase::PioOut || buffer_pos_ >= buffer_len_) {
    ++bad_accesses_;
    return;
  }
  for (unsigned i = 0; i < size && buffer_pos_ < buffer_len_; ++i)
    buffer_[buffer_pos_++] = static_cast<uint8_t>(value >> (8 * i));
  if (buffer_pos_ < buffer_len_) return;
  uint32_t moved = buffer_len_ / DiskImage::kSectorSize;
  if (!store_sectors(next_lba_, moved)) return;
  next_lba_ += moved;
  remaining_ -= std::min(moved, remaining_);
  buffer_pos_ = 0;
  if (remaining_ == 0) {
    finish_ok();
    return;
  }
  buffer_len_ = std::min(block_, remaining_) * DiskImage::kSectorSize;
  status_ = kStatusDrdy | kStatusDsc | kStatusDrq;
  raise_irq();
}

void IdeChannel::write_device_control(uint8_t value) {
  uint8_t old = device_control_;
  device_control_ = value & (kControlNien | kControlSrst | kControlHob);
  if ((value & kControlSrst) && !(old & kControlSrst)) {
    // Reset asserted: everything in flight (a hung command too) is dropped.
    phase_ = Phase::Idle;
    remaining_ = 0;
    buffer_pos_ = buffer_len_ = 0;
    status_ = kStatusBsy;
    irq_pending_ = false;
  } else if (!(value & kControlSrst) && (old & kControlSrst)) {
    software_reset();  // reset released: signatures, DRDY, no interrupt
  }
  update_irq();
}

// ---- control block ---------------------------------------------------------

uint32_t IdeChannel::Control::read(uint32_t offset, unsigned size) {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint32_t byte = offset + i == 0 ? channel_.visible_status() : 0xFF;  // alternate status
    value |= byte << (8 * i);
  }
  return value;
}

void IdeChannel::Control::write(uint32_t offset, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i)
    if (offset + i == 0) channel_.write_device_control(static_cast<uint8_t>(value >> (8 * i)));
}

FaultFields IdeChannel::fault_fields() {
  auto field = [this](const char* name, uint8_t IdeChannel::*reg) {
    return FaultField{name, 8, [this, reg] { return uint64_t(this->*reg); },
                      [this, reg](uint64_t v) {
                        this->*reg = static_cast<uint8_t>(v);
                        update_irq();
                      }};
  };
  return {field("status", &IdeChannel::status_),
          field("error", &IdeChannel::error_),
          field("feature", &IdeChannel::feature_),
          field("sector_count", &IdeChannel::count_),
          field("lba_low", &IdeChannel::lba_low_),
          field("lba_mid", &IdeChannel::lba_mid_),
          field("lba_high", &IdeChannel::lba_high_),
          field("device", &IdeChannel::device_),
          field("device_control", &IdeChannel::device_control_)};
}

}  // namespace faultline
