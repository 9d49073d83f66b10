#include "gui/experiment_export.h"

#include <google/protobuf/text_format.h>

#include "campaign.pb.h"
#include "experiments/store/store.h"

namespace faultline::gui {

std::string export_experiment(const Session& s, const std::string& name) {
  if (!s.loaded()) throw ExportError("no machine: load a kernel first");
  if (s.kind() == GuestKind::Experiment)
    throw ExportError("this window replays an experiment of a campaign database; it is already in a campaign");
  const auto& hist = s.history();
  if (hist.empty()) throw ExportError("nothing to export: no fault was injected since the last reset");
  if (hist.size() > 1)
    throw ExportError(std::to_string(hist.size()) +
                      " faults were injected since the last reset; an experiment holds one (reset and inject once)");
  if (const auto& in = s.first_input())
    throw ExportError(in->what + " was given by hand at tick " + std::to_string(in->tick) +
                      ": an experiment file cannot replay keyboard or mouse input at the instants it was given "
                      "(reset and inject without it, send the input through the COM1 pane, which is exported, or "
                      "write `type_keys` script steps by hand)");
  const pb::Fault& f = hist[0].fault;
  const faults::InjectionRecord& rec = hist[0].record;
  const auto model = f.model().kind_case();
  const bool stream = f.target_case() == pb::Fault::kDisk || f.target_case() == pb::Fault::kSerial;

  pb::Campaign c;
  c.set_name(name);
  c.set_description("Exported by faultline-gui: " + store::fault_text(f) + " applied at tick " +
                    std::to_string(rec.at_instruction) + " (" + rec.detail + ")");
  c.mutable_machine()->set_memory_mib(static_cast<uint32_t>(s.memory_mib()));
  pb::Workload* w = c.mutable_workload();
  switch (s.kind()) {
    case GuestKind::Multiboot:
      w->mutable_multiboot()->set_kernel(s.kernel_path());
      if (!s.cmdline().empty()) w->mutable_multiboot()->set_cmdline(s.cmdline());
      w->mutable_multiboot()->set_pc(true);  // every GUI machine has the PC platform
      break;
    case GuestKind::Linux:
      w->mutable_linux()->set_kernel(s.kernel_path());
      if (!s.initrd_path().empty()) w->mutable_linux()->set_initrd(s.initrd_path());
      if (!s.cmdline().empty()) w->mutable_linux()->set_append(s.cmdline());
      for (const std::string& d : s.disks()) w->mutable_linux()->add_disks(d);
      break;
    case GuestKind::Firmware:
      w->mutable_firmware()->set_bios(s.kernel_path());
      if (!s.vga_bios_path().empty()) w->mutable_firmware()->set_vga_bios(s.vga_bios_path());
      for (const std::string& d : s.disks()) w->mutable_firmware()->add_disks(d);
      break;
    default:
      throw ExportError("this session's guest cannot be written as a campaign workload");
  }

  pb::FaultGroup* g = c.add_fault_space();
  g->set_name(f.group().empty() ? "by_hand" : f.group());
  pb::TargetSpace* t = g->mutable_target();
  const unsigned width = f.width() ? f.width() : 1;
  switch (f.target_case()) {
    case pb::Fault::kPhysicalAddress:
    case pb::Fault::kVirtualAddress: {
      auto* m = t->mutable_memory();
      pb::AddressRange* r =
          f.has_physical_address() ? m->mutable_physical() : m->mutable_virtual_();
      const uint64_t a = f.has_physical_address() ? f.physical_address() : f.virtual_address();
      r->set_start(a);
      r->set_end(a + width);
      m->set_width(width);
      break;
    }
    case pb::Fault::kRegisterName: t->mutable_registers()->add_names(f.register_name()); break;
    case pb::Fault::kDeviceField: t->mutable_device()->add_fields(f.device_field()); break;
    case pb::Fault::kDisk: {
      const pb::DiskTarget& d = f.disk();
      if (d.count() > 1)
        throw ExportError("a disk fault on " + std::to_string(d.count()) +
                          " sectors at once cannot be one experiment (fault groups give one fault per sector); "
                          "use a count of 1");
      auto* ds = t->mutable_disk();
      ds->set_drive(d.drive());
      ds->mutable_sectors()->set_start(d.lba());
      ds->mutable_sectors()->set_end(d.lba() + 1);
      ds->set_kind(d.kind());
      if (d.kind() == pb::DISK_CORRUPT_READ) {
        ds->set_width(width);
        ds->mutable_bytes()->set_start(d.offset());
        ds->mutable_bytes()->set_end(d.offset() + width);
      }
      break;
    }
    case pb::Fault::kSerial: {
      auto* ss = t->mutable_serial();
      ss->set_com(f.serial().com());
      ss->set_direction(f.serial().direction());
      ss->set_action(f.serial().action());
      break;
    }
    case pb::Fault::kIrq:
      t->mutable_irq()->add_lines(f.irq().line());
      t->mutable_irq()->set_kind(f.irq().kind());
      break;
    default:
      throw ExportError("this fault's target cannot be exported");
  }
  switch (model) {
    case pb::Model::KIND_NOT_SET: break;  // disk errors/timeouts, serial drops, IRQ faults
    case pb::Model::kRandomValue:
      if (stream)
        throw ExportError("a random value on a disk or serial stream is drawn per hit from a seed the campaign "
                          "derives itself; use a set value or a bit model to export it");
      g->mutable_model()->mutable_set_value()->set_value(rec.value);
      break;
    case pb::Model::kBitFlip:
      g->mutable_model()->mutable_bit_flip();  // `bits` follows from the mask
      break;
    default:
      *g->mutable_model() = f.model();
      break;
  }
  if (model != pb::Model::KIND_NOT_SET && f.bit_mask() != 0) g->set_bit_mask(f.bit_mask());
  g->mutable_trigger()->mutable_instructions()->set_start(rec.at_instruction);
  g->mutable_trigger()->mutable_instructions()->set_end(rec.at_instruction + 1);
  if (f.duration().kind_case() != pb::Duration::KIND_NOT_SET) *g->mutable_duration() = f.duration();
  c.mutable_sampling()->set_full(true);

  // COM1 input sent by hand: script steps that run to its tick and send it
  // (`wait_ns` counts from the step's start; the run stops exactly there
  // when the virtual clock converts ticks to whole nanoseconds).
  const VirtualClock& clock = s.machine()->clock();
  uint64_t at = 0;
  for (const Session::SerialInput& in : s.serial_inputs()) {
    if (in.tick > at) {
      const uint64_t ns = clock.ticks_to_ns(in.tick - at);
      if (clock.ns_to_ticks(ns) != in.tick - at)
        throw ExportError("COM1 input at tick " + std::to_string(in.tick) +
                          " cannot be placed exactly in virtual time (the clock rate does not divide)");
      c.add_script()->set_wait_ns(ns);
    }
    c.add_script()->set_serial_input(in.bytes);
    at = in.tick;
  }

  std::string body;
  google::protobuf::TextFormat::Printer p;
  p.PrintToString(c, &body);
  std::string out =
      "# proto-file: experiments/proto/campaign.proto\n"
      "# proto-message: faultline.pb.Campaign\n"
      "#\n"
      "# Exported by faultline-gui: one experiment replaying a fault injected by hand.\n"
      "#   hand-made fault: " + store::fault_text(f) + "\n"
      "#   injected at tick " + std::to_string(rec.at_instruction) + " (virtual time " +
      std::to_string(rec.at_time_ns) + " ns): " + rec.detail + "\n"
      "# The fault space holds exactly that fault (bit_mask names its bits) with an\n"
      "# instruction trigger at that tick.\n"
      "#\n"
      "#   faultline campaign run THIS_FILE\n\n";
  return out + body;
}

}  // namespace faultline::gui
