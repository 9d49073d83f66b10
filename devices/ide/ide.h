// ATA (IDE) channel with master/slave hard disks, and the PIIX3-style
// bus-master DMA engine (BMIDE) that serves two channels.
//
// Design note: one IdeChannel is one cable: the command block (offsets 0-7 at
// 0x1F0/0x170), a control block Device (offset 0 at 0x3F6/0x376: device
// control on write, alternate status on read) and up to two drives. Both
// drives latch every task-file write, as on the cable, so the task file,
// status and error live in the channel; the selected drive decides who acts.
// Commands complete synchronously inside the register write that starts them
// (the guest never sees BSY except for a hung command), which keeps runs
// deterministic and needs no timer; DMA completes when both the command and
// the bus master's start bit are present, whichever comes second.
//
// Interrupts: INTRQ is a pending flag per channel. Reading the status
// register clears it; the IrqLine follows `pending && !nIEN`. The bus
// master's interrupt status bit is set whenever the channel asserts INTRQ.
//
// Fault hooks: a per-drive `IoFaultHook` is asked for every sector a command
// reads or writes (PIO and DMA). Unset hooks cost one std::function test.
//
// Absent drives: with one drive present, selecting the other reads status 0
// and its commands are ignored (the task file still reads back, as on a real
// cable); a channel with no drive reads 0xFF everywhere. Data port accesses
// move `size` bytes (1, 2 or 4); accesses without DRQ read all-ones and are
// counted. Not modelled: ATAPI (IDENTIFY PACKET and PACKET abort), command
// timing (no BSY phase), write caching (FLUSH CACHE syncs overlay files).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "devices/device.h"
#include "devices/ide/disk_image.h"

namespace faultline {

// ATA status and error register bits.
namespace ata {
constexpr uint8_t kStatusErr = 0x01;
constexpr uint8_t kStatusDrq = 0x08;
constexpr uint8_t kStatusDsc = 0x10;  // seek complete (obsolete, still expected)
constexpr uint8_t kStatusDf = 0x20;
constexpr uint8_t kStatusDrdy = 0x40;
constexpr uint8_t kStatusBsy = 0x80;
constexpr uint8_t kErrorAbrt = 0x04;
constexpr uint8_t kErrorIdnf = 0x10;
constexpr uint8_t kErrorUnc = 0x40;
constexpr uint8_t kControlNien = 0x02;
constexpr uint8_t kControlSrst = 0x04;
constexpr uint8_t kControlHob = 0x80;
}  // namespace ata

// What a fault hook wants done to one sector transfer.
struct IoFault {
  enum class Kind : uint8_t {
    None,     // transfer normally
    Error,    // end the command with ERR and `error` (UNC or IDNF)
    Corrupt,  // transfer, after `corrupt` modified the sector's data
    Timeout,  // the command never completes (BSY stays set until reset)
  };
  Kind kind = Kind::None;
  uint8_t error = ata::kErrorUnc;
  // Corrupt: called with the 512 bytes just read (before the guest sees
  // them) or about to be written (before they reach the image).
  std::function<void(std::span<uint8_t> sector)> corrupt;

  static IoFault none() { return {}; }
  static IoFault fail(uint8_t error_bits) { return {Kind::Error, error_bits, {}}; }
  static IoFault timeout() { return {Kind::Timeout, 0, {}}; }
  static IoFault corruption(std::function<void(std::span<uint8_t>)> fn) {
    return {Kind::Corrupt, 0, std::move(fn)};
  }
};
using IoFaultHook = std::function<IoFault(uint64_t lba, bool write)>;

// Guest physical memory as the DMA engine sees it (the platform passes
// Cpu::read_phys / Cpu::write_phys). A false return is a master abort.
struct DmaMemory {
  std::function<bool(uint64_t paddr, void* dst, size_t len)> read;
  std::function<bool(uint64_t paddr, const void* src, size_t len)> write;
};

struct IdeDriveConfig {
  std::string model = "FAULTLINE HARDDISK";  // up to 40 characters
  std::string serial = "FL00000001";         // up to 20 characters
  std::string firmware = "1.0";              // up to 8 characters
};

class IdeChannel final : public Device {
 public:
  static constexpr unsigned kMaxMultiple = 16;  // sectors per DRQ block (IDENTIFY word 47)

