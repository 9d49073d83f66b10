#include "experiments/report/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace faultline::report {

Interval wilson(uint64_t k, uint64_t n, double z) {
  if (n == 0) return {0, 1};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(k) / nn;
  const double z2 = z * z;
  const double denom = 1 + z2 / nn;
  const double center = (p + z2 / (2 * nn)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

const std::vector<pb::Outcome>& report_outcomes() {
  static const std::vector<pb::Outcome> kOrder = {pb::BENIGN, pb::SDC,          pb::DETECTED,
                                                  pb::CRASH,  pb::HANG,         pb::SIMULATOR_ERROR,
                                                  pb::NOT_TRIGGERED};
  return kOrder;
}

const char* outcome_label(pb::Outcome o) {
  switch (o) {
    case pb::BENIGN: return "benign";
    case pb::SDC: return "sdc";
    case pb::DETECTED: return "detected";
    case pb::CRASH: return "crash";
    case pb::HANG: return "hang";
    case pb::SIMULATOR_ERROR: return "simulator error";
    case pb::NOT_TRIGGERED: return "not triggered";
    default: return "unspecified";
  }
}

const char* outcome_color(pb::Outcome o) {
  switch (o) {
    case pb::BENIGN: return "#43a047";
    case pb::SDC: return "#e53935";
    case pb::DETECTED: return "#1e88e5";
    case pb::CRASH: return "#8e24aa";
    case pb::HANG: return "#fb8c00";
    case pb::SIMULATOR_ERROR: return "#424242";
    case pb::NOT_TRIGGERED: return "#bdbdbd";
    default: return "#000000";
  }
}

std::string target_kind(const pb::Fault& f) {
  switch (f.target_case()) {
    case pb::Fault::kPhysicalAddress: return "physical memory";
    case pb::Fault::kVirtualAddress: return "virtual memory";
    case pb::Fault::kRegisterName: return "register";
    case pb::Fault::kDeviceField: return "device register";
    case pb::Fault::kDisk: return "disk";
    case pb::Fault::kSerial: return "serial";
    case pb::Fault::kIrq: return "irq";
    default: return "none";
  }
}

SummaryBuilder::SummaryBuilder(Summary base, size_t bins) : s_(std::move(base)), bins_(bins ? bins : 1) {}

void SummaryBuilder::add(const pb::ExperimentResult& r) {
  s_.overall.add(r.outcome());
  s_.by_group[r.fault().group().empty() ? "(unnamed)" : r.fault().group()].add(r.outcome());
  s_.by_target[target_kind(r.fault())].add(r.outcome());
  s_.wall_seconds += r.wall_seconds();
  if (r.outcome() != pb::NOT_TRIGGERED && r.outcome() != pb::SIMULATOR_ERROR)
    triggers_.emplace_back(r.trigger_instruction(), r.outcome());
}

Summary SummaryBuilder::finish() {
  uint64_t span = s_.golden_end;
  for (auto& [t, o] : triggers_) span = std::max(span, t + 1);
  s_.hist_span = std::max<uint64_t>(span, 1);
  s_.hist.assign(bins_, Tally{});
  for (auto& [t, o] : triggers_) {
    size_t b = static_cast<size_t>(static_cast<unsigned __int128>(t) * bins_ / s_.hist_span);
    s_.hist[std::min(b, bins_ - 1)].add(o);
  }
  return std::move(s_);
}

namespace {

std::string fmt(const char* f, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, args...);
  return buf;
}

void tally_table(std::string& out, const Tally& t) {
  out += fmt("  %-16s %8s %8s   %s\n", "outcome", "count", "rate", "95% CI (Wilson)");
  const uint64_t n = t.rated();
  for (pb::Outcome o : report_outcomes()) {
    uint64_t k = t.count(o);
    if (o == pb::NOT_TRIGGERED) {
      if (k) out += fmt("  %-16s %8llu %8s   (counted apart)\n", outcome_label(o), (unsigned long long)k, "-");
      continue;
    }
    if (!k && (o == pb::SIMULATOR_ERROR)) continue;
    Interval ci = wilson(k, n);
    out += fmt("  %-16s %8llu %7.2f%%   [%6.2f%%, %6.2f%%]\n", outcome_label(o), (unsigned long long)k,
               n ? 100.0 * k / n : 0.0, 100 * ci.lo, 100 * ci.hi);
  }
  out += fmt("  %-16s %8llu\n", "total", (unsigned long long)t.total);
}

void compact_table(std::string& out, const char* title, const std::map<std::string, Tally>& m) {
  out += std::string("\nBy ") + title + " (rate %, 95% CI):\n";
  for (auto& [name, t] : m) {
    out += fmt("  %s: %llu experiments (%llu rated)\n", name.c_str(), (unsigned long long)t.total,
               (unsigned long long)t.rated());
    for (pb::Outcome o : report_outcomes()) {
      uint64_t k = t.count(o);
      if (!k || o == pb::NOT_TRIGGERED) continue;
      Interval ci = wilson(k, t.rated());
      out += fmt("    %-16s %7llu %7.2f%% [%6.2f%%, %6.2f%%]\n", outcome_label(o), (unsigned long long)k,
                 100.0 * k / t.rated(), 100 * ci.lo, 100 * ci.hi);
    }
    if (t.count(pb::NOT_TRIGGERED))
      out += fmt("    %-16s %7llu (counted apart)\n", outcome_label(pb::NOT_TRIGGERED),
                 (unsigned long long)t.count(pb::NOT_TRIGGERED));
  }
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o.push_back(c);
    }
  }
  return o;
}

