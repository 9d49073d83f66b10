// Unit tests of the report (summary, text, HTML) and of the exports.
#include <gtest/gtest.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/util/delimited_message_util.h>

#include <sstream>

#include "campaign_test_support.h"
#include "experiments/report/export.h"
#include "experiments/report/stats.h"
#include "experiments/store/store.h"

namespace faultline {
namespace {

pb::ExperimentResult make(uint64_t id, const std::string& group, pb::Outcome o, uint64_t trigger) {
  pb::ExperimentResult r;
  r.set_id(id);
  r.mutable_fault()->set_group(group);
  if (group == "regs")
    r.mutable_fault()->set_register_name("eax");
  else
    r.mutable_fault()->set_physical_address(0x2000 + id);
  r.set_outcome(o);
  r.set_trigger_instruction(trigger);
  r.set_output_digest("00");
  r.set_diff_summary(o == pb::SDC ? "line 1: golden \"a,b\" vs faulty \"c\"" : "");
  return r;
}

report::Summary sample_summary() {
  report::Summary base;
  base.name = "demo <campaign>";
  base.planned = 10;
  base.golden_end = 1000;
  report::SummaryBuilder b(base, 10);
  b.add(make(0, "mem", pb::BENIGN, 50));
  b.add(make(1, "mem", pb::SDC, 450));
  b.add(make(2, "mem", pb::SDC, 460));
  b.add(make(3, "regs", pb::CRASH, 990));
  b.add(make(4, "regs", pb::NOT_TRIGGERED, 0));
  b.add(make(5, "regs", pb::HANG, 999));
  return b.finish();
}

TEST(CampaignReport, CountsRatesAndHistogram) {
  report::Summary s = sample_summary();
  EXPECT_EQ(s.overall.total, 6u);
  EXPECT_EQ(s.overall.rated(), 5u);  // not-triggered counted apart
  EXPECT_EQ(s.by_group.at("mem").count(pb::SDC), 2u);
  EXPECT_EQ(s.by_target.at("register").total, 3u);
  EXPECT_EQ(s.by_target.at("physical memory").total, 3u);
  ASSERT_EQ(s.hist.size(), 10u);
  EXPECT_EQ(s.hist[0].count(pb::BENIGN), 1u);
  EXPECT_EQ(s.hist[4].count(pb::SDC), 2u);
  EXPECT_EQ(s.hist[9].total, 2u);  // crash at 990, hang at 999

  std::string text = report::text_report(s);
  EXPECT_NE(text.find("sdc                     2   40.00%"), std::string::npos) << text;
  EXPECT_NE(text.find("(counted apart)"), std::string::npos) << text;
  std::string html = report::html_report(s);
  EXPECT_NE(html.find("demo &lt;campaign&gt;"), std::string::npos);  // escaped
  EXPECT_EQ(html.find("<script"), std::string::npos);
  size_t svgs = 0;
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) svgs++;
  EXPECT_EQ(svgs, 3u);  // by group, by target kind, over time
}

TEST(CampaignExport, FormatsRoundTrip) {
  testing::TempDir dir;
  store::CampaignRecord rec;
  rec.name = "x";
  {
    store::Store db = store::Store::create(dir / "x.db", rec, {10, 11, 12});
    db.add(make(0, "mem", pb::BENIGN, 5), 10);
    db.add(make(1, "mem", pb::SDC, 6), 11);
    db.add(make(2, "regs", pb::CRASH, 7), 12);
  }
  store::Store db = store::Store::open(dir / "x.db");

  std::ostringstream pbs;
  EXPECT_EQ(report::export_results(db, report::ExportFormat::Pb, pbs), 3u);
  std::istringstream in(pbs.str());
  google::protobuf::io::IstreamInputStream zin(&in);
  for (uint64_t id = 0; id < 3; id++) {
    pb::ExperimentResult r;
    bool eof = false;
    ASSERT_TRUE(google::protobuf::util::ParseDelimitedFromZeroCopyStream(&r, &zin, &eof)) << id;
    EXPECT_EQ(r.id(), id);
  }

  std::ostringstream csv;
  report::export_results(db, report::ExportFormat::Csv, csv);
  std::string c = csv.str();
  EXPECT_EQ(std::count(c.begin(), c.end(), '\n'), 4);
  EXPECT_NE(c.find("\"line 1: golden \"\"a,b\"\" vs faulty \"\"c\"\"\""), std::string::npos) << c;
  EXPECT_NE(c.find(",reg:eax,"), std::string::npos) << c;

  std::ostringstream jl;
  report::export_results(db, report::ExportFormat::Jsonl, jl);
  std::string j = jl.str();
  EXPECT_EQ(std::count(j.begin(), j.end(), '\n'), 3);
  EXPECT_EQ(j.rfind("{\"fault_index\":10,", 0), 0u) << j;
  EXPECT_NE(j.find("\"outcome\":\"SDC\""), std::string::npos) << j;
}

TEST(CampaignExport, PlatformTargetsAreNamed) {
  testing::TempDir dir;
  store::CampaignRecord rec;
  rec.name = "p";
  std::vector<pb::ExperimentResult> rs(4);
  rs[0].mutable_fault()->set_device_field("pic.master.imr");
  rs[1].mutable_fault()->mutable_disk()->set_drive(1);
  rs[1].mutable_fault()->mutable_disk()->set_lba(2050);
  rs[1].mutable_fault()->mutable_disk()->set_offset(17);
  rs[2].mutable_fault()->mutable_serial()->set_com(2);
  rs[2].mutable_fault()->mutable_serial()->set_direction(pb::SERIAL_RX);
  rs[3].mutable_fault()->mutable_irq()->set_line(14);
  {
    store::Store db = store::Store::create(dir / "p.db", rec, {0, 1, 2, 3});
    for (uint64_t i = 0; i < 4; ++i) {
      rs[i].set_id(i);
      rs[i].set_outcome(pb::BENIGN);
      db.add(rs[i], i);
    }
  }
  store::Store db = store::Store::open(dir / "p.db");
  std::ostringstream csv;
  report::export_results(db, report::ExportFormat::Csv, csv);
  const std::string c = csv.str();
  for (const char* want :
       {",device register,dev:pic.master.imr,", ",disk,disk1:2050+17,", ",serial,com2:rx,", ",irq,irq:14,"})
    EXPECT_NE(c.find(want), std::string::npos) << want << "\n" << c;
}

}  // namespace
}  // namespace faultline
