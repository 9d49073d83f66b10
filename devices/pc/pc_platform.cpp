// PcPlatform: construction and wiring, reset, A20/reset plumbing, state.
#include "devices/pc/pc_platform.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "pc/pc.pb.h"

namespace faultline {

namespace {
constexpr uint32_t kStateVersion = 1;
constexpr uint16_t kPciIoWindow = 0xC000;  // PCI I/O BARs decode in 0xC000-0xFFFF

std::vector<uint8_t> e820_table(uint64_t ram) {
  // etc/e820 entries: u64 address, u64 length, u32 type, little-endian.
  struct Entry {
    uint64_t addr, len;
    uint32_t type;
  };
  std::vector<Entry> entries = {{0, 0x9FC00, 1}, {0x100000, ram > 0x100000 ? ram - 0x100000 : 0, 1}};
  std::vector<uint8_t> out;
  auto put = [&out](uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  for (const Entry& e : entries) {
    if (e.len == 0) continue;
    put(e.addr, 8);
    put(e.len, 8);
    put(e.type, 4);
  }
  return out;
}

unsigned century_of(int64_t epoch_seconds) {
  using namespace std::chrono;
  sys_days day = floor<days>(sys_seconds{seconds{epoch_seconds}});
  int year = static_cast<int>(year_month_day{day}.year());
  return static_cast<unsigned>(year / 100);
}
}  // namespace

PcPlatform::PcPlatform(Machine& machine, const PcConfig& config)
    : machine_(machine), config_(config), time_(machine), alive_(std::make_shared<PcPlatform*>(this)) {
  Cpu& cpu = machine_.cpu();
  pic_.set_notify([&cpu] { cpu.interrupt_line_changed(); });

  pit_ = std::make_unique<Pit8254>(time_, pic_.line(0));
  port_b_ = std::make_unique<PortB>(time_, *pit_);
  rtc_ = std::make_unique<Rtc146818>(time_, pic_.line(8), RtcConfig{config.rtc_start_epoch_seconds});
  rtc_->set_memory_size(machine_.memory().size());
  rtc_->set_century(century_of(config.rtc_start_epoch_seconds));
  rtc_->update_checksum();

  for (unsigned i = 0; i < 4; ++i) {
    const SerialPortConfig& pc = config.com[i];
    if (pc.backend == SerialBackend::Absent) continue;
    IrqLine& line = (kPcComPorts[i].irq == 4 ? irq4_ : irq3_).add_input();
    com_[i] = std::make_unique<Uart>("com" + std::to_string(i + 1), line, &time_, UartConfig{config.uart_timed});
    std::shared_ptr<uart::Backend> out;
    switch (pc.backend) {
      case SerialBackend::Stdout: out = std::make_shared<uart::StdoutBackend>(); break;
      case SerialBackend::File: out = std::make_shared<uart::FileBackend>(pc.path); break;
      case SerialBackend::Memory:
        com_memory_[i] = std::make_shared<CapturedSerialOutput>();
        out = com_memory_[i];
        break;
      default: break;
    }
    if (!pc.input_path.empty())
      out = std::make_shared<uart::SplitBackend>(out, std::make_shared<uart::SocketBackend>(pc.input_path));
    if (out) com_[i]->set_backend(out);
  }

  kbc_ = std::make_unique<I8042>(pic_.line(1), pic_.line(12));
  post_ = std::make_unique<PostCodePort>(&time_);
  port92_ = std::make_unique<SystemControlPortA>();
  kbc_->a20 = [this](bool) { update_a20(); };
  port92_->a20 = [this](bool) { update_a20(); };
  kbc_->cpu_reset = [this] { request_reset(); };
  port92_->cpu_reset = [this] { request_reset(); };

  if (config.fw_cfg) {
    fw_cfg_ = std::make_unique<FwCfg>();
    fw_cfg_->set_u64(fw_cfg_key::kRamSize, machine_.memory().size());
    fw_cfg_->set_u16(fw_cfg_key::kNbCpus, 1);
    fw_cfg_->set_u16(fw_cfg_key::kMaxCpus, 1);
    fw_cfg_->add_file("etc/e820", e820_table(machine_.memory().size()));
  }

  if (config.vga) {
    MachineTimeSource* time = &time_;
    vga_ = std::make_unique<Vga>([time] { return time->now_ns(); });
  }

  if (config.pci_ide) {
    pci_ = std::make_unique<PciIde>(pic_);
    pci_->bus.add(0, 0, pci_->host_bridge);
    pci_->bus.add(1, 0, pci_->isa_bridge);
    pci_->bus.add(1, 1, pci_->ide_function);
    pci_->host.on_reset = [this](uint8_t) { request_reset(); };
    // Boots without firmware (Linux boot protocol, multiboot) find the IDE
    // function ready; firmware reprograms it anyway.
    pci_->ide_function.enable_legacy_decode();
    DmaMemory dma{[&cpu](uint64_t paddr, void* dst, size_t len) { return cpu.read_phys(paddr, dst, len); },
                  [&cpu](uint64_t paddr, const void* src, size_t len) { return cpu.write_phys(paddr, src, len); }};
    IdeChannel* channels[2] = {&pci_->ide0, &pci_->ide1};
    for (unsigned i = 0; i < 4; ++i)
      if (!config.ide_disks[i].empty())
        channels[i / 2]->attach(i % 2, std::make_shared<DiskImage>(DiskImageConfig(config.ide_disks[i], config.ide_disk_mode)));
    for (IdeChannel* ch : channels) ch->set_dma_memory(dma);
  } else {
    for (const std::string& d : config.ide_disks)
      if (!d.empty()) throw std::invalid_argument("pc platform: IDE disk '" + d + "' given without pci_ide");
  }

  if (!config.bios.empty()) {
    if (!pci_) throw std::invalid_argument("pc platform: firmware boot needs the i440FX (pci_ide)");
    firmware_ = std::make_unique<Firmware>(cpu, Firmware::load_image(config.bios));
    if (!config.vga_bios.empty()) {
      if (!fw_cfg_) throw std::invalid_argument("pc platform: a VGA BIOS needs fw_cfg");
      std::string base = config.vga_bios.substr(config.vga_bios.find_last_of('/') + 1);
      fw_cfg_->add_file("vgaroms/" + base, Firmware::load_option_rom(config.vga_bios));
    }
    pci_->host_bridge.on_pam_change = [this](unsigned index, uint8_t value) {
      if (!loading_) firmware_->pam_changed(index, value);
    };
    apply_pam();
  }

  // Bus registration. If a range is taken (a second platform), handlers
  // registered so far must not outlive this half-built object.
  try {
    register_ports();
  } catch (...) {
    *alive_ = nullptr;
    throw;
  }

  cpu.irq_source = &pic_;
  machine_.set_device_state_hooks([this] { return save(); }, [this](const std::string& s) { load(s); });
}

void PcPlatform::register_ports() {
  attach(0x20, 2, pic_.master());
  attach(0xA0, 2, pic_.slave());
  attach(0x4D0, 2, pic_.elcr());
  attach(0x40, 4, *pit_);
  attach(0x61, 1, *port_b_);
  attach(0x60, 1, *kbc_, i8042::kDataOffset);
  attach(0x64, 1, *kbc_, i8042::kStatusOffset);
  attach(0x70, 2, *rtc_);
  attach(0x80, 1, *post_);
  attach(0x92, 1, *port92_);
  for (unsigned i = 0; i < 4; ++i)
    if (com_[i]) attach(kPcComPorts[i].base, 8, *com_[i]);
  if (fw_cfg_) attach(0x510, 2, *fw_cfg_);
  if (pci_) {
    attach(0xCF8, 8, pci_->host);
    std::shared_ptr<PcPlatform*> alive = alive_;
    IoHandler window = pci_->bus.io_window(kPciIoWindow);
    machine_.bus().register_io(kPciIoWindow, 0x10000 - kPciIoWindow, "pci-io",
                               IoHandler{[alive, r = window.read](uint32_t off, unsigned size) -> uint32_t {
                                           return *alive ? r(off, size) : 0xFFFFFFFFu;
                                         },
                                         [alive, w = window.write](uint32_t off, unsigned size, uint32_t v) {
                                           if (*alive) w(off, size, v);
                                         }});
    attach(0x1F0, 8, pci_->ide0);
    attach(0x3F6, 1, pci_->ide0.control());
    attach(0x170, 8, pci_->ide1);
    attach(0x376, 1, pci_->ide1.control());
  }
  if (firmware_) {
    Firmware* fw = firmware_.get();
    attach(Firmware::kDebugPort, 1, *fw);
    attach_mmio(fw->high_base(), fw->image().size(), "bios-rom",
                [fw](uint32_t off, unsigned size) { return fw->high_read(off, size); },
                [](uint32_t, unsigned, uint32_t) {});
  }
  if (vga_) {
    Vga* vga = vga_.get();
    attach(Vga::kIoBase, Vga::kIoSize, *vga);
    attach(VbeDispi::kIoBase, 2, vga->dispi());
    attach_mmio(Vga::kMemBase, Vga::kMemSize, "vga-memory",
                [vga](uint32_t off, unsigned size) { return vga->mem_read(off, size); },
                [vga](uint32_t off, unsigned size, uint32_t v) { vga->mem_write(off, size, v); });
    attach_mmio(VbeDispi::kLfbBase, VbeDispi::kLfbSize, "vga-lfb",
                [vga](uint32_t off, unsigned size) { return vga->dispi().lfb_read(off, size); },
                [vga](uint32_t off, unsigned size, uint32_t v) { vga->dispi().lfb_write(off, size, v); });
  }
}

void PcPlatform::attach_mmio(uint64_t base, uint64_t length, const char* name,
                             std::function<uint32_t(uint32_t, unsigned)> read,
                             std::function<void(uint32_t, unsigned, uint32_t)> write) {
  std::shared_ptr<PcPlatform*> alive = alive_;
  machine_.bus().register_mmio(base, length, name,
                               IoHandler{[alive, read](uint32_t off, unsigned size) -> uint32_t {
                                           return *alive ? read(off, size) : 0xFFFFFFFFu;
                                         },
                                         [alive, write](uint32_t off, unsigned size, uint32_t v) {
                                           if (*alive) write(off, size, v);
                                         }});
}

void PcPlatform::apply_pam() {
  std::array<uint8_t, 7> pam{};
  for (unsigned i = 0; i < 7; ++i) pam[i] = pci_->host_bridge.pam(i);
  firmware_->apply_pam(pam);
}

PcPlatform::~PcPlatform() {
  *alive_ = nullptr;
  if (pci_) pci_->host_bridge.on_pam_change = nullptr;
  Cpu& cpu = machine_.cpu();
  if (cpu.irq_source == &pic_) cpu.irq_source = nullptr;
  machine_.set_device_state_hooks(nullptr, nullptr);
  pic_.set_notify(nullptr);
}

void PcPlatform::attach(uint16_t port, uint32_t length, Device& device, uint32_t first_offset) {
  std::shared_ptr<PcPlatform*> alive = alive_;
  Device* dev = &device;
  machine_.bus().register_io(
      port, length, device.name(),
      IoHandler{[alive, dev, first_offset](uint32_t off, unsigned size) -> uint32_t {
                  if (!*alive) return 0xFFFFFFFFu;
                  return dev->read(first_offset + off, size);
                },
                [alive, dev, first_offset](uint32_t off, unsigned size, uint32_t v) {
                  if (*alive) dev->write(first_offset + off, size, v);
                }});
}

DiskImage* PcPlatform::disk_image(unsigned slot) const {
  if (!pci_ || slot >= 4) return nullptr;
  IdeChannel& ch = slot < 2 ? pci_->ide0 : pci_->ide1;
  return ch.image(slot % 2);
}

std::string PcPlatform::com_output(unsigned index) const {
  return index < 4 && com_memory_[index] ? com_memory_[index]->output() : std::string();
}

FaultFields PcPlatform::fault_fields() {
  FaultFields out;
  auto add = [&out](const std::string& prefix, Device& d) {
    for (FaultField& f : d.fault_fields()) {
      f.name = prefix + f.name;
      out.push_back(std::move(f));
    }
  };
  add("pic.master.", pic_.master());
  add("pic.slave.", pic_.slave());
  add("pit.", *pit_);
  add("rtc.", *rtc_);
  for (unsigned i = 0; i < 4; ++i)
    if (com_[i]) add("com" + std::to_string(i + 1) + ".", *com_[i]);
  if (pci_) {
    add("ide0.", pci_->ide0);
    add("ide1.", pci_->ide1);
  }
  return out;
}

std::vector<Device*> PcPlatform::devices() const {
  // The PIC first: loading it before the others lets their after_load()
  // re-drive lines into a PIC that already has its state.
  PicPair& pic = const_cast<PicPair&>(pic_);  // PicPair's accessors are non-const
  std::vector<Device*> out = {&pic.master(), &pic.slave(), &pic.elcr(), pit_.get(), port_b_.get(), rtc_.get()};
  for (const auto& c : com_)
    if (c) out.push_back(c.get());
  out.push_back(kbc_.get());
  out.push_back(post_.get());
  out.push_back(port92_.get());
  if (fw_cfg_) out.push_back(fw_cfg_.get());
  if (vga_) {
    out.push_back(vga_.get());
    out.push_back(&vga_->dispi());
  }
  if (pci_) {
    for (Device* d : std::initializer_list<Device*>{&pci_->host, &pci_->host_bridge_state, &pci_->isa_bridge_state,
                                                    &pci_->ide_function_state, &pci_->ide0, &pci_->ide0.control(),
                                                    &pci_->ide1, &pci_->ide1.control(), &pci_->bus_master})
      out.push_back(d);
  }
  if (firmware_) out.push_back(firmware_.get());  // after the host bridge: its load re-announces PAM
  return out;
}

void PcPlatform::reset() {
  for (Device* d : devices()) d->reset();
  if (firmware_) apply_pam();  // the host bridge's reset cleared PAM without announcing it
  reset_requested_ = false;
  update_a20();
}

void PcPlatform::update_a20() {
  bool on = kbc_->a20_enabled() || port92_->a20_enabled();
  Cpu& cpu = machine_.cpu();
  if (cpu.s.a20_enabled == on) return;
  cpu.s.a20_enabled = on;
  cpu.flush_tlb(true);
}

void PcPlatform::request_reset() {
  reset_requested_ = true;
  machine_.cpu().request_stop(StopReason::Requested);
}

std::string PcPlatform::save() const {
  pb::dev::PcPlatformState state;
  state.set_version(kStateVersion);
  for (Device* d : devices()) {
    pb::dev::PcDeviceState* ds = state.add_devices();
    ds->set_name(d->name());
    ds->set_state(d->save());
  }
  for (unsigned i = 0; i < 4; ++i) state.add_com_memory_output(com_output(i));
  state.set_reset_requested(reset_requested_);
  for (unsigned slot = 0; slot < 4; ++slot) {
    DiskImage* disk = disk_image(slot);
    if (!disk || disk->mode() == DiskMode::ReadOnly) continue;
    if (disk->mode() != DiskMode::OverlayMemory)
      throw std::runtime_error("pc platform: disk '" + disk->path() +
                               "' keeps guest writes in a file; checkpoints need DiskMode::OverlayMemory");
    DiskOverlaySnapshot snap = disk->snapshot_overlay();
    std::vector<uint64_t> lbas;
    for (const auto& [lba, data] : snap.sectors) lbas.push_back(lba);
    std::sort(lbas.begin(), lbas.end());
    pb::dev::PcDiskOverlay* overlay = state.add_disks();
    overlay->set_slot(slot);
    for (uint64_t lba : lbas) {
      pb::dev::PcDiskSector* sector = overlay->add_sectors();
      sector->set_lba(lba);
      const auto& data = snap.sectors.at(lba);
      sector->set_data(std::string(reinterpret_cast<const char*>(data.data()), data.size()));
    }
  }
  return state.SerializeAsString();
}

void PcPlatform::load(const std::string& bytes) {
  pb::dev::PcPlatformState state;
  if (!state.ParseFromString(bytes)) throw std::runtime_error("pc platform: malformed saved state");
  if (state.version() != kStateVersion)
    throw std::runtime_error("pc platform: unknown saved state version " + std::to_string(state.version()));
  std::vector<Device*> devs = devices();
  if (static_cast<size_t>(state.devices_size()) != devs.size())
    throw std::runtime_error("pc platform: saved state has " + std::to_string(state.devices_size()) +
                             " devices, this platform has " + std::to_string(devs.size()));
  for (size_t i = 0; i < devs.size(); ++i)
    if (state.devices(static_cast<int>(i)).name() != devs[i]->name())
      throw std::runtime_error("pc platform: saved state has device '" + state.devices(static_cast<int>(i)).name() +
                               "' where this platform has '" + devs[i]->name() + "'");
  loading_ = true;
  try {
    for (size_t i = 0; i < devs.size(); ++i) devs[i]->load(state.devices(static_cast<int>(i)).state());
  } catch (...) {
    loading_ = false;
    throw;
  }
  loading_ = false;
  for (unsigned i = 0; i < 4 && static_cast<int>(i) < state.com_memory_output_size(); ++i)
    if (com_memory_[i]) com_memory_[i]->restore(state.com_memory_output(static_cast<int>(i)));
  reset_requested_ = state.reset_requested();
  for (unsigned slot = 0; slot < 4; ++slot) {
    DiskImage* disk = disk_image(slot);
    if (!disk || disk->mode() != DiskMode::OverlayMemory) continue;
    DiskOverlaySnapshot snap;
    for (const pb::dev::PcDiskOverlay& overlay : state.disks()) {
      if (overlay.slot() != slot) continue;
      for (const pb::dev::PcDiskSector& sector : overlay.sectors()) {
        if (sector.data().size() != DiskImage::kSectorSize)
          throw std::runtime_error("pc platform: saved disk sector of " + std::to_string(sector.data().size()) +
                                   " bytes");
        std::array<uint8_t, 512>& data = snap.sectors[sector.lba()];
        std::memcpy(data.data(), sector.data().data(), data.size());
      }
    }
    try {
      disk->restore_overlay(snap);
    } catch (const std::logic_error& e) {
      throw std::runtime_error(std::string("pc platform: ") + e.what());
    }
  }
  for (Device* d : devs) d->after_load();
  machine_.cpu().interrupt_line_changed();
}

}  // namespace faultline
