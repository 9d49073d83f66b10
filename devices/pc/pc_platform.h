// The PC platform: every ISA-era device of an i686 PC, owned together and
// wired to one Machine.
//
// Design note: core must not depend on devices, so the Machine cannot own
// them; a PcPlatform owns them instead and is created right after its
// Machine (one platform per machine: a second one fails on overlapping bus
// ranges). The constructor registers each device on the machine's bus at
// its PC ports (the device sees offsets inside its own range), connects IRQ
// lines to the PicPair, makes the PicPair the CPU's InterruptSource, and
// installs the machine's device-state hooks so Machine::checkpoint() and
// restore() include the devices' state (see core/machine.h). The destructor
// undoes the CPU and machine hooks; bus handlers registered by a destroyed
// platform turn into "no device" (reads float high), so a platform must not
// be recreated on the same machine.
//
// Port map: PIC 0x20-0x21 / 0xA0-0xA1, ELCR 0x4D0-0x4D1, PIT 0x40-0x43,
// port B 0x61, i8042 0x60 and 0x64 (IRQ 1 / 12), RTC/CMOS 0x70-0x71
// (IRQ 8), POST 0x80, port A 0x92, COM1-4 0x3F8/0x2F8/0x3E8/0x2E8 (IRQ
// 4/3/4/3 through SharedIrq), fw_cfg 0x510-0x511 (optional), VGA 0x3B0-0x3DF
// + MMIO 0xA0000-0xBFFFF and VBE dispi 0x1CE-0x1CF + LFB MMIO 0xE0000000
// (optional), PCI config 0xCF8-0xCFF + I/O BAR window 0xC000-0xFFFF, IDE
// 0x1F0-0x1F7/0x3F6 (IRQ 14) and 0x170-0x177/0x376 (IRQ 15) (optional).
// PCI functions' configuration spaces are saved through small adapters so
// they appear in save() like devices. save() also holds the guest's disk
// writes (DiskMode::OverlayMemory; other writable modes make save() throw,
// read-only disks need nothing) and the output of Memory-backed COM ports;
// other host-side backends are not state.
//
// A20 is the OR of the i8042 output port bit and port 0x92 bit 1; a change
// sets cpu.s.a20_enabled and flushes the TLB. A reset request (i8042 pulse
// or port 0x92 bit 0) sets reset_requested() and stops the run loop with
// StopReason::Requested; the caller decides what a reset means.
#pragma once

#include <array>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/machine.h"
#include "devices/device.h"
#include "devices/firmware/firmware.h"
#include "devices/fw_cfg/fw_cfg.h"
#include "devices/i8042/i8042.h"
#include "devices/ide/disk_image.h"
#include "devices/ide/ide.h"
#include "devices/misc/misc.h"
#include "devices/pci/pci.h"
#include "devices/pci/piix.h"
#include "devices/pic/pic.h"
#include "devices/pit/pit.h"
#include "devices/rtc/rtc.h"
#include "devices/time_source.h"
#include "devices/uart/backend.h"
#include "devices/uart/shared_irq.h"
#include "devices/uart/uart.h"
#include "devices/vga/vga.h"

namespace faultline {

// Where a COM port's output goes.
enum class SerialBackend : uint8_t {
  Absent,   // no UART at this port
  Discard,  // UART present, output dropped
  Stdout,   // the process's stdout
  File,     // appended to `path`
  Memory,   // kept in memory (com_output())
};

// SerialBackend::Memory: output kept in memory and, unlike
// uart::MemoryBackend, restored with the platform's state (so a restored
// checkpoint's output matches its virtual time). Observers see bytes as
// the guest sends them, never on restore.
class CapturedSerialOutput final : public uart::Backend {
 public:
  void write(uint8_t byte) override {
    output_.push_back(static_cast<char>(byte));
    for (size_t i = 0; i < observers_.size(); ++i) observers_[i].second(byte);
  }
  const std::string& output() const { return output_; }
  void restore(std::string output) { output_ = std::move(output); }
  // Observers (campaign sessions, fault triggers, tests), called in the
  // order added; an observer must not add or remove observers from inside
  // its call.
  using ObserverId = uint64_t;
  ObserverId add_observer(std::function<void(uint8_t)> fn) {
    observers_.emplace_back(++next_id_, std::move(fn));
    return next_id_;
  }
  void remove_observer(ObserverId id) {
    for (size_t i = 0; i < observers_.size(); ++i)
      if (observers_[i].first == id) {
        observers_.erase(observers_.begin() + static_cast<std::ptrdiff_t>(i));
        return;
      }
  }

