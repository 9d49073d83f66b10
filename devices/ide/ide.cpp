// ATA command execution: address decoding, PIO block sequencing, error
// reporting, IDENTIFY DEVICE, resets and interrupts.
#include "devices/ide/ide.h"

#include <algorithm>
#include <cstring>

namespace faultline {

using namespace ata;

namespace {
constexpr uint8_t kStatusReady = kStatusDrdy | kStatusDsc;
constexpr uint32_t kDmaChunkSectors = 128;  // buffer size in sectors
constexpr uint64_t kLba28Max = 0x0FFFFFFF;
constexpr uint16_t kDefaultHeads = 16, kDefaultSectorsPerTrack = 63;
// Data-transfer command kinds for start_transfer().
constexpr unsigned kExt = 1, kWrite = 2, kDma = 4, kMultiple = 8;

uint16_t default_cylinders(uint64_t sectors) {
  uint64_t c = sectors / (kDefaultHeads * kDefaultSectorsPerTrack);
  return static_cast<uint16_t>(std::clamp<uint64_t>(c, 1, 16383));
}

// ATA strings: space padded, two characters per word, first in the high byte.
void put_string(std::span<uint16_t> words, const std::string& text) {
  for (size_t i = 0; i < words.size(); ++i) {
    auto at = [&](size_t j) -> uint8_t { return j < text.size() ? static_cast<uint8_t>(text[j]) : ' '; };
    words[i] = static_cast<uint16_t>(at(2 * i) << 8 | at(2 * i + 1));
  }
}
}  // namespace

IdeChannel::IdeChannel(std::string name, IrqLine& irq)
    : name_(std::move(name)), control_name_(name_ + "-control"), irq_(irq) {
  buffer_.resize(size_t{kDmaChunkSectors} * DiskImage::kSectorSize);
  reset();
}

IdeChannel::~IdeChannel() = default;

void IdeChannel::attach(unsigned drive, std::shared_ptr<DiskImage> image, IdeDriveConfig config) {
  Drive& d = drives_[drive & 1];
  d.image = std::move(image);
  d.config = std::move(config);
  reset();
}

void IdeChannel::reset() {
  for (Drive& d : drives_) {
    d.multiple = 0;
    d.heads = kDefaultHeads;
    d.sectors_per_track = kDefaultSectorsPerTrack;
    d.transfer_mode = 0x08;
  }
  feature_ = hob_feature_ = hob_count_ = hob_lba_low_ = hob_lba_mid_ = hob_lba_high_ = 0;
  device_control_ = 0;
  phase_ = Phase::Idle;
  next_lba_ = 0;
  remaining_ = 0;
  block_ = 1;
  lba48_ = false;
  buffer_pos_ = buffer_len_ = 0;
  bm_command_ = bm_status_ = 0;
  bm_prd_ = 0;
  set_signature();
  status_ = (present(0) || present(1)) ? kStatusReady : 0;
  error_ = 0x01;  // diagnostic code: no error
  irq_pending_ = false;
  update_irq();
}

void IdeChannel::set_signature() {
  // ATA device signature after reset and EXECUTE DEVICE DIAGNOSTIC.
  count_ = 1;
  lba_low_ = 1;
  lba_mid_ = 0;
  lba_high_ = 0;
  device_ = 0;
}

void IdeChannel::software_reset() {
  phase_ = Phase::Idle;
  remaining_ = 0;
  buffer_pos_ = buffer_len_ = 0;
  set_signature();
  status_ = (present(0) || present(1)) ? kStatusReady : 0;
  error_ = 0x01;
  irq_pending_ = false;
  update_irq();
}

void IdeChannel::raise_irq() {
  irq_pending_ = true;
  if (!(device_control_ & kControlNien)) bm_status_ |= 0x04;
  update_irq();
}

void IdeChannel::update_irq() { irq_.set(irq_pending_ && !(device_control_ & kControlNien)); }

void IdeChannel::finish_ok() {
  phase_ = Phase::Idle;
  remaining_ = 0;
  status_ = kStatusReady;
  error_ = 0;
  raise_irq();
}

void IdeChannel::finish_error(uint8_t error, uint8_t extra_status) {
  phase_ = Phase::Idle;
  remaining_ = 0;
  buffer_pos_ = buffer_len_ = 0;
  status_ = kStatusReady | kStatusErr | extra_status;
  error_ = error;
  raise_irq();
}

void IdeChannel::fail_at(uint64_t lba, uint8_t error, uint8_t extra_status) {
  set_lba_registers(lba);
  finish_error(error, extra_status);
}

void IdeChannel::set_lba_registers(uint64_t lba) {
  if (!(device_ & 0x40)) {  // CHS addressing: report cylinder/head/sector
    const Drive& d = selected();
    uint64_t per_cylinder = uint64_t{d.heads} * d.sectors_per_track;
    auto cylinder = static_cast<uint16_t>(lba / per_cylinder);
    auto head = static_cast<uint8_t>((lba / d.sectors_per_track) % d.heads);
    lba_low_ = static_cast<uint8_t>(lba % d.sectors_per_track + 1);
    lba_mid_ = static_cast<uint8_t>(cylinder);
    lba_high_ = static_cast<uint8_t>(cylinder >> 8);
    device_ = static_cast<uint8_t>((device_ & 0xF0) | (head & 0x0F));
    return;
  }
  lba_low_ = static_cast<uint8_t>(lba);
  lba_mid_ = static_cast<uint8_t>(lba >> 8);
  lba_high_ = static_cast<uint8_t>(lba >> 16);
  if (lba48_) {
    hob_lba_low_ = static_cast<uint8_t>(lba >> 24);
    hob_lba_mid_ = static_cast<uint8_t>(lba >> 32);
    hob_lba_high_ = static_cast<uint8_t>(lba >> 40);
  } else {
    device_ = static_cast<uint8_t>((device_ & 0xF0) | ((lba >> 24) & 0x0F));
  }
}

bool IdeChannel::decode_address(const Drive& drive, bool lba48, uint64_t* lba, uint32_t* count) {
  if (lba48) {
    *lba = uint64_t{hob_lba_high_} << 40 | uint64_t{hob_lba_mid_} << 32 | uint64_t{hob_lba_low_} << 24 |
           uint64_t{lba_high_} << 16 | uint64_t{lba_mid_} << 8 | lba_low_;
    uint32_t n = uint32_t{hob_count_} << 8 | count_;
    *count = n ? n : 65536;
  } else {
    *count = count_ ? count_ : 256;
    if (device_ & 0x40) {
      *lba = uint64_t{device_ & 0x0Fu} << 24 | uint64_t{lba_high_} << 16 | uint64_t{lba_mid_} << 8 | lba_low_;
    } else {
      unsigned head = device_ & 0x0F;
      unsigned sector = lba_low_;
      uint64_t cylinder = uint64_t{lba_high_} << 8 | lba_mid_;
      if (sector == 0 || sector > drive.sectors_per_track || head >= drive.heads) {
        *lba = 0;
        return false;
      }
      *lba = (cylinder * drive.heads + head) * drive.sectors_per_track + sector - 1;
    }
  }
  uint64_t total = drive.image->sector_count();
  return *lba <= total && *count <= total - *lba;
}

void IdeChannel::execute(uint8_t command) {
  if (command == 0x90) {  // EXECUTE DEVICE DIAGNOSTIC: both drives, any selection
    if (!present(0) && !present(1)) return;
    phase_ = Phase::Idle;
    set_signature();
    status_ = kStatusReady;
    error_ = 0x01;  // device 0 passed, device 1 passed or absent
    raise_irq();
    return;
  }
  if (!selected().image) return;  // an absent drive ignores commands
  Drive& drive = selected();
  lba48_ = false;
  switch (command) {
    case 0x20: case 0x21: start_transfer(0); break;                    // READ SECTORS
    case 0x24: start_transfer(kExt); break;                            // READ SECTORS EXT
    case 0xC4: start_transfer(kMultiple); break;                       // READ MULTIPLE
    case 0x29: start_transfer(kExt | kMultiple); break;                // READ MULTIPLE EXT
    case 0x30: case 0x31: start_transfer(kWrite); break;               // WRITE SECTORS
    case 0x34: start_transfer(kExt | kWrite); break;                   // WRITE SECTORS EXT
    case 0xC5: start_transfer(kWrite | kMultiple); break;              // WRITE MULTIPLE
    case 0x39: start_transfer(kExt | kWrite | kMultiple); break;       // WRITE MULTIPLE EXT
    case 0xC8: case 0xC9: start_transfer(kDma); break;                 // READ DMA
    case 0x25: start_transfer(kExt | kDma); break;                     // READ DMA EXT
    case 0xCA: case 0xCB: start_transfer(kWrite | kDma); break;        // WRITE DMA
    case 0x35: start_transfer(kExt | kWrite | kDma); break;            // WRITE DMA EXT
    case 0x40: case 0x41: case 0x42: {  // READ VERIFY SECTORS (EXT): range check only
      lba48_ = command == 0x42;
      uint64_t lba = 0;
      uint32_t count = 0;
      if (!decode_address(drive, lba48_, &lba, &count))
        fail_at(lba, kErrorIdnf);
      else
        finish_ok();
      break;
    }
    case 0xEC: identify(drive); break;
    case 0xC6: {  // SET MULTIPLE MODE
      unsigned n = count_;
      if (n > kMaxMultiple || (n & (n - 1))) {
        finish_error(kErrorAbrt);
      } else {
        drive.multiple = static_cast<uint16_t>(n);
        finish_ok();
      }
      break;
    }
    case 0x91:  // INITIALIZE DEVICE PARAMETERS
      if (count_ == 0) {
        finish_error(kErrorAbrt);
      } else {
        drive.sectors_per_track = count_;
        drive.heads = static_cast<uint16_t>((device_ & 0x0F) + 1);
        finish_ok();
      }
      break;
    case 0xEF: set_features(drive); break;
    case 0xE7: case 0xEA:  // FLUSH CACHE (EXT)
      if (drive.image->flush() == DiskIo::Ok)
        finish_ok();
      else
        finish_error(kErrorAbrt, kStatusDf);
      break;
    case 0xE5: case 0x98:  // CHECK POWER MODE: always active
      finish_ok();
      count_ = 0xFF;
      break;
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: case 0xE6:  // STANDBY/IDLE/SLEEP
    case 0x94: case 0x95: case 0x96: case 0x97: case 0x99:
    case 0x70:  // SEEK
      finish_ok();
      break;
    default:
      if (command >= 0x10 && command <= 0x1F) {  // RECALIBRATE
        finish_ok();
        break;
      }
      // Everything else, including IDENTIFY PACKET DEVICE (0xA1), PACKET
      // (0xA0), DEVICE RESET (0x08) and NOP, is aborted: no ATAPI here.
      finish_error(kErrorAbrt);
      break;
  }
}

void IdeChannel::start_transfer(unsigned kind) {
  const bool lba48 = kind & kExt, write = kind & kWrite, dma = kind & kDma, multiple = kind & kMultiple;
  Drive& drive = selected();
  lba48_ = lba48;
  if (multiple && drive.multiple == 0) {
    finish_error(kErrorAbrt);
    return;
  }
  uint64_t lba = 0;
  uint32_t count = 0;
  if (!decode_address(drive, lba48, &lba, &count)) {
    fail_at(lba, kErrorIdnf);
    return;
  }
  next_lba_ = lba;
  remaining_ = count;
  block_ = multiple ? drive.multiple : 1;
  buffer_pos_ = buffer_len_ = 0;
  if (dma) {
    phase_ = write ? Phase::DmaOut : Phase::DmaIn;
    status_ = kStatusReady | kStatusDrq;
    try_dma();
  } else if (write) {
    phase_ = Phase::PioOut;
    buffer_len_ = std::min(block_, remaining_) * DiskImage::kSectorSize;
    status_ = kStatusReady | kStatusDrq;  // the first block needs no interrupt
  } else {
    phase_ = Phase::PioIn;
    next_pio_block();
  }
}

void IdeChannel::next_pio_block() {
  uint32_t n = std::min(block_, remaining_);
  if (!load_sectors(next_lba_, n)) return;
  buffer_pos_ = 0;
  buffer_len_ = n * DiskImage::kSectorSize;
  status_ = kStatusReady | kStatusDrq;
  raise_irq();
}

bool IdeChannel::load_sectors(uint64_t lba, uint32_t count) {
  Drive& drive = selected();
  std::span<uint8_t> data(buffer_.data(), size_t{count} * DiskImage::kSectorSize);
  if (drive.image->read(lba, data) != DiskIo::Ok) {
    fail_at(lba, kErrorUnc);
    return false;
  }
  if (!drive.fault_hook) return true;
  for (uint32_t i = 0; i < count; ++i)
    if (!apply_fault(drive.fault_hook(lba + i, false), lba + i,
                     data.subspan(size_t{i} * DiskImage::kSectorSize, DiskImage::kSectorSize)))
      return false;
  return true;
}

bool IdeChannel::apply_fault(const IoFault& fault, uint64_t lba, std::span<uint8_t> sector) {
  switch (fault.kind) {
    case IoFault::Kind::None: return true;
    case IoFault::Kind::Corrupt:
      if (fault.corrupt) fault.corrupt(sector);
      return true;
    case IoFault::Kind::Error:
      fail_at(lba, fault.error);
      return false;
    case IoFault::Kind::Timeout:
      phase_ = Phase::Hung;
      status_ = kStatusBsy;
      return false;
  }
  return true;
}

bool IdeChannel::store_sectors(uint64_t lba, uint32_t count) {
  Drive& drive = selected();
  auto report = [&](DiskIo r, uint64_t at) {
    if (r == DiskIo::Ok) return true;
    fail_at(at, kErrorAbrt, r == DiskIo::HostError ? kStatusDf : 0);
    return false;
  };
  std::span<uint8_t> data(buffer_.data(), size_t{count} * DiskImage::kSectorSize);
  if (!drive.fault_hook) return report(drive.image->write(lba, data), lba);
  for (uint32_t i = 0; i < count; ++i) {
    auto sector = data.subspan(size_t{i} * DiskImage::kSectorSize, DiskImage::kSectorSize);
    if (!apply_fault(drive.fault_hook(lba + i, true), lba + i, sector)) return false;
    if (!report(drive.image->write(lba + i, sector), lba + i)) return false;
  }
  return true;
}

void IdeChannel::set_features(Drive& drive) {
  switch (feature_) {
    case 0x03: {  // set transfer mode (sector count)
      uint8_t mode = count_;
      if (mode == 0x00 || mode == 0x01) mode = 0x08;  // PIO default mode
      bool pio = mode >= 0x08 && mode <= 0x0C;        // PIO 0-4
      bool mwdma = mode >= 0x20 && mode <= 0x22;      // multiword DMA 0-2 (no UDMA on the PIIX3)
      if (!pio && !mwdma) {
        finish_error(kErrorAbrt);
        return;
      }
      drive.transfer_mode = mode;
      finish_ok();
      return;
    }
    case 0x02: case 0x82:  // write cache on/off: writes are always through
    case 0xAA: case 0x55:  // read look-ahead on/off
    case 0x66: case 0xCC:  // revert to power-on defaults on/off
      finish_ok();
      return;
    default:
      finish_error(kErrorAbrt);
      return;
  }
}

void IdeChannel::identify(const Drive& drive) {
  std::array<uint16_t, 256> w{};
  uint64_t sectors = drive.image->sector_count();
  uint16_t cylinders = default_cylinders(sectors);
  w[0] = 0x0040;  // fixed, non-removable ATA device
  w[1] = cylinders;
  w[3] = kDefaultHeads;
  w[6] = kDefaultSectorsPerTrack;
  put_string(std::span(w).subspan(10, 10), drive.config.serial);
  put_string(std::span(w).subspan(23, 4), drive.config.firmware);
  put_string(std::span(w).subspan(27, 20), drive.config.model);
  w[47] = 0x8000 | kMaxMultiple;
  w[49] = 0x0B00;  // IORDY supported, LBA, DMA
  w[50] = 0x4000;
  w[51] = 0x0200;  // PIO timing mode 2 (obsolete field)
  w[53] = 0x0007;  // words 54-58, 64-70 and 88 valid
  uint64_t per_cylinder = uint64_t{drive.heads} * drive.sectors_per_track;
  auto current_cylinders = static_cast<uint16_t>(std::min<uint64_t>(sectors / per_cylinder, 65535));
  uint32_t current_capacity = static_cast<uint32_t>(uint64_t{current_cylinders} * per_cylinder);
  w[54] = current_cylinders;
  w[55] = drive.heads;
  w[56] = drive.sectors_per_track;
  w[57] = static_cast<uint16_t>(current_capacity);
  w[58] = static_cast<uint16_t>(current_capacity >> 16);
  if (drive.multiple) w[59] = static_cast<uint16_t>(0x0100 | drive.multiple);
  auto lba28 = static_cast<uint32_t>(std::min(sectors, kLba28Max));
  w[60] = static_cast<uint16_t>(lba28);
  w[61] = static_cast<uint16_t>(lba28 >> 16);
  // Multiword DMA 0-2 supported (the PIIX3's modes); the selected one, if any.
  w[63] = 0x0007;
  if (drive.transfer_mode >= 0x20 && drive.transfer_mode <= 0x22) w[63] |= 0x0100 << (drive.transfer_mode & 7);
  w[64] = 0x0003;  // PIO 3 and 4
  w[65] = w[66] = w[67] = w[68] = 120;  // minimum cycle times, ns
  w[80] = 0x007E;  // ATA-1 .. ATA/ATAPI-6
  w[82] = 0x0000;  // no optional feature sets beyond those in word 83
  w[83] = 0x4000 | 0x2000 | 0x1000 | 0x0400;  // FLUSH CACHE EXT, FLUSH CACHE, 48-bit
  w[84] = 0x4000;
  w[85] = 0x0000;
  w[86] = 0x2000 | 0x1000 | 0x0400;
  w[87] = 0x4000;
  w[88] = 0x0000;  // no Ultra DMA modes (the PIIX3 has none)
  for (unsigned i = 0; i < 4; ++i) w[100 + i] = static_cast<uint16_t>(sectors >> (16 * i));
  // Integrity word: signature A5h, checksum making the 512 bytes sum to 0.
  w[255] = 0x00A5;
  uint8_t sum = 0;
  for (unsigned i = 0; i < 255; ++i) sum = static_cast<uint8_t>(sum + (w[i] & 0xFF) + (w[i] >> 8));
  sum = static_cast<uint8_t>(sum + 0xA5);
  w[255] = static_cast<uint16_t>(0x00A5 | (static_cast<uint8_t>(-sum) << 8));
  for (unsigned i = 0; i < 256; ++i) {  // little-endian words on the data port
    buffer_[2 * i] = static_cast<uint8_t>(w[i]);
    buffer_[2 * i + 1] = static_cast<uint8_t>(w[i] >> 8);
  }
  phase_ = Phase::PioIn;
  remaining_ = 1;
  block_ = 1;
  buffer_pos_ = 0;
  buffer_len_ = DiskImage::kSectorSize;
  status_ = kStatusReady | kStatusDrq;
  raise_irq();
}

}  // namespace faultline