void html_table(std::string& out, const std::string& title, const std::map<std::string, Tally>& m) {
  out += "<h2>" + html_escape(title) + "</h2>\n<table><tr><th>" + html_escape(title.substr(3)) + "</th><th>n</th>";
  for (pb::Outcome o : report_outcomes()) out += std::string("<th>") + outcome_label(o) + "</th>";
  out += "</tr>\n";
  for (auto& [name, t] : m) {
    out += "<tr><td>" + html_escape(name) + "</td><td>" + std::to_string(t.total) + "</td>";
    for (pb::Outcome o : report_outcomes()) {
      uint64_t k = t.count(o);
      if (o == pb::NOT_TRIGGERED || !t.rated()) {
        out += "<td>" + std::to_string(k) + "</td>";
        continue;
      }
      Interval ci = wilson(k, t.rated());
      out += fmt("<td>%llu<br><small>%.1f%% [%.1f, %.1f]</small></td>", (unsigned long long)k,
                 100.0 * k / t.rated(), 100 * ci.lo, 100 * ci.hi);
    }
    out += "</tr>\n";
  }
  out += "</table>\n";
}

// Horizontal stacked bars: one per row, outcome shares of the rated runs.
std::string stacked_bars_svg(const std::map<std::string, Tally>& rows) {
  const int label_w = 180, bar_w = 560, row_h = 26, top = 10;
  const int h = top + static_cast<int>(rows.size()) * row_h + 10;
  std::string s = fmt("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
                      "font-size=\"12\">\n",
                      label_w + bar_w + 20, h);
  int y = top;
  for (auto& [name, t] : rows) {
    s += fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", label_w - 6, y + 16) + html_escape(name) + "</text>\n";
    double x = label_w;
    const double n = static_cast<double>(t.total);
    for (pb::Outcome o : report_outcomes()) {
      uint64_t k = t.count(o);
      if (!k || n == 0) continue;
      double w = bar_w * k / n;
      s += fmt("<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\"><title>%s: %llu (%.1f%%)</title></rect>\n",
               x, y + 2, w, row_h - 6, outcome_color(o), outcome_label(o), (unsigned long long)k, 100.0 * k / n);
      x += w;
    }
    y += row_h;
  }
  s += "</svg>\n";
  return s;
}