  // `irq` is IRQ 14 (primary) or 15 (secondary); it must outlive the channel.
  IdeChannel(std::string name, IrqLine& irq);
  ~IdeChannel() override;

  // Attaches a drive (0 master, 1 slave); the image is shared with the
  // caller. Resets the channel: attach before the machine runs.
  void attach(unsigned drive, std::shared_ptr<DiskImage> image, IdeDriveConfig config = {});
  bool present(unsigned drive) const { return drives_[drive & 1].image != nullptr; }
  DiskImage* image(unsigned drive) { return drives_[drive & 1].image.get(); }
  void set_fault_hook(unsigned drive, IoFaultHook hook) { drives_[drive & 1].fault_hook = std::move(hook); }

  // Device: the command block (offsets 0-7).
  const char* name() const override { return name_.c_str(); }
  void reset() override;
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;
  void after_load() override { update_irq(); }
  // The channel's task file (8 bits each): "status", "error", "feature",
  // "sector_count", "lba_low", "lba_mid", "lba_high", "device",
  // "device_control" (nIEN is honoured at once; SRST acts only when the
  // guest writes the register). The command in progress is not changed
  // (a flipped status bit is what the guest sees until the drive next sets
  // status); the IRQ output is re-evaluated.
  FaultFields fault_fields() override;

  // The control block (offset 0 at 0x3F6/0x376). Its state is the
  // channel's; its message holds the version only.
  Device& control() { return control_; }

  // ---- bus-master side (used by IdeBusMaster) ----
  uint8_t bm_command() const { return bm_command_; }
  uint8_t bm_status() const { return bm_status_; }
  uint32_t bm_prd() const { return bm_prd_; }
  void bm_write_command(uint8_t value);
  void bm_write_status(uint8_t value);
  void bm_write_prd(uint32_t value) { bm_prd_ = value & ~3u; }
  void set_dma_memory(DmaMemory memory) { dma_memory_ = std::move(memory); }
  // Bus-master enable (PCI command bit 2); unset = enabled.
  void set_dma_gate(std::function<bool()> allowed) { dma_gate_ = std::move(allowed); }
  // The gate may have opened: a started bus master with a waiting DMA
  // command proceeds now.
  void dma_gate_changed() { try_dma(); }

  // Observability for tests and fault targets.
  uint8_t status() const { return status_; }
  uint8_t error() const { return error_; }
  bool irq_pending() const { return irq_pending_; }
  uint64_t bad_accesses() const { return bad_accesses_; }

 private:
  class Control final : public Device {
   public:
    explicit Control(IdeChannel& channel) : channel_(channel) {}
    const char* name() const override { return channel_.control_name_.c_str(); }
    void reset() override {}
    uint32_t read(uint32_t offset, unsigned size) override;
    void write(uint32_t offset, unsigned size, uint32_t value) override;
    std::string save() const override;
    void load(const std::string& state) override;

   private:
    IdeChannel& channel_;
  };

  enum class Phase : uint8_t { Idle, PioIn, PioOut, DmaIn, DmaOut, Hung };

  struct Drive {
    std::shared_ptr<DiskImage> image;
    IdeDriveConfig config;
    IoFaultHook fault_hook;
    // Settings the guest changes (saved).
    uint16_t multiple = 0;  // 0: multiple mode disabled
    uint16_t heads = 16, sectors_per_track = 63;  // current CHS translation
    uint8_t transfer_mode = 0x08;  // SET FEATURES 03 value; PIO default
  };