 private:
  std::string output_;
  std::vector<std::pair<ObserverId, std::function<void(uint8_t)>>> observers_;
  ObserverId next_id_ = 0;
};

struct SerialPortConfig {
  SerialBackend backend = SerialBackend::Absent;
  std::string path;  // SerialBackend::File
  // Host input for the port: a named pipe or Unix stream socket ("" =
  // none). Polling host input makes a run non-deterministic; campaigns use
  // scripted input instead.
  std::string input_path;
};

struct PcConfig {
  // COM1..COM4; COM1 collects output in memory by default.
  std::array<SerialPortConfig, 4> com{SerialPortConfig{SerialBackend::Memory, {}, {}}, SerialPortConfig{},
                                      SerialPortConfig{}, SerialPortConfig{}};
  bool uart_timed = false;  // UartConfig::timed for every port
  // RTC wall time at virtual time 0 (UTC seconds since 1970).
  int64_t rtc_start_epoch_seconds = RtcConfig{}.start_epoch_seconds;
  // QEMU firmware configuration interface at 0x510 (for SeaBIOS).
  bool fw_cfg = true;
  // VGA (ports 0x3B0-0x3DF, memory 0xA0000-0xBFFFF) with Bochs VBE dispi
  // (ports 0x1CE-0x1CF, linear framebuffer at 0xE0000000).
  bool vga = true;
  // i440FX host bridge (00:00.0), PIIX3 ISA bridge (00:01.0) and PIIX3 IDE
  // (00:01.1) behind configuration mechanism #1 at 0xCF8; PCI I/O BARs
  // decode in the window 0xC000-0xFFFF; IDE channels at 0x1F0/0x3F6 (IRQ
  // 14) and 0x170/0x376 (IRQ 15) with bus-master DMA.
  bool pci_ide = true;
  // Disk images: primary master, primary slave, secondary master,
  // secondary slave ("" = no drive). Needs pci_ide.
  std::array<std::string, 4> ide_disks;
  DiskMode ide_disk_mode = DiskMode::OverlayMemory;
  // Firmware boot: a BIOS image ("" = none; the caller loads kernels
  // itself) mapped below 4 GiB and shadowed at 0xE0000-0xFFFFF through the
  // i440FX PAM registers (needs pci_ide), the firmware debug port 0x402,
  // and optionally a VGA option ROM handed to the firmware as the fw_cfg
  // file "vgaroms/<file name>" (needs fw_cfg). The CPU should be in its
  // reset state (F000:FFF0). Bad files throw std::runtime_error naming them.
  std::string bios;
  std::string vga_bios;
};

class PcPlatform {
 public:
  // Throws std::runtime_error for a file backend that cannot be opened and
  // std::invalid_argument if the machine's ports are already taken.
  explicit PcPlatform(Machine& machine, const PcConfig& config = {});
  ~PcPlatform();
  PcPlatform(const PcPlatform&) = delete;
  PcPlatform& operator=(const PcPlatform&) = delete;

  Machine& machine() { return machine_; }
  PicPair& pic() { return pic_; }
  Pit8254& pit() { return *pit_; }
  PortB& port_b() { return *port_b_; }
  Rtc146818& rtc() { return *rtc_; }
  I8042& i8042() { return *kbc_; }
  PostCodePort& post_codes() { return *post_; }
  SystemControlPortA& port92() { return *port92_; }
  // COM1..COM4 as index 0..3; null when absent.
  Uart* com(unsigned index) { return index < 4 ? com_[index].get() : nullptr; }
  // Output of a port with SerialBackend::Memory ("" otherwise), and its
  // capture object (null otherwise).
  std::string com_output(unsigned index) const;
  CapturedSerialOutput* com_capture(unsigned index) { return index < 4 ? com_memory_[index].get() : nullptr; }
  // Null unless PcConfig::bios is set.
  Firmware* firmware() { return firmware_.get(); }
  // Null unless PcConfig::fw_cfg / PcConfig::vga.
  FwCfg* fw_cfg() { return fw_cfg_.get(); }
  Vga* vga() { return vga_.get(); }
  const Vga* vga() const { return vga_.get(); }
  // Null unless PcConfig::pci_ide.
  PciBus* pci_bus() { return pci_ ? &pci_->bus : nullptr; }
  IdeChannel* ide(unsigned channel) { return !pci_ ? nullptr : channel == 0 ? &pci_->ide0 : channel == 1 ? &pci_->ide1 : nullptr; }
  Piix3Ide* piix_ide() { return pci_ ? &pci_->ide_function : nullptr; }
  // Disk in slot 0..3 (primary master/slave, secondary master/slave), or null.
  DiskImage* disk_image(unsigned slot) const;

