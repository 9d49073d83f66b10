#include "experiments/report/export.h"

#include <google/protobuf/util/delimited_message_util.h>
#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <stdexcept>

#include "experiments/report/stats.h"
#include "experiments/store/store.h"

namespace faultline::report {

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o.push_back('"');
    o.push_back(c);
  }
  o.push_back('"');
  return o;
}

namespace {

std::string target_text(const pb::Fault& f) {
  char buf[64];
  switch (f.target_case()) {
    case pb::Fault::kPhysicalAddress:
      std::snprintf(buf, sizeof buf, "phys:0x%llx", (unsigned long long)f.physical_address());
      return buf;
    case pb::Fault::kVirtualAddress:
      std::snprintf(buf, sizeof buf, "virt:0x%llx", (unsigned long long)f.virtual_address());
      return buf;
    case pb::Fault::kRegisterName: return "reg:" + f.register_name();
    case pb::Fault::kDeviceField: return "dev:" + f.device_field();
    case pb::Fault::kDisk:
      std::snprintf(buf, sizeof buf, "disk%u:%llu+%u", f.disk().drive(), (unsigned long long)f.disk().lba(),
                    f.disk().offset());
      return buf;
    case pb::Fault::kSerial:
      std::snprintf(buf, sizeof buf, "com%u:%s", f.serial().com(),
                    f.serial().direction() == pb::SERIAL_RX ? "rx" : "tx");
      return buf;
    case pb::Fault::kIrq: std::snprintf(buf, sizeof buf, "irq:%u", f.irq().line()); return buf;
    default: return "";
  }
}

}  // namespace

uint64_t export_results(const store::Store& db, ExportFormat format, std::ostream& out) {
  uint64_t n = 0;
  if (format == ExportFormat::Csv)
    out << "id,fault_index,group,target_kind,target,bit_mask,trigger_instruction,outcome,end_instruction,"
           "exit_status,end_reason,output_digest,diff_summary,wall_seconds,seed,attempts,fault\n";
  db.for_each_row([&](const store::Row& row) {
    const pb::ExperimentResult& r = row.result;
    n++;
    switch (format) {
      case ExportFormat::Csv: {
        char wall[32];
        std::snprintf(wall, sizeof wall, "%.6f", r.wall_seconds());
        out << r.id() << ',' << row.fault_index << ',' << csv_field(r.fault().group()) << ','
            << csv_field(target_kind(r.fault())) << ',' << csv_field(target_text(r.fault())) << ','
            << r.fault().bit_mask() << ',' << r.trigger_instruction() << ',' << pb::Outcome_Name(r.outcome()) << ','
            << r.end_instruction() << ',' << r.exit_status() << ',' << csv_field(r.end_reason()) << ','
            << r.output_digest() << ',' << csv_field(r.diff_summary()) << ',' << wall << ',' << r.seed() << ','
            << r.attempts() << ',' << csv_field(store::fault_text(r.fault())) << '\n';
        break;
      }
      case ExportFormat::Jsonl: {
        std::string json;
        google::protobuf::util::JsonPrintOptions opt;
        opt.preserve_proto_field_names = true;
        opt.always_print_primitive_fields = true;
        auto st = google::protobuf::util::MessageToJsonString(r, &json, opt);
        if (!st.ok()) throw std::runtime_error("JSON conversion failed: " + std::string(st.message()));
        // Splice the fault index in front of the message's own fields.
        out << "{\"fault_index\":" << row.fault_index << (json.size() > 2 ? "," : "") << json.substr(1) << '\n';
        break;
      }
      case ExportFormat::Pb:
        if (!google::protobuf::util::SerializeDelimitedToOstream(r, &out))
          throw std::runtime_error("writing the protobuf stream failed");
        break;
    }
  });
  out.flush();
  if (!out) throw std::runtime_error("write error");
  return n;
}

}  // namespace faultline::report
