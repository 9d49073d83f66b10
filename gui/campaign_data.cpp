#include "gui/campaign_data.h"

#include <cstdio>

namespace faultline::gui {

namespace {
std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

ExperimentRow describe_row(const pb::ExperimentResult& r) {
  ExperimentRow e;
  const pb::Fault& f = r.fault();
  e.id = r.id();
  e.group = f.group();
  switch (f.target_case()) {
    case pb::Fault::kPhysicalAddress: e.target = "phys " + hex(f.physical_address()); break;
    case pb::Fault::kVirtualAddress: e.target = "virt " + hex(f.virtual_address()); break;
    case pb::Fault::kRegisterName: e.target = "reg " + f.register_name(); break;
    default: e.target = "(other)"; break;
  }
  if (f.width() > 1 && f.target_case() != pb::Fault::kRegisterName) e.target += " w" + std::to_string(f.width());
  switch (f.model().kind_case()) {
    case pb::Model::kBitFlip: e.model = "bit_flip " + hex(f.bit_mask()); break;
    case pb::Model::kStuckAt: e.model = "stuck_at_" + std::to_string(f.model().stuck_at().value()) + " " + hex(f.bit_mask()); break;
    case pb::Model::kSetValue: e.model = "set " + hex(f.model().set_value().value()); break;
    case pb::Model::kRandomValue: e.model = "random"; break;
    default: e.model = "(none)"; break;
  }
  const pb::Trigger& t = f.trigger();
  switch (t.kind_case()) {
    case pb::Trigger::kInstruction: e.trigger = "instruction " + std::to_string(t.instruction()); break;
    case pb::Trigger::kTimeNs: e.trigger = "time " + std::to_string(t.time_ns()) + " ns"; break;
    case pb::Trigger::kPc: e.trigger = "pc " + hex(t.pc().address()) + " #" + std::to_string(t.pc().occurrence()); break;
    case pb::Trigger::kMemoryAccess: e.trigger = "access " + hex(t.memory_access().start()); break;
    case pb::Trigger::kPort: e.trigger = "port " + hex(t.port().start()); break;
    case pb::Trigger::kOutput: e.trigger = "output /" + t.output().pattern() + "/"; break;
    default: e.trigger = "(script)"; break;
  }
  e.outcome = r.outcome();
  e.trigger_instruction = r.trigger_instruction();
  e.end_instruction = r.end_instruction();
  e.end_reason = r.end_reason();
  e.diff = r.diff_summary();
  return e;
}

CampaignReader::CampaignReader(const std::string& path)
    : path_(path), store_(std::make_unique<store::Store>(store::Store::open(path))) {
  campaign_ = store_->campaign();
}

CampaignReader::~CampaignReader() = default;

bool CampaignReader::refresh() {
  const uint64_t n = store_->row_count();
  if (n == seen_) return false;
  report::Summary base;
  base.name = campaign_.name;
  base.created = campaign_.created;
  base.planned = campaign_.planned;
  base.golden_end = campaign_.golden_end;
  base.golden_end_reason = campaign_.golden_end_reason;
  base.golden_status = campaign_.golden_status;
  report::SummaryBuilder b(std::move(base));
  std::vector<ExperimentRow> rows;
  rows.reserve(n);
  store_->for_each_row([&](const store::Row& row) {
    b.add(row.result);
    rows.push_back(describe_row(row.result));
  });
  rows_ = std::move(rows);
  summary_ = b.finish();
  // Count what was read (rows may have been committed since row_count()).
  seen_ = rows_.size();
  return true;
}

}  // namespace faultline::gui
