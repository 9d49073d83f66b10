// The campaign monitor against a real campaign database: a small campaign
// (the checksum kernel's memory bit flips, 24 samples) is driven through the
// campaign API into a temporary database; the monitor's charts, statistics
// and table must match the store, rows committed later must show up after a
// refresh, and a double-clicked experiment must replay to the stored result.
#include <QApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QThread>
#include <QTableView>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "experiments/campaign/driver.h"
#include "experiments/loader/campaign_loader.h"
#include "faults/fault_space.h"
#include "gui/campaign_monitor.h"
#include "gui/fault_panel.h"
#include "gui/main_window.h"

namespace faultline::gui {
namespace {

namespace fs = std::filesystem;

class CampaignMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("faultline-gui-monitor-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_path_ = dir_ / "checksum.db";
    experiments::LoaderVars vars{{"FAULTLINE_GUEST_DIR", FAULTLINE_GUEST_DIR}};
    lc_ = experiments::load_campaign(fs::path(FAULTLINE_SOURCE_DIR) / "experiments/examples/memory_bitflips_checksum.textproto", vars);
    session_ = campaign::start_session(lc_, kSamples);
    db_ = std::make_unique<store::Store>(campaign::create_store(db_path_, lc_, *session_, kSamples));
  }
  void TearDown() override {
    db_.reset();
    session_.reset();
    fs::remove_all(dir_);
  }
  // Runs planned positions [from, to) in this process and commits them.
  void run_positions(uint64_t from, uint64_t to) {
    const std::vector<uint64_t> plan = db_->plan();
    for (uint64_t pos = from; pos < to; ++pos) {
      pb::Fault f = session_->fault_space().at(plan[pos]);
      db_->add(session_->run_experiment(session_->golden_rig(), pos, f), plan[pos]);
    }
    db_->flush();
  }
  void expect_monitor_matches_store(const CampaignMonitor& mon) {
    const auto counts = db_->outcome_counts();
    uint64_t total = 0;
    for (pb::Outcome o : report::report_outcomes()) {
      auto it = counts.find(o);
      const uint64_t n = it == counts.end() ? 0 : it->second;
      total += n;
      EXPECT_EQ(mon.chart_count(o), static_cast<double>(n)) << pb::Outcome_Name(o);
    }
    EXPECT_EQ(static_cast<uint64_t>(mon.visible_rows()), db_->row_count());
    EXPECT_EQ(total, db_->row_count());
    EXPECT_NE(mon.stats_text().indexOf(QString("total | %1 |").arg(total)), -1) << mon.stats_text().toStdString();
  }