std::string histogram_svg(const Summary& sm) {
  const int left = 50, width = 640, height = 220, bottom = 40;
  uint64_t peak = 1;
  for (const Tally& t : sm.hist) peak = std::max(peak, t.total);
  std::string s = fmt("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
                      "font-size=\"11\">\n",
                      left + width + 20, height + bottom + 10);
  const double bw = static_cast<double>(width) / std::max<size_t>(sm.hist.size(), 1);
  s += fmt("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n", left, height + 5, left + width, height + 5);
  s += fmt("<line x1=\"%d\" y1=\"5\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n", left, left, height + 5);
  s += fmt("<text x=\"%d\" y=\"15\" text-anchor=\"end\">%llu</text>\n", left - 4, (unsigned long long)peak);
  s += fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", left - 4, height + 5);
  for (size_t i = 0; i < sm.hist.size(); i++) {
    double x = left + i * bw;
    double y = height + 5;
    for (pb::Outcome o : report_outcomes()) {
      uint64_t k = sm.hist[i].count(o);
      if (!k) continue;
      double h = static_cast<double>(height) * k / peak;
      y -= h;
      s += fmt("<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"><title>%s: %llu</title></rect>\n",
               x + 1, y, bw - 2, h, outcome_color(o), outcome_label(o), (unsigned long long)k);
    }
  }
  for (int i = 0; i <= 4; i++) {
    double x = left + width * i / 4.0;
    s += fmt("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%llu</text>\n", x, height + 20,
             (unsigned long long)(sm.hist_span * i / 4));
  }
  s += fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">injection time (instruction)</text>\n", left + width / 2,
           height + 36);
  s += "</svg>\n";
  return s;
}

std::string legend_html() {
  std::string s = "<p class=\"legend\">";
  for (pb::Outcome o : report_outcomes())
    s += fmt("<span><i style=\"background:%s\"></i>%s</span> ", outcome_color(o), outcome_label(o));
  return s + "</p>\n";
}

}  // namespace

std::string text_report(const Summary& s) {
  std::string out;
  out += "campaign " + s.name + " (created " + s.created + ")\n";
  out += fmt("golden run: %s, status %u, %llu instructions\n", s.golden_end_reason.c_str(), s.golden_status,
             (unsigned long long)s.golden_end);
  out += fmt("experiments: %llu of %llu planned done; rates over %llu with the fault injected\n\n",
             (unsigned long long)s.overall.total, (unsigned long long)s.planned, (unsigned long long)s.overall.rated());
  out += "Overall:\n";
  tally_table(out, s.overall);
  compact_table(out, "fault group", s.by_group);
  compact_table(out, "target kind", s.by_target);
  return out;
}

std::string html_report(const Summary& s) {
  std::string out =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>faultline report: " + html_escape(s.name) +
      "</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:70em}"
      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
      "td:first-child,th:first-child{text-align:left}small{color:#555}"
      ".legend span{margin-right:1em}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;"
      "vertical-align:middle}</style></head><body>\n";
  out += "<h1>Campaign " + html_escape(s.name) + "</h1>\n";
  out += fmt("<p>Created %s. Golden run: %s, exit status %u, %llu instructions. %llu of %llu planned experiments "
             "done; rates and 95%% Wilson intervals over the %llu experiments whose fault was injected "
             "(not-triggered ones are counted apart).</p>\n",
             html_escape(s.created).c_str(), html_escape(s.golden_end_reason).c_str(), s.golden_status,
             (unsigned long long)s.golden_end, (unsigned long long)s.overall.total, (unsigned long long)s.planned,
             (unsigned long long)s.overall.rated());
  std::map<std::string, Tally> overall{{"all experiments", s.overall}};
  html_table(out, "By outcome", overall);
  out += legend_html();
  out += "<h2>Outcomes by fault group</h2>\n" + stacked_bars_svg(s.by_group);
  html_table(out, "By fault group", s.by_group);
  out += "<h2>Outcomes by target kind</h2>\n" + stacked_bars_svg(s.by_target);
  html_table(out, "By target kind", s.by_target);
  out += "<h2>Outcome vs injection time</h2>\n" + legend_html() + histogram_svg(s);
  out += "</body></html>\n";
  return out;
}

}  // namespace faultline::report
