// Unit tests of the SQLite result store.
#include <gtest/gtest.h>

#include <fstream>

#include "campaign_test_support.h"
#include "experiments/store/store.h"

namespace faultline {
namespace {

using testing::TempDir;

store::CampaignRecord record() {
  store::CampaignRecord c;
  c.name = "roundtrip";
  c.file_text = "name: \"roundtrip\"\n";
  c.file_path = "/somewhere/roundtrip.textproto";
  c.seed = 99;
  c.samples_override = 7;
  c.fault_space_size = 1000;
  c.golden_output = std::string("hello\0world\n", 12);
  c.golden_digest = "abcd";
  c.golden_end = 331131;
  c.golden_status = 0;
  c.golden_end_reason = "exited";
  return c;
}

pb::ExperimentResult result(uint64_t id, pb::Outcome o) {
  pb::ExperimentResult r;
  r.set_id(id);
  r.mutable_fault()->set_group("g, \"quoted\"");
  r.mutable_fault()->set_physical_address(0x1000 + id);
  r.mutable_fault()->set_bit_mask(1u << (id % 8));
  r.mutable_fault()->mutable_trigger()->set_instruction(100 * id);
  r.set_outcome(o);
  r.set_trigger_instruction(100 * id);
  r.set_end_instruction(5000 + id);
  r.set_exit_status(id % 2);
  r.set_end_reason("exited");
  r.set_output_digest("d" + std::to_string(id));
  r.set_diff_summary(id % 2 ? "line 1: golden \"a\" vs faulty \"b\"" : "");
  r.set_wall_seconds(0.001 * id);
  r.set_seed(99);
  r.set_attempts(1);
  return r;
}

TEST(CampaignStore, RoundTrip) {
  TempDir dir;
  const auto path = dir / "c.db";
  {
    store::Store db = store::Store::create(path, record(), {5, 3, 9, 1});
    db.add(result(2, pb::SDC), 9);
    db.add(result(0, pb::BENIGN), 5);
    db.flush();
    db.add(result(3, pb::CRASH), 1);  // left for the destructor to commit
  }
  store::Store db = store::Store::open(path);
  store::CampaignRecord c = db.campaign();
  EXPECT_EQ(c.name, "roundtrip");
  EXPECT_EQ(c.file_text, record().file_text);
  EXPECT_EQ(c.file_path, record().file_path);
  EXPECT_EQ(c.golden_output, record().golden_output);  // embedded NUL survives
  EXPECT_EQ(c.golden_end, 331131u);
  EXPECT_EQ(c.samples_override, 7u);
  EXPECT_EQ(c.fault_space_size, 1000u);
  EXPECT_EQ(c.planned, 4u);
  EXPECT_FALSE(c.created.empty());
  EXPECT_EQ(db.plan(), (std::vector<uint64_t>{5, 3, 9, 1}));
  EXPECT_EQ(db.done_positions(), (std::vector<uint64_t>{0, 2, 3}));
  EXPECT_EQ(db.row_count(), 3u);
  auto counts = db.outcome_counts();
  EXPECT_EQ(counts[pb::SDC], 1u);
  EXPECT_EQ(counts[pb::BENIGN], 1u);
  EXPECT_EQ(counts[pb::CRASH], 1u);
  auto row = db.row(2);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->fault_index, 9u);
  EXPECT_EQ(row->result.SerializeAsString(), result(2, pb::SDC).SerializeAsString());
  EXPECT_FALSE(db.row(1));
  std::vector<uint64_t> ids;
  db.for_each_row([&](const store::Row& r) { ids.push_back(r.result.id()); });
  EXPECT_EQ(ids, (std::vector<uint64_t>{0, 2, 3}));
}

TEST(CampaignStore, NeverWritesAPositionTwice) {
  TempDir dir;
  store::Store db = store::Store::create(dir / "c.db", record(), {1, 2});
  db.add(result(0, pb::BENIGN), 1);
  db.flush();
  db.add(result(0, pb::SDC), 1);
  EXPECT_THROW(db.flush(), store::StoreError);
  EXPECT_EQ(db.row_count(), 1u);
  EXPECT_EQ(db.row(0)->result.outcome(), pb::BENIGN);
}

TEST(CampaignStore, RefusesExistingAndForeignFiles) {
  TempDir dir;
  { store::Store::create(dir / "c.db", record(), {1}); }
  EXPECT_THROW(store::Store::create(dir / "c.db", record(), {1}), store::StoreError);
  EXPECT_THROW(store::Store::open(dir / "missing.db"), store::StoreError);
  dir.write("text.db", "this is not a database, just some text that is long enough to look like a header\n");
  try {
    store::Store::open(dir / "text.db");
    FAIL() << "opened a text file";
  } catch (const store::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("not a faultline campaign database"), std::string::npos) << e.what();
  }
}

TEST(CampaignStore, FaultTextIsOneLine) {
  pb::Fault f = result(3, pb::SDC).fault();
  std::string t = store::fault_text(f);
  EXPECT_EQ(t.find('\n'), std::string::npos);
  EXPECT_NE(t.find("physical_address: 4099"), std::string::npos) << t;
}

}  // namespace
}  // namespace faultline
