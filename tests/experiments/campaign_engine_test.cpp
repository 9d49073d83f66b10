// Integration tests of the campaign engine on the checksum guest kernel:
// golden run, classification, worker processes, determinism across worker
// counts, replay, and a crashing worker.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>

#include "campaign_test_support.h"
#include "experiments/campaign/driver.h"
#include "faults/fault_space.h"

namespace faultline {
namespace {

using testing::TempDir;

struct Ran {
  std::unique_ptr<campaign::Session> session;
  std::map<uint64_t, pb::ExperimentResult> rows;
};

experiments::LoadedCampaign load(const TempDir& dir, uint64_t samples) {
  return experiments::load_campaign_text(testing::checksum_campaign_text(samples),
                                         dir / "checksum_flips.textproto", testing::guest_vars());
}

Ran run_campaign(const TempDir& dir, const std::string& db_name, unsigned workers, uint64_t samples = 40) {
  experiments::LoadedCampaign lc = load(dir, samples);
  Ran ran;
  ran.session = campaign::start_session(lc, 0);
  store::Store db = campaign::create_store(dir / db_name, lc, *ran.session, 0);
  campaign::RunSummary sum = campaign::run_pending(*ran.session, db, workers, false);
  EXPECT_EQ(sum.ran, samples);
  db.for_each_row([&](const store::Row& r) { ran.rows[r.result.id()] = r.result; });
  return ran;
}

TEST(CampaignEngine, GoldenRunIsDeterministic) {
  TempDir dir;
  experiments::LoadedCampaign lc = load(dir, 40);
  auto a = campaign::start_session(lc, 0);
  auto b = campaign::start_session(lc, 0);
  EXPECT_EQ(a->golden().end_reason, "exited");
  EXPECT_EQ(a->golden().exit_status, 0u);
  EXPECT_NE(a->golden().output.find("checksum=0xd660364e"), std::string::npos);
  EXPECT_EQ(a->golden().digest, b->golden().digest);
  EXPECT_EQ(a->golden().end_ticks, b->golden().end_ticks);
  ASSERT_EQ(a->checkpoints().size(), 8u);
  for (size_t i = 0; i < 8; i++) EXPECT_EQ(a->checkpoints()[i].machine.ticks, b->checkpoints()[i].machine.ticks);
  // Evenly spaced over the run.
  const uint64_t end = a->golden().end_ticks;
  for (size_t i = 1; i < 8; i++) EXPECT_NEAR(double(a->checkpoints()[i].machine.ticks), double(end * i / 8), 64.0);
}

TEST(CampaignEngine, BitFlipsGiveSdcAndBenign) {
  TempDir dir;
  Ran ran = run_campaign(dir, "c.db", 2);
  ASSERT_EQ(ran.rows.size(), 40u);
  std::map<pb::Outcome, int> counts;
  for (auto& [id, r] : ran.rows) {
    counts[r.outcome()]++;
    EXPECT_EQ(r.output_digest().size(), 64u);
    if (r.outcome() == pb::BENIGN) {
      EXPECT_EQ(r.output_digest(), ran.session->golden().digest);
      EXPECT_EQ(r.diff_summary(), "");
    }
    if (r.outcome() == pb::SDC) {
      EXPECT_NE(r.output_digest(), ran.session->golden().digest);
      EXPECT_NE(r.diff_summary().find("checksum="), std::string::npos) << r.diff_summary();
      EXPECT_EQ(r.fault().group(), "data_buffer");
    }
    if (r.fault().group() == "unused") {
      EXPECT_EQ(r.outcome(), pb::BENIGN);
    }
    EXPECT_EQ(r.trigger_instruction(), r.fault().trigger().instruction());
  }
  EXPECT_GT(counts[pb::SDC], 0);
  EXPECT_GT(counts[pb::BENIGN], 0);
}

TEST(CampaignEngine, SameOutcomesWithOneAndTwoWorkers) {
  TempDir dir;
  Ran one = run_campaign(dir, "one.db", 1);
  Ran two = run_campaign(dir, "two.db", 2);
  ASSERT_EQ(one.rows.size(), two.rows.size());
  for (auto& [id, a] : one.rows) {
    const pb::ExperimentResult& b = two.rows.at(id);
    EXPECT_EQ(a.fault().SerializeAsString(), b.fault().SerializeAsString()) << id;
    EXPECT_EQ(a.outcome(), b.outcome()) << id;
    EXPECT_EQ(a.output_digest(), b.output_digest()) << id;
    EXPECT_EQ(a.end_instruction(), b.end_instruction()) << id;
    EXPECT_EQ(a.trigger_instruction(), b.trigger_instruction()) << id;
  }
}

TEST(CampaignEngine, ReplayReproducesTwentyRandomExperiments) {
  TempDir dir;
  Ran ran = run_campaign(dir, "c.db", 2, 60);
  store::Store db = store::Store::open(dir / "c.db");
  auto s = campaign::session_for_store(db, testing::guest_vars());
  std::mt19937_64 rng(1234);
  std::vector<uint64_t> ids;
  for (auto& [id, r] : ran.rows) ids.push_back(id);
  std::shuffle(ids.begin(), ids.end(), rng);
  ids.resize(20);
  for (uint64_t id : ids) {
    const pb::ExperimentResult& stored = ran.rows.at(id);
    pb::ExperimentResult again = s->run_experiment(s->golden_rig(), id, stored.fault());
    EXPECT_EQ(again.outcome(), stored.outcome()) << id;
    EXPECT_EQ(again.output_digest(), stored.output_digest()) << id;
    EXPECT_EQ(again.end_instruction(), stored.end_instruction()) << id;
    EXPECT_EQ(again.trigger_instruction(), stored.trigger_instruction()) << id;
  }
}

TEST(CampaignEngine, CrashingWorkerIsRetriedOnceThenSimulatorError) {
  TempDir dir;
  setenv("FAULTLINE_TEST_CRASH_EXPERIMENT", "5", 1);
  Ran ran = run_campaign(dir, "always.db", 2, 12);
  setenv("FAULTLINE_TEST_CRASH_EXPERIMENT", "7:once", 1);
  Ran once = run_campaign(dir, "once.db", 2, 12);
  unsetenv("FAULTLINE_TEST_CRASH_EXPERIMENT");
  ASSERT_EQ(ran.rows.size(), 12u);
  EXPECT_EQ(ran.rows.at(5).outcome(), pb::SIMULATOR_ERROR);
  EXPECT_EQ(ran.rows.at(5).attempts(), 2u);
  EXPECT_NE(ran.rows.at(5).end_reason().find("signal 6"), std::string::npos) << ran.rows.at(5).end_reason();
  for (auto& [id, r] : ran.rows)
    if (id != 5) {
      EXPECT_NE(r.outcome(), pb::SIMULATOR_ERROR) << id;
    }
  // Crashing only on the first attempt: the retry gives the real outcome.
  ASSERT_EQ(once.rows.size(), 12u);
  EXPECT_EQ(once.rows.at(7).attempts(), 2u);
  EXPECT_EQ(once.rows.at(7).outcome(), ran.rows.at(7).outcome());
  EXPECT_EQ(once.rows.at(7).output_digest(), ran.rows.at(7).output_digest());
}

TEST(CampaignEngine, RegisterFlipsCrashAndHang) {
  // Flips of EIP send the kernel into the weeds: unexpected exceptions
  // (crash), triple faults, or endless loops (hang, after 2x the golden run).
  TempDir dir;
  const std::string text = R"(
name: "eip_flips"
machine { memory_mib: 16 }
workload { multiboot { kernel: "${FAULTLINE_GUEST_DIR}/checksum.elf" } }
end { timeout_factor: 2.0 timeout_margin: 100000 }
fault_space {
  name: "eip"
  target { registers { names: ["eip"] } }
  model { bit_flip {} }
  trigger { instructions { start: 1000 end: 0 } }
}
sampling { samples: 40 seed: 3 }
classification { crash_patterns: "UNEXPECTED" crash_exit_statuses: [96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114] }
)";
  experiments::LoadedCampaign lc =
      experiments::load_campaign_text(text, dir / "eip_flips.textproto", testing::guest_vars());
  auto s = campaign::start_session(lc, 0);
  store::Store db = campaign::create_store(dir / "eip.db", lc, *s, 0);
  campaign::run_pending(*s, db, 2, false);
  std::map<pb::Outcome, int> counts;
  db.for_each_row([&](const store::Row& r) {
    counts[r.result.outcome()]++;
    if (r.result.outcome() == pb::HANG) {
      EXPECT_EQ(r.result.end_reason(), "timeout");
      EXPECT_GE(r.result.end_instruction(), 2 * s->golden().end_ticks + 100000);
    }
    if (r.result.outcome() == pb::SIMULATOR_ERROR) {
      EXPECT_EQ(r.result.attempts(), 2u);
    }
  });
  EXPECT_EQ(db.row_count(), 40u);
  EXPECT_GT(counts[pb::CRASH], 0);
  EXPECT_GT(counts[pb::HANG], 0);
}

TEST(CampaignEngine, ResumeRefusesAChangedGoldenRun) {
  TempDir dir;
  run_campaign(dir, "c.db", 1, 4);
  {
    // Pretend the stored golden run ended elsewhere.
    store::Store db = store::Store::open(dir / "c.db");
    store::CampaignRecord rec = db.campaign();
    store::CampaignRecord changed = rec;
    changed.golden_digest = std::string(64, '0');
    store::Store::create(dir / "changed.db", changed, db.plan());
  }
  store::Store changed = store::Store::open(dir / "changed.db");
  EXPECT_THROW(campaign::session_for_store(changed, testing::guest_vars()), campaign::GoldenMismatch);
}

}  // namespace
}  // namespace faultline