  // ---- commands (ide.cpp) ----
  Drive& selected() { return drives_[(device_ >> 4) & 1]; }
  const Drive& selected() const { return drives_[(device_ >> 4) & 1]; }
  void execute(uint8_t command);
  void identify(const Drive& drive);
  bool decode_address(const Drive& drive, bool lba48, uint64_t* lba, uint32_t* count);
  void start_transfer(unsigned kind);  // kExt | kWrite | kDma | kMultiple (ide.cpp)
  void set_features(Drive& drive);
  void finish_ok();
  void finish_error(uint8_t error, uint8_t extra_status = 0);
  void fail_at(uint64_t lba, uint8_t error, uint8_t extra_status = 0);
  void set_lba_registers(uint64_t lba);
  void software_reset();
  void set_signature();
  void raise_irq();
  void update_irq();
  // Per-sector data movement with fault hooks; false when the command ended.
  bool load_sectors(uint64_t lba, uint32_t count);
  bool store_sectors(uint64_t lba, uint32_t count);
  // Applies a fault hook's verdict to one sector; false if it ended the command.
  bool apply_fault(const IoFault& fault, uint64_t lba, std::span<uint8_t> sector);
  void next_pio_block();
  // ---- registers (ide_io.cpp) ----
  uint32_t read_data(unsigned size);
  void write_data(unsigned size, uint32_t value);
  uint8_t read_register(uint32_t offset);
  void write_register(uint32_t offset, uint8_t value);
  uint8_t visible_status() const;
  void write_device_control(uint8_t value);
  // ---- DMA (ide_dma.cpp) ----
  void try_dma();
  // ---- state (ide_state.cpp) ----
  template <bool Saving, class Msg, class Self>
  friend void transfer_ide(Self& self, Msg& msg);

  std::string name_, control_name_;
  IrqLine& irq_;
  Control control_{*this};
  std::array<Drive, 2> drives_;
  DmaMemory dma_memory_;
  std::function<bool()> dma_gate_;

  // Task file: current and previous ("HOB") values of registers 1-5.
  uint8_t feature_ = 0, count_ = 0, lba_low_ = 0, lba_mid_ = 0, lba_high_ = 0;
  uint8_t hob_feature_ = 0, hob_count_ = 0, hob_lba_low_ = 0, hob_lba_mid_ = 0, hob_lba_high_ = 0;
  uint8_t device_ = 0;
  uint8_t status_ = 0, error_ = 0;
  uint8_t device_control_ = 0;
  bool irq_pending_ = false;

  // The command in progress.
  Phase phase_ = Phase::Idle;
  uint64_t next_lba_ = 0;     // next sector to move
  uint32_t remaining_ = 0;    // sectors still to move
  uint32_t block_ = 1;        // sectors per DRQ block (PIO)
  bool lba48_ = false;        // the command uses 48-bit addressing
  std::vector<uint8_t> buffer_;
  uint32_t buffer_pos_ = 0, buffer_len_ = 0;

  // Bus master (BMIDE) registers of this channel.
  uint8_t bm_command_ = 0, bm_status_ = 0;
  uint32_t bm_prd_ = 0;

  uint64_t bad_accesses_ = 0;  // data port accesses without DRQ (not saved)
};

// BMIDE register block: 16 I/O ports, offsets 0-7 primary, 8-15 secondary
// (command +0, status +2, PRD table pointer +4). The PIIX3 IDE function maps
// it at its BAR4; the state lives in the channels.
class IdeBusMaster final : public Device {
 public:
  IdeBusMaster(IdeChannel& primary, IdeChannel& secondary) : channels_{&primary, &secondary} {}
  const char* name() const override { return "ide-busmaster"; }
  void reset() override;
  uint32_t read(uint32_t offset, unsigned size) override;
  void write(uint32_t offset, unsigned size, uint32_t value) override;
  std::string save() const override;
  void load(const std::string& state) override;
  IdeChannel& channel(unsigned index) { return *channels_[index & 1]; }

 private:
  std::array<IdeChannel*, 2> channels_;
};

}  // namespace faultline
