// Hand-made faults from the fault panel and their export: the exported
// experiment file, run through the campaign API (what `faultline campaign
// run` does), must reproduce the run done in the GUI (same console output
// digest, and a non-benign outcome for a fault that changed it).
#include <QApplication>
#include <QElapsedTimer>
#include <QThread>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "experiments/campaign/driver.h"
#include "experiments/campaign/sha256.h"
#include "experiments/loader/campaign_loader.h"
#include "gui/fault_panel.h"
#include "gui/main_window.h"

namespace faultline::gui {
namespace {

namespace fs = std::filesystem;
const QString kChecksum = QString::fromStdString(std::string(FAULTLINE_GUEST_DIR) + "/checksum.elf");

void run_to_end(Session& s) {
  for (int i = 0; i < 100000 && !s.finished(); ++i) s.run_slice(50'000);
}

std::string golden_output() {
  Session s;
  s.load_multiboot(kChecksum.toStdString());
  run_to_end(s);
  return s.console_output();
}

// Runs the exported file as a campaign; returns its only result.
pb::ExperimentResult run_exported(const fs::path& file, const fs::path& db_path) {
  experiments::LoaderVars vars{{"FAULTLINE_GUEST_DIR", FAULTLINE_GUEST_DIR}};
  experiments::LoadedCampaign lc = experiments::load_campaign(file, vars);
  auto s = campaign::start_session(lc, 0);
  store::Store db = campaign::create_store(db_path, lc, *s, 0);
  campaign::run_pending(*s, db, 1, false);
  EXPECT_EQ(db.row_count(), 1u);
  std::optional<store::Row> row = db.row(0);
  return row ? row->result : pb::ExperimentResult{};
}

class FaultExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("faultline-gui-export-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FaultExportTest, InjectNowExportReproducesTheOutcomeInACampaign) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  Session& s = w.session();
  // Between the buffer's fill and its checksum.
  s.run_slice(200'000);
  FaultPanel* p = w.fault_panel();
  p->set_symbol_target("data_buffer+0x1000");
  p->set_model(FaultPanel::Model::BitFlip);
  p->set_bit(2);
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  EXPECT_NE(p->log_text().indexOf("@tick 200000 (2000000 ns): bit flip virt"), -1) << p->log_text().toStdString();
  run_to_end(s);
  ASSERT_TRUE(s.finished());
  const std::string gui_out = s.console_output();
  ASSERT_NE(gui_out, golden_output()) << "the flip should change the checksum";

  const fs::path file = dir_ / "by_hand.textproto";
  ASSERT_TRUE(p->export_to(QString::fromStdString(file.string()))) << p->log_text().toStdString();
  const pb::ExperimentResult r = run_exported(file, dir_ / "by_hand.db");
  // The file has no classification: the kernel's exit status 1 (checksum
  // mismatch) is a crash by the default rules.
  EXPECT_EQ(s.finish_reason(), "guest exited with status 1");
  EXPECT_EQ(r.exit_status(), 1u);
  EXPECT_EQ(r.outcome(), pb::CRASH) << r.ShortDebugString();
  EXPECT_EQ(r.trigger_instruction(), 200'000u);
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(gui_out));
}

TEST_F(FaultExportTest, ArmedPcTriggerFiresIsLoggedAndExportsExactly) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  Session& s = w.session();
  FaultPanel* p = w.fault_panel();
  // A register fault when the checksum loop is entered: stuck-at-1 on a
  // high bit of ESI for 50 instructions.
  p->set_register_target("ecx");
  p->set_model(FaultPanel::Model::StuckAt1);
  p->set_bit(20);
  p->set_duration(FaultPanel::Duration::Intermittent, 50);
  p->set_trigger(FaultPanel::Trigger::Pc, "compute_checksum", 1);
  ASSERT_TRUE(p->arm()) << p->log_text().toStdString();
  EXPECT_TRUE(s.trigger_pending());
  // Run on the worker thread like the window does.
  w.run();
  QElapsedTimer clock;
  clock.start();
  while (w.running() && clock.elapsed() < 30'000) {
    QApplication::processEvents(QEventLoop::AllEvents, 5);
    QThread::msleep(2);
  }
  ASSERT_TRUE(s.finished()) << s.finish_reason();
  ASSERT_EQ(s.history().size(), 1u);
  EXPECT_FALSE(s.trigger_pending());
  EXPECT_NE(p->log_text().indexOf("trigger fired: stuck-at-1 ecx bit 20"), -1) << p->log_text().toStdString();
  const std::string gui_out = s.console_output();

  const fs::path file = dir_ / "armed.textproto";
  ASSERT_TRUE(p->export_to(QString::fromStdString(file.string()))) << p->log_text().toStdString();
  const pb::ExperimentResult r = run_exported(file, dir_ / "armed.db");
  EXPECT_EQ(r.trigger_instruction(), s.history()[0].record.at_instruction);
  EXPECT_EQ(r.output_digest(), campaign::sha256_hex(gui_out)) << r.ShortDebugString();
  EXPECT_NE(r.outcome(), pb::NOT_TRIGGERED);
}

TEST_F(FaultExportTest, BadInputIsRefusedWithAReason) {
  MainWindow w;
  FaultPanel* p = w.fault_panel();
  EXPECT_FALSE(p->export_to(QString::fromStdString((dir_ / "x.textproto").string())));
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  EXPECT_FALSE(p->export_to(QString::fromStdString((dir_ / "x.textproto").string())));
  EXPECT_NE(p->log_text().indexOf("nothing to export"), -1) << p->log_text().toStdString();
  p->set_physical_target(0);
  p->set_symbol_target("no_such_symbol");
  EXPECT_FALSE(p->inject());
  EXPECT_NE(p->log_text().indexOf("unknown symbol 'no_such_symbol'"), -1);
  p->set_physical_target(0);
  p->set_physical_target(0);
  p->set_model(FaultPanel::Model::SetValue);
  p->set_value(0);
  p->set_physical_target(0x100000);
  p->set_trigger(FaultPanel::Trigger::Instruction, "twelve");
  EXPECT_FALSE(p->arm());
  EXPECT_NE(p->log_text().indexOf("invalid instruction count 'twelve'"), -1);
  // A permanent bit flip in memory cannot be written as an experiment.
  p->set_model(FaultPanel::Model::BitFlip);
  p->set_bit(1);
  p->set_duration(FaultPanel::Duration::Permanent);
  ASSERT_TRUE(p->inject()) << p->log_text().toStdString();
  EXPECT_FALSE(p->export_to(QString::fromStdString((dir_ / "x.textproto").string())));
  EXPECT_NE(p->log_text().indexOf("cannot be named bit by bit"), -1) << p->log_text().toStdString();
  EXPECT_FALSE(fs::exists(dir_ / "x.textproto"));
}

}  // namespace
}  // namespace faultline::gui

namespace faultline::gui {
namespace {

TEST_F(FaultExportTest, ExperimentFileBootsItsWorkloadAndBadFilesNameTheLine) {
  MainWindow w;
  const fs::path bad = dir_ / "bad.textproto";
  {
    std::FILE* f = std::fopen(bad.c_str(), "w");
    std::fputs("name: \"x\"\nmachine { memory_mib: 32 }\nworkload { multiboot { kernal: \"k.elf\" } }\n", f);
    std::fclose(f);
  }
  EXPECT_FALSE(w.open_experiment_file(QString::fromStdString(bad.string())));
  EXPECT_FALSE(w.session().loaded());
  EXPECT_TRUE(w.status_text().contains(QString::fromStdString(bad.string() + ":3:"))) << w.status_text().toStdString();
  EXPECT_FALSE(w.open_experiment_file(QString::fromStdString((dir_ / "missing.textproto").string())));
  EXPECT_TRUE(w.status_text().contains("missing.textproto")) << w.status_text().toStdString();

  ASSERT_TRUE(w.open_experiment_file(QString::fromStdString(
      (fs::path(FAULTLINE_SOURCE_DIR) / "experiments/examples/memory_bitflips_checksum.textproto").string())))
      << w.status_text().toStdString();
  EXPECT_EQ(w.session().memory_mib(), 32u);
  EXPECT_EQ(fs::path(w.session().kernel_path()).filename(), "checksum.elf");
  run_to_end(w.session());
  EXPECT_EQ(w.session().console_output(), golden_output());
}

}  // namespace
}  // namespace faultline::gui

namespace faultline::gui {
namespace {

TEST_F(FaultExportTest, AnArmedFaultAfterAResetIsLoggedWhenItFires) {
  MainWindow w;
  ASSERT_TRUE(w.open_multiboot(kChecksum));
  FaultPanel* p = w.fault_panel();
  p->set_register_target("eax");
  p->set_bit(1);
  ASSERT_TRUE(p->inject());
  w.reset();
  p->set_trigger(FaultPanel::Trigger::Instruction, "5000");
  ASSERT_TRUE(p->arm()) << p->log_text().toStdString();
  w.run();
  QElapsedTimer clock;
  clock.start();
  while (w.running() && clock.elapsed() < 30'000) {
    QApplication::processEvents(QEventLoop::AllEvents, 5);
    QThread::msleep(2);
  }
  ASSERT_EQ(w.session().history().size(), 1u);
  EXPECT_NE(p->log_text().indexOf("@tick 5000 (50000 ns): trigger fired: bit flip eax bit 1"), -1) << p->log_text().toStdString();
}

}  // namespace
}  // namespace faultline::gui
