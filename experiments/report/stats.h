// Outcome statistics of a campaign: counts, rates and 95% Wilson score
// intervals, overall and per fault group / target kind, plus a histogram of
// outcomes over injection time.
//
// Rates use the experiments whose fault was injected as denominator:
// NOT_TRIGGERED experiments are counted apart (a fault that never happened
// says nothing about the system's behaviour under faults).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "result.pb.h"

namespace faultline::report {

struct Interval {
  double lo = 0, hi = 0;
};
// Wilson score interval for k successes in n trials; z = 1.96 for 95%.
Interval wilson(uint64_t k, uint64_t n, double z = 1.959963984540054);

// Outcomes in report order (the rated ones first).
const std::vector<pb::Outcome>& report_outcomes();
const char* outcome_label(pb::Outcome o);   // "benign", "sdc", ...
const char* outcome_color(pb::Outcome o);   // CSS colour for charts

struct Tally {
  std::map<pb::Outcome, uint64_t> counts;
  uint64_t total = 0;
  void add(pb::Outcome o) {
    counts[o]++;
    total++;
  }
  uint64_t count(pb::Outcome o) const {
    auto it = counts.find(o);
    return it == counts.end() ? 0 : it->second;
  }
  // Denominator of the rates.
  uint64_t rated() const { return total - count(pb::NOT_TRIGGERED); }
};

// "physical memory", "virtual memory", "register", "none"
std::string target_kind(const pb::Fault& f);

struct Summary {
  std::string name;
  std::string created;
  uint64_t planned = 0;
  uint64_t golden_end = 0;
  std::string golden_end_reason;
  uint32_t golden_status = 0;
  Tally overall;
  std::map<std::string, Tally> by_group;
  std::map<std::string, Tally> by_target;
  // Histogram over injection time (trigger instruction), `bins` equal bins
  // over [0, max(golden_end, latest trigger)].
  uint64_t hist_span = 0;
  std::vector<Tally> hist;
  double wall_seconds = 0;  // sum over experiments
};

class SummaryBuilder {
 public:
  SummaryBuilder(Summary base, size_t bins = 20);
  void add(const pb::ExperimentResult& r);
  Summary finish();

 private:
  Summary s_;
  size_t bins_;
  std::vector<std::pair<uint64_t, pb::Outcome>> triggers_;
};

// Plain-text summary: counts, rates and intervals, overall and per group /
// target kind.
std::string text_report(const Summary& s);
// A self-contained HTML page with the same tables and inline SVG charts.
std::string html_report(const Summary& s);

}  // namespace faultline::report