  // Every device with state, in save/load order.
  std::vector<Device*> devices() const;

  // Device registers fault injection may target, with platform prefixes:
  // "pic.master.*", "pic.slave.*", "pit.*", "rtc.*", "com1.*".."com4.*"
  // (present ports only), "ide0.*", "ide1.*" (with pci_ide). See each
  // device's fault_fields() for its fields and what a write does.
  FaultFields fault_fields();

  // Hardware reset of every device (NVRAM and time survive in the RTC);
  // re-derives A20 from the devices.
  void reset();

  // All devices' state: one versioned message holding each device's save()
  // bytes by name. load() restores them, then runs every after_load() (the
  // caller must have restored the CPU's virtual time and cleared the clock
  // first; Machine::restore does both). load() throws std::runtime_error on
  // malformed input or a device list that does not match this platform.
  std::string save() const;
  void load(const std::string& state);

  bool reset_requested() const { return reset_requested_; }
  void clear_reset_request() { reset_requested_ = false; }

 private:
  void register_ports();
  void attach(uint16_t port, uint32_t length, Device& device, uint32_t first_offset = 0);
  void attach_mmio(uint64_t base, uint64_t length, const char* name,
                   std::function<uint32_t(uint32_t, unsigned)> read,
                   std::function<void(uint32_t, unsigned, uint32_t)> write);
  void update_a20();
  void apply_pam();
  void request_reset();

  Machine& machine_;
  PcConfig config_;
  MachineTimeSource time_;
  // Set to null by the destructor; bus handlers check it.
  std::shared_ptr<PcPlatform*> alive_;
  PicPair pic_;
  SharedIrq irq3_{pic_.line(3)};
  SharedIrq irq4_{pic_.line(4)};
  std::unique_ptr<Pit8254> pit_;
  std::unique_ptr<PortB> port_b_;
  std::unique_ptr<Rtc146818> rtc_;
  std::array<std::unique_ptr<Uart>, 4> com_;
  std::array<std::shared_ptr<CapturedSerialOutput>, 4> com_memory_;
  std::unique_ptr<I8042> kbc_;
  std::unique_ptr<PostCodePort> post_;
  std::unique_ptr<SystemControlPortA> port92_;
  std::unique_ptr<FwCfg> fw_cfg_;
  std::unique_ptr<Vga> vga_;
  // A PCI function's configuration space as a Device for save/load/reset
  // (it has no ports of its own).
  class PciFunctionState final : public Device {
   public:
    PciFunctionState(PciFunction& fn, std::string name) : fn_(fn), name_(std::move(name)) {}
    const char* name() const override { return name_.c_str(); }
    void reset() override { fn_.reset(); }
    uint32_t read(uint32_t, unsigned) override { return 0xFFFFFFFFu; }
    void write(uint32_t, unsigned, uint32_t) override {}
    std::string save() const override { return fn_.save(); }
    void load(const std::string& state) override { fn_.load(state); }

   private:
    PciFunction& fn_;
    std::string name_;
  };
  struct PciIde {
    explicit PciIde(PicPair& pic)
        : host(bus), ide0("ide0", pic.line(14)), ide1("ide1", pic.line(15)), bus_master(ide0, ide1),
          ide_function(bus_master) {}
    PciBus bus;
    PciHost host;
    I440fxHost host_bridge;
    Piix3Isa isa_bridge;
    IdeChannel ide0, ide1;
    IdeBusMaster bus_master;
    Piix3Ide ide_function;
    PciFunctionState host_bridge_state{host_bridge, "pci-00:00.0-i440fx"};
    PciFunctionState isa_bridge_state{isa_bridge, "pci-00:01.0-piix3-isa"};
    PciFunctionState ide_function_state{ide_function, "pci-00:01.1-piix3-ide"};
  };
  std::unique_ptr<PciIde> pci_;
  std::unique_ptr<Firmware> firmware_;
  bool loading_ = false;  // load() in progress: PAM re-announcements are not changes
  bool reset_requested_ = false;
};

}  // namespace faultline