  static constexpr uint64_t kSamples = 24;
  fs::path dir_, db_path_;
  experiments::LoadedCampaign lc_;
  std::unique_ptr<campaign::Session> session_;
  std::unique_ptr<store::Store> db_;
};

TEST_F(CampaignMonitorTest, ShowsTheStoreAndPicksUpNewRows) {
  run_positions(0, 10);
  CampaignMonitor mon(QString::fromStdString(db_path_.string()));
  ASSERT_EQ(mon.reader().campaign().name, "memory_bitflips_checksum");
  expect_monitor_matches_store(mon);
  EXPECT_EQ(mon.visible_rows(), 10);

  // The campaign goes on (another connection commits rows); a refresh (the
  // monitor's timer does it every second) shows them.
  run_positions(10, kSamples);
  EXPECT_EQ(mon.visible_rows(), 10);
  ASSERT_TRUE(mon.refresh());
  EXPECT_EQ(mon.visible_rows(), static_cast<int>(kSamples));
  expect_monitor_matches_store(mon);

  // The rates table holds the Wilson intervals of the report library.
  const report::Tally& t = mon.reader().summary().overall;
  const report::Interval ci = report::wilson(t.count(pb::BENIGN), t.rated());
  EXPECT_NE(mon.stats_text().indexOf(QString("%1% – %2%").arg(100 * ci.lo, 0, 'f', 1).arg(100 * ci.hi, 0, 'f', 1)), -1)
      << mon.stats_text().toStdString();

  // Filters: by outcome, and by text (group names of this campaign).
  const auto counts = db_->outcome_counts();
  mon.set_outcome_filter(pb::BENIGN);
  EXPECT_EQ(static_cast<uint64_t>(mon.visible_rows()), counts.count(pb::BENIGN) ? counts.at(pb::BENIGN) : 0);
  mon.set_outcome_filter(pb::OUTCOME_UNSPECIFIED);
  uint64_t in_buffer = 0;
  db_->for_each_row([&](const store::Row& r) { in_buffer += r.result.fault().group() == "data_buffer"; });
  mon.set_text_filter("DATA_buf");
  EXPECT_EQ(static_cast<uint64_t>(mon.visible_rows()), in_buffer);
  for (int i = 0; i < mon.visible_rows(); ++i) {
    std::optional<store::Row> row = db_->row(mon.visible_id(i));
    ASSERT_TRUE(row);
    EXPECT_EQ(row->result.fault().group(), "data_buffer");
  }
  mon.set_text_filter("no such group");
  EXPECT_EQ(mon.visible_rows(), 0);
}

TEST_F(CampaignMonitorTest, DoubleClickReplaysTheExperimentToItsStoredResult) {
  run_positions(0, kSamples);
  // Prefer an experiment whose outcome is not benign (its replay must show
  // the same corrupted output).
  uint64_t pick = 0;
  db_->for_each_row([&](const store::Row& r) {
    if (r.result.outcome() == pb::SDC) pick = r.result.id();
  });
  const pb::ExperimentResult stored = db_->row(pick)->result;

  CampaignMonitor mon(QString::fromStdString(db_path_.string()));
  quint64 requested = UINT64_MAX;
  QObject::connect(&mon, &CampaignMonitor::replay_requested, [&](const QString&, quint64 id) { requested = id; });
  mon.set_outcome_filter(stored.outcome());
  int row = -1;
  for (int i = 0; i < mon.visible_rows(); ++i)
    if (mon.visible_id(i) == pick) row = i;
  ASSERT_GE(row, 0);
  const QModelIndex index = mon.table()->model()->index(row, 2);
  Q_EMIT mon.table()->doubleClicked(index);
  ASSERT_EQ(requested, pick);

  MainWindow w;
  ASSERT_TRUE(w.open_experiment(QString::fromStdString(db_path_.string()), pick));
  ASSERT_EQ(w.session().kind(), GuestKind::Experiment);
  for (int i = 0; i < 10000 && !w.session().finished(); ++i) w.session().run_slice(100'000);
  ASSERT_TRUE(w.session().finished());
  EXPECT_EQ(w.session().experiment_injection().injected, true);
  EXPECT_EQ(w.session().experiment_injection().at_instruction, stored.trigger_instruction());
  EXPECT_EQ(w.session().replay_verdict().rfind("reproduced", 0), 0u) << w.session().replay_verdict();
  EXPECT_NE(w.fault_panel()->log_text().indexOf(QString("replaying experiment %1").arg(pick)), -1);

  // Reset replays it again from its checkpoint.
  w.reset();
  EXPECT_FALSE(w.session().finished());
  for (int i = 0; i < 10000 && !w.session().finished(); ++i) w.session().run_slice(1'000'000);
  EXPECT_EQ(w.session().replay_verdict().rfind("reproduced", 0), 0u) << w.session().replay_verdict();
}

TEST(CampaignMonitorErrors, BadDatabasesAreRejectedWithTheirName) {
  EXPECT_EQ(MainWindow::open_campaign_monitor("/nonexistent/x.db", nullptr), nullptr);
  const fs::path junk = fs::temp_directory_path() / ("faultline-gui-junk-" + std::to_string(getpid()) + ".db");
  {
    FILE* f = std::fopen(junk.c_str(), "w");
    std::fputs("not a database", f);
    std::fclose(f);
  }
  try {
    CampaignMonitor mon(QString::fromStdString(junk.string()));
    ADD_FAILURE() << "a junk file was opened";
  } catch (const store::StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(junk.string()), std::string::npos) << e.what();
  }
  fs::remove(junk);
  MainWindow w;
  EXPECT_FALSE(w.open_experiment("/nonexistent/x.db", 0));
  EXPECT_FALSE(w.session().loaded());
}

}  // namespace
}  // namespace faultline::gui

namespace faultline::gui {
namespace {

// The real thing: `faultline campaign run` in another process writes the
// database (WAL, a commit every 16 rows or 0.5 s) while the monitor
// refreshes; the counts only grow and end equal to the store's.
TEST(CampaignMonitorLive, FollowsACampaignTheCliIsWriting) {
  const fs::path dir = fs::temp_directory_path() / ("faultline-gui-live-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path db = dir / "live.db";
  QProcess cli;
  cli.setProgram(FAULTLINE_BIN);
  cli.setArguments({"campaign", "run",
                    QString::fromStdString((fs::path(FAULTLINE_SOURCE_DIR) / "experiments/examples/memory_bitflips_checksum.textproto").string()),
                    "--samples", "600", "--workers", "1", "--quiet", "--db", QString::fromStdString(db.string())});
  cli.start();
  ASSERT_TRUE(cli.waitForStarted());
  QElapsedTimer clock;
  clock.start();
  while (!fs::exists(db) && clock.elapsed() < 30'000) QThread::msleep(10);
  ASSERT_TRUE(fs::exists(db)) << cli.readAllStandardError().toStdString();
  CampaignMonitor mon(QString::fromStdString(db.string()));
  std::vector<int> seen;
  while (cli.state() != QProcess::NotRunning && clock.elapsed() < 60'000) {
    ASSERT_TRUE(mon.refresh());
    if (seen.empty() || seen.back() != mon.visible_rows()) seen.push_back(mon.visible_rows());
    QApplication::processEvents();
    cli.waitForFinished(50);
  }
  ASSERT_EQ(cli.exitStatus(), QProcess::NormalExit);
  ASSERT_EQ(cli.exitCode(), 0) << cli.readAllStandardError().toStdString();
  ASSERT_TRUE(mon.refresh());
  seen.push_back(mon.visible_rows());
  EXPECT_EQ(mon.visible_rows(), 600);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_LE(seen[i - 1], seen[i]);
  // It saw the campaign in progress, not only before and after.
  EXPECT_GE(seen.size(), 3u) << "rows seen: " << seen.size();
  store::Store check = store::Store::open(db);
  for (pb::Outcome o : report::report_outcomes()) {
    auto counts = check.outcome_counts();
    EXPECT_EQ(mon.chart_count(o), static_cast<double>(counts.count(o) ? counts.at(o) : 0));
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace faultline::gui
