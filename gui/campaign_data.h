// Reading a campaign result database for the campaign monitor.
//
// Design note: Qt-free so tests can check it against the store directly.
// The reader keeps one store::Store connection; every refresh() asks SQLite
// for the row count (a new read transaction each time, so rows a running
// `faultline campaign run` committed in WAL mode become visible) and only
// when it changed reads all rows again and rebuilds the statistics with
// the report library (report::SummaryBuilder: counts, rates and Wilson 95%
// intervals exactly as `faultline campaign report` prints them). The
// monitor never writes to the database.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "experiments/report/stats.h"
#include "experiments/store/store.h"

namespace faultline::gui {

// One experiment as the monitor's table shows it.
struct ExperimentRow {
  uint64_t id = 0;
  std::string group;
  std::string target;     // "phys 0x1234", "reg eax", ...
  std::string model;      // "bit_flip mask 0x10", ...
  std::string trigger;    // "instruction 1234", ...
  pb::Outcome outcome = pb::OUTCOME_UNSPECIFIED;
  uint64_t trigger_instruction = 0;
  uint64_t end_instruction = 0;
  std::string end_reason;
  std::string diff;
};

ExperimentRow describe_row(const pb::ExperimentResult& r);

class CampaignReader {
 public:
  // Opens the database (throws store::StoreError naming the file).
  explicit CampaignReader(const std::string& path);
  ~CampaignReader();

  // Rereads the rows if their number changed; true if it did (and on the
  // first call).
  bool refresh();

  const std::string& path() const { return path_; }
  const store::CampaignRecord& campaign() const { return campaign_; }
  const std::vector<ExperimentRow>& rows() const { return rows_; }
  const report::Summary& summary() const { return summary_; }

 private:
  std::string path_;
  std::unique_ptr<store::Store> store_;
  store::CampaignRecord campaign_;
  std::vector<ExperimentRow> rows_;
  report::Summary summary_;
  uint64_t seen_ = UINT64_MAX;
};

}  // namespace faultline::gui
