#include "gui/experiment_export.h"

#include <google/protobuf/text_format.h>

#include <cstdio>
#include <cstdlib>

#include "campaign.pb.h"
#include "experiments/store/store.h"

namespace faultline::gui {

namespace {

// The value after injection: the record's detail ends "...->0xVALUE" (then
// possibly "; restored at tick N").
uint64_t value_after(const faults::InjectionRecord& rec) {
  const size_t arrow = rec.detail.find("->");
  if (arrow == std::string::npos) throw ExportError("cannot read the injected value from \"" + rec.detail + "\"");
  const char* p = rec.detail.c_str() + arrow + 2;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(p, &end, 16);
  if (end == p) throw ExportError("cannot read the injected value from \"" + rec.detail + "\"");
  return v;
}

}  // namespace

std::string export_experiment(const Session& s, const std::string& name) {
  if (!s.loaded()) throw ExportError("no machine: load a kernel first");
  if (s.kind() != GuestKind::Multiboot)
    throw ExportError("only multiboot sessions can be exported (campaigns run multiboot kernels)");
  const auto& hist = s.history();
  if (hist.empty()) throw ExportError("nothing to export: no fault was injected since the last reset");
  if (hist.size() > 1)
    throw ExportError(std::to_string(hist.size()) +
                      " faults were injected since the last reset; an experiment holds one (reset and inject once)");
  const pb::Fault& f = hist[0].fault;
  const faults::InjectionRecord& rec = hist[0].record;
  const bool is_register = f.target_case() == pb::Fault::kRegisterName;
  const auto dur = f.duration().kind_case();
  const auto model = f.model().kind_case();
  const bool whole_cell = model == pb::Model::kSetValue || model == pb::Model::kRandomValue;
  if (!is_register && dur != pb::Duration::kTransient && dur != pb::Duration::KIND_NOT_SET && !whole_cell)
    throw ExportError(
        "a bit flip or stuck-at held in memory (intermittent or permanent) cannot be named bit by bit in an "
        "experiment file (fault groups enumerate every bit); use a transient fault or a set/random value");
  if (whole_cell && f.bit_mask() != 0)
    throw ExportError("a set/random value on part of a cell (bit_mask) cannot be exported");

  pb::Campaign c;
  c.set_name(name);
  c.set_description("Exported by faultline-gui: " + store::fault_text(f) + " applied at tick " +
                    std::to_string(rec.at_instruction) + " (" + rec.detail + ")");
  c.mutable_machine()->set_memory_mib(static_cast<uint32_t>(s.memory_mib()));
  c.mutable_workload()->mutable_multiboot()->set_kernel(s.kernel_path());
  if (!s.cmdline().empty()) c.mutable_workload()->mutable_multiboot()->set_cmdline(s.cmdline());
  pb::FaultGroup* g = c.add_fault_space();
  g->set_name(f.group().empty() ? "by_hand" : f.group());
  const unsigned width = f.width() ? f.width() : 1;
  switch (f.target_case()) {
    case pb::Fault::kPhysicalAddress: {
      auto* m = g->mutable_target()->mutable_memory();
      m->mutable_physical()->set_start(f.physical_address());
      m->mutable_physical()->set_end(f.physical_address() + width);
      m->set_width(width);
      break;
    }
    case pb::Fault::kVirtualAddress: {
      auto* m = g->mutable_target()->mutable_memory();
      m->mutable_virtual_()->set_start(f.virtual_address());
      m->mutable_virtual_()->set_end(f.virtual_address() + width);
      m->set_width(width);
      break;
    }
    case pb::Fault::kRegisterName:
      g->mutable_target()->mutable_registers()->add_names(f.register_name());
      break;
    default:
      throw ExportError("this fault's target cannot be exported");
  }
  g->mutable_model()->mutable_set_value()->set_value(value_after(rec));
  g->mutable_trigger()->mutable_instructions()->set_start(rec.at_instruction);
  g->mutable_trigger()->mutable_instructions()->set_end(rec.at_instruction + 1);
  if (dur == pb::Duration::kIntermittentInstructions || dur == pb::Duration::kPermanent)
    *g->mutable_duration() = f.duration();
  c.mutable_sampling()->set_full(true);

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
      "# It is written as the value the injector wrote (set_value) at that tick,\n"
      "# which is what the hand-made fault did there.\n"
      "#\n"
      "#   faultline campaign run THIS_FILE\n\n";
  return out + body;
}

}  // namespace faultline::gui
